"""The stats projector: follows the event log and applies it to the stats tables, a batch at a time, each batch in
ONE store transaction together with its cursor (meta 'stats_seq', the last seq applied).

It is never in the write path of a hot change: it wakes when events are published, waits `delay_s` to gather more,
and applies up to PAGE events in one transaction through the store's writer (a few milliseconds for a busy hall's
second; catching up a long log, it leaves the writer to the hot changes between its batches). A crash between
batches leaves aggregates and cursor of the last committed batch; a crash inside one rolls the whole batch back,
cursor and all; the next start goes on from the cursor. `rebuild()` empties every stats table and replays the log
from seq 0 with the same functions, so it ends where the running server is.
"""
from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from functools import partial

from ..store.database import Change, Store
from ..store.events import EventBus
from . import facts, sums
from .facts import Dims
from .rollup import roll_day, unroll_day

log = logging.getLogger(__name__)
PAGE = 1000         # events per live batch: ~0.1 s of the writer at most, even catching up a year
REBUILD_PAGE = 20000
CURSOR = "stats_seq"
SKIPPED: list[int] = []         # seqs of events left out since start (a bug: the tests assert there are none)
TABLES = ("stats_ticket", "stats_tday", "stats_days", "stats_case", "stats_rating", "stats_complaint",
          "stats_wstate", "stats_wtime", "stats_sday")


def cursor(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (CURSOR,)).fetchone()
    return int(row[0]) if row else 0


