"""The SMS outbox for supervisors: what waits, what was sent, what failed (numbers masked)."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query

from ..accounts.auth import Principal
from ..runtime import Hall
from .deps import get_hall, require

router = APIRouter(prefix="/api/v1", tags=["sms"])


@router.get("/outbox", summary="SMS messages to applicants, newest first (numbers masked)")
async def outbox(status: Literal["queued", "sending", "sent", "failed", "uncertain"] | None = None,
                 limit: int = Query(100, ge=1, le=1000), hall: Hall = Depends(get_hall),
                 who: Principal = Depends(require("supervisor", "technician"))) -> dict:
    read = hall.store.read
    return {"counts": hall.outbox.counts(read), "device": hall.cfg.sms.device or None,
            "messages": hall.outbox.listing(read, status, limit)}
