"""LED screens over RS-485: per-window screens and the hall's LED bar, addressed on a shared serial bus.

A `Display` is one bus (one serial port) with screens at addresses; `show(address, text)` puts a line on
one screen. What each screen shows is the hall server's business (hall_server/displays.py); a driver only
encodes frames for its protocol (`led+serial://`, `modbus7+serial://`) and writes them, keeping the gap
the boards need between frames. Chinese-capable screens take GB2312 text.
"""
from __future__ import annotations

import abc

from ..base import Device, DeviceError


class DisplayError(DeviceError):
    """A screen could not be written; the message says what to check."""


class Display(Device):
    kind = "display"

    @abc.abstractmethod
    def show(self, address: int, text: str) -> None:
        """Show `text` on the screen at `address` (what it cannot draw is replaced, never an error)."""

    def clear(self, address: int) -> None:
        self.show(address, "")
