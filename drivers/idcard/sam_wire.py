"""A spy:// wire dump of a SAM reader with the card's personal data masked as it is written.

pyserial's spy:// writes every byte of the line to its file, and the SAM's answer to a read holds the card's
text (name, ID number, address in UCS-2) and photo. A dump is made to be sent to a vendor, so the SamReader
puts a `RedactingFormatter` in front of spy's formatter: the data bytes of answers to select and read
commands appear as `xx` (frame headers, lengths, status words and checksums stay), and nothing personal ever
reaches the file. Everything else is spy's own hex dump, line for line.
"""
from __future__ import annotations

import time
from typing import Any

from .sam_frames import HEADER_LEN, PREAMBLE

STATUS_LEN = 3              # SW1 SW2 SW3 after the length
READ_CMD = 0x30             # 30 01 text+photo, 30 03 appended address, 30 10 with fingerprint
SELECT = (0x20, 0x02)       # its answer carries the card's chip serial number
READ_LENGTHS = 4            # a read answer's data starts with the text and photo lengths: kept


class AnswerMask:
    """Follows the SAM's answers byte by byte and says which bytes are personal data."""

    def __init__(self) -> None:
        self.command(b"")

    def command(self, frame: bytes) -> None:
        """A command went out: the next answer is masked if it answers a select or a read."""
        cmd = tuple(frame[HEADER_LEN:HEADER_LEN + 2]) if frame.startswith(PREAMBLE) else ()
        self.masked = bool(cmd) and (cmd[0] == READ_CMD or cmd == SELECT)
        self.keep = READ_LENGTHS if cmd[:1] == (READ_CMD,) else 0
        self._window = b""      # the last bytes seen while looking for a preamble
        self._pos = -1          # position in the current answer frame, -1 while looking for one
        self._end = 0           # that frame's length, once its length bytes arrived
        self._length = b""

    def flags(self, data: bytes) -> list[bool]:
        """For each byte of `data` as it arrives, whether it is personal data."""
        return [self._next(byte) for byte in data]

    def _next(self, byte: int) -> bool:
        if self._pos < 0:
            self._window = (self._window + bytes([byte]))[-len(PREAMBLE):]
            if self._window == PREAMBLE:
                self._pos, self._length = len(PREAMBLE), b""
            return False
        pos, self._pos = self._pos, self._pos + 1
        if pos < HEADER_LEN:
            self._length += bytes([byte])
            self._end = HEADER_LEN + int.from_bytes(self._length, "big") if pos == HEADER_LEN - 1 else 0
            return False
        if pos >= self._end - 1:        # the checksum ends the frame
            self._pos, self._window = -1, b""
            return False
        return self.masked and pos >= HEADER_LEN + STATUS_LEN + self.keep


class RedactingFormatter:
    """Stands in for spy's formatter (`port.formatter`): TX and control lines pass through unchanged, RX
    lines are written in spy's hex-dump format with personal bytes as `xx`."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.output = inner.output          # serial_port.close_port closes it
        self.mask = AnswerMask()

    def tx(self, data: bytes) -> None:
        self.mask.command(bytes(data))
        self.inner.tx(data)

    def control(self, name: str, value: str) -> None:
        self.inner.control(name, value)

    def rx(self, data: bytes) -> None:
        flags = self.mask.flags(bytes(data))
        if not any(flags):
            self.inner.rx(data)
        elif not hasattr(self.inner, "write_line"):         # spy's raw format: personal bytes become zeros
            self.inner.rx(bytes(0 if masked else b for b, masked in zip(data, flags, strict=True)))
        else:
            if self.inner.color:
                self.output.write(self.inner.rx_color)
            for offset, row in hexdump(bytes(data), flags):
                self.inner.write_line(time.time() - self.inner.start_time, "RX", f"{offset:04X}  ", row)


def hexdump(data: bytes, masked: list[bool]) -> list[tuple[int, str]]:
    """pyserial spy's hex-dump rows (offset, "HEX  ASCII") of `data`, each masked byte as `xx` and `.`;
    the cells are laid out exactly as spy's `sixteen` does, quirks included."""
    rows, values, text, offset = [], [], [], 0
    for value, char in _cells(data, masked):
        if value is None:
            rows.append((offset, " ".join(["".join(values), "".join(text)])))
            values, text, offset = [], [], offset + 0x10
        else:
            values.append(value)
            text.append(char)
    return rows


def _cells(data: bytes, masked: list[bool]):
    n = 0
    for b, hidden in zip(data, masked, strict=True):
        if hidden:
            yield "xx ", "."
        else:
            yield f"{b:02X} ", chr(b) if 0x20 <= b < 0x7F else "."
        n += 1
        if n == 8:
            yield " ", ""
        elif n >= 16:
            yield None, None
            n = 0
    if n > 0:
        while n < 16:
            n += 1
            if n == 8:
                yield " ", ""
            yield "   ", " "
        yield None, None


def redact_spy(port: Any) -> None:
    """Put a RedactingFormatter in front of a spy:// port's formatter (other ports are left alone)."""
    formatter = getattr(port, "formatter", None)
    if formatter is not None and not isinstance(formatter, RedactingFormatter):
        port.formatter = RedactingFormatter(formatter)
