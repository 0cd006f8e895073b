"""Cases (办件), the stable contract of design.md: take in, accept, 补正, refuse, claim, suspend, resume,
extend, report, decide, ready, deliver, withdraw; read one, list, the public status by query code, the
kiosk's self-service lookup, and the working-day calendar.

(No `from __future__ import annotations` here: the action routes are made by one factory, and FastAPI reads
their body types from the real annotations.)"""
from datetime import UTC

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ..accounts.auth import Principal
from ..cases.intake import parse_day
from ..errors import NotFound, Unprocessable
from ..runtime import Hall
from .case_models import (
    CaseList,
    CaseOut,
    CaseRequest,
    CaseStatusOut,
    DecideRequest,
    DeliverRequest,
    DepartmentBody,
    ExtendRequest,
    LookupRequest,
    MaterialsRequest,
    ReadyRequest,
    ReasonBody,
    ReassignRequest,
    RefuseRequest,
    ReportRequest,
    SupplementRequest,
    SuspendRequest,
)
from .deps import get_hall, require
from .remote_cases import remote_public

router = APIRouter(prefix="/api/v1", tags=["cases"])
READERS = ("clerk", "department", "supervisor", "technician")
ACTORS = ("clerk", "department", "supervisor")
CaseId = Path(ge=1, le=2**62, description="the case's id")


@router.post("/cases", status_code=201, response_model=CaseOut,
             summary="Take in a case at the window: the matter's checklist ticked; answers the case (received)")
async def create_case(body: CaseRequest, hall: Hall = Depends(get_hall),
                      who: Principal = Depends(require("clerk", "supervisor"))) -> dict:
    return await hall.cases.create(
        who, matter=body.matter, ticket=body.ticket, channel=body.channel, applicant=body.applicant.model_dump(),
        agent=body.agent.model_dump() if body.agent else None,
        materials=[m.model_dump() for m in body.materials])


def _action(action: str, model: type[BaseModel] | None, summary: str) -> None:
    if model is None:
        async def act(case_id: int = CaseId, hall: Hall = Depends(get_hall),
                      who: Principal = Depends(require(*ACTORS))) -> dict:
            return await hall.cases.act(who, case_id, action, {})
    else:
        async def act(body: model, case_id: int = CaseId, hall: Hall = Depends(get_hall),  # type: ignore[valid-type]
                      who: Principal = Depends(require(*ACTORS))) -> dict:
            return await hall.cases.act(who, case_id, action, body.model_dump())
    act.__name__ = "case_" + action.replace("-", "_")
    router.add_api_route(f"/cases/{{case_id}}/{action}", act, methods=["POST"], response_model=CaseOut,
                         summary=summary, responses={403: {"description": "not this caller's case or role"},
                                                     404: {"description": "no such case"},
                                                     409: {"description": "the case's state forbids it"}})


def _optional_department(action: str, summary: str) -> None:
    async def act(case_id: int = CaseId, body: DepartmentBody | None = None, hall: Hall = Depends(get_hall),
                  who: Principal = Depends(require(*ACTORS))) -> dict:
        return await hall.cases.act(who, case_id, action, body.model_dump() if body else {})
    act.__name__ = "case_" + action
    router.add_api_route(f"/cases/{{case_id}}/{action}", act, methods=["POST"], response_model=CaseOut,
                         summary=summary)


_action("accept", None, "Accept (受理): 409 materials_missing while a required item is missing")
_action("request-supplement", SupplementRequest, "一次性告知: ask once for everything missing")
_action("materials", MaterialsRequest, "Items handed in later (a 补正 case is accepted when complete)")
_action("refuse", RefuseRequest, "不予受理, with the reason (422 without one)")
_optional_department("claim", "A department officer claims the case (联办: their department's task)")
_optional_department("release", "Give a claimed task back (the claimer, or a supervisor)")
_action("reassign", ReassignRequest, "A supervisor gives a task to another officer of its department")
_action("suspend", SuspendRequest, "特别程序: stop the clock")
_optional_department("resume", "Start the clock again: due dates move by the working days suspended")
_action("extend", ExtendRequest, "延期 by working days, with the approver and a reason (supervisor)")
_action("report", ReportRequest, "上报件: the first opinion and the higher authority it went to")
_action("decide", DecideRequest, "Decide (approved | rejected); 联办: each department its own task")
_action("ready", ReadyRequest, "The result is ready to hand out: at the window, by mail (address) or locker")
_action("deliver", DeliverRequest, "Handed out: the collector (or the waybill for mail)")
_action("withdraw", ReasonBody, "The applicant withdraws the case (before it is decided)")


