"""24-hour self-service: a citizen prints their case's 受理通知书 again at a kiosk (补打受理通知书), after hours.

    POST /api/v1/kiosk/acceptance-notice {number, query_code | swipe, kiosk}

The case number alone is not enough (numbers run in sequence): the citizen proves the case is theirs with its
query code (on the notice and in the acceptance SMS) or by swiping the applicant's ID card. A kiosk whose
printer the hall owns (a [[devices]] printer with kiosk = …) has it printed there: `{"printed": {ok, device}}`;
otherwise the answer carries the printout (`document`: the fields of drivers/printer/notice.py's `Notice`, laid
out by cases/notices.py `printed` as at the windows; each line a string, a Field {label, value, sep} or a
SignLine {label, blank}) for the kiosk program to print on its own printer, at its own width. Either way a
`notice.reprinted` event records it (the case number and the kiosk, no name).
"""
from __future__ import annotations

import asyncio
import dataclasses
import hmac
import logging
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import Field, model_validator

from ..accounts.auth import Principal
from ..cases.notices import check_available, notice_for, printed
from ..errors import HallError, NotFound
from ..hardware.alerts import raise_alert
from ..lockers.views import swiped
from ..runtime import Hall
from ..store.events import event_change
from .deps import get_hall, require
from .models import Body

log = logging.getLogger(__name__)
router = APIRouter(tags=["kiosk"])       # its path is under /api/v1: api/lockers.py includes it
OPENING_WAIT_S = 5.0


class ReprintRequest(Body):
    number: str = Field(min_length=6, max_length=40, description="the case number, e.g. XL-20261124-0012")
    query_code: str | None = Field(default=None, min_length=8, max_length=40)
    swipe: str | None = Field(default=None, max_length=40, description="the applicant's ID-card swipe here")
    kiosk: str | None = Field(default=None, max_length=40, description="the kiosk program's name")

    @model_validator(mode="after")
    def _proof(self) -> ReprintRequest:
        if not (self.query_code or self.swipe):
            raise ValueError("give the case's `query_code` or the `swipe` of the applicant's ID card")
        return self


def _not_matched(number: str) -> NotFound:
    return NotFound("case_not_matched",
                    f"没有找到与所给查询码或身份证相符的办件 {number}："
                    "请核对受理通知书或短信上的办件编号，或刷申请人本人的身份证",
                    f"no case {number} matches that query code or ID card: check the case number on your notice or "
                    "SMS, or swipe the applicant's own ID card", number=number)


@router.post("/kiosk/acceptance-notice",
             summary="Print a case's 受理通知书 again at a kiosk (proof: its query code or the applicant's swipe)",
             responses={404: {"description": "case_not_matched"},
                        409: {"description": "notice_not_available: the case was never accepted"},
                        503: {"description": "print_failed on the hall-owned kiosk printer"}})
async def reprint(body: ReprintRequest, request: Request, hall: Hall = Depends(get_hall),
                  who: Principal = Depends(require("kiosk", "supervisor"))):
    number = body.number.strip().upper()
    row = hall.store.read.execute("SELECT id, query_code, applicant_hash FROM cases WHERE number=?",
                                  (number,)).fetchone()
    if row is None:
        raise _not_matched(number)
    by_code = bool(body.query_code) and hmac.compare_digest(row["query_code"], body.query_code.strip())
    citizen = swiped(hall.store.read, body.swipe, body.kiosk, hall.clock.now()) if body.swipe else None
    if not (by_code or (citizen and row["applicant_hash"] and hmac.compare_digest(citizen, row["applicant_hash"]))):
        raise _not_matched(number)
    case = hall.cases.get(row["id"])
    check_available(case, "acceptance")
    base = hall.cfg.hall.public_url or str(request.base_url)
    today = hall.clock.now().astimezone(ZoneInfo(hall.cfg.hall.timezone)).date()
    notice = notice_for(case, "acceptance", hall.cfg, base, today)
    kiosk = body.kiosk or who.username
    printer = hall.printing.printer_for(kiosk)
    answer: dict = {"case": row["id"], "number": number, "notice_kind": "acceptance"}
    if printer is None:
        answer["document"] = dataclasses.asdict(printed(notice, 80))
    else:
        try:
            async with hall.devices.use(printer, wait_s=OPENING_WAIT_S) as dev:
                document = printed(notice, getattr(dev, "width", 80))
                await asyncio.to_thread(dev.print_notice, document)
        except Exception as exc:     # the case is unchanged; the citizen may try again or ask at the window
            reason = str(exc) or type(exc).__name__
            log.warning("acceptance notice of %s not printed on %s: %s", number, printer, reason)
            await raise_alert(hall.store, hall.clock, "print_failed", printer,
                              f"{number} 受理通知书未能补打 / acceptance notice not reprinted: {reason}",
                              by=who.username, kiosk=kiosk)
            err = HallError("print_failed", f"受理通知书未能打印（{reason}），请稍后再试或在办公时间到窗口补打",
                            f"the acceptance notice could not be printed ({reason}): try again later, or ask at a "
                            "window during opening hours", status=503, device=printer)
            return JSONResponse(err.body(), status_code=503)
        answer["printed"] = {"ok": True, "device": printer}
    await hall.store.write(event_change("notice.reprinted", hall.clock.now(), {
        "case": row["id"], "number": number, "notice": "acceptance", "kiosk": kiosk, "device": printer,
        "proof": "query_code" if by_code else "swipe", "by": who.username},
        actor=who.username, case_id=row["id"]))
    return answer
