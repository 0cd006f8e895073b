"""Synthetic citizens for the SAM simulator: fictitious people with valid GB 11643 numbers.

Region 420102 is 武汉市江岸区; the sequence digits are invented, their parity matching the gender.
"""
from __future__ import annotations

from datetime import date

from .. import gb11643
from ..base import RESIDENT_ID, CitizenCard

REGION = "420102"
AUTHORITY = "武汉市公安局江岸分局"


def synthetic_id(born: date, sequence: str, region: str = REGION) -> str:
    """A well-formed number: region + birth date + 3-digit sequence (odd: male) + check digit."""
    first17 = f"{region}{born:%Y%m%d}{sequence}"
    return first17 + gb11643.check_digit(first17)


def _card(name: str, gender: str, born: date, sequence: str, address: str, valid_from: date,
          valid_to: date | None, nation: str = "汉") -> CitizenCard:
    return CitizenCard(kind=RESIDENT_ID, name=name, id_number=synthetic_id(born, sequence), gender=gender,
                       nation=nation, birth_date=born, address=address, authority=AUTHORITY,
                       valid_from=valid_from, valid_to=valid_to, long_term=valid_to is None)


CARDS: dict[str, CitizenCard] = {
    # 70 in November 2026: priority queues for elders apply
    "elder": _card("李秀兰", "女", date(1956, 3, 8), "024", "湖北省武汉市江岸区沿江大道188号3栋2单元501室",
                   date(2012, 6, 20), None),
    "adult": _card("张伟", "男", date(1990, 7, 15), "031", "湖北省武汉市江岸区解放大道1001号",
                   date(2015, 1, 1), date(2035, 1, 1)),
    # born on 29 February: age arithmetic must not trip over it
    "young": _card("陈思雨", "女", date(2008, 2, 29), "046", "湖北省武汉市江岸区黄浦大街66号",
                   date(2024, 3, 1), date(2034, 3, 1)),
    "expired": _card("刘强", "男", date(1992, 11, 2), "017", "湖北省武汉市江岸区胜利街12号",
                     date(2014, 5, 1), date(2024, 5, 1)),
    "minority": _card("阿依古丽", "女", date(1979, 9, 30), "062", "湖北省武汉市江岸区中山大道888号",
                      date(2019, 10, 8), date(2039, 10, 8), nation="维吾尔"),
}
