"""The printer simulator, driven through python-escpos's own Network class over loopback TCP."""

from __future__ import annotations

import socket
import time

import cv2
import pytest
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy, Network
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from drivers.printer.simulator import PrinterSimulator
from drivers.printer.simulator import parser as ops
from drivers.printer.simulator.parser import EscposParser

STATUS_URL = "http://127.0.0.1:8000/t/5f3a9c2e-ticket"
HALL = "某某区政务服务中心"
MATTER = "不动产登记"


@pytest.fixture
def sim(tmp_path):
    simulator = PrinterSimulator(tmp_path, width=80, name="kiosk1")
    simulator.start()
    yield simulator
    simulator.stop()


def connect(sim: PrinterSimulator) -> Network:
    printer = Network("127.0.0.1", sim.port, timeout=2)
    printer.open()
    return printer


def chinese(printer, text: str) -> None:
    printer._raw(b"\x1c&" + text.encode("gb18030") + b"\x1c.")


def print_ticket(printer, number: str = "A017") -> None:
    printer.set(align="center", bold=True)
    chinese(printer, HALL + "\n")
    printer.set(bold=False, double_width=True, double_height=True)
    printer.textln(number)
    printer.set(normal_textsize=True, align="left")
    chinese(printer, f"事项：{MATTER}\n")
    printer.textln("Waiting ahead: 3")
    printer.set(align="center")
    printer.qr(STATUS_URL, native=True, size=8)
    printer.barcode("{B" + number, "CODE128", function_type="B")
    logo = Image.new("1", (64, 32), 1)
    ImageDraw.Draw(logo).rectangle((8, 8, 55, 23), fill=0)
    printer.image(logo, impl="bitImageRaster")
    printer.buzzer()
    printer.cut()


def wire_bytes(build) -> bytes:
    dummy = Dummy()
    build(dummy)
    return dummy.output


def decode_qr(png) -> str:
    data, _points, _ = cv2.QRCodeDetector().detectAndDecode(cv2.imread(str(png)))
    return data


# -- printing -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width, dots", [(58, 384), (80, 576)])
def test_ticket_prints_to_png_and_text(tmp_path, width, dots):
    with PrinterSimulator(tmp_path, width=width) as sim:
        printer = connect(sim)
        print_ticket(printer)
        printer.close()
        [receipt] = sim.wait_receipts(1)
    assert receipt["png"] == tmp_path / "printer-0001.png"
    assert receipt["txt"].read_text(encoding="utf-8") == receipt["text"]
    for expected in (HALL, "A017", MATTER, "Waiting ahead: 3"):
        assert expected in receipt["text"]
    assert receipt["qr"] == [STATUS_URL]
    assert receipt["barcodes"] == ["A017"]
    with Image.open(receipt["png"]) as img:
        assert img.width == dots
    assert decode_qr(receipt["png"]) == STATUS_URL


def test_double_size_and_bold_and_align_reach_the_receipt():
    from drivers.printer.simulator.render import Line, ReceiptBuilder

    builder = ReceiptBuilder()
    stream = EscposParser().feed(wire_bytes(print_ticket))
    receipts = [r for op in stream if (r := builder.apply(op)) is not None]
    [receipt] = receipts
    lines = [b for b in receipt.blocks if isinstance(b, Line) and b.text]
    hall, number = lines[0], lines[1]
    assert hall.text == HALL and hall.align == 1 and hall.spans[0].bold
    assert number.text == "A017" and (number.spans[0].width, number.spans[0].height) == (2, 2)
    assert not number.spans[0].bold


def test_double_size_text_is_drawn_larger(tmp_path):
    with PrinterSimulator(tmp_path) as sim:
        printer = connect(sim)
        printer.textln("8")
        printer.set(custom_size=True, width=4, height=4)
        printer.textln("8")
        printer.cut()
        printer.close()
        [receipt] = sim.wait_receipts(1)
    img = cv2.imread(str(receipt["png"]), cv2.IMREAD_GRAYSCALE)
    rows = [y for y in range(img.shape[0]) if (img[y] < 128).any()]
    small_and_big = [run for run in _runs(rows)]
    assert len(small_and_big) == 2
    (a0, a1), (b0, b1) = small_and_big
    assert (b1 - b0) >= 3 * (a1 - a0)


