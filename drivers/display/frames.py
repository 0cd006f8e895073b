"""LED screen frames on RS-485: QSystem-style addressed text, and Modbus RTU for 7-segment LED-485 screens.

Text boards (as QSystem's QIndicatorBoardRS.sendMessage writes them):  01 ADDR TEXT… 07
    ADDR is one raw binary byte (0..255, QSystem's `mess[1] = adress`), not ASCII digits; it sits at a fixed
    place, so an address of 0x01 or 0x07 is still unambiguous. TEXT is GB2312 (Chinese-capable boards) or
    ASCII; control bytes 0x00–0x1F (and DEL) are stripped so no text can end a frame early.
    A board's width counts bytes: an ASCII character takes one column, a Chinese character two.
Modbus RTU (LED-485 screens, register map of sman-dk/LED-485_setuptool):
    FC06 reg 0x0000 = a signed 16-bit number; FC16 reg 0x0080 = a "segment string": each register holds two
    characters as 7-segment patterns, the first in the high byte, padded with a blank to an even length.
    A pattern has bit 0 = segment a … bit 6 = segment g (bit 7, the decimal point, is not used); the patterns
    for blank, 0-9 and A-Z are that tool's table, plus '-' (segment g). Other characters are drawn blank.
    A number that shows as itself (no leading zero, ≤ 32767) goes by FC06, anything else as a segment string.
    CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF) follows each frame, low byte first.
Plain functions over bytes, shared by the drivers and the simulator. Every malformed frame given to a decoder
raises `FrameError` (a ValueError) and nothing else.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SOH, BEL = 0x01, 0x07
ENCODINGS = ("gb2312", "ascii")
MAX_TEXT_BYTES = 512                  # a longer "text" means the end byte was lost: resync
_CONTROL = re.compile("[\x00-\x1f\x7f]")


class FrameError(ValueError):
    """A frame broke its protocol's rules; `consumed` bytes of a stream may be dropped before resyncing."""

    def __init__(self, message: str, consumed: int = 0):
        super().__init__(message)
        self.consumed = consumed


# -- addressed text frames -----------------------------------------------------------------------
@dataclass(frozen=True)
class TextFrame:
    address: int
    text: str


def _codec(encoding: str) -> str:
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown screen encoding {encoding!r}; use one of {', '.join(ENCODINGS)}")
    return encoding


def board_bytes(text: str, encoding: str = "gb2312", width: int | None = None) -> bytes:
    """`text` as a board gets it: control characters stripped, what it cannot draw as '?', cut to `width`."""
    _codec(encoding)
    text = _CONTROL.sub("", text)
    if encoding == "ascii":
        text = unicodedata.normalize("NFKC", text)      # full-width Ａ１ become A1 rather than ??
        text = _CONTROL.sub("", text)
    data = text.encode(encoding, errors="replace")
    if width is not None and len(data) > width:
        data = data[:width]
        if encoding == "gb2312" and data.decode(encoding, errors="ignore").encode(encoding) != data:
            data = data[:-1]                             # never keep half of a Chinese character
    return data


def board_text(text: str, encoding: str = "gb2312", width: int | None = None) -> str:
    """What the board will show for `text` (see `board_bytes`)."""
    return board_bytes(text, encoding, width).decode(encoding)


def encode_text_frame(address: int, text: str, encoding: str = "gb2312", width: int | None = None) -> bytes:
    """The frame showing `text` on the board at `address` (0..255)."""
    if not isinstance(address, int) or not 0 <= address <= 0xFF:
        raise ValueError(f"a text board's address is one byte (0..255), not {address!r}")
    return bytes([SOH, address]) + board_bytes(text, encoding, width) + bytes([BEL])


def _decode_text(data: bytes, encoding: str, consumed: int) -> str:
    try:
        return bytes(data).decode(_codec(encoding))
    except UnicodeDecodeError as exc:
        raise FrameError(f"a text frame's bytes are not {encoding} ({exc.reason} at byte {exc.start}): check "
                         "the screen's encoding= setting and the baud rate", consumed) from None


