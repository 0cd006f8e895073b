"""A district officer's command on one of this hall's cases (issue 19, cases across levels), as a case change.

The command arrives as a plain dict (a row of the district's `commands`: id, case_id, case_number, action, body,
actor, actor_role, actor_departments, issued_by_hall); `apply_command` runs it through the same change functions
and the same checks of role, department, holder and state as a local officer meets, under the name
`<officer>@<issuing hall>`, and writes the command id to `applied_commands` IN THE SAME TRANSACTION as the case
change, its `case.*` events and the hall's confirmation `command.applied` {"command", "events": [their seqs]}.
A command whose id is there already is answered from there and never applied again; a refusal is kept there too,
with the hall's reason, and logged as `command.rejected`. (The log is append-only: the case events themselves
are not edited; `command.*` events are no case step, so the case's history and the district's d_cases skip them.)

Nothing here knows PostgreSQL: hall_server/rollup/commands.py fetches the commands and settles them.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime

from ..accounts.auth import Principal
from ..errors import Forbidden, HallError, Unprocessable
from ..store.database import Change, Store, StoreUnavailable
from ..store.events import append_event
from .base import CaseContext, may_act_for, not_your_department, ts
from .records import row_of, tasks_of

# what a district department officer may do to a case of another hall (the review actions of the cases contract;
# extend and reassign are a supervisor's of the owning hall, intake and hand-out the owning hall's windows')
REMOTE_ACTIONS = ("claim", "release", "suspend", "resume", "report", "decide")

Actions = dict[str, tuple[tuple[str, ...], Callable[..., Change], tuple[str, ...]]]


def remote_name(actor: str, hall: str) -> str:
    """The name a district officer acts under at the owning hall (never confused with a local account)."""
    return f"{actor}@{hall}"


def stored(conn: sqlite3.Connection, command_id: str) -> dict | None:
    row = conn.execute("SELECT state, seq, result FROM applied_commands WHERE id=?", (command_id,)).fetchone()
    if row is None:
        return None
    return {"state": row["state"], "seq": row["seq"], "result": json.loads(row["result"] or "{}")}


def _principal(cmd: dict) -> Principal:
    return Principal(username=remote_name(cmd["actor"], cmd["issued_by_hall"]), role=cmd["actor_role"],
                     expires_at="", departments=tuple(cmd["actor_departments"] or ()))


def _check(conn: sqlite3.Connection, actions: Actions, cmd: dict, who: Principal) -> sqlite3.Row:
    if cmd["action"] not in REMOTE_ACTIONS or cmd["action"] not in actions:
        raise Unprocessable("unknown_action", f"区级指令「{cmd['action']}」不能在服务厅执行",
                            f"a district command cannot {cmd['action']!r} a case; one of: {', '.join(REMOTE_ACTIONS)}",
                            action=cmd["action"])
    if who.role != "department":
        raise Forbidden("remote_role", f"区级指令须由部门审批人员发出（而非 {who.role}）",
                        f"a command from the district must come from a department officer, not a {who.role}",
                        role=who.role)
    row = row_of(conn, cmd["case_id"])
    if row["number"] != cmd["case_number"]:
        raise Unprocessable("case_mismatch", f"办件编号不符：本厅 {cmd['case_id']} 号办件是 {row['number']}，"
                            f"不是 {cmd['case_number']}",
                            f"case {cmd['case_id']} of this hall is {row['number']}, not {cmd['case_number']}",
                            case=cmd["case_id"])
    departments = [t["department"] for t in tasks_of(conn, row["id"], json.loads(row["snapshot"])["deciders"])]
    if not any(may_act_for(who, d) for d in departments):
        raise not_your_department(row, who, departments)
    return row


def apply_change(actions: Actions, ctx: CaseContext, cmd: dict) -> Callable[[sqlite3.Connection], Change]:
    """The store change applying `cmd`, idempotent by its id; answers {"state", "seq", "result"}."""
    def change(conn: sqlite3.Connection) -> Change:
        done = stored(conn, cmd["id"])
        if done is not None:
            return Change(done)
        who = _principal(cmd)
        row = _check(conn, actions, cmd, who)
        _roles, fn, fields = actions[cmd["action"]]
        body = cmd["body"] or {}
        kwargs = {k: body[k] for k in fields if body.get(k) is not None}
        out = fn(conn, ctx, who, row["id"], **kwargs)
        case_events = [e["seq"] for e in out.events if e["type"].startswith("case.")]
        seq = case_events[-1] if case_events else None
        status = conn.execute("SELECT status FROM cases WHERE id=?", (row["id"],)).fetchone()[0]
        result = {"status": status, "events": case_events}
        # the hall's own confirmation, in its log beside the case events (append-only: they are not edited)
        confirm = append_event(conn, "command.applied", ctx.now(),
                               {"command": cmd["id"], "case": row["id"], "number": row["number"],
                                "action": cmd["action"], "status": status, "events": case_events,
                                "issued_by_hall": cmd["issued_by_hall"]},
                               actor=who.username, case_id=row["id"])
        conn.execute("INSERT INTO applied_commands (id, case_id, action, state, seq, result, at)"
                     " VALUES (?,?,?,'applied',?,?,?)",
                     (cmd["id"], row["id"], cmd["action"], seq, json.dumps(result, ensure_ascii=False),
                      ts(ctx.now())))
        return Change({"state": "applied", "seq": seq, "result": result}, [*out.events, confirm])
    return change


def reject_change(cmd: dict, error: dict, at: datetime) -> Callable[[sqlite3.Connection], Change]:
    """Keep the refusal, and say so in the log (the first one stays: a retried command answers the same)."""
    def change(conn: sqlite3.Connection) -> Change:
        done = stored(conn, cmd["id"])
        if done is not None:
            return Change(done)
        known = conn.execute("SELECT id FROM cases WHERE id=?", (cmd["case_id"],)).fetchone()
        event = append_event(conn, "command.rejected", at,
                             {"command": cmd["id"], "case": cmd["case_id"], "number": cmd["case_number"],
                              "action": cmd["action"], "code": error["code"],
                              "issued_by_hall": cmd["issued_by_hall"]},
                             actor=remote_name(cmd["actor"], cmd["issued_by_hall"]),
                             case_id=known[0] if known else None)
        conn.execute("INSERT INTO applied_commands (id, case_id, action, state, seq, result, at)"
                     " VALUES (?,?,?,'rejected',NULL,?,?)",
                     (cmd["id"], cmd["case_id"], cmd["action"], json.dumps(error, ensure_ascii=False), ts(at)))
        return Change(stored(conn, cmd["id"]), [event])
    return change


def error_of(exc: BaseException) -> dict:
    """The hall's reason, in both languages, as the district page shows it."""
    if isinstance(exc, HallError):
        return {"code": exc.code, "message_zh": exc.zh, "message_en": exc.en, "http_status": exc.status}
    return {"code": "command_failed", "message_zh": "办件所在服务厅无法执行此指令",
            "message_en": f"the hall could not apply this command: {type(exc).__name__}: {exc}"[:500]}


def apply_command(store: Store, ctx: CaseContext, actions: Actions, cmd: dict) -> dict:
    """Apply (or find applied) one command, waiting for the store's writer; a refusal is a reasoned rejection.

    Called from the command runner's thread, never from the event loop."""
    try:
        return store.submit(apply_change(actions, ctx, cmd)).result()
    except StoreUnavailable:          # the hall's database, not the command: left pending, tried again later
        raise
    except Exception as exc:          # the hall's checks said no (or the change failed)
        return store.submit(reject_change(cmd, error_of(exc), ctx.now())).result()
