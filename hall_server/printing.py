"""Kiosk printing on the server: a ticket issued for a kiosk is printed on that kiosk's printer.

The ticket is committed before anything is printed, so a failed print never loses or voids it: the
answer says the print failed and why, and supervisors get an `alert.raised` event.
"""
from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

from .alerts import raise_alert
from .runtime import Hall

log = logging.getLogger(__name__)


def printer_for(hall: Hall, kiosk: str | None) -> str | None:
    """The name of the printer configured for `kiosk`, if any."""
    if not kiosk:
        return None
    return next((d.name for d in hall.cfg.devices if d.kind == "printer" and d.kiosk == kiosk), None)


def receipt_for(hall: Hall, ticket: dict, status_url: str, width: int):
    from drivers.printer.receipt import Receipt  # here, not at the top: it imports python-escpos (slow start)

    cfg = hall.cfg
    matter = cfg.matter(ticket["matter"])
    issued = hall.clock.now().astimezone(ZoneInfo(cfg.hall.timezone)).strftime("%Y-%m-%d %H:%M")
    return Receipt(hall_name=cfg.hall.name, number=ticket["number"], matter_name=ticket["matter_name"],
                   waiting_ahead=ticket["waiting_ahead"], estimated_wait_s=ticket["estimated_wait_s"],
                   issued_at=issued, status_url=status_url, materials=list(matter.materials if matter else ()),
                   header=list(cfg.receipt.header), footer=list(cfg.receipt.footer), width=width)


async def print_ticket(hall: Hall, ticket: dict, kiosk: str | None, base_url: str) -> dict | None:
    """Print the ticket on its kiosk's printer; returns what happened, or None when there is no printer."""
    name = printer_for(hall, kiosk)
    if name is None:
        return None
    status_url = f"{(hall.cfg.hall.public_url or base_url).rstrip('/')}/t/{ticket['id']}"
    try:
        async with hall.devices.use(name) as printer:
            receipt = receipt_for(hall, ticket, status_url, getattr(printer, "width", 80))
            await asyncio.to_thread(printer.print_receipt, receipt)
    except Exception as exc:  # DeviceUnavailable, PrintError or any driver failure: the ticket stands
        reason = str(exc) or type(exc).__name__
        log.warning("ticket %s issued but not printed on %s: %s", ticket["number"], name, reason)
        await raise_alert(hall, "print_failed", name, f"{ticket['number']} 未能打印 / not printed: {reason}",
                          ticket_id=ticket["id"])
        return {"ok": False, "device": name, "error": reason,
                "message_zh": f"小票未能打印（{reason}）。您的号码 {ticket['number']} 有效，请记下号码或到服务台补打。",
                "message_en": f"The ticket could not be printed ({reason}). Your number {ticket['number']} is "
                              "valid: note it down, or ask at the service desk for a copy."}
    return {"ok": True, "device": name, "status_url": status_url}