def parse_text_frame(buf: bytes, encoding: str = "gb2312") -> tuple[TextFrame | None, int]:
    """The first complete text frame in `buf` and the bytes it (and garbage before it) took.

    (None, n) when no complete frame is there yet: the first n bytes are garbage that may be dropped.
    """
    start = bytes(buf).find(bytes([SOH]))
    if start < 0:
        return None, len(buf)
    if len(buf) < start + 2:
        return None, start
    for end in range(start + 2, min(len(buf), start + 2 + MAX_TEXT_BYTES + 1)):
        byte = buf[end]
        if byte == BEL:
            text = _decode_text(buf[start + 2:end], encoding, end + 1)
            return TextFrame(buf[start + 1], text), end + 1
        if byte < 0x20 or byte == 0x7F:
            raise FrameError(f"a text frame was cut short by byte 0x{byte:02X} before its end byte 07: the line "
                             "is noisy or two senders share the bus", consumed=end)
    if len(buf) > start + 2 + MAX_TEXT_BYTES:
        raise FrameError(f"a text frame ran past {MAX_TEXT_BYTES} bytes without its end byte 07: the line is "
                         "noisy or the baud rate is wrong", consumed=start + 1)
    return None, start


def decode_text_frame(frame: bytes, encoding: str = "gb2312") -> TextFrame:
    """Exactly one whole text frame, nothing before or after it."""
    frame = bytes(frame)
    if len(frame) < 3 or frame[0] != SOH or frame[-1] != BEL:
        raise FrameError(f"not a text frame (01 ADDR TEXT 07): {frame[:16].hex(' ')}")
    decoded, consumed = parse_text_frame(frame, encoding)
    if decoded is None or consumed != len(frame):
        raise FrameError(f"not exactly one text frame (bytes after its end byte 07): {frame[:16].hex(' ')}")
    return decoded


class TextFrameReader:
    """Incremental parsing: `feed()` bytes as they arrive, take frames with `next()` (raises once per bad one)."""

    def __init__(self, encoding: str = "gb2312"):
        self.encoding = _codec(encoding)
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next(self) -> TextFrame | None:
        try:
            frame, consumed = parse_text_frame(self._buf, self.encoding)
        except FrameError as exc:
            del self._buf[:exc.consumed]
            raise
        del self._buf[:consumed]
        return frame


# -- Modbus RTU ----------------------------------------------------------------------------------
WRITE_REGISTER, WRITE_REGISTERS = 0x06, 0x10
VALUE_REGISTER, SEGMENT_REGISTER = 0x0000, 0x0080
MAX_REGISTERS = 123                   # the most one FC16 request may carry
EXCEPTIONS = {
    1: "illegal function: the screen does not know this command (is it an LED-485 screen?)",
    2: "illegal data address: the screen has no such register (is it an LED-485 screen?)",
    3: "illegal data value: the screen refused the value",
    4: "slave device failure: power-cycle the screen",
    6: "slave device busy: it is retried",
}


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS of `data` (sent low byte first)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _with_crc(body: bytes) -> bytes:
    return body + crc16_modbus(body).to_bytes(2, "little")


def _check(value: int, low: int, high: int, what: str) -> int:
    if not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} must be {low}..{high}, not {value!r}")
    return value


def write_register(slave: int, reg: int, value: int) -> bytes:
    """FC06: write `value` (-32768..65535, negative as two's complement) into register `reg` of `slave`."""
    value = _check(value, -0x8000, 0xFFFF, "a register value") & 0xFFFF
    return _with_crc(bytes([_check(slave, 0, 247, "a Modbus slave address"), WRITE_REGISTER])
                     + _check(reg, 0, 0xFFFF, "a register").to_bytes(2, "big") + value.to_bytes(2, "big"))


def write_registers(slave: int, reg: int, values: list[int] | tuple[int, ...]) -> bytes:
    """FC16: write `values` (each 0..65535) into the registers from `reg` on."""
    _check(len(values), 1, MAX_REGISTERS, "the number of registers in one write")
    data = b"".join(_check(v, 0, 0xFFFF, "a register value").to_bytes(2, "big") for v in values)
    return _with_crc(bytes([_check(slave, 0, 247, "a Modbus slave address"), WRITE_REGISTERS])
                     + _check(reg, 0, 0xFFFF, "a register").to_bytes(2, "big")
                     + len(values).to_bytes(2, "big") + bytes([len(data)]) + data)


@dataclass(frozen=True)
class ModbusRequest:
    slave: int
    function: int
    register: int = 0
    values: tuple[int, ...] = ()      # FC06: one value; FC16: the values; other functions: ()


