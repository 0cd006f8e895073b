"""Events into facts: what each event of the log changes in the stats tables (schema v16).

Every function takes the writer's connection (inside the projector's transaction), the event as read from the log
(`seq, type, at, actor, window, ticket_id, case_id, data`) and the `Dims` of the hall. Facts come from the events
alone, never from the current rows, so a replay of the log (`stats rebuild`) gives what the live projector gave.

A fact belongs to the hall-local date and hour of its start: a ticket to its issue, a case to its receipt, an
evaluation to its rating, a complaint to its registration. A ticket's window and clerk are those of its last call
(the call that finished it, or made it a no-show); its matter is its last one (a transfer may change it).
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

OPEN_TICKET = ("waiting", "called", "serving")
RUNNING_CASE = ("accepted", "in_review", "suspended")


@dataclass(frozen=True)
class MatterDims:
    group: str | None
    department: str | None
    expected_s: float | None


@dataclass
class Dims:
    """What the stats need of the hall's configuration, as plain data (runtime.py builds it)."""
    tz: str = "Asia/Shanghai"
    rollover_hour: int = 0          # the hall's day starts at this local hour (its tickets' service day)
    matters: dict[str, MatterDims] = field(default_factory=dict)
    windows: dict[int, str] = field(default_factory=dict)          # number → name
    groups: dict[str, str] = field(default_factory=dict)           # code → name
    matter_names: dict[str, str] = field(default_factory=dict)
    # working days d with start < d <= end (the hall's calendar); None: calendar days
    workdays: Callable[[date, date], int] | None = None

    def matter(self, code: str | None) -> MatterDims:
        return self.matters.get(code or "", MatterDims(None, None, None))


@lru_cache(maxsize=8)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def local(at: str, tz: str) -> datetime:
    return datetime.fromisoformat(at).astimezone(_zone(tz))


def when(at: str, tz: str, rollover_hour: int = 0) -> tuple[str, int, int]:
    """(day, local hour, ISO weekday of the day) of a stored timestamp. The day is the hall's service day (the
    local date, starting at the rollover hour: a ticket issued at 02:00 counts with the queue it joined, the day
    before); with rollover_hour 0, the calendar date — the working-day figures of cases count by that."""
    t = local(at, tz)
    day = (t - timedelta(hours=rollover_hour)).date() if rollover_hour else t.date()
    return day.isoformat(), t.hour, day.isoweekday()


