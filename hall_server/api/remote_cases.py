"""Other halls' cases (issue 19, cases across levels), for a hall with `[rollup]`: the district officer's
worklist of their departments' cases taken in elsewhere, one such case, and an action on it sent to the owning
hall as a command (202: pending until that hall applies it); and `remote_public`, the 跨域 query the public
lookups (GET /api/v1/case-status/…, POST /api/v1/case-lookup, the page /c/…) fall back on when this hall has no
such case. The cases contract of design.md is unchanged: these are routes of their own.

In a hall without `[rollup]` the worklist answers `{"enabled": false}` and the rest 404; the lookups are as before.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from ..accounts.auth import Principal
from ..errors import NotFound, Unprocessable
from ..rollup.remote_cases import RUNNING, DistrictUnavailable
from ..runtime import Hall
from .deps import get_hall, require
from .models import Body

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["cases across levels"])
OFFICE = ("department", "supervisor")
HallCode = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", description="the owning hall's code")
CaseId = Path(ge=1, le=2**62, description="the case's id at the owning hall")
STATUSES = ("received", "supplement", "accepted", "refused", "in_review", "suspended", "decided", "ready",
            "delivered", "withdrawn")


class RemoteActionBody(Body):
    department: str | None = Field(default=None, max_length=100, description="联办: the department acted for")
    reason: str | None = Field(default=None, min_length=1, max_length=500, description="suspend: why")
    outcome: Literal["approved", "rejected"] | None = Field(default=None, description="decide")
    opinion: str | None = Field(default=None, max_length=2000, description="decide, report")
    authority: str | None = Field(default=None, max_length=100, description="report: the higher authority")


NEEDS = {"suspend": ("reason",), "decide": ("outcome",), "report": ("opinion",)}
ACTION_FIELDS = {"claim": ("department",), "release": ("department",), "resume": ("department",),
                 "suspend": ("reason", "department"), "decide": ("outcome", "opinion", "department"),
                 "report": ("opinion", "authority")}


def _remote(hall: Hall):
    if hall.remote_cases is None:
        raise NotFound("no_rollup", "本厅未接入区级数据库（配置中没有 [rollup]），没有其他服务厅的办件",
                       "this hall has no [rollup]: it neither sees nor works other halls' cases")
    return hall.remote_cases


def _with_days(hall: Hall, case: dict, today: date) -> dict:
    """The deadline colour and working days left, counted on this hall's calendar (the district's is the same)."""
    case["deadline"] = hall.cases.ctx.deadline(case["status"], case["due"], today)
    case["working_days_left"] = None
    if case["due"] and case["status"] in RUNNING:
        case["working_days_left"] = hall.cases.calendar.working_days_left(today, date.fromisoformat(case["due"]))
    return case


@router.get("/remote-cases", summary="Other halls' cases of the caller's departments (by due date) and the "
            "commands sent for them from this hall")
async def remote_worklist(status: str = Query(",".join(RUNNING), max_length=200,
                                              description="one or more, comma-separated"),
                          hall: Hall = Depends(get_hall), who: Principal = Depends(require(*OFFICE))):
    if hall.remote_cases is None:
        return {"enabled": False, "hall": hall.cfg.hall.code, "cases": [], "commands": [], "more": False}
    wanted = tuple(s for s in status.split(",") if s)
    bad = [s for s in wanted if s not in STATUSES]
    if bad:
        raise Unprocessable("bad_status", f"未知状态：{'、'.join(bad)}",
                            f"unknown status {', '.join(bad)}; use {', '.join(STATUSES)}")
    out = await asyncio.to_thread(hall.remote_cases.worklist, who, wanted)
    today = hall.cases.ctx.local_day()
    out["cases"] = [_with_days(hall, c, today) for c in out["cases"]]
    return JSONResponse({"enabled": True, "hall": hall.cfg.hall.code, "me": f"{who.username}@{hall.cfg.hall.code}",
                         **out})


@router.get("/remote-cases/{hall_code}/{case_id}", summary="One case of another hall, with its public steps and "
            "the commands sent for it from this hall")
async def remote_case(hall_code: str = HallCode, case_id: int = CaseId, hall: Hall = Depends(get_hall),
                      who: Principal = Depends(require(*OFFICE))):
    remote = _remote(hall)
    case = await asyncio.to_thread(remote.case, who, hall_code, case_id)
    return JSONResponse(_with_days(hall, case, hall.cases.ctx.local_day()))


@router.post("/remote-cases/{hall_code}/{case_id}/{action}", status_code=202,
             summary="Send an action (claim, release, suspend, resume, report, decide) on another hall's case to "
             "that hall: answers the command, pending until the hall has applied it")
async def remote_action(body: RemoteActionBody, hall_code: str = HallCode, case_id: int = CaseId,
                        action: Literal["claim", "release", "suspend", "resume", "report", "decide"] = Path(),
                        hall: Hall = Depends(get_hall), who: Principal = Depends(require("department"))):
    remote = _remote(hall)
    given = body.model_dump()
    missing = [k for k in NEEDS.get(action, ()) if not given.get(k)]
    if missing:
        raise Unprocessable("field_required", f"「{action}」须填写：{'、'.join(missing)}",
                            f"{action} needs {', '.join(missing)}", fields=missing)
    sent = {k: given[k] for k in ACTION_FIELDS[action] if given.get(k) is not None}
    command = await asyncio.to_thread(remote.issue, who, hall_code, case_id, action, sent)
    return JSONResponse(command, status_code=202)


@router.get("/remote-commands/{command_id}", summary="One command sent from this hall: pending, confirming, "
            "confirmed or rejected (with the owning hall's reason)")
async def remote_command(command_id: str = Path(min_length=1, max_length=40), hall: Hall = Depends(get_hall),
                         who: Principal = Depends(require(*OFFICE))):
    return JSONResponse(await asyncio.to_thread(_remote(hall).command, who, command_id))


async def remote_public(hall: Hall, *, number: str | None = None, query_code: str | None = None) -> list[dict]:
    """跨域 query: other halls' cases by number or query code, public status only; [] without [rollup] or while
    the district cannot be reached (the lookup then answers as a hall on its own does)."""
    if hall.remote_cases is None or not (number or query_code):
        return []
    try:
        return await asyncio.to_thread(hall.remote_cases.lookup, number=number, query_code=query_code)
    except DistrictUnavailable as exc:
        log.info("跨域 query without the district: %s", exc.en)
        return []
