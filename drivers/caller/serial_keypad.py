"""Caller keypads on one RS-485 line, through pyserial's `serial_for_url` (frames: see frames.py).

    caller+serial:///dev/ttyUSB3?baudrate=9600            a device path (note the three slashes)
    caller+serial://?port=socket://192.168.10.42:4001     any pyserial port name or URL (spy://, loop://, …)

Options: baudrate (9600; must match the keypads), timeout = seconds a write may take (1).
In `port=`, everything up to the next `&` is pyserial's; write a `&` inside it as %26.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ..base import DeviceError
from ..display.led_serial import BAUDRATES
from ..health import DeviceHealth, DeviceState
from ..serial_port import LINK_ERRORS, close_port, open_port, parse_serial_url, reason
from ..url import DeviceURL, choice, positive
from .base import Keypad, KeyPress
from .frames import FrameError, FrameReader, encode_ack, encode_text

logger = logging.getLogger(__name__)

OPTIONS = {"baudrate": lambda text: int(choice(*BAUDRATES)(text)), "timeout": positive(float), "port": str}
DEFAULTS = {"baudrate": 9600, "timeout": 1.0}
POLL_S = 0.05            # pyserial's read timeout: how often the wait's deadline is looked at


def from_url(raw: str) -> SerialKeypad:
    """The registry factory for caller+serial:// (nothing is opened)."""
    return SerialKeypad(parse_serial_url(raw, "caller+serial", OPTIONS, DEFAULTS, "/dev/ttyUSB3"))


class SerialKeypad(Keypad):
    """Keypads on one serial line: every good press is acknowledged at once (the keypad beeps), bad frames
    are skipped. One reader at a time; `show` may write while a read waits (writes share a lock)."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        o = url.options
        self.port: str = o["port"]
        self.baudrate: int = o["baudrate"]
        self.timeout: float = o["timeout"]
        self.counters = {"presses": 0, "bad_frames": 0, "link_errors": 0}
        self.last_error = ""
        self.last_press: dict[str, Any] | None = None
        self._serial: Any = None
        self._frames = FrameReader()
        self._write_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SerialKeypad(port={self.port!r}, baudrate={self.baudrate}, open={self.is_open})"

    def _open(self) -> None:
        try:
            self._serial = open_port(self.port, baudrate=self.baudrate, timeout=POLL_S,
                                     write_timeout=self.timeout)
        except LINK_ERRORS as exc:
            raise DeviceError(f"cannot open the caller keypads' port {self.port} ({reason(exc)}): check that the "
                              "RS-485 adapter is plugged in and the port is the right one") from exc
        self._frames = FrameReader()
        self.last_error = ""

    def _close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            close_port(port)

    def _link(self) -> Any:
        if self._serial is None:
            raise DeviceError(f"the caller keypads on {self.port} are not open: open them first")
        return self._serial

    def _failed(self, exc: BaseException) -> DeviceError:
        self.counters["link_errors"] += 1
        self.last_error = (f"the line to the caller keypads on {self.port} failed ({reason(exc)}): check the "
                           "RS-485 adapter's cable and power")
        return DeviceError(self.last_error)

    def _write(self, data: bytes) -> None:
        with self._write_lock:
            try:
                self._link().write(data)
            except LINK_ERRORS as exc:
                raise self._failed(exc) from exc

    def read_key(self, timeout: float = 0.0) -> KeyPress | None:
        port = self._link()
        deadline = time.monotonic() + timeout
        while True:
            try:
                frame = self._frames.next()
            except FrameError as exc:
                self.counters["bad_frames"] += 1
                logger.info("caller keypads %s: a bad frame was skipped: %s", self.port, exc)
                continue
            if frame is not None:
                self._write(encode_ack(frame.address, frame.key))
                self.counters["presses"] += 1
                self.last_press = {"keypad": frame.address, "key": frame.key}     # not "address": redacted
                return KeyPress(frame.address, frame.key)
            if time.monotonic() >= deadline:
                return None
            try:
                self._frames.feed(port.read(max(1, port.in_waiting)))
            except LINK_ERRORS as exc:
                raise self._failed(exc) from exc

    def show(self, address: int, text: str) -> None:
        try:
            frame = encode_text(address, text)
        except ValueError as exc:
            raise DeviceError(f"cannot show text on keypad {address!r}: {exc}") from None
        self._write(frame)

    def health(self) -> DeviceHealth:
        if self._serial is None:
            return DeviceHealth(DeviceState.OFFLINE, f"the caller keypads on {self.port} are not open")
        if self.last_error:
            return DeviceHealth(DeviceState.OFFLINE, self.last_error)
        return DeviceHealth(DeviceState.OK, f"the port {self.port} is open, {self.counters['presses']} press(es) "
                            "so far; a keypad speaks only when pressed, so a dead one shows only when used")

    def _diagnostics(self) -> dict[str, Any]:
        return {"port": self.port, "baudrate": self.baudrate, "last_error": self.last_error,
                "last_press": self.last_press, **self.counters}