def _runs(values: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and v == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    return runs


def test_raster_image_is_drawn_from_its_bits(tmp_path):
    with PrinterSimulator(tmp_path, width=58) as sim:
        printer = connect(sim)
        printer.set(align="left")
        printer.image(Image.new("1", (80, 40), 0))  # all black
        printer.cut()
        printer.close()
        [receipt] = sim.wait_receipts(1)
    img = cv2.imread(str(receipt["png"]), cv2.IMREAD_GRAYSCALE)
    black = img < 128
    assert black.sum() == 80 * 40
    assert "[IMAGE 80x40]" in receipt["text"]


def test_sequential_connections_and_receipts(sim):
    for n, number in enumerate(("A001", "A002"), 1):
        printer = connect(sim)
        print_ticket(printer, number)
        printer.close()
        sim.wait_receipts(n)        # one job after the other (two at once each keep their own receipt)
    receipts = sim.wait_receipts(2)
    assert [r["png"].name for r in receipts] == ["kiosk1-0001.png", "kiosk1-0002.png"]
    assert "A002" in receipts[1]["text"]


def test_survives_garbage_and_abrupt_disconnect(sim):
    with socket.create_connection(("127.0.0.1", sim.port)) as raw:
        raw.sendall(b"\x1d\x28\x6b\xff\xff\x31\x50" + bytes(range(256)) * 3)  # QR store cut short
    with socket.create_connection(("127.0.0.1", sim.port)) as raw:
        raw.sendall(b"\x1dv0\x00\xff\xff\xff\xff\x1b\x99\x1c\x77\x10\x04\x09" + b"\xff\xfe" * 100)
    printer = connect(sim)
    print_ticket(printer)
    printer.close()
    [*_, receipt] = sim.wait_receipts(1)
    assert decode_qr(receipt["png"]) == STATUS_URL


# -- status and faults ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault, online, paper, byte2",
    [
        ({}, True, 2, 0x12),
        ({"paper": "near-end"}, True, 1, 0x12),
        ({"paper": "out"}, False, 0, 0x72),
        ({"cover": "open"}, False, 2, 0x56),
    ],
)
def test_status_queries(sim, fault, online, paper, byte2):
    sim.set_fault(**fault)
    printer = connect(sim)
    try:
        assert printer.is_online() is online
        assert printer.paper_status() == paper
        assert printer.query_status(b"\x10\x04\x02") == bytes([byte2])
        assert printer.query_status(b"\x10\x04\x03") == b"\x12"
    finally:
        printer.close()


@pytest.mark.parametrize("fault", [{"paper": "out"}, {"cover": "open"}])
def test_stopped_printer_takes_bytes_but_prints_nothing(sim, fault):
    sim.set_fault(**fault)
    printer = connect(sim)
    print_ticket(printer)
    assert printer.paper_status() in (0, 2)  # still answering
    printer.close()
    time.sleep(0.3)
    assert sim.receipts == []
    assert not list(sim.dir.glob("*.png"))
    sim.set_fault(paper="ok", cover="closed")
    printer = connect(sim)
    print_ticket(printer)
    printer.close()
    assert len(sim.wait_receipts(1)) == 1


def test_offline_fails_fast_and_recovers(sim):
    printer = connect(sim)
    sim.set_fault(offline=True)
    assert sim.faults()["offline"] is True
    started = time.monotonic()
    with pytest.raises(OSError):
        printer.is_online()
        printer.is_online()  # the first may reach a dying socket; the second cannot
    with pytest.raises(DeviceNotFoundError):
        Network("127.0.0.1", sim.port, timeout=5).open()
    assert time.monotonic() - started < 4.0              # refused at once, not after the 5 s timeout
    sim.set_fault(offline=False)
    printer = connect(sim)
    assert printer.is_online()
    printer.close()


def test_slow_printer_delays_replies(sim):
    sim.set_fault(slow_s=0.3)
    printer = connect(sim)
    started = time.monotonic()
    assert printer.is_online()
    assert time.monotonic() - started >= 0.3
    printer.close()
    assert sim.faults() == {"paper": "ok", "cover": "closed", "offline": False, "slow_s": 0.3}


def test_offline_at_start_refuses_connections(tmp_path):
    with PrinterSimulator(tmp_path, offline=True) as sim, pytest.raises(DeviceNotFoundError):
        Network("127.0.0.1", sim.port, timeout=5).open()


@pytest.mark.parametrize(
    "kwargs, word",
    [({"width": 72}, "width"), ({"paper": "low"}, "paper"), ({"cover": "ajar"}, "cover"),
     ({"slow_s": -1}, "slow_s"), ({"name": "../x"}, "name")],
)
def test_bad_settings_name_the_option(tmp_path, kwargs, word):
    with pytest.raises(ValueError, match=word):
        PrinterSimulator(tmp_path, **kwargs)


