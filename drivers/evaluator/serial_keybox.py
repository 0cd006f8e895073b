"""Evaluator key boxes on a serial line, through pyserial's `serial_for_url` (frames: see frames.py).

    evalbox+serial:///dev/ttyUSB4?baudrate=9600            a device path (note the three slashes)
    evalbox+serial://?port=socket://192.168.10.43:4001     any pyserial port name or URL (spy://, loop://, …)

Options: baudrate (9600; must match the box), address = the box's address 1..254 (1), answer = seconds the box
has to answer a command (0.5), heartbeat = seconds between status queries while a prompt waits, so that a box
unplugged mid-prompt is noticed (1), timeout = seconds a write may take (1).
In `port=`, everything up to the next `&` is pyserial's; write a `&` inside it as %26.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ..display.led_serial import BAUDRATES
from ..health import DeviceHealth, DeviceState
from ..serial_port import LINK_ERRORS, close_port, open_port, parse_serial_url, reason
from ..url import DeviceURL, choice, positive
from . import frames
from .base import Evaluator, EvaluatorError
from .frames import FrameError, FrameReader

logger = logging.getLogger(__name__)
POLL_S = 0.05            # pyserial's read timeout: how often deadlines and cancel() are looked at


def address_option(text: str) -> int:
    value = int(text)
    if not frames.MIN_ADDRESS <= value <= frames.MAX_ADDRESS:
        raise ValueError(f"a key box's address is {frames.MIN_ADDRESS}..{frames.MAX_ADDRESS}")
    return value


OPTIONS = {"baudrate": lambda text: int(choice(*BAUDRATES)(text)), "address": address_option,
           "answer": positive(float), "heartbeat": positive(float), "timeout": positive(float), "port": str}
DEFAULTS = {"baudrate": 9600, "address": 1, "answer": 0.5, "heartbeat": 1.0, "timeout": 1.0}


def from_url(raw: str) -> SerialKeyBox:
    """The registry factory for evalbox+serial:// (nothing is opened)."""
    return SerialKeyBox(parse_serial_url(raw, "evalbox+serial", OPTIONS, DEFAULTS, "/dev/ttyUSB4"))


