"""GB 11643 citizen identity numbers: the ISO 7064 MOD 11-2 check digit, birth date and gender.

Plain functions over the 18-character number, shared by the drivers (to judge a read) and the hall
server (to judge a number typed or booked). Nothing here keeps a number.
"""
from __future__ import annotations

import re
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"\d{17}[\dX]")


class InvalidIdNumber(ValueError):
    """Not a valid 18-character citizen identity number; the message never repeats the number."""


def check_digit(first17: str) -> str:
    """The check character for the first 17 digits."""
    if not re.fullmatch(r"\d{17}", first17):
        raise InvalidIdNumber("the first 17 characters of an ID number must be digits")
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalise(number: str) -> str:
    """Upper-case, strip spaces; a lower-case x is accepted as X."""
    return number.strip().replace(" ", "").upper()


def validate(number: str) -> str:
    """The normalised number if it is well-formed, has a real birth date and the right check digit."""
    n = normalise(number)
    if not _SHAPE.fullmatch(n):
        raise InvalidIdNumber(f"an ID number has 18 characters: 17 digits and a digit or X (got {len(n)})")
    if check_digit(n[:17]) != n[17]:
        raise InvalidIdNumber("the ID number's check digit is wrong: it was probably mistyped or misread")
    birth_date(n)
    return n


def birth_date(number: str) -> date:
    """The birth date in characters 7-14 (YYYYMMDD)."""
    s = normalise(number)[6:14]
    try:
        return date(int(s[:4]), int(s[4:6]), int(s[6:8]))
    except ValueError:
        raise InvalidIdNumber("the ID number does not hold a real birth date") from None


def gender(number: str) -> str:
    """'男' or '女' from the parity of the 17th character (odd: male)."""
    return "男" if int(normalise(number)[16]) % 2 else "女"


def age_on(born: date, day: date) -> int:
    """Whole years of age on `day`."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def mask(number: str) -> str:
    """The displayable form: first 3 and last 4 kept, e.g. 420***********123X."""
    n = normalise(number)
    if len(n) < 8:
        return "*" * len(n)
    return n[:3] + "*" * (len(n) - 7) + n[-4:]
