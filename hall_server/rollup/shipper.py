"""The shipper: the hall's event log, in batches, into the district's PostgreSQL (INGEST schema, pgschema.py).

One thread of its own does all the work — its own read-only SQLite connection (never the store's writer) and
its own PostgreSQL connection — so neither a slow network nor a dead database ever blocks the event loop or a
change. The hall's bus only wakes it (a new commit); a timer wakes it too (and keeps `halls.last_contact`
fresh while nothing happens).

At least once, idempotent by (hall, seq), no gap: on every (re)connection the shipper says hello (upserts its
`halls` row) and reads back PostgreSQL's `halls.last_seq` for itself, then ships every event after it, in seq
order; each batch is ONE PostgreSQL transaction — COPY into a temporary table, INSERT … ON CONFLICT (hall, seq)
DO NOTHING, the `halls` update and `pg_notify('district_events', '<hall>:<last_seq>')` — so PostgreSQL's
last_seq and its events never disagree, whichever side dies when.

Failures (a wrong URL or password, PostgreSQL down, the network gone) cost ONE log line per outage, password
redacted, then retries with a doubling back-off; health shows the current error and the lag as a warning.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb

from ..config import HallConfig
from ..store.database import connect as sqlite_connect
from ..store.events import EventBus
from .config import RollupPolicy, redact_url
from .pgschema import ensure_ingest_schema

log = logging.getLogger(__name__)

_TEMP = ("CREATE TEMP TABLE IF NOT EXISTS ship_in (seq bigint, type text, at timestamptz, actor text, "
         "window_no integer, ticket_id bigint, case_id bigint, data jsonb) ON COMMIT DELETE ROWS")
_COLS = "seq, type, at, actor, window_no, ticket_id, case_id, data"


def hall_info(cfg: HallConfig) -> dict[str, Any]:
    """The hall's `halls` row as it says hello: code, name, level and the `info` of the contract."""
    h = cfg.hall
    departments = sorted({d for m in cfg.matters for d in m.deciders})
    return {"code": h.code, "name": h.name, "level": h.level,
            "info": {"name_en": h.name_en, "windows": [{"number": w.number, "name": w.name} for w in cfg.windows],
                     "departments": departments, "timezone": h.timezone, "public_url": h.public_url,
                     "matters": [{"code": m.code, "name": m.name, "kind": m.kind} for m in cfg.matters]}}


