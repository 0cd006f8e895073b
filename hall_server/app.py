"""The FastAPI application: routers, error format, the landing page and the offline API reference."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .api import (
    accounts,
    announcements,
    case_notices,
    case_pages,
    cases,
    complaint_pages,
    complaints,
    courier,
    dashboard,
    devices,
    evaluations,
    events,
    feedback_pages,
    hall,
    handout,
    health,
    identity,
    kiosks,
    lockers,
    office,
    outbox,
    remote_cases,
    report_pages,
    screen,
    seats,
    stats,
    terminal,
    tickets,
    windows,
)
from .errors import HallError
from .runtime import Hall
from .store.database import StoreUnavailable
from .web import pages
from .web.templates import STATIC

log = logging.getLogger(__name__)
TICK_S = 30.0


def create_app(hall_rt: Hall) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hall_rt.start()
        ticker = asyncio.create_task(_tick(hall_rt))
        try:
            yield
        finally:
            ticker.cancel()
            await hall_rt.stop()

    app = FastAPI(title="onewindow hall server", version="1", lifespan=lifespan, docs_url=None,
                  redoc_url=None, description="Queue, routing and events of a 一窗通办 service hall.")
    app.state.hall = hall_rt
    for module in (hall, tickets, windows, events, accounts, health, devices, identity, announcements, screen,
                   dashboard, terminal, kiosks, seats, cases, office, case_pages, case_notices,
                   outbox, courier, handout, lockers, evaluations, feedback_pages, complaints,
                   complaint_pages, report_pages, stats, remote_cases):
        app.include_router(module.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(HallError)
    async def hall_error(_: Request, exc: HallError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(StoreUnavailable)
    async def store_error(_: Request, exc: StoreUnavailable) -> JSONResponse:
        err = HallError("store_unavailable", "系统暂时无法保存，请稍后重试或联系技术人员",
                        f"{exc}; nothing was changed — retry, and ask a technician to check the disk", status=503)
        return JSONResponse(err.body(), status_code=503)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for e in exc.errors():
            if e["type"] == "json_invalid":
                at = e["loc"][-1] if len(e["loc"]) > 1 else "?"
                problems.append({"field": "body", "type": e["type"], "problem":
                                 f"malformed JSON near character {at} ({e.get('ctx', {}).get('error', e['msg'])});"
                                 " send a JSON object such as {\"matter\": \"SH-001\"}"})
                continue
            loc = [str(p) for p in e["loc"] if p != "body"]
            problems.append({"field": ".".join(loc) or "body", "problem": e["msg"], "type": e["type"]})
        fields = ", ".join(p["field"] for p in problems)
        err = HallError("invalid_request", f"请求有误：{fields}",
                        "; ".join(f"{p['field']}: {p['problem']}" for p in problems), status=422,
                        fields=problems)
        return JSONResponse(err.body(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        err = HallError(code, f"{request.url.path}：{exc.detail}",
                        f"{request.method} {request.url.path}: {exc.detail}; see /api/docs", status=exc.status_code)
        return JSONResponse(err.body(), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        err = HallError("internal_error", "系统内部错误，请重试；如再次出现请联系技术人员",
                        f"internal error ({type(exc).__name__}) in {request.method} {request.url.path}; retry, and "
                        "if it happens again give the server log to a technician", status=500)
        return JSONResponse(err.body(), status_code=500)

    return app


async def _tick(rt: Hall) -> None:
    """Let a due rollover happen on time even when nobody takes a ticket."""
    while True:
        await asyncio.sleep(TICK_S)
        try:
            await rt.write(rt.engine.tick)
        except Exception:  # logged and retried at the next tick; the server keeps serving
            log.exception("rollover check failed")
