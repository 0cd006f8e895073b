"""The projector: follows the shipped `events` of every hall from its cursor (d_cursor) and applies every registered
projection (projections/PROJECTIONS) to each batch, moving the cursor in the SAME PostgreSQL transaction — so each
event is applied exactly once, whoever dies when. Two projectors (a second service, `district rebuild`) never apply
one batch twice: the hall's d_cursor row is locked for the batch.

Woken by LISTEN on the channel the halls' shippers NOTIFY (`district_events`, payload '<hall>:<last_seq>') and by a
timer; after each batch it NOTIFYs `district_changed` ({"hall", "seq"}), which the service's WebSocket pushes to the
board. The timer also notices a hall going on- or offline (halls.last_contact) and a command being settled, and says
so on the same channel ({"what": "online"|"commands"}).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import psycopg

from .migrations import ensure_projection_schema, projection_tables
from .outage import Outage, describe
from .projections import PROJECTIONS

log = logging.getLogger(__name__)

EVENTS_CHANNEL = "district_events"          # what rollup/shipper.py NOTIFYs after each batch
CHANGED_CHANNEL = "district_changed"        # what this NOTIFYs after applying one
BATCH = 1000
REBUILD_BATCH = 5000


def read_batch(cur, hall: str, since: int, limit: int) -> list[dict[str, Any]]:
    cur.execute("SELECT seq, type, at, actor, window_no, ticket_id, case_id, data FROM events"
                " WHERE hall = %s AND seq > %s ORDER BY seq LIMIT %s", (hall, since, limit))
    return [{"seq": r[0], "type": r[1], "at": r[2].isoformat(), "actor": r[3], "window": r[4], "ticket_id": r[5],
             "case_id": r[6], "data": r[7] if isinstance(r[7], dict) else json.loads(r[7])} for r in cur.fetchall()]


def step(conn: psycopg.Connection, hall: str, limit: int = BATCH) -> int:
    """One batch of `hall`'s events after its cursor, applied and the cursor moved, in one transaction.
    Returns how many events it applied (fewer than `limit`: the hall is caught up)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("INSERT INTO d_cursor (hall) VALUES (%s) ON CONFLICT (hall) DO NOTHING", (hall,))
        cur.execute("SELECT seq FROM d_cursor WHERE hall = %s FOR UPDATE", (hall,))
        since = cur.fetchone()[0]
        events = read_batch(cur, hall, since, limit)
        if not events:
            return 0
        for module in PROJECTIONS:
            module.apply(cur, hall, events)
        last = events[-1]["seq"]
        cur.execute("UPDATE d_cursor SET seq = %s, applied_at = now() WHERE hall = %s", (last, hall))
        cur.execute("SELECT pg_notify(%s, %s)", (CHANGED_CHANNEL, json.dumps({"hall": hall, "seq": last})))
    return len(events)


def behind(conn: psycopg.Connection) -> list[str]:
    """The halls whose shipped events go beyond their cursor."""
    rows = conn.execute("SELECT h.code FROM halls h LEFT JOIN d_cursor c ON c.hall = h.code"
                        " WHERE h.last_seq > COALESCE(c.seq, 0) ORDER BY h.code").fetchall()
    return [r[0] for r in rows]


def catch_up(conn: psycopg.Connection, limit: int = BATCH) -> int:
    """Apply every hall's events up to what PostgreSQL holds now; returns how many were applied."""
    total = 0
    for hall in behind(conn):
        while True:
            n = step(conn, hall, limit)
            total += n
            if n < limit:
                break
    return total


def rebuild(conn: psycopg.Connection, limit: int = REBUILD_BATCH) -> int:
    """Empty every projection's tables and the cursors (one transaction), then replay every hall's log."""
    ensure_projection_schema(conn)
    with conn.transaction():
        conn.execute("TRUNCATE " + ", ".join(projection_tables()))
    return catch_up(conn, limit)


class _HallsFailed(Exception):
    pass


