"""The INGEST schema in the district's PostgreSQL: what halls write and every district reader reads.

`ensure_ingest_schema(conn)` is idempotent and versioned in `district_meta` under key 'ingest_version'.
Each version's statements run once, in one transaction, under an advisory lock so that halls and the district
service starting at the same time do not race each other.
"""
from __future__ import annotations

INGEST_VERSION_KEY = "ingest_version"
# Any number will do as long as it is ours: pg_advisory_xact_lock(key) serialises concurrent migrations.
_LOCK_KEY = 1_900_019

_V1 = [
    """CREATE TABLE IF NOT EXISTS halls (code text PRIMARY KEY, name text NOT NULL, level text NOT NULL
        CHECK (level IN ('district','street','community')), info jsonb NOT NULL DEFAULT '{}'::jsonb,
        last_seq bigint NOT NULL DEFAULT 0,
        hall_latest_seq bigint NOT NULL DEFAULT 0,
        last_event_at timestamptz, last_contact timestamptz)""",
    """CREATE TABLE IF NOT EXISTS events (hall text NOT NULL REFERENCES halls(code), seq bigint NOT NULL,
        type text NOT NULL, at timestamptz NOT NULL, actor text, window_no integer, ticket_id bigint,
        case_id bigint, data jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (hall, seq))""",
    "CREATE INDEX IF NOT EXISTS events_type_at ON events (type, at)",
    """CREATE TABLE IF NOT EXISTS commands (id uuid PRIMARY KEY, hall text NOT NULL REFERENCES halls(code),
        case_id bigint NOT NULL, case_number text NOT NULL, action text NOT NULL,
        body jsonb NOT NULL DEFAULT '{}'::jsonb, actor text NOT NULL, actor_role text NOT NULL,
        actor_departments text[] NOT NULL DEFAULT '{}', issued_by_hall text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','applied','rejected')),
        result jsonb, applied_seq bigint, settled_at timestamptz)""",
    "CREATE INDEX IF NOT EXISTS commands_pending ON commands (hall, created_at) WHERE state = 'pending'",
]

# Append new versions at the end; never edit a released one.
MIGRATIONS: list[list[str]] = [_V1]
INGEST_VERSION = len(MIGRATIONS)


def ensure_ingest_schema(conn) -> int:
    """Bring the INGEST schema to INGEST_VERSION on a psycopg 3 connection; returns the version.

    Commits its own transaction (the connection may be in autocommit or not; it is left as it was).
    """
    with conn.transaction():
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            cur.execute("CREATE TABLE IF NOT EXISTS district_meta (key text PRIMARY KEY, value text NOT NULL)")
            cur.execute("SELECT value FROM district_meta WHERE key = %s", (INGEST_VERSION_KEY,))
            row = cur.fetchone()
            current = int(row[0]) if row else 0
            for version in range(current + 1, INGEST_VERSION + 1):
                for stmt in MIGRATIONS[version - 1]:
                    cur.execute(stmt)
            if current < INGEST_VERSION:
                cur.execute(
                    "INSERT INTO district_meta (key, value) VALUES (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    (INGEST_VERSION_KEY, str(INGEST_VERSION)),
                )
    return max(current, INGEST_VERSION)
