"""The back office's page `/office`: a department officer's worklist (due dates and colours), claim,
suspend/resume, report and decide, through the cases API.

Two reads of its own, both thin over `hall.cases`: the worklist (GET /api/v1/cases ordered by due date, each
case with the working days left counted by the hall's calendar, so the page never counts holidays itself)
and, for supervisors, the officers a task may be reassigned to."""
from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from ..accounts.auth import Principal
from ..runtime import Hall
from ..web.templates import render
from .case_models import CaseOut
from .deps import get_hall, require

router = APIRouter(tags=["office"])
RUNNING = "accepted,in_review,suspended"
OFFICE = ("department", "supervisor")


class WorkCase(CaseOut):
    working_days_left: int | None = Field(
        description="working days from today to the due date (negative: working days overdue); a suspended "
                    "case's count stands where its clock stopped")


class Worklist(BaseModel):
    latest_seq: int = Field(description="follow WS /api/v1/events?since=latest_seq: no change is missed")
    now: str = Field(description="the hall's time, with its UTC offset")
    today: str = Field(description="the hall's date, YYYY-MM-DD")
    amber_days: int = Field(description="a case this many working days or fewer from its due date is amber")
    departments: list[str] = Field(description="the departments whose cases this account sees")
    cases: list[WorkCase] = Field(description="by due date, soonest first")
    more: bool = Field(description="more cases match than `limit`: narrow the filter")


class Officer(BaseModel):
    username: str
    departments: list[str]


class Officers(BaseModel):
    officers: list[Officer]


def working_days_left(hall: Hall, case: dict, today: date, memo: dict) -> int | None:
    """Counted once per (from, due) in a request: a worklist's cases share a few due dates."""
    if not case.get("due") or case["status"] not in RUNNING.split(","):
        return None
    stopped = case.get("suspended_on") if case["status"] == "suspended" else None
    key = (stopped or today.isoformat(), case["due"])
    if key not in memo:
        memo[key] = hall.cases.calendar.working_days_left(date.fromisoformat(key[0]), date.fromisoformat(key[1]))
    return memo[key]


def deciding_departments(hall: Hall) -> list[str]:
    """Every department that decides a matter of this hall, in the config's order."""
    seen: dict[str, None] = {}
    for m in hall.cfg.matters:
        for d in m.deciders:
            seen.setdefault(d, None)
    return list(seen)


@router.get("/api/v1/office/worklist", response_model=Worklist,
            summary="The back office's worklist: running cases by due date, with the working days left")
async def worklist(status: str = Query(RUNNING, max_length=200, description="one or more, comma-separated"),
                   department: str | None = Query(None, max_length=100),
                   deadline: str | None = Query(None, pattern="^(ok|amber|red)$"),
                   limit: int = Query(200, ge=1, le=200),
                   hall: Hall = Depends(get_hall), who: Principal = Depends(require(*OFFICE))) -> dict:
    latest = hall.bus.latest_seq            # first: a change after it is replayed, whatever the rows show
    now = hall.clock.now()
    today = hall.cases.ctx.local_day(now)
    page = hall.cases.list(who, status=status, department=department, deadline=deadline, limit=limit,
                           order="due")
    memo: dict = {}
    for case in page["cases"]:
        case["working_days_left"] = working_days_left(hall, case, today, memo)
    return {"latest_seq": latest,
            "now": now.astimezone(ZoneInfo(hall.cfg.hall.timezone)).isoformat(timespec="milliseconds"),
            "today": today.isoformat(), "amber_days": hall.cfg.cases.amber_days,
            "departments": list(who.departments) if who.role == "department" else deciding_departments(hall),
            "cases": page["cases"], "more": page["more"]}


@router.get("/api/v1/office/officers", response_model=Officers,
            summary="Active department officers (of one department), for a supervisor's reassignment")
async def officers(department: str | None = Query(None, max_length=100), hall: Hall = Depends(get_hall),
                   who: Principal = Depends(require("supervisor"))) -> dict:
    rows = hall.store.read.execute("SELECT username, departments FROM users WHERE role='department' AND NOT disabled"
                                   " ORDER BY username").fetchall()
    out = []
    for r in rows:
        deps = json.loads(r["departments"]) if r["departments"] else []
        if department is None or department in deps:
            out.append({"username": r["username"], "departments": deps})
    return {"officers": out}


@router.get("/office", response_class=HTMLResponse, include_in_schema=False)
async def office(request: Request, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    """The department officers' back office: worklist, case detail, claim … decide; supervisors reassign, extend."""
    return render(request, "office.html", {"cfg": hall.cfg})