class Shipper:
    def __init__(self, policy: RollupPolicy, hall: dict[str, Any], db_path: str | Path, bus: EventBus,
                 now: Callable[[], datetime]):
        self.policy = policy
        self.hall = hall
        self.code = hall["code"]
        self.db_path = Path(db_path)
        self.bus = bus
        self.now = now
        self.url_shown = redact_url(policy.url)
        try:
            self._password = conninfo_to_dict(policy.url).get("password") or ""
        except psycopg.Error:
            self._password = ""
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._watch_task: asyncio.Task | None = None
        self._pg: psycopg.Connection | None = None
        self._sqlite = None
        # what status() reads (plain values written by the shipper's thread)
        self.acked_seq: int | None = None        # PostgreSQL's halls.last_seq for this hall, as last read
        self.connected = False
        self.error: str | None = None
        self.error_since: float | None = None
        self.retry_at: float | None = None
        self.batches = 0
        self.events_shipped = 0
        self.last_shipped_at: float | None = None   # time.time() of the last committed batch
        self._outage_logged = False
        self._last_contact = 0.0

    # -- life (called by the Hall on its event loop) --------------------------------------------------
    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"rollup-{self.code}", daemon=True)
        self._thread.start()
        try:
            self._watch_task = asyncio.get_running_loop().create_task(self._watch())
        except RuntimeError:                     # no loop (a script): the timer alone wakes the thread
            self._watch_task = None

    async def stop(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            try:
                await self._watch_task
            except asyncio.CancelledError:
                pass
            self._watch_task = None
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, self.policy.connect_timeout_s + 5)
            self._thread = None

    def stop_sync(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self.policy.connect_timeout_s + 5)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    async def _watch(self) -> None:
        """New commits on the bus wake the thread; what they were does not matter (the log is read)."""
        while True:
            with self.bus.subscribe() as sub:
                while True:
                    e = await sub.queue.get()
                    self._wake.set()
                    overflowed = e is None
                    while not sub.queue.empty():
                        overflowed = sub.queue.get_nowait() is None or overflowed
                    if overflowed:
                        break

    # -- the thread -----------------------------------------------------------------------------------
    def _run(self) -> None:
        p = self.policy
        delay = p.retry_min_s
        try:
            self._sqlite = sqlite_connect(self.db_path, readonly=True)
            while not self._stopping.is_set():
                try:
                    if self._pg is None:
                        self._connect()
                    self._wake.clear()
                    shipped = self._ship_batch()
                    if self._outage_logged:
                        log.info("rollup: shipping to %s again; PostgreSQL has this hall's events up to seq %s",
                                 self.url_shown, self.acked_seq)
                        self._outage_logged = False
                    self.error = self.error_since = self.retry_at = None
                    delay = p.retry_min_s
                    if shipped >= p.batch_size:
                        continue
                    if not self._wake.wait(p.interval_s) and not self._stopping.is_set():
                        self._heartbeat()
                except (psycopg.Error, OSError) as exc:
                    self._failed(exc, delay)
                    self._stopping.wait(delay)
                    delay = min(delay * 2, p.retry_max_s)
        except Exception:                        # a bug: said once, loudly; the hall itself carries on
            log.exception("rollup: the shipper stopped on an unexpected error")
            self.error = "the shipper stopped on an unexpected error (see the server log)"
        finally:
            self._drop()
            if self._sqlite is not None:
                self._sqlite.close()
                self._sqlite = None

    def _failed(self, exc: BaseException, delay: float) -> None:
        self._drop()
        msg = self._describe(exc)
        if self.error_since is None:
            self.error_since = time.monotonic()
        self.error = msg
        self.retry_at = time.monotonic() + delay
        if not self._outage_logged:             # one line per outage, not one per retry
            log.warning("rollup: cannot ship events to %s: %s — the hall carries on; retrying with back-off "
                        "(%g s up to %g s), the lag is on /api/v1/health", self.url_shown, msg,
                        self.policy.retry_min_s, self.policy.retry_max_s)
            self._outage_logged = True

    def _describe(self, exc: BaseException) -> str:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        if self._password:
            msg = msg.replace(self._password, "***")
        return redact_url(msg)

    def _drop(self) -> None:
        self.connected = False
        pg, self._pg = self._pg, None
        if pg is not None:
            try:
                pg.close()
            except Exception:                    # closing a broken connection: nothing to save
                pass

    def _connect(self) -> None:
        p = self.policy
        conn = psycopg.connect(p.url, autocommit=True, connect_timeout=max(1, round(p.connect_timeout_s)),
                               application_name=f"onewindow {self.code}"[:63], keepalives=1, keepalives_idle=10,
                               keepalives_interval=3, keepalives_count=3)
        try:
            ensure_ingest_schema(conn)
            latest = self._latest_local()
            with conn.transaction():
                row = conn.execute(
                    "INSERT INTO halls (code, name, level, info, hall_latest_seq, last_contact) "
                    "VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, "
                    "level = EXCLUDED.level, info = EXCLUDED.info, hall_latest_seq = EXCLUDED.hall_latest_seq, "
                    "last_contact = now() RETURNING last_seq",
                    (self.code, self.hall["name"], self.hall["level"], Jsonb(self.hall["info"]), latest)).fetchone()
            conn.execute(_TEMP)
        except BaseException:
            conn.close()
            raise
        self._pg = conn
        self.connected = True
        self._last_contact = time.monotonic()
        self.acked_seq = int(row[0])
        if self.acked_seq > latest:
            log.warning("rollup: PostgreSQL holds events of %s up to seq %s, but this hall's log ends at %s "
                        "(a database restored from an older copy?); events up to %s are not shipped again",
                        self.code, self.acked_seq, latest, self.acked_seq)

    def _latest_local(self) -> int:
        return self._sqlite.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    def _ship_batch(self) -> int:
        """Ship the next batch after acked_seq; returns how many events it held."""
        rows = self._sqlite.execute(
            "SELECT seq, type, at, actor, window, ticket_id, case_id, data FROM events WHERE seq > ? "
            "ORDER BY seq LIMIT ?", (self.acked_seq, self.policy.batch_size)).fetchall()
        if not rows:
            return 0
        latest = max(self._latest_local(), rows[-1][0])
        conn = self._pg
        with conn.transaction(), conn.cursor() as cur:
            with cur.copy(f"COPY ship_in ({_COLS}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(tuple(r))
            cur.execute(f"INSERT INTO events (hall, {_COLS}) SELECT %s, {_COLS} FROM ship_in "
                        "ON CONFLICT (hall, seq) DO NOTHING", (self.code,))
            cur.execute("UPDATE halls SET last_seq = GREATEST(last_seq, %s), hall_latest_seq = %s, "
                        "last_event_at = CASE WHEN %s >= last_seq THEN %s::timestamptz ELSE last_event_at END, "
                        "last_contact = now() WHERE code = %s RETURNING last_seq",
                        (rows[-1][0], latest, rows[-1][0], rows[-1][2], self.code))
            acked = int(cur.fetchone()[0])
            cur.execute("SELECT pg_notify('district_events', %s)", (f"{self.code}:{acked}",))
        self.acked_seq = acked
        self.batches += 1
        self.events_shipped += len(rows)
        self.last_shipped_at = time.time()
        self._last_contact = time.monotonic()
        return len(rows)

    def _heartbeat(self) -> None:
        """Nothing to ship for a while: tell the district the hall is there (halls.last_contact)."""
        if self._pg is None or time.monotonic() - self._last_contact < self.policy.interval_s:
            return
        self._pg.execute("UPDATE halls SET last_contact = now(), hall_latest_seq = %s WHERE code = %s",
                         (self._latest_local(), self.code))
        self._last_contact = time.monotonic()

    # -- what health, the dashboard and diagnose show -------------------------------------------------
    def status(self, read) -> dict[str, Any]:
        """The shipping lag. `read`: a SQLite connection of the caller's thread (the oldest unshipped event)."""
        latest = self.bus.latest_seq
        acked = self.acked_seq
        lag_events = None if acked is None else max(0, latest - acked)
        lag_s = None
        if acked is not None and lag_events:
            row = read.execute("SELECT at FROM events WHERE seq > ? ORDER BY seq LIMIT 1", (acked,)).fetchone()
            if row is not None:
                lag_s = round(max(0.0, (self.now() - datetime.fromisoformat(row[0])).total_seconds()), 1)
        elif acked is not None:
            lag_s = 0.0
        out: dict[str, Any] = {
            "url": self.url_shown, "connected": self.connected, "ok": self.error is None and acked is not None,
            "shipped_seq": acked, "latest_seq": latest, "lag_events": lag_events, "lag_s": lag_s,
            "batches": self.batches, "events_shipped": self.events_shipped,
            "last_shipped_at": (datetime.fromtimestamp(self.last_shipped_at).astimezone().isoformat(
                timespec="seconds") if self.last_shipped_at else None),
            "error": self.error, "warning": None,
        }
        if self.error is not None:
            retry = max(0.0, (self.retry_at or 0) - time.monotonic())
            out["warning"] = (f"无法连接区级数据库，事件暂存本地，稍后自动重试 / cannot ship to the district database "
                              f"({self.error}); events wait in the hall, retrying in {retry:.0f} s")
            out["failing_s"] = round(time.monotonic() - (self.error_since or time.monotonic()), 1)
        elif acked is None:
            out["warning"] = "正在连接区级数据库 / connecting to the district database"
        return out
