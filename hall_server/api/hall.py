"""The hall, its windows and its queues (read-only; public, since the screens show the same)."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from ..cases.config import case_prefix
from ..clock import is_open, next_opening, opening_span, tickets_open
from ..errors import window_not_found
from ..runtime import Hall
from .deps import get_hall
from .models import WindowOut

router = APIRouter(prefix="/api/v1", tags=["hall"])


@router.get("/hall", summary="The hall, its matter groups, matters and windows")
async def get_hall_info(hall: Hall = Depends(get_hall)) -> dict:
    cfg = hall.cfg
    now = hall.clock.now()
    return {
        "code": cfg.hall.code, "name": cfg.hall.name, "name_en": cfg.hall.name_en, "level": cfg.hall.level,
        "timezone": cfg.hall.timezone, "opening": cfg.hall.opening, "address": cfg.hall.address,
        "phone": cfg.hall.phone, "service_day": hall.engine.today(now),
        "open_now": is_open(now, cfg.hall.timezone, cfg.hall.opening),
        "opening_today": opening_span(now, cfg.hall.timezone, cfg.hall.opening),
        "tickets_open": tickets_open(now, cfg.hall.timezone, cfg.hall.opening, cfg.hall.tickets_before_opening_min),
        "next_opening": nxt.isoformat() if (nxt := next_opening(now, cfg.hall.timezone, cfg.hall.opening)) else None,
        "tickets_before_opening_min": cfg.hall.tickets_before_opening_min,
        "receipt": {"header": list(cfg.receipt.header), "footer": list(cfg.receipt.footer)},
        "case_prefix": case_prefix(cfg.cases, cfg.hall.code),     # case numbers: XL-20261203-0012
        # 办不成事: where it is taken in and the working days its answer takes, as a kiosk tells a citizen
        "complaints": {"window": cfg.complaints.window, "simple_working_days": cfg.complaints.simple_working_days,
                       "complex_working_days": cfg.complaints.complex_working_days,
                       "special_working_days": cfg.complaints.special_working_days},
        "groups": [g.model_dump() for g in cfg.groups],
        "matters": [m.model_dump() for m in cfg.matters],
        "windows": [{"number": w.number, "name": w.name, "zone": w.zone, "staffing": w.staffing,
                     "serves": list(w.serves)} for w in cfg.windows],
    }


@router.get("/queue", summary="Waiting counts and longest waits per matter group and matter, today")
async def get_queue(hall: Hall = Depends(get_hall)) -> dict:
    return hall.views.queue(hall.store.read, hall.clock.now())


@router.get("/windows", response_model=list[WindowOut],
            summary="Every window's state, clerk, current ticket and count served today")
async def get_windows(hall: Hall = Depends(get_hall)) -> list[dict]:
    served = hall.views.served_today(hall.store.read, hall.engine.today())
    return [{**w, "served_today": served.get(w["number"], 0)} for w in hall.views.windows(hall.store.read)]


@router.get("/windows/{number}", response_model=WindowOut, summary="One window")
async def get_window(number: int, hall: Hall = Depends(get_hall)) -> dict:
    if hall.cfg.window(number) is None:
        raise window_not_found(number)
    served = hall.views.served_today(hall.store.read, hall.engine.today())
    return {**hall.views.window(hall.store.read, number), "served_today": served.get(number, 0)}
