"""Request and response bodies of the cases API (design.md, "Cases"): unknown fields are refused."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .models import Body

MaterialState = Literal["original", "copy", "electronic", "missing", "n/a"]
Text = Field(min_length=1, max_length=500)


class Person(Body):
    name: str = Field(min_length=1, max_length=40)
    phone: str | None = Field(default=None, pattern=r"^[0-9+\- ]{3,20}$")
    id_number: str | None = Field(default=None, max_length=20, description="kept only masked and as a keyed hash")


class Collector(Person):
    proxy: bool = Field(default=False, description="代领: collected for the applicant with an authorisation")
    authorisation: str | None = Field(default=None, max_length=200, description="代领: the authorisation seen "
                                      "(委托书, its date or number); required when proxy")


class Material(Body):
    name: str = Field(min_length=1, max_length=100, description="the item as the matter's checklist words it")
    state: MaterialState


class CaseRequest(Body):
    matter: str = Field(min_length=1, max_length=40)
    ticket: int | None = Field(default=None, ge=1, le=2**62)
    channel: Literal["window", "courier", "proxy", "cross_region"] = "window"
    applicant: Person
    agent: Person | None = Field(default=None, description="代办人, when someone applies for the applicant")
    materials: list[Material] = Field(default_factory=list, max_length=100)


class SupplementRequest(Body):
    missing: list[str] = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=500)


class MaterialsRequest(Body):
    materials: list[Material] = Field(min_length=1, max_length=100)


class ReasonBody(Body):
    reason: str = Text


class RefuseRequest(ReasonBody):
    competent_organ: str | None = Field(default=None, max_length=100, description="the organ that is competent, "
                                        "when the hall is not (行政许可法 §32.2)")


class DepartmentBody(Body):
    department: str | None = Field(default=None, max_length=100, description="联办: the department's task")


class SuspendRequest(DepartmentBody):
    reason: str = Text


class ReassignRequest(DepartmentBody):
    to: str = Field(min_length=1, max_length=64, description="the officer (a department account) taking it over")


class ExtendRequest(Body):
    working_days: int = Field(ge=1, le=30)
    reason: str = Text
    approver: str | None = Field(default=None, max_length=64, description="who approved (default: the caller)")


class ReportRequest(Body):
    opinion: str = Text
    authority: str | None = Field(default=None, max_length=100)


class DecideRequest(DepartmentBody):
    outcome: Literal["approved", "rejected"]
    opinion: str | None = Field(default=None, max_length=2000)


class ReadyRequest(Body):
    via: Literal["window", "mail", "locker"]
    address: str | None = Field(default=None, max_length=300)


class DeliverRequest(Body):
    collector: Collector | None = None
    waybill: str | None = Field(default=None, max_length=40)


class LookupRequest(Body):
    number: str | None = Field(default=None, max_length=40)
    query_code: str | None = Field(default=None, max_length=40)
    swipe: str | None = Field(default=None, max_length=40, description="an ID-card swipe at this kiosk")


class Task(BaseModel):
    department: str
    state: Literal["open", "claimed", "decided", "closed"]
    claimed_by: str | None
    outcome: str | None
    opinion: str | None
    decided_at: str | None


class HistoryItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    at: str
    action: str
    by: str | None
    status: str | None


class CaseOut(BaseModel):
    """A case (stable fields per design.md; more may be added)."""
    model_config = ConfigDict(extra="allow")
    id: int
    number: str
    query_code: str
    matter: str
    kind: str
    status: str
    outcome: str | None
    missing: list[str]
    due: str | None = Field(description="promised due date, YYYY-MM-DD, set at accept")
    legal_due: str | None
    suspended_days: int
    deadline: Literal["ok", "amber", "red"]
    departments: list[Task]
    history: list[HistoryItem] | None = None


class CaseList(BaseModel):
    cases: list[CaseOut]
    next_before: int | None = Field(description="pass as `before` for the next (older) page")
    more: bool


class CaseStatusOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    number: str
    matter_name: str
    status: str
    due: str | None
    steps: list[dict]
