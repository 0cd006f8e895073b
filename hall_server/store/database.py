"""The durable store: SQLite in WAL mode, one writer thread, group commit.

Every state change is a function run by the writer thread inside a transaction opened with
`BEGIN IMMEDIATE`. Changes that arrive while a commit is being flushed are gathered into the next
transaction, each inside its own SAVEPOINT (so one failing change does not undo the others), and
acknowledged only after that transaction's COMMIT has returned with `synchronous=FULL`, i.e. after
fsync. Events appended by a change are published, in `seq` order, only after the commit.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from .schema import migrate

log = logging.getLogger(__name__)

MAX_BATCH = 256


def _migrate(conn: sqlite3.Connection) -> tuple[int, int]:
    """schema.migrate, without numpy: sqlite_utils (imported by a migration, i.e. on a fresh or older database)
    imports numpy and pandas whenever they are installed — numpy is, for the seat worker's OpenCV — only to map
    their scalar types to column types, which no migration uses; that is 12 MB of the server's memory and
    ~80 ms of its start. While sqlite_utils is first imported they are unimportable, so it does without them;
    an import of numpy after that (the seat worker's process, a test) works as ever."""
    hidden = [] if "sqlite_utils" in sys.modules else [m for m in ("numpy", "pandas") if m not in sys.modules]
    for name in hidden:
        sys.modules[name] = None        # type: ignore[assignment]  # `import numpy` raises ImportError
    try:
        return migrate(conn)
    finally:
        for name in hidden:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with the project's pragmas; transactions are explicit (isolation_level=None)."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 5000")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


class Change:
    """What a write function returns: a result for the caller and the events to publish after commit."""

    __slots__ = ("events", "result")

    def __init__(self, result: Any = None, events: list[dict] | None = None):
        self.result = result
        self.events = events or []


WriteFn = Callable[[sqlite3.Connection], Change]


class StoreUnavailable(RuntimeError):
    """The database could not commit (disk full, read-only, I/O error)."""


class _Waiter:
    """An event-loop caller's place in the writer's queue, standing in for a Future there: its answer is
    kept, and handed to the loop together with every other answer of the same transaction (`_answer`) —
    one wake-up of the loop per commit instead of one per change."""

    __slots__ = ("future", "loop", "outcome")

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.future: asyncio.Future = loop.create_future()
        self.outcome: tuple[Any, BaseException | None] | None = None

    def set_running_or_notify_cancel(self) -> bool:
        # read from the writer thread; a caller cancelled just after this still has its change made, and
        # its answer is dropped (_settle), as for a Future that was already running
        return not self.future.cancelled()

    def done(self) -> bool:
        return self.outcome is not None

    def set_result(self, result: Any) -> None:
        self.outcome = (result, None)

    def set_exception(self, exc: BaseException) -> None:
        self.outcome = (None, exc)


def _answer(batch: list[tuple[WriteFn, Any]]) -> None:
    """Hand the answers of a transaction's event-loop callers to their loop, in one call per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Waiter]] = {}
    for _fn, w in batch:
        if isinstance(w, _Waiter):
            by_loop.setdefault(w.loop, []).append(w)
    for loop, waiters in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, waiters)
        except RuntimeError:        # the loop is closed: nobody is waiting any more
            pass


def _settle(waiters: list[_Waiter]) -> None:
    for w in waiters:
        if w.future.done() or w.outcome is None:     # cancelled meanwhile
            continue
        result, exc = w.outcome
        if exc is not None:
            w.future.set_exception(exc)
        else:
            w.future.set_result(result)


class Store:
    """Owns the database file: the writer thread and a read connection for queries.

    `on_commit(events)` is called (in the writer thread) with the events of each committed transaction;
    `on_rollback()` whenever a change or a whole transaction was rolled back."""

    def __init__(self, path: str | Path, on_commit: Callable[[list[dict]], None] | None = None,
                 on_rollback: Callable[[], None] | None = None):
        self.path = Path(path)
        self._on_rollback = on_rollback
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._on_commit = on_commit
        self._writer_conn = connect(self.path)
        _migrate(self._writer_conn)
        self.read = connect(self.path)
        self._queue: queue.SimpleQueue[tuple[WriteFn, Future] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._started = False
        self.commits = 0

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def close(self) -> None:
        if self._started:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._started = False
        self._writer_conn.close()
        self.read.close()

    # -- writing ---------------------------------------------------------------------------------
    def submit(self, fn: WriteFn) -> Future:
        fut: Future = Future()
        self._queue.put((fn, fut))
        return fut

    async def write(self, fn: WriteFn) -> Any:
        """Run `fn` in a durable transaction; returns its result once committed."""
        waiter = _Waiter(asyncio.get_running_loop())
        self._queue.put((fn, waiter))
        return await waiter.future

    def write_sync(self, fn: WriteFn) -> Any:
        """For start-up and scripts: the same path as write(), waited for in this thread."""
        if not self._started:
            fut: Future = Future()
            fut.set_running_or_notify_cancel()
            return self._apply([(fn, fut)], wait=True)
        return self.submit(fn).result()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            # A caller that gave up before its change started (a request whose client went away) is
            # dropped now; once running, a change can no longer be cancelled and is always answered.
            batch = [(fn, fut) for fn, fut in batch if fut.set_running_or_notify_cancel()]
            if batch:
                try:
                    self._apply(batch)
                except Exception as exc:  # never let the writer die: every later write would hang
                    log.exception("store writer failed")
                    err = StoreUnavailable(f"the store failed unexpectedly: {exc}")
                    for _fn, fut in batch:
                        if not fut.done():
                            fut.set_exception(err)
                _answer(batch)
            if stop:
                return

    def _apply(self, batch: list[tuple[WriteFn, Future]], wait: bool = False) -> Any:
        conn = self._writer_conn
        outcomes: list[tuple[Future, Change | None, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, fut in batch:
                conn.execute("SAVEPOINT change")
                try:
                    change = fn(conn)
                except Exception as exc:  # the change is refused; others in the batch go on
                    conn.execute("ROLLBACK TO change")
                    conn.execute("RELEASE change")
                    if self._on_rollback:    # what the change counted in memory was undone with it
                        self._on_rollback()
                    if isinstance(exc, sqlite3.Error):
                        log.error("database refused a change: %s", exc)
                        exc = StoreUnavailable(f"the database could not save the change: {exc}")
                    outcomes.append((fut, None, exc))
                else:
                    conn.execute("RELEASE change")
                    outcomes.append((fut, change, None))
            conn.execute("COMMIT")
            self.commits += 1
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if self._on_rollback:
                self._on_rollback()
            log.error("database commit failed: %s", exc)
            err = StoreUnavailable(f"the database could not save the change: {exc}")
            for _fn, fut in batch:
                if not fut.done():
                    fut.set_exception(err)
            if wait:
                raise err from exc
            return None
        events = [e for _f, ch, _e in outcomes if ch for e in ch.events]
        if events and self._on_commit:
            try:
                self._on_commit(events)
            except Exception:  # committed all the same; subscribers catch up from the log by seq
                log.exception("publishing committed events failed")
        for fut, change, exc in outcomes:
            if exc is not None:
                fut.set_exception(exc)
            else:
                fut.set_result(change.result)
        if wait:
            return batch[0][1].result()
        return None
