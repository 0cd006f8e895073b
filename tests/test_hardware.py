"""Hardware in the loop: the simulator tests' checks, against the device at --device-url.

    pytest -m hardware --device-url escpos+tcp://192.168.10.31:9100
    pytest -m hardware --device-url sam+serial:///dev/ttyUSB0 --device-wait 30        (place a card meanwhile)
    pytest -m hardware --device-url led+serial:///dev/ttyUSB1 --device-address 3
    pytest -m hardware --device-url caller+serial:///dev/ttyUSB3 --device-wait 30     (press a key meanwhile)
    pytest -m hardware --device-url cv://0

Each test applies to one kind of device (the URL's scheme says which, or --device-kind) and skips the rest;
without --device-url they all skip (tests/conftest.py). The last tests run this file against each simulator
in a pytest of its own, so these checks are known to work before a technician meets them.
"""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from drivers.health import DeviceState
from drivers.registry import registry

ROOT = Path(__file__).resolve().parent.parent
KIND_OF_SCHEME = {"escpos+tcp": "printer", "escpos+usb": "printer", "escpos+serial": "printer",
                  "escpos+file": "printer", "sam+serial": "idcard", "pcsc": "idcard", "led+serial": "display",
                  "modbus7+serial": "display", "caller+serial": "caller", "cv": "camera"}
KIND_OF_SIMULATOR = {"printer": "printer", "idcard": "idcard", "sscard": "idcard", "display": "display",
                     "caller": "caller", "camera": "camera"}
WORKING = (DeviceState.OK, DeviceState.DEGRADED)


def device_kind(url: str, given: str | None = None) -> str | None:
    """The kind of device a URL names (printer, idcard, display, caller, camera), or None."""
    if given:
        return given
    parts = urlsplit(url)
    if parts.scheme == "sim":
        return KIND_OF_SIMULATOR.get(parts.hostname or "")
    return KIND_OF_SCHEME.get(parts.scheme)


@pytest.fixture
def device_url(request) -> str:
    url = request.config.getoption("--device-url")
    if not url:
        pytest.skip("no --device-url given")
    return url


@pytest.fixture
def wait(request) -> float:
    return request.config.getoption("--device-wait")


@pytest.fixture
def address(request) -> int:
    return request.config.getoption("--device-address")


@pytest.fixture
def device_for(request, device_url):
    """`device_for(kind)`: the device at --device-url, opened (closed after the test); skips other kinds."""
    opened = []

    def open_device(kind: str):
        url_kind = device_kind(device_url, request.config.getoption("--device-kind"))
        if url_kind != kind:
            pytest.skip(f"{device_url} is {url_kind or 'no known kind of'} device; this test is for {kind} devices")
        importlib.import_module(f"drivers.{kind}")          # registers the kind's URL schemes
        device = registry(kind).create(device_url)
        device.open()
        opened.append(device)
        return device

    yield open_device
    for device in opened:
        device.close()


@pytest.mark.hardware
def test_printer(device_for):
    printer = device_for("printer")
    from drivers.printer.receipt import Receipt
    health = printer.health()
    assert health.state in WORKING, health.detail
    printer.print_receipt(Receipt(
        hall_name="onewindow 硬件测试 / hardware test", number="T001", matter_name="测试小票 test receipt",
        waiting_ahead=0, estimated_wait_s=0, issued_at=time.strftime("%Y-%m-%d %H:%M"),
        status_url="http://onewindow.invalid/t/0", materials=["中文 GB18030 与 ASCII"], header=[],
        footer=["如能读到本行，中文打印正常。", "If you can read this, printing works."],
        width=getattr(printer, "width", 80)))
    simulator = getattr(printer, "simulator", None)
    if simulator is not None:
        receipts = simulator.wait_receipts(1, timeout=10)
        assert receipts and "T001" in Path(receipts[-1]["png"]).with_suffix(".txt").read_text(encoding="utf-8")
    assert printer.health().state in WORKING


@pytest.mark.hardware
def test_idcard(device_for, wait):
    reader = device_for("idcard")
    from drivers.idcard import gb11643
    health = reader.health()
    assert health.state is DeviceState.OK, health.detail
    card = reader.read_card(wait)
    if card is None:
        pytest.skip(f"the reader is ready, but no card was placed within {wait:g} s: the read was not tried")
    try:                                # no card data in a failure message: only whether it checks out
        number_ok = bool(gb11643.validate(card.id_number))
    except gb11643.InvalidIdNumber:
        number_ok = False
    has_name = bool(card.name.strip())
    del card
    assert number_ok, "the card's ID number does not pass the GB 11643 check: the text block was misread"
    assert has_name, "the card's name came back empty"
    assert reader.health().state is DeviceState.OK


