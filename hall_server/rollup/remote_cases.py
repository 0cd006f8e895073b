"""Other halls' cases, read and worked from this hall through the district's PostgreSQL (issue 19, item 4).

Two users, both only in a hall with `[rollup]`:
- the district centre's department officers (the /office page): the cases of OTHER halls whose deciding
  departments are theirs, from the district's `d_cases` (the district service's projection of the shipped
  `case.*` events); an action on one of them is a row of `commands` (and a NOTIFY to the owning hall's command
  runner) instead of a change in this hall's SQLite. A command shows as pending until it is settled, then as
  `confirming` until the owning hall's confirming event (its `applied_seq`) is in `d_cases`, or as rejected
  with the owning hall's reason.
- the 跨域 query at any hall's kiosk or status page: a case of another hall found by its number or by the
  SHA-256 of its query code (`d_cases.query_hash`; the code itself never leaves its hall), the public steps only.

Blocking (psycopg): the API calls these methods through `asyncio.to_thread`. One connection, opened on first use,
behind a lock; after a failed connection the next attempt waits `retry_min_s`, so a district that is away costs a
kiosk one timeout, not one per query.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from ..accounts.auth import Principal
from ..cases.records import STEP_NAMES
from ..cases.remote import REMOTE_ACTIONS, remote_name
from ..errors import Forbidden, HallError, NotFound, Unprocessable
from .commands import CHANNEL
from .config import RollupPolicy, redact_url

RUNNING = ("accepted", "in_review", "suspended")
CASE_COLUMNS = ("hall", "case_id", "number", "matter", "matter_name", "kind", "status", "outcome", "departments",
                "tasks", "due", "legal_due", "channel", "received_at", "accepted_at", "decided_at", "updated_at",
                "via", "steps", "last_seq")
COMMAND_COLUMNS = ("id", "hall", "case_id", "case_number", "action", "body", "actor", "state", "result",
                   "applied_seq", "created_at", "settled_at")
MAX_LIST = 200
COMMANDS_SHOWN = 50


class DistrictUnavailable(HallError):
    status = 503


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def _iso(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v


def named_steps(steps: list[dict]) -> list[dict]:
    """The public steps as the hall's own status page names them."""
    out = []
    for s in steps:
        zh, en = STEP_NAMES.get(s["step"], (s["step"], s["step"]))
        out.append({**{k: v for k, v in s.items() if k in ("at", "step", "status", "department")},
                    "name": zh, "name_en": en})
    return out


def command_view(row: dict, case_seq: int | None) -> dict:
    """A command as the district page shows it: pending → (applied: confirming → confirmed) | rejected."""
    state = row["state"]
    shown = state
    if state == "applied":
        confirmed = row["applied_seq"] is None or (case_seq is not None and case_seq >= row["applied_seq"])
        shown = "confirmed" if confirmed else "confirming"
    result = row["result"] or {}
    out = {"id": row["id"], "hall": row["hall"], "case_id": row["case_id"], "case_number": row["case_number"],
           "action": row["action"], "body": row["body"] or {}, "actor": row["actor"], "state": state,
           "shown": shown, "applied_seq": row["applied_seq"], "created_at": _iso(row["created_at"]),
           "settled_at": _iso(row["settled_at"]), "reason": None}
    if state == "rejected":
        out["reason"] = {"code": result.get("code"), "message_zh": result.get("message_zh"),
                         "message_en": result.get("message_en")}
    elif state == "applied":
        out["status"] = result.get("status")
    return out


