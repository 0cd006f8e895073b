"""The device supervisor: one task per configured device that owns all of its I/O.

Each task opens its device, polls its health, logs a failure once and the recovery once, reopens an
offline device with back-off, and appends a `device.health` event whenever the state changes. Other
code uses a device only through `use()`, which serialises access with the polling. A broken device
never takes the server down: its failures stay inside its task.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.base import Device, checked_health
from drivers.health import DeviceHealth, DeviceState
from drivers.registry import drivers_of
from drivers.url import DeviceURLError

from ..config import DeviceConfig
from ..store.events import event_change
from ..tasks import cancel_all
from .remote import RemoteDevices

log = logging.getLogger(__name__)
BACKOFF_START_S, BACKOFF_MAX_S = 1.0, 60.0
REMOTE_CHECK_S = 5.0     # how often the devices kiosk programs report are checked for silence
START_AFTER_S = {"camera": 3.0}   # kinds whose drivers are slow to load start this long after the hall
CARD_WAIT_S = 0.3        # a card reader is asked for a card this long at a time, between health checks
# What a card reader's watcher is told: (device config, the card or None, why a read failed or None)
CardHandler = Callable[[DeviceConfig, Any, str | None], Awaitable[None]]
# What a caller keypad's watcher is told: (device config, the key press)
KeyHandler = Callable[[DeviceConfig, Any], Awaitable[None]]


@dataclass
class Supervised:
    cfg: DeviceConfig
    health: DeviceHealth = field(default_factory=lambda: DeviceHealth(DeviceState.OFFLINE, "not opened yet"))
    device: Device | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    since: str = ""
    checked: asyncio.Event = field(default_factory=asyncio.Event)    # set once the first health is known

    def as_dict(self) -> dict:
        return {"name": self.cfg.name, "kind": self.cfg.kind, "url": self.cfg.url, "kiosk": self.cfg.kiosk,
                "window": self.cfg.window, **self.health.as_dict(), "since": self.since}


SIM_OUTPUT_KINDS = frozenset({"printer", "audio", "display", "camera"})    # simulators that write files


def hall_url(url: str, sim_dir: Path, kind: str) -> str:
    """A simulator writes its output under the hall's data dir unless its URL says where (out=)."""
    if kind not in SIM_OUTPUT_KINDS or not url.startswith("sim://") or "out=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}out={sim_dir / kind}"


