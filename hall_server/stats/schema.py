"""The statistics' own database, `stats.db` beside the hall's `hall.db`.

The stats tables are projections of the hall's event log, so they live apart from it: the projector commits to
this file on its own connection (in its own thread or process), never through the hall store's single writer, and
a batch of stats never delays an issue or a call. Each batch is one transaction here together with the cursor
(`meta` 'stats_seq': the last seq of the hall's log applied). Nothing here is the only copy of anything: when this
file is missing, damaged or of another version, its tables are made afresh and the projector replays the log.

Reports read this file with the hall's database attached read-only as `hall` (the seat monitor's `seat_time`).
"""
from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

VERSION = 1            # of the tables below; another version in the file → made afresh and replayed
CURSOR = "stats_seq"
TABLES = ("stats_ticket", "stats_tday", "stats_days", "stats_case", "stats_rating", "stats_complaint",
          "stats_wstate", "stats_wtime", "stats_sday")


def path_beside(hall_db: str | Path) -> Path:
    return Path(hall_db).with_name("stats.db")


def _create(db: sqlite3.Connection) -> None:
    # One fact row per ticket, case, evaluation and complaint (local day and hour of its start, its window, clerk,
    # matter, group, department, channel); per-day rollups of the ticket facts per (dimension, key) with a sparse
    # histogram of waits and handling, built when a day has rolled over; the windows' open and paused time; away
    # alerts; per-day sums of the case, rating and complaint facts (sums.py: n0..n13 in the order it names them).
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("""CREATE TABLE stats_ticket (
        ticket_id INTEGER PRIMARY KEY, day TEXT NOT NULL, hour INTEGER NOT NULL, wd INTEGER NOT NULL,
        window INTEGER, clerk TEXT, matter TEXT NOT NULL, grp TEXT, department TEXT, channel TEXT,
        status TEXT NOT NULL, transfers INTEGER NOT NULL DEFAULT 0, issued_at TEXT NOT NULL,
        first_call_at TEXT, last_call_at TEXT, serving_at TEXT, wait_s REAL, handle_s REAL, expected_s REAL)""")
    for col in ("day", "window", "clerk", "matter", "department"):
        db.execute(f"CREATE INDEX stats_ticket_{col} ON stats_ticket ({col}{', day' if col != 'day' else ''})")
    # the rollover finds the tickets still open (to expire them) without reading a year of facts
    db.execute("CREATE INDEX stats_ticket_open ON stats_ticket (day) WHERE status IN ('waiting','called','serving')")
    db.execute("""CREATE TABLE stats_tday (
        dim TEXT NOT NULL, day TEXT NOT NULL, key TEXT NOT NULL, issued INTEGER, served INTEGER, no_show INTEGER,
        transferred INTEGER, cancelled INTEGER, wait_n INTEGER, wait_sum REAL, wait_max REAL, handle_n INTEGER,
        handle_sum REAL, handle_max REAL, expected_n INTEGER, expected_sum REAL, wait_hist TEXT, handle_hist TEXT,
        PRIMARY KEY (dim, day, key)) WITHOUT ROWID""")
    db.execute("CREATE TABLE stats_days (day TEXT PRIMARY KEY, rolled INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID")
    db.execute("""CREATE TABLE stats_case (
        case_id INTEGER PRIMARY KEY, day TEXT NOT NULL, hour INTEGER NOT NULL, wd INTEGER NOT NULL, window INTEGER,
        clerk TEXT, matter TEXT NOT NULL, grp TEXT, department TEXT, channel TEXT, kind TEXT, status TEXT NOT NULL,
        accepted INTEGER NOT NULL DEFAULT 0, accept_day TEXT, refused INTEGER NOT NULL DEFAULT 0,
        supplemented INTEGER NOT NULL DEFAULT 0, decided INTEGER NOT NULL DEFAULT 0, decided_day TEXT,
        on_time INTEGER, red INTEGER NOT NULL DEFAULT 0, workdays INTEGER, via TEXT,
        delivered INTEGER NOT NULL DEFAULT 0)""")
    db.execute("""CREATE TABLE stats_rating (
        evaluation_id INTEGER PRIMARY KEY, day TEXT NOT NULL, hour INTEGER NOT NULL, wd INTEGER NOT NULL,
        window INTEGER, clerk TEXT, matter TEXT, grp TEXT, department TEXT, channel TEXT, level INTEGER NOT NULL,
        excluded INTEGER NOT NULL DEFAULT 0, badrating_id INTEGER, rectify_due TEXT, rectified_on_time INTEGER)""")
    db.execute("CREATE INDEX stats_rating_bad ON stats_rating (badrating_id) WHERE badrating_id IS NOT NULL")
    db.execute("""CREATE TABLE stats_complaint (
        complaint_id INTEGER PRIMARY KEY, day TEXT NOT NULL, hour INTEGER NOT NULL, wd INTEGER NOT NULL,
        window INTEGER, clerk TEXT, matter TEXT, grp TEXT, department TEXT, channel TEXT, class TEXT,
        answered INTEGER NOT NULL DEFAULT 0, on_time INTEGER)""")
    for t in ("case", "rating", "complaint"):
        db.execute(f"CREATE INDEX stats_{t}_day ON stats_{t} (day)")
    db.execute("""CREATE TABLE stats_wstate (
        window INTEGER PRIMARY KEY, state TEXT NOT NULL, since TEXT NOT NULL, clerk TEXT)""")
    db.execute("""CREATE TABLE stats_wtime (
        day TEXT NOT NULL, window INTEGER NOT NULL, clerk TEXT NOT NULL, open_s REAL NOT NULL DEFAULT 0,
        paused_s REAL NOT NULL DEFAULT 0, away_events INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, window, clerk)) WITHOUT ROWID""")
    cols = ", ".join(f"n{i} REAL NOT NULL DEFAULT 0" for i in range(14))
    db.execute(f"CREATE TABLE stats_sday (src TEXT NOT NULL, dim TEXT NOT NULL, day TEXT NOT NULL, key TEXT NOT NULL,"
               f" {cols}, PRIMARY KEY (src, dim, day, key)) WITHOUT ROWID")