@dataclass(frozen=True)
class ModbusResponse:
    slave: int
    function: int                     # without the exception bit
    register: int = 0
    value: int = 0                    # FC06: the value echoed; FC16: how many registers were written
    exception: int | None = None

    @property
    def meaning(self) -> str:
        if self.exception is None:
            return "done"
        return EXCEPTIONS.get(self.exception, f"exception code {self.exception}: see the screen's manual")


def _crc_ok(frame: bytes) -> bool:
    return len(frame) >= 4 and crc16_modbus(frame[:-2]) == int.from_bytes(frame[-2:], "little")


def _first_crc_frame(buf: bytes) -> int:
    """The length of the shortest prefix (4 bytes or more) that ends in its own CRC, or 0; one pass."""
    crc = 0xFFFF
    for n, byte in enumerate(buf[:-2], start=1):
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        if n >= 2 and crc == int.from_bytes(buf[n:n + 2], "little"):
            return n + 2
    return 0


def _later_write(buf: bytes) -> int:
    """Where a whole FC06/FC16 request with a good CRC starts after noise (an offset > 0), or 0."""
    for start in range(1, len(buf) - 7):
        if buf[start + 1] == WRITE_REGISTER:
            length = 8
        elif buf[start + 1] == WRITE_REGISTERS and len(buf) > start + 6:
            length = 9 + buf[start + 6]
        else:
            continue
        if len(buf) >= start + length and _crc_ok(buf[start:start + length]):
            return start
    return 0


def parse_request(buf: bytes) -> tuple[ModbusRequest | None, int]:
    """The first complete request in a stream (the slave's side) and the bytes it took; (None, 0): wait.

    A bad CRC raises FrameError dropping one byte: RTU has no start byte, so the reader slides to resync.
    """
    buf = bytes(buf)
    if len(buf) < 2:
        return None, 0
    function = buf[1]
    if function == WRITE_REGISTER:
        length = 8
    elif function == WRITE_REGISTERS:
        if len(buf) < 7:
            return None, 0
        count, size = int.from_bytes(buf[4:6], "big"), buf[6]
        if not 1 <= count <= MAX_REGISTERS or size != 2 * count:
            raise FrameError(f"an FC16 request declares {count} registers in {size} bytes", consumed=1)
        length = 9 + size
    else:       # a function we do not parse: the shortest prefix with a good CRC is the frame
        length = _first_crc_frame(buf[:256])
        if not length:
            later = _later_write(buf)
            if later or len(buf) >= 256:     # noise before a write, or no frame at all: slide on
                raise FrameError(f"noise before a Modbus frame: {buf[:max(later, 1)].hex(' ')}", max(later, 1))
            return None, 0
    if len(buf) < length:
        return None, 0
    frame = buf[:length]
    if not _crc_ok(frame):
        raise FrameError(f"a Modbus request has a wrong CRC: {frame.hex(' ')}", consumed=1)
    register = int.from_bytes(frame[2:4], "big") if length >= 6 else 0
    if function == WRITE_REGISTER:
        values: tuple[int, ...] = (int.from_bytes(frame[4:6], "big"),)
    elif function == WRITE_REGISTERS:
        values = tuple(int.from_bytes(frame[i:i + 2], "big") for i in range(7, length - 2, 2))
    else:
        values = ()
    return ModbusRequest(frame[0], function, register, values), length


def decode_request(frame: bytes) -> ModbusRequest:
    """Exactly one whole request."""
    request, consumed = parse_request(frame)
    if request is None or consumed != len(frame):
        raise FrameError(f"not one whole Modbus request: {bytes(frame)[:16].hex(' ')}")
    return request


def encode_response(request: ModbusRequest) -> bytes:
    """A slave's normal answer: FC06 echoes the request; FC16 echoes address, register and count."""
    head = bytes([request.slave, request.function]) + request.register.to_bytes(2, "big")
    if request.function == WRITE_REGISTER:
        return _with_crc(head + request.values[0].to_bytes(2, "big"))
    if request.function == WRITE_REGISTERS:
        return _with_crc(head + len(request.values).to_bytes(2, "big"))
    raise ValueError(f"no normal answer is defined here for function {request.function}")


def encode_exception(slave: int, function: int, code: int) -> bytes:
    return _with_crc(bytes([slave, (function | 0x80) & 0xFF, code]))