class DeviceSupervisor:
    def __init__(self, devices: tuple[DeviceConfig, ...], write: Callable, now: Callable,
                 create: Callable[[DeviceConfig], Device] | None = None, sim_dir: Path = Path("var/sim"),
                 on_card: CardHandler | None = None, on_key: KeyHandler | None = None,
                 owned_elsewhere: frozenset[str] = frozenset()):
        self._write = write          # Hall.store.write: durable device.health events
        self._now = now
        self._on_card = on_card      # card readers (devices with read_card) are watched when set
        readers = sum(d.kind == "idcard" for d in devices)
        # card readers wait for cards in their own threads, never holding up the shared default pool
        self._card_pool = ThreadPoolExecutor(readers, thread_name_prefix="card-reader") if readers else None
        self._on_key = on_key        # caller keypads (devices with read_key) are watched when set
        keypads = sum(d.kind == "caller" for d in devices)
        self._key_pool = ThreadPoolExecutor(keypads, thread_name_prefix="keypad") if keypads else None
        self._create = create or (lambda cfg: drivers_of(cfg.kind).create(hall_url(cfg.url, sim_dir, cfg.kind)))
        self.devices = {d.name: Supervised(d) for d in devices}
        # kinds another part opens and reports on (the seat worker's cameras): no task here, see owned_health
        self._elsewhere = owned_elsewhere
        for s in self.devices.values():     # starting, not offline: the hall is not degraded while they start
            if s.cfg.kind in owned_elsewhere:
                s.health = DeviceHealth(DeviceState.DEGRADED, f"starting: its {s.cfg.kind} process opens it")
        self._remote = RemoteDevices(self._log_change, now, own=self.devices)
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(s), name=f"device:{name}")
                       for name, s in self.devices.items() if s.cfg.kind not in self._elsewhere]

    async def _watch_remote(self) -> None:
        """Notice kiosks that stopped reporting even when nobody reads /health."""
        while True:
            await asyncio.sleep(REMOTE_CHECK_S)
            try:
                await self._remote.check()
            except Exception:
                log.exception("checking the kiosks' reports failed")

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        # closed side by side: simulators take a moment each to stop their threads
        await asyncio.gather(*(asyncio.to_thread(s.device.close) for s in self.devices.values()
                               if s.device is not None), return_exceptions=True)
        for pool in (self._card_pool, self._key_pool):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    def snapshot(self) -> list[dict]:
        """Every configured device, then the devices kiosk programs report (stale ones shown offline)."""
        return [*(s.as_dict() for s in self.devices.values()), *self._remote.snapshot()]

    @contextlib.asynccontextmanager
    async def use(self, name: str, wait_s: float = 0.0) -> AsyncIterator[Device]:
        """The open device, held for the caller alone; DeviceUnavailable when it is not working.

        `wait_s`: a device still being opened (its first health not known yet, e.g. just after start) is
        waited for this long instead of refused at once."""
        s = self.devices.get(name)
        if s is None:
            raise DeviceUnavailable(f"no device named {name!r} is configured")
        if wait_s > 0 and not s.checked.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(s.checked.wait(), wait_s)
        async with s.lock:
            if s.device is None or not s.device.is_open:
                raise DeviceUnavailable(f"{name} is {s.health.state.value}: {s.health.detail}")
            yield s.device

    # -- one task per device ---------------------------------------------------------------------
    async def _run(self, s: Supervised) -> None:
        backoff = BACKOFF_START_S
        # OpenCV takes half a second to import, holding the GIL: cameras start once the hall answers
        await asyncio.sleep(START_AFTER_S.get(s.cfg.kind, 0.0))
        try:
            # in a thread: the first device of a kind imports its drivers (python-escpos alone takes
            # most of a second), which must not hold up the server's first answers
            s.device = await asyncio.to_thread(self._create, s.cfg)
        except DeviceURLError as exc:     # the configuration is wrong: retrying cannot help
            await self._record(s, DeviceHealth(DeviceState.FAULT, f"bad device URL: {exc}"))
            return
        except ImportError as exc:
            await self._record(s, DeviceHealth(DeviceState.FAULT, f"no {s.cfg.kind} drivers here: {exc}"))
            return
        while True:
            async with s.lock:
                health = await asyncio.to_thread(checked_health, s.device)
            await self._record(s, health)
            if s.device.is_open:
                backoff = BACKOFF_START_S
                await self._between_checks(s)
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)

    async def _between_checks(self, s: Supervised) -> None:
        """Wait for the next health check; a card reader (keypad) meanwhile waits for cards (key presses) and
        hands them on."""
        dev = s.device
        watch = self._watcher(dev)
        if watch is None:
            await asyncio.sleep(s.cfg.poll_s)
            return
        pool, read, handle = watch
        from drivers.idcard.base import CardReadError

        loop = asyncio.get_running_loop()
        deadline = loop.time() + s.cfg.poll_s
        while loop.time() < deadline:
            found, problem = None, None
            async with s.lock:
                if not dev.is_open:
                    return
                try:
                    found = await loop.run_in_executor(pool, read, CARD_WAIT_S)
                except CardReadError as exc:      # a card was there but could not be read: tell the kiosk
                    problem = str(exc) or type(exc).__name__
                except Exception as exc:          # the reader itself: the health check that follows says
                    log.debug("reading from %s: %s", s.cfg.name, exc)
                    return
            if found is not None or problem is not None:
                try:
                    await handle(s.cfg, found, problem)
                except Exception:
                    log.exception("handling a read at %s failed", s.cfg.name)
            else:
                await asyncio.sleep(0.05)         # let use() and the API in between two waits

    def _watcher(self, dev: Device) -> tuple[ThreadPoolExecutor, Callable, CardHandler] | None:
        """(thread pool, blocking read, handler) for a device whose reads become hall actions, else None."""
        if self._on_card is not None and self._card_pool is not None and hasattr(dev, "read_card"):
            return self._card_pool, dev.read_card, self._on_card
        if self._on_key is not None and self._key_pool is not None and hasattr(dev, "read_key"):
            on_key = self._on_key
            return self._key_pool, dev.read_key, lambda cfg, press, _problem: on_key(cfg, press)
        return None

    async def _record(self, s: Supervised, health: DeviceHealth) -> None:
        before, first = s.health, not s.since
        if not first and health.state == before.state:
            s.health = health                       # same state, maybe a fresher detail
            return
        await self._log_change(s.cfg.name, s.cfg.kind, s.cfg.kiosk, s.cfg.window,
                               None if first else before.state, health)
        # shown only once its event is in the log, so what /health says is never ahead of the log
        s.health, s.since = health, self._now().isoformat(timespec="seconds")
        s.checked.set()

    async def _log_change(self, name: str, kind: str, kiosk: str | None, window: int | None,
                          previous: DeviceState | None, health: DeviceHealth, **extra: Any) -> None:
        """Log a device's change of state once and append its `device.health` event (best effort)."""
        if health.working:
            log.info("device %s (%s) is %s%s", name, kind, health.state.value,
                     f": {health.detail}" if health.detail else "")
        else:
            log.warning("device %s (%s) is %s: %s", name, kind, health.state.value, health.detail)
        data = {"device": name, "kind": kind, "kiosk": kiosk, "window": window, "state": health.state.value,
                "previous": previous.value if previous else None, "detail": health.detail, **extra}
        try:
            await self._write(event_change("device.health", self._now(), data, window=window))
        except Exception:  # the state is still reported by /health; the event log is best effort here
            log.exception("could not record device.health for %s", name)

    async def owned_health(self, name: str, kind: str, health: DeviceHealth) -> None:
        """The health of a configured device of a kind owned elsewhere (a seat camera, which the seat worker
        opens): shown and logged as the supervisor's own devices are."""
        s = self.devices.get(name)
        if s is None or s.cfg.kind != kind or kind not in self._elsewhere:
            raise KeyError(f"{name} is not a {kind} owned outside the device supervisor")
        await self._record(s, health)

    # -- devices a kiosk program owns and reports on ------------------------------------------------
    async def report(self, kiosk: str, devices: list[dict], interval_s: float) -> list[dict]:
        """A kiosk program's report of its own devices (name, kind, url, state, detail); the kiosk's
        devices it no longer reports are dropped. Returns them as snapshot() shows them."""
        await self._remote.report(kiosk, devices, interval_s)
        if not any(t.get_name() == "device:remote" and not t.done() for t in self._tasks):
            # started at the first report: a hall whose kiosks report nothing runs no task for them
            self._tasks.append(asyncio.create_task(self._watch_remote(), name="device:remote"))
        return [d for d in self._remote.snapshot() if d["kiosk"] == kiosk]

    def reported_by(self, name: str) -> str | None:
        """The kiosk that reports a device of this name (while it keeps reporting), if any."""
        return self._remote.owner(name)

    async def check_remote(self) -> None:
        """Mark the devices of kiosks that stopped reporting offline (one device.health event each)."""
        await self._remote.check()


class DeviceUnavailable(RuntimeError):
    """The device is not configured or not working right now."""
