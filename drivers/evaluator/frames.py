"""Evaluator key-box (评价器) frames on a serial line: a small protocol of our own, as no vendor standard is public.

A key box sits at a window: five keys (5 非常满意 … 1 非常不满意) and a lamp that asks the citizen to rate.

    AA ADDR CMD LEN PAYLOAD… CHK          every frame, either way
    AA          the header byte
    ADDR        the box's address 1..254 (DIP switches; 0 and 255 reserved), so boxes may share an RS-485 line
    CMD         what the frame is (COMMANDS below)
    LEN         payload bytes, 0..MAX_PAYLOAD
    CHK         the sum of ADDR, CMD, LEN and the payload, modulo 256

Host → box:
    10 lamp on      LEN 0        the lamp lights: "请您对本次服务进行评价"; the box reports the next key press
    11 lamp off     LEN 0        the lamp goes out (rated, timed out, or cancelled)
    20 status?      LEN 0        the box answers 21
    06 ack          LEN 1 CMD    a key report (30) was received; the box stops repeating it
Box → host:
    06 ack          LEN 1 CMD    a lamp command (10 or 11) was done
    21 status       LEN 2 LAMP KEYS     LAMP 0/1, KEYS the presses counted since power-up (mod 256)
    30 key report   LEN 1 LEVEL  a key was pressed: LEVEL 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意

    e.g. lamp on at box 1:  AA 01 10 00 11        key 2 (不满意) from box 1:  AA 01 30 01 02 34
A broken frame (wrong CHK, unknown CMD, LEN out of range, a level outside 1..5) is dropped by the receiver, which
then looks for the next header: the sender gets no answer and repeats or gives up. Plain functions over bytes,
shared by the driver and the simulator; every malformed frame given to a decoder raises `FrameError` (a
ValueError) and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass

HEADER = 0xAA
LAMP_ON, LAMP_OFF, STATUS_QUERY, ACK, STATUS, KEY = 0x10, 0x11, 0x20, 0x06, 0x21, 0x30
COMMANDS = {LAMP_ON: "lamp_on", LAMP_OFF: "lamp_off", STATUS_QUERY: "status?", ACK: "ack", STATUS: "status",
            KEY: "key"}
HOST_COMMANDS = frozenset({LAMP_ON, LAMP_OFF, STATUS_QUERY, ACK})
BOX_COMMANDS = frozenset({ACK, STATUS, KEY})
PAYLOAD_LEN = {LAMP_ON: 0, LAMP_OFF: 0, STATUS_QUERY: 0, ACK: 1, STATUS: 2, KEY: 1}
MAX_PAYLOAD = 2
MIN_ADDRESS, MAX_ADDRESS = 1, 254
LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


class FrameError(ValueError):
    """A frame broke the protocol; `consumed` bytes of a stream may be dropped before resyncing."""

    def __init__(self, message: str, consumed: int = 0):
        super().__init__(message)
        self.consumed = consumed


@dataclass(frozen=True)
class Frame:
    address: int
    command: int
    payload: bytes = b""

    @property
    def name(self) -> str:
        return COMMANDS[self.command]


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def _address(address: int) -> int:
    if not isinstance(address, int) or isinstance(address, bool) or not MIN_ADDRESS <= address <= MAX_ADDRESS:
        raise ValueError(f"a key box's address is {MIN_ADDRESS}..{MAX_ADDRESS}, not {address!r}")
    return address


def _level(level: int) -> int:
    if not isinstance(level, int) or isinstance(level, bool) or level not in LEVELS:
        raise ValueError(f"a key is a level 1..5 (5 非常满意 … 1 非常不满意), not {level!r}")
    return level


def encode(address: int, command: int, payload: bytes = b"") -> bytes:
    """One frame; ValueError for an address, command or payload the protocol does not have."""
    if command not in COMMANDS:
        raise ValueError(f"unknown key-box command 0x{command:02X}")
    if len(payload) != PAYLOAD_LEN[command]:
        raise ValueError(f"{COMMANDS[command]} carries {PAYLOAD_LEN[command]} payload byte(s), not {len(payload)}")
    body = bytes([_address(address), command, len(payload)]) + bytes(payload)
    return bytes([HEADER]) + body + bytes([checksum(body)])


def lamp_on(address: int) -> bytes:
    return encode(address, LAMP_ON)


def lamp_off(address: int) -> bytes:
    return encode(address, LAMP_OFF)


def status_query(address: int) -> bytes:
    return encode(address, STATUS_QUERY)


def ack(address: int, command: int) -> bytes:
    return encode(address, ACK, bytes([command]))


def status(address: int, lamp: bool, presses: int) -> bytes:
    return encode(address, STATUS, bytes([1 if lamp else 0, presses & 0xFF]))


def key(address: int, level: int) -> bytes:
    return encode(address, KEY, bytes([_level(level)]))


def parse(buf: bytes, allowed: frozenset[int] = frozenset(COMMANDS)) -> tuple[Frame | None, int]:
    """The first frame in a stream and the bytes it (and garbage before it) took; (None, n) while incomplete,
    the first n bytes garbage. FrameError (its `consumed` reaching past the broken frame's header) when broken."""
    buf = bytes(buf)
    start = buf.find(bytes([HEADER]))
    if start < 0:
        return None, len(buf)
    if len(buf) < start + 4:
        return None, start
    address, command, size = buf[start + 1], buf[start + 2], buf[start + 3]
    where = buf[start:start + 4 + min(size, MAX_PAYLOAD) + 1].hex(" ").upper()
    if size > MAX_PAYLOAD:
        raise FrameError(f"a frame {where} declares {size} payload bytes, more than {MAX_PAYLOAD}",
                         consumed=start + 1)
    end = start + 4 + size + 1
    if len(buf) < end:
        return None, start
    body, chk = buf[start + 1:end - 1], buf[end - 1]
    if checksum(body) != chk:
        raise FrameError(f"a frame {where} has a wrong checksum (0x{chk:02X}, expected 0x{checksum(body):02X}): "
                         "line noise, a loose cable or the wrong baud rate", consumed=start + 1)
    bad = None
    if not MIN_ADDRESS <= address <= MAX_ADDRESS:
        bad = f"comes from the reserved address {address}"
    elif command not in allowed:
        bad = f"has a command 0x{command:02X} this side does not take"
    elif size != PAYLOAD_LEN[command]:
        bad = f"carries {size} payload byte(s); {COMMANDS[command]} has {PAYLOAD_LEN[command]}"
    elif command == KEY and body[3] not in LEVELS:
        bad = f"reports the key {body[3]}, not a level 1..5"
    if bad:
        raise FrameError(f"a frame {where} {bad}", consumed=end)
    return Frame(address, command, bytes(body[3:])), end


def parse_box(buf: bytes) -> tuple[Frame | None, int]:
    """What a key box sent (the driver's side)."""
    return parse(buf, BOX_COMMANDS)


def parse_host(buf: bytes) -> tuple[Frame | None, int]:
    """What the host sent (the simulator's side)."""
    return parse(buf, HOST_COMMANDS)


class FrameReader:
    """Incremental parsing: `feed()` bytes as they arrive, take frames with `next()` (raises once per bad one)."""

    def __init__(self, parser=parse_box):
        self._parse = parser
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    def clear(self) -> None:
        self._buf.clear()

    def next(self) -> Frame | None:
        try:
            frame, consumed = self._parse(self._buf)
        except FrameError as exc:
            del self._buf[:exc.consumed]
            raise
        del self._buf[:consumed]
        return frame