# -- parser ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"\x1b@", [ops.Init()]),
        (b"\x1b!\x30", [ops.PrintMode(0x30)]),
        (b"\x1bE\x01", [ops.Bold(True)]),
        (b"\x1ba\x01", [ops.Align(1)]),
        (b"\x1bd\x06", [ops.Feed(6)]),
        (b"\x1b-\x02", [ops.Underline(2)]),
        (b"\x1d!\x11", [ops.CharSize(2, 2)]),
        (b"\x1dV\x00", [ops.Cut(0)]),
        (b"\x1dV\x01", [ops.Cut(1)]),
        (b"\x1dVB\x00", [ops.Cut(66, 0)]),
        (b"\x1dk\x04AB12\x00", [ops.Barcode(4, b"AB12", 162, 3, 0)]),
        (b"\x1dkI\x04{BAB", [ops.Barcode(73, b"{BAB", 162, 3, 0)]),
        (b"\x1dv0\x00\x01\x00\x02\x00\xff\x00", [ops.Raster(0, 1, 2, b"\xff\x00")]),
        (b"\x1bt\x02", [ops.CodePage(2)]),
        (b"\x10\x04\x04", [ops.StatusQuery(4)]),
        (b"\x1bB\x02\x04", [ops.Buzzer(2, 4)]),
        (b"\x1c&\xd6\xd0\xce\xc4\n\x1c.", [ops.ChineseMode(True), ops.Text("中文"), ops.LineFeed(),
                                           ops.ChineseMode(False)]),
        (b"\x1bt\x02\x82\n", [ops.CodePage(2), ops.Text("é"), ops.LineFeed()]),
        (b"\x1b\x99", [ops.Unknown(b"\x1b\x99")]),
        (b"\x1dv0\x00\xff\xff\xff\xff", [ops.Unknown(b"\x1dv0\x00\xff\xff\xff\xff")]),
    ],
)
def test_parser_table(data, expected):
    parser = EscposParser()
    assert parser.feed(data) + parser.flush() == expected


def test_parser_stores_and_prints_native_qr():
    parser = EscposParser()
    stream = parser.feed(wire_bytes(lambda p: p.qr(STATUS_URL, native=True, size=8, ec=3)))
    assert [op for op in stream if isinstance(op, ops.QrCode)] == [ops.QrCode(STATUS_URL.encode(), 8, 3, 2)]


def _parse(chunks: list[bytes]) -> list:
    parser = EscposParser()
    out = []
    for chunk in chunks:
        out += parser.feed(chunk)
    return out + parser.flush()


VALID_STREAM = wire_bytes(print_ticket)
# Random bytes seldom form a command; mixing in command prefixes reaches the length-prefixed paths.
PREFIXES = [b"\x1b", b"\x1d", b"\x1c", b"\x10\x04", b"\x1d(k", b"\x1d(k\x03\x001P", b"\x1dv0\x00\x01\x00",
            b"\x1dk\x02", b"\x1dkI", b"\x1dV", b"\x1dVA", b"\x1c&", b"\x1c.", b"\x1b*!", b"\x1bD", b"\n"]
GARBAGE = st.lists(st.one_of(st.binary(max_size=6), st.sampled_from(PREFIXES)), max_size=60).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=2000), GARBAGE))
def test_parser_never_raises_on_garbage(data):
    _parse([data])


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=600), GARBAGE), st.lists(st.integers(min_value=0, max_value=600), max_size=8))
def test_parser_split_anywhere_equals_whole_on_garbage(data, cuts):
    assert _parse(_split(data, cuts)) == _parse([data])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(VALID_STREAM)), max_size=12))
def test_parser_split_anywhere_equals_whole_on_a_ticket(cuts):
    assert _parse(_split(VALID_STREAM, cuts)) == _parse([VALID_STREAM])


@settings(max_examples=100, deadline=None)
@given(GARBAGE, st.integers(min_value=0, max_value=len(VALID_STREAM)))
def test_parser_resyncs_after_garbage(garbage, cut):
    """Garbage that ends cleanly (no pending command) does not swallow the ticket after it."""
    parser = EscposParser()
    parser.feed(garbage)
    if parser.pending():
        return
    parser.flush()
    parsed = parser.feed(VALID_STREAM[:cut]) + parser.feed(VALID_STREAM[cut:]) + parser.flush()
    assert ops.QrCode(STATUS_URL.encode(), 8, 0, 2) in parsed


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
