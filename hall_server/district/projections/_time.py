"""Service days of stored timestamps: a fact belongs to the service day of the hall that recorded it — its local date,
starting at its rollover hour (03:00 by default), as the hall's own statistics count it (hall_server/clock.service_day):
a ticket issued at 01:30 belongs to the day before."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = "Asia/Shanghai"
DEFAULT_ROLLOVER = 3          # as HallSection.rollover_hour's default; a hall says its own in halls.info when it can

DayRule = tuple[str, int]     # (time zone, rollover hour)


@lru_cache(maxsize=64)
def zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def rule_of(info: dict | None) -> DayRule:
    """The day rule of a hall from its halls.info (what its shipper said at hello)."""
    info = info or {}
    try:
        hour = int(info.get("rollover_hour", DEFAULT_ROLLOVER))
    except (TypeError, ValueError):
        hour = DEFAULT_ROLLOVER
    return (info.get("timezone") or DEFAULT_TZ, hour if 0 <= hour <= 23 else DEFAULT_ROLLOVER)


def day_of(at: datetime, rule: DayRule):
    """The service day (a date) of the moment `at` under `rule`."""
    return (at.astimezone(zone(rule[0])) - timedelta(hours=rule[1])).date()


def local_day(at: str, rule: DayRule) -> str:
    """The service day (YYYY-MM-DD) of an event's ISO timestamp."""
    return day_of(datetime.fromisoformat(at), rule).isoformat()


def hall_tz(cur, hall: str) -> DayRule:
    """The hall's day rule as it said at its last hello (halls.info), else the house default."""
    cur.execute("SELECT info FROM halls WHERE code = %s", (hall,))
    row = cur.fetchone()
    return rule_of(row[0] if row else None)


def seconds(a: str | datetime, b: str | datetime) -> float:
    a = datetime.fromisoformat(a) if isinstance(a, str) else a
    b = datetime.fromisoformat(b) if isinstance(b, str) else b
    return (b - a).total_seconds()
