"""Which driver a device URL means: one registry per kind, keyed by URL scheme.

Drivers register themselves with `register`; a kind's package imports its drivers explicitly, so a
missing dependency is an ImportError saying so — never a silent "unknown scheme".
"""
from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from urllib.parse import urlsplit

from .base import Device
from .url import DeviceURLError

Factory = Callable[[str], Device]


class Registry:
    def __init__(self, kind: str):
        self.kind = kind
        self._factories: dict[str, Factory] = {}

    def register(self, scheme: str, factory: Factory) -> None:
        if scheme in self._factories:
            raise ValueError(f"{self.kind}: scheme {scheme!r} is registered twice")
        self._factories[scheme] = factory

    @property
    def schemes(self) -> list[str]:
        return sorted(self._factories)

    def create(self, url: str) -> Device:
        """The device object for `url` (not yet opened). Errors name the scheme or option at fault."""
        scheme = _scheme(url)
        factory = self._factories.get(scheme)
        if factory is None:
            close = difflib.get_close_matches(scheme, self.schemes, n=1)
            hint = f"; did you mean {close[0]}://?" if close else ""
            raise DeviceURLError(f"{url}: unknown {self.kind} scheme {scheme!r}{hint} "
                                 f"(known: {', '.join(s + '://' for s in self.schemes) or 'none'})")
        return factory(url)


def _scheme(url: str) -> str:
    if "://" not in url:
        raise DeviceURLError(f"{url!r} is not a device URL; write it as scheme://address")
    return urlsplit(url).scheme


_registries: dict[str, Registry] = {}


def registry(kind: str) -> Registry:
    """The registry of a device kind, created on first use."""
    if kind not in _registries:
        _registries[kind] = Registry(kind)
    return _registries[kind]


def lazy(package: str, module: str, factory: str = "from_url") -> Factory:
    """A factory that imports `package.module` on first use and calls its `factory(url)`: a kind registers all
    its schemes at once, and a driver's libraries (python-escpos, OpenCV, …) load only when it is used."""
    def create(raw: str) -> Device:
        return getattr(importlib.import_module(f".{module}", package), factory)(raw)
    return create


def drivers_of(kind: str) -> Registry:
    """The registry of a kind with its drivers imported (and so registered): what opens a device by URL."""
    importlib.import_module(f"drivers.{kind}")
    return registry(kind)


def kinds() -> list[str]:
    return sorted(_registries)
