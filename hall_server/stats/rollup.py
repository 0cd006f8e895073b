"""Ticket figures in parts that add up: per key counts, sums, the longest time and the sparse histograms of waits
and handling times (figures.BUCKET_S buckets). A part comes either from the per-ticket facts (any filter, any day)
or from the per-day rollups (`stats_tday`, one row per day, dimension and key, written when a day is rolled).

A day is rolled when the hall rolls over past it (day.rolled_over), from the same fact query a report would run;
a later event that touches a ticket of a rolled day unrolls it (its rollup rows deleted), so the day is read from
its facts again until the next rollover rolls it anew: a rollup row always equals its facts.
"""
from __future__ import annotations

import json
import sqlite3

from .figures import BUCKET_S

# dimension → SQL of its key over stats_ticket (and the other fact tables, which share the column names)
KEY_SQL = {
    "all": "''", "window": "CAST(window AS TEXT)", "clerk": "clerk", "matter": "matter", "group": "grp",
    "department": "department", "channel": "channel", "hour": "CAST(hour AS TEXT)",
    "wh": "(wd || ':' || printf('%02d', hour))", "day": "day",
}
ROLLED_DIMS = ("all", "window", "clerk", "matter", "group", "department", "channel", "hour", "wh")
COUNTS = ("issued", "served", "no_show", "transferred", "cancelled", "wait_n", "wait_sum", "handle_n", "handle_sum",
          "expected_n", "expected_sum")
MAXES = ("wait_max", "handle_max")
NONE_KEY = "-"
MONTH = "m:"            # the dimension prefix of the month rows

_AGG = (
    "COUNT(*), SUM(status='done'), SUM(status='no_show'), SUM(transfers>0), SUM(status='cancelled'),"
    " COUNT(wait_s), TOTAL(wait_s), COUNT(CASE WHEN status='done' THEN handle_s END),"
    " TOTAL(CASE WHEN status='done' THEN handle_s END),"
    " COUNT(CASE WHEN status='done' THEN expected_s END), TOTAL(CASE WHEN status='done' THEN expected_s END),"
    " MAX(wait_s), MAX(CASE WHEN status='done' THEN handle_s END)")


def empty_part() -> dict:
    p: dict = dict.fromkeys(COUNTS, 0)
    p.update(wait_max=None, handle_max=None, wait_hist={}, handle_hist={})
    return p


def _max(a, b):
    return b if a is None else a if b is None else max(a, b)


def add(parts: dict[str, dict], key: str, other: dict) -> None:
    p = parts.get(key)
    if p is None:
        p = parts[key] = empty_part()
    for k in COUNTS:
        p[k] += other[k] or 0
    for k in MAXES:
        p[k] = _max(p[k], other[k])
    for h in ("wait_hist", "handle_hist"):
        mine = p[h]
        for b, n in other[h].items():
            mine[b] = mine.get(b, 0) + n


def from_facts(conn: sqlite3.Connection, dim: str, where: str, args: list) -> dict[str, dict]:
    """Parts per key of `dim` over the ticket facts matching `where` (an SQL condition on stats_ticket)."""
    key = KEY_SQL[dim]
    parts: dict[str, dict] = {}
    for r in conn.execute(f"SELECT {key}, {_AGG} FROM stats_ticket WHERE {where} GROUP BY 1", args):
        p = empty_part()
        for i, k in enumerate(COUNTS):
            p[k] = r[1 + i] or 0
        p["wait_max"], p["handle_max"] = r[12], r[13]
        parts[NONE_KEY if r[0] is None else r[0]] = p
    for col, h, cond in (("wait_s", "wait_hist", "wait_s IS NOT NULL"),
                         ("handle_s", "handle_hist", "status='done' AND handle_s IS NOT NULL")):
        for k, b, n in conn.execute(f"SELECT {key}, CAST({col} / {BUCKET_S} AS INTEGER), COUNT(*) FROM stats_ticket"
                                    f" WHERE ({where}) AND {cond} GROUP BY 1, 2", args):
            parts[NONE_KEY if k is None else k][h][b] = n
    return parts


