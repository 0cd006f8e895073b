"""Caller keypads (呼叫器) on RS-485, and their simulator.

    caller+serial:///dev/ttyUSB3?baudrate=9600     caller+serial://?port=socket://192.168.10.42:4001
    sim://caller?addresses=1-22
"""
from __future__ import annotations

from .base import Keypad, KeyPress

__all__ = ["KeyPress", "Keypad"]


from ..registry import lazy, registry

_keypads = registry("caller")
for _scheme, _factory in (("caller+serial", lazy(__name__, "serial_keypad")),
                          ("sim", lazy(__name__, "sim_caller", "sim_from_url"))):
    if _scheme not in _keypads.schemes:
        _keypads.register(_scheme, _factory)
