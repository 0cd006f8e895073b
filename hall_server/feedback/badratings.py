"""The 差评 loop: every bad rating (levels 1–2) is followed 核实 (verify) → 整改 (rectify) → 反馈 (call the
citizen back) → 复核 (recheck) → closed, each step due in working days of the hall's calendar; a 申诉 (appeal)
upheld closes it and takes the rating out of the statistics. A named rating (its applicant left a phone) cannot
be rechecked without a call-back on record. Who may take each step is checked here (403) before its order (409).

Every step is one transaction: the record's new state, one row in `badrating_steps`, one `badrating.*` event."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from ..accounts.auth import Principal
from ..errors import Conflict, Forbidden, NotFound, Unprocessable
from ..store.database import Change
from ..store.events import append_event
from .base import LEVELS, FeedbackContext, ts

STATES = ("verify", "rectify", "callback", "recheck", "closed")
STATE_ZH = {"verify": "待核实", "rectify": "待整改", "callback": "待回访", "recheck": "待复核", "closed": "已办结"}
STEP_ZH = {"verify": "核实", "rectify": "整改", "callback": "反馈（回访）", "recheck": "复核", "appeal": "申诉",
           "appeal-decision": "申诉裁定"}
SUPERVISE = ("supervisor", "admin")


def row_of(conn: sqlite3.Connection, record_id: int) -> sqlite3.Row:
    row = None
    if abs(record_id) < 2**63:
        row = conn.execute("SELECT * FROM badratings WHERE id=?", (record_id,)).fetchone()
    if row is None:
        raise NotFound("badrating_not_found", f"没有编号为 {record_id} 的差评记录", f"no bad rating {record_id}",
                       badrating=record_id)
    return row


def open_record(conn: sqlite3.Connection, ctx: FeedbackContext, ev: sqlite3.Row, events: list[dict]) -> int:
    now = ctx.now()
    prefix = f"CP{ctx.local_day(now):%Y%m%d}-"
    n = conn.execute("SELECT COUNT(*) FROM badratings WHERE number LIKE ?", (prefix + "%",)).fetchone()[0] + 1
    due = ctx.due(ctx.policy.verify_working_days, now)
    rid = conn.execute(
        "INSERT INTO badratings (number, evaluation_id, opened_at, state, due, window, clerk, matter, departments,"
        " level, named, contact_case, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
        (f"{prefix}{n:03d}", ev["id"], ts(now), "verify", due, ev["window"], ev["clerk"], ev["matter"],
         ev["departments"], ev["level"], ev["named"], ev["contact_case"], ts(now))).fetchone()[0]
    events.append(_event(conn, "opened", now, rid, None, state="verify", due=due, evaluation=ev["id"],
                         level=ev["level"], named=bool(ev["named"])))
    return rid


def _event(conn: sqlite3.Connection, kind: str, at: datetime, rid: int, who: Principal | None, **data) -> dict:
    r = conn.execute("SELECT * FROM badratings WHERE id=?", (rid,)).fetchone()
    ev = conn.execute("SELECT ticket_id, case_id FROM evaluations WHERE id=?", (r["evaluation_id"],)).fetchone()
    body = {"badrating": rid, "number": r["number"], "window": r["window"], "clerk": r["clerk"],
            "matter": r["matter"], "by": who.username if who else None, **data}
    return append_event(conn, f"badrating.{kind}", at, body, actor=who.username if who else None,
                        ticket_id=ev["ticket_id"], case_id=ev["case_id"], window=r["window"])


def _step(conn: sqlite3.Connection, rid: int, step: str, due: str | None, at: datetime, who: Principal,
          note: str | None, **data) -> None:
    conn.execute("INSERT INTO badrating_steps (badrating_id, step, due, at, by, note, data) VALUES (?,?,?,?,?,?,?)",
                 (rid, step, due, ts(at), who.username, note,
                  json.dumps({k: v for k, v in data.items() if v is not None}, ensure_ascii=False)))


def _set(conn: sqlite3.Connection, rid: int, at: datetime, **fields) -> None:
    cols = ", ".join(f"{k}=?" for k in fields)
    conn.execute(f"UPDATE badratings SET {cols}, updated_at=? WHERE id=?", (*fields.values(), ts(at), rid))


def _forbidden(who: Principal, step: str, allowed: str) -> Forbidden:
    return Forbidden("role_forbidden", f"{who.username}（{who.role}）无权{STEP_ZH[step]}此差评（须为：{allowed}）",
                     f"{who.username} ({who.role}) may not {step} this bad rating; it needs: {allowed}",
                     role=who.role, step=step)


def _order(r: sqlite3.Row, step: str, need: tuple[str, ...]) -> Conflict:
    return Conflict("badrating_state", f"差评 {r['number']} 当前为「{STATE_ZH[r['state']]}」，不能{STEP_ZH[step]}"
                    f"（须为：{'、'.join(STATE_ZH[s] for s in need)}）",
                    f"bad rating {r['number']} is at {r['state']}: {step} needs it at {' or '.join(need)}",
                    state=r["state"], step=step, allowed=list(need))


def _text(value: str | None, field: str, zh: str) -> str:
    if not (value or "").strip():
        raise Unprocessable(f"{field}_required", f"请填写{zh}（{field}）", f"`{field}` is required")
    return value.strip()[:1000]


def _departments(r: sqlite3.Row) -> list[str]:
    return json.loads(r["departments"])


def may_rectify(conn: sqlite3.Connection, r: sqlite3.Row, who: Principal) -> bool:
    if who.role in SUPERVISE:
        return True
    if who.role == "department":
        return r["responsible_department"] is not None and r["responsible_department"] in who.departments
    if who.role == "clerk" and r["responsible_window"] is not None:
        w = conn.execute("SELECT clerk FROM windows WHERE number=?", (r["responsible_window"],)).fetchone()
        return who.username == r["clerk"] or (w is not None and w["clerk"] == who.username)
    return False


def may_appeal(r: sqlite3.Row, who: Principal) -> bool:
    if who.role in SUPERVISE:
        return True
    if who.role == "clerk":
        return who.username == r["clerk"]
    if who.role == "department":
        mine = set(who.departments)
        return bool(mine & {*_departments(r), r["responsible_department"]})
    return False


# -- the steps: each (conn, ctx, who, record id, **body) -> Change --------------------------------------------
def verify(conn, ctx: FeedbackContext, who: Principal, rid: int, finding: str | None = None,
           department: str | None = None, window: int | None = None) -> Change:
    if who.role not in SUPERVISE:
        raise _forbidden(who, "verify", "主管 supervisor")
    r = row_of(conn, rid)
    if r["state"] != "verify":
        raise _order(r, "verify", ("verify",))
    finding = _text(finding, "finding", "核实情况")
    known = {d for m in ctx.cfg.matters for d in m.deciders}
    if department is not None and department not in known:
        raise Unprocessable("unknown_department", f"本厅事项中没有部门：{department}",
                            f"no matter of this hall is decided by {department!r}", department=department)
    if window is not None and ctx.cfg.window(window) is None:
        raise Unprocessable("unknown_window", f"本厅没有 {window} 号窗口", f"this hall has no window {window}",
                            window=window)
    if department is None and window is None:       # by default the window that was rated puts it right
        window = r["window"]
        if window is None:
            department = (_departments(r) or [None])[0]
    now = ctx.now()
    due = ctx.due(ctx.policy.rectify_working_days, now)
    _set(conn, rid, now, state="rectify", due=due, deadline="ok", responsible_department=department,
         responsible_window=window)
    _step(conn, rid, "verify", r["due"], now, who, finding, department=department, window=window)
    return Change(rid, [_event(conn, "verified", now, rid, who, state="rectify", due=due,
                               responsible_department=department, responsible_window=window)])


def rectify(conn, ctx: FeedbackContext, who: Principal, rid: int, measures: str | None = None) -> Change:
    r = row_of(conn, rid)
    if who.role not in (*SUPERVISE, "department", "clerk") or (
            r["state"] == "rectify" and not may_rectify(conn, r, who)):
        raise _forbidden(who, "rectify", "责任部门或窗口、主管")
    if r["state"] != "rectify":
        raise _order(r, "rectify", ("rectify",))
    measures = _text(measures, "measures", "整改措施")
    now = ctx.now()
    due = ctx.due(ctx.policy.callback_working_days, now)
    _set(conn, rid, now, state="callback", due=due, deadline="ok")
    _step(conn, rid, "rectify", r["due"], now, who, measures)
    return Change(rid, [_event(conn, "rectified", now, rid, who, state="callback", due=due)])


def callback(conn, ctx: FeedbackContext, who: Principal, rid: int, result: str | None = None,
             reached: bool = True, satisfied: bool | None = None) -> Change:
    if who.role not in (*SUPERVISE, "clerk"):
        raise _forbidden(who, "callback", "主管或窗口工作人员")
    r = row_of(conn, rid)
    if r["state"] != "callback":
        raise _order(r, "callback", ("callback",))
    result = _text(result, "result", "回访结果")
    now = ctx.now()
    if not reached:         # an attempt on record; a named rating waits for the citizen to be reached
        _step(conn, rid, "callback", r["due"], now, who, result, reached=False)
        if r["named"]:
            return Change(rid, [_event(conn, "callback_attempted", now, rid, who, state="callback", due=r["due"])])
    due = ctx.due(ctx.policy.recheck_working_days, now)
    _set(conn, rid, now, state="recheck", due=due, deadline="ok")
    if reached:
        _step(conn, rid, "callback", r["due"], now, who, result, reached=True, satisfied=satisfied)
    return Change(rid, [_event(conn, "called_back", now, rid, who, state="recheck", due=due, reached=reached,
                               satisfied=satisfied)])


def recheck(conn, ctx: FeedbackContext, who: Principal, rid: int, note: str | None = None,
            passed: bool = True) -> Change:
    if who.role not in SUPERVISE:
        raise _forbidden(who, "recheck", "主管 supervisor")
    r = row_of(conn, rid)
    if r["state"] == "callback" and r["named"]:
        raise Conflict("callback_required", f"差评 {r['number']} 为实名评价，须先回访群众（反馈）才能复核",
                       f"bad rating {r['number']} is named: the citizen must be called back before the recheck",
                       state=r["state"])
    if r["state"] not in ("recheck", "callback"):      # an anonymous rating has nobody to call back
        raise _order(r, "recheck", ("recheck",))
    note = _text(note, "note", "复核意见")
    now = ctx.now()
    _step(conn, rid, "recheck", r["due"], now, who, note, passed=passed,
          skipped_callback=r["state"] == "callback" or None)
    if not passed:          # not put right: back to 整改, with a new due date
        due = ctx.due(ctx.policy.rectify_working_days, now)
        _set(conn, rid, now, state="rectify", due=due, deadline="ok")
        return Change(rid, [_event(conn, "recheck_failed", now, rid, who, state="rectify", due=due)])
    _set(conn, rid, now, state="closed", due=None, deadline="ok", closed_at=ts(now), closed_how="rechecked")
    return Change(rid, [_event(conn, "closed", now, rid, who, state="closed", how="rechecked")])


def appeal(conn, ctx: FeedbackContext, who: Principal, rid: int, reason: str | None = None) -> Change:
    r = row_of(conn, rid)
    if not may_appeal(r, who):
        raise _forbidden(who, "appeal", "被评价的工作人员、相关部门或主管")
    if r["state"] == "closed" or r["appeal"] is not None:
        raise Conflict("appeal_not_open", f"差评 {r['number']} 已办结或已申诉过，不能再申诉",
                       f"bad rating {r['number']} is closed or was appealed already: one appeal, before it closes",
                       state=r["state"], appeal=r["appeal"])
    reason = _text(reason, "reason", "申诉理由")
    now = ctx.now()
    due = ctx.due(ctx.policy.appeal_working_days, now)
    _set(conn, rid, now, appeal="pending", appeal_due=due)
    conn.execute("UPDATE evaluations SET appeal='pending' WHERE id=?", (r["evaluation_id"],))
    _step(conn, rid, "appeal", None, now, who, reason)
    return Change(rid, [_event(conn, "appealed", now, rid, who, state=r["state"], appeal="pending", due=due)])


def appeal_decision(conn, ctx: FeedbackContext, who: Principal, rid: int, upheld: bool | None = None,
                    note: str | None = None) -> Change:
    if who.role not in SUPERVISE:
        raise _forbidden(who, "appeal-decision", "主管 supervisor")
    r = row_of(conn, rid)
    if r["appeal"] != "pending":
        raise Conflict("no_appeal", f"差评 {r['number']} 没有待裁定的申诉", f"bad rating {r['number']} has no "
                       "pending appeal", appeal=r["appeal"])
    if upheld is None:
        raise Unprocessable("upheld_required", "请裁定申诉是否成立（upheld: true/false）",
                            "say whether the appeal is upheld: `upheld` true or false")
    note = _text(note, "note", "裁定意见")
    now = ctx.now()
    verdict = "upheld" if upheld else "rejected"
    _step(conn, rid, "appeal_decision", r["appeal_due"], now, who, note, upheld=upheld)
    conn.execute("UPDATE evaluations SET appeal=?, excluded=? WHERE id=?", (verdict, int(upheld), r["evaluation_id"]))
    if upheld:              # a rating by mistake or in bad faith: out of the statistics, the loop closed
        _set(conn, rid, now, appeal=verdict, state="closed", due=None, deadline="ok", closed_at=ts(now),
             closed_how="appeal_upheld")
        return Change(rid, [_event(conn, "appeal_upheld", now, rid, who, state="closed", appeal=verdict)])
    _set(conn, rid, now, appeal=verdict)
    return Change(rid, [_event(conn, "appeal_rejected", now, rid, who, state=r["state"], appeal=verdict)])


STEPS = {"verify": (verify, ("finding", "department", "window")), "rectify": (rectify, ("measures",)),
         "callback": (callback, ("result", "reached", "satisfied")), "recheck": (recheck, ("note", "passed")),
         "appeal": (appeal, ("reason",)), "appeal-decision": (appeal_decision, ("upheld", "note"))}


# -- due steps: the watch colours them and alerts once per turn ---------------------------------------------
def _due_now(r: sqlite3.Row) -> str | None:
    """The earliest of the current step's due day and a pending appeal's."""
    days = [d for d in (r["due"], r["appeal_due"] if r["appeal"] == "pending" else None) if d]
    return min(days) if days else None


def refresh(conn: sqlite3.Connection, ctx: FeedbackContext) -> Change:
    today = ctx.local_day()
    events: list[dict] = []
    now = ctx.now()
    for r in conn.execute("SELECT * FROM badratings WHERE state != 'closed'").fetchall():
        colour = ctx.colour(_due_now(r), today)
        if colour == r["deadline"]:
            continue
        conn.execute("UPDATE badratings SET deadline=? WHERE id=?", (colour, r["id"]))
        step = "appeal-decision" if r["appeal"] == "pending" and r["appeal_due"] == _due_now(r) else r["state"]
        events.append(_event(conn, "deadline", now, r["id"], None, deadline=colour, was=r["deadline"],
                             step=step, due=_due_now(r)))
        if colour != "ok":
            zh, en = ("已超期", "is overdue") if colour == "red" else ("即将到期", "is due soon")
            events.append(append_event(conn, "alert.raised", now, {
                "kind": "badrating_overdue" if colour == "red" else "badrating_due_soon", "device": None,
                "badrating": r["id"], "step": step,
                "detail": f"差评 {r['number']}（{r['window'] or '—'} 号窗口，{LEVELS[r['level']][0]}）{STEP_ZH[step]}"
                          f"{zh}（{_due_now(r)}） / bad rating {r['number']}: {step} {en} ({_due_now(r)})"},
                window=r["window"]))
    return Change(len(events), events)
