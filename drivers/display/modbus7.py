"""7-segment LED-485 screens on one RS-485 line, as Modbus RTU slaves that answer every write.

    modbus7+serial:///dev/ttyUSB2?baudrate=9600&timeout=0.5&digits=4   a device path (three slashes)
    modbus7+serial://?port=socket://192.168.10.42:4001                 any pyserial port name or URL

A number the screen shows as it is goes by FC06 into register 0; any other text by FC16 into register 0x80 as
7-segment patterns (frames.py). Options: baudrate (9600), timeout = seconds to wait for each answer (0.5),
digits = characters per screen (4; longer text keeps its rightmost characters), retries = more tries after a
garbled answer (1; silence is reported at once, so a switched-off screen does not stall the bus).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..health import DeviceHealth, DeviceState
from ..serial_port import BITS_PER_BYTE, LINK_ERRORS, close_port, parse_serial_url, reason
from ..url import DeviceURL
from .base import Display, DisplayError
from .frames import (
    SEGMENT_REGISTER,
    VALUE_REGISTER,
    FrameError,
    decode_request,
    decode_response,
    encode_segments,
    numeric_value,
    response_length,
    segment_text,
    write_register,
    write_registers,
)
from .led_serial import SERIAL_OPTIONS, open_port

logger = logging.getLogger(__name__)

NO_ANSWER = ("screen at address {address} does not answer: check its address switch, the A/B wires and the "
             "120 Ω terminator")
BUSY = 6


def digits_option(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 16:
        raise ValueError("use 1 to 16 digits")
    return value


def retries_option(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 5:
        raise ValueError("use 0 to 5")
    return value


OPTIONS = {**SERIAL_OPTIONS, "digits": digits_option, "retries": retries_option}
DEFAULTS = {"baudrate": 9600, "timeout": 0.5, "digits": 4, "retries": 1}


def from_url(raw: str) -> Modbus7Bus:
    """The registry factory for modbus7+serial:// (nothing is opened)."""
    return Modbus7Bus(parse_serial_url(raw, "modbus7+serial", OPTIONS, DEFAULTS, "/dev/ttyUSB2"))


