"""QSystem-style LED text boards on one RS-485 line: `01 ADDR TEXT 07` per screen, no answers.

    led+serial:///dev/ttyUSB1?baudrate=9600&encoding=gb2312&gap_ms=300&width=16   a device path (three slashes)
    led+serial://?port=socket://192.168.10.41:4001                                any pyserial port name or URL
    led+serial://?port=spy:///dev/ttyUSB1?file=/tmp/led-wire.txt                  the wire dumped for a technician

Options: baudrate (9600), encoding=gb2312|ascii (what the boards can draw; gb2312), gap_ms between two frames
(300: the boards drop a frame that follows too closely), width = the longest text in bytes, a Chinese character
taking two (16), widths=99:64,98:32 for boards wider than the rest, timeout = seconds a write may take (1).
In `port=`, everything up to the next `&` is pyserial's; write a `&` inside it as %26.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ..health import DeviceHealth, DeviceState
from ..serial_port import BITS_PER_BYTE, LINK_ERRORS, close_port, parse_serial_url, reason
from ..serial_port import open_port as open_line
from ..url import DeviceURL, choice, positive
from .base import Display, DisplayError
from .frames import ENCODINGS, board_text, encode_text_frame

logger = logging.getLogger(__name__)

BAUDRATES = ("1200", "2400", "4800", "9600", "19200", "38400", "57600", "115200")


def gap_ms(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 10_000:
        raise ValueError("use 0 to 10000 milliseconds")
    return value


def width_option(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 512:
        raise ValueError("use 1 to 512 bytes")
    return value


def widths_option(text: str) -> dict[int, int]:
    """`99:64,98:32` → {99: 64, 98: 32}: boards wider (or narrower) than `width`."""
    widths = {}
    for part in filter(None, text.split(",")):
        address, _, width = part.partition(":")
        if not width:
            raise ValueError(f"write each board as ADDRESS:WIDTH, e.g. 99:64, not {part!r}")
        widths[int(address)] = width_option(width)
    return widths


SERIAL_OPTIONS = {"baudrate": lambda text: int(choice(*BAUDRATES)(text)), "timeout": positive(float), "port": str}
OPTIONS = {**SERIAL_OPTIONS, "encoding": choice(*ENCODINGS), "gap_ms": gap_ms, "width": width_option,
           "widths": widths_option}
DEFAULTS = {"baudrate": 9600, "timeout": 1.0, "encoding": "gb2312", "gap_ms": 300, "width": 16, "widths": {}}


def open_port(port: str, baudrate: int, timeout: float, what: str) -> Any:
    """A pyserial port, or DisplayError saying what to check."""
    try:
        return open_line(port, baudrate=baudrate, timeout=min(timeout, 0.05), write_timeout=timeout)
    except LINK_ERRORS as exc:
        raise DisplayError(f"cannot open the {what}'s port {port} ({reason(exc)}): check that the RS-485 adapter "
                           "is plugged in and the port is the right one") from exc


def from_url(raw: str) -> LedBus:
    """The registry factory for led+serial:// (nothing is opened)."""
    return LedBus(parse_serial_url(raw, "led+serial", OPTIONS, DEFAULTS, "/dev/ttyUSB1"))


class LedBus(Display):
    """Text boards on one serial line. One lock orders the frames; each waits for the previous one's gap.

    The protocol is one-way: a board never answers, so this driver cannot see a dead or unplugged screen.
    Health only knows whether the port is open and the last write went out.
    """

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        o = url.options
        self.port: str = o["port"]
        self.baudrate: int = o["baudrate"]
        self.encoding: str = o["encoding"]
        self.gap_s: float = o["gap_ms"] / 1000
        self.width: int = o["width"]
        self.widths: dict[int, int] = dict(o["widths"])
        self.timeout: float = o["timeout"]
        self.counters = {"frames": 0, "write_errors": 0}
        self.last_error = ""
        self._serial: Any = None
        self._shown: dict[int, str] = {}
        self._next_write = 0.0           # time.monotonic() before which no frame may start
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LedBus(port={self.port!r}, encoding={self.encoding!r}, open={self.is_open})"

    def _open(self) -> None:
        with self._lock:
            self._serial = open_port(self.port, self.baudrate, self.timeout, "LED screens")
            self.last_error = ""

    def _close(self) -> None:
        with self._lock:
            port, self._serial = self._serial, None
            if port is not None:
                close_port(port)

    def width_of(self, address: int) -> int:
        return self.widths.get(address, self.width)

    def show(self, address: int, text: str) -> None:
        if not isinstance(address, int) or not 0 <= address <= 0xFF:
            raise DisplayError(f"LED screen address {address!r} is out of range: text boards take 0..255")
        frame = encode_text_frame(address, text, self.encoding, self.width_of(address))
        with self._lock:
            if not self.is_open:
                raise DisplayError(f"the LED screens on {self.port} are not open: open them first")
            if self._serial is None:        # dropped after a failed write: try the port again
                self._serial = open_port(self.port, self.baudrate, self.timeout, "LED screens")
            delay = self._next_write - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                self._serial.write(frame)
            except LINK_ERRORS as exc:
                self._fail(address, exc)
            # the next frame may start once this one is on the wire and the boards had their gap
            self._next_write = time.monotonic() + len(frame) * BITS_PER_BYTE / self.baudrate + self.gap_s
            self.counters["frames"] += 1
            if self.last_error:
                logger.info("LED screens %s: writing works again", self.port)
            self.last_error = ""
            self._shown[address] = board_text(text, self.encoding, self.width_of(address))

    def _fail(self, address: int, exc: BaseException) -> None:
        """Drops the port (the next show opens it again) and raises the DisplayError for a failed write."""
        self.counters["write_errors"] += 1
        port, self._serial = self._serial, None
        close_port(port)
        if not self.last_error:
            logger.warning("LED screens %s: a write failed: %s", self.port, reason(exc))
        self.last_error = (f"writing to the LED screens on {self.port} failed ({reason(exc)}): check the RS-485 "
                           "adapter's cable and power; the port is opened again on the next write")
        raise DisplayError(f"screen at address {address}: {self.last_error}") from exc

    def shown(self) -> dict[int, str]:
        """What was last sent to each address (as the board draws it): for diagnostics, not proof it shows."""
        with self._lock:
            return dict(self._shown)

    def health(self) -> DeviceHealth:
        if not self.is_open:
            return DeviceHealth(DeviceState.OFFLINE, f"the LED screens on {self.port} are not open")
        if self.last_error:
            return DeviceHealth(DeviceState.OFFLINE, self.last_error)
        return DeviceHealth(DeviceState.OK, f"the port {self.port} is open and {self.counters['frames']} frame(s) "
                            "went out; the boards never answer, so a dead screen shows only to the eye")

    def _diagnostics(self) -> dict[str, Any]:
        return {"port": self.port, "baudrate": self.baudrate, "encoding": self.encoding,
                "gap_ms": round(self.gap_s * 1000), "width": self.width, "widths": dict(self.widths),
                "last_error": self.last_error, "shown": self.shown(), **self.counters}
