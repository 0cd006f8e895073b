"""Phone numbers for SMS: a Chinese mobile (1[3-9]xxxxxxxxx) in international form, and masked for logs.

    international("138 0000 0000") -> "+8613800000000"      international("+86 138-0000-0000") -> same
    mask("+8613800000000") -> "138****0000"
"""
from __future__ import annotations

import re

MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
SEPARATORS = re.compile(r"[\s\-().]")


class BadNumber(ValueError):
    """Not a Chinese mobile number; the message shows it masked."""


def international(number: str) -> str:
    """`number` as +86 and its 11 digits; BadNumber unless it is a Chinese mobile (with or without +86/0086)."""
    digits = SEPARATORS.sub("", number or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
            break
    if not MOBILE.fullmatch(digits):
        raise BadNumber(f"{mask(number)!r} is not a Chinese mobile number (11 digits starting 13-19, optionally "
                        "after +86); SMS goes to mobiles only")
    return "+86" + digits


def mask(number: str) -> str:
    """The first 3 and last 4 digits of the national number, the rest as ****: what logs and reports show."""
    digits = re.sub(r"\D", "", number or "", flags=re.ASCII)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"
