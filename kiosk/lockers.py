"""The kiosk's 24-hour self-service beyond tickets (issue 16, item 6): collecting a result from the hall's
lockers (自助取件) and printing a case's 受理通知书 again (补打受理通知书) on this kiosk's own printer. The page
asks here; this asks the hall with the kiosk's token (the page never sees it).

    GET  /api/lockers/info              → {"enabled", "working"}: whether the hall has lockers to offer
    POST /api/lockers/pickup            {"code"} | {"swipe"} → the hall's {"pickups": [{token, compartment…}]}
    GET  /api/lockers/pickups/{token}   → how it goes: state opening | open | delivered | failed, door open |
                                          closed | unknown (the locker does not answer just now)
    POST /api/notices/reprint           {"number", "query_code"} | {"number", "swipe"} → {"printed": {ok, device}}

The hall hands over the notice as a printer document (drivers/printer/notice.py) unless it owns this kiosk's
printer and printed it itself. A print that fails loses nothing: the answer says so and the hall gets an alert.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from .hall_client import HallRefused, HallUnreachable

if TYPE_CHECKING:
    from .runtime import Kiosk

log = logging.getLogger(__name__)


class PickupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(default=None, max_length=12)
    swipe: str | None = Field(default=None, max_length=40)


class ReprintRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(default="", max_length=40)
    query_code: str | None = Field(default=None, max_length=40)
    swipe: str | None = Field(default=None, max_length=40)


def _error(status: int, code: str, zh: str, en: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message_zh": zh, "message_en": en}}, status_code=status)


def notice_document(doc: dict, width: int):
    """The hall's printout of a notice (a Notice's fields as JSON) as this printer's document."""
    from drivers.printer.notice import Field as Line
    from drivers.printer.notice import Notice, SignLine  # here: python-escpos takes a while to import

    lines: list[Any] = []
    for line in doc.get("lines", ()):
        if isinstance(line, str):
            lines.append(line)
        elif "blank" in line:
            lines.append(SignLine(line["label"], line.get("blank", "")))
        else:
            lines.append(Line(line["label"], line["value"], line.get("sep", "：")))
    keep = ("title", "heading", "reference", "qr_url", "qr_caption", "closing", "footer")
    return Notice(**{k: doc[k] for k in keep if k in doc}, lines=lines, width=width)


def locker_routes(kiosk: Kiosk) -> APIRouter:
    router = APIRouter()

    async def hall(method: str, path: str, **kw: Any) -> Any:
        # HallClient's own request path (token, errors as HallRefused / HallUnreachable)
        return await kiosk.client._call(method, path, **kw)

    @router.get("/api/lockers/info")
    async def info() -> dict:
        try:
            return await hall("GET", "/api/v1/lockers/info")
        except (HallRefused, HallUnreachable):
            return {"enabled": False, "working": False}

    @router.post("/api/lockers/pickup", response_model=None)
    async def pickup(body: PickupRequest) -> dict | JSONResponse:
        if not (body.code or body.swipe):
            return _error(422, "code_empty", "请输入短信中的6位取件码，或刷申请人身份证",
                          "Type the 6-digit pickup code from your SMS, or place the applicant's ID card on the reader")
        ask = {"code": body.code} if body.code else {"swipe": body.swipe}
        return await hall("POST", "/api/v1/lockers/pickup", json={**ask, "kiosk": kiosk.name})

    @router.get("/api/lockers/pickups/{token}")
    async def pickup_status(token: str = Path(min_length=8, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")) -> dict:
        return await hall("GET", f"/api/v1/lockers/pickups/{token}")

    @router.post("/api/notices/reprint", response_model=None)
    async def reprint(body: ReprintRequest) -> dict | JSONResponse:
        number = body.number.strip()
        if not number or not (body.query_code or body.swipe):
            return _error(422, "reprint_empty", "请输入办件编号，并输入查询码或刷申请人身份证",
                          "Type the case number, then the query code or place the applicant's ID card on the reader")
        proof = {"query_code": body.query_code.strip()} if body.query_code else {"swipe": body.swipe}
        answer = await hall("POST", "/api/v1/kiosk/acceptance-notice",
                            json={"number": number, **proof, "kiosk": kiosk.name})
        if "printed" in answer:
            return {"number": answer["number"], "printed": answer["printed"]}
        outcome = await asyncio.to_thread(_print, kiosk, answer["document"])
        if not outcome["ok"]:
            try:
                await kiosk.client.alert(kiosk.name, "print_failed", outcome["device"],
                                         f"{answer['number']} 受理通知书未能补打 / acceptance notice not reprinted: "
                                         f"{outcome['error']}")
            except (HallRefused, HallUnreachable) as exc:
                log.warning("could not raise the print_failed alert: %s", exc)
            return JSONResponse({"error": {
                "code": "print_failed", "device": outcome["device"],
                "message_zh": f"受理通知书未能打印（{outcome['error']}），请稍后再试，或在办公时间到窗口补打",
                "message_en": f"The notice could not be printed ({outcome['error']}): try again later, or ask at a "
                              "window during opening hours"}}, status_code=503)
        return {"number": answer["number"], "printed": outcome}

    return router


def _print(kiosk: Kiosk, doc: dict) -> dict:
    printer = kiosk.devices.devices.get("printer")
    if printer is None:
        return {"ok": False, "device": None, "error": "this kiosk has no printer"}
    try:
        with kiosk.devices.use("printer") as dev:
            dev.print_notice(notice_document(doc, getattr(dev, "width", 80)))
    except Exception as exc:     # DeviceUnavailable, PrintError or any driver failure
        reason = str(exc) or type(exc).__name__
        log.warning("acceptance notice not printed: %s", reason)
        return {"ok": False, "device": printer.name, "error": reason}
    return {"ok": True, "device": printer.name}
