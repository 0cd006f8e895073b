"""The evaluator key-box driver over a real serial line: pyserial (evalbox+serial://) on the pseudo-terminal of
the KeyBoxSimulator, and sim://evaluator, which is the two together. A prompt lights the lamp; the first key within
the timeout counts; no key → None; a key with a bad checksum is dropped; a box that stops answering mid-prompt is
an error and the box's health goes offline."""
from __future__ import annotations

import threading

import pytest

from drivers.evaluator.base import EvaluatorError
from drivers.evaluator.simulator import KeyBoxSimulator
from drivers.health import DeviceState
from drivers.registry import drivers_of
from drivers.url import DeviceURLError


@pytest.fixture(scope="module")
def line():
    with KeyBoxSimulator(address=3) as sim:
        box = drivers_of("evaluator").create(f"evalbox+serial://{sim.port}?address=3&heartbeat=0.3&answer=0.5")
        box.open()
        yield sim, box
        box.close()


@pytest.fixture
def sim(line):
    sim, box = line
    sim.set_fault("none")
    box.last_error = ""
    return sim


@pytest.fixture
def box(line, sim):
    return line[1]


def when_lit(sim, *levels: int, lamp_ons: int | None = None) -> threading.Thread:
    """A citizen who presses `levels` once the lamp lights (for the `lamp_ons`-th time)."""
    want = (sim.faults()["lamp_ons"] + 1) if lamp_ons is None else lamp_ons

    def citizen() -> None:
        assert sim.wait_until(lambda: sim.faults()["lamp"] and sim.faults()["lamp_ons"] >= want, 5)
        for level in levels:
            sim.press(level)
    t = threading.Thread(target=citizen, daemon=True)
    t.start()
    return t


def test_the_schemes_are_registered():
    assert {"evalbox+serial", "sim"} <= set(drivers_of("evaluator").schemes)


def test_health_asks_the_box(box, sim):
    h = box.health()
    assert h.state is DeviceState.OK and "address 3" in h.detail and "lamp off" in h.detail
    assert box.status() == {"lamp": False, "presses": sim.faults()["presses"] & 0xFF}


def test_a_key_within_the_timeout_is_the_rating_and_puts_the_lamp_out(box, sim):
    acks = sim.faults()["key_acks"]
    t = when_lit(sim, 2)
    assert box.prompt(5) == 2
    t.join()
    assert sim.wait_until(lambda: not sim.faults()["lamp"] and sim.faults()["key_acks"] == acks + 1)


def test_the_first_key_counts(box, sim):
    t = when_lit(sim, 3, 5)
    assert box.prompt(5) == 3
    t.join()
    assert box.prompt(0.2) is None                  # the second press was before this lamp: it does not count


def test_no_key_within_the_timeout_is_none(box, sim):
    before = box.counters["not_rated"]
    assert box.prompt(0.7) is None                  # past a heartbeat: the box answered it
    assert box.counters["not_rated"] == before + 1
    assert sim.wait_until(lambda: not sim.faults()["lamp"])


def test_a_press_before_the_lamp_lights_does_not_count(box, sim):
    sim.press(1)
    assert box.prompt(0.2) is None


def test_a_key_with_a_bad_checksum_is_dropped(box, sim):
    bad = box.counters["bad_frames"]
    sim.set_fault("bad_checksum")
    when_lit(sim, 1, 4)
    assert box.prompt(5) == 4
    assert box.counters["bad_frames"] == bad + 1


def test_dead_keys_stay_silent_and_time_out(box, sim):
    sim.set_fault("silent")
    when_lit(sim, 5)
    assert box.prompt(0.7) is None


def test_cancel_ends_a_prompt_as_none(box, sim):
    t = threading.Thread(target=lambda: sim.wait_until(lambda: sim.faults()["lamp"], 5) and box.cancel())
    t.start()
    assert box.prompt(30) is None
    t.join()
    assert sim.wait_until(lambda: not sim.faults()["lamp"])


def test_a_box_unplugged_mid_prompt_is_an_error_and_offline(box, sim):
    def unplug() -> None:
        assert sim.wait_until(lambda: sim.faults()["lamp"], 5)
        sim.disconnect()
    threading.Thread(target=unplug, daemon=True).start()
    with pytest.raises(EvaluatorError) as exc:
        box.prompt(30)
    assert exc.value.code == "no_answer" and "did not answer" in exc.value.en and "评价器" in exc.value.zh
    h = box.health()
    assert h.state is DeviceState.OFFLINE and "did not answer" in h.detail
    sim.set_fault("none")                           # plugged back
    assert box.health().state is DeviceState.OK


def test_the_line_itself_going_away_is_an_error():
    sim = KeyBoxSimulator()
    port = sim.start()
    box = drivers_of("evaluator").create(f"evalbox+serial://{port}?heartbeat=0.2")
    box.open()
    try:
        threading.Thread(target=lambda: sim.wait_until(lambda: sim.faults()["lamp"], 5) and sim.stop(),
                         daemon=True).start()
        with pytest.raises(EvaluatorError):
            box.prompt(30)
        assert box.health().state is DeviceState.OFFLINE
    finally:
        box.close()
        sim.stop()


def test_sim_evaluator_runs_the_serial_driver_over_its_pty():
    dev = drivers_of("evaluator").create("sim://evaluator?heartbeat=0.3")
    with dev:
        assert dev.health().state is DeviceState.OK
        when_lit(dev.simulator, 2, lamp_ons=1)
        assert dev.prompt(5) == 2
        dev.simulate(fault="disconnect")
        assert dev.health().state is DeviceState.OFFLINE
        dev.simulate(fault="none")
        with pytest.raises(ValueError, match=r"level 1\.\.5"):
            dev.simulate(press="9")
        d = dev.diagnostics()
        assert d["kind"] == "evaluator" and d["rated"] == 1 and d["simulator"]["lamp_ons"] == 1
        assert "address" not in d                   # redacted as personal: the box's is "box"
    assert dev.simulator is None


@pytest.mark.parametrize("url, words", [
    ("sim://evaluator?lamp=on", "unknown option 'lamp'"),
    ("sim://evaluators", "sim://evaluator"),
    ("sim://evaluator?fault=melted", "'fault'"),
    ("evalbox+serial:///dev/ttyUSB4?baud=9600", "did you mean 'baudrate'"),
    ("evalbox+serial:///dev/ttyUSB4?address=0", "'address'"),
    ("evalbox+serial:///dev/ttyUSB4?baudrate=1234", "'baudrate'"),
    ("evalbox+serial://ttyUSB4", "three slashes"),
    ("evalbox+serial://", "no serial port"),
    ("evalbox+tcp://10.0.0.1:4001", "unknown evaluator scheme"),
])
def test_bad_urls_name_the_part(url, words):
    with pytest.raises(DeviceURLError, match=words):
        drivers_of("evaluator").create(url)


def test_a_missing_port_says_so():
    box = drivers_of("evaluator").create("evalbox+serial:///dev/ttyONEWINDOW-NONE")
    with pytest.raises(EvaluatorError, match="cannot open the evaluator key box's port"):
        box.open()
