"""An evaluator key box on a pseudo-terminal (a SerialSimulator): the real driver opens `.port` through pyserial.

It answers lamp on/off with an ack and a status query with its status, and `press(level)` sends the key report a
box sends. Faults (`set_fault`):
    none            a working box
    bad_checksum    the next key report goes out with a wrong checksum (then clears itself): the driver drops it
    silent          the box is there but its keys are dead: presses send nothing (it still answers commands)
    disconnect      the cable is pulled: nothing is answered and nothing is sent until the fault is cleared
"""
from __future__ import annotations

import logging

from ...serial_simulator import SerialSimulator, corrupt_check
from .. import frames
from ..frames import Frame, FrameError

logger = logging.getLogger(__name__)

FAULTS = ("none", "bad_checksum", "silent", "disconnect")


class KeyBoxSimulator(SerialSimulator):
    """One key box at `address`. Thread-safe; `wait_until(lambda: sim.lamp)` waits for the lamp to light."""

    kind = "evaluator key box simulator"
    thread_name = "keybox-sim"
    FAULTS = FAULTS
    ONCE_FAULTS = frozenset({"bad_checksum"})
    frame_errors = (FrameError,)

    def __init__(self, address: int = 1):
        super().__init__()
        self.address = address
        self._lamp = False
        self._lamp_ons = self._presses = self._key_acks = self._bad_frames = self._sent = 0

    # -- what the citizen does -------------------------------------------------------------------
    def press(self, level: int) -> bool:
        """The key for `level` (5 非常满意 … 1 非常不满意) is pressed; whether a report went out on the wire."""
        frame = frames.key(self.address, level)
        with self._lock:
            self._presses += 1
            fault = self._fault if self._fault in ("silent", "disconnect") else self.take_fault()
        if fault in ("silent", "disconnect"):
            logger.info("key box simulator: key %d pressed, nothing sent (%s)", level, fault)
            return False
        if fault == "bad_checksum":
            frame = corrupt_check(frame)
        with self._lock:
            self._sent += 1
        logger.info("key box simulator: key %d pressed%s", level, "" if fault == "none" else f" ({fault})")
        return self.send(frame)

    def disconnect(self) -> None:
        """The cable is pulled (set_fault("none") plugs it back)."""
        self.set_fault("disconnect")

    @property
    def lamp(self) -> bool:
        with self._lock:
            return self._lamp

    @property
    def lamp_ons(self) -> int:
        with self._lock:
            return self._lamp_ons

    def faults(self) -> dict:
        with self._lock:
            return {"fault": self._fault, "lamp": self._lamp, "lamp_ons": self._lamp_ons, "presses": self._presses,
                    "reports_sent": self._sent, "key_acks": self._key_acks, "bad_frames": self._bad_frames}

    # -- what the host sends ---------------------------------------------------------------------
    def parse_frame(self, buffer: bytes) -> tuple[Frame | None, int]:
        return frames.parse_host(buffer)

    def handle(self, frame: Frame, at: float) -> bytes | None:
        with self._lock:
            if self._fault == "disconnect" or frame.address != self.address:
                return None
            if frame.command == frames.LAMP_ON:
                self._lamp, self._lamp_ons = True, self._lamp_ons + 1
                return frames.ack(self.address, frames.LAMP_ON)
            if frame.command == frames.LAMP_OFF:
                self._lamp = False
                return frames.ack(self.address, frames.LAMP_OFF)
            if frame.command == frames.STATUS_QUERY:
                return frames.status(self.address, self._lamp, self._presses)
            if frame.command == frames.ACK:
                self._key_acks += 1
            return None

    def handle_bad_frame(self, error: Exception) -> None:
        with self._lock:
            self._bad_frames += 1
        logger.info("key box simulator: a bad frame from the host: %s", error)