class _Batch:
    """The days touched by one batch, and which of them are rolled (read once per batch)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.rolled: dict[str, int] = {}

    def touched(self, days: set[str]) -> None:
        for day in days:
            state = self.rolled.get(day)
            if state is None:
                row = self.conn.execute("SELECT rolled FROM stats_days WHERE day=?", (day,)).fetchone()
                if row is None:
                    self.conn.execute("INSERT INTO stats_days (day, rolled) VALUES (?, 0)", (day,))
                state = row[0] if row else 0
            if state:
                unroll_day(self.conn, day)
            self.rolled[day] = 0

    def roll_before(self, day: str) -> None:
        for (d,) in self.conn.execute("SELECT day FROM stats_days WHERE rolled=0 AND day<?", (day,)).fetchall():
            roll_day(self.conn, d)
            self.rolled[d] = 1


def _apply(conn: sqlite3.Connection, dims: Dims, batch: _Batch, e: dict) -> None:
    kind = e["type"]
    dirty: set[str] = set()
    if kind.startswith("ticket."):
        facts.ticket_event(conn, e, dims, dirty)
    elif kind == "day.rolled_over":
        facts.rolled_over(conn, e, dirty, dims.tz)
    elif kind.startswith("window."):
        facts.window_event(conn, e, dims)
    elif kind.startswith("case."):
        sums.tracked(conn, "case", "case_id=?", (e["data"].get("case", e["case_id"]),),
                     partial(facts.case_event, conn, e, dims))
    elif kind == "evaluation.recorded" or kind == "badrating.opened":
        sums.tracked(conn, "rating", "evaluation_id=?", (e["data"].get("evaluation"),),
                     partial(facts.rating_event, conn, e, dims))
    elif kind.startswith("badrating."):
        sums.tracked(conn, "rating", "badrating_id=?", (e["data"].get("badrating"),),
                     partial(facts.rating_event, conn, e, dims))
    elif kind.startswith("complaint."):
        sums.tracked(conn, "complaint", "complaint_id=?", (e["data"].get("complaint"),),
                     partial(facts.complaint_event, conn, e, dims))
    elif kind == "alert.raised":
        facts.away_event(conn, e, dims)
    if dirty:
        batch.touched(dirty)
    if kind == "day.rolled_over" and e["data"].get("to_day"):
        batch.roll_before(e["data"]["to_day"])


def apply_events(conn: sqlite3.Connection, dims: Dims, events: list[dict]) -> None:
    """Apply the events in order. The whole list first, under one savepoint; should one event fail (not the store:
    its error fails the batch), the list is applied again one savepoint per event, that event left out."""
    conn.execute("SAVEPOINT stats_batch")
    try:
        batch = _Batch(conn)
        for e in events:
            _apply(conn, dims, batch, e)
    except sqlite3.Error:       # the store's trouble (disk full …), not the event's: the whole batch is retried
        conn.execute("ROLLBACK TO stats_batch")
        conn.execute("RELEASE stats_batch")
        raise
    except Exception:
        conn.execute("ROLLBACK TO stats_batch")
    else:
        conn.execute("RELEASE stats_batch")
        return
    conn.execute("RELEASE stats_batch")
    batch = _Batch(conn)
    for e in events:
        conn.execute("SAVEPOINT stats_event")
        try:
            _apply(conn, dims, batch, e)
        except sqlite3.Error:
            raise
        except Exception:       # an event the projector cannot read is left out, the same way live and in a rebuild
            conn.execute("ROLLBACK TO stats_event")
            SKIPPED.append(e["seq"])
            log.exception("stats: event %s (%s) could not be applied; left out", e["seq"], e["type"])
        conn.execute("RELEASE stats_event")


# the events that change a stats table (the others — prompts, presence, SMS, devices … — are skipped in SQL)
WANTED = ("(type GLOB 'ticket.*' AND type != 'ticket.recalled') OR type GLOB 'case.*' OR type GLOB 'window.*'"
          " OR type GLOB 'complaint.*' OR type GLOB 'badrating.*'"
          " OR type IN ('evaluation.recorded', 'day.rolled_over', 'alert.raised')")


def read_log(conn: sqlite3.Connection, since: int, upto: int) -> list[dict]:
    """The wanted events with since < seq <= upto, in order."""
    rows = conn.execute("SELECT seq, type, at, actor, window, ticket_id, case_id, data FROM events"
                        f" WHERE seq > ? AND seq <= ? AND ({WANTED}) ORDER BY seq", (since, upto)).fetchall()
    return [{"seq": r[0], "type": r[1], "at": r[2], "actor": r[3], "window": r[4], "ticket_id": r[5],
             "case_id": r[6], "data": json.loads(r[7])} for r in rows]


def step(conn: sqlite3.Connection, dims: Dims, limit: int = PAGE) -> tuple[int, int]:
    """One batch: the events of the next `limit` seqs after the cursor applied, and the cursor moved, in the
    caller's transaction. Returns (seqs covered, new cursor): fewer than `limit` once the log's end is reached."""
    since = cursor(conn)
    upto = min(since + limit, conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
    if upto <= since:
        return 0, since
    apply_events(conn, dims, read_log(conn, since, upto))
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                 (CURSOR, str(upto)))
    return upto - since, upto


def clear(conn: sqlite3.Connection) -> None:
    for t in TABLES:
        conn.execute(f"DELETE FROM {t}")
    conn.execute("DELETE FROM meta WHERE key=?", (CURSOR,))


class Projector:
    def __init__(self, store: Store, bus: EventBus, dims: Dims, delay_s: float = 0.5):
        self.store, self.bus, self.dims, self.delay_s = store, bus, dims, delay_s
        self.cursor = cursor(store.read)
        self.batches = 0
        self.failures = 0
        self._task: asyncio.Task | None = None

    @property
    def lag(self) -> int:
        """Events committed but not yet in the stats."""
        return max(0, self.bus.latest_seq - self.cursor)

    def status(self) -> dict:
        return {"cursor": self.cursor, "lag_events": self.lag, "batches": self.batches, "failures": self.failures,
                "running": self._task is not None and not self._task.done()}

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="stats-projector")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None

    async def catch_up(self) -> int:
        """Apply every event committed so far (tests, and the reports' `fresh` read)."""
        total = 0
        while True:
            n, self.cursor = await self.store.write(lambda conn: Change(step(conn, self.dims)))
            self.batches += 1
            total += n
            if n < PAGE:
                return total

    def _step_change(self, conn: sqlite3.Connection) -> Change:
        return Change(step(conn, self.dims))

    async def _run(self) -> None:
        while True:
            try:
                with self.bus.subscribe() as sub:
                    while True:
                        if self.bus.latest_seq > self.cursor or self.batches == 0:
                            n, self.cursor = await self.store.write(self._step_change)
                            self.batches += 1
                            if n >= PAGE:
                                await asyncio.sleep(0.05)   # more in the log: the hot changes go first
                                continue
                        e = await sub.queue.get()
                        if e is None:
                            break                       # fell behind the bus: subscribe again
                        await asyncio.sleep(self.delay_s)   # gather a batch
                        if not _drain(sub.queue):
                            break
            except asyncio.CancelledError:
                raise
            except Exception:           # the store refused the batch: nothing was applied; try again shortly
                self.failures += 1
                log.exception("stats projector: a batch failed; retrying")
                await asyncio.sleep(2.0)


def _drain(q: asyncio.Queue) -> bool:
    """Empty the subscription's queue; False when it says the bus dropped it."""
    while not q.empty():
        if q.get_nowait() is None:
            return False
    return True


def rebuild(store: Store, dims: Dims, page: int = REBUILD_PAGE) -> tuple[int, float]:
    """Drop the aggregates and replay the whole log; returns (events replayed, seconds)."""
    t0 = time.monotonic()
    total = 0
    first = True
    while True:
        def run(conn, first=first) -> Change:
            if first:
                clear(conn)
            return Change(step(conn, dims, page))
        n, _ = store.write_sync(run)
        first = False
        total += n
        if n < page:
            return total, time.monotonic() - t0
