"""The 离岗 rule and on-seat time (issue 7, item 3), on explicit times: no camera, no clock."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hall_server.seats.rules import Clear, Raise, SeatRules

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)          # 09:00 in the hall
N = 5 * 60                                             # away_alert_min = 5


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def run(rules: SeatRules, steps: list[tuple[float, str, object]], until: float) -> list[tuple[float, object]]:
    """Feed (second, kind, value) steps and tick every second; returns (second, action) in order."""
    out, pending = [], sorted(steps, key=lambda s: s[0])
    for sec in range(int(until) + 1):
        while pending and pending[0][0] <= sec:
            t, kind, value = pending.pop(0)
            if kind == "seat":
                got = rules.presence(3, value, at(t))
            else:
                state, clerk = value
                got = rules.window(3, state, clerk, at(t))
            out += [(t, a) for a in got]
        out += [(sec, a) for a in rules.tick(at(sec))]
    return out


def fresh() -> SeatRules:
    return SeatRules([3], N)


def test_leaving_an_open_window_raises_after_n_minutes_and_returning_clears():
    actions = run(fresh(), [(0, "window", ("open", "clerk3")), (0, "seat", "present"), (600, "seat", "away"),
                            (1200, "seat", "present")], 1300)
    assert [(t, type(a).__name__) for t, a in actions] == [(600 + N, "Raise"), (1200, "Clear")]
    raised, cleared = actions[0][1], actions[1][1]
    assert isinstance(raised, Raise) and raised.away_since == at(600) and raised.clerk == "clerk3"
    assert isinstance(cleared, Clear) and cleared.reason == "returned" and cleared.away_s == 600


@pytest.mark.parametrize(("steps", "why"), [
    ([(0, "window", ("open", "c")), (0, "seat", "present")], "sitting for 30 minutes"),
    ([(0, "window", ("paused", "c")), (0, "seat", "away")], "a paused window is exempt"),
    ([(0, "window", ("closed", None)), (0, "seat", "away")], "a closed window has nobody to watch"),
    ([(0, "window", ("open", "c")), (0, "seat", "present"), (60, "seat", "unknown")], "a broken camera is not away"),
    ([(0, "window", ("open", "c")), (0, "seat", "away"), (N - 10, "seat", "present")], "back before N minutes"),
])
def test_no_alert(steps, why):
    assert run(fresh(), steps, 30 * 60) == [], why


def test_the_count_starts_again_after_a_return():
    actions = run(fresh(), [(0, "window", ("open", "c")), (0, "seat", "away"), (N - 10, "seat", "present"),
                            (N, "seat", "away")], 3 * N)
    assert [(t, type(a).__name__) for t, a in actions] == [(2 * N, "Raise")]


def test_pausing_clears_and_resuming_counts_from_the_resume():
    actions = run(fresh(), [(0, "window", ("open", "c")), (0, "seat", "away"), (N + 10, "window", ("paused", "c")),
                            (N + 100, "window", ("open", "c"))], 3 * N)
    kinds = [(t, type(a).__name__, getattr(a, "reason", "")) for t, a in actions]
    assert kinds == [(N, "Raise", ""), (N + 10, "Clear", "paused"), (N + 100 + N, "Raise", "")]


def test_an_alert_stays_while_the_camera_cannot_see_and_clears_when_the_clerk_is_seen():
    actions = run(fresh(), [(0, "window", ("serving", "c")), (0, "seat", "away"), (N + 5, "seat", "unknown"),
                            (N + 600, "seat", "present")], N + 700)
    assert [(t, type(a).__name__) for t, a in actions] == [(N, "Raise"), (N + 600, "Clear")]


def test_on_seat_away_and_unknown_time_per_window_and_clerk():
    rules = fresh()
    run(rules, [(0, "window", ("open", "clerk3")), (0, "seat", "present"), (100, "seat", "away"),
                (160, "seat", "unknown"), (200, "seat", "present"), (300, "window", ("closed", None)),
                (400, "window", ("open", "clerk8"))], 500)
    times = rules.take_times(at(500))
    assert times[(3, "clerk3")] == {"present": 200.0, "away": 60.0, "unknown": 40.0}
    assert times[(3, "clerk8")] == {"present": 100.0, "away": 0.0, "unknown": 0.0}
    assert rules.take_times(at(560)) == {(3, "clerk8"): {"present": 60.0, "away": 0.0, "unknown": 0.0}}


def test_an_unknown_presence_word_is_refused():
    with pytest.raises(ValueError, match="not one of"):
        fresh().presence(3, "gone", at(0))
