"""The back office (后台分类审批): departments claim their task of a case, suspend and resume its clock
(特别程序), extend it with an approver, report it upward (上报件), and decide it. A 联办件 has one task per
department, each claimed and decided on its own; the case is decided when every task is.

Only the officer who claimed a task acts on it until they release it or a supervisor reassigns it.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import date

from ..accounts.auth import Principal
from ..errors import Conflict, Forbidden, Unprocessable
from ..store.database import Change
from .base import (
    CaseContext,
    claimed_by_other,
    load,
    may_act_for,
    not_your_department,
    record,
    set_fields,
    snapshot,
    ts,
)
from .records import tasks_of

MAX_EXTENSION = 30


def _task(conn: sqlite3.Connection, row: sqlite3.Row, who: Principal, department: str | None,
          *, claimable: bool = False) -> dict:
    """The task `who` acts on: the named department's, else the only one of the case that is theirs."""
    tasks = tasks_of(conn, row["id"], snapshot(row)["deciders"])
    if department is not None:
        chosen = [t for t in tasks if t["department"] == department]
        if not chosen:
            raise Unprocessable("unknown_department", f"办件 {row['number']} 没有「{department}」的审批任务",
                                f"case {row['number']} has no task for {department!r}; its departments: "
                                f"{', '.join(t['department'] for t in tasks)}",
                                departments=[t["department"] for t in tasks])
    else:
        chosen = [t for t in tasks if may_act_for(who, t["department"])]
        if len(chosen) > 1:
            mine = [t for t in chosen if t["claimed_by"] == who.username]
            open_ = [t for t in chosen if t["state"] == "open"]
            chosen = mine or (open_ if claimable else []) or chosen
            if len(chosen) > 1:
                raise Unprocessable("department_required", "此为联办件，请指明部门（department）",
                                    f"case {row['number']} has tasks for {', '.join(t['department'] for t in chosen)}: "
                                    "name the one you act for in `department`",
                                    departments=[t["department"] for t in chosen])
    if not chosen or not may_act_for(who, chosen[0]["department"]):
        raise not_your_department(row, who, [t["department"] for t in tasks])
    return chosen[0]


def _holder_only(row: sqlite3.Row, task: dict, who: Principal) -> None:
    if task["state"] != "claimed":
        raise Conflict("not_claimed", f"办件 {row['number']}（{task['department']}）尚未认领，请先认领",
                       f"case {row['number']} ({task['department']}) is not claimed: claim it first",
                       case=row["id"], department=task["department"])
    if task["claimed_by"] != who.username:
        raise claimed_by_other(row, task["department"], task["claimed_by"])


def _set_task(conn: sqlite3.Connection, case_id: int, department: str, **fields) -> None:
    cols = ", ".join(f"{k}=?" for k in fields)
    conn.execute(f"UPDATE case_tasks SET {cols} WHERE case_id=? AND department=?",
                 (*fields.values(), case_id, department))


def claim(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int,
          department: str | None = None) -> Change:
    events: list[dict] = []
    row = load(conn, case_id, "claim", ("accepted", "in_review"))
    task = _task(conn, row, who, department, claimable=True)
    if task["state"] == "decided":
        raise Conflict("task_decided", f"{task['department']}已对办件 {row['number']} 作出决定",
                       f"{task['department']} has already decided its part of case {row['number']}",
                       case=case_id, department=task["department"])
    if task["state"] == "claimed":
        if task["claimed_by"] == who.username:
            return Change(case_id, [])                 # claimed already, by the same officer: nothing changes
        raise claimed_by_other(row, task["department"], task["claimed_by"])
    now = ctx.now()
    _set_task(conn, case_id, task["department"], state="claimed", claimed_by=who.username, claimed_at=ts(now))
    if row["status"] == "accepted":
        set_fields(conn, case_id, now, status="in_review")
    record(conn, ctx, row, "claimed", who, "in_review", now, events, department=task["department"])
    return Change(case_id, events)


