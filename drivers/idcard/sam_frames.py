"""GA 467 SAM serial frames: encoding commands and answers, finding and checking answers in a byte stream.

    host → SAM:  AA AA AA 96 69  LEN_H LEN_L  CMD PARA  DATA…  CHK
    SAM → host:  AA AA AA 96 69  LEN_H LEN_L  SW1 SW2 SW3  DATA…  CHK

LEN counts the bytes after the length field, CHK included; CHK is the XOR of LEN_H … the last data byte.
Plain functions over bytes, shared by the driver (sam_serial.py) and the simulator; no I/O here.
Every malformed frame raises `SamProtocolError`, a `CardProtocolError`, and nothing else.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import reduce
from typing import NamedTuple

from .base import CardProtocolError

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2          # preamble + LEN_H LEN_L
MIN_COMMAND_LEN = 3                     # CMD PARA CHK
MIN_RESPONSE_LEN = 4                    # SW1 SW2 SW3 CHK
MAX_LEN = 0x1000                        # the longest answer (text + photo + fingerprint) is about 2.3 KB


class SamProtocolError(CardProtocolError):
    """A frame broke the GA 467 framing; `consumed` bytes of the buffer may be dropped before resyncing.

    `reason` is "length", "checksum" or "garbled" (no frame at all, or an incomplete one).
    """

    def __init__(self, message: str, consumed: int = 0, reason: str = "garbled"):
        super().__init__(message)
        self.consumed = consumed
        self.reason = reason


class Command(NamedTuple):
    cmd: int
    para: int
    name: str

    def frame(self, data: bytes = b"") -> bytes:
        return encode_command(self.cmd, self.para, data)


RESET = Command(0x10, 0xFF, "reset")
STATUS = Command(0x11, 0xFF, "status")
SAM_ID = Command(0x12, 0xFF, "sam-id")
FIND = Command(0x20, 0x01, "find")
SELECT = Command(0x20, 0x02, "select")
READ = Command(0x30, 0x01, "read")                        # text 256 + WLT photo 1024
READ_ADDRESS = Command(0x30, 0x03, "read-address")        # the appended (newer) address
READ_FINGERPRINT = Command(0x30, 0x10, "read-fingerprint")
SET_BAUD = Command(0x60, 0x00, "set-baud")                # PARA 00..04 = 115200, 57600, 38400, 19200, 9600
MAX_RF_BYTES = Command(0x61, 0xFF, "max-rf-bytes")        # DATA: one byte n
COMMANDS = (RESET, STATUS, SAM_ID, FIND, SELECT, READ, READ_ADDRESS, READ_FINGERPRINT, SET_BAUD, MAX_RF_BYTES)
BAUD_PARA = {115200: 0x00, 57600: 0x01, 38400: 0x02, 19200: 0x03, 9600: 0x04}


def command_name(cmd: int, para: int) -> str:
    """`find`, `read`…, or the two bytes in hex for a command this module does not name."""
    for c in COMMANDS:
        if c.cmd == cmd and (c.para == para or c is SET_BAUD):
            return c.name
    return f"{cmd:02X} {para:02X}"


class SW3(enum.IntEnum):
    OK = 0x90
    FOUND = 0x9F
    NO_CONTENT = 0x91
    CHECKSUM = 0x10
    LENGTH = 0x11
    COMMAND = 0x21
    UNAUTHORISED = 0x23
    UNKNOWN = 0x24
    CARD_AUTH = 0x31
    SAM_AUTH = 0x32
    VERIFY = 0x33
    UNKNOWN_CARD = 0x40
    READ_FAILED = 0x41
    RANDOM_FAILED = 0x47
    SELFTEST_FAILED = 0x60
    SAM_UNAUTHORISED = 0x66
    FIND_FAILED = 0x80
    SELECT_FAILED = 0x81


SW3_MEANINGS: dict[int, str] = {
    SW3.OK: "the command succeeded",
    SW3.FOUND: "a card is on the reader",
    SW3.NO_CONTENT: "the card holds no data of this kind: it has no appended address or fingerprint",
    SW3.CHECKSUM: "the reader received a frame with a bad checksum: check the serial cable; the command is retried",
    SW3.LENGTH: "the reader received a frame with a bad length: check the serial cable and the baud rate",
    SW3.COMMAND: "the reader does not know this command: check that the reader model supports it",
    SW3.UNAUTHORISED: "the command is not allowed in the reader's present state: power-cycle the reader",
    SW3.UNKNOWN: "the reader reported an unknown error: power-cycle it; if it persists, call its vendor",
    SW3.CARD_AUTH: "the card did not accept the reader (card authentication failed): ask the citizen to place "
                   "the card again; if it repeats, the card may be damaged",
    SW3.SAM_AUTH: "the reader did not accept the card (SAM authentication failed): ask the citizen to place the "
                  "card again; if it repeats, the card may be damaged or not genuine",
    SW3.VERIFY: "the card's data failed verification: ask the citizen to place the card again; if it repeats, "
                "the card may be damaged or not genuine",
    SW3.UNKNOWN_CARD: "this is not a resident ID card the reader knows: ask the citizen for their "
                      "second-generation resident ID card",
    SW3.READ_FAILED: "reading the card failed, usually because it moved: place it on the reader again and hold "
                     "it still",
    SW3.RANDOM_FAILED: "the card did not answer the reader's challenge: place it on the reader again",
    SW3.SELFTEST_FAILED: "the reader's SAM module failed its self-test: power-cycle the reader; if it persists, "
                         "the reader needs service from its vendor",
    SW3.SAM_UNAUTHORISED: "the reader's SAM module is not authorised: it must be authorised by its issuer; call "
                          "the reader's vendor",
    SW3.FIND_FAILED: "no card on the reader: place the card flat on the reader",
    SW3.SELECT_FAILED: "selecting the card failed, usually because it moved: place it on the reader again and "
                       "hold it still",
}
# Status words that mean the reader itself is unwell, whatever card is (or is not) on it.
READER_FAULTS = frozenset({SW3.COMMAND, SW3.UNAUTHORISED, SW3.UNKNOWN, SW3.SELFTEST_FAILED, SW3.SAM_UNAUTHORISED})
# Status words that mean our frame reached the SAM damaged: the command is worth sending again.
RETRYABLE = frozenset({SW3.CHECKSUM, SW3.LENGTH})


def sw3_meaning(sw3: int) -> str:
    """The meaning of a status word, with what to do; an unlisted one is named in hex."""
    return SW3_MEANINGS.get(sw3, f"the reader answered with the unknown status 0x{sw3:02X}: power-cycle it; "
                                 "if it persists, call its vendor")


@dataclass(frozen=True, repr=False)
class Response:
    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    def __repr__(self) -> str:      # the data may be a card's text and photo: never shown
        return f"Response(sw1=0x{self.sw1:02X}, sw2=0x{self.sw2:02X}, sw3=0x{self.sw3:02X}, {len(self.data)} bytes)"

    @property
    def ok(self) -> bool:
        return self.sw3 in (SW3.OK, SW3.FOUND)

    @property
    def meaning(self) -> str:
        return sw3_meaning(self.sw3)


@dataclass(frozen=True)
class CommandFrame:
    cmd: int
    para: int
    data: bytes = b""

    @property
    def name(self) -> str:
        return command_name(self.cmd, self.para)


def checksum(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0)


def _frame(body: bytes) -> bytes:
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([checksum(length + body)])


def _byte(value: int, what: str) -> int:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"{what} must be a byte (0..255), not {value!r}")
    return value


def encode_command(cmd: int, para: int, data: bytes = b"") -> bytes:
    """The frame the host sends for command `cmd`/`para` with optional `data`."""
    return _frame(bytes([_byte(cmd, "CMD"), _byte(para, "PARA")]) + bytes(data))


def encode_response(sw1: int, sw2: int, sw3: int, data: bytes = b"") -> bytes:
    """The frame a SAM sends back (the simulator's side)."""
    return _frame(bytes([_byte(sw1, "SW1"), _byte(sw2, "SW2"), _byte(sw3, "SW3")]) + bytes(data))


def _parse(buf: bytes, min_len: int) -> tuple[bytes | None, int]:
    """(the bytes between LEN and CHK, bytes consumed) for the first frame in `buf`, or (None, skippable)."""
    start = buf.find(PREAMBLE)
    if start < 0:   # keep a tail that may be the beginning of a preamble
        keep = next((n for n in range(len(PREAMBLE) - 1, 0, -1) if buf.endswith(PREAMBLE[:n])), 0)
        return None, len(buf) - keep
    if len(buf) < start + HEADER_LEN:
        return None, start
    length = int.from_bytes(buf[start + 5:start + 7], "big")
    if not min_len <= length <= MAX_LEN:
        raise SamProtocolError(f"a GA 467 frame declares {length} bytes, outside {min_len}..{MAX_LEN}: "
                               "the line is noisy or the baud rate is wrong", consumed=start + len(PREAMBLE),
                               reason="length")
    end = start + HEADER_LEN + length
    if len(buf) < end:
        return None, start
    frame = bytes(buf[start:end])
    if checksum(frame[5:-1]) != frame[-1]:
        raise SamProtocolError("a GA 467 frame has a wrong checksum: the line is noisy or the baud rate "
                               "is wrong", consumed=end, reason="checksum")
    return frame[HEADER_LEN:-1], end


def parse_response(buf: bytes) -> tuple[Response | None, int]:
    """The first complete answer in `buf` and how many bytes it (and garbage before it) took.

    (None, n) when no complete answer is there yet: the first n bytes are garbage that may be dropped.
    """
    body, consumed = _parse(buf, MIN_RESPONSE_LEN)
    if body is None:
        return None, consumed
    return Response(body[0], body[1], body[2], body[3:]), consumed


def parse_command(buf: bytes) -> tuple[CommandFrame | None, int]:
    """The first complete host command in `buf` (the simulator's side); like `parse_response`."""
    body, consumed = _parse(buf, MIN_COMMAND_LEN)
    if body is None:
        return None, consumed
    return CommandFrame(body[0], body[1], body[2:]), consumed


class FrameReader:
    """Incremental parsing: `feed()` bytes as they arrive, take answers with `next()`.

    After a bad frame, `next()` raises once and drops that frame, so the following one can still be read.
    """

    def __init__(self, parse=parse_response):
        self._parse = parse
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    @property
    def pending(self) -> int:
        """Bytes held that are not yet a complete frame."""
        return len(self._buf)

    def next(self):
        try:
            frame, consumed = self._parse(self._buf)
        except SamProtocolError as exc:
            del self._buf[:exc.consumed]
            raise
        del self._buf[:consumed]
        return frame

    def clear(self) -> None:
        self._buf = bytearray()