@dataclass(frozen=True)
class Outcome:
    """How the last write to one address went."""
    ok: bool
    detail: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Modbus7Bus(Display):
    """LED-485 screens on one serial line. One lock: one request on the bus at a time, each answer checked.

    Health comes from the last write to each address (the screens have no status register).
    """

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        o = url.options
        self.port: str = o["port"]
        self.baudrate: int = o["baudrate"]
        self.timeout: float = o["timeout"]
        self.digits: int = o["digits"]
        self.retries: int = o["retries"]
        self.counters = {"writes": 0, "no_answers": 0, "garbled_answers": 0, "refusals": 0}
        self.port_error = ""
        self._serial: Any = None
        self._shown: dict[int, str] = {}
        self._outcomes: dict[int, Outcome] = {}
        self._next_write = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Modbus7Bus(port={self.port!r}, digits={self.digits}, open={self.is_open})"

    def _open(self) -> None:
        with self._lock:
            self._serial = open_port(self.port, self.baudrate, self.timeout, "7-segment screens")
            self.port_error = ""

    def _close(self) -> None:
        with self._lock:
            port, self._serial = self._serial, None
            if port is not None:
                close_port(port)

    # -- writing ---------------------------------------------------------------------------------
    def show(self, address: int, text: str) -> None:
        if not isinstance(address, int) or not 1 <= address <= 247:
            raise DisplayError(f"7-segment screen address {address!r} is out of range: Modbus slaves take 1..247")
        shown = segment_text(text, self.digits)
        value = numeric_value(text, self.digits)
        frame = (write_register(address, VALUE_REGISTER, value) if value is not None
                 else write_registers(address, SEGMENT_REGISTER, encode_segments(shown)))
        with self._lock:
            if not self.is_open:
                raise DisplayError(f"the 7-segment screens on {self.port} are not open: open them first")
            try:
                self._exchange(address, frame)
            except DisplayError as exc:
                self._outcomes[address] = Outcome(False, str(exc))
                raise
            self._outcomes[address] = Outcome(True, f"shows {shown.strip()!r}")
            self._shown[address] = shown

    def _exchange(self, address: int, frame: bytes) -> None:
        """Sends `frame` and checks the answer, retrying garbled ones; DisplayError says what to check."""
        request, error = decode_request(frame), None
        for attempt in range(self.retries + 1):
            answer = self._send(frame)
            if not answer:
                self.counters["no_answers"] += 1
                raise DisplayError(NO_ANSWER.format(address=address))
            try:
                response = decode_response(answer, request)
            except FrameError as exc:
                self.counters["garbled_answers"] += 1
                error = exc
                logger.debug("7-segment screens %s: address %d try %d: %s", self.port, address, attempt + 1, exc)
                continue
            if response.exception == BUSY:
                error = FrameError(response.meaning)
                continue
            if response.exception is not None:
                self.counters["refusals"] += 1
                raise DisplayError(f"screen at address {address} refused the write: {response.meaning}")
            self.counters["writes"] += 1
            return
        raise DisplayError(f"screen at address {address} answered garbled {self.retries + 1} time(s) ({error}): "
                           f"check the A/B wires and the 120 Ω terminator, that baudrate={self.baudrate} matches "
                           f"the screen, and that no other screen has address {address}")

    def _send(self, frame: bytes) -> bytes:
        """Writes one request and returns the answer's bytes (b"" for silence); DisplayError if the port fails."""
        if self._serial is None:        # dropped after a port failure: try it again
            self._serial = open_port(self.port, self.baudrate, self.timeout, "7-segment screens")
            logger.info("7-segment screens %s: the port is open again", self.port)
            self.port_error = ""
        try:
            delay = self._next_write - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._serial.reset_input_buffer()
            self._serial.write(frame)
            answer = self._receive()
        except LINK_ERRORS as exc:
            port, self._serial = self._serial, None
            close_port(port)
            if not self.port_error:
                logger.warning("7-segment screens %s: the port failed: %s", self.port, reason(exc))
            self.port_error = (f"the 7-segment screens' port {self.port} failed ({reason(exc)}): check the RS-485 "
                               "adapter's cable and power; it is opened again on the next write")
            raise DisplayError(self.port_error) from exc
        # Modbus RTU wants 3.5 characters of silence between frames
        self._next_write = time.monotonic() + 3.5 * BITS_PER_BYTE / self.baudrate
        return answer

    def _receive(self) -> bytes:
        answer = bytearray()
        deadline = time.monotonic() + self.timeout
        while True:
            length = response_length(answer)
            if length is not None and len(answer) >= length:
                return bytes(answer[:length])
            if time.monotonic() >= deadline:
                return bytes(answer)
            answer += self._serial.read(max(1, self._serial.in_waiting))

    # -- state -----------------------------------------------------------------------------------
    def shown(self) -> dict[int, str]:
        """What each address acknowledged last, as the screen draws it (`digits` wide)."""
        with self._lock:
            return dict(self._shown)

    def outcomes(self) -> dict[int, Outcome]:
        with self._lock:
            return dict(self._outcomes)

    def health(self) -> DeviceHealth:
        if not self.is_open:
            return DeviceHealth(DeviceState.OFFLINE, f"the 7-segment screens on {self.port} are not open")
        if self.port_error:
            return DeviceHealth(DeviceState.OFFLINE, self.port_error)
        outcomes = self.outcomes()
        failing = sorted(a for a, o in outcomes.items() if not o.ok)
        if not outcomes:
            return DeviceHealth(DeviceState.OK, f"the port {self.port} is open; no screen has been written yet")
        if not failing:
            return DeviceHealth(DeviceState.OK, f"the screens at {_addresses(outcomes)} answered their last write")
        if len(failing) == len(outcomes):
            return DeviceHealth(DeviceState.OFFLINE, f"no screen answers (addresses {_addresses(failing)}): check "
                                f"the RS-485 adapter, the A/B wires, the 120 Ω terminator and baudrate="
                                f"{self.baudrate}; first: {outcomes[failing[0]].detail}")
        return DeviceHealth(DeviceState.DEGRADED, f"the screens at {_addresses(failing)} failed their last write, "
                            f"the others answer; {'; '.join(outcomes[a].detail for a in failing[:3])}")

    def _diagnostics(self) -> dict[str, Any]:
        outcomes = {a: {"ok": o.ok, "detail": o.detail, "at": o.at.isoformat(timespec="seconds")}
                    for a, o in sorted(self.outcomes().items())}
        return {"port": self.port, "baudrate": self.baudrate, "timeout_s": self.timeout, "digits": self.digits,
                "retries": self.retries, "port_error": self.port_error, "shown": self.shown(), "outcomes": outcomes,
                **self.counters}


def _addresses(addresses) -> str:
    return ", ".join(str(a) for a in sorted(addresses))