def release(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int,
            department: str | None = None) -> Change:
    events: list[dict] = []
    row = load(conn, case_id, "release", ("in_review",))
    task = _task(conn, row, who, department)
    if who.role not in ("supervisor", "admin"):
        _holder_only(row, task, who)
    elif task["state"] != "claimed":
        raise Conflict("not_claimed", f"办件 {row['number']}（{task['department']}）未被认领",
                       f"case {row['number']} ({task['department']}) is not claimed", case=case_id)
    now = ctx.now()
    _set_task(conn, case_id, task["department"], state="open", claimed_by=None, claimed_at=None)
    status = row["status"]
    others = [t for t in tasks_of(conn, case_id, snapshot(row)["deciders"]) if t["state"] != "open"]
    if not others:
        status = "accepted"
        set_fields(conn, case_id, now, status=status)
    record(conn, ctx, row, "released", who, status, now, events, department=task["department"])
    return Change(case_id, events)


def reassign(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int, to: str,
             department: str | None = None) -> Change:
    """A supervisor gives a task to another officer of its department."""
    events: list[dict] = []
    row = load(conn, case_id, "reassign", ("accepted", "in_review", "suspended"))
    task = _task(conn, row, who, department, claimable=True)
    user = conn.execute("SELECT role, departments, disabled FROM users WHERE username=?", (to,)).fetchone()
    deps = json.loads(user["departments"]) if user and user["departments"] else []
    if user is None or user["disabled"] or user["role"] != "department" or task["department"] not in deps:
        raise Unprocessable("bad_assignee", f"{to} 不是{task['department']}的在岗人员",
                            f"{to!r} is not an active officer of {task['department']}", to=to)
    if task["state"] == "decided":
        raise Conflict("task_decided", f"{task['department']}已作出决定，不能改派",
                       f"{task['department']} has decided already", case=case_id)
    now = ctx.now()
    _set_task(conn, case_id, task["department"], state="claimed", claimed_by=to, claimed_at=ts(now))
    status = "in_review" if row["status"] == "accepted" else row["status"]
    if status != row["status"]:
        set_fields(conn, case_id, now, status=status)
    record(conn, ctx, row, "reassigned", who, status, now, events, department=task["department"], to=to,
           previous=task["claimed_by"])
    return Change(case_id, events)


def suspend(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int, reason: str,
            department: str | None = None) -> Change:
    """特别程序 (inspection, testing, expert review, hearings) or 补正 during review: the clock stops."""
    events: list[dict] = []
    row = load(conn, case_id, "suspend", ("in_review",))
    task = _task(conn, row, who, department)
    if who.role not in ("supervisor", "admin"):
        _holder_only(row, task, who)
    now = ctx.now()
    set_fields(conn, case_id, now, status="suspended", suspended_on=ctx.local_day(now).isoformat())
    record(conn, ctx, row, "suspended", who, "suspended", now, events, department=task["department"],
           reason=reason)
    return Change(case_id, events)


def resume(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int,
           department: str | None = None) -> Change:
    """The clock runs again; both due dates move by the working days actually suspended."""
    events: list[dict] = []
    row = load(conn, case_id, "resume", ("suspended",))
    task = _task(conn, row, who, department)
    if who.role not in ("supervisor", "admin") and task["claimed_by"] != who.username:
        raise claimed_by_other(row, task["department"], task["claimed_by"] or "—")
    now = ctx.now()
    today = ctx.local_day(now)
    days = ctx.calendar.working_days_between(date.fromisoformat(row["suspended_on"]), today)
    due = ctx.calendar.add_working_days(date.fromisoformat(row["due"]), days)
    legal = ctx.calendar.add_working_days(date.fromisoformat(row["legal_due"]), days)
    set_fields(conn, case_id, now, status="in_review", suspended_on=None, suspended_days=row["suspended_days"] + days,
               due=due.isoformat(), legal_due=legal.isoformat(),
               deadline=ctx.deadline("in_review", due.isoformat(), today))
    record(conn, ctx, row, "resumed", who, "in_review", now, events, department=task["department"],
           working_days=days, due=due.isoformat(), legal_due=legal.isoformat())
    return Change(case_id, events)


