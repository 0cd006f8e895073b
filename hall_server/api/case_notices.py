"""A case's notices (受理通知书, 一次性告知书, 不予受理通知书, and the 领取回执 of a result handed out at a window):
printed on a window's receipt printer, or as an A4 page the clerk's terminal prints from the browser.

    POST /api/v1/cases/{id}/print  {"notice": kind, "window"?: n}  → on the printer configured with window = n
    GET  /cases/{id}/notice/{kind}                                 → the A4 page (bearer token, as the API)

The page carries personal data (the applicant's name), so it asks for a staff token like the API: the
terminal fetches it with its token, writes it into a new window and prints it (static/notice_print.js); its
QR code is an inline SVG and its one stylesheet is /static/notice.css, so it needs no network.

A failed print loses nothing (the case is unchanged; print again or use the A4 page): the answer says why
and supervisors get an alert, as with kiosk tickets (hardware/printing.py)."""
from __future__ import annotations

import asyncio
import logging
from datetime import date
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse
from markupsafe import Markup
from pydantic import Field

from ..accounts.auth import Principal
from ..cases.notices import NAMES_EN, TITLES, NoticeKind, check_available, notice_for, printed, qr_svg
from ..errors import Conflict, HallError, window_not_found
from ..hardware.alerts import raise_alert
from ..runtime import Hall
from ..store.events import event_change
from ..web.templates import render
from .deps import STAFF, get_hall, require
from .models import Body

log = logging.getLogger(__name__)
router = APIRouter(tags=["cases"])
CaseId = Path(ge=1, le=2**62, description="the case's id")
OPENING_WAIT_S = 5.0     # a printer still being opened (just after start) is waited for this long


class PrintNoticeRequest(Body):
    notice: NoticeKind = Field(description="acceptance 受理通知书, supplement 一次性告知书, refusal 不予受理通知书, "
                               "collection 领取回执 (a result handed out at a window)")
    window: int | None = Field(default=None, ge=1, description="the window whose printer prints it; default: the "
                               "window that took the case in (collection: the window the caller is logged in to)")


def case_of(hall: Hall, case_id: int) -> dict:
    """The case as the case API answers it, with its history (404 when there is none)."""
    return hall.cases.get(case_id)


def base_url(hall: Hall, request: Request) -> str:
    """Where citizens' phones reach the hall, for the status page's QR code."""
    return hall.cfg.hall.public_url or str(request.base_url)


def _today(hall: Hall) -> date:
    return hall.clock.now().astimezone(ZoneInfo(hall.cfg.hall.timezone)).date()


def printer_for_window(hall: Hall, window: int) -> str | None:
    """The name of the printer configured with `window = n`, if any."""
    return next((d.name for d in hall.cfg.devices if d.kind == "printer" and d.window == window), None)


def no_printer(window: int) -> Conflict:
    return Conflict("no_printer", f"{window} 号窗口没有配置打印机：请在配置的 [[devices]] 中加入 kind = \"printer\"、"
                                  f"window = {window} 的打印机，或改用 A4 页面打印",
                    f"window {window} has no printer: configure one ([[devices]] with kind = \"printer\" and "
                    f"window = {window}), or print the A4 page from the browser instead", window=window)


async def print_on_window(hall: Hall, case: dict, kind: str, window: int, base: str, by: str) -> JSONResponse:
    """Print the notice on `window`'s printer: 200 `{"ok": true, "device"}`, or 503 with ok false, why, and
    an `alert.raised` for supervisors. Raises 409 `no_printer` when the window has none."""
    name = printer_for_window(hall, window)
    if name is None:
        raise no_printer(window)
    notice = notice_for(case, kind, hall.cfg, base, _today(hall), window=window)
    number = case.get("number", "")
    try:
        async with hall.devices.use(name, wait_s=OPENING_WAIT_S) as printer:
            document = printed(notice, getattr(printer, "width", 80))
            await asyncio.to_thread(printer.print_notice, document)
    except Exception as exc:  # DeviceUnavailable, PrintError or any driver failure: nothing of the case changes
        reason = str(exc) or type(exc).__name__
        log.warning("%s of case %s not printed on %s: %s", kind, number, name, reason)
        await raise_alert(hall.store, hall.clock, "print_failed", name,
                          f"{number} {TITLES[kind]}未能打印 / {NAMES_EN[kind]} not printed: {reason}", by=by,
                          case=number, notice=kind)
        err = HallError("print_failed",
                        f"{TITLES[kind]}未能在 {window} 号窗口打印（{reason}）。办件 {number} 不受影响：请处理打印机后"
                        "重新打印，或改用 A4 页面打印。",
                        f"the {NAMES_EN[kind]} was not printed at window {window} ({reason}). Case {number} is "
                        "unchanged: fix the printer and print again, or print the A4 page from the browser.",
                        status=503, device=name, window=window, reason=reason)
        return JSONResponse({"ok": False, "device": name, **err.body()}, status_code=503)
    await hall.store.write(event_change("notice.printed", hall.clock.now(), {
        "case": case.get("id"), "number": number, "notice": kind, "device": name, "window": window, "by": by},
        actor=by, window=window, case_id=case.get("id")))
    return JSONResponse({"ok": True, "device": name, "window": window, "notice": kind, "case": case.get("id")})


@router.post("/api/v1/cases/{case_id}/print", summary="Print a case's notice on a window's receipt printer",
             responses={409: {"description": "notice_not_available (the case's state does not allow this "
                                             "notice) or no_printer (the window has none)"},
                        503: {"description": "the printer failed: ok false, the reason, and an alert"}})
async def print_case_notice(body: PrintNoticeRequest, request: Request, case_id: int = CaseId,
                            hall: Hall = Depends(get_hall),
                            who: Principal = Depends(require(*STAFF))) -> JSONResponse:
    case = case_of(hall, case_id)
    window = body.window if body.window is not None else case.get("window")
    if body.notice == "collection" and body.window is None:        # printed where the result was handed out
        row = hall.store.read.execute("SELECT number FROM windows WHERE clerk=?", (who.username,)).fetchone()
        window = row[0] if row else None
    if window is None and body.notice == "collection":
        raise Conflict("no_window", "您未登录任何窗口：请在请求中写明出件窗口 window（窗口号）",
                       "you are logged in to no window: say at which window's printer to print the collection "
                       "receipt (\"window\": n)", case=case_id)
    if window is None:
        raise Conflict("no_window", "该办件没有受理窗口：请在请求中写明 window（窗口号）",
                       "the case has no intake window: say which window's printer to use (\"window\": n)",
                       case=case_id)
    if hall.cfg.window(window) is None:
        raise window_not_found(window)
    check_available(case, body.notice)          # 409 notice_not_available before looking for a printer
    return await print_on_window(hall, case, body.notice, window, base_url(hall, request), who.username)


@router.get("/cases/{case_id}/notice/{kind}", response_class=HTMLResponse, include_in_schema=False)
async def notice_page(request: Request, kind: NoticeKind, case_id: int = CaseId, hall: Hall = Depends(get_hall),
                      who: Principal = Depends(require(*STAFF))) -> HTMLResponse:
    """The notice as an A4 page for the browser's print dialog (everything inline or from /static)."""
    case = case_of(hall, case_id)
    notice = notice_for(case, kind, hall.cfg, base_url(hall, request), _today(hall))
    qr = Markup(qr_svg(notice.status_url, notice.qr_caption)) if notice.status_url else ""
    return render(request, "notice_a4.html", {"n": notice, "qr": qr, "cfg": hall.cfg})
