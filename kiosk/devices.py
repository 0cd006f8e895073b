"""The kiosk's own devices: its receipt printer and its ID-card reader, each owned by one thread.

Each thread opens its device, checks its health every `poll_s`, logs a failure once and the recovery
once, and reopens an offline device with back-off. The reader's thread meanwhile waits for cards and
hands each read (or failed read) to `on_card`. Printing takes the printer's lock, so it never meets a
health check half-way. A broken device never stops the kiosk: it only shows in the health it reports.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drivers.base import Device, checked_health
from drivers.health import DeviceHealth, DeviceState
from drivers.registry import drivers_of
from drivers.url import DeviceURLError

from .settings import DeviceSection, KioskSettings

log = logging.getLogger(__name__)
BACKOFF_START_S, BACKOFF_MAX_S = 1.0, 60.0
CARD_WAIT_S = 0.3
CardHandler = Callable[[Any, str | None], None]       # (the card or None, why a read failed or None)


class DeviceUnavailable(RuntimeError):
    """The kiosk has no such device, or it is not working right now."""


@dataclass
class LocalDevice:
    name: str
    kind: str
    cfg: DeviceSection
    device: Device | None = None
    health: DeviceHealth = field(default_factory=lambda: DeviceHealth(DeviceState.OFFLINE, "not opened yet"))
    lock: threading.Lock = field(default_factory=threading.Lock)
    checked: bool = False

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "url": self.cfg.url, **self.health.as_dict()}


class KioskDevices:
    def __init__(self, kiosk: str, settings: KioskSettings, on_card: CardHandler | None = None,
                 on_change: Callable[[LocalDevice], None] | None = None,
                 create: Callable[[str, str], Device] | None = None):
        self.devices: dict[str, LocalDevice] = {}
        for kind in ("printer", "idcard"):
            section = getattr(settings, kind)
            if section is not None:
                self.devices[kind] = LocalDevice(f"{kiosk}-{kind}", kind, section)
        self._on_card = on_card
        self._on_change = on_change or (lambda d: None)
        self._create = create or (lambda kind, url: drivers_of(kind).create(url))
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for d in self.devices.values():
            t = threading.Thread(target=self._run, args=(d,), name=f"kiosk-{d.kind}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        for d in self.devices.values():
            if d.device is not None:
                with contextlib.suppress(Exception):
                    d.device.close()

    def settled(self) -> bool:
        """Whether every device has been checked once."""
        return all(d.checked for d in self.devices.values())

    def snapshot(self) -> list[dict]:
        return [d.as_dict() for d in self.devices.values()]

    def report(self) -> list[dict]:
        """What the hall is told: each device's name, kind, URL and state (PUT /api/v1/kiosks/{kiosk}/devices)."""
        return [{"name": d.name, "kind": d.kind, "url": d.cfg.url, "state": d.health.state.value,
                 "detail": d.health.detail[:300]} for d in self.devices.values()]

    def state(self, kind: str) -> dict | None:
        d = self.devices.get(kind)
        return None if d is None else {"name": d.name, "state": d.health.state.value, "detail": d.health.detail}

    def use(self, kind: str) -> contextlib.AbstractContextManager[Device]:
        return _Using(self.devices.get(kind), kind)

    # -- one thread per device -------------------------------------------------------------------
    def _run(self, d: LocalDevice) -> None:
        try:
            d.device = self._create(d.kind, d.cfg.url)
        except (DeviceURLError, ValueError) as exc:      # the devices file is wrong: retrying cannot help
            self._record(d, DeviceHealth(DeviceState.FAULT, f"bad device URL: {exc}"))
            return
        except ImportError as exc:
            self._record(d, DeviceHealth(DeviceState.FAULT, f"no {d.kind} drivers here: {exc}"))
            return
        backoff = BACKOFF_START_S
        while not self._stop.is_set():
            with d.lock:
                health = checked_health(d.device)
            self._record(d, health)
            if d.device.is_open:
                backoff = BACKOFF_START_S
                self._between_checks(d)
            else:
                self._stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _between_checks(self, d: LocalDevice) -> None:
        read = getattr(d.device, "read_card", None)
        if read is None or self._on_card is None:
            self._stop.wait(d.cfg.poll_s)
            return
        from drivers.idcard.base import CardReadError

        deadline = threading.Event()
        timer = threading.Timer(d.cfg.poll_s, deadline.set)
        timer.start()
        try:
            while not (deadline.is_set() or self._stop.is_set()):
                card, problem = None, None
                with d.lock:
                    if not d.device.is_open:
                        return
                    try:
                        card = read(CARD_WAIT_S)
                    except CardReadError as exc:   # a card was there but could not be read: tell the citizen
                        problem = str(exc) or type(exc).__name__
                    except Exception as exc:       # the reader itself: the next health check says
                        log.debug("reading from %s: %s", d.name, exc)
                        return
                if card is not None or problem is not None:
                    try:
                        self._on_card(card, problem)
                    except Exception:
                        log.exception("handling a card read at %s failed", d.name)
                else:
                    self._stop.wait(0.05)
        finally:
            timer.cancel()

    def _record(self, d: LocalDevice, health: DeviceHealth) -> None:
        changed = not d.checked or health.state != d.health.state
        d.health, d.checked = health, True
        if not changed:
            return
        if health.working:
            log.info("device %s is %s%s", d.name, health.state.value, f": {health.detail}" if health.detail else "")
        else:
            log.warning("device %s is %s: %s", d.name, health.state.value, health.detail)
        self._on_change(d)


class _Using(contextlib.AbstractContextManager):
    """The open device, held for the caller alone; DeviceUnavailable when it is not working."""

    def __init__(self, d: LocalDevice | None, kind: str):
        self._d, self._kind = d, kind

    def __enter__(self) -> Device:
        d = self._d
        if d is None:
            raise DeviceUnavailable(f"this kiosk has no {self._kind}")
        d.lock.acquire()
        if d.device is None or not d.device.is_open:
            d.lock.release()
            raise DeviceUnavailable(f"{d.name} is {d.health.state.value}: {d.health.detail}")
        return d.device

    def __exit__(self, *exc: object) -> None:
        self._d.lock.release()