@router.get("/cases/{case_id}", response_model=CaseOut, summary="One case, with its history")
async def get_case(case_id: int = CaseId, hall: Hall = Depends(get_hall),
                   who: Principal = Depends(require(*READERS))) -> dict:
    return hall.cases.get(case_id, who)


@router.get("/cases", response_model=CaseList, summary="Cases, newest first (or by due date), paged")
async def list_cases(status: str | None = Query(None, max_length=200, description="one or more, comma-separated"),
                     department: str | None = Query(None, max_length=100),
                     deadline: str | None = Query(None, pattern="^(ok|amber|red)$"),
                     q: str | None = Query(None, max_length=60, description="number, query code, applicant's "
                                           "name or phone, or matter code"),
                     limit: int = Query(50, ge=1, le=200), before: int | None = Query(None, ge=1, le=2**62),
                     order: str = Query("newest", pattern="^(newest|due)$"),
                     window: int | None = Query(None, ge=1, le=10_000, description="taken in at this window"),
                     day: str | None = Query(None, max_length=10, description="received on this local day, "
                                             "YYYY-MM-DD"),
                     hall: Hall = Depends(get_hall), who: Principal = Depends(require(*READERS))) -> dict:
    # answered as built (the shape is CaseList's): validating and re-encoding 50 cases through the response
    # model took 6 of a worklist's 10 ms
    return JSONResponse(hall.cases.list(who, status=status, department=department, deadline=deadline, q=q,
                                        limit=limit, before=before, order=order, window=window, day=day))


@router.get("/case-status/{query_code}", response_model=CaseStatusOut,
            summary="Public: a case's steps and due date by its query code (no name, phone or ID number)")
async def case_status(query_code: str = Path(min_length=8, max_length=40), hall: Hall = Depends(get_hall)) -> dict:
    try:
        return hall.cases.public(query_code)
    except NotFound:
        found = await remote_public(hall, query_code=query_code)    # 跨域: another hall's case, with [rollup]
        if not found:
            raise
        return found[0]


@router.post("/case-lookup", summary="The kiosk's self-service query: by number, query code or ID-card swipe")
async def case_lookup(body: LookupRequest, hall: Hall = Depends(get_hall),
                      who: Principal = Depends(require("kiosk", "clerk", "supervisor"))) -> dict:
    citizen = None
    if body.swipe:
        row = hall.store.read.execute("SELECT citizen_hash, expires_at, kiosk FROM swipes WHERE id=?",
                                      (body.swipe,)).fetchone()
        now = hall.clock.now().astimezone(UTC).isoformat(timespec="milliseconds")
        if row is None or row["expires_at"] < now:
            raise NotFound("swipe_not_found", "刷卡信息已失效，请重新刷卡", "no such swipe, or it has expired: "
                           "swipe the card again", swipe=body.swipe)
        citizen = row["citizen_hash"]
    if not (body.number or body.query_code or citizen):
        raise Unprocessable("lookup_empty", "请输入办件编号或查询码，或刷身份证",
                            "give a case `number`, a `query_code`, or a `swipe`")
    found = hall.cases.lookup(number=body.number, query_code=body.query_code, citizen_hash=citizen)
    if not found and not citizen:           # 跨域: another hall's case by number or code (only with [rollup])
        found = await remote_public(hall, number=body.number, query_code=body.query_code)
    return {"cases": found}


@router.get("/calendar/due", summary="The due date N working days after a date (day 1: the first working day after)")
async def calendar_due(from_: str = Query(alias="from", max_length=10, description="YYYY-MM-DD"),
                       working_days: int = Query(ge=0, le=3660), hall: Hall = Depends(get_hall)) -> dict:
    start = parse_day(from_, "from")
    cal = hall.cases.calendar
    due = cal.add_working_days(start, working_days)
    out: dict = {"from": start.isoformat(), "working_days": working_days, "due": due.isoformat()}
    warning = cal.warning(start, due)
    if warning:
        out["warning"] = warning
    return out
