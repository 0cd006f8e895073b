"""“办不成事” complaints (design.md "Evaluations and complaints"; hall_server/complaints/). Stable shapes:

A *complaint* is `{"id", "number" (BC20261124-001), "text", "case", "case_number", "matter", "matter_name",
"window", "department" (as registered), "channel" (window|kiosk|status_page), "registered_by", "registered_at",
"contact": null | {"name", "phone"}, "contact_masked" (true: name and phone masked, 张* / 137****1111), "class"
(null|simple|complex|special), "class_name", "assigned_department", "status" (registered|classified|assigned|
answered|fed_back|checked|filed|closed), "status_name", "due" (the current step's local day), "answer_due" (the
class's promised day: registration day + 0 / 5 / 10 working days of the hall's calendar), "deadline"
(ok|amber|red), "answered_at", "closed_at", "closed_reason" (court|petition|other), "closed_reason_name", "next":
[steps allowed now], "steps"?: [{"step", "name", "at", "by", "due", "text", ...}]}`.

- `POST /api/v1/complaints` `{"text", "case"?, "matter"?, "window"?, "department"?, "contact"?: {"name"?,
  "phone"?}}` — the clerk signed in at the 办不成事 window (`complaints.window`, 7), a kiosk account (or admin) →
  201 `{"id", "number", "status": "registered", "due", "registered_at", "channel"}`; an SMS with the number is put
  in the outbox in the same transaction when the phone is a mobile. 403 `not_complaint_window` for anyone else;
  422 for an empty text, an unknown case / matter / window / department, a bad phone.
- `POST /api/v1/complaints/public` `{"query_code", "text", "contact"?}` — no token, a case's status page: linked
  to that case; 404 for an unknown query code; 429 `too_many_complaints` past
  `complaints.public_per_case_per_day` for that case today.
- Steps `POST /api/v1/complaints/{id}/<step>` → 200 the complaint with its steps:
  `classify` `{"class": "simple"|"complex"|"special", "text"?}` (supervisor); `assign` `{"department", "text"?}`
  (supervisor; again while assigned to pass it on); `answer` `{"text"}` (the account of the assigned department
  only: another department 403 `not_your_department`; SMS with the answer); `feedback` `{"text"}` (supervisor or
  the clerk signed in at the 办不成事 window); `check` `{"text"?}`, `file` `{"text"?}` (supervisor); `close`
  `{"reason": "court"|"petition"|"other", "text"?}` (supervisor, before the answer: out of scope).
  403 `role_forbidden` for a wrong role, 409 `complaint_state` for a wrong order, 422 for a bad body.
- `GET /api/v1/complaints/{id}` (supervisor, clerk, department: its own) — the complaint with steps; the contact
  whole only for a supervisor and the 办不成事 window's clerk.
- `GET /api/v1/complaints?status=open|registered|…&class=&department=&overdue=true|false&limit=` →
  `{"complaints": [...]}`, contacts masked.
- `GET /api/v1/complaints.csv?status=` (supervisor) — the 台账, UTF-8 with BOM, contacts masked.
Events: `complaint.registered|classified|assigned|answered|fed_back|checked|filed|closed|deadline` (number,
status, class, department, due, by: never the text, name or phone); `alert.raised` kind `complaint_overdue` /
`complaint_due_soon` when a step turns red / amber.
"""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from ..accounts.auth import Principal
from ..runtime import Hall
from .deps import current, get_hall, require
from .models import Body

router = APIRouter(prefix="/api/v1", tags=["complaints"])


class Contact(Body):
    name: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=24)


class ComplaintRequest(Body):
    text: str = Field(min_length=1, max_length=2000, description="what could not be done, in the citizen's words")
    case: int | None = Field(default=None, description="the case it is about")
    matter: str | None = Field(default=None, max_length=40)
    window: int | None = Field(default=None, ge=1, le=999)
    department: str | None = Field(default=None, max_length=100)
    contact: Contact | None = None


class PublicComplaintRequest(Body):
    query_code: str = Field(min_length=1, max_length=40, description="the case's query code (受理通知书)")
    text: str = Field(min_length=1, max_length=2000)
    contact: Contact | None = None


class ClassifyRequest(Body):
    class_: Literal["simple", "complex", "special"] = Field(alias="class")
    text: str | None = Field(default=None, max_length=1000)


class AssignRequest(Body):
    department: str = Field(min_length=1, max_length=100)
    text: str | None = Field(default=None, max_length=1000)


class TextRequest(Body):
    text: str = Field(min_length=1, max_length=2000)


