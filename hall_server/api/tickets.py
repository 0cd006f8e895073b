"""Tickets: issue, look up, history, and the moves that are not a window's (requeue, cancel, transfer)."""
from __future__ import annotations

import re
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request

from ..accounts.auth import Principal
from ..clock import next_opening, opening_span, tickets_open
from ..errors import Conflict, NotFound, Unprocessable, ticket_not_found
from ..identity import swipes
from ..runtime import Hall
from .deps import STAFF, get_hall, require
from .models import HistoryEntry, IssuedTicketOut, IssueRequest, ReasonRequest, TicketOut, TransferRequest

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])

Status = Literal["waiting", "called", "serving", "done", "no_show", "cancelled", "expired"]


@router.post("", status_code=201, response_model=IssuedTicketOut,
             summary="Issue a ticket for a matter (printed on the kiosk's printer when it has one)")
async def issue(body: IssueRequest, request: Request, who: Principal = Depends(require("kiosk", *STAFF))) -> dict:
    hall: Hall = request.app.state.hall     # the hot path: not one more dependency to solve per ticket
    if who.role == "kiosk":           # staff may issue at any hour (a citizen still inside after closing)
        _check_open(hall)
    channel = "kiosk" if who.role == "kiosk" else body.channel
    if body.swipe:
        ticket = await hall.write(swipes.issue_for_swipe, hall.engine, swipe_id=body.swipe, matter=body.matter,
                                  kiosk=body.kiosk, actor=who.username)
    else:
        ticket = await hall.write(hall.engine.issue, matter=body.matter, priority=body.priority, channel=channel,
                                  kiosk=body.kiosk, actor=who.username)
    ticket["status_key"] = hall.feedback.ticket_key(ticket["id"])
    # the ticket is committed: printing can only add to it, never undo it
    ticket["print"] = await hall.printing.print_ticket(ticket, body.kiosk, lambda: str(request.base_url))
    return ticket


@router.get("", response_model=list[TicketOut], summary="Today's tickets, optionally of one status")
async def list_tickets(status: Status | None = None, limit: int = Query(200, ge=1, le=2000),
                 hall: Hall = Depends(get_hall), who: Principal = Depends(require(*STAFF, "technician"))
                 ) -> list[dict]:
    sql = "SELECT id FROM tickets WHERE service_day=?"
    args: list = [hall.engine.today()]
    if status:
        sql += " AND status=?"
        args.append(status)
    now = hall.clock.now()
    rows = hall.store.read.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
    return [hall.views.ticket(hall.store.read, r[0], now) for r in rows]


NUMBER = re.compile(r"[A-Za-z]{1,2}[0-9]{3,4}")


@router.get("/by-number/{number}", response_model=TicketOut,
            summary="Today's ticket with a number (as printed on the receipt, e.g. A001; any case)")
async def get_ticket_by_number(number: str, hall: Hall = Depends(get_hall)) -> dict:
    if not NUMBER.fullmatch(number):
        raise Unprocessable("bad_ticket_number", f"{number} 不是票号；票号是 1-2 个字母加 3-4 位数字，如 A001",
                            f"{number!r} is not a ticket number; write 1-2 letters and 3-4 digits, e.g. A001",
                            number=number)
    number = number.upper()
    now = hall.clock.now()
    row = hall.store.read.execute("SELECT id FROM tickets WHERE service_day=? AND number=?",
                                  (hall.engine.today(now), number)).fetchone()
    if row is None:
        raise NotFound("ticket_not_found", f"今天没有 {number} 号票，请核对小票上的号码",
                       f"no ticket {number} today; check the number on the receipt", number=number)
    return hall.views.ticket(hall.store.read, row[0], now)


@router.get("/{ticket_id}", response_model=TicketOut,
            summary="One ticket: its status, place in line and estimated wait")
async def get_ticket(ticket_id: int, hall: Hall = Depends(get_hall)) -> dict:
    t = hall.views.ticket(hall.store.read, ticket_id, hall.clock.now())
    if t is None:
        raise ticket_not_found(ticket_id)
    return t


@router.get("/{ticket_id}/history", response_model=list[HistoryEntry],
            summary="Every call, recall, transfer and finish of a ticket, with who")
async def get_history(ticket_id: int, hall: Hall = Depends(get_hall),
                who: Principal = Depends(require(*STAFF, "technician"))) -> list[dict]:
    if hall.views.ticket(hall.store.read, ticket_id, hall.clock.now()) is None:
        raise ticket_not_found(ticket_id)
    return hall.views.history(hall.store.read, ticket_id)


@router.post("/{ticket_id}/requeue", response_model=TicketOut,
             summary="Put a returning no-show back in line after a few places")
async def requeue(ticket_id: int, hall: Hall = Depends(get_hall), who: Principal = Depends(require(*STAFF))) -> dict:
    return await hall.write(hall.engine.requeue, ticket_id, actor=who.username)


@router.post("/{ticket_id}/cancel", response_model=TicketOut, summary="Cancel a waiting ticket")
async def cancel(ticket_id: int, body: ReasonRequest | None = None, hall: Hall = Depends(get_hall),
                 who: Principal = Depends(require("supervisor"))) -> dict:
    return await hall.write(hall.engine.cancel, ticket_id, actor=who.username, reason=(body or ReasonRequest()).reason)


@router.post("/{ticket_id}/transfer", response_model=TicketOut,
             summary="Move a waiting ticket to a matter or window, keeping its place")
async def transfer(ticket_id: int, body: TransferRequest, hall: Hall = Depends(get_hall),
                   who: Principal = Depends(require("supervisor"))) -> dict:
    return await hall.write(hall.engine.transfer_ticket, ticket_id, actor=who.username, to_matter=body.to_matter,
                            to_window=body.to_window, reason=body.reason)


def _check_open(hall: Hall) -> None:
    """A kiosk issues tickets only from a little before opening until closing (409 hall_closed otherwise)."""
    h, now = hall.cfg.hall, hall.clock.now()
    if tickets_open(now, h.timezone, h.opening, h.tickets_before_opening_min):
        return
    today = opening_span(now, h.timezone, h.opening)
    nxt = next_opening(now, h.timezone, h.opening)
    zh_next = f"，下次开放 {nxt:%m月%d日 %H:%M}" if nxt else ""          # nxt is in the hall's zone
    en_next = f"; it next opens {nxt:%a %d %b %H:%M}" if nxt else ""
    raise Conflict("hall_closed",
                   f"大厅现在不办理业务（今日 {today or '不开放'}{zh_next}）。请在开放时间取号；自助查询仍可使用。",
                   f"the hall is not taking tickets now (today: {today or 'closed'}{en_next}); take a ticket during "
                   "opening hours — the self-service queries still work",
                   opening_today=today, next_opening=nxt.isoformat() if nxt else None)
