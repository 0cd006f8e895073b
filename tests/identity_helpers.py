"""Synthetic citizens for the identity tests: valid GB 11643 numbers, never real people."""
from __future__ import annotations

from datetime import date

from drivers.idcard import gb11643


def id_number(born: date, seq: int = 123, region: str = "420102") -> str:
    """A valid number for someone born on `born`; an odd `seq` is a man, an even one a woman."""
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + gb11643.check_digit(first17)


def card(born: date, name: str = "张三", seq: int = 123, **extra) -> dict:
    """The JSON of POST /api/v1/swipes' `card`."""
    return {"id_number": id_number(born, seq), "name": name, "long_term": True, **extra}