def extend(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int, working_days: int,
           reason: str, approver: str | None = None) -> Change:
    """延期 with the approver's name and a reason: both due dates move; the applicant is to be told."""
    events: list[dict] = []
    row = load(conn, case_id, "extend", ("accepted", "in_review", "suspended"))
    if not 1 <= working_days <= MAX_EXTENSION:
        raise Unprocessable("bad_extension", f"延期天数须为 1–{MAX_EXTENSION} 个工作日",
                            f"working_days must be 1..{MAX_EXTENSION}", working_days=working_days)
    now = ctx.now()
    due = ctx.calendar.add_working_days(date.fromisoformat(row["due"]), working_days)
    legal = ctx.calendar.add_working_days(date.fromisoformat(row["legal_due"]), working_days)
    set_fields(conn, case_id, now, extended_days=row["extended_days"] + working_days, due=due.isoformat(),
               legal_due=legal.isoformat(), deadline=ctx.deadline(row["status"], due.isoformat()))
    record(conn, ctx, row, "extended", who, row["status"], now, events, working_days=working_days,
           reason=reason, approver=approver or who.username, due=due.isoformat(), legal_due=legal.isoformat())
    return Change(case_id, events)


def report(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int, opinion: str,
           authority: str | None = None) -> Change:
    """上报件: the first opinion, and the higher authority it went to; the case waits for its answer."""
    events: list[dict] = []
    row = load(conn, case_id, "report", ("in_review",))
    snap = snapshot(row)
    if snap["kind"] != "上报":
        raise Conflict("not_reportable", f"办件 {row['number']} 不是上报件", f"case {row['number']} is "
                       f"{snap['kind']}, not 上报: decide it (POST …/decide)", case=case_id)
    task = _task(conn, row, who, None)
    if who.role not in ("supervisor", "admin"):
        _holder_only(row, task, who)
    authority = authority or snap.get("authority")
    if not authority:
        raise Unprocessable("authority_required", "请填写上报的上级机关（authority）",
                            "name the higher authority (`authority`): the matter's config names none")
    now = ctx.now()
    set_fields(conn, case_id, now, report=json.dumps(
        {"authority": authority, "opinion": opinion, "at": ts(now), "by": who.username}, ensure_ascii=False))
    record(conn, ctx, row, "reported", who, "in_review", now, events, department=task["department"],
           authority=authority)
    return Change(case_id, events)


def decide(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int, outcome: str,
           opinion: str | None = None, department: str | None = None) -> Change:
    events: list[dict] = []
    row = load(conn, case_id, "decide", ("accepted", "in_review"))
    snap = snapshot(row)
    now = ctx.now()
    if snap["kind"] == "即办":
        # decided at the window in one sitting by the clerk who took it in (or a supervisor)
        if who.role not in ("clerk", "supervisor", "admin"):
            raise Forbidden("window_decides", "即办件由窗口当场办结", "a 即办 case is decided at the window by a "
                            "clerk", case=case_id)
        task = tasks_of(conn, case_id, snap["deciders"])[0]
        if task["state"] == "claimed" and task["claimed_by"] != who.username and who.role == "clerk":
            raise claimed_by_other(row, task["department"], task["claimed_by"])
    else:
        if row["status"] != "in_review":
            raise Conflict("not_claimed", f"办件 {row['number']} 尚未被部门认领", f"case {row['number']} is not "
                           "under review yet: a department officer claims it first", case=case_id)
        task = _task(conn, row, who, department)
        _holder_only(row, task, who)
        if snap["kind"] == "上报" and not row["report"]:
            raise Conflict("not_reported", f"上报件 {row['number']} 须先上报上级机关", f"case {row['number']} "
                           "is 上报: report it with the first opinion (POST …/report) before recording the answer",
                           case=case_id)
    _set_task(conn, case_id, task["department"], state="decided", outcome=outcome, opinion=opinion,
              decided_at=ts(now), decided_by=who.username)
    tasks = tasks_of(conn, case_id, snap["deciders"])
    if len(tasks) > 1:
        record(conn, ctx, row, "task_decided", who, row["status"], now, events, department=task["department"],
               outcome=outcome)
    if all(t["state"] == "decided" for t in tasks):
        final = "approved" if all(t["outcome"] == "approved" for t in tasks) else "rejected"
        text = opinion if len(tasks) == 1 else "；".join(
            f"{t['department']}：{t['opinion'] or ('准予' if t['outcome'] == 'approved' else '不予')}" for t in tasks)
        set_fields(conn, case_id, now, status="decided", outcome=final, opinion=text, decided_at=ts(now),
                   deadline="ok")
        on_time = row["due"] is None or ctx.local_day(now).isoformat() <= row["due"]
        record(conn, ctx, row, "decided", who, "decided", now, events, outcome=final, on_time=on_time,
               department=task["department"] if len(tasks) == 1 else None)
    return Change(case_id, events)