@pytest.mark.hardware
def test_display(device_for, address):
    display = device_for("display")
    display.show(address, "A001")
    health = display.health()
    assert health.state in WORKING, health.detail
    shown = display.shown().get(address) if hasattr(display, "shown") else "A001"
    assert shown, f"screen {address} did not take the text: {display.diagnostics()}"
    simulator = getattr(display, "simulator", None)
    if simulator is not None:           # the simulated screen reads the line on its own time
        assert simulator.wait_for(address, shown, timeout=5), simulator.faults()


@pytest.mark.hardware
def test_caller(device_for, address, wait):
    keypad = device_for("caller")
    health = keypad.health()
    assert health.state in WORKING, health.detail
    if getattr(keypad, "simulator", None) is not None:
        keypad.simulate(press="call", address=address)        # the simulator's technician presses the key
    press = keypad.read_key(wait)
    if press is None:
        pytest.skip(f"the keypad line is open, but no key was pressed within {wait:g} s")
    from drivers.caller.frames import KEYS
    assert press.key in KEYS and 1 <= press.address <= 254


@pytest.mark.hardware
def test_camera(device_for, wait):
    camera = device_for("camera")
    first = camera.read(timeout=wait)
    assert first is not None, f"no frame within {wait:g} s: {camera.health().detail}"
    span, frames, start = max(2.0, 4 / camera.rate), 0, time.monotonic()
    while time.monotonic() - start < span:
        frames += camera.read(timeout=span) is not None
    rate = frames / (time.monotonic() - start)
    assert rate >= 0.5 * camera.rate, f"{rate:.1f} frames/s of the {camera.rate:g} configured"
    width, height = camera.resolution
    assert width > 0 and height > 0
    options = camera.url.options
    if "width" in options and "height" in options:
        assert (width, height) == (options["width"], options["height"])
    assert camera.health().state in WORKING


# -- the tests above, proven against the simulators --------------------------------------------------
SEATS_SCRIPT = "0 noise 3\n0 seat1 empty\n0 seat2 work\n2 seat1 work\n30 end\n"


def simulators(tmp: Path) -> dict[str, str]:
    (tmp / "seats.txt").write_text(SEATS_SCRIPT, encoding="utf-8")
    return {"printer": f"sim://printer?out={tmp}/printer",
            "idcard": "sim://idcard?card=elder&reads=stay",
            "display": f"sim://display?addresses=1-3&gap_ms=0&wall_s=60&out={tmp}/display",
            "caller": "sim://caller?addresses=1-3",
            "camera": f"sim://camera?script={tmp}/seats.txt&width=160&height=90&rate=4&seats=2&cache={tmp}/camera"}


def pytest_run(*args: str) -> subprocess.Popen:
    # without the installed plugins (hypothesis alone costs 1.5 s of CPU to import): these runs use none
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.Popen([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-m", "hardware",
                             *args, "tests/test_hardware.py"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)


def test_hardware_tests_pass_against_each_simulator(tmp_path):
    runs = {kind: pytest_run("--device-url", url, "--device-wait", "10", "--device-address", "2")
            for kind, url in simulators(tmp_path).items()}
    for kind, run in runs.items():
        out, _ = run.communicate(timeout=240)
        assert run.returncode == 0, out
        assert f"test_hardware.py::test_{kind} PASSED" in out, out
        assert "1 passed, 4 skipped" in out, out


def test_hardware_tests_skip_without_a_device_url():
    run = pytest_run("-ra")
    out, _ = run.communicate(timeout=120)
    assert run.returncode == 0, out
    assert "5 skipped" in out and "no --device-url given" in out and "passed" not in out


@pytest.mark.parametrize("url,kind", [
    ("escpos+tcp://192.168.10.31:9100", "printer"), ("escpos+usb://0x0416:0x5011", "printer"),
    ("sam+serial:///dev/ttyUSB0", "idcard"), ("pcsc://?reader=ACS", "idcard"), ("sim://sscard", "idcard"),
    ("led+serial:///dev/ttyUSB1", "display"), ("modbus7+serial:///dev/ttyUSB2", "display"),
    ("caller+serial:///dev/ttyUSB3", "caller"), ("cv://rtsp://192.168.10.50/stream1", "camera"),
    ("sim://camera", "camera"), ("tts://espeak", None),
])
def test_device_kind_comes_from_the_url(url, kind):
    assert device_kind(url) == kind
    assert device_kind(url, "display") == "display"
