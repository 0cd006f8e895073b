"""Time for the hall: UTC for storage, the hall's zone for opening hours and the service day."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock(Clock):
    """A clock tests move by hand."""

    def __init__(self, start: datetime):
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **kw) -> datetime:
        self._now += timedelta(**kw)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)


def service_day(at: datetime, tz: str, rollover_hour: int) -> date:
    """The service day a moment belongs to: the local date, starting at the rollover hour."""
    local = at.astimezone(ZoneInfo(tz))
    return (local - timedelta(hours=rollover_hour)).date()


def micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)
