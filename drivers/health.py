"""A device's health: a state from a fixed set, and a sentence a person can act on."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime


class DeviceState(enum.StrEnum):
    OK = "ok"               # working
    DEGRADED = "degraded"   # working, but someone should look (paper near end, slow answers)
    OFFLINE = "offline"     # not reachable (unplugged, powered off, network down)
    FAULT = "fault"         # reachable but cannot work (cover open, paper out, self-test failed)


WORKING_STATES = frozenset({DeviceState.OK, DeviceState.DEGRADED})
ERROR_STATES = frozenset({DeviceState.OFFLINE, DeviceState.FAULT})


@dataclass(frozen=True)
class DeviceHealth:
    state: DeviceState
    detail: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def working(self) -> bool:
        return self.state in WORKING_STATES

    def as_dict(self) -> dict:
        return {"state": self.state.value, "detail": self.detail, "at": self.at.isoformat(timespec="seconds")}