def _seconds(a: str, b: str) -> float:
    return round((datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds(), 3)


# -- tickets ------------------------------------------------------------------------------------------------
def _touch(conn: sqlite3.Connection, ticket_id: int | None, dirty: set[str]) -> sqlite3.Row | None:
    if ticket_id is None:
        return None
    row = conn.execute("SELECT * FROM stats_ticket WHERE ticket_id=?", (ticket_id,)).fetchone()
    if row is not None:
        dirty.add(row["day"])
    return row


def ticket_event(conn: sqlite3.Connection, e: dict, dims: Dims, dirty: set[str]) -> None:
    kind, d = e["type"], e["data"]
    tid = d.get("ticket_id", e["ticket_id"])
    if kind == "ticket.issued":
        day, hour, wd = when(e["at"], dims.tz, dims.rollover_hour)
        m = dims.matter(d["matter"])
        conn.execute(
            "INSERT OR REPLACE INTO stats_ticket (ticket_id, day, hour, wd, matter, grp, department, channel, status,"
            " issued_at, expected_s) VALUES (?,?,?,?,?,?,?,?,'waiting',?,?)",
            (tid, day, hour, wd, d["matter"], d.get("group") or m.group, m.department, d.get("channel"), e["at"],
             m.expected_s))
        dirty.add(day)
        return
    row = _touch(conn, tid, dirty)
    if row is None:                  # a ticket issued before the log began (never, but never guess)
        return
    if kind == "ticket.called":
        first = row["first_call_at"] or e["at"]
        conn.execute("UPDATE stats_ticket SET status='called', window=?, clerk=?, first_call_at=?, last_call_at=?,"
                     " serving_at=NULL, wait_s=? WHERE ticket_id=?",
                     (d["window"], d.get("by"), first, e["at"], _seconds(row["issued_at"], first), tid))
    elif kind == "ticket.serving":
        conn.execute("UPDATE stats_ticket SET status='serving', serving_at=? WHERE ticket_id=?", (e["at"], tid))
    elif kind == "ticket.finished":
        began = row["serving_at"] or row["last_call_at"] or e["at"]
        conn.execute("UPDATE stats_ticket SET status='done', window=?, clerk=?, handle_s=? WHERE ticket_id=?",
                     (d["window"], d.get("by"), _seconds(began, e["at"]), tid))
    elif kind == "ticket.no_show":
        conn.execute("UPDATE stats_ticket SET status='no_show', window=?, clerk=? WHERE ticket_id=?",
                     (d["window"], d.get("by"), tid))
    elif kind == "ticket.requeued":
        conn.execute("UPDATE stats_ticket SET status='waiting' WHERE ticket_id=?", (tid,))
    elif kind == "ticket.cancelled":
        conn.execute("UPDATE stats_ticket SET status='cancelled' WHERE ticket_id=?", (tid,))
    elif kind == "ticket.transferred":
        to = d.get("to_matter") or row["matter"]
        m = dims.matter(to)
        conn.execute("UPDATE stats_ticket SET status='waiting', transfers=transfers+1, matter=?, grp=?, department=?,"
                     " expected_s=?, serving_at=NULL WHERE ticket_id=?", (to, m.group, m.department, m.expected_s, tid))


def rolled_over(conn: sqlite3.Connection, e: dict, dirty: set[str], dims: Dims) -> None:
    """The engine expired every open ticket; the windows were closed."""
    open_ = "status IN ('waiting','called','serving')"         # read through the partial index stats_ticket_open
    for (day,) in conn.execute(f"SELECT DISTINCT day FROM stats_ticket INDEXED BY stats_ticket_open WHERE {open_}"):
        dirty.add(day)
    conn.execute(f"UPDATE stats_ticket INDEXED BY stats_ticket_open SET status='expired' WHERE {open_}")
    for w in conn.execute("SELECT window FROM stats_wstate").fetchall():
        _window_to(conn, w[0], "closed", None, e["at"], dims)


# -- windows' time ------------------------------------------------------------------------------------------
def _window_to(conn, number: int, state: str, clerk: str | None, at: str, dims: Dims) -> None:
    """Close the window's current open or paused span (added to the day it started) and start `state`."""
    cur = conn.execute("SELECT * FROM stats_wstate WHERE window=?", (number,)).fetchone()
    if cur is not None and cur["state"] in ("open", "paused") and cur["since"] < at:
        s = _seconds(cur["since"], at)
        day = when(cur["since"], dims.tz, dims.rollover_hour)[0]
        col = "open_s" if cur["state"] == "open" else "paused_s"
        conn.execute(f"INSERT INTO stats_wtime (day, window, clerk, {col}) VALUES (?,?,?,?)"
                     f" ON CONFLICT(day, window, clerk) DO UPDATE SET {col}={col}+excluded.{col}",
                     (day, number, cur["clerk"] or "", s))
    conn.execute("INSERT OR REPLACE INTO stats_wstate (window, state, since, clerk) VALUES (?,?,?,?)",
                 (number, state, at, clerk))


def window_event(conn: sqlite3.Connection, e: dict, dims: Dims) -> None:
    kind, d = e["type"], e["data"]
    number = d.get("window", e["window"])
    if number is None:
        return
    cur = conn.execute("SELECT state, clerk FROM stats_wstate WHERE window=?", (number,)).fetchone()
    state, clerk = (cur["state"], cur["clerk"]) if cur else ("closed", None)
    if kind in ("window.opened", "window.resumed"):
        state = "open"
    elif kind == "window.paused":
        state = "paused"
    elif kind == "window.closed":
        state, clerk = "closed", None
    elif kind == "window.login":
        clerk = d.get("clerk")
    elif kind == "window.logout":
        clerk = None
        state = "paused" if state == "open" else state
    _window_to(conn, number, state, clerk, e["at"], dims)


def away_event(conn: sqlite3.Connection, e: dict, dims: Dims) -> None:
    d = e["data"]
    if d.get("kind") != "away" or d.get("window") is None:
        return
    day = when(e["at"], dims.tz, dims.rollover_hour)[0]
    conn.execute("INSERT INTO stats_wtime (day, window, clerk, away_events) VALUES (?,?,?,1)"
                 " ON CONFLICT(day, window, clerk) DO UPDATE SET away_events=away_events+1",
                 (day, d["window"], d.get("clerk") or ""))


# -- cases --------------------------------------------------------------------------------------------------
def case_event(conn: sqlite3.Connection, e: dict, dims: Dims) -> None:
    kind, d = e["type"], e["data"]
    cid = d.get("case", e["case_id"])
    if kind == "case.received":
        day, hour, wd = when(e["at"], dims.tz, dims.rollover_hour)
        m = dims.matter(d.get("matter"))
        conn.execute("INSERT OR REPLACE INTO stats_case (case_id, day, hour, wd, window, clerk, matter, grp,"
                     " department, channel, kind, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                     (cid, day, hour, wd, e["window"], e["actor"], d.get("matter"), m.group, m.department,
                      d.get("channel"), d.get("kind"), d.get("status", "received")))
        return
    row = conn.execute("SELECT * FROM stats_case WHERE case_id=?", (cid,)).fetchone()
    if row is None:
        return
    if kind == "case.deadline":
        conn.execute("UPDATE stats_case SET red=? WHERE case_id=?", (int(d.get("deadline") == "red"), cid))
        return
    sets: dict = {"status": d.get("status", row["status"])}
    if kind == "case.accepted":
        sets.update(accepted=1, accept_day=when(e["at"], dims.tz)[0])   # calendar dates: working days count by them
    elif kind == "case.supplement_requested":
        sets["supplemented"] = 1
    elif kind == "case.refused":
        sets["refused"] = 1
    elif kind == "case.decided":
        day = when(e["at"], dims.tz)[0]          # a calendar date, as accept_day: the working days between them
        start = row["accept_day"] or row["day"]
        a, b = date.fromisoformat(start), date.fromisoformat(day)
        try:
            n = dims.workdays(a, b) if dims.workdays else max(0, (b - a).days)
        except ValueError:                  # beyond the calendar's reach: calendar days
            n = max(0, (b - a).days)
        sets.update(decided=1, decided_day=day, on_time=int(bool(d.get("on_time", True))), workdays=n, red=0)
    elif kind in ("case.ready", "case.delivered"):
        sets["via"] = d.get("via")
        if kind == "case.delivered":
            sets["delivered"] = 1
    cols = ", ".join(f"{k}=?" for k in sets)
    conn.execute(f"UPDATE stats_case SET {cols} WHERE case_id=?", (*sets.values(), cid))


