"""The kiosk's self-service case query (办件查询): what a citizen typed, scanned or swiped, as the hall's
POST /api/v1/case-lookup takes it, and each case found as the page shows it — the public status only (no
name, phone or ID number: the hall's answer has none), with the QR code of its status page for the phone.

    XL-20261124-0012, xl 20261124 12, XL202611240012   → {"number": "XL-20261124-0012"}
    http://hall/c/Ab3…  (a notice's QR code, read by the hand scanner)   → {"query_code": "Ab3…"}
    a swipe id from the card reader                     → {"swipe": "…"}
"""
from __future__ import annotations

import re

from .receipts import qr_svg

NUMBER = re.compile(r"([A-Z]{2,4})-?(\d{8})-?(\d{1,4})")
SCANNED = re.compile(r"/c/([A-Za-z0-9_-]{8,40})(?:[/?#]|$)")
CODE = re.compile(r"[A-Za-z0-9_-]{16}")            # a query code typed by hand (secrets.token_urlsafe(12))
SHOWN = ("number", "matter", "matter_name", "matter_name_en", "kind", "status", "outcome", "received_at",
         "accepted_at", "due", "deadline", "missing", "via")
STEP = ("at", "step", "name", "name_en", "department")
QR_LABEL = "扫码在手机上查看办件进度 / scan to follow this case on your phone"


def lookup_body(q: str | None, swipe: str | None) -> dict:
    """The hall's lookup body for a swipe, or for what was typed or scanned (ValueError when it is empty)."""
    if swipe:
        return {"swipe": swipe}
    text = (q or "").strip()
    if not text:
        raise ValueError("nothing to look up")
    scanned = SCANNED.search(text)
    if scanned:
        return {"query_code": scanned.group(1)}
    flat = re.sub(r"[\s\-—–－]+", "-", text.upper()).strip("-")
    number = NUMBER.fullmatch(flat)
    if number:
        prefix, day, seq = number.groups()
        return {"number": f"{prefix}-{day}-{int(seq):04d}"}
    if CODE.fullmatch(text):
        return {"query_code": text}
    return {"number": flat}


def status_page(hall: dict, server: str, query_code: str) -> str:
    """Where a citizen's phone follows the case: the hall's public address if it has one (as for tickets)."""
    return f"{(hall.get('public_url') or server).rstrip('/')}/c/{query_code}"


def shown(case: dict, url: str) -> dict:
    """A case as the kiosk's page shows it: the public status's fields, its steps, its page and QR code."""
    out = {k: case.get(k) for k in SHOWN}
    out["steps"] = [{k: s.get(k) for k in STEP} for s in case.get("steps", ())]
    out["status_url"] = url
    out["qr_svg"] = qr_svg(url, QR_LABEL)
    return out
