"""Smart lockers (智能柜): lock-control boards on RS-485, and their simulator.

    lockerbus+serial:///dev/ttyUSB2?boards=2&locks=24&feedback=closed-short
    sim://locker?boards=2&locks=24
"""
from __future__ import annotations

from .base import DoorState, Locker, LockerError

__all__ = ["DoorState", "Locker", "LockerError"]


from ..registry import lazy, registry

_lockers = registry("locker")
for _scheme, _factory in (("lockerbus+serial", lazy(__name__, "serial_locker")),
                          ("sim", lazy(__name__, "sim_locker", "sim_from_url"))):
    if _scheme not in _lockers.schemes:
        _lockers.register(_scheme, _factory)
