"""The real LedBus and Modbus7Bus, through pyserial, against the screen-wall simulator on a pseudo-terminal."""
from __future__ import annotations

import itertools
import os
import threading
import time

import pytest
import serial
from PIL import Image

from drivers.display import DisplayError
from drivers.display.frames import crc16_modbus, decode_response, write_register
from drivers.display.led_serial import from_url as led_from_url
from drivers.display.modbus7 import NO_ANSWER
from drivers.display.modbus7 import from_url as modbus_from_url
from drivers.display.simulator import DisplayBusSimulator
from drivers.health import DeviceState
from drivers.registry import registry
from drivers.url import DeviceURLError

displays = registry("display")
GAP_MS = 20


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(autouse=True)
def no_leftovers():
    """Every test closes its simulator threads and file descriptors."""
    before = fd_count()
    yield
    assert not [t for t in threading.enumerate() if t.name.startswith("display-sim")]
    assert fd_count() <= before


@pytest.fixture
def led_sim():
    with DisplayBusSimulator("led", addresses={1, 2, 3, 99}) as sim:
        yield sim


@pytest.fixture
def led(led_sim):
    with led_from_url(f"led+serial://{led_sim.port}?gap_ms={GAP_MS}") as bus:
        yield bus


@pytest.fixture
def modbus_sim():
    with DisplayBusSimulator("modbus7", addresses={1, 2, 3}, digits=4) as sim:
        yield sim


@pytest.fixture
def modbus(modbus_sim):
    with modbus_from_url(f"modbus7+serial://{modbus_sim.port}?timeout=1&retries=1") as bus:
        yield bus


