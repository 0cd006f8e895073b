"""The cases of the hall as the API and the pages use them: who may take which action, each action run as
one durable change with its event, and the reads (one case, worklists and searches, the public status).

Reads run on the event loop's thread through the store's read connection, like every other read."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import date
from typing import Any

from ..accounts.auth import Principal
from ..clock import Clock
from ..config import HallConfig
from ..errors import Forbidden, Unprocessable
from ..store.database import Change, Store
from . import handout, intake, review
from .base import After, CaseContext, Notify, may_act_for, not_your_department
from .calendar import WorkCalendar
from .deadlines import DeadlineWatch
from .records import MAX_PAGE, RUNNING, STATUSES, case_not_found, case_of, cases_of, public_status, row_of, tasks_of

INTAKE = ("clerk", "supervisor", "admin")
REVIEW = ("department", "supervisor", "admin")
SUPERVISE = ("supervisor", "admin")
READERS = ("clerk", "department", "supervisor", "technician", "admin")
RUNNING_SQL = "c.status IN ('accepted','in_review','suspended')"      # as the partial indexes spell it

# action → (roles allowed, the change, the body's fields it takes)
ACTIONS: dict[str, tuple[tuple[str, ...], Callable[..., Change], tuple[str, ...]]] = {
    "accept": (INTAKE, intake.accept, ()),
    "request-supplement": (INTAKE, intake.request_supplement, ("missing", "note")),
    "materials": (INTAKE, intake.hand_in, ("materials",)),
    "refuse": (INTAKE, intake.refuse, ("reason", "competent_organ")),
    "withdraw": (INTAKE, intake.withdraw, ("reason",)),
    "claim": (REVIEW, review.claim, ("department",)),
    "release": (REVIEW, review.release, ("department",)),
    "reassign": (SUPERVISE, review.reassign, ("to", "department")),
    "suspend": (REVIEW, review.suspend, ("reason", "department")),
    "resume": (REVIEW, review.resume, ("department",)),
    "extend": (SUPERVISE, review.extend, ("working_days", "reason", "approver")),
    "report": (REVIEW, review.report, ("opinion", "authority")),
    "decide": (("clerk", *REVIEW), review.decide, ("outcome", "opinion", "department")),
    "ready": (INTAKE, handout.ready, ("via", "address")),
    "deliver": (INTAKE, handout.deliver, ("collector", "waybill")),
}


def role_forbidden(who: Principal, action: str, roles: tuple[str, ...]) -> Forbidden:
    return Forbidden("role_forbidden", f"角色 {who.role} 无权执行「{action}」",
                     f"a {who.role} may not {action} a case; it needs one of: {', '.join(roles)}", role=who.role)


class Cases:
    def __init__(self, cfg: HallConfig, store: Store, clock: Clock, identity_key: bytes,
                 notify: Notify | None = None, after: After | None = None):
        self.cfg = cfg
        self.store = store
        self.calendar = WorkCalendar(cfg.calendar)
        self.ctx = CaseContext(cfg, clock, self.calendar, identity_key, notify, after)
        self.watch = DeadlineWatch(store.write, self.ctx)

    @property
    def _read(self) -> sqlite3.Connection:
        return self.store.read

    # -- changes ---------------------------------------------------------------------------------
    async def create(self, who: Principal, **body: Any) -> dict:
        if who.role not in INTAKE:
            raise role_forbidden(who, "take in", INTAKE)
        case_id = await self.store.write(lambda conn: intake.create(conn, self.ctx, who, **body))
        return self.get(case_id, who, history=False)

    async def act(self, who: Principal, case_id: int, action: str, body: dict) -> dict:
        roles, change, fields = ACTIONS[action]
        if who.role not in roles:
            raise role_forbidden(who, action, roles)
        self._check_department(who, case_id)
        kwargs = {k: body[k] for k in fields if body.get(k) is not None}
        await self.store.write(lambda conn: change(conn, self.ctx, who, case_id, **kwargs))
        return self.get(case_id, who)

    def _check_department(self, who: Principal, case_id: int) -> None:
        """A department officer may touch only cases with a task of theirs (403 before any state check)."""
        if who.role != "department":
            return
        row = row_of(self._read, case_id)
        departments = [t["department"] for t in tasks_of(self._read, case_id, _deciders(row))]
        if not any(may_act_for(who, d) for d in departments):
            raise not_your_department(row, who, departments)

    async def refresh_deadlines(self) -> int:
        return await self.watch.run_once()

    # -- reads -----------------------------------------------------------------------------------
    def get(self, case_id: int, who: Principal | None = None, *, history: bool = True) -> dict:
        if who is not None:
            if who.role not in READERS:
                raise role_forbidden(who, "read", READERS)
            self._check_department(who, case_id)
        row = row_of(self._read, case_id)
        return case_of(self._read, row, history=history,
                       deadline=self.ctx.deadline(row["status"], row["due"]) if row["status"] != "suspended" else None)

    def list(self, who: Principal, *, status: str | None = None, department: str | None = None,
             deadline: str | None = None, q: str | None = None, limit: int = 50, before: int | None = None,
             order: str = "newest", window: int | None = None, day: str | None = None) -> dict:
        if who.role not in READERS:
            raise role_forbidden(who, "list", READERS)
        where, args = ["1=1"], []
        if status:
            wanted = [s for s in status.split(",") if s]
            bad = [s for s in wanted if s not in STATUSES]
            if bad:
                raise Unprocessable("bad_status", f"未知状态：{'、'.join(bad)}",
                                    f"unknown status {', '.join(bad)}; use {', '.join(STATUSES)}")
            where.append(f"c.status IN ({','.join('?' * len(wanted))})")
            args += wanted
            if set(wanted) <= set(RUNNING):
                where.append(RUNNING_SQL)       # lets SQLite use the partial indexes of running cases
        departments = [department] if department else []
        if who.role == "department":
            if department and department not in who.departments:
                raise Forbidden("not_your_department", f"您无权查看{department}的办件",
                                f"{who.username} sees only the cases of {', '.join(who.departments)}",
                                department=department)
            departments = departments or list(who.departments)
        if departments:
            # probed per case through case_tasks' key (a subquery IN would build the department's whole set)
            where.append(f"EXISTS (SELECT 1 FROM case_tasks t WHERE t.case_id = c.id AND t.department IN"
                         f" ({','.join('?' * len(departments))}))")
            args += departments
        if deadline:
            if deadline not in ("ok", "amber", "red"):
                raise Unprocessable("bad_deadline", "deadline 须为 ok、amber 或 red", "deadline: ok | amber | red")
            where.append(f"c.deadline = ? AND {RUNNING_SQL}")
            args.append(deadline)
        if q:
            where.append("(c.number = ? OR c.query_code = ? OR c.applicant_name = ? OR c.applicant_phone = ?"
                         " OR c.matter = ?)")
            args += [q.strip()] * 5
        if window is not None:
            where.append("c.window = ?")
            args.append(window)
        if day:                       # received on this local day (a window's cases today)
            start, end = self._day_span(day)
            where.append("c.received_at >= ? AND c.received_at < ?")
            args += [start, end]
        if before is not None:
            where.append("c.id < ?")
            args.append(before)
        limit = max(1, min(limit, MAX_PAGE))
        # overdue and amber lists read the partial index of running cases; they are wanted by due date
        order_by = "c.due, c.id" if order == "due" or deadline else "c.id DESC"
        rows = self._read.execute(f"SELECT c.* FROM cases c WHERE {' AND '.join(where)} ORDER BY {order_by}"
                                  f" LIMIT ?", (*args, limit + 1)).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        cases = cases_of(self._read, rows)
        return {"cases": cases, "next_before": rows[-1]["id"] if more and order_by == "c.id DESC" else None,
                "more": more}

    def _day_span(self, day: str) -> tuple[str, str]:
        """[start, end) of a local calendar day as the UTC text the case rows are stamped with."""
        from datetime import UTC, datetime, time, timedelta

        d = intake.parse_day(day, "day")
        start = datetime.combine(d, time(0), tzinfo=self.ctx.tz).astimezone(UTC)
        return (start.isoformat(timespec="milliseconds"),
                (start + timedelta(days=1)).isoformat(timespec="milliseconds"))

    def public(self, query_code: str) -> dict:
        row = self._read.execute("SELECT * FROM cases WHERE query_code=?", (query_code,)).fetchone()
        if row is None:
            raise case_not_found(query_code[:4] + "…")
        return self._public(row)

    def _public(self, row: sqlite3.Row) -> dict:
        """The public status, with the working days left to the promised date (on the hall's calendar)."""
        out = public_status(self._read, row)
        out["days_left"] = None
        if row["status"] in ("accepted", "in_review", "suspended") and row["due"]:
            out["days_left"] = self.calendar.working_days_left(self.ctx.local_day(), date.fromisoformat(row["due"]))
        return out

    def lookup(self, *, number: str | None = None, query_code: str | None = None,
               citizen_hash: str | None = None, limit: int = 20) -> list[dict]:
        """The kiosk's self-service query: by number, query code or the swiped applicant's card."""
        if query_code:
            rows = self._read.execute("SELECT * FROM cases WHERE query_code=?", (query_code,)).fetchall()
        elif number:
            rows = self._read.execute("SELECT * FROM cases WHERE number=?", (number.strip().upper(),)).fetchall()
        elif citizen_hash:
            rows = self._read.execute("SELECT * FROM cases WHERE applicant_hash=? ORDER BY id DESC LIMIT ?",
                                      (citizen_hash, limit)).fetchall()
        else:
            rows = []
        return [{**self._public(r), "query_code": r["query_code"]} for r in rows]

    def counts(self) -> dict:
        """Cases by state and the running ones by deadline colour (for the dashboard)."""
        by_status = dict(self._read.execute("SELECT status, COUNT(*) FROM cases GROUP BY status").fetchall())
        by_deadline = dict(self._read.execute(
            "SELECT deadline, COUNT(*) FROM cases WHERE status IN ('accepted','in_review','suspended')"
            " GROUP BY deadline").fetchall())
        return {"by_status": {s: by_status.get(s, 0) for s in STATUSES},
                "deadline": {c: by_deadline.get(c, 0) for c in ("ok", "amber", "red")}}


def _deciders(row: sqlite3.Row) -> list[str]:
    return json.loads(row["snapshot"])["deciders"]
