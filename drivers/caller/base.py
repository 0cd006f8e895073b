"""What every caller keypad (呼叫器) bus offers: key presses, each from a keypad at a bus address.

Several keypads, one per window desk, usually share one RS-485 line; `read_key` returns the next press on
the line. Which window an address belongs to, and what a key does there, is the hall server's business.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass

from ..base import Device
from .frames import KEYS


@dataclass(frozen=True)
class KeyPress:
    address: int        # the keypad's bus address
    key: str            # one of frames.KEYS: call, recall, pause, transfer, skip, evaluate


class Keypad(Device):
    """A bus of keypads. `read_key(timeout)` waits up to `timeout` seconds for a press, None if none came.

    Raises DeviceError only when the line itself fails; a garbled frame is skipped (and counted).
    """
    kind = "caller"
    keys = tuple(KEYS)

    @abc.abstractmethod
    def read_key(self, timeout: float = 0.0) -> KeyPress | None: ...

    def show(self, address: int, text: str) -> None:
        """Put `text` on the keypad's small display; keypads without one ignore it."""