def until(condition, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# -- text boards -----------------------------------------------------------------------------------
def test_led_screens_show_what_was_sent(led_sim, led):
    calls = {1: "请A001到3号窗口", 2: "暂停服务", 99: "请A001号到3号窗口办理"}
    for address, text in calls.items():
        led.show(address, text)
    assert led_sim.wait_for(99, "请A001号到3号窗")               # cut at 16 bytes, whole characters only
    assert led_sim.screens == {1: "请A001到3号窗口", 2: "暂停服务", 99: "请A001号到3号窗"}
    assert led.shown() == led_sim.screens
    led.clear(2)
    assert led_sim.wait_for(2, "") and led_sim.screens[2] == ""
    assert led.health().state == DeviceState.OK


def test_led_frames_keep_the_gap(led_sim):
    with led_from_url(f"led+serial://{led_sim.port}?gap_ms=80") as bus:
        writes: list[float] = []
        write = bus._serial.write

        def timed(data):
            writes.append(time.monotonic())
            return write(data)
        bus._serial.write = timed               # when the driver writes: the simulator's reads lag under load
        bus.show(1, "A001")
        for n in range(2, 5):
            bus.show(1, f"A00{n}")
        assert led_sim.wait_for(1, "A004")
    assert [text for _, text, _ in led_sim.log] == ["A001", "A002", "A003", "A004"]
    assert len(writes) == 4
    assert min(b - a for a, b in itertools.pairwise(writes)) >= 0.080


def test_led_no_wait_for_the_first_frame_or_after_a_pause(led_sim):
    # a gap long enough that waiting it (or not) shows whatever else the machine is doing
    with led_from_url(f"led+serial://{led_sim.port}?gap_ms=600") as bus:
        started = time.monotonic()
        bus.show(1, "A")
        assert time.monotonic() - started < 0.3           # the first frame does not wait
        time.sleep(0.65)                                    # the gap has passed
        started = time.monotonic()
        bus.show(1, "B")
        assert time.monotonic() - started < 0.3


def test_ascii_boards_draw_question_marks(led_sim):
    with led_from_url(f"led+serial://?port={led_sim.port}&encoding=ascii&gap_ms=0&widths=3:4") as bus:
        bus.show(1, "请A001")
        bus.show(3, "ABCDEFG")
        assert led_sim.wait_for(3, "ABCD")
        assert led_sim.screens[1] == "?A001"


def test_led_absent_and_dead_screens_cannot_be_seen(led_sim, led):
    led.show(7, "A001")                        # no board at 7
    led_sim.set_fault("dead")
    led.show(1, "A002")
    assert until(lambda: [a for a, _, _ in led_sim.log] == [7, 1])     # on the wire, but not shown
    led_sim.set_fault("none")
    led.show(2, "A003")
    assert led_sim.wait_for(2, "A003")
    assert 7 not in led_sim.screens and 1 not in led_sim.screens
    assert led.health().state == DeviceState.OK          # a one-way bus cannot see a dead screen
    assert "never answer" in led.health().detail


def test_led_write_failure_is_offline_with_advice(led_sim, led):
    led.show(1, "A001")
    led_sim.stop()
    with pytest.raises(DisplayError, match="check the RS-485 adapter"):
        led.show(1, "A002")
    health = led.health()
    assert health.state == DeviceState.OFFLINE and "opened again on the next write" in health.detail
    with pytest.raises(DisplayError, match="cannot open"):
        led.show(1, "A003")


def test_led_rejects_a_bad_address(led):
    with pytest.raises(DisplayError, match=r"0\.\.255"):
        led.show(256, "A")


# -- 7-segment Modbus screens ----------------------------------------------------------------------
def test_modbus_screens_show_numbers_and_text(modbus_sim, modbus):
    modbus.show(1, "123")
    modbus.show(2, "A012")
    modbus.show(3, "007")
    assert modbus_sim.screens == {1: " 123", 2: "A012", 3: " 007"}
    assert modbus.shown() == modbus_sim.screens
    assert modbus.health().state == DeviceState.OK
    assert modbus.diagnostics()["writes"] == 3


def test_an_absent_screen_is_named(modbus_sim, modbus):
    def heard() -> int:         # bytes the screens' line has carried from the driver
        return sum(len(t.data) for t in modbus_sim.traffic if t.direction == "rx")

    before = heard()
    modbus.show(1, "1")
    one_request = heard() - before
    before = heard()
    with pytest.raises(DisplayError) as caught:
        modbus.show(9, "2")
    assert str(caught.value) == NO_ANSWER.format(address=9)
    assert "address switch" in str(caught.value)
    assert heard() - before == one_request                 # silence is not retried: one request, not two
    health = modbus.health()
    assert health.state == DeviceState.DEGRADED and "at 9 failed" in health.detail


def test_dead_screens_are_offline(modbus_sim, modbus):
    modbus_sim.set_fault("dead")
    for address in (1, 2):
        with pytest.raises(DisplayError, match="does not answer"):
            modbus.show(address, "5")
    assert modbus_sim.screens == {}
    health = modbus.health()
    assert health.state == DeviceState.OFFLINE and "1, 2" in health.detail
    modbus_sim.set_fault("none")
    modbus.show(1, "5")
    modbus.show(2, "5")
    assert modbus.health().state == DeviceState.OK


def test_garbled_answers_are_retried_then_reported(modbus_sim, modbus):
    modbus_sim.set_fault("garbled")
    with pytest.raises(DisplayError, match="answered garbled 2 time"):
        modbus.show(1, "12")
    assert modbus.diagnostics()["garbled_answers"] == 2
    assert modbus.health().state == DeviceState.OFFLINE


def test_modbus_port_failure_is_offline(modbus_sim, modbus):
    modbus_sim.stop()
    with pytest.raises(DisplayError, match="failed"):
        modbus.show(1, "1")
    assert modbus.health().state == DeviceState.OFFLINE


def test_simulator_answers_like_a_slave(modbus_sim):
    with serial.serial_for_url(modbus_sim.port, timeout=0.3) as port:
        port.write(write_register(1, 0x55, 1))             # no such register: exception 02
        answer = port.read(5)
        assert decode_response(answer).exception == 2
        body = bytes([2, 0x03, 0, 0, 0, 1])               # FC03 read: not a function of these screens
        port.write(body + crc16_modbus(body).to_bytes(2, "little"))
        assert decode_response(port.read(5)).exception == 1
        port.write(write_register(1, 0, 42)[:4])          # half a frame, then silence: dropped
        time.sleep(0.1)
        port.write(write_register(1, 0, 43))
        assert port.read(8) == write_register(1, 0, 43)
        assert modbus_sim.screens[1] == "  43" and modbus_sim.faults()["bad_frames"] == 1
        port.write(write_register(0, 0, 7))                # broadcast: every screen, no answer
        assert port.read(8) == b""
        assert set(modbus_sim.screens.values()) == {"   7"}


# -- sim://display and the wall --------------------------------------------------------------------
def dark_screens(image: Image.Image, y: int) -> int:
    """How many screen rectangles the row `y` crosses (a screen is near-black; the wall is grey)."""
    row = [sum(image.getpixel((x, y))) < 60 for x in range(image.width)]
    return sum(1 for x in range(1, len(row)) if row[x] and not row[x - 1])


def test_the_wall_renders_every_screen(led_sim, led, tmp_path):
    led.show(1, "请A001到3号窗口")
    led.show(99, "暂停服务")
    assert led_sim.wait_for(99, "暂停服务")
    drawn = led_sim.render_png(tmp_path / "wall.png")
    assert drawn == [1, 2, 3, 99]
    image = Image.open(tmp_path / "wall.png").convert("RGB")
    assert dark_screens(image, 16 + 10) == 4
    lit = sum(1 for x in range(image.width) for y in range(16, 60) if image.getpixel((x, y))[0] > 150)
    assert lit > 100                                     # red LED text was drawn
    assert led_sim.render_png(tmp_path / "rows.png", layout=[[1, 2], [3], [99]]) == [1, 2, 3, 99]
    rows = Image.open(tmp_path / "rows.png").convert("RGB")
    assert rows.height > image.height and dark_screens(rows, 26) == 2


def test_sim_display_through_the_registry(tmp_path):
    url = f"sim://display?protocol=led&addresses=1-3,99&gap_ms={GAP_MS}&out={tmp_path}"
    with displays.create(url) as display:
        display.show(1, "请A001到3号窗口")
        display.show(99, "暂停服务")
        assert display.simulator.wait_for(99, "暂停服务")
        deadline = time.monotonic() + 2
        while not (tmp_path / "wall.png").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "wall.png").stat().st_size > 0
        display.simulate(fault="dead")
        assert display.faults()["fault"] == "dead"
        assert display.faults()["screens"] == {1: "请A001到3号窗口", 99: "暂停服务"}
        assert display.diagnostics()["wall"] == str(tmp_path / "wall.png")
    assert Image.open(tmp_path / "wall.png").size[0] > 0


