"""What every ID-card reader offers, and the card it reads.

A reader (`sam+serial://`, `pcsc://`, `sim://idcard`) yields a `CitizenCard`: the fields a resident ID
card (GA 467 SAM) or a social-security card (PC/SC, SSSE application) carries, decoded. The card is
personal data: its repr and `redacted()` never show the number, name, birth date or address, and the
photo is never part of it. What leaves the reader's process is decided by the hall server, which keeps
only masked forms and a keyed hash (hall_server/identity.py).
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from ..base import Device, DeviceError
from . import gb11643

RESIDENT_ID, SOCIAL_SECURITY = "resident-id", "social-security"


class CardReadError(DeviceError):
    """A card was there but could not be read (removed mid-read, checksum error, unknown card…).

    The message says what happened and what the citizen or technician should do; it never holds card data.
    """


class CardProtocolError(CardReadError):
    """The reader's answer broke its protocol (bad frame, length, checksum, status word)."""


@dataclass(frozen=True, repr=False)
class CitizenCard:
    kind: str                           # RESIDENT_ID or SOCIAL_SECURITY
    name: str
    id_number: str
    gender: str = ""                    # 男 / 女 / 未知 / 未说明
    nation: str = ""                    # e.g. 汉
    birth_date: date | None = None
    address: str = ""                   # resident ID only; the hall server never keeps it
    authority: str = ""                 # issuing authority
    valid_from: date | None = None
    valid_to: date | None = None        # None with long_term=True: 长期
    long_term: bool = False
    card_number: str = ""               # social-security card number (EF05 tag 07)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    PERSONAL: ClassVar[frozenset[str]] = frozenset(
        {"name", "id_number", "birth_date", "address", "card_number", "extra"})

    def __repr__(self) -> str:
        return (f"CitizenCard(kind={self.kind!r}, id={gb11643.mask(self.id_number)!r}, "
                f"valid_to={self.valid_to}, long_term={self.long_term})")

    __str__ = __repr__

    def expired_on(self, day: date) -> bool:
        return not self.long_term and self.valid_to is not None and self.valid_to < day

    def redacted(self) -> dict[str, Any]:
        """What may be printed or logged: masked number and name, no birth date or address."""
        return {"kind": self.kind, "id_masked": gb11643.mask(self.id_number), "name_masked": mask_name(self.name),
                "gender": self.gender, "nation": self.nation,
                "valid_to": "长期" if self.long_term else (self.valid_to.isoformat() if self.valid_to else None),
                "authority": self.authority}


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***; a Latin name keeps its first letter."""
    name = name.strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


class IdCardReader(Device):
    """A card reader. `read_card(timeout)` waits up to `timeout` seconds for a card and reads it.

    Returns None when no card was presented in time; raises CardReadError when a card was there but its
    read failed, and DeviceError (not CardReadError) when the reader itself is unreachable or faulty.
    """
    kind = "idcard"
    personal_keys = CitizenCard.PERSONAL

    @abc.abstractmethod
    def read_card(self, timeout: float = 0.0) -> CitizenCard | None: ...