def response_length(head: bytes) -> int | None:
    """How long the answer starting with `head` is (FC06/FC16 or an exception), or None before 2 bytes."""
    if len(head) < 2:
        return None
    return 5 if head[1] & 0x80 else 8


def decode_response(frame: bytes, request: ModbusRequest | None = None) -> ModbusResponse:
    """A slave's answer, checked (CRC, and when `request` is given: slave, function and echo)."""
    frame = bytes(frame)
    if len(frame) not in (5, 8) or response_length(frame) != len(frame):
        raise FrameError(f"a Modbus answer of {len(frame)} bytes is neither 8 (a write's echo) nor 5 (an "
                         f"exception): {frame[:16].hex(' ')}")
    if not _crc_ok(frame):
        raise FrameError(f"a Modbus answer has a wrong CRC: {frame.hex(' ')}")
    slave, function = frame[0], frame[1] & 0x7F
    if len(frame) == 5:
        response = ModbusResponse(slave, function, exception=frame[2])
    else:
        response = ModbusResponse(slave, function, int.from_bytes(frame[2:4], "big"),
                                  int.from_bytes(frame[4:6], "big"))
    if request is not None:
        expected = ModbusResponse(request.slave, request.function, request.register,
                                  request.values[0] if request.function == WRITE_REGISTER else len(request.values))
        if (slave, function) != (request.slave, request.function) or (
                response.exception is None and response != expected):
            raise FrameError(f"a Modbus answer does not match the request (slave {slave}, function {function}): "
                             f"{frame.hex(' ')}")
    return response


# -- 7-segment text ------------------------------------------------------------------------------
SEGMENTS = {
    " ": 0x00, "0": 0x3F, "1": 0x06, "2": 0x5B, "3": 0x4F, "4": 0x66, "5": 0x6D, "6": 0x7D, "7": 0x07,
    "8": 0x7F, "9": 0x6F, "A": 0x77, "B": 0x7C, "C": 0x39, "D": 0x5E, "E": 0x79, "F": 0x71, "G": 0x3D,
    "H": 0x76, "I": 0x10, "J": 0x0E, "K": 0x7A, "L": 0x38, "M": 0x55, "N": 0x54, "O": 0x5C, "P": 0x73,
    "Q": 0x67, "R": 0x50, "S": 0x64, "T": 0x78, "U": 0x3E, "V": 0x62, "W": 0x6A, "X": 0x36, "Y": 0x6E,
    "Z": 0x49, "-": 0x40,
}
_CHARACTERS = {pattern: char for char, pattern in SEGMENTS.items()}


def segment_text(text: str, digits: int) -> str:
    """What a `digits`-wide 7-segment screen shows for `text`: upper case, undrawable as blank, the rightmost
    `digits` characters, right-aligned."""
    drawable = "".join(c if c in SEGMENTS else " " for c in unicodedata.normalize("NFKC", text).upper())
    return drawable.strip()[-digits:].rjust(digits) if digits > 0 else ""


def encode_segments(text: str) -> list[int]:
    """The FC16 register values for `text` (already drawable, e.g. from `segment_text`)."""
    text = text + " " if len(text) % 2 else text
    patterns = [SEGMENTS.get(c, 0) for c in text]
    return [patterns[i] << 8 | patterns[i + 1] for i in range(0, len(patterns), 2)]


def decode_segments(values: tuple[int, ...] | list[int]) -> str:
    """The characters of FC16 segment registers; a pattern not in SEGMENTS reads as '?'."""
    chars = []
    for value in values:
        if not isinstance(value, int) or not 0 <= value <= 0xFFFF:
            raise FrameError(f"a register holds 16 bits, not {value!r}")
        chars += [_CHARACTERS.get((value >> 8) & 0x7F, "?"), _CHARACTERS.get(value & 0x7F, "?")]
    return "".join(chars)


def numeric_value(text: str, digits: int) -> int | None:
    """The number to send by FC06 when `text` shows exactly as that number on the screen, else None.

    Leading zeros ("007") and numbers wider than the screen or beyond 32767 go as a segment string instead.
    """
    shown = segment_text(text, digits).strip()
    if not shown.isdigit() or (len(shown) > 1 and shown[0] == "0") or len(shown) > digits:
        return None
    value = int(shown)
    return value if value <= 0x7FFF else None
