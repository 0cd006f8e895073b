"""The district roll-up (issue 19): can the hall reach the district's PostgreSQL, and how far behind is it?

Only for a hall with `[rollup]` (psycopg is imported then). Read-only on both sides: the hall's SQLite and
PostgreSQL's `halls` row; the URL's password never appears in the report.
"""
from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from . import OK, WARN, Check

LAG_WARN_S = 60.0


def rollup(cfg, data_dir: Path) -> Check:
    from ..rollup.config import redact_url
    policy = cfg.rollup
    check = Check("district roll-up", "rollup", url=redact_url(policy.url))
    start = time.monotonic()
    local = _local(data_dir / "hall.db")
    check.data["hall_latest_seq"] = local
    try:
        import psycopg
        with psycopg.connect(policy.url, connect_timeout=5) as conn:
            row = conn.execute("SELECT last_seq, last_contact FROM halls WHERE code = %s",
                               (cfg.hall.code,)).fetchone()
    except Exception as exc:            # psycopg.Error, a missing table, a bad URL: all mean "not shipping"
        msg = " ".join(str(exc).split())
        try:
            from psycopg.conninfo import conninfo_to_dict
            password = conninfo_to_dict(policy.url).get("password")
            if password:
                msg = msg.replace(password, "***")
        except Exception:
            pass
        check.worse(WARN, f"cannot reach the district database: {redact_url(msg)}")
        check.advice = ("检查 [rollup] url 的主机、端口、用户名和密码，以及到区中心的网络 / check [rollup] url's host, "
                        "port, user and password and the network to the district centre; the hall keeps working "
                        "and its events wait until the database answers")
        check.seconds = time.monotonic() - start
        return check
    shipped = row[0] if row else 0
    check.data.update(shipped_seq=shipped, lag_events=max(0, local - shipped),
                      last_contact=row[1].isoformat(timespec="seconds") if row and row[1] else None)
    lag_s = 0.0
    if local > shipped:
        at = _at(data_dir / "hall.db", shipped)
        if at is not None:
            lag_s = max(0.0, (datetime.now(UTC) - at).total_seconds())
    check.data["lag_s"] = round(lag_s, 1)
    if row is None:
        check.worse(WARN, "the district database has not heard from this hall yet (no `halls` row): is the server "
                          "running with this [rollup]?")
    elif lag_s > LAG_WARN_S:
        check.worse(WARN, f"{local - shipped} events not shipped yet, the oldest {lag_s:.0f} s old")
    if local < shipped:
        check.worse(WARN, f"the district has events up to seq {shipped}, this hall's log ends at {local}: "
                          "was the hall's database restored from an older copy?")
    if check.state == OK:
        check.detail = (f"shipping: {shipped} of {local} events in the district database"
                        + (f", {local - shipped} on their way" if local > shipped else ", caught up"))
    elif not check.advice:
        check.advice = "see the server log's 'rollup:' line and /api/v1/health's rollup part"
    check.seconds = time.monotonic() - start
    return check


def _local(path: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _at(path: Path, after: int) -> datetime | None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT at FROM events WHERE seq > ? ORDER BY seq LIMIT 1", (after,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return datetime.fromisoformat(row[0]) if row else None