class RemoteCases:
    def __init__(self, policy: RollupPolicy, hall: str, *, clock: Callable[[], float] = time.monotonic):
        self.policy = policy
        self.hall = hall
        self.url_shown = redact_url(policy.url)
        self._clock = clock
        self._lock = threading.Lock()
        self._conn = None
        self._retry_at = 0.0
        self.error: str | None = None

    # -- the connection ----------------------------------------------------------------------------------
    def _unavailable(self, detail: str) -> DistrictUnavailable:
        return DistrictUnavailable("district_unavailable", "暂时无法连接区级数据库，其他服务厅的办件无法查询或处理；"
                                   "本厅办件不受影响，请稍后再试",
                                   f"the district database cannot be reached ({detail}); other halls' cases cannot "
                                   "be read or worked now — this hall's own cases are unaffected: try again later")

    def _run(self, fn: Callable):
        import psycopg

        with self._lock:
            for attempt in (1, 2):
                if self._conn is None:
                    if self._clock() < self._retry_at:
                        raise self._unavailable(self.error or "not connected")
                    try:
                        self._conn = psycopg.connect(self.policy.url, autocommit=True,
                                                     connect_timeout=max(1, int(self.policy.connect_timeout_s)),
                                                     application_name=f"onewindow-remote-cases:{self.hall}")
                    except psycopg.Error as exc:
                        self.error = _first_line(exc)
                        self._retry_at = self._clock() + self.policy.retry_min_s
                        raise self._unavailable(self.error) from exc
                try:
                    out = fn(self._conn)
                    self.error = None
                    return out
                except psycopg.errors.UndefinedTable:
                    return None              # the district service has not made its projections yet: nothing to see
                except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                    self.close_locked()      # a connection gone stale (PostgreSQL restarted): once more, afresh
                    self.error = _first_line(exc)
                    if attempt == 2:
                        raise self._unavailable(self.error) from exc
        raise AssertionError("unreachable")

    def close_locked(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # closing a dead connection: nothing to tell
                pass
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()

    # -- reads for the officer -----------------------------------------------------------------------------
    def _cases(self, conn, where: str, args: tuple, limit: int) -> list[dict]:
        cur = conn.execute(f"SELECT {', '.join('d.' + c for c in CASE_COLUMNS)}, h.name, h.level FROM d_cases d"
                           f" JOIN halls h ON h.code = d.hall WHERE {where}"
                           " ORDER BY d.due NULLS LAST, d.hall, d.case_id LIMIT %s", (*args, limit))
        out = []
        for r in cur.fetchall():
            c = dict(zip(CASE_COLUMNS, r[:len(CASE_COLUMNS)], strict=True))
            c["hall_name"], c["hall_level"] = r[len(CASE_COLUMNS)], r[len(CASE_COLUMNS) + 1]
            for k in ("due", "legal_due", "received_at", "accepted_at", "decided_at", "updated_at"):
                c[k] = _iso(c[k])
            c["departments"] = [{"department": d, **(c["tasks"].get(d) or {"state": "open", "claimed_by": None,
                                                                            "outcome": None})}
                                for d in c["departments"]]
            del c["tasks"]
            c["steps"] = named_steps(c["steps"])
            out.append(c)
        return out

    def _commands(self, conn, where: str, args: tuple, limit: int) -> list[dict]:
        cur = conn.execute(f"SELECT {', '.join('c.' + c for c in COMMAND_COLUMNS)}, d.last_seq FROM commands c"
                           " LEFT JOIN d_cases d ON d.hall = c.hall AND d.case_id = c.case_id"
                           f" WHERE {where} ORDER BY c.created_at DESC, c.id LIMIT %s", (*args, limit))
        rows = []
        for r in cur.fetchall():
            row = dict(zip(COMMAND_COLUMNS, r[:len(COMMAND_COLUMNS)], strict=True))
            row["id"] = str(row["id"])
            rows.append(command_view(row, r[len(COMMAND_COLUMNS)]))
        return rows

    @staticmethod
    def _departments(who: Principal) -> list[str] | None:
        """The departments whose cases `who` sees (None: all — a supervisor or admin)."""
        if who.role == "department":
            return list(who.departments)
        return None

    def worklist(self, who: Principal, statuses: tuple[str, ...] = RUNNING) -> dict:
        """Other halls' cases of `who`'s departments (by due date) and the commands issued for them from here."""
        deps = self._departments(who)

        def read(conn) -> dict:
            where, args = "d.hall <> %s AND d.status = ANY(%s)", (self.hall, list(statuses))
            if deps is not None:
                where, args = where + " AND d.departments && %s::text[]", (*args, deps)
            cases = self._cases(conn, where, args, MAX_LIST + 1)
            cwhere, cargs = "c.issued_by_hall = %s", (self.hall,)
            if deps is not None:
                cwhere, cargs = cwhere + " AND c.actor_departments && %s::text[]", (*cargs, deps)
            commands = self._commands(conn, cwhere, cargs, COMMANDS_SHOWN)
            return {"cases": cases[:MAX_LIST], "more": len(cases) > MAX_LIST, "commands": commands}
        return self._run(read) or {"cases": [], "more": False, "commands": []}

    def case(self, who: Principal, hall: str, case_id: int) -> dict:
        deps = self._departments(who)

        def read(conn) -> dict | None:
            found = self._cases(conn, "d.hall = %s AND d.case_id = %s", (hall, case_id), 1)
            if not found:
                return None
            c = found[0]
            c["commands"] = self._commands(conn, "c.hall = %s AND c.case_id = %s AND c.issued_by_hall = %s",
                                           (hall, case_id, self.hall), COMMANDS_SHOWN)
            return c
        c = self._run(read)
        if c is None:
            raise NotFound("remote_case_not_found", f"区级数据库中没有服务厅 {hall} 的办件 {case_id}",
                           f"the district database has no case {case_id} of hall {hall!r}", hall=hall, case=case_id)
        if deps is not None and not set(deps) & {t["department"] for t in c["departments"]}:
            raise Forbidden("not_your_department",
                            f"办件 {c['number']} 由{'、'.join(t['department'] for t in c['departments'])}办理，"
                            "您所在部门无权处理",
                            f"case {c['number']} belongs to {', '.join(t['department'] for t in c['departments'])}; "
                            f"{who.username} acts only for {', '.join(deps) or 'no department'}",
                            case=case_id, hall=hall)
        c["me"] = remote_name(who.username, self.hall)
        return c

    def command(self, who: Principal, command_id: str) -> dict:
        try:
            uuid.UUID(command_id)
        except ValueError:
            raise Unprocessable("bad_command_id", "指令编号格式不对", f"{command_id!r} is not a command id") from None
        found = self._run(lambda conn: self._commands(conn, "c.id = %s::uuid AND c.issued_by_hall = %s",
                                                      (command_id, self.hall), 1))
        if not found:
            raise NotFound("command_not_found", "没有这条指令", f"no command {command_id} issued from this hall",
                           command=command_id)
        return found[0]

    # -- the officer's action: a command to the owning hall --------------------------------------------------
    def issue(self, who: Principal, hall: str, case_id: int, action: str, body: dict) -> dict:
        """Insert the command (and wake the owning hall's runner); answers the command, pending."""
        if who.role != "department":
            raise Forbidden("remote_role", "其他服务厅的办件只能由部门审批人员处理",
                            f"only a department officer acts on another hall's case, not a {who.role}", role=who.role)
        if action not in REMOTE_ACTIONS:
            raise Unprocessable("unknown_action", f"不能对其他服务厅的办件执行「{action}」",
                                f"{action!r} cannot be sent to another hall; one of: {', '.join(REMOTE_ACTIONS)}",
                                action=action)
        if hall == self.hall:
            raise Unprocessable("own_hall", "这是本厅的办件，请在本厅的待办件中处理",
                                "this is a case of this hall: act on it through /api/v1/cases", hall=hall)
        case = self.case(who, hall, case_id)          # 404 / 403 before anything is written
        command_id = str(uuid.uuid4())
        clean = {k: v for k, v in body.items() if v is not None}

        def write(conn) -> dict:
            # idempotent by the command id: a retry after a connection lost around the commit inserts nothing
            with conn.transaction():
                r = conn.execute(
                    "INSERT INTO commands (id, hall, case_id, case_number, action, body, actor, actor_role,"
                    " actor_departments, issued_by_hall) VALUES (%s,%s,%s,%s,%s,%s::jsonb,%s,%s,%s,%s)"
                    f" ON CONFLICT (id) DO NOTHING RETURNING {', '.join(COMMAND_COLUMNS)}",
                    (command_id, hall, case_id, case["number"], action, json.dumps(clean, ensure_ascii=False),
                     who.username, who.role, list(who.departments), self.hall)).fetchone()
                conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, hall))
            if r is None:
                return self._commands(conn, "c.id = %s::uuid", (command_id,), 1)[0]
            row = dict(zip(COMMAND_COLUMNS, r, strict=True))
            row["id"] = str(row["id"])
            return command_view(row, None)
        # answered as written (pending): the owning hall may have applied it already by the time this returns
        return self._run(write)

    # -- the 跨域 query (public) -------------------------------------------------------------------------------
    def lookup(self, *, number: str | None = None, query_code: str | None = None) -> list[dict]:
        """Other halls' cases by number or query code: the public status only (no name, phone, ID or staff)."""
        if query_code:
            where, args = "d.hall <> %s AND d.query_hash = %s", (self.hall, hashlib.sha256(query_code.encode())
                                                                 .hexdigest())
        elif number:
            where, args = "d.hall <> %s AND d.number = %s", (self.hall, number.strip().upper())
        else:
            return []
        found = self._run(lambda conn: self._cases(conn, where, args, 20)) or []
        return [public(c) for c in found]

    def status(self) -> dict:
        return {"connected": self._conn is not None, "error": self.error}


def public(c: dict) -> dict:
    """A remote case as the public status shows it, with the hall that holds it."""
    return {"number": c["number"], "matter": c["matter"], "matter_name": c["matter_name"] or c["matter"],
            "kind": c["kind"], "status": c["status"], "outcome": c["outcome"], "received_at": c["received_at"],
            "accepted_at": c["accepted_at"], "due": c["due"], "deadline": None, "missing": [], "via": c["via"],
            "waybill": None, "steps": c["steps"], "hall": c["hall"], "hall_name": c["hall_name"],
            "remote": True}
