"""The LED screens follow the hall: each window's screen shows its call or its state; the hall bar, calls.

Every display device (a bus of addressed screens, see drivers/display) gets its screens' texts from the
event log: a call puts 请A001 over its window and 请A001号到3号窗口 on the hall bar; a pause shows 暂停服务,
a close 停止服务, an open window with nobody called its number. At start every screen is set from the
windows' present state, and a display that comes back (opened at start, reconnected after a fault) is
given every screen's text again, so a restart or a screen swapped in the night shows the right thing.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from ..store.follow import follow
from .supervisor import DeviceSupervisor, DeviceUnavailable

if TYPE_CHECKING:
    from ..config import HallConfig
    from ..queue.views import Views
    from ..store.database import Store
    from ..store.events import EventBus

log = logging.getLogger(__name__)
TYPES = frozenset({"device.health", "ticket.called", "ticket.recalled", "ticket.finished", "ticket.no_show",
                   "ticket.transferred", "window.opened", "window.paused", "window.resumed", "window.closed",
                   "day.rolled_over"})


def window_text(cfg, state: str, window: int, number: str | None) -> str:
    """What a window's screen shows for a window state (serving/called: the ticket)."""
    texts = cfg.calling.window_screen
    if (number and state in ("serving", "open")) or state == "called":
        return texts.get("called", "请{number}").format(number=number or "", window=window)
    key = state if state in texts else "open"
    return texts.get(key, "").format(number=number or "", window=window)


class _Latest:
    """Screen texts waiting to be written, one per screen: a newer text replaces one not yet written.

    An RS-485 bus takes a few frames a second; when calls come faster, a screen skips to the latest text
    instead of falling ever further behind. (screen key, text) in order of first arrival; ("@device", None)
    asks for every screen of a device that came back.
    """

    def __init__(self) -> None:
        self._pending: dict[str, str | None] = {}
        self._ready = asyncio.Event()

    def put_nowait(self, item: tuple[str, str | None]) -> None:
        key, text = item
        self._pending[key] = text
        self._ready.set()

    async def get(self) -> tuple[str, str | None]:
        while not self._pending:
            self._ready.clear()
            await self._ready.wait()
        key = next(iter(self._pending))
        return key, self._pending.pop(key)

    def qsize(self) -> int:
        return len(self._pending)


class ScreenFanOut:
    def __init__(self, cfg: HallConfig, store: Store, bus: EventBus, views: Views, devices: DeviceSupervisor):
        self.cfg, self.store, self.bus, self.views, self.devices = cfg, store, bus, views, devices
        self.targets: dict[str, dict[str, int]] = {}     # device → {"hall" | window: address}
        for d in cfg.devices:
            if d.kind == "display":
                screens = dict(d.screens)
                if not any(k.isdigit() for k in screens):       # no window named: each at its own number
                    screens.update({str(w.number): w.number for w in cfg.windows})
                self.targets[d.name] = screens
        self._task: asyncio.Task | None = None
        self._q = _Latest()
        self._writer: asyncio.Task | None = None
        self.shown: dict[str, str] = {}

    async def start(self) -> None:
        if not self.targets:
            return
        since = self.bus.latest_seq
        for w in self.views.windows(self.store.read):
            current = w["current"]["number"] if w["current"] else None
            self._q.put_nowait((str(w["number"]), window_text(self.cfg, w["state"], w["number"], current)))
        self._writer = asyncio.create_task(self._write_loop(), name="screens:write")
        self._task = asyncio.create_task(follow(self.bus, self.store.read, since, TYPES, self._on_event),
                                         name="screens:follow")

    async def stop(self) -> None:
        for t in (self._task, self._writer):
            if t is not None:
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await t

    async def _on_event(self, e: dict) -> None:
        d, cfg = e["data"], self.cfg
        t = e["type"]
        if t == "device.health":
            working = ("ok", "degraded")
            if d["device"] in self.targets and d["state"] in working and d.get("previous") not in working:
                self._q.put_nowait((f"@{d['device']}", None))
        elif t in ("ticket.called", "ticket.recalled"):
            self._q.put_nowait((str(d["window"]), window_text(cfg, "called", d["window"], d["number"])))
            self._q.put_nowait(("hall", cfg.calling.hall_screen.format(number=d["number"], window=d["window"])))
        elif t in ("ticket.finished", "ticket.no_show", "ticket.transferred") and d.get("window"):
            w = self.views.window(self.store.read, d["window"])
            current = w["current"]["number"] if w and w["current"] else None
            self._q.put_nowait((str(d["window"]), window_text(cfg, w["state"] if w else "open", d["window"], current)))
        elif t.startswith("window."):
            state = {"window.paused": "paused", "window.closed": "closed"}.get(t, "open")
            w = self.views.window(self.store.read, d["window"])
            current = w["current"]["number"] if w and w["current"] and state == "open" else None
            self._q.put_nowait((str(d["window"]), window_text(cfg, state, d["window"], current)))
        elif t == "day.rolled_over":
            for w in cfg.windows:
                self._q.put_nowait((str(w.number), window_text(cfg, "closed", w.number, None)))
            self._q.put_nowait(("hall", ""))

    async def _write_loop(self) -> None:
        while True:
            key, text = await self._q.get()
            await asyncio.sleep(0)            # let a burst of events land first: only the last text is written
            if text is None:                  # a display (re)opened: it shows nothing we asked for yet
                device = key.removeprefix("@")
                for k, address in self.targets[device].items():
                    await self._show(device, address, self.shown.get(k, ""))
                continue
            self.shown[key] = text
            for name, screens in self.targets.items():
                if key in screens:
                    await self._show(name, screens[key], text)

    async def _show(self, name: str, address: int, text: str) -> None:
        try:
            async with self.devices.use(name) as display:
                await asyncio.to_thread(display.show, address, text)
        except DeviceUnavailable as exc:   # not open (yet): every screen is set again when it comes back
            log.debug("screen %s@%s not updated (%r): %s", name, address, text, exc)
        except Exception as exc:   # the device's health says more; a screen never holds up a call
            log.info("screen %s@%s not updated (%r): %s", name, address, text, exc)
