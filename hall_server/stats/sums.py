"""Per-day sums of the case, rating and complaint facts per (dimension, key), kept by deltas: every event that changes
a fact takes the fact's old contribution off the rows of its old keys and adds its new one to those of its new keys,
in the same transaction. These figures are all counts and sums (no percentile, no maximum), so the rows stay exactly
the sums of their facts however late an event comes (a case decided weeks after its day). A year's report reads a
few thousand of these rows instead of grouping 200,000 cases.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable

from .rollup import NONE_KEY, ROLLED_DIMS

RUNNING = ("accepted", "in_review", "suspended")
CASE = ("received", "accepted", "refused", "supplemented", "immediate", "decided", "on_time", "overdue",
        "workdays_sum", "workdays_n", "handed_window", "handed_mail", "handed_locker", "uncollected")
RATING = ("rated", "good", "bad", "rectified")
COMPLAINT = ("complaints", "on_time", "simple", "complex", "special")
WIDTH = 14
COLS = tuple(f"n{i}" for i in range(WIDTH))


def _case(r) -> tuple:
    decided = bool(r["decided"])
    wd = r["workdays"] if decided and r["workdays"] is not None else None
    delivered, via = bool(r["delivered"]), r["via"]
    overdue = (r["on_time"] == 0) if decided else (r["status"] in RUNNING and bool(r["red"]))
    return (1, r["accepted"], r["refused"], r["supplemented"],
            int(decided and r["accept_day"] is not None and r["decided_day"] == r["accept_day"]), int(decided),
            int(decided and r["on_time"] == 1), int(overdue), wd or 0, int(wd is not None),
            int(delivered and via == "window"), int(delivered and via == "mail"), int(delivered and via == "locker"),
            int(r["status"] == "ready"))


def _rating(r) -> tuple:
    counted = r["excluded"] == 0
    return (int(counted), int(counted and r["level"] >= 4), int(counted and r["level"] <= 2),
            int(r["rectified_on_time"] == 1))


def _complaint(r) -> tuple:
    return (1, int(r["on_time"] == 1), int(r["class"] == "simple"), int(r["class"] == "complex"),
            int(r["class"] == "special"))


# source → (fact table, its key column, the names of its sums, the sums of one fact)
SOURCES: dict[str, tuple[str, str, tuple[str, ...], Callable]] = {
    "case": ("stats_case", "case_id", CASE, _case),
    "rating": ("stats_rating", "evaluation_id", RATING, _rating),
    "complaint": ("stats_complaint", "complaint_id", COMPLAINT, _complaint),
}


def keys(r) -> dict[str, str]:
    """The fact's key in each rolled-up dimension."""
    def k(v):
        return NONE_KEY if v is None else str(v)
    return {"all": "", "window": k(r["window"]), "clerk": k(r["clerk"]), "matter": k(r["matter"]),
            "group": k(r["grp"]), "department": k(r["department"]), "channel": k(r["channel"]),
            "hour": str(r["hour"]), "wh": f"{r['wd']}:{r['hour']:02d}"}


def _add(conn: sqlite3.Connection, src: str, dim: str, day: str, key: str, v: tuple) -> None:
    vals = (*v, *([0] * (WIDTH - len(v))))
    conn.execute(f"INSERT INTO stats_sday (src, dim, day, key, {', '.join(COLS)}) VALUES (?,?,?,?,"
                 f"{','.join('?' * WIDTH)}) ON CONFLICT (src, dim, day, key) DO UPDATE SET "
                 + ", ".join(f"{c}={c}+excluded.{c}" for c in COLS), (src, dim, day, key, *vals))


def change(conn: sqlite3.Connection, src: str, old, new) -> None:
    """Move one fact's contribution from its old row (None: new fact) to its new one (None: gone)."""
    vec = SOURCES[src][3]
    before = (old["day"], keys(old), vec(old)) if old is not None else None
    after = (new["day"], keys(new), vec(new)) if new is not None else None
    if before == after:
        return
    for dim in ROLLED_DIMS:
        moves: dict[tuple[str, str], list] = {}
        if before is not None:
            moves[(before[0], before[1][dim])] = [-x for x in before[2]]
        if after is not None:
            at = (after[0], after[1][dim])
            prev = moves.get(at)
            moves[at] = list(after[2]) if prev is None else [a + b for a, b in zip(after[2], prev, strict=True)]
        for (day, key), v in moves.items():
            if any(v):
                _add(conn, src, dim, day, key, tuple(v))


def tracked(conn: sqlite3.Connection, src: str, where: str, args: tuple, fn: Callable[[], None]) -> None:
    """Run `fn` (a fact update of `src`) and move the sums of the facts matching `where` by what it changed."""
    table, pk, _names, _vec = SOURCES[src]
    sql = f"SELECT * FROM {table} WHERE {where}"
    before = {r[pk]: r for r in conn.execute(sql, args)}
    fn()
    after = {r[pk]: r for r in conn.execute(sql, args)}
    for fid in before.keys() | after.keys():
        change(conn, src, before.get(fid), after.get(fid))


def from_sums(conn: sqlite3.Connection, src: str, dim: str, first: str, last: str, keyed_by_day: bool = False
              ) -> dict[str, dict]:
    names = SOURCES[src][2]
    key = "day" if keyed_by_day else "key"
    sums = ", ".join(f"TOTAL({c})" for c in COLS[:len(names)])
    out: dict[str, dict] = {}
    for r in conn.execute(f"SELECT {key}, {sums} FROM stats_sday WHERE src=? AND dim=? AND day BETWEEN ? AND ?"
                          " GROUP BY 1", (src, dim, first, last)):
        vals = {n: r[i + 1] for i, n in enumerate(names)}
        if any(vals.values()):
            out[r[0]] = {n: (v if n == "workdays_sum" else int(v)) for n, v in vals.items()}
    return out
