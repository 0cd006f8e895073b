"""LED screens on RS-485: QSystem-style text boards, 7-segment Modbus screens, and their simulator.

    led+serial:///dev/ttyUSB1?encoding=gb2312&gap_ms=300&width=16     modbus7+serial:///dev/ttyUSB2?digits=4
    sim://display?protocol=led&addresses=1-22,99
"""
from __future__ import annotations

from .base import Display, DisplayError

__all__ = ["Display", "DisplayError"]


from ..registry import lazy, registry

_displays = registry("display")
for _scheme, _factory in (("led+serial", lazy(__name__, "led_serial")), ("modbus7+serial", lazy(__name__, "modbus7")),
                          ("sim", lazy(__name__, "sim_display", "sim_from_url"))):
    if _scheme not in _displays.schemes:
        _displays.register(_scheme, _factory)
