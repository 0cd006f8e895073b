"""Seat monitoring end to end in simulated time (issue 7): scripted camera frames → the seat's presence model
→ the hall's 离岗 rule, as the hall server chains them, at 2 frames/s, with away_alert_min = 5.

A clerk sitting still for 30 minutes raises nothing; a clerk who leaves an open window is alerted within
N minutes + 5 s of leaving and cleared on return; a camera drop-out reads "unknown", never "away", and
raises nothing; a paused window is exempt.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drivers.camera.presence import SeatPresence
from drivers.camera.simulator import Scene
from hall_server.seats.rules import Clear, Raise, SeatRules

pytestmark = pytest.mark.slow          # several 30-minute scripts: 10-20 s in all
T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
RATE = 2.0
N_MIN = 5


def play(script: str, *, window_state=lambda t: "open", seat: int = 0, until: float | None = None,
         n_min: float = N_MIN):
    """Run a built-in script through one seat's model and the rule; returns (presence per frame, actions)."""
    # a quarter of the pixels: these are the rules; the model's accuracy at 640x360 is test_presence.py
    scene = Scene(320, 180, seed=3, timeline=script)
    model = SeatPresence(scene.rois[seat], debounce_s=2.5)
    model.set_reference(scene.empty_frame())           # the technician's empty-seat snapshot
    rules = SeatRules([3], n_min * 60)
    states, actions = [], []
    end = until or scene.duration
    for i in range(int(end * RATE)):
        t = i / RATE
        at = T0 + timedelta(seconds=t)
        image, truth = scene.render(t)
        actions += [(t, a) for a in rules.window(3, window_state(t), "clerk3", at)]
        state = model.update(image, t)
        actions += [(t, a) for a in rules.presence(3, state, at)]
        actions += [(t, a) for a in rules.tick(at)]
        states.append((t, state, truth[seat]))
    return states, actions


def test_a_clerk_sitting_still_for_30_minutes_is_never_alerted():
    states, actions = play("still")
    sat = next(t for t, s, _truth in states if s == "present")
    assert sum(1 for t, s, _truth in states if t >= sat) >= (30 * 60 - 5) * RATE     # 30 minutes seated …
    assert {s for t, s, _truth in states if t >= sat} == {"present"}            # … and never anything else
    assert actions == []


def test_leaving_is_alerted_within_n_minutes_and_5_seconds_and_cleared_on_return():
    states, actions = play("leave")                     # works, leaves at 300 s, returns at 1200 s
    left = next(t for t, _s, truth in states if truth is False)
    back = next(t for t, _s, truth in states if t > left and truth)
    raises = [(t, a) for t, a in actions if isinstance(a, Raise)]
    clears = [(t, a) for t, a in actions if isinstance(a, Clear)]
    assert len(raises) == 1 and len(clears) == 1
    assert left + N_MIN * 60 <= raises[0][0] <= left + N_MIN * 60 + 5, (left, raises)
    assert back <= clears[0][0] <= back + 5 and clears[0][1].reason == "returned"
    assert clears[0][1].away_s >= (back - left) - 5


def test_a_camera_drop_out_is_unknown_never_away_and_raises_nothing():
    states, actions = play("dropout")
    dropped = [s for t, s, truth in states if truth is None]
    assert len(dropped) == 2 * 60 * RATE and set(dropped) == {"unknown"}
    # the clerk leaves at 800 s for 200 s (less than 5 minutes), the camera drops out meanwhile: nothing raised
    assert actions == []


def test_a_paused_window_is_exempt():
    _, actions = play("leave", window_state=lambda t: "paused" if 250 <= t < 1250 else "open")
    assert actions == []


def test_busy_day_of_two_windows():
    """The day script with away_alert_min = 4: clerk 2 leaves for five minutes (600-900 s) while a colleague
    stands by and someone passes; clerk 1 reads, works, the lights dim. Only clerk 2 is alerted, once."""
    _, first = play("day", seat=0, n_min=4, window_state=lambda t: "open" if 60 <= t < 1500 else "closed")
    _, second = play("day", seat=1, n_min=4, window_state=lambda t: "open" if t >= 120 else "closed")
    assert first == []
    raises = [t for t, a in second if isinstance(a, Raise)]
    clears = [(t, a.reason) for t, a in second if isinstance(a, Clear)]
    assert len(raises) == 1 and 600 + 4 * 60 <= raises[0] <= 600 + 4 * 60 + 5
    assert len(clears) == 1 and 900 <= clears[0][0] <= 905 and clears[0][1] == "returned"
