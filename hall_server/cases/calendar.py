"""The working-day calendar that every case deadline is counted in (行政许可法 §82: working days).

Weekends and statutory holidays do not count; the makeup working days (调休, a Saturday or Sunday declared
a working day) do. The holidays come from the `chinesecalendar` package for the years the State Council has
announced, and from the administrator's table in config (`[calendar]`) for later years; the table wins for
the years it lists. A year neither knows is counted by weekends only, and a deadline that reaches into it
carries a warning saying so. Day 1 is the first working day after the day of acceptance.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:       # the stats worker counts working days without the configuration's models
    from .config import CalendarTable

MAX_SPAN = 3660        # working days a single count may cover (ten years): guards against absurd input


@lru_cache(maxsize=1)
def _package() -> tuple[frozenset[date], frozenset[date], range]:
    """(holidays, makeup workdays, years covered) of chinesecalendar, loaded once when first needed."""
    import chinese_calendar

    holidays = frozenset(chinese_calendar.holidays)
    workdays = frozenset(d for d in chinese_calendar.workdays if d.weekday() >= 5)
    years = {d.year for d in chinese_calendar.holidays}
    return holidays, workdays, range(min(years), max(years) + 1)


class WorkCalendar:
    def __init__(self, table: CalendarTable | None = None):
        if table is None:
            from .config import CalendarTable

            table = CalendarTable()
        self.table = table
        self._table_years = frozenset(self.table.years)
        self._table_holidays = frozenset(self.table.holidays)
        self._table_workdays = frozenset(self.table.workdays)

    # -- what a day is ---------------------------------------------------------------------------
    def known(self, year: int) -> bool:
        """Whether the holidays of `year` are known (from the package or the administrator's table)."""
        return year in self._table_years or year in _package()[2]

    def is_working_day(self, d: date) -> bool:
        if d.year in self._table_years:
            if d in self._table_workdays:
                return True
            return d.weekday() < 5 and d not in self._table_holidays
        holidays, workdays, years = _package()
        if d.year in years:
            if d in workdays:
                return True
            return d.weekday() < 5 and d not in holidays
        return d.weekday() < 5              # unknown year: weekends only (see warning())

    # -- counting --------------------------------------------------------------------------------
    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (day 1 is the first working day after it); n = 0 → `start`."""
        if not 0 <= n <= MAX_SPAN:
            raise ValueError(f"working_days must be 0..{MAX_SPAN}, not {n}")
        d = start
        while n > 0:
            d += timedelta(days=1)
            if self.is_working_day(d):
                n -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end (0 when end is not after start)."""
        if end <= start:
            return 0
        if (end - start).days > MAX_SPAN * 2:
            raise ValueError(f"{start}..{end} spans more than {MAX_SPAN * 2} days")
        count, d = 0, start
        while d < end:
            d += timedelta(days=1)
            count += self.is_working_day(d)
        return count

    def working_days_left(self, today: date, due: date) -> int:
        """Working days from `today` to `due` (due counted, today not); negative by as many once `due` is past."""
        if due >= today:
            return self.working_days_between(today, due)
        return -self.working_days_between(due, today)

    def warning(self, start: date, end: date) -> dict | None:
        """A notice when a count from `start` to `end` crosses a year whose holidays are unknown."""
        unknown = [y for y in range(start.year, end.year + 1) if not self.known(y)]
        if not unknown:
            return None
        years = "、".join(str(y) for y in unknown)
        return {"code": "calendar_unknown_year", "years": unknown,
                "message_zh": f"{years} 年的法定节假日尚未录入，期限暂按仅扣除周末计算；"
                              "请管理员在配置 [calendar] 中补录",
                "message_en": f"the statutory holidays of {', '.join(map(str, unknown))} are not known yet: this "
                              "date counts weekends only; an administrator adds the year to [calendar] in config"}
