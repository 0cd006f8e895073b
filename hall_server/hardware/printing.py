"""Kiosk printing on the server: a ticket issued for a kiosk is printed on that kiosk's printer.

The ticket is committed before anything is printed, so a failed print never loses or voids it: the
answer says the print failed and why, and supervisors get an `alert.raised` event. A printer still being
opened (the first seconds after start) is waited for a moment rather than reported offline.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .alerts import raise_alert

if TYPE_CHECKING:
    from ..clock import Clock
    from ..config import HallConfig
    from ..store.database import Store
    from .supervisor import DeviceSupervisor

log = logging.getLogger(__name__)
OPENING_WAIT_S = 5.0     # a ticket issued while its printer is still opening waits this long for it


class KioskPrinting:
    def __init__(self, cfg: HallConfig, store: Store, devices: DeviceSupervisor, clock: Clock):
        self.cfg, self.store, self.devices, self.clock = cfg, store, devices, clock

    def printer_for(self, kiosk: str | None) -> str | None:
        """The name of the printer configured for `kiosk`, if any."""
        if not kiosk:
            return None
        return next((d.name for d in self.cfg.devices if d.kind == "printer" and d.kiosk == kiosk), None)

    def receipt_for(self, ticket: dict, status_url: str, width: int):
        from drivers.printer.receipt import Receipt  # here, not at the top: it imports python-escpos (slow start)

        cfg = self.cfg
        matter = cfg.matter(ticket["matter"])
        issued = self.clock.now().astimezone(ZoneInfo(cfg.hall.timezone)).strftime("%Y-%m-%d %H:%M")
        return Receipt(hall_name=cfg.hall.name, number=ticket["number"], matter_name=ticket["matter_name"],
                       waiting_ahead=ticket["waiting_ahead"], estimated_wait_s=ticket["estimated_wait_s"],
                       issued_at=issued, status_url=status_url, materials=list(matter.materials if matter else ()),
                       header=list(cfg.receipt.header), footer=list(cfg.receipt.footer), width=width)

    async def print_ticket(self, ticket: dict, kiosk: str | None, base_url: str | Callable[[], str]) -> dict | None:
        """Print the ticket on its kiosk's printer; returns what happened, or None when there is no printer.

        `base_url` (or a function giving it, asked only when there is a printer and no public_url) is where
        the receipt's status link points."""
        name = self.printer_for(kiosk)
        if name is None:
            return None
        base = self.cfg.hall.public_url or (base_url() if callable(base_url) else base_url)
        status_url = f"{base.rstrip('/')}/t/{ticket['id']}"
        if ticket.get("status_key"):        # the holder of the receipt may rate the handling from it (好差评)
            status_url += f"?k={ticket['status_key']}"
        try:
            async with self.devices.use(name, wait_s=OPENING_WAIT_S) as printer:
                receipt = self.receipt_for(ticket, status_url, getattr(printer, "width", 80))
                await asyncio.to_thread(printer.print_receipt, receipt)
        except Exception as exc:  # DeviceUnavailable, PrintError or any driver failure: the ticket stands
            reason = str(exc) or type(exc).__name__
            log.warning("ticket %s issued but not printed on %s: %s", ticket["number"], name, reason)
            await raise_alert(self.store, self.clock, "print_failed", name,
                              f"{ticket['number']} 未能打印 / not printed: {reason}", ticket_id=ticket["id"])
            return {"ok": False, "device": name, "error": reason,
                    "message_zh": f"小票未能打印（{reason}）。您的号码 {ticket['number']} 有效，"
                                  "请记下号码或到服务台补打。",
                    "message_en": f"The ticket could not be printed ({reason}). Your number {ticket['number']} is "
                                  "valid: note it down, or ask at the service desk for a copy."}
        return {"ok": True, "device": name, "status_url": status_url}
