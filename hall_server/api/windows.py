"""Window actions: call-next and its siblings, open/pause/resume/close, clerk login and logout.

A clerk may act only on the window they are logged in to; the check runs inside the same transaction
as the action, so a clerk who has just been logged out cannot slip one more call through.
"""
from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Response

from ..accounts.auth import Principal
from ..runtime import Hall
from ..store.database import Change
from .deps import STAFF, get_hall, require
from .models import ReasonRequest, TicketOut, TransferRequest, WindowOut

router = APIRouter(prefix="/api/v1/windows/{number}", tags=["windows"])
staff = require(*STAFF)


async def _act(hall: Hall, number: int, who: Principal, fn: Callable[..., Change], **kw):
    def run(conn) -> Change:
        if who.role == "clerk":
            hall.engine.require_clerk(conn, number, who.username)
        return fn(conn, number, **kw)
    return await hall.store.write(run)


@router.post("/call-next", response_model=TicketOut,
             summary="Call the next ticket (finishes the current one); 204 when none waits",
             responses={204: {"description": "nothing waits for this window"}})
async def call_next(number: int, hall: Hall = Depends(get_hall), who: Principal = Depends(staff)):
    ticket = await _act(hall, number, who, hall.engine.call_next, actor=who.username)
    return Response(status_code=204) if ticket is None else ticket


@router.post("/recall", response_model=TicketOut,
             summary="Call the current ticket again; past the limit it becomes a no-show")
async def recall(number: int, hall: Hall = Depends(get_hall), who: Principal = Depends(staff)) -> dict:
    return await _act(hall, number, who, hall.engine.recall, actor=who.username)


@router.post("/start", response_model=TicketOut, summary="The citizen has arrived: start serving the current ticket")
async def start(number: int, hall: Hall = Depends(get_hall), who: Principal = Depends(staff)) -> dict:
    return await _act(hall, number, who, hall.engine.start, actor=who.username)


@router.post("/skip", response_model=TicketOut, summary="The called citizen did not come: mark the ticket a no-show")
async def skip(number: int, hall: Hall = Depends(get_hall), who: Principal = Depends(staff)) -> dict:
    return await _act(hall, number, who, hall.engine.skip, actor=who.username)


@router.post("/finish", response_model=TicketOut, summary="Finish the current ticket")
async def finish(number: int, hall: Hall = Depends(get_hall), who: Principal = Depends(staff)) -> dict:
    return await _act(hall, number, who, hall.engine.finish, actor=who.username)


@router.post("/transfer", response_model=TicketOut,
             summary="Transfer the current ticket to a matter or a window; it keeps its place")
async def transfer(number: int, body: TransferRequest, hall: Hall = Depends(get_hall),
                   who: Principal = Depends(staff)) -> dict:
    return await _act(hall, number, who, hall.engine.transfer, actor=who.username, to_matter=body.to_matter,
                      to_window=body.to_window, reason=body.reason)


def _state_route(action: str, summary: str):
    async def handler(number: int, body: ReasonRequest | None = None, hall: Hall = Depends(get_hall),
                      who: Principal = Depends(staff)) -> dict:
        return await _act(hall, number, who, hall.engine.set_state, action=action, actor=who.username,
                          reason=(body or ReasonRequest()).reason)
    handler.__name__ = f"window_{action}"
    router.add_api_route(f"/{action}", handler, methods=["POST"], summary=summary, response_model=WindowOut)


_state_route("open", "Open the window for calls")
_state_route("pause", "Pause the window (break, meeting, …) with a reason")
_state_route("resume", "Resume a paused window")
_state_route("close", "Close the window with a reason; the clerk is logged out")


@router.post("/login", response_model=WindowOut, summary="The calling clerk takes this window")
async def login(number: int, hall: Hall = Depends(get_hall), who: Principal = Depends(require("clerk"))) -> dict:
    return await hall.write(hall.engine.login, number, username=who.username)


@router.post("/logout", response_model=WindowOut, summary="The clerk leaves this window (an open window is paused)")
async def logout(number: int, hall: Hall = Depends(get_hall), who: Principal = Depends(staff)) -> dict:
    return await _act(hall, number, who, hall.engine.logout, username=who.username)