def from_rollups(conn: sqlite3.Connection, dim: str, days: tuple[str, str], keyed_by_day: bool = False
                 ) -> dict[str, dict]:
    """Parts per key of `dim` from the rollups of the days `(first, last)` (rolled days only are there); summed and
    their histograms merged in SQL (json_each), so a year's report reads its ~10,000 rollup rows in C."""
    key = "t.day" if keyed_by_day else "t.key"
    where = "t.dim=? AND t.day BETWEEN ? AND ?"
    args = (dim, days[0], days[1])
    parts: dict[str, dict] = {}
    sums = ", ".join(f"TOTAL({k})" for k in COUNTS)
    for r in conn.execute(f"SELECT {key}, {sums}, MAX(wait_max), MAX(handle_max) FROM stats_tday AS t WHERE {where}"
                          f" GROUP BY 1", args):
        p = empty_part()
        for i, k in enumerate(COUNTS):
            v = r[1 + i]
            p[k] = int(v) if k.endswith("_n") or k in COUNTS[:5] else v
        p["wait_max"], p["handle_max"] = r[1 + len(COUNTS)], r[2 + len(COUNTS)]
        parts[r[0]] = p
    for col in ("wait_hist", "handle_hist"):
        for k, b, n in conn.execute(f"SELECT {key}, CAST(j.key AS INTEGER), SUM(j.value) FROM stats_tday AS t,"
                                    f" json_each(t.{col}) AS j WHERE {where} GROUP BY 1, 2", args):
            parts[k][col][b] = n
    return parts


def _write(conn: sqlite3.Connection, dim: str, day: str, parts: dict[str, dict]) -> None:
    rows = [(dim, day, key, *(p[k] for k in COUNTS), p["wait_max"], p["handle_max"],
             json.dumps(p["wait_hist"], separators=(",", ":")), json.dumps(p["handle_hist"], separators=(",", ":")))
            for key, p in parts.items()]
    conn.executemany(
        f"INSERT INTO stats_tday (dim, day, key, {', '.join(COUNTS)}, wait_max, handle_max, wait_hist,"
        f" handle_hist) VALUES ({','.join('?' * (5 + len(COUNTS) + 2))})", rows)


def roll_day(conn: sqlite3.Connection, day: str) -> None:
    _delete(conn, day)
    for dim in ROLLED_DIMS:
        _write(conn, dim, day, from_facts(conn, dim, "day=?", [day]))
    conn.execute("INSERT INTO stats_days (day, rolled) VALUES (?, 1) ON CONFLICT(day) DO UPDATE SET rolled=1", (day,))
    refresh_month(conn, day[:7])


def refresh_month(conn: sqlite3.Connection, month: str) -> None:
    """The month's rows (dimension "m:<dim>", day "YYYY-MM"): the sums of its rolled days' rows, so that a year's
    report per window reads 12 rows per window, not 365. Written again whenever one of its days is (un)rolled."""
    for dim in ROLLED_DIMS[1:]:         # not "all": reports by day, week and month read the day rows of "all"
        conn.execute("DELETE FROM stats_tday WHERE dim=? AND day=?", (MONTH + dim, month))
        _write(conn, MONTH + dim, month, from_rollups(conn, dim, (month + "-01", month + "-31")))


def whole_months(first: str, last: str) -> tuple[str, str, str | None, str | None] | None:
    """The whole calendar months inside [first, last] as (first month, last month, the day before the first month
    begins or None, the day after the last month ends or None); None when no whole month is inside."""
    from datetime import date, timedelta

    a, b = date.fromisoformat(first), date.fromisoformat(last)
    start = a if a.day == 1 else (a.replace(day=28) + timedelta(days=4)).replace(day=1)
    end_next = (b + timedelta(days=1))
    end = end_next if end_next.day == 1 else b.replace(day=1)       # the first day after the whole months
    if start >= end:
        return None
    before = (start - timedelta(days=1)).isoformat() if start > a else None
    after = end.isoformat() if end <= b else None
    last_month = (end - timedelta(days=1)).isoformat()[:7]
    return start.isoformat()[:7], last_month, before, after


def _delete(conn: sqlite3.Connection, day: str) -> None:
    for dim in ROLLED_DIMS:             # by the key's head (dim, day): no scan of the other days
        conn.execute("DELETE FROM stats_tday WHERE dim=? AND day=?", (dim, day))


def unroll_day(conn: sqlite3.Connection, day: str) -> None:
    _delete(conn, day)
    conn.execute("UPDATE stats_days SET rolled=0 WHERE day=?", (day,))
    refresh_month(conn, day[:7])
