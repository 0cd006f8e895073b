"""A finished handling awaits its rating: the prompt opened in the transaction that finishes a ticket (the queue
engine's `on_finish`) or delivers a case at a window (the cases' `after` hook), with the window and the clerk the
store has at that moment. A prompt not rated within `feedback.prompt_timeout_s` becomes "not rated" (`expire`,
run by the watch), never a default level; a newer prompt at the same window ends an older one the same way.

Every function here runs inside the caller's transaction and appends its events to the caller's list."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta

from ..store.events import append_event
from .base import FeedbackContext, prompt_of, ts


def _end(conn: sqlite3.Connection, ctx: FeedbackContext, row: sqlite3.Row, now: datetime, why: str,
         events: list[dict]) -> None:
    conn.execute("UPDATE rating_prompts SET state='not_rated', ended_at=?, why=? WHERE id=?", (ts(now), why, row["id"]))
    events.append(append_event(conn, "evaluation.not_rated", now, {
        "prompt": row["id"], "ticket": row["ticket_id"], "case": row["case_id"], "number": row["number"],
        "window": row["window"], "clerk": row["clerk"], "matter": row["matter"], "why": why},
        ticket_id=row["ticket_id"], case_id=row["case_id"], window=row["window"]))


def _open(conn: sqlite3.Connection, ctx: FeedbackContext, now: datetime, *, window: int | None, clerk: str | None,
          matter: str, number: str, ticket: int | None, case: int | None, events: list[dict],
          on_site: bool = True) -> int:
    if on_site:     # the citizen before this one has gone: their prompt ends (the device shows one at a time)
        for old in conn.execute("SELECT * FROM rating_prompts WHERE window=? AND state='pending'",
                                (window,)).fetchall():
            _end(conn, ctx, old, now, "superseded", events)
    expires = ts(now + timedelta(seconds=ctx.policy.prompt_timeout_s)) if on_site else None
    pid = conn.execute(
        "INSERT INTO rating_prompts (ticket_id, case_id, window, clerk, matter, departments, number, created_at,"
        " expires_at, state) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id",
        (ticket, case, window, clerk, matter, json.dumps(ctx.departments(matter), ensure_ascii=False), number,
         ts(now), expires, "pending" if on_site else "not_rated")).fetchone()[0]
    if not on_site:     # by mail or from a locker: nobody at a window to ask; the status page may still rate
        conn.execute("UPDATE rating_prompts SET ended_at=?, why='remote' WHERE id=?", (ts(now), pid))
        return pid
    events.append(append_event(conn, "evaluation.prompted", now, {
        "prompt": pid, "ticket": ticket, "case": case, "number": number, "window": window, "clerk": clerk,
        "matter": matter, "matter_name": ctx.matter_name(matter), "expires_at": expires,
        "timeout_s": ctx.policy.prompt_timeout_s}, ticket_id=ticket, case_id=case, window=window))
    return pid


def ticket_finished(conn: sqlite3.Connection, ctx: FeedbackContext, now: datetime, window: sqlite3.Row,
                    ticket: sqlite3.Row, actor: str, events: list[dict]) -> None:
    """The engine finished `ticket` at `window` (rows as read in this transaction): open its prompt.

    An 出件 ticket whose case was just handed out at this window is rated with that case (one handling)."""
    number = window["number"]
    if conn.execute("SELECT 1 FROM rating_prompts WHERE ticket_id=?", (ticket["id"],)).fetchone():
        return
    same_visit = None
    if ticket["priority"] == "handout":         # an 出件 ticket (api/handout.py), linked to its cases
        same_visit = conn.execute(
            "SELECT p.id FROM rating_prompts p JOIN ticket_cases tc ON tc.case_id = p.case_id AND tc.ticket_id = ?"
            " WHERE p.window = ? AND p.state = 'pending' AND p.ticket_id IS NULL ORDER BY p.id DESC LIMIT 1",
            (ticket["id"], number)).fetchone()
    if same_visit is not None:
        conn.execute("UPDATE rating_prompts SET ticket_id=? WHERE id=?", (ticket["id"], same_visit["id"]))
        return
    _open(conn, ctx, now, window=number, clerk=window["clerk"] or actor, matter=ticket["matter"],
          number=ticket["number"], ticket=ticket["id"], case=None, events=events)


def case_event(conn: sqlite3.Connection, ctx: FeedbackContext, row: sqlite3.Row, event: dict) -> list[dict]:
    """The cases' hook after each case event: a case delivered opens its prompt (at the hand-out window when it
    was handed out at one, with the clerk who did; by mail or locker a prompt the status page alone may rate,
    tied to the case's intake window and clerk). Returns the events it appended."""
    if event["type"] != "case.delivered":
        return []
    if conn.execute("SELECT 1 FROM rating_prompts WHERE case_id=?", (row["id"],)).fetchone():
        return []
    case = conn.execute("SELECT * FROM cases WHERE id=?", (row["id"],)).fetchone()       # as just updated
    handout = json.loads(case["handout"]) if case["handout"] else {}
    now = datetime.fromisoformat(event["at"])
    events: list[dict] = []
    window = handout.get("window") if handout.get("via", "window") == "window" else None
    if window is not None:
        w = conn.execute("SELECT clerk FROM windows WHERE number=?", (window,)).fetchone()
        clerk = (w["clerk"] if w else None) or handout.get("delivered_by")
        _open(conn, ctx, now, window=window, clerk=clerk, matter=case["matter"], number=case["number"],
              ticket=None, case=case["id"], events=events)
    else:
        _open(conn, ctx, now, window=case["window"], clerk=case["created_by"], matter=case["matter"],
              number=case["number"], ticket=None, case=case["id"], events=events, on_site=False)
    return events


def expire(conn: sqlite3.Connection, ctx: FeedbackContext, events: list[dict]) -> int:
    """Every pending prompt past its time becomes not rated (why: timeout)."""
    now = ctx.now()
    rows = conn.execute("SELECT * FROM rating_prompts WHERE state='pending' AND expires_at <= ?", (ts(now),)).fetchall()
    for r in rows:
        _end(conn, ctx, r, now, "timeout", events)
    return len(rows)


def device_gave_none(conn: sqlite3.Connection, ctx: FeedbackContext, prompt_id: int, events: list[dict]) -> bool:
    """The window's key box ended its prompt without a key (timed out there, or went silent): not rated."""
    row = conn.execute("SELECT * FROM rating_prompts WHERE id=?", (prompt_id,)).fetchone()
    if row is None or row["state"] != "pending":
        return False
    _end(conn, ctx, row, ctx.now(), "device", events)
    return True


def pending(conn: sqlite3.Connection, ctx: FeedbackContext, window: int) -> dict | None:
    """What the window's evaluator should ask about now: its newest pending prompt still in time, or None."""
    row = conn.execute("SELECT * FROM rating_prompts WHERE window=? AND state='pending' ORDER BY id DESC LIMIT 1",
                       (window,)).fetchone()
    if row is None or row["expires_at"] <= ts(ctx.now()):
        return None
    return prompt_of(ctx, row)
