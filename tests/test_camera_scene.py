"""The camera simulator: scripted timelines and the synthetic office scene."""
from __future__ import annotations

import numpy as np
import pytest

from drivers.camera.presence import Roi
from drivers.camera.simulator import SCRIPTS, Scene, TimelineError, builtin, default_rois, parse_timeline

SCRIPT = """
# a comment line
0     noise 0
0     seat1 empty
10    seat1 sit
20    seat1 work
30    seat1 stand
40    seat1 pass
50    seat1 empty
60    lights 0.5
70    lights 1.5 ramp 10
90    camera dropout
1:40  camera restore
120   end
"""


@pytest.fixture(scope="module")
def scene() -> Scene:
    return Scene(timeline=parse_timeline(SCRIPT, name="test"), seed=3)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_builtin_scripts_parse(name):
    tl = builtin(name)
    assert tl.duration >= 600
    assert tl.seat_count == (2 if name == "day" else 1)


def test_unknown_builtin_names_the_choices():
    with pytest.raises(KeyError, match="have day"):
        builtin("night")


@pytest.mark.parametrize(("t", "state", "truth"), [
    (5, "empty", False), (15, "sit", True), (25, "work", True), (35, "stand", False), (42, "pass", False),
    (55, "empty", False), (95, "empty", None), (110, "empty", False),
])
def test_truth_per_state(scene, t, state, truth):
    assert scene.timeline.seat(1, t).state == state
    frame, tr = scene.render(t)
    assert tr == [truth]
    assert scene.truth(t) == [truth]
    assert (frame is None) == (truth is None)


def test_frame_shape_and_type(scene):
    f = scene.frame(15)
    assert f.shape == (360, 640, 3) and f.dtype == np.uint8


def test_deterministic_for_same_seed_and_t():
    a, b = Scene(seed=5, timeline="day"), Scene(seed=5, timeline="day")
    for t in (0, 61.5, 333.25, 702.0):
        assert np.array_equal(a.frame(t), b.frame(t))
    assert not np.array_equal(a.frame(200), Scene(seed=6, timeline="day").frame(200))


def test_people_change_the_roi_and_nothing_else_when_empty(scene):
    x, y, w, h = scene.roi_pixels(0)
    empty, seated = scene.frame(5).astype(int), scene.frame(15).astype(int)
    assert np.abs(seated - empty)[y:y + h, x:x + w].mean() > 20      # the clerk is drawn in the ROI
    assert np.abs(scene.frame(55).astype(int) - empty).max() == 0     # noise 0: an empty seat is static


def test_sitting_clerk_moves_a_little_and_working_clerk_more(scene):
    x, y, w, h = scene.roi_pixels(0)

    def change(t0, t1):
        return float(np.abs(scene.frame(t1).astype(int) - scene.frame(t0).astype(int))[y:y + h, x:x + w].mean())

    assert 0 < change(15, 16) < 2
    assert change(25, 27) > change(15, 16) * 2


def test_dropout_gives_no_frame(scene):
    frame, truth = scene.render(95)
    assert frame is None and truth == [None]
    assert scene.render(100)[0] is not None           # restored at 1:40


@pytest.mark.parametrize(("t", "gain"), [(65, 0.5), (75, 1.0), (85, 1.5)])
def test_lighting_gain_scales_brightness(scene, t, gain):
    assert scene.timeline.gain(t) == pytest.approx(gain)
    base = scene.frame(55).mean()
    assert scene.frame(t).mean() == pytest.approx(base * gain, rel=0.08)


def test_noise_level_follows_the_script():
    sc = Scene(timeline="0 noise 0\n0 seat1 empty\n10 noise 8\n20 end")
    quiet = sc.frame(1).astype(int) - sc.frame(2).astype(int)
    noisy = sc.frame(11).astype(int) - sc.frame(12).astype(int)
    assert quiet.std() == 0
    assert 8 < noisy.std() < 14                        # difference of two frames: sigma * sqrt(2)


def test_empty_frame_matches_an_empty_seat(scene):
    assert np.array_equal(scene.empty_frame(), scene.frame(5))


def test_default_rois_and_pixels():
    rois = default_rois(2)
    assert len(rois) == 2 and rois[0].x < rois[1].x
    assert rois[0].to_pixels(640, 360) == (51, 54, 218, 227)
    assert Roi(0.25, 0.5, 0.5, 0.5).to_pixels(100, 50) == (25, 25, 50, 25)
    x, y, w, h = Roi(0.5, 0.5, 0.5, 0.5).to_pixels(101, 51)        # rounding never leaves the frame
    assert x + w <= 101 and y + h <= 51 and w >= 50 and h >= 25


@pytest.mark.parametrize("args", [(-0.1, 0, 0.5, 0.5), (0, 0, 0, 0.5), (0.6, 0, 0.5, 0.5), (0, 0.9, 0.5, 0.2)])
def test_roi_rejects_regions_outside_the_frame(args):
    with pytest.raises(ValueError):
        Roi(*args)


def test_scene_needs_a_roi_per_seat():
    with pytest.raises(ValueError, match="2 seats"):
        Scene(seats=[Roi(0.1, 0.1, 0.3, 0.6)], timeline="day")


@pytest.mark.parametrize(("text", "line", "what"), [
    ("0 seat1 empty\nten seat1 sit", 2, "bad time 'ten'"),
    ("0 seat1 empty\n10 seat1 sitting", 2, "seat state must be one of"),
    ("5 seat1 empty\n3 seat1 sit", 2, "earlier than the previous"),
    ("0 seatX empty", 1, "bad seat 'seatX'"),
    ("0 seat0 empty", 1, "numbered from 1"),
    ("0 lights dim", 1, "must be numbers"),
    ("0 lights 0", 1, "gain must be in"),
    ("0 lights 0.5 over 3", 1, "lights <gain> [ramp <seconds>]"),
    ("0 noise", 1, "noise <sigma>"),
    ("0 camera off", 1, "camera dropout"),
    ("0 camera restore", 1, "restore without a dropout"),
    ("0 camera dropout\n1 camera dropout", 2, "already dropped out"),
    ("# fine\n\n0 printer jam", 3, "unknown target 'printer'"),
    ("0", 1, "expected '<time> <target> <value>'"),
    ("-1 seat1 sit", 1, "negative"),
    ("9 end now", 1, "no value"),
])
def test_script_errors_name_the_line_and_the_problem(text, line, what):
    with pytest.raises(TimelineError) as err:
        parse_timeline(text, name="mine")
    msg = str(err.value)
    assert msg.startswith(f"mine line {line}: ")
    assert what in msg


def test_open_ended_dropout_and_default_duration():
    tl = parse_timeline("0 seat1 sit\n30 camera dropout")
    assert tl.duration == 90 and tl.dropped(10_000) and tl.truth(40) == [None]


def test_extra_rois_are_empty_seats():
    sc = Scene(seats=default_rois(3), timeline="still")
    assert sc.truth(100) == [True, False, False]
    assert sc.render(100)[0].shape == (360, 640, 3)
