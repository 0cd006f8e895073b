"""Seat monitoring (座席监控): each watched window's seat, today's on-seat time, and 离岗 evidence."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..accounts.auth import Principal
from ..errors import NotFound
from ..runtime import Hall
from .deps import WATCHERS, get_hall, require

router = APIRouter(prefix="/api/v1", tags=["seats"])


@router.get("/seats", summary="Every watched window's seat: present/away/unknown, since when, alert, time today")
async def seats(hall: Hall = Depends(get_hall), who: Principal = Depends(require(*WATCHERS))) -> list[dict]:
    return hall.seats.status()


@router.get("/seats/time", summary="On-seat, away and unknown seconds per window and clerk on a day (default today)")
async def seat_time(day: date | None = None, hall: Hall = Depends(get_hall),
                    who: Principal = Depends(require("supervisor", "admin"))) -> list[dict]:
    return hall.seats.time_rows(day.isoformat() if day else hall.engine.today())


@router.get("/evidence/{evidence_id}", summary="The snapshot kept as evidence of a 离岗 alert (JPEG; blurred "
            "outside the seat region; deleted after seat_monitoring.evidence_days)",
            response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
async def evidence(evidence_id: int, hall: Hall = Depends(get_hall),
                   who: Principal = Depends(require("supervisor", "admin"))) -> Response:
    row = hall.store.read.execute("SELECT path, deleted_at FROM evidence WHERE id=?", (evidence_id,)).fetchone()
    if row is None or row[1] is not None or not Path(row[0]).exists():
        raise NotFound("evidence_not_found", "没有这张证据截图，或已过保存期限被删除",
                       f"no evidence snapshot {evidence_id}, or it was deleted when it expired "
                       "(seat_monitoring.evidence_days)", evidence=evidence_id)
    return Response(Path(row[0]).read_bytes(), media_type="image/jpeg", headers={"Cache-Control": "no-store"})
