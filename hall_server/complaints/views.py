"""Reads of complaints: one with its steps, the list (filters status / class / department / overdue) and the
台账 (ledger) as CSV. The contact's phone and name are masked in every listing and in the ledger; only the single
complaint, read by a supervisor or the 办不成事 window's clerk (who call the citizen back), shows them whole."""
from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import datetime

from .base import CLASS_ZH, CLOSE_REASONS, NEXT, OPEN, STATUS_ZH, STEP_ZH, ComplaintContext, mask_name, mask_phone
from .steps import row_of

MAX_ROWS = 2000


def complaint_of(conn: sqlite3.Connection, ctx: ComplaintContext, r: sqlite3.Row, *, steps: bool = True,
                 contact: bool = False) -> dict:
    nxt = [NEXT[r["status"]]] if NEXT[r["status"]] else []
    if r["status"] == "assigned":
        nxt.append("assign")
    if r["status"] in ("registered", "classified", "assigned"):
        nxt.append("close")
    case_number = None
    if r["case_id"] is not None:
        c = conn.execute("SELECT number FROM cases WHERE id=?", (r["case_id"],)).fetchone()
        case_number = c["number"] if c else None
    if r["contact_name"] is None and r["contact_phone"] is None:
        who = None
    elif contact:
        who = {"name": r["contact_name"], "phone": r["contact_phone"]}
    else:
        who = {"name": mask_name(r["contact_name"]), "phone": mask_phone(r["contact_phone"])}
    out = {"id": r["id"], "number": r["number"], "text": r["text"], "case": r["case_id"],
           "case_number": case_number, "matter": r["matter"], "matter_name": ctx.matter_name(r["matter"]),
           "window": r["window"], "department": r["department"], "channel": r["channel"],
           "registered_by": r["registered_by"], "registered_at": r["registered_at"], "contact": who,
           "contact_masked": not contact, "class": r["class"], "class_name": CLASS_ZH.get(r["class"]),
           "assigned_department": r["responsible_department"], "status": r["status"],
           "status_name": STATUS_ZH[r["status"]], "due": r["due"], "answer_due": r["answer_due"],
           "deadline": ctx.colour(r["due"]) if r["status"] in OPEN else "ok",
           "answered_at": r["answered_at"], "closed_at": r["closed_at"], "closed_reason": r["closed_reason"],
           "closed_reason_name": CLOSE_REASONS.get(r["closed_reason"]), "next": nxt}
    if steps:
        out["steps"] = [{"step": s["step"], "name": STEP_ZH.get(s["step"], s["step"]), "at": s["at"],
                         "by": s["by"], "due": s["due"], "text": s["text"], **json.loads(s["data"] or "{}")}
                        for s in conn.execute("SELECT * FROM complaint_steps WHERE complaint_id=? ORDER BY id",
                                              (r["id"],))]
    return out


def complaint(conn: sqlite3.Connection, ctx: ComplaintContext, cid: int, contact: bool) -> dict:
    return complaint_of(conn, ctx, row_of(conn, cid), contact=contact)


def complaints(conn: sqlite3.Connection, ctx: ComplaintContext, *, status: str | None = None, cls: str | None = None,
               department: str | None = None, overdue: bool | None = None, mine: tuple[str, ...] | None = None,
               limit: int = 500, steps: bool = False) -> list[dict]:
    where, args = ["1=1"], []
    if status == "open":
        where.append(f"status IN ({','.join('?' * len(OPEN))})")
        args += OPEN
    elif status:
        where.append("status = ?")
        args.append(status)
    if cls:
        where.append("class = ?")
        args.append(cls)
    if department:
        where.append("(responsible_department = ? OR (responsible_department IS NULL AND department = ?))")
        args += [department, department]
    if mine is not None:            # a department account: what was passed to (or named) its departments
        marks = ",".join("?" * len(mine)) or "NULL"
        where.append(f"(responsible_department IN ({marks}) OR department IN ({marks}))")
        args += [*mine, *mine]
    if overdue is not None:         # past its due day in working days (a due day on a Saturday is red on Monday)
        where.append(f"status IN ({','.join('?' * len(OPEN))})")
        args += OPEN
        if overdue:
            where.append("due < ?")
            args.append(ctx.local_day().isoformat())
    rows = conn.execute(f"SELECT * FROM complaints WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
                        (*args, max(1, min(limit, MAX_ROWS)))).fetchall()
    out = [complaint_of(conn, ctx, r, steps=steps) for r in rows]
    if overdue is not None:
        out = [c for c in out if (c["deadline"] == "red") == overdue]
    return out


LEDGER = [("number", "编号 Number"), ("registered_at", "受理时间 Registered"), ("channel", "渠道 Channel"),
          ("text", "反映内容 Complaint"), ("case_number", "办件 Case"), ("matter_name", "事项 Matter"),
          ("window", "窗口 Window"), ("contact", "联系人 Contact"), ("class_name", "分类 Class"),
          ("assigned_department", "承办部门 Department"), ("status_name", "状态 Status"), ("due", "当前期限 Due"),
          ("answer_due", "答复期限 Answer due"), ("deadline", "期限 Deadline"), ("answer", "办结答复 Answer"),
          ("feedback", "反馈 Feedback"), ("check", "核查 Checked"), ("file", "备案 Filed"),
          ("closed_reason_name", "终止原因 Closed as")]


def _local(ctx: ComplaintContext, at: str | None) -> str:
    return datetime.fromisoformat(at).astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M") if at else ""


def _cell(c: dict, key: str, ctx: ComplaintContext) -> str:
    if key in ("answer", "feedback", "check", "file"):
        return " | ".join(f"{_local(ctx, s['at'])} {s['by']}：{s['text'] or ''}" for s in c["steps"]
                          if s["step"] == key)
    value = c.get(key)
    if key == "contact":
        value = " ".join(v for v in (value or {}).values() if v)
    elif key == "registered_at":
        value = _local(ctx, value)
    return "" if value is None else str(value)


def ledger_csv(conn: sqlite3.Connection, ctx: ComplaintContext, status: str | None = None) -> bytes:
    """The 台账: every complaint with each step, contacts masked, UTF-8 with a BOM so that Excel reads Chinese."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([title for _k, title in LEDGER])
    for c in complaints(conn, ctx, status=status, limit=MAX_ROWS, steps=True):
        w.writerow([_cell(c, k, ctx) for k, _t in LEDGER])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
