"""The real caller keypad driver (caller+serial://) against the pty simulator, and sim://caller around both."""
from __future__ import annotations

import time

import pytest

from drivers.base import DeviceError
from drivers.caller.base import KeyPress
from drivers.caller.serial_keypad import SerialKeypad, from_url
from drivers.caller.simulator import KeypadSimulator
from drivers.health import DeviceState
from drivers.registry import registry
from drivers.url import DeviceURLError


def wait_for(cond, timeout=3.0):
    end = time.monotonic() + timeout
    while not (value := cond()):
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.01)
    return value


@pytest.fixture
def line():
    sim = KeypadSimulator(frozenset(range(1, 23)))
    port = sim.start()
    keypad = from_url(f"caller+serial://{port}")
    keypad.open()
    yield sim, keypad
    keypad.close()
    sim.stop()


def test_presses_arrive_with_address_and_key_and_are_acknowledged(line):
    sim, keypad = line
    assert keypad.read_key(0.1) is None
    sim.press(3, "call")
    sim.press(12, "evaluate")
    assert keypad.read_key(1) == KeyPress(3, "call")
    assert keypad.read_key(1) == KeyPress(12, "evaluate")
    assert wait_for(lambda: sim.acks == [(3, "call"), (12, "evaluate")])
    assert keypad.health().state is DeviceState.OK
    assert keypad.diagnostics()["presses"] == 2


@pytest.mark.parametrize("fault", ["garbled", "noise"])
def test_a_bad_frame_is_skipped_and_not_acknowledged(line, fault):
    sim, keypad = line
    sim.set_fault(fault)
    sim.press(4, "skip")                       # garbled: lost; noise: garbage before a good frame
    sim.press(5, "recall")
    got = [keypad.read_key(0.5), keypad.read_key(0.2)]
    if fault == "garbled":
        assert got == [KeyPress(5, "recall"), None]
        assert keypad.diagnostics()["bad_frames"] == 1
        assert wait_for(lambda: sim.acks == [(5, "recall")])
    else:
        assert got == [KeyPress(4, "skip"), KeyPress(5, "recall")]
        assert wait_for(lambda: sim.acks == [(4, "skip"), (5, "recall")])


def test_text_reaches_the_keypads_display(line):
    sim, keypad = line
    keypad.show(3, "请A001")
    keypad.show(4, "暂停服务")
    assert wait_for(lambda: sim.shown() == {3: "请A001", 4: "暂停服务"})
    with pytest.raises(DeviceError, match="address"):
        keypad.show(0, "x")


def test_the_simulator_refuses_keypads_that_are_not_there(line):
    sim, _ = line
    with pytest.raises(ValueError, match="no simulated keypad at address 30"):
        sim.press(30, "call")
    with pytest.raises(ValueError, match="unknown keypad key"):
        sim.press(3, "finish")


def test_a_closed_or_missing_port_is_a_device_error():
    keypad = from_url("caller+serial:///dev/does-not-exist")
    with pytest.raises(DeviceError, match="cannot open the caller keypads' port"):
        keypad.open()
    assert keypad.health().state is DeviceState.OFFLINE
    with pytest.raises(DeviceError, match="not open"):
        keypad.read_key(0)


@pytest.mark.parametrize(("url", "problem"), [
    ("caller+serial://ttyUSB3", "three slashes"),
    ("caller+serial:///dev/ttyUSB3?baud=9600", "unknown option 'baud'"),
    ("caller+serial:///dev/ttyUSB3?baudrate=1234", "bad value"),
    ("caller+serial://", "no serial port"),
    ("sim://caller?addresses=0-3", "1..254"),
    ("sim://callers", "sim://caller"),
])
def test_bad_urls_name_the_part_at_fault(url, problem):
    import drivers.caller  # noqa: F401  (registers the schemes)
    with pytest.raises(DeviceURLError, match=problem):
        registry("caller").create(url)


def test_pyserial_urls_pass_through():
    keypad = from_url("caller+serial://?port=loop://&baudrate=19200")
    assert isinstance(keypad, SerialKeypad) and (keypad.port, keypad.baudrate) == ("loop://", 19200)
    with keypad:
        assert keypad.read_key(0.1) is None


def test_sim_caller_runs_the_real_driver_on_the_simulator():
    import drivers.caller  # noqa: F401
    keypad = registry("caller").create("sim://caller?addresses=1-22")
    with keypad:
        keypad.simulate(press="pause", address=7)
        assert keypad.read_key(1) == KeyPress(7, "pause")
        keypad.show(7, "暂停服务")
        wait_for(lambda: keypad.faults()["shown"] == {7: "暂停服务"})
        assert keypad.faults()["acks"] == 1
        for bad in ({"press": "call"}, {"press": "dance", "address": 3}, {"press": "call", "address": 40},
                    {"fault": "fire"}):
            with pytest.raises(ValueError):
                keypad.simulate(**bad)
        assert keypad.diagnostics()["last_press"] == {"keypad": 7, "key": "pause"}
    assert keypad.health().state is DeviceState.OFFLINE
