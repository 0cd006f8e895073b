"""The hall's configuration of cases: `[cases]` (numbers, deadline colours, the accepting organ) and
`[calendar]` (the administrator's table of holidays and makeup working days for years the `chinesecalendar`
package does not know yet)."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CasesPolicy(_Strict):
    prefix: str = Field(default="", pattern=r"^([A-Z]{2,4})?$",
                        description="case numbers' letters (XL-20261203-0012); empty: from the hall's code")
    amber_days: int = Field(default=2, ge=0, le=30, description="a case this many working days or fewer "
                            "before its due date is amber; past it, red")
    organ: str = Field(default="", description="the accepting organ named on notices; empty: the hall's name")
    complaint_phone: str = Field(default="", description="on the 受理通知书; empty: the hall's phone")
    review_rights: str = Field(
        default="如不服本决定，可在收到本通知之日起六十日内依法申请行政复议，或者在六个月内依法提起行政诉讼。",
        description="the 不予受理通知书's line on 行政复议 and 行政诉讼")


class CalendarTable(_Strict):
    """Years an administrator has filled in from the State Council's notice (国务院办公厅关于…节假日安排的通知).

    For a year listed in `years`, `holidays` are the days off that fall on weekdays and `workdays` the
    weekend days that are worked (调休); every other weekday works and every other weekend day is off."""

    years: tuple[int, ...] = ()
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _in_years(self) -> CalendarTable:
        for what, days in (("holidays", self.holidays), ("workdays", self.workdays)):
            stray = [d.isoformat() for d in days if d.year not in self.years]
            if stray:
                raise ValueError(f"calendar.{what}: {stray} fall in years not listed in calendar.years "
                                 f"{list(self.years)}; add the year to `years` once its whole table is in")
        both = set(self.holidays) & set(self.workdays)
        if both:
            raise ValueError(f"calendar: {sorted(d.isoformat() for d in both)} are both holidays and workdays")
        return self


def case_prefix(policy: CasesPolicy, hall_code: str) -> str:
    """XL for xialu-district: the configured letters, else the first letters of the hall code's parts."""
    if policy.prefix:
        return policy.prefix
    parts = [p for p in hall_code.split("-") if p]
    letters = "".join(p[0] for p in parts[:3]).upper()
    return letters if len(letters) >= 2 else (hall_code[:2].upper() or "HC")
