"""The clerk's window terminal `/window/{n}`, and the one read it needs besides the public API: the window's day.

The page logs the clerk in (token in sessionStorage), acts through `POST /api/v1/windows/{n}/…`, and
follows the event WebSocket from the `latest_seq` of `GET /api/v1/windows/{n}/today`, which is read
before the rows (as the screen's snapshot does), so no event between the two is missed.
"""
from __future__ import annotations

import json
from typing import Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from ..errors import window_not_found
from ..runtime import Hall
from ..web.templates import render
from .deps import get_hall

router = APIRouter(tags=["windows"])
# the events a window's day is made of (each carries the window in its `window` column)
OUTCOMES = {"ticket.finished": "done", "ticket.no_show": "no_show", "ticket.transferred": "transferred"}


class DayTicket(BaseModel):
    ticket_id: int
    number: str
    matter: str
    matter_name: str
    priority: str
    called_at: str = Field(description="when this window called it (UTC, ISO 8601)")
    started_at: str | None = Field(description="when the citizen arrived (start)")
    ended_at: str | None = Field(description="when it was finished, skipped or transferred; null while current")
    outcome: Literal["active", "done", "no_show", "transferred"]
    recalls: int
    to: str | None = Field(description="for a transfer: where to (window number or matter code)")


class WindowDay(BaseModel):
    window: int
    service_day: str
    latest_seq: int = Field(description="follow WS /api/v1/events?since=latest_seq: no event is missed")
    now: str = Field(description="the hall's time, with its UTC offset")
    tickets: list[DayTicket] = Field(description="every call of this window today, oldest first")
    done: int
    no_show: int
    transferred: int


@router.get("/api/v1/windows/{number}/today", response_model=WindowDay,
            summary="One window's day: each ticket it called, with when and how it ended (for its terminal)")
async def window_today(number: int, hall: Hall = Depends(get_hall)) -> dict:
    latest = hall.bus.latest_seq            # first: events after it are replayed, whatever the rows show
    if hall.cfg.window(number) is None:
        raise window_not_found(number)
    now = hall.clock.now()
    day = hall.engine.today(now)
    # through today's tickets (the events' ticket_id index), not a scan of the whole log
    rows = hall.store.read.execute(
        "SELECT seq, type, at, ticket_id, data FROM events WHERE ticket_id IN"
        " (SELECT id FROM tickets WHERE service_day=?) AND window=? AND at >= ? ORDER BY seq",
        (day, number, hall.views.day_start(now))).fetchall()
    tickets: list[dict] = []
    open_by_ticket: dict[int, dict] = {}
    for r in rows:
        d = json.loads(r["data"])
        t = open_by_ticket.get(r["ticket_id"])
        if r["type"] == "ticket.called":
            t = {"ticket_id": r["ticket_id"], "number": d["number"], "matter": d.get("matter", ""),
                 "matter_name": d.get("matter_name", ""), "priority": d.get("priority", "normal"),
                 "called_at": r["at"], "started_at": None, "ended_at": None, "outcome": "active", "recalls": 0,
                 "to": None}
            tickets.append(t)
            open_by_ticket[r["ticket_id"]] = t
        elif t is None:
            continue
        elif r["type"] == "ticket.recalled":
            t["recalls"] = d.get("recalls", t["recalls"] + 1)
        elif r["type"] == "ticket.serving":
            t["started_at"] = r["at"]
        elif r["type"] in OUTCOMES:
            t["ended_at"], t["outcome"] = r["at"], OUTCOMES[r["type"]]
            if r["type"] == "ticket.transferred":
                t["to"] = str(d["to_window"]) if d.get("to_window") else d.get("to_matter")
            del open_by_ticket[r["ticket_id"]]
    count = {k: sum(t["outcome"] == k for t in tickets) for k in ("done", "no_show", "transferred")}
    return {"window": number, "service_day": day, "latest_seq": latest,
            "now": now.astimezone(ZoneInfo(hall.cfg.hall.timezone)).isoformat(timespec="milliseconds"),
            "tickets": tickets, **count}


# -- the page ---------------------------------------------------------------------------------------
@router.get("/window/{n}", response_class=HTMLResponse, include_in_schema=False)
async def window_terminal(request: Request, n: str, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    """The clerk's terminal for window n; a bilingual 404 page listing the windows for one the hall lacks."""
    w = hall.cfg.window(int(n)) if n.isdecimal() and len(n) < 6 else None
    return render(request, "terminal.html", {"cfg": hall.cfg, "w": w, "n": n},
                                         status_code=200 if w else 404)
