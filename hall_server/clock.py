"""Time for the hall: UTC for storage, the hall's zone for opening hours and the service day."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock(Clock):
    """The machine's time moved by a fixed offset, running on: a hall shown or tested at another hour (the 24-hour
    screens at 22:00) by `onewindow serve --clock-offset-s`. The same offset after a restart keeps time going on."""

    def __init__(self, offset_s: float):
        self.offset = timedelta(seconds=offset_s)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


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


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def opening_span(at: datetime, tz: str, opening: dict[str, str]) -> str | None:
    """Today's opening hours in the hall's zone ("08:30-17:30"), or None when closed all day."""
    return opening.get(WEEKDAYS[at.astimezone(ZoneInfo(tz)).weekday()])


def is_open(at: datetime, tz: str, opening: dict[str, str]) -> bool:
    """Whether the hall is open at `at`. A hall with no opening hours configured is always open."""
    if not opening:
        return True
    span = opening_span(at, tz, opening)
    if span is None:
        return False
    start, end = span.split("-")
    return start <= at.astimezone(ZoneInfo(tz)).strftime("%H:%M") < end


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def tickets_open(at: datetime, tz: str, opening: dict[str, str], early_min: int) -> bool:
    """Whether a kiosk may issue tickets at `at`: from `early_min` minutes before today's opening until closing.
    A hall with no opening hours configured is always open."""
    if not opening:
        return True
    span = opening_span(at, tz, opening)
    if span is None:
        return False
    start, end = (_minutes(s) for s in span.split("-"))
    local = at.astimezone(ZoneInfo(tz))
    now_min = local.hour * 60 + local.minute
    return start - early_min <= now_min < end


def next_opening(at: datetime, tz: str, opening: dict[str, str]) -> datetime | None:
    """When the hall next opens after `at` (today's opening if it is still to come), in the hall's zone,
    looking up to 7 days ahead; None when no opening hours are configured or none fall in that week."""
    if not opening:
        return None
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        span = opening.get(WEEKDAYS[day.weekday()])
        if span is None:
            continue
        h, m = span.split("-")[0].split(":")
        start = datetime(day.year, day.month, day.day, int(h), int(m), tzinfo=zone)
        if start > local:
            return start
    return None
