"""The stats projector: follows the hall's event log into the stats database (schema.py), a batch at a time.

It is never in the write path of a hot change, and since the stats have a database of their own it never goes
through the hall store's single writer either. It runs in one of two places:

- `process` (the server, `onewindow serve`): a child process, `python -m hall_server.stats.worker` (worker.py),
  so that applying the batches takes neither the server's interpreter lock nor its core from the clerks' calls and
  the kiosks' issues. The server starts it, starts it again after a back-off when it dies (logged, never a crash
  loop of the server), and stops it; the child exits by itself when the server is gone (its stdin ends).
- `thread` (a hall inside another program: tests, scripts): a thread of this process, with the same functions.

Either way it reads the log on a read connection, wakes every `delay_s` (gathering what was committed meanwhile),
and applies up to PAGE events in one transaction of the stats database together with its cursor. `catch_up()`
applies everything committed so far before it returns (tests, and a report that must be fresh).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..store.database import connect
from .apply import PAGE, SKIPPED, run_step
from .facts import Dims
from .schema import cursor, open_stats

__all__ = ["SKIPPED", "Projector"]

log = logging.getLogger(__name__)
BACKOFF_START_S, BACKOFF_MAX_S = 1.0, 30.0
STABLE_S = 60.0                 # a child that ran this long starts its next back-off afresh
CATCH_UP_TIMEOUT_S = 60.0
COMMAND = (sys.executable, "-m", "hall_server.stats.worker")


class Projector:
    def __init__(self, db_path: Path, stats_path: Path, dims: Dims, latest_seq: Callable[[], int], *,
                 mode: str = "thread", start_message: Callable[[], dict] | None = None, delay_s: float = 0.5):
        if mode not in ("thread", "process"):
            raise ValueError(f"stats projector mode {mode!r}: 'thread' or 'process'")
        if mode == "process" and start_message is None:
            raise ValueError("the stats projector's process needs its start message")
        self.db_path, self.stats_path, self.dims, self.mode = Path(db_path), Path(stats_path), dims, mode
        self.latest_seq, self.delay_s, self._start_message = latest_seq, delay_s, start_message
        self.batches = self.failures = self.starts = 0
        self._lock = threading.Lock()           # one batch at a time on the thread's connections
        self._status_lock = threading.Lock()
        self._status_conn: sqlite3.Connection | None = None
        self._conns: tuple[sqlite3.Connection, sqlite3.Connection] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._stopping = False

    # -- what it has done ----------------------------------------------------------------------------
    @property
    def cursor(self) -> int:
        """The last seq of the log in the stats (read from the stats database: the child's work too)."""
        with self._status_lock:
            if self._status_conn is None:
                self._status_conn = sqlite3.connect(str(self.stats_path), check_same_thread=False)
                self._status_conn.execute("PRAGMA busy_timeout = 2000")
            try:
                return cursor(self._status_conn)
            except sqlite3.Error:       # the projector is making the file afresh: nothing applied yet
                return 0

    @property
    def lag(self) -> int:
        """Events committed but not yet in the stats."""
        return max(0, self.latest_seq() - self.cursor)

    def status(self) -> dict:
        running = (self._thread is not None and self._thread.is_alive() if self.mode == "thread"
                   else self._proc is not None and self._proc.returncode is None)
        out = {"mode": self.mode, "cursor": self.cursor, "lag_events": self.lag, "running": running}
        if self.mode == "thread":
            out.update(batches=self.batches, failures=self.failures)
        else:
            out.update(pid=self._proc.pid if running else None, starts=self.starts)
        return out

    # -- life ------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._stopping = False
        if self.mode == "thread":
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(target=self._run_thread, name="stats-projector", daemon=True)
                self._thread.start()
        elif self._task is None:
            self._task = asyncio.create_task(self._supervise(), name="stats-projector")

    async def stop(self) -> None:
        self._stopping = True
        if self._thread is not None:
            self._stop.set()
            await asyncio.to_thread(self._thread.join, 10)
            self._thread = None
        if self._task is not None:
            await self._stop_child()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._conns is not None:
                for c in self._conns:
                    c.close()
                self._conns = None
        with self._status_lock:
            if self._status_conn is not None:
                self._status_conn.close()
                self._status_conn = None

    async def catch_up(self) -> int:
        """Apply every event committed so far; returns the new cursor."""
        target = self.latest_seq()
        if self.mode == "thread":
            return await asyncio.to_thread(self._drain)
        self._poke()
        end = time.monotonic() + CATCH_UP_TIMEOUT_S
        while (done := self.cursor) < target:
            if time.monotonic() > end:
                raise TimeoutError(f"the stats projector is at {done}, not {target}, after {CATCH_UP_TIMEOUT_S:g} s")
            await asyncio.sleep(0.01)
        return done

    # -- in a thread -----------------------------------------------------------------------------------
    def _connections(self) -> tuple[sqlite3.Connection, sqlite3.Connection]:
        if self._conns is None:
            self._conns = (open_stats(self.stats_path), connect(self.db_path, readonly=True))
        return self._conns

    def step_now(self, limit: int = PAGE) -> tuple[int, int]:
        """One batch of at most `limit` seqs, here and now, on the thread's connections (tests, scripts)."""
        with self._lock:
            conn, log_conn = self._connections()
            return run_step(conn, log_conn, self.dims, limit)

    def _drain(self) -> int:
        """Batches until the log's end (under the lock: the thread's loop and a catch-up take turns)."""
        with self._lock:
            conn, log_conn = self._connections()
            while True:
                n, upto = run_step(conn, log_conn, self.dims)
                self.batches += 1
                if n < PAGE:
                    return upto
                if self._stop.is_set():
                    return upto

    def _run_thread(self) -> None:
        done = -1
        while not self._stop.is_set():
            if self.latest_seq() != done:
                try:
                    done = self._drain()
                except Exception:       # the stats database refused the batch: nothing applied; later again
                    self.failures += 1
                    done = -1
                    log.exception("stats projector: a batch failed; retrying")
                    self._stop.wait(2.0)
            self._stop.wait(self.delay_s)

    # -- in a child process ----------------------------------------------------------------------------
    def _poke(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None and proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.write(b"now\n")

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = BACKOFF_START_S
        while not self._stopping:
            started = loop.time()
            reason = await self._run_child()
            if self._stopping:
                return
            if loop.time() - started >= STABLE_S:
                backoff = BACKOFF_START_S
            self.failures += 1
            log.warning("stats projector process %s; starting it again in %.0f s (the statistics lag meanwhile)",
                        reason, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    async def _run_child(self) -> str:
        try:
            proc = await asyncio.create_subprocess_exec(*COMMAND, stdin=asyncio.subprocess.PIPE)
        except OSError as exc:
            return f"could not be started: {exc}"
        self._proc, self.starts = proc, self.starts + 1
        message = {**self._start_message(), "db": str(self.db_path), "stats": str(self.stats_path),
                   "delay_s": self.delay_s}
        proc.stdin.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
        code = await proc.wait()
        return f"was killed by signal {-code}" if code < 0 else f"exited with {code}"

    async def _stop_child(self) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(Exception):
            proc.stdin.close()              # the child ends its batch and exits at the end of its stdin
        for ask in (None, proc.terminate, proc.kill):
            if ask is not None:
                with contextlib.suppress(ProcessLookupError):
                    ask()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 5.0 if ask is None else 2.0)
                return
