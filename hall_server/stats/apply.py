"""Applying the hall's event log to the stats tables: what the projector does with each batch, wherever it runs
(its thread in the server, its own process, or `stats rebuild`). Plain functions over two connections — the
stats database (schema.py) in the caller's transaction, and a read connection on the hall's database for the log.

A crash inside a batch rolls the whole batch back, cursor and all; the next run goes on from the cursor. A replay
empties every stats table and applies the log from seq 0 with the same functions, so it ends where the live
projector is.
"""
from __future__ import annotations

import json
import logging
import sqlite3
from functools import partial

from . import facts, sums
from .facts import Dims
from .rollup import roll_day, unroll_day
from .schema import clear, cursor, set_cursor

log = logging.getLogger(__name__)
PAGE = 1000         # events per live batch
REBUILD_PAGE = 20000
SKIPPED: list[int] = []         # seqs of events left out since start (a bug: the tests assert there are none)


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
        facts.rolled_over(conn, e, dirty, dims)
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


def step(conn: sqlite3.Connection, log_conn: sqlite3.Connection, dims: Dims, limit: int = PAGE) -> tuple[int, int]:
    """One batch: the events of the next `limit` seqs of the hall's log (read on `log_conn`) after the cursor
    applied to the stats (on `conn`), and the cursor moved, in the caller's transaction on `conn`. Returns (seqs
    covered, new cursor): fewer than `limit` once the log's end is reached."""
    since = cursor(conn)
    upto = min(since + limit, log_conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
    if upto <= since:
        return 0, since
    apply_events(conn, dims, read_log(log_conn, since, upto))
    set_cursor(conn, upto)
    return upto - since, upto


def run_step(conn: sqlite3.Connection, log_conn: sqlite3.Connection, dims: Dims, limit: int = PAGE) -> tuple[int, int]:
    """`step` in a transaction of its own on the stats database."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        out = step(conn, log_conn, dims, limit)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return out


def replay(conn: sqlite3.Connection, log_conn: sqlite3.Connection, dims: Dims, page: int = REBUILD_PAGE) -> int:
    """Drop the aggregates and apply the whole log again (`stats rebuild`); returns the seqs replayed. The
    emptying and the first batch are one transaction, so a crash leaves either the old stats or the new start."""
    total, first = 0, True
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if first:
                clear(conn)
            n, _ = step(conn, log_conn, dims, page)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        first, total = False, total + n
        if n < page:
            return total