class SerialKeyBox(Evaluator):
    """One key box on a serial line. One prompt at a time; `health()` during a prompt does no I/O (the prompt's
    heartbeat tells) and `cancel()` may come from any thread."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        o = url.options
        self.port: str = o["port"]
        self.baudrate: int = o["baudrate"]
        self.address: int = o["address"]
        self.answer_s: float = o["answer"]
        self.heartbeat_s: float = o["heartbeat"]
        self.timeout: float = o["timeout"]
        self.counters = {"prompts": 0, "rated": 0, "not_rated": 0, "ignored_keys": 0, "bad_frames": 0,
                         "link_errors": 0, "no_answers": 0}
        self.last_error = ""
        self.lamp = False
        self._serial: Any = None
        self._frames = FrameReader()
        self._cancel = threading.Event()
        self._io = threading.RLock()

    def __repr__(self) -> str:
        return f"SerialKeyBox(port={self.port!r}, address={self.address}, open={self.is_open})"

    # -- the line --------------------------------------------------------------------------------
    def _open(self) -> None:
        try:
            self._serial = open_port(self.port, baudrate=self.baudrate, timeout=POLL_S, write_timeout=self.timeout)
        except LINK_ERRORS as exc:
            raise EvaluatorError("port", f"无法打开评价器串口 {self.port}（{reason(exc)}）",
                                 f"cannot open the evaluator key box's port {self.port} ({reason(exc)}): check that "
                                 "the serial adapter is plugged in and the port is the right one") from exc
        self._frames = FrameReader()
        self.last_error, self.lamp = "", False
        # a lamp still lit from before a crash or a pulled cable invites presses nobody will take: put it out
        try:
            self._lamp(False)
        except EvaluatorError as exc:           # a silent box is still opened; its health says why
            logger.info("key box %s: the lamp could not be put out on opening: %s", self.port, exc)

    def _close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            close_port(port)

    def _link(self) -> Any:
        if self._serial is None:
            raise EvaluatorError("not_open", "评价器未打开", f"the key box on {self.port} is not open: open it first")
        return self._serial

    def _failed(self, exc: BaseException) -> EvaluatorError:
        self.counters["link_errors"] += 1
        self.last_error = (f"the line to the key box on {self.port} failed ({reason(exc)}): check the adapter's "
                           "cable and power")
        return EvaluatorError("port", f"评价器串口 {self.port} 故障", self.last_error)

    def _no_answer(self, what: str) -> EvaluatorError:
        self.counters["no_answers"] += 1
        self.last_error = (f"the key box at address {self.address} on {self.port} did not answer {what} within "
                           f"{self.answer_s:g} s: check its cable, its power and its address")
        return EvaluatorError("no_answer", f"评价器（地址 {self.address}）无应答，请检查连线和电源", self.last_error)

    def _write(self, data: bytes) -> None:
        try:
            self._link().write(data)
        except LINK_ERRORS as exc:
            raise self._failed(exc) from exc

    def _frame(self) -> frames.Frame | None:
        """The next good frame from this box already read or arriving within POLL_S, else None."""
        port = self._link()
        for _ in range(2):
            while True:
                try:
                    frame = self._frames.next()
                except FrameError as exc:
                    self.counters["bad_frames"] += 1
                    logger.info("key box %s: a bad frame was skipped: %s", self.port, exc)
                    continue
                if frame is None:
                    break
                if frame.address == self.address:
                    return frame
            try:
                data = port.read(max(1, port.in_waiting))
            except LINK_ERRORS as exc:
                raise self._failed(exc) from exc
            if not data:
                return None
            self._frames.feed(data)
        return None

    def _on_key(self, frame: frames.Frame) -> int:
        self._write(frames.ack(self.address, frames.KEY))
        return frame.payload[0]

    def _command(self, data: bytes, expect: int, what: str) -> tuple[frames.Frame, list[int]]:
        """Send a command, wait for its answer; (the answer, levels of key reports that came meanwhile)."""
        self._write(data)
        keys: list[int] = []
        deadline = time.monotonic() + self.answer_s
        while time.monotonic() < deadline:
            frame = self._frame()
            if frame is None:
                continue
            if frame.command == frames.KEY:
                keys.append(self._on_key(frame))
            elif frame.command == expect and (expect != frames.ACK or frame.payload[0] == data[2]):
                self.last_error = ""
                return frame, keys
        raise self._no_answer(what)

    def _lamp(self, on: bool) -> list[int]:
        _, keys = self._command(frames.lamp_on(self.address) if on else frames.lamp_off(self.address), frames.ACK,
                                "lamp on" if on else "lamp off")
        self.lamp = on
        return keys

    # -- the evaluator ---------------------------------------------------------------------------
    def prompt(self, timeout: float) -> int | None:
        with self._io:
            self._cancel.clear()
            port = self._link()
            try:
                port.reset_input_buffer()       # presses before the lamp lit are not this handling's
            except LINK_ERRORS as exc:
                raise self._failed(exc) from exc
            self._frames.clear()
            self.counters["prompts"] += 1
            self._lamp(True)
            level = self._wait(time.monotonic() + timeout)
            try:
                self._lamp(False)
            except EvaluatorError:
                if level is None:
                    raise
                logger.info("key box %s: the lamp did not go out after a key: %s", self.port, self.last_error)
            self.counters["rated" if level is not None else "not_rated"] += 1
            return level

    def _wait(self, deadline: float) -> int | None:
        beat = time.monotonic() + self.heartbeat_s
        while time.monotonic() < deadline and not self._cancel.is_set():
            frame = self._frame()
            if frame is not None and frame.command == frames.KEY:
                return self._on_key(frame)
            if time.monotonic() >= beat:
                _, keys = self._command(frames.status_query(self.address), frames.STATUS, "a status query")
                if keys:
                    return keys[0]
                beat = time.monotonic() + self.heartbeat_s
        return None

    def cancel(self) -> None:
        self._cancel.set()
        if self._io.acquire(blocking=False):       # no prompt under way: put the lamp out now
            try:
                if self._serial is not None and self.lamp:
                    self._lamp(False)
            finally:
                self._io.release()

    def status(self) -> dict[str, Any]:
        with self._io:
            frame, keys = self._command(frames.status_query(self.address), frames.STATUS, "a status query")
            self.counters["ignored_keys"] += len(keys)
            return {"lamp": bool(frame.payload[0]), "presses": frame.payload[1]}

    def health(self) -> DeviceHealth:
        if self._serial is None:
            return DeviceHealth(DeviceState.OFFLINE, f"the key box on {self.port} is not open")
        if not self._io.acquire(blocking=False):    # a prompt is under way: its heartbeat is the health check
            if self.last_error:
                return DeviceHealth(DeviceState.OFFLINE, self.last_error)
            return DeviceHealth(DeviceState.OK, f"the key box at address {self.address} on {self.port} is prompting "
                                "(lamp on) and answers its heartbeat")
        try:
            st = self.status()
        except EvaluatorError as exc:
            return DeviceHealth(DeviceState.OFFLINE, exc.en)
        finally:
            self._io.release()
        return DeviceHealth(DeviceState.OK, f"the key box at address {self.address} on {self.port} answers, lamp "
                            f"{'on' if st['lamp'] else 'off'}, {self.counters['prompts']} prompt(s) so far")

    def _diagnostics(self) -> dict[str, Any]:
        return {"port": self.port, "baudrate": self.baudrate, "box": self.address, "lamp": self.lamp,
                "last_error": self.last_error, **self.counters}