class Projector:
    """The projector's thread in the district service (see the module's docstring)."""

    def __init__(self, url: str, *, interval_s: float = 2.0, offline_after_s: float = 30.0, batch: int = BATCH,
                 outage: Outage | None = None):
        self.url = url
        self.outage = outage or Outage("the district database")
        self.interval_s = interval_s
        self.offline_after_s = offline_after_s
        self.batch = batch
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection | None = None
        self._listen: psycopg.Connection | None = None
        self._online: frozenset[str] | None = None
        self._commands: tuple | None = None
        self._failed: dict[str, str] = {}
        self.error: str | None = None
        self.failures = 0                        # attempts failed in a row (logged once: the first)
        self.batches_at = 0.0
        self.events_applied = 0
        self.version: str | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="district-projector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()                     # seen within interval_s: the wait for a NOTIFY times out
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def status(self) -> dict[str, Any]:
        return {"running": self._thread is not None and self._thread.is_alive(), "ok": self.error is None,
                "error": self.error, "failures": self.failures,
                "events_applied": self.events_applied, "projection_version": self.version}

    # -- the thread -------------------------------------------------------------------------------------------
    def _run(self) -> None:
        delay, logged = 0.5, False
        while not self._stopping.is_set():
            try:
                if self._conn is None:
                    self._connect()
                self._watch()
                self._follow()
                if logged:
                    self.outage.up("the projector")
                self.error, self.failures, delay, logged = None, 0, 0.5, False
                if not self._stopping.is_set():
                    for _ in self._listen.notifies(timeout=self.interval_s, stop_after=1):
                        pass
            except _HallsFailed as exc:          # logged per hall by _follow; the connection is fine
                self.error = str(exc)
                self._stopping.wait(self.interval_s)
            except psycopg.OperationalError as exc:      # PostgreSQL away, a wrong URL or password
                self.error = describe(exc)
                self.failures += 1
                if not logged:
                    self.outage.down("projector", exc)
                    logged = True
                self._drop()
                self._stopping.wait(delay)
                delay = min(delay * 2, 30.0)
            except Exception as exc:             # a bug of the projector's own: said once, with its traceback
                self.error = describe(exc)
                self.failures += 1
                if not logged:
                    log.exception("district: the projector cannot apply the shipped events: %s — retrying with "
                                  "back-off", self.error)
                    logged = True
                self._drop()
                self._stopping.wait(delay)
                delay = min(delay * 2, 30.0)
        self._drop()

    def _follow(self) -> None:
        """catch_up, hall by hall: a hall whose batch fails (a projection's bug on one of its events) is logged
        once and retried at the next wake, and the other halls go on."""
        failed = {}
        for hall in behind(self._conn):
            try:
                while True:
                    n = step(self._conn, hall, self.batch)
                    self.events_applied += n
                    if n < self.batch:
                        break
            except psycopg.OperationalError:
                raise
            except Exception as exc:
                failed[hall] = f"{type(exc).__name__}: {exc}"
                if hall not in self._failed:
                    log.exception("district: the events of %s after its cursor could not be applied; retried at "
                                  "every wake, the other halls go on", hall)
        self._failed = failed
        if failed:
            raise _HallsFailed("; ".join(f"{h}: {m}" for h, m in failed.items()))

    def _connect(self) -> None:
        conn = psycopg.connect(self.url, autocommit=True, application_name="onewindow district projector")
        try:
            self.version = ensure_projection_schema(conn)
            listen = psycopg.connect(self.url, autocommit=True, application_name="onewindow district listen")
        except BaseException:
            conn.close()
            raise
        listen.execute(f"LISTEN {EVENTS_CHANNEL}")
        self._conn, self._listen = conn, listen

    def _drop(self) -> None:
        for c in (self._conn, self._listen):
            if c is not None:
                try:
                    c.close()
                except Exception:                # a broken connection: nothing to save
                    pass
        self._conn = self._listen = None

    def _watch(self) -> None:
        """Say on CHANGED_CHANNEL when a hall went on- or offline or a command was settled (nothing was shipped)."""
        conn = self._conn
        online = frozenset(r[0] for r in conn.execute(
            "SELECT code FROM halls WHERE last_contact > now() - make_interval(secs => %s)",
            (self.offline_after_s,)).fetchall())
        commands = tuple(conn.execute(
            "SELECT count(*) FILTER (WHERE state = 'pending'), count(*), max(settled_at) FROM commands").fetchone())
        for what, old, new in (("online", self._online, online), ("commands", self._commands, commands)):
            if old is not None and old != new:
                conn.execute("SELECT pg_notify(%s, %s)", (CHANGED_CHANNEL, json.dumps({"what": what})))
        self._online, self._commands = online, commands
        self.batches_at = time.time()
