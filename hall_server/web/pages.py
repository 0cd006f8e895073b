"""The pages that belong to no API: the hall's landing page, a ticket's status page (the receipt's QR code)
and the offline API reference."""
from __future__ import annotations

import hmac
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ..api.deps import get_hall
from ..errors import ticket_not_found
from ..runtime import Hall
from .templates import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def landing(request: Request, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    return render(request, "index.html", {
        "cfg": hall.cfg, "windows": hall.views.windows(hall.store.read),
        "queue": hall.views.queue(hall.store.read, hall.clock.now()),
        "groups": {g.code: g for g in hall.cfg.groups}})


@router.get("/t/{ticket_id}", response_class=HTMLResponse)
async def ticket_status(request: Request, ticket_id: int, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    """The page a receipt's QR code opens on a citizen's phone."""
    t = hall.views.ticket(hall.store.read, ticket_id, hall.clock.now())
    if t is None:
        raise ticket_not_found(ticket_id)
    issued = datetime.fromisoformat(t["issued_at"]).astimezone(ZoneInfo(hall.cfg.hall.timezone))
    # the receipt's QR link carries the ticket's key: its holder may rate the handling here once (好差评)
    key = request.query_params.get("k")
    key = key if key and hmac.compare_digest(key, hall.feedback.ticket_key(ticket_id)) else None
    return render(request, "ticket_status.html", {"cfg": hall.cfg, "t": t, "key": key,
                                                  "issued_local": issued.strftime("%H:%M")})


@router.get("/api/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    return render(request, "api_docs.html", {"spec": request.app.openapi()})
