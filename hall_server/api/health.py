"""Server and device health: the database, and every configured device as its supervisor last saw it."""
from __future__ import annotations

import json
import os
import resource
import sqlite3
import time

from fastapi import APIRouter, Depends

from ..runtime import Hall
from .deps import get_hall

router = APIRouter(prefix="/api/v1", tags=["health"])


@router.get("/health", summary="Server and device health")
async def health(hall: Hall = Depends(get_hall)) -> dict:
    read = hall.store.read
    try:
        read.execute("SELECT value FROM meta WHERE key='service_day'").fetchone()
        db_ok, db_detail = True, "ok"
    except sqlite3.Error as exc:  # reported, not raised: health must answer when the store cannot
        db_ok, db_detail = False, str(exc)
    st = os.statvfs(hall.store.path.parent)
    await hall.devices.check_remote()       # a silent kiosk's devices: their event first, then the answer
    devices = hall.devices.snapshot()
    working = all(d["state"] in ("ok", "degraded") for d in devices)
    out = {
        "status": "fault" if not db_ok else ("ok" if working else "degraded"),
        "hall": hall.cfg.hall.code,
        "service_day": hall.engine.today(),
        "uptime_s": round(time.monotonic() - hall.started_monotonic, 1),
        "latest_seq": hall.bus.latest_seq,
        "database": {"ok": db_ok, "detail": db_detail, "path": str(hall.store.path), "commits": hall.store.commits,
                     "size_bytes": hall.store.path.stat().st_size, "free_bytes": st.f_bavail * st.f_frsize},
        "memory_max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "devices": devices,
        "announcer": hall.announcer.status(),
        "seat_worker": hall.seats.worker_status(),
        "sms_outbox": {"device": hall.cfg.sms.device or None, **hall.outbox.counts(read)},
        "stats": hall.stats.projector.status(),      # lag_events: committed events not yet in the statistics
    }
    if hall.rollup is not None:     # issue 19: shipping to the district; a warning in it, never a failed health
        out["rollup"] = hall.rollup.status(read)
        out["rollup"]["commands"] = hall.commands.status()      # the district's commands for this hall's cases
    return out


@router.get("/alerts", summary="What supervisors should look at: devices not working well, and today's alerts")
async def alerts(hall: Hall = Depends(get_hall)) -> dict:
    await hall.devices.check_remote()
    devices = [d for d in hall.devices.snapshot() if d["state"] != "ok"]
    day_start = hall.views.day_start(hall.clock.now())
    rows = hall.store.read.execute(
        "SELECT seq, at, data FROM events WHERE type='alert.raised' AND at >= ? ORDER BY seq DESC LIMIT 200",
        (day_start,)).fetchall()
    return {"devices": devices,
            "alerts": [{"seq": r["seq"], "at": r["at"], **json.loads(r["data"])} for r in rows]}
