"""The receipt printer driver: URLs, status decoding, the receipt layout, and python-escpos → simulator."""
from __future__ import annotations

import socket
import time

import pytest
from escpos.printer import Dummy

from drivers.base import DeviceError
from drivers.health import DeviceState
from drivers.printer import PrintError, Receipt, display_width, status_health, wrap, write_receipt
from drivers.printer.receipt import LAYOUTS, encode_text, number_size, shorten, wait_lines
from drivers.registry import registry
from drivers.url import DeviceURLError

printers = registry("printer")


def make_receipt(width: int = 80, **changes) -> Receipt:
    fields = dict(hall_name="城东区政务服务中心", number="A023", matter_name="社保卡补办", waiting_ahead=12,
                  estimated_wait_s=1500, issued_at="2026-11-24 09:05",
                  status_url="http://hall.local:8000/t/7f3a9c2e", width=width,
                  materials=["身份证原件及复印件一份", "一寸免冠彩色照片两张（白底，近三个月内拍摄）"],
                  header=["欢迎光临"], footer=["工作时间 周一至周五 9:00-17:00", "过号请到服务台重新取号"])
    fields.update(changes)
    return Receipt(**fields)


# -- URLs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw,address,options", [
    ("escpos+tcp://192.168.10.31:9100", "192.168.10.31:9100", {"width": 80, "timeout": 3.0}),
    ("escpos+tcp://printer-3?width=58&timeout=1.5", "printer-3", {"width": 58, "timeout": 1.5}),
    ("escpos+usb://0x0416:0x5011", "0x0416:0x5011", {"width": 80, "timeout": 3.0}),
    ("escpos+serial:///dev/ttyS0?baudrate=19200", "/dev/ttyS0", {"width": 80, "timeout": 3.0, "baudrate": 19200}),
    ("escpos+file:///dev/usb/lp0?width=58", "/dev/usb/lp0", {"width": 58, "timeout": 3.0}),
])
def test_printer_urls_parse(raw, address, options):
    printer = printers.create(raw)
    assert printer.kind == "printer" and not printer.is_open
    assert printer.url.address == address and printer.url.options == options


def test_sim_url_options_have_defaults():
    printer = printers.create("sim://printer?paper=near-end&slow=0.5&width=58")
    assert printer.url.options == {"width": 58, "timeout": 3.0, "paper": "near-end", "cover": "closed",
                                   "offline": False, "slow": 0.5, "out": "var/sim/printer"}
    assert printer.simulator is None    # nothing starts before open()


@pytest.mark.parametrize("raw,message", [
    ("lpr://192.168.10.31", "unknown printer scheme 'lpr'"),
    ("escpos+tcp://192.168.10.31?widht=58", "unknown option 'widht'; did you mean 'width'?"),
    ("escpos+usb://0x0416:0x5011?speed=9", "escpos+usb://0x0416:0x5011?speed=9: unknown option 'speed'"),
    ("escpos+tcp://192.168.10.31?width=70", "bad value '70' for option 'width': use one of 58, 80"),
    ("escpos+tcp://192.168.10.31?timeout=0", "bad value '0' for option 'timeout'"),
    ("escpos+usb://printer", "USB address 'printer' is not VID:PID"),
    ("escpos+tcp:///dev/usb/lp0", "no printer host"),
    ("escpos+file://", "no device path"),
    ("sim://printer?paper=empty", "bad value 'empty' for option 'paper': use one of ok, near-end, out"),
    ("sim://printer?cover=ajar", "bad value 'ajar' for option 'cover'"),
])
def test_printer_url_errors_name_the_part_at_fault(raw, message):
    with pytest.raises(DeviceURLError) as exc:
        printers.create(raw)
    assert message in str(exc.value)


