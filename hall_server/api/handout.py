"""出件 tickets (统一出件, issue 16 item 1): a citizen whose result waits at the 出件 window takes a ticket for it at
the kiosk — by the case number on the 受理通知书, the notice's QR code (the query code) or a swipe of the
applicant's ID card — and the window's terminal opens the case when it calls that ticket.

    POST /api/v1/handout-tickets  {"number"? | "query_code"? | "swipe"?, "kiosk"?}  (kiosk and staff tokens)
        → 201 the ticket (as POST /api/v1/tickets answers it) with `case` {id, number} and `cases`

The ticket is one of the hall's 办件结果领取 matter (CJ-001; CJ-002, collection by an authorised agent, is taken at
the counter) in the priority class `handout`, so the 出件 window calls it ahead of new intake. It is linked to
every ready-for-window case it collects (`ticket_cases`), in the transaction that issues it. A case that is not
ready to collect at a window answers 409 `case_not_ready` saying its state; nothing found, 404. The case itself is
not changed here: hand-out is the case API's `deliver`."""
from __future__ import annotations

import json
import sqlite3

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from ..accounts.auth import Principal
from ..cases.base import STATE_ZH
from ..cases.records import case_not_found
from ..config import HallConfig
from ..errors import Conflict, NotFound, Unprocessable
from ..identity.citizen import CitizenRef
from ..queue.engine import Engine, _ts
from ..queue.views import ticket_cases
from ..runtime import Hall
from ..store.database import Change
from ..store.events import append_event
from .deps import STAFF, require
from .models import Body, IssuedTicketOut
from .tickets import _check_open

router = APIRouter(prefix="/api/v1", tags=["cases"])
RESULTS_MATTER = "CJ-001"          # 办件结果领取
RESULTS_GROUP = "results"          # a hall without CJ-001: the first matter of this group
LIVE = ("waiting", "called", "serving")
NOT_YET = ("received", "supplement", "accepted", "in_review", "suspended")


class HandoutTicketRequest(Body):
    number: str | None = Field(default=None, max_length=40, description="the case number, e.g. XL-20261203-0012")
    query_code: str | None = Field(default=None, max_length=40, description="the query code of the notice's QR code")
    swipe: str | None = Field(default=None, max_length=40, description="an ID-card swipe at this kiosk: every case "
                              "of that applicant ready at the window")
    kiosk: str | None = Field(default=None, max_length=40, description="the kiosk whose printer prints the ticket")


def results_matter(cfg: HallConfig) -> str:
    """The matter an 出件 ticket is for; 409 when the hall hands out no results at a window."""
    if cfg.matter(RESULTS_MATTER) is not None:
        return RESULTS_MATTER
    m = next((m for m in cfg.matters if m.group == RESULTS_GROUP), None)
    if m is None:
        raise Conflict("no_handout_matter", "本厅没有“办件结果领取”事项，不能取出件号：请到服务台咨询",
                       f"this hall has no results matter ({RESULTS_MATTER} or one of group {RESULTS_GROUP!r}) to "
                       "take an 出件 ticket for; ask at the service desk")
    return m.code


def _why_not(row: sqlite3.Row, via: str | None) -> tuple[str, str]:
    """Why a case's result cannot be collected at the window now (Chinese, English)."""
    number, status = row["number"], row["status"]
    state = STATE_ZH.get(status, status)
    if status in NOT_YET:
        return (f"办件 {number} 当前为「{state}」，结果尚未作出，暂不能领取；可在“办件查询”中查看进度",
                f"case {number} is {status}: there is no result to collect yet; follow it under Case status")
    if status == "decided":
        return (f"办件 {number} 已办结，结果正在送往出件窗口，尚不能领取；请稍后再试，或到服务台咨询",
                f"case {number} is decided, but its result has not reached the 出件 window yet; try again later "
                "or ask at the service desk")
    if status == "ready" and via == "mail":
        return (f"办件 {number} 的结果将邮寄送达，无需取号", f"the result of case {number} is being sent by mail: "
                "no ticket is needed")
    if status == "ready":
        return (f"办件 {number} 的结果存放在智能取件柜，请在取件柜取件",
                f"the result of case {number} waits in a smart locker: collect it there")
    if status == "delivered":
        return (f"办件 {number} 的结果已领取或寄出（「{state}」）", f"the result of case {number} has already been "
                "handed out or sent")
    return (f"办件 {number} 当前为「{state}」，没有可领取的结果", f"case {number} is {status}: it has no result "
            "to collect")


def not_ready(rows: list[sqlite3.Row]) -> Conflict:
    """409 `case_not_ready`: each case's state, and why its result cannot be collected at the window."""
    reasons = [_why_not(r, _via(r)) for r in rows]
    return Conflict("case_not_ready", "；".join(zh for zh, _ in reasons), "; ".join(en for _, en in reasons),
                    state=rows[0]["status"], cases=[{"number": r["number"], "status": r["status"]} for r in rows])


def _via(row: sqlite3.Row) -> str | None:
    return json.loads(row["handout"]).get("via") if row["handout"] else None


def _ready_at_window(row: sqlite3.Row) -> bool:
    return row["status"] == "ready" and _via(row) == "window"


