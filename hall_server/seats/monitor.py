"""Seat monitoring (座席监控) in the running hall: presence per seat → seat state, 离岗 alerts and on-seat time.

The cameras and their presence models run in the seat worker, a process of its own (worker.py, started and
restarted by process.py): the server never loads OpenCV. The worker's presence changes become `seat.presence`
events and its camera health the cameras' `device.health` (through the device supervisor, which owns no
camera itself). While the worker is down every seat reads unknown, its cameras offline, and one
`alert.raised` (kind "seat_worker") stands until it is back (`alert.cleared`). A task ticks every second:
it follows the windows (state and clerk; who is logged in goes to the worker, which learns empty seats from
it), asks the rules (rules.py) what is due, raises a 离岗 `alert.raised` (kind "away") with an evidence
snapshot — which the worker writes from its newest frame, blurred outside the seat region — and clears it
with `alert.cleared`; it writes the on-seat time every minute and deletes expired evidence every hour.
Nothing is recorded continuously.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivers.health import DeviceHealth, DeviceState

from ..hardware.alerts import raise_alert
from ..store.database import Change
from ..store.events import append_event
from .process import COMMAND, SeatWorkerProcess, WorkerError, WorkerUnavailable
from .rules import Clear, Raise, SeatRules

if TYPE_CHECKING:
    from ..clock import Clock
    from ..config import HallConfig
    from ..hardware.supervisor import DeviceSupervisor
    from ..queue.views import Views
    from ..store.database import Store

log = logging.getLogger(__name__)
TICK_S, FLUSH_S, PRUNE_S = 1.0, 60.0, 3600.0
WORKER_START_AFTER_S = 0.5      # the worker starts once the hall answers (it runs beside it, never in its way)
STARTING = DeviceHealth(DeviceState.DEGRADED, "starting: the seat worker is opening the camera")


class SeatMonitor:
    def __init__(self, cfg: HallConfig, store: Store, views: Views, devices: DeviceSupervisor, clock: Clock,
                 data_dir: Path, cameras: Sequence[dict] = (), worker_command: Sequence[str] = COMMAND):
        """`cameras`: the seat cameras as the worker opens them, {name, url (the hall's sim dir applied),
        poll_s}; `worker_command`: how the worker is started."""
        self.store, self.views, self.devices, self.clock, self.data_dir = store, views, devices, clock, data_dir
        self.seats = {s.window: s for s in cfg.seats}
        self.policy = cfg.seat_monitoring
        self.rules = SeatRules(sorted(self.seats), self.policy.away_alert_min * 60)
        self.evidence_dir = data_dir / "evidence"
        self.cameras = {c["name"]: dict(c) for c in cameras}     # every camera, with seats or not
        self._expect_empty = dict.fromkeys(self.seats, True)   # nobody logged in: the seat may be learnt as empty
        self.worker = SeatWorkerProcess(self._start_message, self._message, command=worker_command,
                                        start_after_s=WORKER_START_AFTER_S)
        self.worker_down: str | None = None      # why the worker is down, while it is (alerted once)
        self._inbox: asyncio.Queue[dict] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []

    def owns(self, name: str) -> bool:
        """Whether the device is one of the cameras the seat worker opens (not the device supervisor)."""
        return name in self.cameras

    async def simulate(self, camera: str, faults: dict) -> dict:
        """A runtime fault for a simulated seat camera (the devices API); WorkerUnavailable/WorkerError."""
        return await self.worker.request("simulate", camera=camera, faults=faults)

    async def diagnostics(self, camera: str) -> dict:
        return await self.worker.request("diagnostics", camera=camera)

    def worker_status(self) -> dict | None:
        """The seat worker for /health: its pid and memory, how often it started, why it is down, garbage."""
        if not self.cameras:
            return None
        pid = self.worker.pid
        return {"pid": pid, "rss_kb": _rss_kb(pid), "starts": self.worker.starts, "down": self.worker_down,
                "dropped_lines": self.worker.dropped}

    async def start(self) -> None:
        if not self.seats and not self.cameras:
            return
        for camera in sorted({s.camera for s in self.seats.values()} - set(self.cameras)):
            log.warning("seat camera %s is not a device of this hall; its seats stay unknown", camera)
        self._sync_windows(self.clock.now())
        self._tasks = [asyncio.create_task(self._tick_loop(), name="seats"),
                       asyncio.create_task(self._read_inbox(), name="seats:worker")]
        if self.cameras:
            await self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._tasks:
            await self._flush(self.clock.now())

    # -- the worker ------------------------------------------------------------------------------------
    def _start_message(self) -> dict[str, Any]:
        seats = []
        for s in self.seats.values():
            if s.camera in self.cameras:
                ref = s.reference and str(Path(s.reference) if Path(s.reference).is_absolute()
                                          else self.data_dir / s.reference)
                seats.append({"window": s.window, "camera": s.camera, "roi": list(s.roi), "reference": ref})
        return {"cameras": list(self.cameras.values()), "seats": seats, "debounce_s": self.policy.debounce_s,
                "use_faces": self.policy.use_faces, "nice": 5,
                "expect_empty": [w for w, empty in self._expect_empty.items() if empty]}

    def _message(self, msg: dict) -> None:
        self._inbox.put_nowait(msg)         # handled in order by _read_inbox, never in the worker's reader

    async def _read_inbox(self) -> None:
        for camera in self.cameras:
            await self.devices.owned_health(camera, "camera", STARTING)
        while True:
            msg = await self._inbox.get()
            try:
                await self._handle(msg)
            except Exception:           # a seat problem never stops the hall; the next message is handled
                log.exception("handling the seat worker's %s failed", msg.get("type"))

    async def _handle(self, msg: dict) -> None:
        kind = msg["type"]
        if kind in ("presence", "camera") and self.worker_down is not None:
            # said by a worker already given up (lines still in its pipe when it missed its heartbeats): stale;
            # the seats stay unknown until a worker says it is ready again
            log.debug("dropped a %s message of a seat worker that is down", kind)
            return
        if kind == "presence":
            if msg["window"] not in self.seats:
                self.worker.drop("presence of an unknown window", repr(msg["window"]))
                return
            await self._presence(msg["window"], msg["state"])
        elif kind == "camera":
            if msg["camera"] not in self.cameras:
                self.worker.drop("health of an unknown camera", repr(msg["camera"])[:80])
                return
            await self.devices.owned_health(msg["camera"], "camera",
                                            DeviceHealth(DeviceState(msg["state"]), msg["detail"]))
        elif kind == "ready":
            await self._worker_up()
        elif kind == "down":
            await self._worker_gone(msg["reason"], msg["retry_s"])

    async def _worker_gone(self, reason: str, retry_s: float) -> None:
        first = self.worker_down is None
        self.worker_down = reason
        detail = f"the seat worker is not running ({reason}); restarting it in {retry_s:g} s"
        for camera in self.cameras:
            await self.devices.owned_health(camera, "camera", DeviceHealth(DeviceState.OFFLINE, detail))
        for window in self.seats:
            if self.rules.seats[window].presence != "unknown":
                await self._presence(window, "unknown")
        if not first:
            log.debug("the seat worker is still down: %s", reason)
            return
        log.warning("the seat worker died (%s): every seat reads unknown until it is back; restarting it "
                    "with back-off", reason)
        await raise_alert(self.store, self.clock, "seat_worker", None,
                          f"座席监控进程已停止，正在重启 / the seat worker stopped ({reason}); restarting it")

    async def _worker_up(self) -> None:
        if self.worker_down is None:
            return
        log.info("the seat worker is back (pid %s)", self.worker.pid)
        self.worker_down = None
        now = self.clock.now()
        data = {"kind": "seat_worker", "device": None, "reason": "restarted",
                "detail": "座席监控进程已恢复 / the seat worker is back"}
        await self.store.write(lambda conn: Change(None, [append_event(conn, "alert.cleared", now, data)]))

    # -- the hall's side ---------------------------------------------------------------------------
    # -- the hall's side ---------------------------------------------------------------------------
    async def _presence(self, window: int, state: str) -> None:
        now = self.clock.now()
        before = self.rules.seats[window].presence
        if state == before:
            return
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
                empty = w["clerk"] is None
                if self._expect_empty[w["number"]] != empty:
                    self._expect_empty[w["number"]] = empty
                    self.worker.send({"type": "expect_empty", "window": w["number"], "empty": empty})
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
        path = await self._snapshot(a.window, a.at)
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

    async def _snapshot(self, window: int, at: datetime) -> Path | None:
        """The evidence of an alert, written by the worker from the camera's newest frame; None without one."""
        path = self.evidence_dir / at.strftime("%Y-%m-%d") / f"window{window:02d}-{at.strftime('%H%M%S')}.jpg"
        try:
            data = await self.worker.request("snapshot", window=window, path=str(path))
        except (WorkerUnavailable, WorkerError) as exc:
            log.warning("window %s: no evidence snapshot (%s)", window, exc)
            return None
        return Path(data["path"]) if data and data.get("path") else None

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


def _rss_kb(pid: int | None) -> int | None:
    """A process's resident memory (Linux), or None."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None