def _pragmas(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA journal_mode = WAL")
    # A projection: a power cut may lose its last batches, never its consistency (cursor and tables commit
    # together), and the projector replays what was lost from the log. No fsync per batch.
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def open_stats(path: str | Path) -> sqlite3.Connection:
    """The stats database for writing (the projector, `stats rebuild`), made afresh if it is not of VERSION."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = _pragmas(sqlite3.connect(str(path), isolation_level=None, check_same_thread=False))
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:      # not a database (damaged): it is only a projection
        log.warning("stats: %s is unreadable (%s); made afresh, the log will be replayed", path, exc)
        _remove(path)
        conn = _pragmas(sqlite3.connect(str(path), isolation_level=None, check_same_thread=False))
        version = 0
    if version != VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
                conn.execute(f'DROP TABLE "{name}"')
            _create(conn)
            conn.execute(f"PRAGMA user_version = {VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if version:
            log.warning("stats: %s was of version %s, not %s; made afresh, the log will be replayed",
                        path, version, VERSION)
    return conn


def open_reports(path: str | Path, hall_db: str | Path) -> sqlite3.Connection:
    """A read connection on the stats with the hall's database attached as `hall` (query_only: it never writes)."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("ATTACH DATABASE ? AS hall", (str(hall_db),))
    conn.execute("PRAGMA query_only = ON")
    return conn


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)


def cursor(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (CURSOR,)).fetchone()
    return int(row[0]) if row else 0


def set_cursor(conn: sqlite3.Connection, seq: int) -> None:
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                 (CURSOR, str(seq)))


def clear(conn: sqlite3.Connection) -> None:
    for t in TABLES:
        conn.execute(f"DELETE FROM {t}")
    conn.execute("DELETE FROM meta WHERE key=?", (CURSOR,))
