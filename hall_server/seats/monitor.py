"""Seat monitoring (座席监控) in the running hall: cameras → presence per seat → 离岗 alerts and on-seat time.

One thread per camera reads its newest frames and runs each of its seats' presence models
(drivers/camera/presence.py); a seat whose state changes becomes a `seat.presence` event. A task ticks every
second: it follows the windows (state and clerk), asks the rules (seat_rules.py) what is due, raises a 离岗
`alert.raised` (kind "away") with an evidence snapshot — blurred outside the seat region — and clears it
with `alert.cleared`; it writes the on-seat time every minute and deletes expired evidence every hour.
Nothing is recorded continuously: only the newest frame of each camera is held, in memory.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..hardware.supervisor import START_AFTER_S
from ..store.database import Change
from ..store.events import append_event
from .rules import Clear, Raise, SeatRules

if TYPE_CHECKING:
    from ..clock import Clock
    from ..config import HallConfig
    from ..hardware.supervisor import DeviceSupervisor
    from ..queue.views import Views
    from ..store.database import Store

log = logging.getLogger(__name__)
TICK_S, FLUSH_S, PRUNE_S = 1.0, 60.0, 3600.0
READ_TIMEOUT_S = 2.0


class SeatMonitor:
    def __init__(self, cfg: HallConfig, store: Store, views: Views, devices: DeviceSupervisor, clock: Clock,
                 data_dir: Path):
        self.store, self.views, self.devices, self.clock, self.data_dir = store, views, devices, clock, data_dir
        self.seats = {s.window: s for s in cfg.seats}
        self.policy = cfg.seat_monitoring
        self.rules = SeatRules(sorted(self.seats), self.policy.away_alert_min * 60)
        self.evidence_dir = data_dir / "evidence"
        self._expect_empty = dict.fromkeys(self.seats, True)   # nobody logged in: the seat may be learnt as empty
        self._frames: dict[str, Any] = {}                       # camera → its newest frame (for evidence only)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        if not self.seats:
            return
        self._loop = asyncio.get_running_loop()
        self._sync_windows(self.clock.now())
        for camera in sorted({s.camera for s in self.seats.values()}):
            if camera not in self.devices.devices:      # a config edited in code (tests): nothing to watch
                log.warning("seat camera %s is not a device of this hall; its seats stay unknown", camera)
                continue
            seats = [s for s in self.seats.values() if s.camera == camera]
            t = threading.Thread(target=self._watch, args=(camera, seats), name=f"seats:{camera}", daemon=True)
            t.start()
            self._threads.append(t)
        self._task = asyncio.create_task(self._tick_loop(), name="seats")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            await self._flush(self.clock.now())
        for t in self._threads:
            await asyncio.to_thread(t.join, 5)

    # -- one thread per camera -------------------------------------------------------------------
    def _watch(self, camera: str, seats: list) -> None:
        # OpenCV loads only in a hall with seats, and only once the hall answers (the import holds the GIL)
        if self._stop.wait(START_AFTER_S["camera"]):
            return
        from drivers.camera.presence import Roi, SeatPresence

        models = {s.window: SeatPresence(Roi(*s.roi), debounce_s=self.policy.debounce_s,
                                         use_faces=self.policy.use_faces) for s in seats}
        for s in seats:
            if s.reference:
                _load_reference(models[s.window], s.reference, self.data_dir)
        shown = dict.fromkeys(models, "")
        while not self._stop.is_set():
            supervised = self.devices.devices.get(camera)
            dev = supervised.device if supervised is not None else None
            frame = None
            if dev is not None and dev.is_open:
                _reference_from(dev, models.values())
                try:
                    frame = dev.read(READ_TIMEOUT_S)
                except Exception as exc:       # the camera's own health says more
                    log.debug("reading %s: %s", camera, exc)
            now = time.monotonic()
            if frame is not None:
                self._frames[camera] = frame
            for window, model in models.items():
                # "nobody is logged in" only starts the empty-seat reference: once there is one, the model
                # learns on its own, so a clerk seated before logging in is never learnt as the empty seat
                state = model.update(None if frame is None else frame.image, now,
                                     expect_empty=self._expect_empty[window] and not model.has_reference)
                if state != shown[window]:
                    shown[window] = state
                    self._post(window, state)
            if frame is None:
                self._stop.wait(0.5)

    def _post(self, window: int, state: str) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            future = asyncio.run_coroutine_threadsafe(self._presence(window, state), loop)
            future.add_done_callback(_log_failure)

    # -- the hall's side ---------------------------------------------------------------------------
    async def _presence(self, window: int, state: str) -> None:
        now = self.clock.now()
        before = self.rules.seats[window].presence
        actions = self.rules.presence(window, state, now)
        data = {"window": window, "state": state, "previous": before, "clerk": self.rules.seats[window].clerk}
        await self.store.write(lambda conn: Change(None, [append_event(conn, "seat.presence", now, data,
                                                                            window=window)]))
        await self._act(actions)

    async def _tick_loop(self) -> None:
        flushed = pruned = time.monotonic()
        await self._prune(self.clock.now())
        while True:
            await asyncio.sleep(TICK_S)
            now = self.clock.now()
            try:
                await self._act(self._sync_windows(now) + self.rules.tick(now))
                if time.monotonic() - flushed >= FLUSH_S:
                    flushed = time.monotonic()
                    await self._flush(now)
                if time.monotonic() - pruned >= PRUNE_S:
                    pruned = time.monotonic()
                    await self._prune(now)
            except Exception:           # a seat problem never stops the hall; the next tick tries again
                log.exception("seat monitoring tick failed")

    def _sync_windows(self, now: datetime) -> list[Raise | Clear]:
        actions: list[Raise | Clear] = []
        for w in self.views.windows(self.store.read):
            if w["number"] in self.seats:
                actions += self.rules.window(w["number"], w["state"], w["clerk"], now)
                self._expect_empty[w["number"]] = w["clerk"] is None
        return actions

    async def _act(self, actions: list[Raise | Clear]) -> None:
        for a in actions:
            if isinstance(a, Raise):
                await self._raise(a)
            else:
                await self._clear(a)

    async def _raise(self, a: Raise) -> None:
        minutes = max(1, round((a.at - a.away_since).total_seconds() / 60))
        data: dict[str, Any] = {
            "kind": "away", "device": self.seats[a.window].camera, "window": a.window, "clerk": a.clerk,
            "away_since": a.away_since.isoformat(timespec="seconds"),
            "detail": f"{a.window}号窗口离岗 {minutes} 分钟 / window {a.window}: clerk away {minutes} min"}
        path = await asyncio.to_thread(self._snapshot, a.window, a.at)
        log.warning("window %s: clerk away for %s min", a.window, minutes)

        def write(conn) -> Change:
            if path is not None:
                expires = a.at + timedelta(days=self.policy.evidence_days)
                data["evidence"] = conn.execute(
                    "INSERT INTO evidence (at, window, clerk, path, expires_at) VALUES (?,?,?,?,?) RETURNING id",
                    (a.at.isoformat(timespec="seconds"), a.window, a.clerk, str(path),
                     expires.isoformat(timespec="seconds"))).fetchone()[0]
            return Change(None, [append_event(conn, "alert.raised", a.at, data, window=a.window)])
        await self.store.write(write)

    async def _clear(self, a: Clear) -> None:
        minutes = round(a.away_s / 60)
        why = {"returned": "已回到座位 / back at the seat", "paused": "窗口已暂停 / window paused",
               "closed": "窗口已关闭 / window closed"}[a.reason]
        data = {"kind": "away", "window": a.window, "clerk": a.clerk, "reason": a.reason, "away_s": round(a.away_s),
                "detail": f"{a.window}号窗口离岗 {minutes} 分钟后：{why}"}
        await self.store.write(lambda conn: Change(None, [append_event(conn, "alert.cleared", a.at, data,
                                                                            window=a.window)]))

    def _snapshot(self, window: int, at: datetime) -> Path | None:
        """The evidence of an alert: the camera's newest frame, blurred outside the seat region."""
        seat = self.seats[window]
        frame = self._frames.get(seat.camera)
        if frame is None:
            return None
        from drivers.camera.presence import Roi
        from drivers.camera.snapshot import evidence_jpeg

        folder = self.evidence_dir / at.strftime("%Y-%m-%d")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"window{window:02d}-{at.strftime('%H%M%S')}.jpg"
        path.write_bytes(evidence_jpeg(frame.image, Roi(*seat.roi)))
        path.chmod(0o600)
        return path

    async def _flush(self, now: datetime) -> None:
        times = self.rules.take_times(now)
        if not times:
            return
        day = self.views.today(now)

        def write(conn) -> Change:
            for (window, clerk), t in times.items():
                conn.execute(
                    "INSERT INTO seat_time (service_day, window, clerk, present_s, away_s, unknown_s)"
                    " VALUES (?,?,?,?,?,?) ON CONFLICT (service_day, window, clerk) DO UPDATE SET"
                    " present_s = present_s + excluded.present_s, away_s = away_s + excluded.away_s,"
                    " unknown_s = unknown_s + excluded.unknown_s",
                    (day, window, clerk, t["present"], t["away"], t["unknown"]))
            return Change()
        await self.store.write(write)

    async def _prune(self, now: datetime) -> None:
        """Delete evidence past its days (the file, then the row is marked deleted)."""
        rows = self.store.read.execute(
            "SELECT id, path FROM evidence WHERE deleted_at IS NULL AND expires_at <= ?",
            (now.isoformat(timespec="seconds"),)).fetchall()
        if not rows:
            return
        for _id, path in rows:
            with contextlib.suppress(FileNotFoundError):
                Path(path).unlink()
        stamp = now.isoformat(timespec="seconds")

        def write(conn) -> Change:
            conn.executemany("UPDATE evidence SET deleted_at=? WHERE id=?", [(stamp, r[0]) for r in rows])
            return Change()
        await self.store.write(write)
        log.info("deleted %d expired evidence snapshot(s)", len(rows))

    # -- what the API shows ----------------------------------------------------------------------------
    def time_rows(self, day: str) -> list[dict]:
        """On-seat, away and unknown seconds per window and clerk on `day`: what is written, plus (today) what
        has accrued since the last write — read, not written, so a dashboard that reads often costs no commits."""
        now = self.clock.now()
        rows: dict[tuple[int, str], dict[str, float]] = {}
        for r in self.store.read.execute(
                "SELECT window, clerk, present_s, away_s, unknown_s FROM seat_time WHERE service_day=?", (day,)):
            rows[(r[0], r[1])] = {"present": r[2], "away": r[3], "unknown": r[4]}
        if day == self.views.today(now):
            for key, t in self.rules.pending_times(now).items():
                row = rows.setdefault(key, {"present": 0.0, "away": 0.0, "unknown": 0.0})
                for state, seconds in t.items():
                    row[state] += seconds
        return [{"window": w, "clerk": c, "present_s": round(t["present"]), "away_s": round(t["away"]),
                 "unknown_s": round(t["unknown"])} for (w, c), t in sorted(rows.items())]

    def status(self) -> list[dict]:
        now = self.clock.now()
        totals: dict[int, dict] = {}
        for r in self.time_rows(self.views.today(now)):
            sums = totals.setdefault(r["window"], {"present_s": 0, "away_s": 0, "unknown_s": 0})
            for k in sums:
                sums[k] += r[k]
        out = []
        for window, seat in sorted(self.seats.items()):
            s = self.rules.seats[window]
            out.append({"window": window, "camera": seat.camera, "presence": s.presence,
                        "since": s.presence_since.isoformat(timespec="seconds") if s.presence_since else None,
                        "window_state": s.window_state, "clerk": s.clerk,
                        "away_s": round(self.rules.away_for(window, now)), "alert": s.alert_since is not None,
                        "today": totals.get(window, {"present_s": 0, "away_s": 0, "unknown_s": 0})})
        return out


def _log_failure(future) -> None:
    """A presence change the hall could not record (the store refused it): said in the log, not lost silently."""
    if not future.cancelled() and future.exception() is not None:
        log.error("recording a seat's presence failed", exc_info=future.exception())


def _reference_from(dev: Any, models) -> None:
    """A simulated camera knows its empty scene: the seats start from it, as from a technician's snapshot."""
    empty = getattr(dev, "reference_frame", None)
    for model in models:
        if empty is not None and not model.has_reference:
            model.set_reference(empty())


def _load_reference(model: Any, path: str, data_dir: Path) -> None:
    import cv2

    p = Path(path) if Path(path).is_absolute() else data_dir / path
    image = cv2.imread(str(p))
    if image is None:
        log.warning("seat reference %s could not be read; the empty seat will be learnt instead", p)
        return
    model.set_reference(image)
