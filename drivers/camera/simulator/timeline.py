"""Scripted seat timelines for the camera simulator.

A script is text, one event a line: `<time> <target> <value> [ramp <seconds>]`; `#` starts a comment.
Time is seconds (`90`, `12.5`) or minutes:seconds (`10:00`). Lines must be in time order.

    0     seat1 empty        seat<N> (1-based): empty | sit | work | stand | pass
    60    seat1 work
    600   lights 0.7 ramp 20 overall brightness gain (> 0), instant or ramped over seconds
    0     noise 3            Gaussian sensor noise, sigma in grey levels (>= 0)
    900   camera dropout     the camera delivers no frames ...
    960   camera restore     ... until restored
    1800  end                the script's length (default: the last event + 60 s)

Seat states and their ground truth ("the clerk is seated"):
  empty  nobody                                               False
  sit    the clerk seated, nearly still (breathing, 1-2 px)    True
  work   the clerk seated and moving (head turns, arms, lean)  True
  stand  someone standing beside the seat, partly in the ROI   False
  pass   someone walking across the seat (crosses in ~4 s)     False
Someone merely standing beside or passing through the seat region while the seat is empty is
ground-truth empty: the question is whether the clerk is seated. During a camera drop-out the truth
is None (nothing can be known from the camera).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

SEAT_STATES = ("empty", "sit", "work", "stand", "pass")
SEATED = frozenset({"sit", "work"})


class TimelineError(ValueError):
    """A script error; the message names the line and what is wrong with it."""


@dataclass(frozen=True)
class SeatSpan:
    state: str
    since: float
    until: float | None      # None: to the end of the script


class Timeline:
    def __init__(self, seats: dict[int, list[tuple[float, str]]], lights: list[tuple[float, float, float]],
                 noise: list[tuple[float, float]], dropouts: list[tuple[float, float]], duration: float,
                 name: str = "script") -> None:
        self.name = name
        self.seat_count = max(seats) if seats else 1
        self._seats = {i: sorted(v, key=lambda e: e[0]) for i, v in seats.items()}
        self._seat_times = {i: [e[0] for e in v] for i, v in self._seats.items()}
        self._lights = lights                     # (at, gain, ramp)
        self._light_times = [e[0] for e in lights]
        self._noise = noise
        self._noise_times = [e[0] for e in noise]
        self.dropouts = dropouts                  # [(start, end)), end may be inf
        self.duration = duration

    def seat(self, index: int, t: float) -> SeatSpan:
        """The state of seat `index` (1-based) at second t."""
        times = self._seat_times.get(index)
        if not times:
            return SeatSpan("empty", 0.0, None)
        k = bisect.bisect_right(times, t) - 1
        if k < 0:
            return SeatSpan("empty", 0.0, times[0])
        until = times[k + 1] if k + 1 < len(times) else None
        at, state = self._seats[index][k]
        return SeatSpan(state, at, until)

    def dropped(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.dropouts)

    def truth(self, t: float) -> list[bool | None]:
        """Per seat: True if the clerk is seated, False if not, None during a camera drop-out."""
        if self.dropped(t):
            return [None] * self.seat_count
        return [self.seat(i, t).state in SEATED for i in range(1, self.seat_count + 1)]

    def gain(self, t: float) -> float:
        k = bisect.bisect_right(self._light_times, t) - 1
        if k < 0:
            return 1.0
        at, gain, ramp = self._lights[k]
        if ramp > 0 and t < at + ramp:
            before = self._gain_before(k)
            return before + (gain - before) * (t - at) / ramp
        return gain

    def _gain_before(self, k: int) -> float:
        return self.gain(self._lights[k][0] - 1e-9) if k > 0 else 1.0

    def noise(self, t: float) -> float:
        k = bisect.bisect_right(self._noise_times, t) - 1
        return self._noise[k][1] if k >= 0 else 2.0


def _time(tok: str) -> float:
    if ":" in tok:
        m, s = tok.split(":", 1)
        return int(m) * 60 + float(s)
    return float(tok)


def parse_timeline(text: str, name: str = "script") -> Timeline:
    """Parse a script (format in the module docstring). Raises TimelineError naming the line."""
    seats: dict[int, list[tuple[float, str]]] = {}
    lights: list[tuple[float, float, float]] = []
    noise: list[tuple[float, float]] = []
    dropouts: list[tuple[float, float]] = []
    drop_start: float | None = None
    last_t, end = 0.0, None
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue

        def fail(what: str, n: int = n, line: str = line) -> TimelineError:
            return TimelineError(f"{name} line {n}: {what}: {line.strip()!r}")

        try:
            t = _time(words[0])
        except ValueError:
            raise fail(f"bad time {words[0]!r} (seconds or m:ss)") from None
        if t < 0:
            raise fail("time is negative")
        if t < last_t:
            raise fail(f"time {t:g} is earlier than the previous line's {last_t:g}")
        last_t = t
        if len(words) < 2:
            raise fail("expected '<time> <target> <value>'")
        target, args = words[1].lower(), words[2:]
        if target == "end":
            if args:
                raise fail("'end' takes no value")
            end = t
        elif target.startswith("seat"):
            try:
                index = int(target[4:])
            except ValueError:
                raise fail(f"bad seat {words[1]!r} (seat1, seat2, ...)") from None
            if index < 1:
                raise fail("seats are numbered from 1")
            if len(args) != 1 or args[0].lower() not in SEAT_STATES:
                raise fail(f"seat state must be one of {', '.join(SEAT_STATES)}")
            seats.setdefault(index, []).append((t, args[0].lower()))
        elif target == "lights":
            ramp = 0.0
            if len(args) not in (1, 3) or (len(args) == 3 and args[1].lower() != "ramp"):
                raise fail("expected 'lights <gain> [ramp <seconds>]'")
            try:
                gain = float(args[0])
                if len(args) == 3:
                    ramp = float(args[2])
            except ValueError:
                raise fail("lights gain and ramp must be numbers") from None
            if not 0 < gain <= 4 or ramp < 0:
                raise fail("lights gain must be in (0, 4] and ramp >= 0")
            lights.append((t, gain, ramp))
        elif target == "noise":
            try:
                sigma = float(args[0]) if len(args) == 1 else -1
            except ValueError:
                sigma = -1
            if not 0 <= sigma <= 64:
                raise fail("expected 'noise <sigma>' with sigma in 0..64")
            noise.append((t, sigma))
        elif target == "camera":
            if len(args) != 1 or args[0].lower() not in ("dropout", "restore"):
                raise fail("expected 'camera dropout' or 'camera restore'")
            if args[0].lower() == "dropout":
                if drop_start is not None:
                    raise fail("camera is already dropped out")
                drop_start = t
            else:
                if drop_start is None:
                    raise fail("camera restore without a dropout")
                dropouts.append((drop_start, t))
                drop_start = None
        else:
            raise fail(f"unknown target {words[1]!r} (seat<N>, lights, noise, camera, end)")
    if drop_start is not None:
        dropouts.append((drop_start, float("inf")))
    duration = end if end is not None else last_t + 60.0
    return Timeline(seats, lights, noise, dropouts, duration, name)


SCRIPTS: dict[str, str] = {
    "day": """
        # two windows over half an hour
        0     noise 3
        0     seat1 empty
        0     seat2 empty
        30    seat1 pass       # someone walks through before opening
        40    seat1 empty
        60    seat1 work       # clerk 1 arrives
        120   seat2 work       # clerk 2 arrives
        400   seat1 sit        # reading, nearly still
        520   seat1 work
        600   seat2 empty      # clerk 2 leaves for five minutes
        640   seat2 stand      # a colleague stops beside the empty seat
        665   seat2 empty
        700   seat2 pass       # a passer-by
        710   seat2 empty
        900   seat2 work       # clerk 2 returns
        1000  lights 0.7 ramp 20
        1100  seat1 sit
        1300  seat1 work
        1400  lights 1.0 ramp 5
        1500  seat1 empty
        1540  seat1 pass
        1550  seat1 stand
        1570  seat1 empty
        1620  seat1 work
        1800  end
    """,
    "still": """
        # a clerk sitting still for 30 minutes
        0     noise 3
        0     seat1 empty
        10    seat1 sit
        1810  end
    """,
    "leave": """
        # works 5 minutes from the start (no empty period: the reference comes from set_reference),
        # leaves at 300 s, returns at 1200 s
        0     noise 3
        0     seat1 work
        300   seat1 empty
        1200  seat1 work
        1500  end
    """,
    "dropout": """
        0     noise 3
        0     seat1 empty
        20    seat1 work
        600   camera dropout   # mid-shift, clerk present
        660   camera restore
        800   seat1 empty
        900   camera dropout   # while the seat is empty
        960   camera restore
        1000  seat1 sit
        1200  end
    """,
    "lights": """
        0     noise 3
        0     seat1 empty
        30    lights 0.6
        60    lights 1.3 ramp 10
        90    lights 1.0
        120   seat1 work
        200   lights 0.6
        260   lights 1.3 ramp 5
        320   seat1 sit
        360   lights 0.8 ramp 30
        420   lights 1.0
        480   seat1 empty
        540   lights 0.6
        600   lights 1.3
        630   noise 8
        660   lights 1.0 ramp 20
        720   end
    """,
}


def builtin(name: str) -> Timeline:
    """A named built-in script (see SCRIPTS)."""
    try:
        return parse_timeline(SCRIPTS[name], name=name)
    except KeyError:
        raise KeyError(f"no built-in script {name!r} (have {', '.join(SCRIPTS)})") from None
