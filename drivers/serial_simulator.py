"""A serial device simulated on a pseudo-terminal: the pty, the serving thread, framing, faults and a wire log.

The real driver opens `.port` through pyserial, so every byte goes through it as with the device. A subclass
holds only its protocol: `parse_frame` (the first frame in the bytes received), `handle` (what a frame does and
the answer) and its state. Binary frames (GA 467, Modbus, a lock board's BCC frames) and text lines (AT commands,
with `split_line`) stand on the same loop; unsolicited frames (a key pressed, `RING`) go out with `send`.
"""
from __future__ import annotations

import logging
import os
import pty
import select
import threading
import time
import tty
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple, Self

logger = logging.getLogger(__name__)

POLL_S = 0.05               # how often the serving thread looks at the clock with nothing arriving
TRAFFIC_KEPT = 2000         # chunks in `traffic`: enough to see a session, bounded for a simulator left running


class Traffic(NamedTuple):
    """One chunk on the wire: `time.monotonic()` of it, "rx" (from the driver) or "tx" (to it), and its bytes."""
    at: float
    direction: str
    data: bytes


def corrupt_check(frame: bytes) -> bytes:
    """`frame` with its last byte (a check byte, BCC or CRC) inverted: the receiver must reject it."""
    return frame[:-1] + bytes([frame[-1] ^ 0xFF]) if frame else frame


def flip_byte(frame: bytes, index: int, mask: int = 0x5A) -> bytes:
    """`frame` with the byte at `index` XORed with `mask`: one byte hit by line noise."""
    return frame[:index] + bytes([frame[index] ^ mask]) + frame[index + 1:]


class FrameTooLong(ValueError):
    """A text line ran past its limit; `consumed` bytes are dropped."""

    def __init__(self, message: str, consumed: int):
        super().__init__(message)
        self.consumed = consumed


def split_line(buffer: bytes, terminator: bytes = b"\r", max_len: int = 4096) -> tuple[bytes | None, int]:
    """A `parse_frame` for text lines: (the line without its terminator, bytes consumed), or (None, 0) until a
    terminator arrives; a line longer than `max_len` raises FrameTooLong, which drops it."""
    end = buffer.find(terminator)
    if end < 0:
        if len(buffer) > max_len:
            raise FrameTooLong(f"a line of more than {max_len} bytes without {terminator!r}", len(buffer))
        return None, 0
    return bytes(buffer[:end]), end + len(terminator)


