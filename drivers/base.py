"""What every device has, whatever its kind: open/close, health and redacted diagnostics.

A kind (printer, idcard, display, …) subclasses `Device` with its own operations. Opening does the I/O;
constructing never does, so a device object can be made, inspected and closed without touching hardware.
"""
from __future__ import annotations

import abc
import contextlib
from typing import Any, ClassVar

from .health import DeviceHealth, DeviceState
from .redact import redact
from .url import DeviceURL


class DeviceError(RuntimeError):
    """A device could not do what was asked; the message says what happened and what to do."""


class Device(abc.ABC):
    kind: ClassVar[str] = ""
    personal_keys: ClassVar[frozenset[str]] = frozenset()   # extra keys to redact for this kind

    def __init__(self, url: DeviceURL):
        self.url = url
        self.is_open = False

    # -- lifecycle -------------------------------------------------------------------------------
    def open(self) -> None:
        """Connect to the device; raises DeviceError saying why it could not."""
        self._open()
        self.is_open = True

    def close(self) -> None:
        if self.is_open:
            self.is_open = False
            self._close()

    def __enter__(self) -> Device:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abc.abstractmethod
    def _open(self) -> None: ...

    @abc.abstractmethod
    def _close(self) -> None: ...

    # -- state -----------------------------------------------------------------------------------
    @abc.abstractmethod
    def health(self) -> DeviceHealth:
        """Ask the device how it is (may do I/O); never raises for a device that is merely unwell."""

    def diagnostics(self) -> dict[str, Any]:
        """What a technician needs, with personal data redacted."""
        return redact({"kind": self.kind, "url": self.url.raw, "open": self.is_open, **self._diagnostics()},
                      keys=self._redact_keys())

    def _diagnostics(self) -> dict[str, Any]:
        return {}

    def _redact_keys(self) -> frozenset[str]:
        from .redact import PERSONAL_KEYS
        return PERSONAL_KEYS | self.personal_keys


def checked_health(dev: Device) -> DeviceHealth:
    """Open the device if it is closed, then ask its health; whatever the driver raises is an offline device.
    An offline device is closed (closing a vanished one may fail too), so the next check reopens it. Blocking:
    supervisors call it from their own threads."""
    try:
        if not dev.is_open:
            dev.open()
        health = dev.health()
    except Exception as exc:  # a driver's failure is this device's state, never its supervisor's
        health = DeviceHealth(DeviceState.OFFLINE, f"{type(exc).__name__}: {exc}")
    if health.state is DeviceState.OFFLINE and dev.is_open:
        with contextlib.suppress(Exception):
            dev.close()
        dev.is_open = False
    return health
