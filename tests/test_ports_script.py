"""scripts/ports: serial ports and USB devices classified from the KNOWN table (fakes, as this machine has no
USB devices), and one real run that must succeed with whatever is (not) plugged in."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "ports"


def load_script():
    loader = importlib.machinery.SourceFileLoader("ports_script", str(SCRIPT))
    spec = importlib.util.spec_from_loader("ports_script", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module         # dataclasses look their module up there
    loader.exec_module(module)
    return module


ports = load_script()


def comport(device, vid=None, pid=None, description="n/a", manufacturer=None, product=None, serial_number=None):
    """A stand-in for pyserial's ListPortInfo: the attributes the script reads."""
    hwid = f"USB VID:PID={vid:04X}:{pid:04X}" if vid is not None else "n/a"
    return SimpleNamespace(device=device, vid=vid, pid=pid, description=description, hwid=hwid,
                           manufacturer=manufacturer, product=product, serial_number=serial_number)


class FakeUsb:
    """A stand-in for a pyusb Device: ids, class, string indexes, and configurations of interfaces."""

    def __init__(self, vid, pid, device_class=0, interfaces=(), manufacturer=1, product=2):
        self.idVendor, self.idProduct, self.bDeviceClass = vid, pid, device_class
        self.iManufacturer, self.iProduct, self.bus, self.address = manufacturer, product, 1, 7
        self._interfaces = [SimpleNamespace(bInterfaceClass=c) for c in interfaces]

    def __iter__(self):
        return iter([self._interfaces])


def strings(dev, index):
    return {1: "Maker", 2: "Thing"}[index]


def no_permission(dev, index):
    raise OSError("[Errno 13] Access denied (insufficient permissions)")


@pytest.mark.parametrize("port,kind,url,hint", [
    (comport("/dev/ttyUSB0", 0x1A86, 0x7523, "USB Serial"), "serial", "sam+serial:///dev/ttyUSB0",
     "scripts/card-read --url sam+serial:///dev/ttyUSB0"),
    (comport("/dev/ttyUSB1", 0x10C4, 0xEA60), "serial", "sam+serial:///dev/ttyUSB1", "LED screen bus"),
    (comport("/dev/ttyUSB2", 0x0403, 0x6001), "serial", "sam+serial:///dev/ttyUSB2", "caller keypad"),
    (comport("/dev/ttyUSB3", 0x067B, 0x2303), "serial", "sam+serial:///dev/ttyUSB3", "SAM reader"),
    (comport("/dev/ttyACM0", 0x0416, 0x5011), "printer", "escpos+serial:///dev/ttyACM0?baudrate=9600",
     "scripts/printer-test --url escpos+serial:///dev/ttyACM0?baudrate=9600"),
    (comport("/dev/ttyACM1", 0x1234, 0x5678), "serial", "sam+serial:///dev/ttyACM1", "unknown make"),
    (comport("/dev/ttyS0"), "serial", "escpos+serial:///dev/ttyS0?baudrate=9600", "receipt printer"),
])
def test_serial_ports_are_classified(port, kind, url, hint):
    entry = ports.describe_port(port)
    assert (entry["kind"], entry["url"]) == (kind, url)
    assert hint in entry["what"] + " " + entry["hint"]
    assert entry["device"] == port.device and entry["vid_pid"] == ports._ids(port.vid, port.pid)


@pytest.mark.parametrize("dev,kind,url", [
    (FakeUsb(0x0416, 0x5011), "printer", "escpos+usb://0x0416:0x5011"),
    (FakeUsb(0x04B8, 0x0202), "printer", "escpos+usb://0x04b8:0x0202"),
    (FakeUsb(0x0FE6, 0x811E), "printer", "escpos+usb://0x0fe6:0x811e"),
    (FakeUsb(0x1FC9, 0x2016), "printer", "escpos+usb://0x1fc9:0x2016"),
    (FakeUsb(0x072F, 0x90CC), "idcard", "pcsc://?reader=ACS"),
    (FakeUsb(0x072F, 0x2200), "idcard", "pcsc://?reader=ACS"),
    (FakeUsb(0x046D, 0x0825, device_class=0xEF, interfaces=(0x0E, 0x0E, 0x01)), "camera", "cv://0"),
    (FakeUsb(0x1A86, 0x7523), "serial", "see its serial port above"),
    (FakeUsb(0x9999, 0x0001, interfaces=(0x07,)), "printer", "escpos+usb://0x9999:0x0001"),
    (FakeUsb(0x1D6B, 0x0002, device_class=0x09), None, None),          # a root hub: nothing to say
])
def test_usb_devices_are_classified(dev, kind, url):
    entry = ports.describe_usb(dev, strings)
    assert (entry["kind"], entry["url"]) == (kind, url)
    assert entry["manufacturer"] == "Maker" and entry["product"] == "Thing" and "note" not in entry


def test_unreadable_usb_strings_are_reported_not_fatal():
    entry = ports.describe_usb(FakeUsb(0x0416, 0x5011), no_permission)
    assert entry["manufacturer"] is None and entry["kind"] == "printer"
    assert "run as root" in entry["note"]
    assert "names unreadable" in ports.render(ports.report([], [FakeUsb(0x0416, 0x5011)], read_string=no_permission))


def test_known_table_is_data_with_valid_urls():
    for (vid, pid), known in ports.KNOWN.items():
        assert 0 <= vid <= 0xFFFF and (pid is None or 0 <= pid <= 0xFFFF)
        assert known.kind in ("serial", "printer", "idcard", "camera") and "://" in known.url


def test_render_says_when_nothing_is_found():
    text = ports.render(ports.report([], []))
    assert "no serial ports found" in text and "no USB devices found" in text
    text = ports.render(ports.report([], [], "pyusb found no libusb (apt install libusb-1.0-0)"))
    assert "no libusb" in text and "no USB devices found" not in text
    text = ports.render(ports.report([comport("/dev/ttyUSB0", 0x1A86, 0x7523, "USB Serial")],
                                     [FakeUsb(0x0416, 0x5011)], read_string=strings))
    assert "/dev/ttyUSB0 [1a86:7523] USB Serial" in text and "url: sam+serial:///dev/ttyUSB0" in text
    assert "0416:5011 bus 1 address 7 Maker Thing" in text and "url: escpos+usb://0x0416:0x5011" in text


def test_missing_libusb_is_said_and_the_listing_goes_on(monkeypatch):
    import usb.core

    def no_backend(**kwargs):
        raise usb.core.NoBackendError("No backend available")
    monkeypatch.setattr(usb.core, "find", no_backend)
    devices, error = ports.list_usb_devices()
    assert devices == [] and "no libusb" in error


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_a_real_run_lists_this_machine():
    r = run()
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("serial ports:") and "USB devices:" in r.stdout
    r = run("--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert set(report) == {"serial_ports", "usb_devices", "usb_error"}
    for entry in report["serial_ports"]:
        assert entry["device"].startswith("/dev/") and entry["url"]