def test_sim_display_modbus(tmp_path):
    url = f"sim://display?protocol=modbus7&addresses=1-2&digits=4&timeout=0.2&fault=dead&out={tmp_path}"
    with displays.create(url) as display:
        with pytest.raises(DisplayError, match="does not answer"):
            display.show(1, "12")
        display.simulate(fault="none")
        display.show(1, "12")
        assert display.faults()["screens"] == {1: "  12"}
        assert display.health().state == DeviceState.OK


@pytest.mark.parametrize(("url", "named"), [
    ("led+serial:///dev/ttyUSB1?encodng=gb2312", "did you mean 'encoding'"),
    ("led+serial:///dev/ttyUSB1?encoding=big5", "'encoding'"),
    ("led+serial:///dev/ttyUSB1?gap_ms=-1", "'gap_ms'"),
    ("led+serial:///dev/ttyUSB1?widths=99", "'widths'"),
    ("led+serial:///dev/ttyUSB1?baudrate=9601", "'baudrate'"),
    ("led+serial://ttyUSB1", "three slashes"),
    ("led+serial://", "no serial port"),
    ("led+serial://?port=nosuch://x", "pyserial has no nosuch://"),
    ("modbus7+serial:///dev/ttyUSB2?digits=0", "'digits'"),
    ("modbus7+serial:///dev/ttyUSB2?timeout=0", "'timeout'"),
    ("modbus7+serial:///dev/ttyUSB2?gap_ms=20", "unknown option 'gap_ms'"),
    ("sim://display?addresses=5-1", "'addresses'"),
    ("sim://display?protocol=alpha", "'protocol'"),
    ("sim://display?fault=smoke", "'fault'"),
    ("sim://displays", "sim://display"),
    ("led+seriel:///dev/ttyUSB1", r"did you mean led\+serial://"),
])
def test_url_errors_name_the_part(url, named):
    with pytest.raises(DeviceURLError, match=named):
        displays.create(url)
