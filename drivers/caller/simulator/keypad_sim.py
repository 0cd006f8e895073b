"""Caller keypads on a pseudo-terminal: the real driver opens `.port` through pyserial.

`press(address, key)` sends the frame a keypad sends; a thread reads what the host writes back and records
the acknowledgements and the lines shown on the keypads' displays. Faults a technician meets on a real line
are injected with `set_fault()`: a garbled frame (wrong check byte) or noise before the next press.
"""
from __future__ import annotations

import logging
import os
import pty
import select
import threading
import tty

from ..frames import FrameError, FrameReader, KeyFrame, TextFrame, encode_key, parse_host_frame

logger = logging.getLogger(__name__)

FAULTS = ("none", "garbled", "noise")     # each hits the next press only, then clears itself
NOISE = bytes([0x00, 0xFF, 0x55, 0x31])
_POLL_S = 0.05


class KeypadSimulator:
    """Keypads at `addresses` (None: any address) on one simulated line. Thread-safe."""

    def __init__(self, addresses: frozenset[int] | None = None):
        self.addresses = addresses
        self._lock = threading.Lock()
        self._fault = "none"
        self._acks: list[tuple[int, str]] = []
        self._shown: dict[int, str] = {}
        self._presses = self._bad_frames = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master = self._slave = -1
        self._wake: tuple[int, int] | None = None
        self.port = ""

    def start(self) -> str:
        """Opens the pty pair and starts listening; returns the path the driver should open."""
        if self._thread is not None:
            return self.port
        master, slave = pty.openpty()
        tty.setraw(slave)
        self._master, self._slave, self.port = master, slave, os.ttyname(slave)
        self._wake = os.pipe()
        self._stop.clear()
        self._thread = threading.Thread(target=self._listen, name="keypad-sim", daemon=True)
        self._thread.start()
        logger.info("caller keypad simulator on %s", self.port)
        return self.port

    def stop(self) -> None:
        self._stop.set()
        if self._wake is not None:
            os.write(self._wake[1], b"x")
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)
        for fd in (self._master, self._slave, *(self._wake or ())):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1
        self._wake = None

    def __enter__(self) -> KeypadSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the keypads do ---------------------------------------------------------------------
    def press(self, address: int, key: str) -> None:
        """The keypad at `address` sends `key` (ValueError for an unknown key or a keypad that is not there)."""
        if self.addresses is not None and address not in self.addresses:
            raise ValueError(f"no simulated keypad at address {address}; addresses: {_span(self.addresses)}")
        frame = encode_key(address, key)
        with self._lock:
            fault, self._fault = self._fault, "none"
            self._presses += 1
        if fault == "garbled":
            frame = frame[:3] + bytes([frame[3] ^ 0x5A]) + frame[4:]
        elif fault == "noise":
            frame = NOISE + frame
        self._send(frame)
        logger.info("keypad simulator: %s pressed at address %d%s", key, address,
                    "" if fault == "none" else f" ({fault})")

    def set_fault(self, name: str) -> None:
        if name not in FAULTS:
            raise ValueError(f"caller keypad simulator: unknown fault {name!r}; faults: {', '.join(FAULTS)}")
        with self._lock:
            self._fault = name

    @property
    def acks(self) -> list[tuple[int, str]]:
        """(address, key) of every acknowledgement the host sent, oldest first."""
        with self._lock:
            return list(self._acks)

    def shown(self) -> dict[int, str]:
        """The line each keypad's display shows now."""
        with self._lock:
            return dict(self._shown)

    def faults(self) -> dict:
        with self._lock:
            return {"fault": self._fault, "presses": self._presses, "acks": len(self._acks),
                    "shown": dict(self._shown), "bad_frames": self._bad_frames}

    # -- the line --------------------------------------------------------------------------------
    def _send(self, frame: bytes) -> None:
        view = memoryview(frame)
        while view and not self._stop.is_set():
            try:
                view = view[os.write(self._master, view):]
            except BlockingIOError:
                self._stop.wait(0.001)
            except OSError:
                logger.debug("keypad simulator: a press was not sent: the pty is closed")
                return

    def _listen(self) -> None:
        frames = FrameReader(parse_host_frame)
        master, wake = self._master, self._wake[0] if self._wake else -1
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([master, wake], [], [], _POLL_S)
                data = os.read(master, 4096) if master in ready else b""
            except (OSError, ValueError):       # closed under us by stop()
                break
            frames.feed(data)
            while True:
                try:
                    frame = frames.next()
                except FrameError as exc:
                    with self._lock:
                        self._bad_frames += 1
                    logger.info("keypad simulator: a bad frame from the host: %s", exc)
                    continue
                if frame is None:
                    break
                with self._lock:
                    if isinstance(frame, KeyFrame):
                        self._acks.append((frame.address, frame.key))
                    elif isinstance(frame, TextFrame):
                        self._shown[frame.address] = frame.text


def _span(addresses: frozenset[int]) -> str:
    ordered = sorted(addresses)
    return f"{ordered[0]}-{ordered[-1]}" if ordered == list(range(ordered[0], ordered[-1] + 1)) else \
        ",".join(map(str, ordered))
