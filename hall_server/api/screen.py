"""The calling screens: the hall's big screen `/screen`, one per window `/screen/window/{n}`, and their snapshot.

A screen loads `GET /api/v1/screen`, then follows `WS /api/v1/events?since=<latest_seq>`. `latest_seq` is
read before the rows, so every event the rows may not show yet is replayed by the WebSocket: a screen can
see an event twice (harmless, it applies events by seq) but never miss one.
"""
from __future__ import annotations

import json
import sqlite3
from typing import Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from ..config import HallConfig
from ..runtime import Hall
from ..web.templates import render
from .deps import get_hall

router = APIRouter(tags=["screens"])
CALL_TYPES = ("ticket.called", "ticket.recalled")


class ScreenHall(BaseModel):
    name: str
    name_en: str


class ScreenCall(BaseModel):
    seq: int = Field(description="the event's seq")
    at: str = Field(description="when it was called (UTC, ISO 8601)")
    number: str
    window: int
    window_name: str
    matter_name: str
    recall: bool = Field(description="a recall (ticket.recalled) rather than a first call")


class ScreenWindow(BaseModel):
    number: int
    name: str
    state: Literal["closed", "open", "paused", "serving"]
    current: str | None = Field(description="the number of the window's current ticket")


class ScreenGroup(BaseModel):
    code: str
    name: str
    prefixes: list[str] = Field(description="the ticket letters of the group's matters")
    waiting: int


class ScreenSnapshot(BaseModel):
    hall: ScreenHall
    service_day: str
    latest_seq: int = Field(description="follow the events with WS /api/v1/events?since=latest_seq: none is missed")
    now: str = Field(description="the hall's time when the snapshot was taken, with its UTC offset")
    calls: list[ScreenCall] = Field(description="today's last calls and recalls, newest first "
                                                "(calling.recent_calls of them)")
    windows: list[ScreenWindow]
    groups: list[ScreenGroup] = Field(description="waiting tickets per matter group, today")
    notice: str = Field(description="the scrolling notice (calling.notice); empty: none")
    audio: bool = Field(description="the screen itself plays the announcements (an audio device screen://)")


@router.get("/api/v1/screen", response_model=ScreenSnapshot,
            summary="Everything a calling screen shows, and the seq to follow the events from")
async def get_screen(hall: Hall = Depends(get_hall)) -> dict:
    latest = hall.bus.latest_seq            # first: events after it are replayed, whatever the rows show
    cfg = hall.cfg
    now = hall.clock.now()
    conn = hall.store.read
    queue = hall.views.queue(conn, now)
    return {
        "hall": {"name": cfg.hall.name, "name_en": cfg.hall.name_en},
        "service_day": queue["service_day"],
        "latest_seq": latest,
        "now": now.astimezone(ZoneInfo(cfg.hall.timezone)).isoformat(timespec="milliseconds"),
        "calls": recent_calls(conn, queue["service_day"], hall.views.day_start(now), cfg.calling.recent_calls),
        "windows": [{"number": w["number"], "name": w["name"], "state": w["state"],
                     "current": w["current"]["number"] if w["current"] else None}
                    for w in hall.views.windows(conn)],
        "groups": [{k: g[k] for k in ("code", "name", "prefixes", "waiting")} for g in queue["groups"]],
        "notice": cfg.calling.notice,
        "audio": screen_plays_audio(cfg),
    }


def recent_calls(conn: sqlite3.Connection, day: str, day_start: str, limit: int) -> list[dict]:
    """Today's last calls and recalls, newest first. Found through today's tickets (the events' ticket_id
    index) rather than by scanning the whole log back to the day's start."""
    rows = conn.execute(
        "SELECT seq, type, at, data FROM events WHERE ticket_id IN (SELECT id FROM tickets WHERE service_day=?)"
        " AND type IN (?, ?) AND at >= ? ORDER BY seq DESC LIMIT ?",
        (day, *CALL_TYPES, day_start, limit)).fetchall()
    calls = []
    for r in rows:
        d = json.loads(r["data"])
        calls.append({"seq": r["seq"], "at": r["at"], "number": d["number"], "window": d["window"],
                      "window_name": d.get("window_name", ""), "matter_name": d.get("matter_name", ""),
                      "recall": r["type"] == "ticket.recalled"})
    return calls


def screen_plays_audio(cfg: HallConfig) -> bool:
    """The hall's announcements are played by the screens' browsers (an audio device `screen://`)."""
    return any(d.kind == "audio" and d.url.startswith("screen://") for d in cfg.devices)


# -- pages ----------------------------------------------------------------------------------------
@router.get("/screen", response_class=HTMLResponse, include_in_schema=False)
async def hall_screen(request: Request, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    """The hall's calling screen, for a 1080p TV."""
    return render(request, "screen.html", {"cfg": hall.cfg})


@router.get("/screen/window/{n}", response_class=HTMLResponse, include_in_schema=False)
async def window_screen(request: Request, n: str, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    """The small screen above window n; a 404 page (still a screen, bilingual) for a window the hall lacks."""
    w = hall.cfg.window(int(n)) if n.isdecimal() and len(n) < 6 else None
    return render(request, "screen_window.html", {"cfg": hall.cfg, "w": w, "n": n},
                                         status_code=200 if w else 404)
