"""Pickup codes: six random digits, stored only as a keyed hash (the installation's identity key, as citizen
hashes are), told to the applicant by SMS and never written to a log or an event. Once the SMS has left, its
text in the outbox is replaced by the same text with the code masked."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

CODE_DIGITS = 6
MASK = "*" * CODE_DIGITS
CODE = re.compile(rf"^\d{{{CODE_DIGITS}}}$")


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(key: bytes, code: str) -> str:
    """The keyed hash a compartment keeps of its code (a plain hash of six digits would be read back at once)."""
    return hmac.new(key, b"onewindow-locker-code:" + code.encode(), hashlib.sha256).hexdigest()


def normalise(typed: str) -> str | None:
    """What a citizen typed (spaces, full-width digits) → the six digits, or None when it is not a code."""
    text = re.sub(r"\s+", "", typed or "").translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return text if CODE.match(text) else None


def masked(text: str, code: str) -> str | None:
    """`text` with the code masked, or None when the code is not in it exactly once (then another code is
    drawn: a code that also spells part of the case number could not be masked alone)."""
    return text.replace(code, MASK) if text.count(code) == 1 else None