# -- status bytes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("online,cause,paper,state,words", [
    (0x12, 0x12, 0x12, DeviceState.OK, "ready"),
    (0x12, 0x12, 0x1E, DeviceState.DEGRADED, "paper near end"),
    (0x1A, 0x32, 0x72, DeviceState.FAULT, "paper out: load a 58 mm roll"),
    (0x1A, 0x16, 0x12, DeviceState.FAULT, "cover open"),
    (0x1A, 0x52, 0x12, DeviceState.FAULT, "printer error"),
    (0x1A, 0x12, 0x12, DeviceState.OFFLINE, "offline"),
])
def test_status_bytes_map_to_health(online, cause, paper, state, words):
    health = status_health(online, cause, paper, width=58)
    assert health.state is state and words in health.detail


# -- layout ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,columns,lines", [
    ("", 32, [""]),
    ("社保卡补办", 32, ["社保卡补办"]),
    ("一二三四五六七八九十", 8, ["一二三四", "五六七八", "九十"]),
    ("身份证 copy x2", 8, ["身份证", "copy x2"]),
    ("abc defgh ij", 5, ["abc", "defgh", "ij"]),
    ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
    ("一二三，四", 6, ["一二", "三，四"]),            # closing punctuation never starts a line
    ("一二（三），四", 8, ["一二（", "三），四"]),
    ("tab\tand\x1b@esc", 32, ["tab and @esc"]),     # control bytes never reach the printer
])
def test_wrap_counts_cjk_as_two_columns(text, columns, lines):
    assert wrap(text, columns) == lines
    assert all(display_width(line) <= columns for line in lines)


@pytest.mark.parametrize("text,width", [("A023", 4), ("社保", 4), ("□ a", 4), ("，", 2), ("", 0)])
def test_display_width(text, width):
    assert display_width(text) == width


def test_long_material_is_shortened_to_its_lines():
    lines = shorten("材料" * 40, 20, 2)
    assert len(lines) == 2 and lines[-1].endswith("…") and display_width(lines[-1]) <= 20


def test_wait_line_breaks_after_the_comma_on_narrow_paper():
    receipt = make_receipt(58)
    assert wait_lines(receipt, 48) == ["前面还有 12 人，预计等候约 25 分钟"]
    assert wait_lines(receipt, 32) == ["前面还有 12 人，", "预计等候约 25 分钟"]


@pytest.mark.parametrize("width,number,size", [(80, "A023", 4), (58, "A023", 3), (58, "VIP-00123", 3),
                                               (58, "ABCDEFGHIJKL", 2)])
def test_number_is_as_large_as_fits(width, number, size):
    assert number_size(number, LAYOUTS[width]) == size


def test_chinese_goes_as_gb18030_in_chinese_mode():
    assert encode_text("A023") == b"A023"
    assert encode_text("社保 A1") == b"\x1c&" + "社保 A1".encode("gb18030") + b"\x1c."


def test_receipt_bytes_have_big_number_native_qr_and_cut():
    p = Dummy()
    write_receipt(p, make_receipt(80))
    out = p.output
    assert out.startswith(b"\x1b@")
    assert out.index(b"\x1d!\x33") < out.index(b"A023\n")                # GS ! 4x4, then the number
    assert b"\x1d(k" in out and b"http://hall.local:8000/t/7f3a9c2e" in out
    assert "城东区政务服务中心".encode("gb18030") in out
    assert out.endswith(b"\x1bd\x06\x1dV\x00")                           # feed, full cut


def test_receipt_width_must_be_58_or_80():
    with pytest.raises(ValueError, match="76 mm"):
        make_receipt(76)


# -- python-escpos → simulator ---------------------------------------------------------------------
@pytest.fixture
def open_sim(tmp_path):
    """Opens sim://printer devices with the given query; closes them after the test."""
    opened = []

    def open_(query: str = ""):
        printer = printers.create(f"sim://printer?out={tmp_path}&timeout=1" + (f"&{query}" if query else ""))
        printer.open()
        opened.append(printer)
        return printer

    yield open_
    for printer in opened:
        printer.close()


def wait_for_receipts(sim, count: int = 1, within_s: float = 5.0) -> list[dict]:
    deadline = time.monotonic() + within_s
    while len(sim.receipts) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sim.receipts) >= count, "the simulator produced no receipt"
    return sim.receipts


