"""Caller keypads (呼叫器) on RS-485, and their simulator.

    caller+serial:///dev/ttyUSB3?baudrate=9600     caller+serial://?port=socket://192.168.10.42:4001
    sim://caller?addresses=1-22
"""
from __future__ import annotations

from .base import Keypad, KeyPress

__all__ = ["KeyPress", "Keypad"]

import importlib

from ..registry import registry


def _lazy(module: str, factory: str = "from_url"):
    """A factory importing its driver module on first use."""
    def create(raw: str):
        return getattr(importlib.import_module(f".{module}", __name__), factory)(raw)
    return create


_keypads = registry("caller")
for _scheme, _factory in (("caller+serial", _lazy("serial_keypad")), ("sim", _lazy("sim_caller", "sim_from_url"))):
    if _scheme not in _keypads.schemes:
        _keypads.register(_scheme, _factory)
