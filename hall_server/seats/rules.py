"""The 离岗 rule and on-seat time: pure functions of what the seats and the windows say, and when.

A window's clerk counts as away only while the seat is seen empty ("away") and the window is attended
(open or serving). Then, after `away_alert_s`, a `Raise`; when the clerk returns, or the window is paused
or closed, a `Clear`. A seat the camera cannot see ("unknown") never counts as away: it stops the count,
and an alert already raised stays until the clerk is seen again or the window stops being attended.
On-seat, away and unknown seconds accrue per window and logged-in clerk.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

ATTENDED = frozenset({"open", "serving"})        # window states in which a clerk belongs at the seat
PRESENCE = ("present", "away", "unknown")


@dataclass(frozen=True)
class Raise:
    window: int
    clerk: str | None
    away_since: datetime
    at: datetime


@dataclass(frozen=True)
class Clear:
    window: int
    clerk: str | None
    reason: str                 # returned, paused, closed
    away_s: float
    at: datetime


@dataclass
class SeatRecord:
    window: int
    presence: str = "unknown"
    presence_since: datetime | None = None
    window_state: str = "closed"
    clerk: str | None = None
    counting_since: datetime | None = None      # away and attended since
    alert_since: datetime | None = None         # the 离岗 alert raised then, not yet cleared
    accrued_to: datetime | None = None

    @property
    def away_and_attended(self) -> bool:
        return self.presence == "away" and self.window_state in ATTENDED


@dataclass
class SeatRules:
    windows: list[int]
    away_alert_s: float
    seats: dict[int, SeatRecord] = field(init=False)
    _times: dict[tuple[int, str], dict[str, float]] = field(init=False)

    def __post_init__(self) -> None:
        self.seats = {w: SeatRecord(w) for w in self.windows}
        self._times = defaultdict(lambda: dict.fromkeys(PRESENCE, 0.0))

    # -- inputs ------------------------------------------------------------------------------------
    def presence(self, window: int, state: str, at: datetime) -> list[Raise | Clear]:
        if state not in PRESENCE:
            raise ValueError(f"seat presence {state!r} is not one of {PRESENCE}")
        s = self.seats[window]
        self._accrue(s, at)
        if state == s.presence:
            return []
        s.presence, s.presence_since = state, at
        out: list[Raise | Clear] = []
        if state == "present" and s.alert_since is not None:
            out.append(self._clear(s, "returned", at))
        self._recount(s, at)
        return out + self.tick(at, [window])

    def window(self, window: int, state: str, clerk: str | None, at: datetime) -> list[Raise | Clear]:
        s = self.seats[window]
        self._accrue(s, at)
        if (state, clerk) == (s.window_state, s.clerk):
            return []
        s.window_state, s.clerk = state, clerk
        out: list[Raise | Clear] = []
        if state not in ATTENDED and s.alert_since is not None:
            out.append(self._clear(s, "paused" if state == "paused" else "closed", at))
        self._recount(s, at)
        return out + self.tick(at, [window])

    def tick(self, at: datetime, windows: list[int] | None = None) -> list[Raise | Clear]:
        """Alerts due at `at`: call it every second or so."""
        out: list[Raise | Clear] = []
        for w in windows or self.windows:
            s = self.seats[w]
            if (s.counting_since is not None and s.alert_since is None
                    and (at - s.counting_since).total_seconds() >= self.away_alert_s):
                s.alert_since = at
                out.append(Raise(w, s.clerk, s.counting_since, at))
        return out

    # -- what it adds up to --------------------------------------------------------------------------
    def take_times(self, at: datetime) -> dict[tuple[int, str], dict[str, float]]:
        """Seconds per (window, clerk) in each presence state since the last take; the count starts again."""
        for s in self.seats.values():
            self._accrue(s, at)
        taken, self._times = dict(self._times), defaultdict(lambda: dict.fromkeys(PRESENCE, 0.0))
        return taken

    def pending_times(self, at: datetime) -> dict[tuple[int, str], dict[str, float]]:
        """What take_times would give at `at`, without taking it (for reading totals between writes)."""
        out = {k: dict(v) for k, v in self._times.items()}
        for s in self.seats.values():
            if s.clerk and s.accrued_to is not None and at > s.accrued_to:
                row = out.setdefault((s.window, s.clerk), dict.fromkeys(PRESENCE, 0.0))
                row[s.presence] += (at - s.accrued_to).total_seconds()
        return out

    def away_for(self, window: int, at: datetime) -> float:
        """Seconds the clerk has been away from an attended window (0 when not)."""
        since = self.seats[window].counting_since
        return max(0.0, (at - since).total_seconds()) if since else 0.0

    # -- inside --------------------------------------------------------------------------------------
    def _recount(self, s: SeatRecord, at: datetime) -> None:
        if not s.away_and_attended:
            s.counting_since = None
        elif s.counting_since is None:
            s.counting_since = at

    def _clear(self, s: SeatRecord, reason: str, at: datetime) -> Clear:
        away = (at - s.counting_since).total_seconds() if s.counting_since else 0.0
        s.alert_since = None
        return Clear(s.window, s.clerk, reason, away, at)

    def _accrue(self, s: SeatRecord, at: datetime) -> None:
        if s.clerk and s.accrued_to is not None and at > s.accrued_to:
            self._times[(s.window, s.clerk)][s.presence] += (at - s.accrued_to).total_seconds()
        s.accrued_to = at