# -- ratings and the 差评 loop --------------------------------------------------------------------------------
def rating_event(conn: sqlite3.Connection, e: dict, dims: Dims) -> None:
    kind, d = e["type"], e["data"]
    if kind == "evaluation.recorded":
        day, hour, wd = when(e["at"], dims.tz, dims.rollover_hour)
        m = dims.matter(d.get("matter"))
        conn.execute("INSERT OR REPLACE INTO stats_rating (evaluation_id, day, hour, wd, window, clerk, matter, grp,"
                     " department, channel, level) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                     (d["evaluation"], day, hour, wd, d.get("window"), d.get("clerk"), d.get("matter"), m.group,
                      m.department, d.get("channel"), d["level"]))
        return
    rid = d.get("badrating")
    if rid is None:
        return
    if kind == "badrating.opened":
        conn.execute("UPDATE stats_rating SET badrating_id=? WHERE evaluation_id=?", (rid, d.get("evaluation")))
    elif kind in ("badrating.verified", "badrating.recheck_failed"):
        conn.execute("UPDATE stats_rating SET rectify_due=? WHERE badrating_id=?", (d.get("due"), rid))
    elif kind == "badrating.rectified":
        day = when(e["at"], dims.tz, dims.rollover_hour)[0]
        conn.execute("UPDATE stats_rating SET rectified_on_time=CASE WHEN rectify_due IS NULL OR ?<=rectify_due"
                     " THEN 1 ELSE 0 END WHERE badrating_id=?", (day, rid))
    elif kind == "badrating.appeal_upheld":
        conn.execute("UPDATE stats_rating SET excluded=1 WHERE badrating_id=?", (rid,))


# -- complaints (办不成事) ------------------------------------------------------------------------------------
def complaint_event(conn: sqlite3.Connection, e: dict, dims: Dims) -> None:
    kind, d = e["type"], e["data"]
    cid = d.get("complaint")
    if cid is None:
        return
    if kind == "complaint.registered":
        day, hour, wd = when(e["at"], dims.tz, dims.rollover_hour)
        m = dims.matter(d.get("matter"))
        conn.execute("INSERT OR REPLACE INTO stats_complaint (complaint_id, day, hour, wd, window, matter, grp,"
                     " department, channel, class) VALUES (?,?,?,?,?,?,?,?,?,?)",
                     (cid, day, hour, wd, d.get("window", e["window"]), d.get("matter"), m.group,
                      d.get("department") or m.department, d.get("channel"), d.get("class")))
        return
    if kind == "complaint.answered":
        conn.execute("UPDATE stats_complaint SET answered=1, on_time=?, class=COALESCE(?, class),"
                     " department=COALESCE(?, department) WHERE complaint_id=?",
                     (int(bool(d.get("on_time"))), d.get("class"), d.get("department"), cid))
    else:
        conn.execute("UPDATE stats_complaint SET class=COALESCE(?, class), department=COALESCE(?, department)"
                     " WHERE complaint_id=?", (d.get("class"), d.get("department"), cid))