def _swiped(conn: sqlite3.Connection, swipe_id: str, kiosk: str | None, now_s: str) -> CitizenRef:
    s = conn.execute("SELECT kiosk, expires_at, citizen_hash, id_masked, name_masked, gender, age, card_kind,"
                     " card_expired FROM swipes WHERE id=?", (swipe_id,)).fetchone()
    if s is None:
        raise NotFound("swipe_not_found", "没有找到这次刷卡记录，请重新刷卡",
                       "no such swipe: swipe the card again", swipe=swipe_id)
    if kiosk is not None and s[0] != kiosk:
        raise Conflict("swipe_other_kiosk", "这次刷卡不是在本机进行的，请在本机重新刷卡",
                       f"that swipe was made at {s[0]}, not {kiosk}: swipe the card again here", swipe=swipe_id)
    if now_s > s[1]:
        raise Conflict("swipe_expired", "刷卡已超时，请重新刷卡", "the swipe has expired: swipe the card again",
                       swipe=swipe_id)
    return CitizenRef(hash=s[2], id_masked=s[3], name_masked=s[4], gender=s[5], age=s[6], card_kind=s[7],
                      card_expired=bool(s[8]), valid_to=None)


def _cases_for(conn: sqlite3.Connection, number: str | None, query_code: str | None,
               citizen: CitizenRef | None) -> list[sqlite3.Row]:
    if query_code:
        rows = conn.execute("SELECT * FROM cases WHERE query_code=?", (query_code.strip(),)).fetchall()
        if not rows:
            raise case_not_found(query_code.strip()[:4] + "…")
    elif number:
        rows = conn.execute("SELECT * FROM cases WHERE number=?", (number.strip().upper(),)).fetchall()
        if not rows:
            raise NotFound("case_not_found", f"没有找到办件 {number.strip().upper()}，请核对受理通知书上的编号",
                           f"no case {number.strip().upper()}: check the number on your notice", case=number)
    else:
        rows = conn.execute("SELECT * FROM cases WHERE applicant_hash=? ORDER BY id DESC LIMIT 50",
                            (citizen.hash,)).fetchall()
        if not rows:
            raise NotFound("no_cases", "没有找到您名下的办件；如由他人代为申请，请输入受理通知书上的办件编号",
                           "no case is in this card holder's name; if someone applied for you, type the case "
                           "number printed on the notice")
    return rows


def issue_handout(conn: sqlite3.Connection, engine: Engine, *, number: str | None, query_code: str | None,
                  swipe: str | None, kiosk: str | None, channel: str, actor: str) -> Change:
    """The 出件 ticket and its links to the cases, in one transaction (see the module's docstring)."""
    events: list[dict] = []
    now, day = engine.begin(conn, events)
    citizen = _swiped(conn, swipe, kiosk, _ts(now)) if swipe and not (number or query_code) else None
    rows = _cases_for(conn, number, query_code, citizen)
    ready = [r for r in rows if _ready_at_window(r)]
    if not ready:
        raise not_ready(rows)
    held = {r[0]: r[1] for r in conn.execute(
        f"SELECT l.case_id, t.number FROM ticket_cases l JOIN tickets t ON t.id = l.ticket_id"
        f" WHERE l.case_id IN ({','.join('?' * len(ready))}) AND t.service_day=? AND t.status IN"
        f" ({','.join('?' * len(LIVE))})", (*[r["id"] for r in ready], day, *LIVE))}
    todo = [r for r in ready if r["id"] not in held]
    if not todo:
        tickets = sorted(set(held.values()))
        raise Conflict("handout_ticket_exists", f"您已取出件号 {'、'.join(tickets)}，请留意叫号",
                       f"you already have an 出件 ticket ({', '.join(tickets)}): wait for it to be called",
                       tickets=tickets, cases=[r["number"] for r in ready])
    change = engine.issue(conn, matter=results_matter(engine.cfg), priority="handout", channel=channel,
                          citizen=citizen, kiosk=kiosk, actor=actor)
    ticket = change.result
    conn.executemany("INSERT INTO ticket_cases (ticket_id, case_id) VALUES (?, ?)",
                     [(ticket["id"], r["id"]) for r in todo])
    linked = ticket_cases(conn, ticket["id"])
    change.events.append(append_event(conn, "handout.ticket", now, {
        "ticket_id": ticket["id"], "number": ticket["number"], "cases": linked}, actor=actor,
        ticket_id=ticket["id"], case_id=linked[0]["id"]))
    ticket["case"], ticket["cases"] = linked[0], linked
    return Change(ticket, events + change.events)


@router.post("/handout-tickets", status_code=201, response_model=IssuedTicketOut,
             summary="出件: a ticket to collect a ready result at the 出件 window (by number, query code or swipe)",
             responses={404: {"description": "no such case, or no case in the swiped card holder's name"},
                        409: {"description": "case_not_ready (saying its state), handout_ticket_exists, "
                                             "hall_closed (kiosks, outside opening hours)"}})
async def take_handout_ticket(body: HandoutTicketRequest, request: Request,
                              who: Principal = Depends(require("kiosk", *STAFF))) -> dict:
    hall: Hall = request.app.state.hall
    if not (body.number or body.query_code or body.swipe):
        raise Unprocessable("lookup_empty", "请输入办件编号或查询码，或刷身份证",
                            "give the case `number`, its `query_code`, or a `swipe` of the applicant's card")
    if who.role == "kiosk":
        _check_open(hall)
    ticket = await hall.write(issue_handout, hall.engine, number=body.number, query_code=body.query_code,
                              swipe=body.swipe, kiosk=body.kiosk, actor=who.username,
                              channel="kiosk" if who.role == "kiosk" else "staff")
    # committed: printing can only add to it, never undo it (as for any ticket)
    ticket["print"] = await hall.printing.print_ticket(ticket, body.kiosk, lambda: str(request.base_url))
    return ticket
