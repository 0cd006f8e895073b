"""What kiosk programs (kiosk/) tell the hall server: the health of the devices they own, and alerts.

A kiosk program drives its own printer and ID-card reader; it reports them here every `interval_s`
seconds, so `/api/v1/health` and the dashboard show them beside the server's own devices. Alerts (a
failed print, paper running low) become `alert.raised` events, as the server's own do.
"""
from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Path
from pydantic import Field, model_validator

from ..accounts.auth import Principal
from ..config import DeviceKind
from ..errors import Conflict, ticket_not_found
from ..hardware.alerts import raise_alert
from ..hardware.remote import DeviceNameTaken
from ..runtime import Hall
from .deps import STAFF, get_hall, require
from .models import Body

router = APIRouter(prefix="/api/v1", tags=["kiosks"])
MAX_DEVICES = 16
NAME = r"^[a-z0-9][a-z0-9_-]*$"


class ReportedDevice(Body):
    name: str = Field(max_length=64, pattern=NAME, description="e.g. kiosk2-printer")
    kind: DeviceKind
    url: str = Field(min_length=4, max_length=300, description="the driver URL the kiosk opened it with")
    state: Literal["ok", "degraded", "offline", "fault"]
    detail: str = Field(default="", max_length=300, description="what a person can act on, e.g. paper near end")


class DevicesReport(Body):
    devices: list[ReportedDevice] = Field(max_length=MAX_DEVICES, description="all of the kiosk's devices: "
                                          "one it no longer reports is dropped")
    interval_s: float = Field(default=15, ge=1, le=300, description="seconds until the next report; after three "
                              "intervals without one the devices are shown offline")

    @model_validator(mode="after")
    def _unique(self) -> DevicesReport:
        names = [d.name for d in self.devices]
        if len(set(names)) < len(names):
            raise ValueError(f"devices: a name is given twice ({sorted({n for n in names if names.count(n) > 1})})")
        return self


class AlertRequest(Body):
    kind: str = Field(pattern=r"^[a-z_]{1,40}$", description="print_failed, paper_low, paper_out, device_offline, "
                      "card_read_failed, …")
    device: str | None = Field(default=None, max_length=64)
    detail: str = Field(default="", max_length=300)
    ticket_id: int | None = Field(default=None, ge=1)
    kiosk: str | None = Field(default=None, max_length=40)


@router.put("/kiosks/{kiosk}/devices", summary="A kiosk program reports the health of the devices it owns")
async def report_devices(body: DevicesReport, kiosk: str = Path(max_length=40, pattern=NAME),
                         hall: Hall = Depends(get_hall),
                         who: Principal = Depends(require("kiosk", "technician"))) -> dict:
    devices = [{**d.model_dump(), "url": redact_url(d.url)} for d in body.devices]
    try:
        shown = await hall.devices.report(kiosk, devices, body.interval_s)
    except DeviceNameTaken as exc:
        whose_zh, whose = (f"自助机 {exc.owner}", f"kiosk {exc.owner}") if exc.owner else ("服务器", "the hall server")
        raise Conflict("device_name_taken",
                       f"设备名 {exc.name} 已被{whose_zh}使用，请给本机设备另起名称（如 kiosk2-printer）",
                       f"the device name {exc.name!r} is already used by {whose}; give this kiosk's device its own "
                       "name, e.g. kiosk2-printer", device=exc.name) from None
    return {"kiosk": kiosk, "interval_s": body.interval_s, "devices": shown}


@router.post("/alerts", status_code=201, summary="Raise an alert for supervisors (kiosk programs and staff)")
async def post_alert(body: AlertRequest, hall: Hall = Depends(get_hall),
                     who: Principal = Depends(require("kiosk", *STAFF))) -> dict:
    if body.ticket_id is not None and hall.views.ticket(hall.store.read, body.ticket_id, hall.clock.now()) is None:
        raise ticket_not_found(body.ticket_id)
    extra = {"kiosk": body.kiosk} if body.kiosk else {}
    event = await raise_alert(hall.store, hall.clock, body.kind, body.device, body.detail, ticket_id=body.ticket_id,
                              by=who.username, **extra)
    return {"seq": event["seq"], "at": event["at"], **event["data"]}


def redact_url(url: str) -> str:
    """A device URL without a password in it (user:secret@host)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
