"""The supervisor's dashboard `/dashboard`, and its snapshot `GET /api/v1/dashboard`.

The page loads the snapshot, then follows `WS /api/v1/events?since=<latest_seq>` and reads the snapshot
again after the events that change what it shows. `latest_seq` is read before the rows, so an event the
rows may not show yet still arrives on the WebSocket and triggers another read: nothing is missed.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from ..accounts.auth import Principal
from ..runtime import Hall
from ..web.templates import render
from .deps import WATCHERS, get_hall, require
from .models import Priority, WindowOut

router = APIRouter(tags=["dashboard"])
WAITING_LIMIT = 300
OVERDUE_LIMIT = 50


class QueueMatter(BaseModel):
    code: str
    name: str
    group: str
    waiting: int
    priority_waiting: int
    longest_wait_s: int


class QueueGroup(BaseModel):
    code: str
    name: str
    prefixes: list[str]
    waiting: int
    longest_wait_s: int
    matters: list[QueueMatter] = Field(description="the group's matters that have tickets waiting")


class DeviceOut(BaseModel):
    name: str
    kind: str
    url: str
    kiosk: str | None
    window: int | None
    state: Literal["ok", "degraded", "offline", "fault"]
    detail: str
    at: str | None = Field(description="when the device was last checked")
    since: str | None = Field(description="when it entered this state")


class AnnouncerOut(BaseModel):
    voice: str
    voice_state: str
    queued_to_play: int
    announcements: dict[str, int] = Field(description="today's announcements by state")


class AlertOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    seq: int
    at: str
    kind: str = Field(default="", description="e.g. print_failed")
    device: str | None = None
    detail: str = ""


class WaitingTicket(BaseModel):
    id: int
    number: str
    matter: str
    matter_name: str
    group: str | None
    priority: Priority
    issued_at: str
    wait_s: int = Field(description="seconds since it was issued")
    target_window: int | None = Field(description="set when it was moved to a window: only that window calls it")
    transfers: int


class SeatOut(BaseModel):
    window: int
    camera: str
    presence: Literal["present", "away", "unknown"]
    since: str | None
    window_state: str
    clerk: str | None
    away_s: int = Field(description="seconds the clerk has been away from the attended window (0 when not)")
    alert: bool = Field(description="a 离岗 alert is raised and not yet cleared")
    today: dict[str, int] = Field(description="present_s, away_s, unknown_s today")


class OverdueCase(BaseModel):
    id: int
    number: str
    matter: str
    matter_name: str
    kind: str
    status: str
    departments: list[str] = Field(description="the departments whose task is not decided yet")
    due: str
    days_over: int = Field(description="working days past the due date")


class CasesOut(BaseModel):
    by_status: dict[str, int] = Field(description="every case by its status")
    deadline: dict[str, int] = Field(description="running cases (accepted, in review, suspended) by colour")
    overdue: list[OverdueCase] = Field(description=f"overdue cases, longest overdue first (the first {OVERDUE_LIMIT})")
    overdue_more: bool
    sms: dict[str, int] = Field(default_factory=dict, description="the SMS outbox: queued, sending, sent, failed, "
                                "uncertain")


class DashboardSnapshot(BaseModel):
    hall_name: str
    hall_name_en: str
    service_day: str
    latest_seq: int = Field(description="follow WS /api/v1/events?since=latest_seq: no event is missed")
    now: str = Field(description="the hall's time when the snapshot was taken, with its UTC offset")
    windows: list[WindowOut]
    waiting: int = Field(description="tickets waiting today, in all queues")
    groups: list[QueueGroup]
    devices: list[DeviceOut]
    announcer: AnnouncerOut
    alerts: list[AlertOut] = Field(description="today's alerts (alert.raised), newest first")
    seats: list[SeatOut] = Field(description="the windows watched by seat cameras (座席监控)")
    tickets: list[WaitingTicket] = Field(description=f"waiting tickets in line order (the first {WAITING_LIMIT})")
    cases: CasesOut = Field(description="cases (办件) by state, and the overdue ones")


@router.get("/api/v1/dashboard", response_model=DashboardSnapshot,
            summary="Everything the supervisor's dashboard shows (staff and technicians)")
async def get_dashboard(hall: Hall = Depends(get_hall), who: Principal = Depends(require(*WATCHERS))) -> dict:
    await hall.devices.check_remote()       # a silent kiosk's devices are logged offline before the snapshot
    latest = hall.bus.latest_seq            # first: events after it are replayed, whatever the rows show
    cfg = hall.cfg
    now = hall.clock.now()
    conn = hall.store.read
    queue = hall.views.queue(conn, now)
    served = hall.views.served_today(conn, queue["service_day"])
    by_group: dict[str, list[dict]] = {}
    for m in queue["matters"]:
        by_group.setdefault(m["group"], []).append(m)
    return {
        "hall_name": cfg.hall.name, "hall_name_en": cfg.hall.name_en,
        "service_day": queue["service_day"],
        "latest_seq": latest,
        "now": now.astimezone(ZoneInfo(cfg.hall.timezone)).isoformat(timespec="milliseconds"),
        "windows": [{**w, "served_today": served.get(w["number"], 0)} for w in hall.views.windows(conn)],
        "waiting": queue["waiting"],
        "groups": [{**g, "matters": by_group.get(g["code"], [])} for g in queue["groups"]],
        "devices": hall.devices.snapshot(),
        "announcer": hall.announcer.status(),
        "alerts": _alerts(hall, now),
        "seats": hall.seats.status(),
        "tickets": _waiting(hall, queue["service_day"], now),
        "cases": _cases(hall, who, now),
    }


def _alerts(hall: Hall, now) -> list[dict]:
    """Today's alerts, newest first; a 离岗 alert is `cleared` once an `alert.cleared` of its window follows it,
    a seat worker's (no window) once the worker's `alert.cleared` follows it."""
    start = hall.views.day_start(now)
    rows = hall.store.read.execute(
        "SELECT seq, at, data FROM events WHERE type='alert.raised' AND at >= ? ORDER BY seq DESC LIMIT 200",
        (start,)).fetchall()
    cleared = dict(hall.store.read.execute(
        "SELECT window, MAX(seq) FROM events WHERE type='alert.cleared' AND at >= ? GROUP BY window", (start,)))
    out = []
    for r in rows:
        a = {**json.loads(r["data"]), "seq": r["seq"], "at": r["at"]}
        if a.get("kind") in ("away", "seat_worker"):
            a["cleared"] = cleared.get(a.get("window"), 0) > r["seq"]
        out.append(a)
    return out


def _waiting(hall: Hall, day: str, now) -> list[dict]:
    """Waiting tickets in line order, without each one's estimate (a dashboard reads this often)."""
    rows = hall.store.read.execute(
        "SELECT id, number, matter, priority, issued_at, target_window, transfers FROM tickets"
        " WHERE service_day=? AND status='waiting' ORDER BY queue_key, id LIMIT ?", (day, WAITING_LIMIT)).fetchall()
    now_s = now.timestamp()
    out = []
    for r in rows:
        m = hall.cfg.matter(r["matter"])
        issued = datetime.fromisoformat(r["issued_at"]).timestamp()
        out.append({**dict(r), "matter_name": m.name if m else r["matter"], "group": m.group if m else None,
                    "wait_s": max(0, int(now_s - issued))})
    return out


def _cases(hall: Hall, who: Principal, now) -> dict:
    """Counts by state and colour, and the overdue cases with the working days they are over."""
    red = hall.cases.list(who, deadline="red", order="due", limit=OVERDUE_LIMIT)
    today = hall.cases.ctx.local_day(now)
    cal = hall.cases.calendar
    overdue = [{"id": c["id"], "number": c["number"], "matter": c["matter"], "matter_name": c["matter_name"],
                "kind": c["kind"], "status": c["status"], "due": c["due"],
                "departments": [t["department"] for t in c["departments"] if t["state"] != "decided"],
                "days_over": max(0, -cal.working_days_left(today, date.fromisoformat(c["due"])))}
               for c in red["cases"] if c["due"]]
    return {**hall.cases.counts(), "overdue": overdue, "overdue_more": red["more"],
            "sms": hall.outbox.counts(hall.store.read)}      # messages to applicants: waiting, failed, uncertain


# -- the page -------------------------------------------------------------------------------------
@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
async def dashboard(request: Request, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    """The supervisor's dashboard: windows, queues, devices and alerts, live; window and ticket actions."""
    return render(request, "dashboard.html", {"cfg": hall.cfg})