class SerialSimulator:
    """A device on the master side of a pty; `start()` gives the slave's path. Thread-safe.

    Subclasses set `kind` (for messages), `thread_name`, `FAULTS`/`ONCE_FAULTS` and `frame_errors` (what
    `parse_frame` raises for a broken frame; an error's `consumed` says how many bytes to drop), and implement
    `parse_frame` and `handle`. `_lock` (a Condition over an RLock) guards their state; `wait_until` waits on it.
    """

    kind: ClassVar[str] = "serial simulator"
    thread_name: ClassVar[str] = "serial-sim"
    FAULTS: ClassVar[tuple[str, ...]] = ("none",)
    ONCE_FAULTS: ClassVar[frozenset[str]] = frozenset()      # these hit the next frame only, then clear
    frame_errors: ClassVar[tuple[type[Exception], ...]] = (ValueError,)
    silence_s: float | None = None      # drop a partial frame after this long without a byte (Modbus t3.5)

    def __init__(self) -> None:
        self._lock = threading.Condition(threading.RLock())
        self._fault = "none"
        self._traffic: deque[Traffic] = deque(maxlen=TRAFFIC_KEPT)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()     # an unsolicited frame and an answer never interleave
        self._life_lock = threading.Lock()      # start() and stop() never interleave
        self._master = self._slave = -1
        self._wake: tuple[int, int] | None = None      # a pipe that interrupts the serving thread's select()
        self.port = ""

    # -- the protocol: what a subclass writes ------------------------------------------------------
    def parse_frame(self, buffer: bytes) -> tuple[Any | None, int]:
        """(the first frame in `buffer`, bytes it took), or (None, bytes to skip) while it is incomplete."""
        raise NotImplementedError

    def handle(self, frame: Any, at: float) -> bytes | None:
        """What `frame` (its bytes arrived at `at`, time.monotonic()) does; returns the answer, or None."""
        raise NotImplementedError

    def handle_bad_frame(self, error: Exception) -> bytes | None:
        """A frame `parse_frame` refused; the answer a device gives to one (None: silence, the usual)."""
        logger.info("%s: a bad frame from the host: %s", self.kind, error)
        return None

    def handle_silence(self, partial: bytes) -> None:
        """The line went quiet for `silence_s` with `partial` unparsed; it is dropped after this."""
        logger.debug("%s: a partial frame dropped after silence: %s", self.kind, partial.hex(" "))

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> str:
        """Opens the pty pair and starts serving; returns the path the driver should open."""
        with self._life_lock:
            return self._start()

    def _start(self) -> str:
        if self._thread is not None:
            return self.port
        master, slave = pty.openpty()
        tty.setraw(master)
        tty.setraw(slave)       # no echo, no line editing: bytes pass unchanged both ways
        # the slave stays open here too, so the master never sees EIO between two driver sessions
        self._master, self._slave, self.port = master, slave, os.ttyname(slave)
        self._wake = os.pipe()
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name=self.thread_name, daemon=True)
        self._thread.start()
        logger.info("%s serving on %s", self.kind, self.port)
        return self.port

    def stop(self) -> None:
        """Stops the serving thread and closes the pty; `start()` may open a new one.

        Safe to call twice at once (a test's watcher thread and its `finally`): the descriptors are taken
        under a lock, so only one caller closes them."""
        with self._life_lock:
            self._stop.set()
            thread, self._thread = self._thread, None
            wake, self._wake = self._wake, None
            fds = (self._master, self._slave, *(wake or ()))
            self._master = self._slave = -1
        if wake is not None:
            os.write(wake[1], b"x")
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)
        for fd in fds:
            if fd >= 0:
                os.close(fd)
        with self._lock:
            self._lock.notify_all()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults ------------------------------------------------------------------------------------
    def set_fault(self, name: str) -> None:
        """Injects one of `FAULTS` ("none" clears it); a fault of `ONCE_FAULTS` clears itself once taken."""
        if name not in self.FAULTS:
            raise ValueError(f"{self.kind}: unknown fault {name!r}; faults: {', '.join(self.FAULTS)}")
        with self._lock:
            self._fault = name
        logger.info("%s fault: %s", self.kind, name)

    @property
    def fault(self) -> str:
        with self._lock:
            return self._fault

    def take_fault(self) -> str:
        """The fault for the frame at hand; one of `ONCE_FAULTS` is used up by this."""
        with self._lock:
            fault = self._fault
            if fault in self.ONCE_FAULTS:
                self._fault = "none"
            return fault

    # -- the wire ----------------------------------------------------------------------------------
    @property
    def traffic(self) -> list[Traffic]:
        """The last `TRAFFIC_KEPT` chunks read and written, oldest first. In memory only, never logged."""
        with self._lock:
            return list(self._traffic)

    def wait_until(self, condition: Callable[[], Any], timeout: float = 2.0) -> bool:
        """Whether `condition()` (called with the lock held) comes true within `timeout` seconds; it is tried
        again after each chunk received or sent and each frame handled."""
        with self._lock:
            return bool(self._lock.wait_for(condition, timeout))

    def send(self, data: bytes, delay_s: float = 0.0) -> bool:
        """Writes `data` to the driver, after `delay_s` (a slow device); False if stopped or the pty closed."""
        if self._stop.wait(delay_s) if delay_s > 0 else self._stop.is_set():
            return False
        view = memoryview(data)
        with self._write_lock:
            with self._lock:        # logged before it is written, so the log never shows the reply to it first
                self._traffic.append(Traffic(time.monotonic(), "tx", bytes(data)))
            while view and not self._stop.is_set():
                try:
                    view = view[os.write(self._master, view):]
                except BlockingIOError:
                    self._stop.wait(0.001)
                except OSError:
                    logger.debug("%s: %d bytes not sent: the pty is closed", self.kind, len(view))
                    return False
        with self._lock:
            self._lock.notify_all()
        return not view

    def _serve(self) -> None:
        pending, last_byte = bytearray(), 0.0
        master, wake = self._master, self._wake[0] if self._wake else -1
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([master, wake], [], [], POLL_S)
                data = os.read(master, 4096) if master in ready else b""
            except (OSError, ValueError):       # closed under us by stop()
                break
            now = time.monotonic()
            if data:
                with self._lock:
                    self._traffic.append(Traffic(now, "rx", data))
                    self._lock.notify_all()
                pending += data
                last_byte = now
            elif pending and self.silence_s is not None and now - last_byte > self.silence_s:
                self._call(self.handle_silence, bytes(pending))
                pending.clear()
            if data:
                self._take_frames(pending, now)

    def _take_frames(self, pending: bytearray, now: float) -> None:
        while pending and not self._stop.is_set():
            try:
                frame, consumed = self.parse_frame(bytes(pending))
            except self.frame_errors as exc:
                del pending[:max(1, getattr(exc, "consumed", 1))]
                self._answer(self._call(self.handle_bad_frame, exc))
                continue
            del pending[:consumed]
            if frame is None:
                return
            self._answer(self._call(self.handle, frame, now))

    def _call(self, hook: Callable[..., bytes | None], *args: Any) -> bytes | None:
        try:
            return hook(*args)
        except Exception:       # a bug in a protocol must not kill the device for the next frame
            logger.exception("%s: error handling a frame", self.kind)
            return None
        finally:
            with self._lock:
                self._lock.notify_all()

    def _answer(self, answer: bytes | None) -> None:
        if answer:
            self.send(answer)
