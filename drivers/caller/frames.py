"""Caller keypad (呼叫器) frames on RS-485: a small protocol of our own, as no vendor standard is public.

Keypad → host, one frame per key press (5 bytes):       02 ADDR KEY CHK 03
Host → keypad, the acknowledgement (the keypad beeps):  06 ADDR KEY CHK 03
Host → keypad, a line for a keypad with a display:      1B ADDR LEN TEXT… CHK 03
    ADDR is one raw byte, the keypad's bus address 1..254 (set by DIP switches; 0 and 255 are reserved).
    KEY is an ASCII digit, the key's place on the keypad: see KEYS. CHK is the XOR of every byte between the
    start byte and CHK (ADDR KEY, or ADDR LEN TEXT). TEXT is GB2312, at most MAX_TEXT_BYTES bytes.
    The frames have fixed places, so an address or key equal to a start or end byte is still unambiguous.
Plain functions over bytes, shared by the driver and the simulator. Every malformed frame given to a decoder
raises `FrameError` (a ValueError) and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass

STX, ETX, ACK, ESC = 0x02, 0x03, 0x06, 0x1B
KEYS = {"call": 0x31, "recall": 0x32, "pause": 0x33, "transfer": 0x34, "skip": 0x35, "evaluate": 0x36}
KEY_NAMES = {code: name for name, code in KEYS.items()}
LABELS = {"call": "呼叫", "recall": "重呼", "pause": "暂停", "transfer": "转移", "skip": "过号", "evaluate": "评价"}
MIN_ADDRESS, MAX_ADDRESS = 1, 254
MAX_TEXT_BYTES = 32
FRAME_LEN = 5


class FrameError(ValueError):
    """A frame broke the protocol; `consumed` bytes of a stream may be dropped before resyncing."""

    def __init__(self, message: str, consumed: int = 0):
        super().__init__(message)
        self.consumed = consumed


@dataclass(frozen=True)
class KeyFrame:
    """A key press (from a keypad) or its acknowledgement (from the host)."""
    address: int
    key: str


@dataclass(frozen=True)
class TextFrame:
    address: int
    text: str


def _xor(data: bytes) -> int:
    chk = 0
    for byte in data:
        chk ^= byte
    return chk


def _address(address: int) -> int:
    if not isinstance(address, int) or not MIN_ADDRESS <= address <= MAX_ADDRESS:
        raise ValueError(f"a keypad's address is {MIN_ADDRESS}..{MAX_ADDRESS}, not {address!r}")
    return address


def _key(key: str) -> int:
    if key not in KEYS:
        raise ValueError(f"unknown keypad key {key!r}; keys: {', '.join(KEYS)}")
    return KEYS[key]


def encode_key(address: int, key: str) -> bytes:
    """The frame a keypad sends when `key` is pressed."""
    body = bytes([_address(address), _key(key)])
    return bytes([STX]) + body + bytes([_xor(body), ETX])


def encode_ack(address: int, key: str) -> bytes:
    """The host's acknowledgement of a press."""
    body = bytes([_address(address), _key(key)])
    return bytes([ACK]) + body + bytes([_xor(body), ETX])


def text_bytes(text: str) -> bytes:
    """`text` as a keypad's display gets it: control characters dropped, undrawable as '?', cut to fit."""
    clean = "".join(c for c in text if c >= " " and c != "\x7f")
    data = clean.encode("gb2312", errors="replace")[:MAX_TEXT_BYTES]
    while data.decode("gb2312", errors="ignore").encode("gb2312") != data:
        data = data[:-1]                     # never keep half of a Chinese character
    return data


def encode_text(address: int, text: str) -> bytes:
    data = text_bytes(text)
    body = bytes([_address(address), len(data)]) + data
    return bytes([ESC]) + body + bytes([_xor(body), ETX])


def _fixed(buf: bytes, start: int, what: str) -> KeyFrame | None:
    """The 5-byte frame (press or ACK) at `start`, None while incomplete; FrameError when it is broken."""
    frame = buf[start:start + FRAME_LEN]
    if len(frame) < FRAME_LEN:
        return None
    bad = None
    if frame[4] != ETX:
        bad = "does not end in 03"
    elif _xor(frame[1:3]) != frame[3]:
        bad = f"has a wrong check byte (0x{frame[3]:02X}, expected 0x{_xor(frame[1:3]):02X})"
    elif not MIN_ADDRESS <= frame[1] <= MAX_ADDRESS:
        bad = f"comes from the reserved address {frame[1]}"
    elif frame[2] not in KEY_NAMES:
        bad = f"names no key (0x{frame[2]:02X})"
    if bad:
        raise FrameError(f"a {what} frame {bad}: {frame.hex(' ')}; the line is noisy, two keypads share an "
                         "address, or the baud rate is wrong", consumed=start + 1)
    return KeyFrame(frame[1], KEY_NAMES[frame[2]])


def parse_key_frame(buf: bytes) -> tuple[KeyFrame | None, int]:
    """The first key press in a keypad → host stream and the bytes it (and garbage before it) took.

    (None, n): no complete frame yet, the first n bytes are garbage that may be dropped.
    """
    buf = bytes(buf)
    start = buf.find(bytes([STX]))
    if start < 0:
        return None, len(buf)
    frame = _fixed(buf, start, "key press")
    return (frame, start + FRAME_LEN) if frame else (None, start)


def parse_host_frame(buf: bytes) -> tuple[KeyFrame | TextFrame | None, int]:
    """The first ACK or text frame in a host → keypad stream (the simulator's side), as `parse_key_frame`."""
    buf = bytes(buf)
    start = next((i for i, b in enumerate(buf) if b in (ACK, ESC)), -1)
    if start < 0:
        return None, len(buf)
    if buf[start] == ACK:
        frame = _fixed(buf, start, "acknowledgement")
        return (frame, start + FRAME_LEN) if frame else (None, start)
    if len(buf) < start + 3:
        return None, start
    size = buf[start + 2]
    if size > MAX_TEXT_BYTES:
        raise FrameError(f"a text frame declares {size} bytes, more than {MAX_TEXT_BYTES}", consumed=start + 1)
    end = start + 3 + size + 2
    if len(buf) < end:
        return None, start
    body, chk = buf[start + 1:end - 2], buf[end - 2]
    if buf[end - 1] != ETX or _xor(body) != chk or not MIN_ADDRESS <= body[0] <= MAX_ADDRESS:
        raise FrameError(f"a broken text frame: {buf[start:end][:16].hex(' ')}", consumed=start + 1)
    try:
        text = body[2:].decode("gb2312")
    except UnicodeDecodeError as exc:
        raise FrameError(f"a text frame's bytes are not GB2312 ({exc.reason})", consumed=end) from None
    return TextFrame(body[0], text), end


class FrameReader:
    """Incremental parsing: `feed()` bytes as they arrive, take frames with `next()` (raises once per bad one)."""

    def __init__(self, parse=parse_key_frame):
        self._parse = parse
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next(self):
        try:
            frame, consumed = self._parse(self._buf)
        except FrameError as exc:
            del self._buf[:exc.consumed]
            raise
        del self._buf[:consumed]
        return frame
