"""The district service's routes: the board's JSON (/api/v1/district/…), its WebSocket, /api/v1/health and the
/district page. Read-only; no log-in (see app.py's docstring for why, and what it shows: no personal data).

The JSON routes are plain functions (FastAPI runs them in its thread pool) over a pooled PostgreSQL connection and
queries.py; `request.app.state.district` holds the pool, the clock, the projector and the hub (app.py).
"""
from __future__ import annotations

import asyncio
import contextlib
from datetime import date, timedelta
from typing import Any, Literal

import psycopg
from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, RedirectResponse

from ..errors import HallError, NotFound
from ..web.templates import render
from . import queries

router = APIRouter()
HEARTBEAT_S = 10.0
MAX_RANGE_DAYS = 3660


def _d(request: Request) -> Any:
    return request.app.state.district


def hall_not_found(code: str) -> NotFound:
    return NotFound("hall_not_found", f"区级数据库中没有服务厅 {code}，请在 /api/v1/district/halls 中查看",
                    f"no hall {code!r} has shipped to the district; see /api/v1/district/halls", hall=code)


@router.get("/api/v1/district/halls", summary="Every hall: online, lag, windows, waiting, served today, cases, 好评率")
def district_halls(request: Request) -> dict[str, Any]:
    d = _d(request)
    now = d.clock.now()
    with d.pool.connection() as conn:
        return {"at": now.isoformat(timespec="seconds"), "offline_after_s": d.offline_after_s,
                "halls": queries.halls(conn, now, d.offline_after_s)}


@router.get("/api/v1/district/halls/{code}", summary="One hall: its summary, windows and queues")
def district_hall(request: Request, code: str) -> dict[str, Any]:
    d = _d(request)
    now = d.clock.now()
    with d.pool.connection() as conn:
        out = queries.hall(conn, code, now, d.offline_after_s)
    if out is None:
        raise hall_not_found(code)
    return out


@router.get("/api/v1/district/stats", summary="The halls' statistics of a range, per hall or per day, and the total")
def district_stats(request: Request,
                   day_from: date | None = Query(None, alias="from", description="first day, YYYY-MM-DD (today)"),
                   day_to: date | None = Query(None, alias="to", description="last day, YYYY-MM-DD (= from)"),
                   by: Literal["hall", "day"] = "hall",
                   level: Literal["district", "street", "community"] | None = Query(None, description="only halls "
                                                                                   "of this level"),
                   halls: str | None = Query(None, description="only these halls: codes, comma-separated")
                   ) -> dict[str, Any]:
    d = _d(request)
    today = queries.today_of({}, d.clock.now())
    day_from = day_from or today
    day_to = day_to or day_from
    if day_to < day_from:
        raise HallError("range_reversed", f"结束日期 {day_to} 早于开始日期 {day_from}",
                        f"'to' ({day_to}) is before 'from' ({day_from}); swap them", status=422)
    if day_to - day_from > timedelta(days=MAX_RANGE_DAYS):
        raise HallError("range_too_long", f"统计区间最长 {MAX_RANGE_DAYS} 天",
                        f"a range of at most {MAX_RANGE_DAYS} days, please", status=422)
    codes = [c.strip() for c in halls.split(",") if c.strip()] if halls else None
    with d.pool.connection() as conn:
        if codes:
            known = {r[0] for r in conn.execute("SELECT code FROM halls WHERE code = ANY(%s)", (codes,)).fetchall()}
            for c in codes:
                if c not in known:
                    raise hall_not_found(c)
        return queries.stats(conn, day_from, day_to, by, level, codes)


@router.get("/api/v1/district/commands", summary="Commands to halls: pending, and rejections with the reason")
def district_commands(request: Request,
                      state: Literal["pending", "applied", "rejected"] | None = Query(
                          None, description="only this state; without it the pending ones and the last 7 days' "
                          "rejections")) -> dict[str, Any]:
    d = _d(request)
    with d.pool.connection() as conn:
        return {"commands": queries.commands(conn, state)}


@router.get("/api/v1/health", summary="The district service: database, projector, live updates")
def health(request: Request) -> dict[str, Any]:
    d = _d(request)
    out: dict[str, Any] = {"service": "district", "database": {"url": d.url_shown, "ok": True, "error": None},
                           "projector": d.projector.status() if d.projector else None,
                           "live": {"connected": d.hub.connected, "subscribers": len(d.hub.subscribers)}}
    try:
        with d.pool.connection() as conn:
            n, shipped, applied = conn.execute(
                "SELECT count(*), COALESCE(sum(h.last_seq), 0), COALESCE(sum(c.seq), 0) FROM halls h"
                " LEFT JOIN d_cursor c ON c.hall = h.code").fetchone()
        out.update(halls=n, events_behind=int(shipped - applied))
    except psycopg.Error as exc:
        out["database"].update(ok=False, error=" ".join(str(exc).split())[:300])
    projector_ok = d.projector is None or d.projector.status()["ok"]
    out["ok"] = out["database"]["ok"] and projector_ok
    if not out["database"]["ok"]:
        out["warning_zh"] = ("无法连接区级数据库，看板显示的数据不是最新；"
                             "请检查 --db 地址、密码以及 PostgreSQL 是否在运行")
        out["warning_en"] = (f"the district database {d.url_shown} cannot be reached ({out['database']['error']}); "
                             "the board is not up to date — check the --db URL, the password and that PostgreSQL runs")
    elif not projector_ok:
        out["warning_zh"] = "区级投影暂时无法应用部分已报送的事件，技术人员请查看服务日志"
        out["warning_en"] = (f"the projector cannot apply some shipped events ({d.projector.status()['error']}); "
                             "a technician should read the service's log")
    return out


@router.websocket("/api/v1/district/events")
async def district_events(ws: WebSocket) -> None:
    """{"type": "changed", "hall", "seq"} after every batch the projector applied, {"type": "changed", "what":
    "online"|"commands"|"reconnected"} when a hall went on- or offline, a command was settled, or the service
    listens again; a heartbeat every 10 s. The page reads the JSON routes again on each."""
    hub = ws.app.state.district.hub
    await ws.accept()
    gone = asyncio.get_running_loop().create_task(_until_closed(ws))   # a closed page ends this at once
    with hub.subscribe() as q:
        try:
            await ws.send_json({"type": "hello"})
            while not gone.done():
                got = asyncio.ensure_future(q.get())
                await asyncio.wait({got, gone}, timeout=HEARTBEAT_S, return_when=asyncio.FIRST_COMPLETED)
                if gone.done():
                    got.cancel()
                    break
                if got.done():
                    await ws.send_json(got.result())
                else:
                    got.cancel()
                    await ws.send_json({"type": "heartbeat"})
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            gone.cancel()
            with contextlib.suppress(RuntimeError):
                await ws.close()


async def _until_closed(ws: WebSocket) -> None:
    """Reads (and ignores) what the page sends until it goes away."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return


@router.get("/district", response_class=HTMLResponse, include_in_schema=False)
def district_page(request: Request) -> HTMLResponse:
    return render(request, "district.html", {"offline_after_s": _d(request).offline_after_s})


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/district")
