"""The courier register (快递签收登记) at the comprehensive windows: parcels of application materials signed in,
attached to a case or opened as a case with channel `courier`, and sorted to the deciding department.

    POST /api/v1/parcels                 {courier, waybill, sender_name, sender_phone, contents, case?, matter?} → 201
    POST /api/v1/parcels/{id}/attach     {case: id or number}         → the parcel (409 when the case is final)
    POST /api/v1/parcels/{id}/open-case  {matter?, applicant, materials, applicant_is_sender?} → 201 {parcel, case}
    POST /api/v1/parcels/{id}/sort       {department}                 → the parcel
    GET  /api/v1/parcels?attached=false&sorted=&case=&department=&waybill=&limit=&before=
    GET  /api/v1/parcels/{id} · GET /api/v1/parcels/options  (the couriers and departments the form offers)

Clerks and supervisors; department officers read (the list and one parcel) the parcels of their departments: sorted
to one of them, or attached to a case one of them decides (another's: 403 not_your_department). The sender's phone
is kept for the staff to call back, shown only masked (138****0000), and never written to an event or a log."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from ..accounts.auth import Principal
from ..courier.service import Parcels
from ..runtime import Hall
from .case_models import CaseOut, Material
from .deps import get_hall, require
from .models import Body

router = APIRouter(prefix="/api/v1", tags=["courier"])
ParcelId = Path(ge=1, le=2**62, description="the parcel's id (its 登记号)")
STAFF = ("clerk", "supervisor")
READERS = (*STAFF, "department")      # department officers: their departments' parcels only
CaseRef = Annotated[int, Field(ge=1, le=2**62)] | Annotated[str, Field(min_length=1, max_length=40)]


class ParcelRequest(Body):
    # the register itself checks each field and names its problem in both languages (courier/rules.py); these
    # bounds only keep bodies small
    courier: str = Field(default="", max_length=300, description="required: one of GET …/parcels/options' "
                         "couriers, or another courier's name (1–40 characters)")
    waybill: str = Field(default="", max_length=300, description="required: 6–30 letters, digits or dashes "
                         "(spaces are dropped, letters upper-cased); unique per courier")
    sender_name: str = Field(default="", max_length=300, description="required: a person or an organisation")
    sender_phone: str = Field(default="", max_length=300, description="required: shown only masked")
    contents: str = Field(default="", max_length=1000, description="required: what the parcel holds")
    case: CaseRef | None = Field(default=None, description="attach at once: a case's id or number")
    matter: str | None = Field(default=None, max_length=40, description="the matter the materials apply for")


class AttachRequest(Body):
    case: CaseRef = Field(description="the case's id or number (XL-20261203-0012)")


class Applicant(Body):
    name: str = Field(default="", max_length=40, description="required unless applicant_is_sender")
    phone: str | None = Field(default=None, pattern=r"^[0-9+\- ]{3,20}$")
    id_number: str | None = Field(default=None, max_length=20, description="kept only masked and as a keyed hash")


class OpenCaseRequest(Body):
    matter: str | None = Field(default=None, max_length=40, description="default: the parcel's matter")
    applicant: Applicant = Field(default_factory=Applicant)
    applicant_is_sender: bool = Field(default=False, description="the sender applies: their name and phone "
                                      "where the applicant's are not given")
    materials: list[Material] = Field(default_factory=list, max_length=100)


class SortRequest(Body):
    department: str = Field(default="", max_length=100, description="one of GET …/parcels/options' departments")


class Sender(BaseModel):
    name: str
    phone_masked: str


class ParcelCase(BaseModel):
    id: int
    number: str
    status: str
    matter: str
    matter_name: str
    kind: str
    departments: list[str]


class ParcelOut(BaseModel):
    id: int
    courier: str
    waybill: str
    sender: Sender
    contents: str
    matter: str | None
    matter_name: str | None
    status: str = Field(description="registered | attached | sorted")
    case: ParcelCase | None
    department: str | None
    window: int | None
    registered_at: str
    registered_by: str
    attached_at: str | None
    attached_by: str | None
    sorted_at: str | None
    sorted_by: str | None


class ParcelList(BaseModel):
    parcels: list[ParcelOut]
    next_before: int | None = Field(description="pass as `before` for the next (older) page")
    more: bool


class OpenedOut(BaseModel):
    parcel: ParcelOut
    case: CaseOut


class Options(BaseModel):
    couriers: list[str]
    departments: list[str]


async def get_parcels(hall: Hall = Depends(get_hall)) -> Parcels:
    """The hall's register (`Hall.parcels`, made in runtime.py)."""
    return hall.parcels