class NoteRequest(Body):
    text: str | None = Field(default=None, max_length=1000)


class CloseRequest(Body):
    reason: Literal["court", "petition", "other"]
    text: str | None = Field(default=None, max_length=1000)


def _contact(c: Contact | None) -> dict | None:
    return c.model_dump() if c else None


@router.post("/complaints", status_code=201, summary="Register a 办不成事 complaint (window 7's clerk, a kiosk)")
async def register(body: ComplaintRequest, hall: Hall = Depends(get_hall), who: Principal = Depends(current)) -> dict:
    return await hall.complaints.register(who, text=body.text, case=body.case, matter=body.matter, window=body.window,
                                          department=body.department, contact=_contact(body.contact))


@router.post("/complaints/public", status_code=201, summary="Register one from a case's status page (no token)")
async def register_public(body: PublicComplaintRequest, hall: Hall = Depends(get_hall)) -> dict:
    return await hall.complaints.register_public(query_code=body.query_code, text=body.text,
                                                 contact=_contact(body.contact))


@router.get("/complaints.csv", summary="The 台账 of complaints, CSV (UTF-8 with BOM)")
async def ledger(status: str | None = Query(None, max_length=20), hall: Hall = Depends(get_hall),
                 who: Principal = Depends(require("supervisor"))) -> Response:
    hall.complaints.complaints(who, status=status, limit=1)       # the status checked (422) before the file
    return Response(hall.complaints.ledger_csv(status), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="complaints.csv"'})


@router.get("/complaints", summary="Complaints, newest first; contacts masked")
async def listing(status: str | None = Query(None, max_length=20),
                  class_: Literal["simple", "complex", "special"] | None = Query(None, alias="class"),
                  department: str | None = Query(None, max_length=100), overdue: bool | None = None,
                  limit: int = Query(500, ge=1, le=2000), hall: Hall = Depends(get_hall),
                  who: Principal = Depends(current)) -> dict:
    return {"complaints": hall.complaints.complaints(who, status=status, cls=class_, department=department,
                                                     overdue=overdue, limit=limit)}


@router.get("/complaints/{cid}", summary="One complaint with its steps")
async def one(cid: int, hall: Hall = Depends(get_hall), who: Principal = Depends(current)) -> dict:
    return hall.complaints.complaint(who, cid)


async def _step(hall: Hall, who: Principal, cid: int, action: str, body: dict) -> dict:
    return await hall.complaints.step(who, cid, action, body)


@router.post("/complaints/{cid}/classify", summary="分类: simple (on the spot), complex (5), special (10)")
async def classify(cid: int, body: ClassifyRequest, hall: Hall = Depends(get_hall),
                   who: Principal = Depends(current)) -> dict:
    return await _step(hall, who, cid, "classify", {"cls": body.class_, "text": body.text})


@router.post("/complaints/{cid}/assign", summary="转办 to the responsible department")
async def assign(cid: int, body: AssignRequest, hall: Hall = Depends(get_hall),
                 who: Principal = Depends(current)) -> dict:
    return await _step(hall, who, cid, "assign", body.model_dump())


@router.post("/complaints/{cid}/answer", summary="办结: the assigned department's answer (SMS to the citizen)")
async def answer(cid: int, body: TextRequest, hall: Hall = Depends(get_hall),
                 who: Principal = Depends(current)) -> dict:
    return await _step(hall, who, cid, "answer", body.model_dump())


@router.post("/complaints/{cid}/feedback", summary="反馈: the answer told to the citizen")
async def feedback(cid: int, body: TextRequest, hall: Hall = Depends(get_hall),
                   who: Principal = Depends(current)) -> dict:
    return await _step(hall, who, cid, "feedback", body.model_dump())


@router.post("/complaints/{cid}/check", summary="核查 by a supervisor")
async def check(cid: int, body: NoteRequest | None = None, hall: Hall = Depends(get_hall),
                who: Principal = Depends(current)) -> dict:
    return await _step(hall, who, cid, "check", body.model_dump() if body else {})


@router.post("/complaints/{cid}/file", summary="备案 by a supervisor")
async def file(cid: int, body: NoteRequest | None = None, hall: Hall = Depends(get_hall),
               who: Principal = Depends(current)) -> dict:
    return await _step(hall, who, cid, "file", body.model_dump() if body else {})


@router.post("/complaints/{cid}/close", summary="Out of scope (in court, 信访): closed with its reason")
async def close(cid: int, body: CloseRequest, hall: Hall = Depends(get_hall),
                who: Principal = Depends(current)) -> dict:
    return await _step(hall, who, cid, "close", body.model_dump())
