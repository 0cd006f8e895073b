"""The kiosk's local web app: the touch UI and the small JSON API it uses, on localhost only.

The page never sees the hall's token: every hall call goes through here. Errors keep the hall's
own body (`{"error": {"code", "message_zh", "message_en"}}`), so the page shows one kind of message.

    GET  /                      the kiosk UI
    GET  /api/state             the hall (matters with pinyin keys, opening hours), waiting counts, devices
    POST /api/tickets           {"matter", "swipe"} → the ticket, how its print went, its QR code (SVG)
    GET  /api/tickets/lookup    ?q=A001 | a scanned status URL | an id → the ticket's status
    POST /api/cases/lookup      {"q": "XL-20261124-0012" | a scanned /c/… URL} or {"swipe"} → the cases found, each
                                as the public status shows it, with the QR code (SVG) of its status page
    POST /api/cases/handout-ticket  {"number", "swipe"?} → an 出件 ticket to collect a ready result at the 出件
                                window, as POST /api/tickets answers
    GET  /api/lockers/info, POST /api/lockers/pickup, GET /api/lockers/pickups/{token}, POST /api/notices/reprint
                                locker pickup and the 受理通知书 printed again (24-hour mode): lockers.py
    POST /api/complaints        {"text", "phone"?} → a 办不成事 complaint's number and what happens next: complaints.py
    GET  /api/events            Server-Sent Events: swipe, card_error, state
    GET  /api/speech.wav        ?text=… → a spoken prompt (elder mode)
    POST /api/devices/{kind}/simulate   {"card": "elder"}, {"paper": "out"} → change a simulated device
"""
from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field

from .complaints import complaint_routes
from .devices import DeviceUnavailable
from .hall_client import HallRefused, HallUnreachable
from .lockers import locker_routes
from .runtime import UNREACHABLE, Kiosk
from .speech import SpeechUnavailable

HERE = Path(__file__).resolve().parent
HEARTBEAT_S = 15.0


class TicketRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    matter: str = Field(min_length=1, max_length=40)
    swipe: str | None = Field(default=None, max_length=40)


class CaseLookupRequest(BaseModel):
    """What a citizen typed or scanned (a case number, a notice's QR code), or the id of their card's swipe."""
    model_config = ConfigDict(extra="forbid")
    q: str | None = Field(default=None, max_length=200)
    swipe: str | None = Field(default=None, max_length=40)


class HandoutTicketRequest(BaseModel):
    """A ready case's number (as the case query showed it) and, when the citizen swiped, the swipe's id."""
    model_config = ConfigDict(extra="forbid")
    number: str | None = Field(default=None, max_length=40)
    swipe: str | None = Field(default=None, max_length=40)


class SimulateRequest(BaseModel):
    """What to change in a simulated device: the printer's paper, cover and line; the reader's card and faults."""
    model_config = ConfigDict(extra="forbid")
    paper: Literal["ok", "near-end", "out"] | None = None
    cover: Literal["open", "closed"] | None = None
    offline: bool | None = None
    card: str | None = Field(default=None, max_length=20)
    remove_card: bool | None = None
    fault: str | None = Field(default=None, max_length=20)


def _error(status: int, code: str, zh: str, en: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message_zh": zh, "message_en": en}}, status_code=status)


def create_app(kiosk: Kiosk) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        await kiosk.start()
        yield
        await kiosk.stop()

    app = FastAPI(title=f"onewindow kiosk {kiosk.name}", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.kiosk = kiosk
    templates = Jinja2Templates(directory=HERE / "templates")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(locker_routes(kiosk))        # /api/lockers/*, /api/notices/reprint (lockers.py)
    app.include_router(complaint_routes(kiosk))     # /api/complaints: 办不成事反映 (complaints.py)

    @app.exception_handler(HallRefused)
    async def refused(_request: Request, exc: HallRefused) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status)

    @app.exception_handler(HallUnreachable)
    async def unreachable(_request: Request, exc: HallUnreachable) -> JSONResponse:
        return JSONResponse({"error": {**UNREACHABLE, "detail": str(exc)}}, status_code=503)

    @app.get("/", response_class=HTMLResponse)
    async def page(request: Request) -> HTMLResponse:
        hall = kiosk.hall or {}
        return templates.TemplateResponse(request, "kiosk.html", {
            "kiosk": kiosk.name, "hall_name": hall.get("name", ""), "hall_name_en": hall.get("name_en", "")})

    @app.get("/api/state")
    async def state() -> dict:
        return kiosk.state()

    @app.post("/api/tickets", status_code=201)
    async def take_ticket(body: TicketRequest) -> dict:
        return await kiosk.issue(body.matter, body.swipe)

    @app.get("/api/tickets/lookup")
    async def lookup(q: str = Query(min_length=1, max_length=200)) -> dict:
        return {"ticket": await kiosk.lookup(q)}

    @app.post("/api/cases/lookup", response_model=None)
    async def case_lookup(body: CaseLookupRequest) -> dict | JSONResponse:
        try:
            return {"cases": await kiosk.find_cases(body.q, body.swipe)}
        except ValueError:
            return _error(422, "case_lookup_empty", "请输入受理通知书上的办件编号，或刷身份证",
                          "Type the case number on your notice, or place your ID card on the reader")

    @app.post("/api/cases/handout-ticket", status_code=201, response_model=None)
    async def handout_ticket(body: HandoutTicketRequest) -> dict | JSONResponse:
        try:
            return await kiosk.handout_ticket(body.number, body.swipe)
        except ValueError:
            return _error(422, "case_lookup_empty", "请先查询您的办件，再取号领取",
                          "Look your case up first, then take a ticket to collect it")

    @app.get("/api/events")
    async def events(request: Request) -> StreamingResponse:
        return StreamingResponse(_stream(kiosk, request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.get("/api/speech.wav")
    async def speech(text: str = Query(min_length=1, max_length=200)) -> Response:
        try:
            wav = await asyncio.to_thread(kiosk.prompts.wav, text)
        except ValueError as exc:
            return _error(422, "bad_prompt", "提示语过长或为空", str(exc))
        except SpeechUnavailable as exc:
            return _error(503, "speech_unavailable", "语音提示暂不可用", str(exc))
        return Response(wav, media_type="audio/wav", headers={"Cache-Control": "max-age=3600"})

    @app.post("/api/devices/{kind}/simulate", status_code=204)
    async def simulate(kind: Literal["printer", "idcard"], body: SimulateRequest) -> Response:
        try:
            await asyncio.to_thread(kiosk.simulate, kind, **body.model_dump(exclude_none=True))
        except DeviceUnavailable as exc:
            return _error(409, "not_simulated", "该设备不是模拟器", str(exc))
        except ValueError as exc:
            return _error(422, "bad_simulation", "模拟参数有误", str(exc))
        return Response(status_code=204)

    @app.get("/api/health")
    async def health() -> dict:
        return {"kiosk": kiosk.name, "server": kiosk.server, "devices": kiosk.devices.snapshot()}

    return app


async def _stream(kiosk: Kiosk, request: Request) -> AsyncIterator[str]:
    q = kiosk.subscribe()
    try:
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            try:
                event, data = await asyncio.wait_for(q.get(), HEARTBEAT_S)
            except TimeoutError:
                yield ": heartbeat\n\n"
                continue
            yield f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
    finally:
        kiosk.unsubscribe(q)
