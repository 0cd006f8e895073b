"""A spy:// wire dump of an SMS modem with each message's number and text masked as it is written.

The PDU written after the `> ` prompt holds the applicant's number and the text (in hex). A dump is made to be sent
to a vendor, so the driver puts a `RedactingFormatter` in front of spy's formatter: in a PDU, the destination's
digits and the user data after its header appear as `x` (the SMSC, first octet, lengths, PID, DCS, validity and the
concatenation header stay), and the AT commands and answers pass as they are. A modem that echoes what it is sent
(one that restarted with echo on) would send the PDU back: between a PDU and the modem's final result (OK, ERROR),
runs of hex digits it sends are masked too — any run of 4 or more (the PDU's text is 4 hex digits a character, a
pickup code's digit among them), and any run at the edge of a chunk read (a PDU split over two reads).
"""
from __future__ import annotations

import re
from typing import Any

from .at_codec import CTRL_Z
from .pdu import UDHI, VPF_RELATIVE


def redacted_pdu(text: str) -> str:
    """`text` (a PDU in hex) with the destination's digits and the message's text as x; all x if it is no PDU."""
    try:
        raw = bytes.fromhex(text)
        pos = 1 + raw[0]
        first, count = raw[pos], raw[pos + 2]
        number = (pos + 4, pos + 4 + (count + 1) // 2)
        pos = number[1] + 2
        pos += {0x00: 0, VPF_RELATIVE: 1}.get(first & 0x18, 7)
        data = pos + 1
        if first & UDHI:
            data += 1 + raw[data]
        if data > len(raw):
            raise IndexError(data)
    except (ValueError, IndexError):
        return "x" * len(text)
    chars = list(text)
    for start, end in (number, (data, len(raw))):
        chars[2 * start:2 * end] = "x" * (2 * (end - start))
    return "".join(chars)


HEX_RUN = re.compile(rb"[0-9A-Fa-f]+")
FINAL = re.compile(rb"\r\n(OK|ERROR|\+CMS ERROR: ?\d+|\+CME ERROR: ?\d+)\r\n")


def masked_echo(data: bytes) -> bytes:
    """`data` read after a PDU with the runs of hex digits that may be the PDU's echo as x: 4 or more long, or at
    either end of the chunk."""
    def mask(m: re.Match) -> bytes:
        edge = m.start() == 0 or m.end() == len(data)
        return b"x" * len(m.group()) if edge or len(m.group()) >= 4 else m.group()
    return HEX_RUN.sub(mask, data)


class RedactingFormatter:
    """Stands in for spy's formatter (`port.formatter`): a write ending in Ctrl-Z (a PDU) is masked first, and so is
    what may be its echo until the modem's final result."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.output = inner.output          # serial_port.close_port closes it
        self.after_pdu = False

    def tx(self, data: bytes) -> None:
        data = bytes(data)
        if data.endswith(CTRL_Z):
            data = redacted_pdu(data[:-1].decode("ascii", errors="replace")).encode("ascii") + CTRL_Z
            self.after_pdu = True
        elif data.endswith(b"\r"):         # a new command: whatever answers it is no echo of a PDU
            self.after_pdu = False
        self.inner.tx(data)

    def rx(self, data: bytes) -> None:
        data = bytes(data)
        if self.after_pdu and data:
            final = FINAL.search(data)
            head, tail = (data[:final.start()], data[final.start():]) if final else (data, b"")
            data = masked_echo(head) + tail
            self.after_pdu = final is None
        self.inner.rx(data)

    def control(self, name: str, value: str) -> None:
        self.inner.control(name, value)


def redact_spy(port: Any) -> None:
    """Put a RedactingFormatter in front of a spy:// port's formatter (other ports are left alone)."""
    formatter = getattr(port, "formatter", None)
    if formatter is not None and not isinstance(formatter, RedactingFormatter):
        port.formatter = RedactingFormatter(formatter)
