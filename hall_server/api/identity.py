"""ID-card swipes at kiosks, and appointments (预约) that a swipe checks in."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query

from drivers.idcard.base import CitizenCard

from ..accounts.auth import Principal
from ..errors import NotFound
from ..identity import citizen as identity
from ..identity import swipes
from ..runtime import Hall
from .deps import STAFF, get_hall, require
from .identity_models import AppointmentOut, AppointmentRequest, SwipeOut, SwipeRequest
from .models import ReasonRequest

router = APIRouter(prefix="/api/v1", tags=["identity"])


@router.post("/swipes", status_code=201, response_model=SwipeOut,
             summary="A card read at a kiosk: greeting, priority, suggestions and today's appointments")
async def swipe(body: SwipeRequest, hall: Hall = Depends(get_hall),
                who: Principal = Depends(require("kiosk", *STAFF))) -> dict:
    c = body.card
    card = CitizenCard(kind=c.kind, name=c.name, id_number=c.id_number.get_secret_value(), valid_to=c.valid_to,
                       long_term=c.long_term)
    ref = identity.citizen_ref(card, hall.identity_key, hall.views.local_date(hall.clock.now()))
    return await hall.write(swipes.record_swipe, hall.engine, ref=ref, kiosk=body.kiosk, device=None,
                            actor=who.username)


@router.get("/swipes/{swipe_id}", response_model=SwipeOut, summary="A swipe, as its kiosk shows it")
async def get_swipe(swipe_id: str, hall: Hall = Depends(get_hall),
                    who: Principal = Depends(require("kiosk", *STAFF))) -> dict:
    now = hall.clock.now()
    out = swipes.swipe_view(hall.store.read, hall.cfg, swipe_id, now, hall.engine.today(now))
    if out is None:
        raise NotFound("swipe_not_found", "没有找到这次刷卡记录，请重新刷卡",
                       "no such swipe: ask the citizen to swipe the card again", swipe=swipe_id)
    return out


@router.post("/appointments", status_code=201, response_model=AppointmentOut,
             summary="Book an appointment for a citizen (a booking channel feeds these)")
async def book(body: AppointmentRequest, hall: Hall = Depends(get_hall),
               who: Principal = Depends(require("supervisor"))) -> dict:
    card = CitizenCard(kind="resident-id", name=body.citizen.name, id_number=body.citizen.id_number.get_secret_value())
    ref = identity.citizen_ref(card, hall.identity_key, hall.views.local_date(hall.clock.now()))
    return await hall.write(swipes.book, hall.engine, ref=ref, matter=body.matter, day=body.day.isoformat(),
                            slot_start=body.slot_start, slot_end=body.slot_end, channel=body.channel, note=body.note,
                            actor=who.username)


@router.get("/appointments", response_model=list[AppointmentOut], summary="A day's appointments (default today)")
async def list_appointments(day: date | None = None, status: str | None = Query(None, pattern="^(booked|checked_in|"
                            "cancelled)$"), hall: Hall = Depends(get_hall),
                            who: Principal = Depends(require(*STAFF))) -> list[dict]:
    sql = f"SELECT {', '.join(swipes.APPOINTMENT_FIELDS)} FROM appointments WHERE service_day=?"
    args: list = [day.isoformat() if day else hall.engine.today(hall.clock.now())]
    if status:
        sql += " AND status=?"
        args.append(status)
    rows = hall.store.read.execute(sql + " ORDER BY slot_start, id", args).fetchall()
    return [dict(zip(swipes.APPOINTMENT_FIELDS, r, strict=True)) for r in rows]


@router.get("/appointments/{appointment_id}", response_model=AppointmentOut, summary="One appointment")
async def get_appointment(appointment_id: int, hall: Hall = Depends(get_hall),
                          who: Principal = Depends(require(*STAFF))) -> dict:
    return swipes.appointment(hall.store.read, appointment_id)


@router.post("/appointments/{appointment_id}/cancel", response_model=AppointmentOut, summary="Cancel a booking")
async def cancel(appointment_id: int, body: ReasonRequest | None = None, hall: Hall = Depends(get_hall),
                 who: Principal = Depends(require("supervisor"))) -> dict:
    return await hall.write(swipes.cancel_appointment, hall.engine, appointment_id, actor=who.username,
                            reason=(body or ReasonRequest()).reason)
