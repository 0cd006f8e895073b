"""Caller keypads on a pseudo-terminal (a SerialSimulator): the real driver opens `.port` through pyserial.

`press(address, key)` sends the frame a keypad sends; what the host writes back is recorded: the
acknowledgements and the lines shown on the keypads' displays. Faults a technician meets on a real line
are injected with `set_fault()`: a garbled frame (wrong check byte) or noise before the next press.
"""
from __future__ import annotations

import logging

from ...serial_simulator import SerialSimulator, flip_byte
from ..frames import FrameError, KeyFrame, TextFrame, encode_key, parse_host_frame

logger = logging.getLogger(__name__)

FAULTS = ("none", "garbled", "noise")     # each hits the next press only, then clears itself
NOISE = bytes([0x00, 0xFF, 0x55, 0x31])


class KeypadSimulator(SerialSimulator):
    """Keypads at `addresses` (None: any address) on one simulated line. Thread-safe."""

    kind = "caller keypad simulator"
    thread_name = "keypad-sim"
    FAULTS = FAULTS
    ONCE_FAULTS = frozenset({"garbled", "noise"})
    frame_errors = (FrameError,)

    def __init__(self, addresses: frozenset[int] | None = None):
        super().__init__()
        self.addresses = addresses
        self._acks: list[tuple[int, str]] = []
        self._shown: dict[int, str] = {}
        self._presses = self._bad_frames = 0

    # -- what the keypads do ---------------------------------------------------------------------
    def press(self, address: int, key: str) -> None:
        """The keypad at `address` sends `key` (ValueError for an unknown key or a keypad that is not there)."""
        if self.addresses is not None and address not in self.addresses:
            raise ValueError(f"no simulated keypad at address {address}; addresses: {_span(self.addresses)}")
        frame = encode_key(address, key)
        with self._lock:
            fault = self.take_fault()
            self._presses += 1
        if fault == "garbled":
            frame = flip_byte(frame, 3)
        elif fault == "noise":
            frame = NOISE + frame
        self.send(frame)
        logger.info("keypad simulator: %s pressed at address %d%s", key, address,
                    "" if fault == "none" else f" ({fault})")

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

    # -- what the host sends ---------------------------------------------------------------------
    def parse_frame(self, buffer: bytes) -> tuple[KeyFrame | TextFrame | None, int]:
        return parse_host_frame(buffer)

    def handle(self, frame: KeyFrame | TextFrame, at: float) -> None:
        with self._lock:
            if isinstance(frame, KeyFrame):
                self._acks.append((frame.address, frame.key))
            elif isinstance(frame, TextFrame):
                self._shown[frame.address] = frame.text

    def handle_bad_frame(self, error: Exception) -> None:
        with self._lock:
            self._bad_frames += 1
        logger.info("keypad simulator: a bad frame from the host: %s", error)


def _span(addresses: frozenset[int]) -> str:
    ordered = sorted(addresses)
    return f"{ordered[0]}-{ordered[-1]}" if ordered == list(range(ordered[0], ordered[-1] + 1)) else \
        ",".join(map(str, ordered))
