"""What every case change shares: the hall's parts it needs (`CaseContext`), the state checks that answer 409
saying why, the deadline colour, and the one helper that records a change's event in the same transaction."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..accounts.auth import Principal
from ..clock import Clock
from ..config import HallConfig
from ..errors import Conflict, Forbidden
from ..store.events import append_event
from .calendar import WorkCalendar
from .records import RUNNING, row_of

STATE_ZH = {"received": "已收件", "supplement": "待补正", "accepted": "已受理", "refused": "不予受理",
            "in_review": "审查中", "suspended": "暂停计时", "decided": "已办结", "ready": "待取件",
            "delivered": "已出件", "withdrawn": "已撤回"}


# what a case event may call for beyond the log (an SMS to the applicant): run in the change's transaction
Notify = Callable[[sqlite3.Connection, sqlite3.Row, dict, str], object]
# what else follows a case event in its transaction, with the events it appends (a rating prompt at hand-out)
After = Callable[[sqlite3.Connection, sqlite3.Row, dict], list[dict]]


@dataclass
class CaseContext:
    cfg: HallConfig
    clock: Clock
    calendar: WorkCalendar
    identity_key: bytes
    notify: Notify | None = None
    after: After | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.cfg.hall.timezone)

    def now(self) -> datetime:
        return self.clock.now()

    def local_day(self, at: datetime | None = None) -> date:
        return (at or self.clock.now()).astimezone(self.tz).date()

    def deadline(self, status: str, due: str | None, today: date | None = None) -> str:
        """ok | amber | red: amber within `cases.amber_days` working days of the due date, red past it."""
        if status not in RUNNING or not due:
            return "ok"
        left = self.calendar.working_days_left(today or self.local_day(), date.fromisoformat(due))
        if left < 0:
            return "red"
        return "amber" if left <= self.cfg.cases.amber_days else "ok"


def ts(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


def state_conflict(row: sqlite3.Row, action: str, allowed: tuple[str, ...]) -> Conflict:
    status = row["status"]
    need = "、".join(STATE_ZH[s] for s in allowed)
    return Conflict("case_state", f"办件 {row['number']} 当前为「{STATE_ZH[status]}」，"
                    f"不能{ACTION_ZH.get(action, action)}（须为：{need}）",
                    f"case {row['number']} is {status}: {action} needs it to be {' or '.join(allowed)}",
                    case=row["id"], state=status, action=action, allowed=list(allowed))


ACTION_ZH = {"accept": "受理", "request-supplement": "一次性告知补正", "materials": "补交材料", "refuse": "不予受理",
             "claim": "认领", "release": "退回认领", "reassign": "改派", "suspend": "暂停计时", "resume": "恢复计时",
             "extend": "延期", "report": "上报", "decide": "作出决定", "ready": "转待取件", "deliver": "出件",
             "withdraw": "撤回"}


def load(conn: sqlite3.Connection, case_id: int, action: str, allowed: tuple[str, ...]) -> sqlite3.Row:
    row = row_of(conn, case_id)
    if row["status"] not in allowed:
        raise state_conflict(row, action, allowed)
    return row


def snapshot(row: sqlite3.Row) -> dict:
    return json.loads(row["snapshot"])


def record(conn: sqlite3.Connection, ctx: CaseContext, row: sqlite3.Row, action: str, who: Principal | None,
           status: str, at: datetime, events: list[dict], **data) -> dict:
    """Append `case.<action>` for the case (no personal data: the stream is read by screens and the district)."""
    body = {"case": row["id"], "number": row["number"], "matter": row["matter"], "kind": row["kind"],
            "status": status, **{k: v for k, v in data.items() if v is not None}}
    event = append_event(conn, f"case.{action.replace('-', '_')}", at, body,
                         actor=who.username if who else None, ticket_id=row["ticket_id"], window=row["window"],
                         case_id=row["id"])
    events.append(event)
    if ctx.notify is not None:
        ctx.notify(conn, row, event, snapshot(row)["name"])
    if ctx.after is not None:
        events.extend(ctx.after(conn, row, event))
    return event


def set_fields(conn: sqlite3.Connection, case_id: int, at: datetime, **fields) -> None:
    cols = ", ".join(f"{k}=?" for k in fields)
    conn.execute(f"UPDATE cases SET {cols}, updated_at=? WHERE id=?", (*fields.values(), ts(at), case_id))


def may_act_for(who: Principal, department: str) -> bool:
    """A department officer acts only for their departments; supervisors and admins for all."""
    if who.role in ("supervisor", "admin"):
        return True
    return who.role == "department" and department in who.departments


def not_your_department(row: sqlite3.Row, who: Principal, departments: list[str]) -> Forbidden:
    return Forbidden("not_your_department",
                     f"办件 {row['number']} 由{'、'.join(departments)}办理，您所在部门无权处理",
                     f"case {row['number']} belongs to {', '.join(departments)}; {who.username} acts only for "
                     f"{', '.join(who.departments) or 'no department'}",
                     case=row["id"], departments=departments)


def claimed_by_other(row: sqlite3.Row, department: str, holder: str) -> Forbidden:
    return Forbidden("claimed_by_other",
                     f"办件 {row['number']}（{department}）已由 {holder} 认领，只有认领人可以处理；如需改派请联系主管",
                     f"case {row['number']} ({department}) is claimed by {holder}: only they act on it until it is "
                     "released or a supervisor reassigns it", case=row["id"], claimed_by=holder, department=department)
