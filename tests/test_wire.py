"""`--wire`: device URLs rewritten to dump their serial line through pyserial's spy://, for each serial scheme
and each simulator with a serial line; the SAM reader's dump has the card's data masked."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import serial

import drivers.caller
import drivers.display
import drivers.idcard
import drivers.printer  # noqa: F401 — registers the printer drivers
from drivers.caller.frames import encode_ack, encode_key
from drivers.display.frames import encode_text_frame
from drivers.idcard.sam_frames import PREAMBLE, READ, SELECT
from drivers.idcard.sam_wire import AnswerMask, RedactingFormatter, hexdump
from drivers.idcard.simulator import CARDS
from drivers.registry import registry
from drivers.wire import spy_url, with_wire

DUMP = Path("/tmp/wire.txt")


# -- rewriting -----------------------------------------------------------------------------------
@pytest.mark.parametrize("url,wired", [
    ("escpos+serial:///dev/ttyS0?baudrate=9600", "escpos+serial://?port=spy:///dev/ttyS0?file=/tmp/wire.txt&baudrate=9600"),
    ("sam+serial:///dev/ttyUSB0?baudrate=115200&timeout=1",
     "sam+serial://?port=spy:///dev/ttyUSB0?file=/tmp/wire.txt&baudrate=115200&timeout=1"),
    ("sam+serial://?port=COM3&retries=1", "sam+serial://?port=spy://COM3?file=/tmp/wire.txt&retries=1"),
    ("led+serial:///dev/ttyUSB1", "led+serial://?port=spy:///dev/ttyUSB1?file=/tmp/wire.txt"),
    ("led+serial:///dev/ttyUSB1?encoding=gb2312&gap_ms=300",
     "led+serial://?port=spy:///dev/ttyUSB1?file=/tmp/wire.txt&encoding=gb2312&gap_ms=300"),
    ("modbus7+serial:///dev/ttyUSB2?digits=4", "modbus7+serial://?port=spy:///dev/ttyUSB2?file=/tmp/wire.txt&digits=4"),
    ("caller+serial:///dev/ttyUSB3?baudrate=9600",
     "caller+serial://?port=spy:///dev/ttyUSB3?file=/tmp/wire.txt&baudrate=9600"),
    ("caller+serial://?baudrate=9600&port=%2Fdev%2FttyUSB3",
     "caller+serial://?port=spy:///dev/ttyUSB3?file=/tmp/wire.txt&baudrate=9600"),
    ("sim://idcard?card=elder", "sim://idcard?card=elder&wire=/tmp/wire.txt"),
    ("sim://idcard", "sim://idcard?wire=/tmp/wire.txt"),
    ("sim://display?protocol=modbus7&wire=/tmp/old.txt", "sim://display?protocol=modbus7&wire=/tmp/wire.txt"),
    ("sim://caller?addresses=1-22", "sim://caller?addresses=1-22&wire=/tmp/wire.txt"),
])
def test_serial_urls_are_rewritten_to_spy(url, wired):
    assert with_wire(url, DUMP) == wired


@pytest.mark.parametrize("kind,url", [
    ("printer", "escpos+serial:///dev/ttyS0?baudrate=9600"),
    ("idcard", "sam+serial:///dev/ttyUSB0?baudrate=115200"),
    ("display", "led+serial:///dev/ttyUSB1?encoding=gb2312"),
    ("display", "modbus7+serial:///dev/ttyUSB2?digits=4"),
    ("caller", "caller+serial:///dev/ttyUSB3?baudrate=9600"),
])
def test_rewritten_urls_parse_with_the_spy_port(kind, url, tmp_path):
    """The driver accepts the rewritten URL and will open exactly spy://PORT?file=DUMP, odd characters kept."""
    dump = tmp_path / "a dump&more+1%.txt"
    device = registry(kind).create(with_wire(url, dump))
    port = device.url.options["port"]
    assert port == spy_url(urlparse_path(url), dump)
    spy = serial.serial_for_url(port.replace(urlparse_path(url), "/dev/null"), do_not_open=True)
    assert spy.formatter.output.name == str(dump)
    spy.formatter.output.close()


def urlparse_path(url: str) -> str:
    return re.sub(r"^[^:]+://", "", url).split("?")[0]


