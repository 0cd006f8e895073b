"""The kiosk's side of a ticket: its receipt, printed on the kiosk's own printer, and its QR code.

A ticket is committed on the hall server before anything is printed, so a failed print never loses it:
the outcome says the print failed, what it means for the citizen, and the hall gets an alert.
"""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo


def status_url(hall: dict, server: str, ticket_id: int, key: str | None = None) -> str:
    """Where a citizen's phone follows the ticket: the hall's public address if it has one; the hall's key for
    the ticket beside the id lets the receipt's holder rate the handling there once (好差评)."""
    url = f"{(hall.get('public_url') or server).rstrip('/')}/t/{ticket_id}"
    return f"{url}?k={key}" if key else url


def receipt_for(hall: dict, ticket: dict, url: str, width: int):
    from drivers.printer.receipt import Receipt  # here: python-escpos takes a while to import

    matter = next((m for m in hall.get("matters", ()) if m["code"] == ticket["matter"]), None)
    issued = datetime.fromisoformat(ticket["issued_at"]).astimezone(ZoneInfo(hall.get("timezone") or "Asia/Shanghai"))
    layout = hall.get("receipt") or {}
    return Receipt(hall_name=hall.get("name", ""), number=ticket["number"], matter_name=ticket["matter_name"],
                   waiting_ahead=ticket["waiting_ahead"], estimated_wait_s=ticket["estimated_wait_s"],
                   issued_at=issued.strftime("%Y-%m-%d %H:%M"), status_url=url,
                   materials=list(matter["materials"]) if matter else [], header=list(layout.get("header", ())),
                   footer=list(layout.get("footer", ())), width=width)


def failed(number: str, device: str, reason: str) -> dict:
    return {"ok": False, "device": device, "error": reason,
            "message_zh": f"小票未能打印（{reason}）。您的号码 {number} 有效，请记下号码或扫码，也可到服务台补打。",
            "message_en": f"Your ticket could not be printed ({reason}). Number {number} is valid: note it down "
                          "or scan the code, or ask at the service desk for a printed copy."}


def qr_svg(url: str, label: str = "扫码查看排队进度 / scan to follow your ticket") -> str:
    """The QR code of `url` as inline SVG that scales to its box (no fixed size, an accessible name)."""
    import qrcode
    import qrcode.image.svg

    svg = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=2).to_string(encoding="unicode")
    svg = re.sub(r'\s(width|height)="[^"]*"', "", svg, count=2)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
