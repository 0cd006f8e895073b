"""The hall's devices in its config: each named by URL (drivers/) with what it serves — a kiosk, a window or
the hall — and, for a bus, the addresses of the screens or keypads on it.

    [[devices]]
    name = "leds"
    kind = "display"
    url = "led+serial:///dev/ttyUSB1?baudrate=9600"
    screens = { hall = 99, "3" = 3 }    # "hall" (the LED bar) or a window number → address on the bus
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DeviceKind = Literal["printer", "idcard", "display", "audio", "camera", "caller", "evaluator", "locker", "sms"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceConfig(_Strict):
    """One device of the hall, named by URL (drivers/), and what it serves: a kiosk, a window or the hall."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: DeviceKind
    url: str = Field(min_length=4)
    kiosk: str | None = None
    window: int | None = None
    poll_s: float = Field(default=5.0, gt=0, le=3600, description="seconds between health checks")
    screens: dict[str, int] = Field(default_factory=dict, description='display: screen addresses on this bus, '
                                    '"hall" (the LED bar) or a window number → address; when no window is '
                                    'named, each window is at its own number')
    keypads: dict[str, int] = Field(default_factory=dict, description="caller: window number → the address of "
                                    "its keypad on this bus; empty: each window's keypad is at its own number")

    @field_validator("keypads")
    @classmethod
    def _keypad_keys(cls, v: dict[str, int]) -> dict[str, int]:
        for key, address in v.items():
            if not key.isdigit():
                raise ValueError(f"keypads: {key!r} is not a window number")
            if not 1 <= address <= 254:
                raise ValueError(f"keypads.{key}: address {address} is not 1-254")
        if len(set(v.values())) < len(v):
            raise ValueError("keypads: two windows have the same keypad address; give each its own")
        return v

    @field_validator("screens")
    @classmethod
    def _screen_keys(cls, v: dict[str, int]) -> dict[str, int]:
        for key, address in v.items():
            if key != "hall" and not key.isdigit():
                raise ValueError(f'screens: {key!r} is neither "hall" nor a window number')
            if not 0 <= address <= 255:
                raise ValueError(f"screens.{key}: address {address} is not 0-255")
        return v


def check_devices(devices: tuple[DeviceConfig, ...], windows: set[int]) -> None:
    """Cross-references: the window a device serves, and each window its screens and keypads are for, exist."""
    for d in devices:
        if d.window is not None and d.window not in windows:
            raise ValueError(f"device {d.name} serves window {d.window}, which this hall does not have")
        for key in d.screens:
            if key != "hall" and int(key) not in windows:
                raise ValueError(f"device {d.name} has a screen for window {key}, which this hall does not have")
        for key in d.keypads:
            if int(key) not in windows:
                raise ValueError(f"device {d.name} has a keypad for window {key}, which this hall does not have")