@pytest.mark.parametrize("url,reason", [
    ("escpos+tcp://192.168.10.31:9100", "escpos+tcp:// talks TCP, not a serial line: capture it with tcpdump"),
    ("escpos+usb://0x0416:0x5011", "escpos+usb:// talks USB, not a serial line"),
    ("escpos+file:///dev/usb/lp0", "no serial line to dump"),
    ("sim://printer?paper=ok", "sim://printer talks TCP to its simulator, not a serial line"),
    ("sim://sscard", "talks PC/SC through pcscd"),
    ("sim://camera?script=day", "sim://camera is a simulated camera"),
    ("sim://audio", "simulated loudspeaker"),
    ("cv://0", "cv:// is a camera"),
    ("cv://rtsp://192.168.10.50/stream1", "cv:// is a camera"),
    ("pcsc://?reader=ACS", "pcsc:// talks to pcscd, not a serial line"),
    ("alsa://default", "alsa:// is a sound card"),
    ("tts://espeak?voice=cmn-latn-pinyin", "speech voice"),
    ("screen://", "not over a serial line"),
    ("sim://lamp", "sim://lamp has no serial line to dump"),
    ("lpr://host", "lpr:// is not a device on a serial line"),
    ("sam+serial://?port=socket://192.168.10.40:4001", "spy:// can only wrap a local serial port, not socket://"),
    ("sam+serial://?port=spy:///dev/ttyUSB0?file=/tmp/x", "a spy:// port already"),
    ("led+serial://ttyUSB1", "reads as a host name"),
    ("led+serial://?baudrate=9600", "give the serial port once"),
    ("/dev/ttyUSB0", "not a device URL"),
])
def test_urls_without_a_serial_line_are_refused_with_a_reason(url, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        with_wire(url, DUMP)


# -- the SAM reader's dump -----------------------------------------------------------------------
def received(dump: Path, direction: str = "RX") -> str:
    """The hex of every byte in one direction, as one string (spy logs each read() on lines of its own)."""
    lines = [line for line in dump.read_text().splitlines() if line[11:13] == direction]
    return "".join(line[22:71].replace(" ", "") for line in lines)


def utf16_hex(text: str) -> str:
    return text.encode("utf-16-le").hex().upper()


def test_sim_idcard_wire_shows_the_frames_and_masks_the_card(tmp_path):
    dump = tmp_path / "sam-wire.txt"
    card = CARDS["elder"]
    reader = registry("idcard").create(with_wire("sim://idcard?card=elder", dump))
    with reader:
        assert reader.read_card(timeout=1) == card                  # the driver still gets the whole card
    text = dump.read_text()
    assert "TX   0000  AA AA AA 96 69 00 03 30  01 32" in text     # the read command, as spy writes it
    assert "TX   0000  AA AA AA 96 69 00 03 20  01 22" in text     # find
    rx = received(dump)
    assert "AAAAAA9669000800009F0000000097" in rx                   # find's answer: card found
    assert "AAAAAA9669050800009001000400" + "xx" * 1280 in rx       # read: header, status, lengths; data masked
    assert "AAAAAA9669000C000090" + "xx" * 8 in rx                  # select: the chip serial masked
    for personal in (card.name, card.id_number, card.id_number[-4:], card.address[:4]):
        assert utf16_hex(personal) not in rx.upper()
    assert card.id_number not in text
    assert reader._reader is None and dump.stat().st_size > 0      # closed; spy's file closed too (below)


def test_sam_dump_file_is_closed_with_the_reader(tmp_path):
    dump = tmp_path / "sam-wire.txt"
    reader = registry("idcard").create(with_wire("sim://idcard", dump))
    reader.open()
    spy = reader._reader._serial
    reader.close()
    assert spy.formatter.output.closed and not spy.is_open


def test_answer_mask_follows_frames_split_across_reads():
    """The mask holds across chunks, survives noise before a frame, and leaves other answers alone."""
    answer = PREAMBLE + bytes([0x00, 0x0C, 0x00, 0x00, 0x90]) + bytes(range(1, 9)) + b"\x55"
    mask = AnswerMask()
    mask.command(SELECT.frame())
    flags = mask.flags(b"\x00\xaa" + answer[:9]) + mask.flags(answer[9:])
    assert flags == [False] * 12 + [True] * 8 + [False]
    mask.command(READ.frame())
    read = PREAMBLE + bytes([0x00, 0x0A, 0x00, 0x00, 0x90, 0x00, 0x02, 0x00, 0x00, 0x41, 0x42, 0x77])
    assert mask.flags(read) == [False] * 14 + [True, True, False]
    mask.command(bytes.fromhex("AAAAAA9669000311FFED"))              # status: nothing personal in its answer
    assert not any(mask.flags(answer))


class FakeHexdump:
    """The formatter surface spy's FormatHexdump offers, writing into a list."""
    color, rx_color, start_time = False, "", 0.0

    def __init__(self):
        self.output, self.lines = None, []

    def write_line(self, timestamp, label, value, value2=""):
        self.lines.append(f"{label} {value}{value2}")

    def rx(self, data):
        self.lines += [f"RX {offset:04X}  {row}" for offset, row in hexdump(data, [False] * len(data))]

    def tx(self, data):
        self.lines.append(f"TX {bytes(data).hex()}")

    def control(self, name, value):
        self.lines.append(f"{name} {value}")


def test_redacting_formatter_writes_spys_format_with_xx():
    inner = FakeHexdump()
    redacting = RedactingFormatter(inner)
    redacting.tx(SELECT.frame())
    redacting.rx(PREAMBLE + bytes([0x00, 0x0C, 0x00, 0x00, 0x90]) + "李秀".encode("utf-16-le") + b"\x01" * 4 + b"\x55")
    assert inner.lines[1] == "RX 0000  AA AA AA 96 69 00 0C 00  00 90 xx xx xx xx xx xx  ....i..........."
    assert inner.lines[2].startswith("RX 0010  xx xx 55 ")


# -- LED screens and keypads ---------------------------------------------------------------------
def test_sim_display_wire_shows_the_led_frame(tmp_path):
    dump = tmp_path / "led-wire.txt"
    display = registry("display").create(with_wire(f"sim://display?addresses=1-5&gap_ms=0&out={tmp_path}", dump))
    with display:
        display.show(3, "A001")
        assert display.shown()[3] == "A001"
    assert encode_text_frame(3, "A001", "gb2312").hex().upper() in received(dump, "TX")


def test_sim_display_modbus_wire_shows_requests_and_answers(tmp_path):
    dump = tmp_path / "modbus-wire.txt"
    display = registry("display").create(with_wire(f"sim://display?protocol=modbus7&addresses=1-5&out={tmp_path}",
                                                   dump))
    with display:
        display.show(2, "12")
    assert received(dump, "TX").startswith("02") and received(dump, "RX").startswith("02")


def test_sim_caller_wire_shows_the_press_and_its_ack(tmp_path):
    dump = tmp_path / "caller-wire.txt"
    keypad = registry("caller").create(with_wire("sim://caller?addresses=1-22", dump))
    with keypad:
        keypad.simulate(press="call", address=3)
        assert keypad.read_key(1).key == "call"
    assert encode_key(3, "call").hex().upper() in received(dump, "RX")
    assert encode_ack(3, "call").hex().upper() in received(dump, "TX")


# -- a serial receipt printer ------------------------------------------------------------------------
def test_escpos_serial_wire_dumps_the_status_query_and_closes_the_file(tmp_path):
    """No printer on the pty: the status query goes out (and is in the dump), no answer comes back."""
    import os
    import pty
    master, slave = pty.openpty()
    try:
        dump = tmp_path / "printer-wire.txt"
        printer = registry("printer").create(with_wire(f"escpos+serial://{os.ttyname(slave)}?timeout=0.2", dump))
        assert printer.url.address.startswith("spy://")
        with printer:
            assert not printer.health().working         # no answer: the link is dropped (spy's file closed)…
            assert not printer.health().working         # …and reopened, the dump kept
        text = dump.read_text()
        assert text.count("TX   0000  10 04 01") == 2                # DLE EOT 1, asked at open and again
        assert "opened again" in text                               # the failed health check reconnected
        with pytest.raises(ValueError, match="the port is given twice"):
            registry("printer").create("escpos+serial:///dev/ttyS0?port=/dev/ttyS1")
    finally:
        os.close(master)
        os.close(slave)


def test_a_port_that_fails_to_open_keeps_the_dump(tmp_path):
    from drivers.serial_port import open_port
    dump = tmp_path / "wire.txt"
    dump.write_text("000000.000 TX   0000  01 02\n")
    with pytest.raises(serial.SerialException):
        open_port(f"spy:///dev/ttyNOPE?file={dump}")
    assert dump.read_text() == "000000.000 TX   0000  01 02\n"
