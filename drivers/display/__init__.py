"""LED screens on RS-485: QSystem-style text boards, 7-segment Modbus screens, and their simulator.

    led+serial:///dev/ttyUSB1?encoding=gb2312&gap_ms=300&width=16     modbus7+serial:///dev/ttyUSB2?digits=4
    sim://display?protocol=led&addresses=1-22,99
"""
from __future__ import annotations

from .base import Display, DisplayError

__all__ = ["Display", "DisplayError"]

import importlib

from ..registry import registry


def _lazy(module: str, factory: str = "from_url"):
    """A factory importing its driver module on first use (Pillow only loads for sim://display)."""
    def create(raw: str):
        return getattr(importlib.import_module(f".{module}", __name__), factory)(raw)
    return create


_displays = registry("display")
for _scheme, _factory in (("led+serial", _lazy("led_serial")), ("modbus7+serial", _lazy("modbus7")),
                          ("sim", _lazy("sim_display", "sim_from_url"))):
    if _scheme not in _displays.schemes:
        _displays.register(_scheme, _factory)