@router.get("/parcels/options", response_model=Options, summary="The couriers and departments the register offers")
async def parcel_options(parcels: Parcels = Depends(get_parcels), _: Principal = Depends(require(*STAFF))) -> dict:
    return parcels.options()


@router.post("/parcels", status_code=201, response_model=ParcelOut,
             summary="Sign a parcel in (registered); with `case`, attached to that case at once",
             responses={409: {"description": "the waybill is registered already, or the case is final"},
                        422: {"description": "a field is missing or wrong (each named, in Chinese and English)"}})
async def register_parcel(body: ParcelRequest, parcels: Parcels = Depends(get_parcels),
                          who: Principal = Depends(require(*STAFF))) -> dict:
    return await parcels.register(who, **body.model_dump())


@router.get("/parcels", response_model=ParcelList, summary="Parcels, newest first, paged")
async def list_parcels(attached: bool | None = Query(None, description="false: not attached to a case yet"),
                       sorted_: bool | None = Query(None, alias="sorted",
                                                    description="false: not sorted to a department yet"),
                       case: int | None = Query(None, ge=1, le=2**62, description="the parcels of this case"),
                       department: str | None = Query(None, max_length=100),
                       waybill: str | None = Query(None, max_length=40),
                       limit: int = Query(50, ge=1, le=200), before: int | None = Query(None, ge=1, le=2**62),
                       parcels: Parcels = Depends(get_parcels), who: Principal = Depends(require(*READERS))) -> dict:
    return parcels.list(who, attached=attached, sorted_=sorted_, case_id=case, department=department,
                        waybill=waybill.replace(" ", "").upper() if waybill else None, limit=limit, before=before)


@router.get("/parcels/{parcel_id}", response_model=ParcelOut, summary="One parcel")
async def get_parcel(parcel_id: int = ParcelId, parcels: Parcels = Depends(get_parcels),
                     who: Principal = Depends(require(*READERS))) -> dict:
    return parcels.get(parcel_id, who)


@router.post("/parcels/{parcel_id}/attach", response_model=ParcelOut,
             summary="Attach the parcel to a case: its arrival goes into the case's history",
             responses={409: {"description": "the case is final (refused, delivered, withdrawn), or the parcel is "
                              "attached already"}})
async def attach_parcel(body: AttachRequest, parcel_id: int = ParcelId, parcels: Parcels = Depends(get_parcels),
                        who: Principal = Depends(require(*STAFF))) -> dict:
    return await parcels.attach(who, parcel_id, body.case)


@router.post("/parcels/{parcel_id}/open-case", status_code=201, response_model=OpenedOut,
             summary="Take a case in from the parcel (channel courier) and attach the parcel to it")
async def open_case(body: OpenCaseRequest, parcel_id: int = ParcelId, parcels: Parcels = Depends(get_parcels),
                    hall: Hall = Depends(get_hall), who: Principal = Depends(require(*STAFF))) -> dict:
    parcel, case_id = await parcels.open_case(
        who, parcel_id, matter=body.matter, applicant=body.applicant.model_dump(exclude_none=True),
        applicant_is_sender=body.applicant_is_sender, materials=[m.model_dump() for m in body.materials])
    return {"parcel": parcel, "case": hall.cases.get(case_id, who)}


@router.post("/parcels/{parcel_id}/sort", response_model=ParcelOut,
             summary="Sort the parcel to the department that decides it (again: a correction)")
async def sort_parcel(body: SortRequest, parcel_id: int = ParcelId, parcels: Parcels = Depends(get_parcels),
                      who: Principal = Depends(require(*STAFF))) -> dict:
    return await parcels.sort(who, parcel_id, body.department)