@pytest.mark.parametrize("width", [58, 80])
def test_receipt_prints_on_the_simulator(open_sim, width):
    printer = open_sim(f"width={width}")
    printer.print_receipt(make_receipt(width))
    receipt = wait_for_receipts(printer.simulator)[-1]
    text = receipt["text"]
    assert "A023" in text and "社保卡补办" in text and "城东区政务服务中心" in text
    assert "过号请到服务台重新取号" in text
    assert "社保卡补办" not in str(printer.diagnostics())       # no receipt contents in diagnostics


@pytest.mark.parametrize("width", [58, 80])
def test_receipt_qr_decodes_to_the_status_url(open_sim, width):
    cv2 = pytest.importorskip("cv2")
    printer = open_sim(f"width={width}")
    printer.print_receipt(make_receipt(width))
    png = wait_for_receipts(printer.simulator)[-1]["png"]
    image = cv2.imread(str(png))
    assert image is not None, f"cannot read {png}"
    data, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert data == "http://hall.local:8000/t/7f3a9c2e"


@pytest.mark.parametrize("query,state,words", [
    ("", DeviceState.OK, "ready"),
    ("paper=near-end", DeviceState.DEGRADED, "paper near end"),
    ("paper=out", DeviceState.FAULT, "paper"),
    ("cover=open", DeviceState.FAULT, "cover open"),
    ("offline=true", DeviceState.OFFLINE, ""),
])
def test_health_for_each_fault(open_sim, query, state, words):
    health = open_sim(query).health()
    assert health.state is state and words in health.detail


def test_printing_on_paper_out_says_why(open_sim):
    printer = open_sim("paper=out&width=58")
    with pytest.raises(PrintError, match="paper out: load a 58 mm roll"):
        printer.print_receipt(make_receipt(58))
    assert printer.simulator.receipts == []
    assert "paper out" in printer.diagnostics()["last_error"]


def test_cover_open_refuses_to_print(open_sim):
    printer = open_sim("cover=open")
    with pytest.raises(PrintError, match="cover open"):
        printer.print_receipt(make_receipt())


def test_runtime_faults_and_recovery(open_sim):
    printer = open_sim()
    printer.simulator.set_fault(paper="near-end")
    assert printer.health().state is DeviceState.DEGRADED
    printer.simulator.set_fault(paper="ok", offline=True)
    assert printer.health().state is DeviceState.OFFLINE
    printer.simulator.set_fault(offline=False)
    deadline = time.monotonic() + 5          # the simulator takes a moment to listen again
    while (health := printer.health()).state is not DeviceState.OK and time.monotonic() < deadline:
        time.sleep(0.1)
    assert health.state is DeviceState.OK, health.detail
    printer.print_receipt(make_receipt())
    assert "A023" in wait_for_receipts(printer.simulator)[-1]["text"]


def test_slow_printer_is_offline_when_slower_than_the_timeout(open_sim):
    printer = open_sim("slow=1.5")
    assert printer.health().state is DeviceState.OFFLINE


def test_unreachable_tcp_printer(tmp_path):
    with socket.socket() as s:          # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    printer = printers.create(f"escpos+tcp://127.0.0.1:{port}?timeout=0.5")
    with pytest.raises(DeviceError, match=f"cannot connect to the printer at 127.0.0.1:{port}"):
        printer.open()
    assert printer.health().state is DeviceState.OFFLINE
    with pytest.raises(PrintError, match="not open"):
        printer.print_receipt(make_receipt())


def test_file_printer_writes_the_receipt_and_cannot_read_status(tmp_path):
    device = tmp_path / "lp0"
    with printers.create(f"escpos+file://{device}?width=58") as printer:
        health = printer.health()
        printer.print_receipt(make_receipt(80))        # laid out for the printer's 58 mm paper
    assert health.state is DeviceState.OK and "cannot read" in health.detail
    written = device.read_bytes()
    assert b"A023" in written and "社保卡补办".encode("gb18030") in written and b"\x10\x04" not in written
    assert b"\x1d!\x22" in written                       # 3x3 number: the 58 mm layout
