"""Result lockers (智能取件柜): a clerk loads a decided case's result, a citizen collects it at the kiosk at any
hour with the SMS's pickup code or by swiping the applicant's ID card, staff take back what is left too long.

    POST /api/v1/cases/{id}/locker {size?}       open a free compartment → the case + "locker" (state loading);
                                                  the case goes ready, and the code's SMS is queued, once the door
                                                  is seen shut (locker.loaded, case.ready)
    POST /api/v1/lockers/pickup {code | swipe}   (kiosk) open the door(s) → {"pickups": [{token, compartment…}]};
                                                  delivered once the door is seen shut; 5 wrong codes: 429
    GET  /api/v1/lockers/pickups/{token}         (kiosk) how that pickup goes: opening, open, delivered, failed
    GET  /api/v1/lockers · /lockers/overdue      (staff) the compartments; the results left take_back_days
    POST /api/v1/lockers/compartments/{c}/take-back | cancel | in-service
    GET  /api/v1/lockers/info                    (anyone) whether this hall has lockers and they work

Each request answers once its door command is done (in a thread, through the device supervisor; one frame on
the line, ~20 ms): the door being shut is seen by the lockers' door watch, never waited for in a request. The
service is the hall's (`Hall.lockers`, made and started in runtime.py with the other subsystems).
The kiosk's 24-hour reprint of a 受理通知书 is kiosk_notices.py, included here.
"""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import Field, model_validator

from ..accounts.auth import Principal
from ..lockers.service import Lockers, TooManyTries
from ..runtime import Hall
from . import kiosk_notices
from .deps import get_hall, require
from .models import Body

CaseId = Path(ge=1, le=2**62, description="the case's id")
Label = Path(pattern=r"^\d{1,2}-\d{2}$", description='a compartment, as its door is labelled: "1-03"')
STAFF = ("clerk", "supervisor")


router = APIRouter(prefix="/api/v1", tags=["lockers"])
router.include_router(kiosk_notices.router)


async def get_lockers(hall: Hall = Depends(get_hall)) -> Lockers:
    return hall.lockers


class LoadRequest(Body):
    size: Literal["small", "large"] | None = Field(default=None, description="small (the default; a large one "
                                                   "when no small is free) or large")


class PickupRequest(Body):
    code: str | None = Field(default=None, min_length=1, max_length=12, description="the 6-digit pickup code")
    swipe: str | None = Field(default=None, max_length=40, description="the id of the applicant's ID-card swipe "
                              "at this kiosk")
    kiosk: str | None = Field(default=None, max_length=40, description="the kiosk program's name (the swipe's)")

    @model_validator(mode="after")
    def _one(self) -> PickupRequest:
        if (self.code is None) == (self.swipe is None):
            raise ValueError("give either the pickup `code` or the `swipe` of the applicant's ID card")
        return self


@router.post("/cases/{case_id}/locker", summary="Load a decided case's result into a locker compartment",
             responses={409: {"description": "case_state, no_lockers, no_free_compartment, already_in_locker, "
                                             "no_pickup_channel"},
                        503: {"description": "lockers_unavailable: no door could be opened (the case is unchanged)"}})
async def load(case_id: int = CaseId, body: LoadRequest | None = None, hall: Hall = Depends(get_hall),
               lockers: Lockers = Depends(get_lockers), who: Principal = Depends(require(*STAFF))) -> dict:
    locker = await lockers.load(who, case_id, body.size if body else None)
    return {**hall.cases.get(case_id, who), "locker": locker}


@router.post("/lockers/pickup", summary="A citizen at the kiosk: open the door of a pickup code or a swiped card",
             responses={404: {"description": "wrong_code (tries_left), no_locker_result, swipe_not_found"},
                        429: {"description": "too_many_tries: this kiosk takes codes again at retry_at"},
                        503: {"description": "lockers_unavailable: the door did not open, the case stays ready"}})
async def pickup(body: PickupRequest, lockers: Lockers = Depends(get_lockers),
                 who: Principal = Depends(require("kiosk", "supervisor"))):
    try:
        # wrong codes count against the kiosk's account: a kiosk cannot dodge the limit by naming itself anew
        return await lockers.pickup(who, who.username, code=body.code, swipe=body.swipe, kiosk_name=body.kiosk)
    except TooManyTries as exc:
        return JSONResponse(exc.body(), status_code=429, headers={"Retry-After": str(exc.details["retry_after_s"])})


@router.get("/lockers/pickups/{token}", summary="How a pickup goes (the kiosk polls it until delivered)")
async def pickup_status(token: str = Path(min_length=8, max_length=40), lockers: Lockers = Depends(get_lockers),
                        who: Principal = Depends(require("kiosk", *STAFF))) -> dict:
    return lockers.pickup_status(token)


@router.get("/lockers/info", summary="Whether this hall has result lockers, and whether they work (public)")
async def info(lockers: Lockers = Depends(get_lockers)) -> dict:
    return lockers.info()


@router.get("/lockers", summary="The compartments: size, state and the case each holds (no pickup codes)")
async def listing(lockers: Lockers = Depends(get_lockers),
                  who: Principal = Depends(require(*STAFF, "technician"))) -> dict:
    return lockers.listing()


@router.get("/lockers/overdue", summary="Results left in the lockers take_back_days or longer, oldest first")
async def overdue(lockers: Lockers = Depends(get_lockers), who: Principal = Depends(require(*STAFF))) -> dict:
    return lockers.overdue()


@router.post("/lockers/compartments/{label}/take-back",
             summary="Open a compartment and take its result back to the 出件 window (the case stays ready)")
async def take_back(label: str = Label, lockers: Lockers = Depends(get_lockers),
                    who: Principal = Depends(require(*STAFF))) -> dict:
    return await lockers.take_back(who, label)


@router.post("/lockers/compartments/{label}/cancel",
             summary="A load given up while the door stands open: the case stays decided")
async def cancel(label: str = Label, lockers: Lockers = Depends(get_lockers),
                 who: Principal = Depends(require(*STAFF))) -> dict:
    return await lockers.cancel(who, label)


@router.post("/lockers/compartments/{label}/in-service", summary="An empty compartment mended: in service again")
async def in_service(label: str = Label, lockers: Lockers = Depends(get_lockers),
                     who: Principal = Depends(require("technician", "supervisor"))) -> dict:
    return await lockers.in_service(who, label)
