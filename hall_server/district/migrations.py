"""The PROJECTION schema in the district's PostgreSQL: every projection's tables (projections/) and d_cursor.

`ensure_projection_schema(conn)` brings the INGEST schema up first (rollup/pgschema.py), then the projections'. Their
version in district_meta 'projection_version' is a digest of every projection's DDL: when a projection's tables
change, the old ones are dropped, made afresh and the cursors start again at 0, so the projector replays the log into
the new shape (a projection is a fold of the log: nothing is lost). All of it in one transaction under an advisory
lock, so that two district services (or `district rebuild` beside `district serve`) starting together do not race.
"""
from __future__ import annotations

import hashlib
import logging

from ..rollup.pgschema import ensure_ingest_schema
from .projections import PROJECTIONS, tables_of

log = logging.getLogger(__name__)

VERSION_KEY = "projection_version"
_LOCK_KEY = 1_900_020            # beside pgschema's 1_900_019

CURSOR_DDL = ["CREATE TABLE IF NOT EXISTS d_cursor (hall text PRIMARY KEY, seq bigint NOT NULL DEFAULT 0,"
              " applied_at timestamptz)"]


def statements() -> list[str]:
    return [*CURSOR_DDL, *(stmt for m in PROJECTIONS for stmt in m.DDL)]


def projection_tables() -> list[str]:
    return ["d_cursor", *(t for m in PROJECTIONS for t in tables_of(m))]


def version() -> str:
    return hashlib.sha256("\n".join(" ".join(s.split()) for s in statements()).encode()).hexdigest()[:16]


def ensure_projection_schema(conn) -> str:
    """Make the projection tables as this code defines them; returns the version. Commits its own transaction."""
    ensure_ingest_schema(conn)
    want = version()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        cur.execute("SELECT value FROM district_meta WHERE key = %s", (VERSION_KEY,))
        row = cur.fetchone()
        if row is not None and row[0] == want:
            return want
        if row is not None:
            log.info("district: the projections changed (version %s → %s); their tables are made afresh and the "
                     "shipped events replayed into them", row[0], want)
            for table in projection_tables():
                cur.execute(f"DROP TABLE IF EXISTS {table}")
        for stmt in statements():
            cur.execute(stmt)
        cur.execute("INSERT INTO district_meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE"
                    " SET value = EXCLUDED.value", (VERSION_KEY, want))
    return want
