"""The announcer: every call is heard, once, in call order, never over another one.

It follows `ticket.called` (and `ticket.recalled`) from the event log. A render task turns each call into
one WAV — chime, then the hall's phrase said `repeat` times — in a worker process (announce_render.py),
cached on disk by its content, so a number called again is ready at once. A play task then plays the WAVs
one after another on every audio sink of the hall (loudspeakers through ALSA, the simulator, or the
calling screens' browsers, which fetch `/api/v1/announcements/{seq}.wav`). Rendering runs ahead of
playing, so a burst of calls queues up and is played in order; nothing is dropped. Quiet hours lower the
volume (0: the screens alone show calls).
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import time
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ..store.follow import follow
from ..tasks import cancel_all
from . import render as announce_render
from .text import compose, compose_en

if TYPE_CHECKING:
    from ..clock import Clock
    from ..config import HallConfig
    from ..hardware.supervisor import DeviceSupervisor
    from ..store.database import Store
    from ..store.events import EventBus

log = logging.getLogger(__name__)
CALL_TYPES = frozenset({"ticket.called", "ticket.recalled"})
KEEP = 500                      # announcements remembered for the screens and the API
CACHE_FILES = 300               # rendered calls kept on disk (~0.4 MB each): recalls and screens use recent ones
WARM_UP_AFTER_S = 2.0           # after start-up: the server answers first, then the voice is readied
PRUNE_EVERY = 50                # new renders between two prunings


@dataclass
class Announcement:
    seq: int
    number: str
    window: int
    text: str
    received: float                          # monotonic, when the call reached the announcer
    state: str = "queued"                    # queued → ready → played | skipped | failed
    path: Path | None = None
    cached: bool = False
    ready_ms: float | None = None            # call event → WAV on disk
    played_at: str | None = None
    detail: str = ""
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def as_dict(self) -> dict:
        return {"seq": self.seq, "number": self.number, "window": self.window, "text": self.text,
                "state": self.state, "cached": self.cached, "ready_ms": self.ready_ms,
                "played_at": self.played_at, "detail": self.detail,
                "wav_url": f"/api/v1/announcements/{self.seq}.wav" if self.path else None}


class Announcer:
    def __init__(self, cfg: HallConfig, store: Store, bus: EventBus, devices: DeviceSupervisor, clock: Clock,
                 cache_dir: Path):
        self.store, self.bus, self.devices, self.clock = store, bus, devices, clock
        self.cfg = cfg.calling
        self.timezone = ZoneInfo(cfg.hall.timezone)
        self.cache_dir = cache_dir
        self.items: OrderedDict[int, Announcement] = OrderedDict()
        self.voice_state = "not started"
        self._pool: ProcessPoolExecutor | None = None
        self._render_q: asyncio.Queue[Announcement] = asyncio.Queue()
        self._play_q: asyncio.Queue[Announcement] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self.sinks = [d.name for d in cfg.devices if d.kind == "audio"]
        self._rendered = 0

    # -- life cycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        since = self.bus.latest_seq        # calls made before this start are not announced late
        self._tasks = [asyncio.create_task(follow(self.bus, self.store.read, since, CALL_TYPES,
                                                  self._on_call), name="announcer:follow"),
                       asyncio.create_task(self._render_loop(), name="announcer:render"),
                       asyncio.create_task(self._play_loop(), name="announcer:play")]
        if self.sinks:
            self._tasks.append(asyncio.create_task(self._warm_up(), name="announcer:warm-up"))

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def get(self, seq: int) -> Announcement | None:
        return self.items.get(seq)

    # -- stages ----------------------------------------------------------------------------------
    async def _on_call(self, event: dict) -> None:
        d = event["data"]
        if event["type"] == "ticket.recalled" and not self.cfg.recalls_announced:
            return
        text = self.cfg.template.format(number=d["number"], window=d["window"])
        a = Announcement(event["seq"], d["number"], d["window"], text, time.monotonic())
        self.items[a.seq] = a
        while len(self.items) > KEEP:
            self.items.popitem(last=False)
        self._render_q.put_nowait(a)

    async def _render_loop(self) -> None:
        while True:
            a = await self._render_q.get()
            volume = self.volume_now()
            if not self.sinks:
                a.state, a.detail = "skipped", "the hall has no audio sink (no [[devices]] of kind audio)"
            elif volume <= 0:
                a.state, a.detail = "skipped", "quiet hours: the screens show the call"
            else:
                try:
                    a.path, a.cached = await self._render(a, volume)
                    a.state, a.ready_ms = "ready", round((time.monotonic() - a.received) * 1000, 2)
                    self._rendered += not a.cached
                    if self._rendered % PRUNE_EVERY == 0 and not a.cached:
                        keep = {x.path for x in self.items.values() if x.state == "ready" and x.path}
                        await asyncio.to_thread(self._prune, keep)
                except Exception as exc:          # a voice failure silences the call; the screens still show it
                    a.state, a.detail = "failed", f"{type(exc).__name__}: {exc}"
                    log.warning("announcement of %s could not be rendered: %s", a.number, a.detail)
            a.ready.set()
            if a.state == "ready":
                self._play_q.put_nowait(a)

    async def _play_loop(self) -> None:
        while True:
            a = await self._play_q.get()
            try:
                wav = await asyncio.to_thread(a.path.read_bytes)
            except OSError as exc:
                a.state, a.detail = "failed", f"its WAV could not be read: {exc}"
                continue
            sinks = self.sinks
            results = await asyncio.gather(*(self._play_on(name, wav, a.text) for name in sinks))
            a.state = "played" if any(results) or not sinks else "failed"
            a.played_at = self.clock.now().isoformat(timespec="milliseconds")
            if sinks and not any(results):
                a.detail = "no audio sink could play it: see GET /api/v1/health"

    async def _play_on(self, name: str, wav: bytes, label: str) -> bool:
        try:
            async with self.devices.use(name) as sink:
                await asyncio.to_thread(sink.play, wav, label)
            return True
        except Exception as exc:      # DeviceUnavailable or the sink's own failure: its health says more
            log.info("announcement %r not played on %s: %s", label, name, exc)
            return False

    # -- rendering (in the worker process of announce_render.py) -------------------------------------
    def _worker(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=announce_render.init_worker)
        return self._pool

    async def _warm_up(self) -> None:
        """Start the worker and open the voice a moment after start-up, before the first call needs it."""
        await asyncio.sleep(WARM_UP_AFTER_S)
        try:
            await asyncio.get_running_loop().run_in_executor(self._worker(), announce_render.warm_up, self.cfg.voice)
            self.voice_state = "ok"
        except Exception as exc:          # said again, with the call, when a call needs the voice
            self.voice_state = f"fault: {exc}"
            log.warning("the calling voice %s does not work: %s", self.cfg.voice, exc)


    async def _render(self, a: Announcement, volume: float) -> tuple[Path, bool]:
        cfg = self.cfg
        lines = [compose(cfg.template, a.number, a.window)]
        if cfg.template_en:
            lines.append(compose_en(cfg.template_en, a.number, a.window))
        key = "|".join([cfg.voice, str(cfg.repeat), str(cfg.chime), f"{volume:.2f}", *(u.text for u in lines)])
        path = self.cache_dir / f"call-{hashlib.sha1(key.encode()).hexdigest()[:20]}.wav"
        if path.exists():
            path.touch()                # recently used: kept by the pruning
            return path, True
        job = (cfg.voice, [(u.text, u.tokens, u.lang) for u in lines], cfg.repeat, cfg.chime, volume, str(path))
        try:
            await asyncio.get_running_loop().run_in_executor(self._worker(), announce_render.render_call, *job)
        except BrokenProcessPool:         # the worker died (killed, out of memory): a fresh one next time
            self._pool = None
            raise
        except Exception as exc:
            self.voice_state = f"fault: {exc}"
            raise
        self.voice_state = "ok"
        return path, False

    def _prune(self, keep: set[Path]) -> None:
        """Keep the newest CACHE_FILES calls (and those still to be played): a busy day renders thousands,
        each used for minutes."""
        files = sorted(self.cache_dir.glob("call-*.wav"), key=lambda p: p.stat().st_mtime)
        for old in files[:-CACHE_FILES]:
            if old not in keep:
                old.unlink(missing_ok=True)

    def volume_now(self) -> float:
        local = self.clock.now().astimezone(self.timezone).strftime("%H:%M")
        for span in self.cfg.quiet_hours:
            start, end = span.split("-")
            if (start <= local < end) if start <= end else (local >= start or local < end):
                return self.cfg.volume * self.cfg.quiet_volume
        return self.cfg.volume

    def status(self) -> dict:
        states: dict[str, int] = {}
        for a in self.items.values():
            states[a.state] = states.get(a.state, 0) + 1
        return {"voice": self.cfg.voice, "voice_state": self.voice_state, "queued_to_play": self._play_q.qsize(),
                "announcements": states}
