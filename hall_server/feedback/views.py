"""Reads of ratings: the evaluations list, one 差评 record with its steps, the open ones with their due steps,
the 台账 (ledger) as CSV, and the satisfaction figures per window, clerk, matter and department (好评率 = levels
4–5 among rated; a rating whose 申诉 was upheld is left out). Nothing here writes."""
from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import date

from .badratings import STATE_ZH, STEP_ZH, row_of
from .base import LEVELS, FeedbackContext, evaluation_of

MAX_ROWS = 2000
NEXT = {"verify": ["verify"], "rectify": ["rectify"], "callback": ["callback"], "recheck": ["recheck"], "closed": []}


def evaluations(conn: sqlite3.Connection, ctx: FeedbackContext, *, first: date, last: date,
                window: int | None = None, level: int | None = None, limit: int = 500) -> list[dict]:
    start, end = ctx.day_span(first, last)
    where, args = ["e.at >= ? AND e.at < ?"], [start, end]
    if window is not None:
        where.append("e.window = ?")
        args.append(window)
    if level is not None:
        where.append("e.level = ?")
        args.append(level)
    rows = conn.execute(f"SELECT e.*, b.id AS badrating FROM evaluations e LEFT JOIN badratings b ON"
                        f" b.evaluation_id = e.id WHERE {' AND '.join(where)} ORDER BY e.id DESC LIMIT ?",
                        (*args, max(1, min(limit, MAX_ROWS)))).fetchall()
    return [evaluation_of(ctx, r, r["badrating"]) for r in rows]


def _mask(phone: str | None) -> str | None:
    p = (phone or "").strip()
    return f"{p[:3]}****{p[-4:]}" if len(p) >= 8 else ("****" if p else None)


def badrating_of(conn: sqlite3.Connection, ctx: FeedbackContext, r: sqlite3.Row, *, steps: bool = True,
                 contact: bool = False) -> dict:
    ev = conn.execute("SELECT * FROM evaluations WHERE id=?", (r["evaluation_id"],)).fetchone()
    due = min(d for d in (r["due"], r["appeal_due"] if r["appeal"] == "pending" else None, "9999-12-31") if d)
    nxt = list(NEXT[r["state"]])
    if r["state"] == "callback" and not r["named"]:
        nxt.append("recheck")           # nobody to call back: the recheck may follow the rectification
    if r["state"] != "closed" and r["appeal"] is None:
        nxt.append("appeal")
    if r["appeal"] == "pending":
        nxt.append("appeal-decision")
    out = {"id": r["id"], "number": r["number"], "evaluation": r["evaluation_id"], "level": r["level"],
           "level_name": LEVELS[r["level"]][0], "reasons": json.loads(ev["reasons"]), "channel": ev["channel"],
           "rated_at": ev["at"], "ticket": ev["ticket_id"], "case": ev["case_id"], "handling": ev["number"],
           "window": r["window"], "clerk": r["clerk"], "matter": r["matter"],
           "matter_name": ctx.matter_name(r["matter"]),
           "departments": json.loads(r["departments"]), "named": bool(r["named"]), "state": r["state"],
           "state_name": STATE_ZH[r["state"]], "due": r["due"],
           "deadline": ctx.colour(due if due != "9999-12-31" else None) if r["state"] != "closed" else "ok",
           "responsible": {"department": r["responsible_department"], "window": r["responsible_window"]},
           "appeal": r["appeal"], "appeal_due": r["appeal_due"], "opened_at": r["opened_at"],
           "closed_at": r["closed_at"], "closed_how": r["closed_how"], "next": nxt}
    if contact and r["contact_case"] is not None:
        c = conn.execute("SELECT number, applicant_phone FROM cases WHERE id=?", (r["contact_case"],)).fetchone()
        out["contact"] = {"case": c["number"], "phone": c["applicant_phone"]} if c else None
    elif r["contact_case"] is not None:
        c = conn.execute("SELECT applicant_phone FROM cases WHERE id=?", (r["contact_case"],)).fetchone()
        out["contact"] = {"phone_masked": _mask(c["applicant_phone"]) if c else None}
    if steps:
        out["steps"] = [{"step": s["step"], "name": STEP_ZH.get(s["step"].replace("_", "-"), s["step"]),
                         "at": s["at"], "by": s["by"], "due": s["due"], "note": s["note"],
                         **json.loads(s["data"] or "{}")}
                        for s in conn.execute("SELECT * FROM badrating_steps WHERE badrating_id=? ORDER BY id",
                                              (r["id"],))]
    return out


def badrating(conn: sqlite3.Connection, ctx: FeedbackContext, rid: int, contact: bool) -> dict:
    return badrating_of(conn, ctx, row_of(conn, rid), contact=contact)


def badratings(conn: sqlite3.Connection, ctx: FeedbackContext, *, state: str | None = None,
               departments: tuple[str, ...] | None = None, limit: int = 500, steps: bool = False) -> list[dict]:
    where, args = ["1=1"], []
    if state == "open":
        where.append("state != 'closed'")
    elif state:
        where.append("state = ?")
        args.append(state)
    rows = conn.execute(f"SELECT * FROM badratings WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
                        (*args, max(1, min(limit, MAX_ROWS)))).fetchall()
    out = [badrating_of(conn, ctx, r, steps=steps) for r in rows]
    if departments is not None:         # a department account sees the records of its departments
        mine = set(departments)
        out = [b for b in out if mine & {*b["departments"], b["responsible"]["department"]}]
    return out


LEDGER = [("number", "编号 Number"), ("rated_at", "评价时间 Rated at"), ("window", "窗口 Window"),
          ("clerk", "工作人员 Clerk"), ("matter_name", "事项 Matter"), ("departments", "部门 Departments"),
          ("level_name", "评价等级 Level"), ("reasons", "原因 Reasons"), ("channel", "渠道 Channel"),
          ("named", "实名 Named"), ("state_name", "状态 State"), ("due", "当前期限 Due"), ("deadline", "期限 Deadline"),
          ("responsible", "责任部门/窗口 Responsible"), ("verify", "核实 Verified"), ("rectify", "整改 Rectified"),
          ("callback", "回访 Called back"), ("recheck", "复核 Rechecked"), ("appeal", "申诉 Appeal"),
          ("closed_at", "办结时间 Closed at"), ("closed_how", "办结方式 Closed how")]


def _cell(b: dict, key: str, ctx: FeedbackContext) -> str:
    if key in ("verify", "rectify", "callback", "recheck"):
        done = [s for s in b["steps"] if s["step"] == key]
        return " | ".join(f"{_local(ctx, s['at'])} {s['by']}：{s['note'] or ''}" for s in done)
    if key == "appeal":
        steps = [s for s in b["steps"] if s["step"] in ("appeal", "appeal_decision")]
        parts = [f"{'申诉' if s['step'] == 'appeal' else '裁定'} {_local(ctx, s['at'])} {s['by']}：{s['note'] or ''}"
                 for s in steps]
        return " | ".join([b["appeal"] or "", *parts]).strip(" |")
    value = b.get(key)
    if key == "responsible":
        value = value["department"] or (f"{value['window']} 号窗口" if value["window"] else "")
    elif key in ("rated_at", "closed_at"):
        value = _local(ctx, value) if value else ""
    elif isinstance(value, list):
        value = "、".join(map(str, value))
    elif isinstance(value, bool):
        value = "是" if value else "否"
    return "" if value is None else str(value)


def _local(ctx: FeedbackContext, at: str) -> str:
    from datetime import datetime
    return datetime.fromisoformat(at).astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M")


def ledger_csv(conn: sqlite3.Connection, ctx: FeedbackContext, state: str | None = None) -> bytes:
    """The 台账: every 差评 record with each step, UTF-8 with a BOM so that Excel reads the Chinese right."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([title for _k, title in LEDGER])
    for b in badratings(conn, ctx, state=state, limit=MAX_ROWS, steps=True):
        w.writerow([_cell(b, k, ctx) for k, _t in LEDGER])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


# -- satisfaction ---------------------------------------------------------------------------------------
def _blank() -> dict:
    return {"rated": 0, "good": 0, "neutral": 0, "bad": 0, "not_rated": 0}


def _finish(key, name, c: dict) -> dict:
    return {"key": key, "name": name, **c, "good_rate": round(c["good"] / c["rated"], 4) if c["rated"] else None}


def summary(conn: sqlite3.Connection, ctx: FeedbackContext, first: date, last: date) -> dict:
    start, end = ctx.day_span(first, last)
    by: dict[str, dict] = {"window": {}, "clerk": {}, "matter": {}, "department": {}}
    total = _blank()

    departments: dict[str, list] = {}

    def count(row: sqlite3.Row, **n: int) -> None:
        text = row["departments"]
        if text not in departments:
            departments[text] = json.loads(text) or [None]
        keys = {"window": [row["window"]], "clerk": [row["clerk"]], "matter": [row["matter"]],
                "department": departments[text]}
        for dim, ks in keys.items():
            for k in ks:
                c = by[dim].setdefault(k, _blank())
                for field, v in n.items():
                    c[field] += v
        for field, v in n.items():
            total[field] += v

    # grouped in SQL: a month of a district centre's 30,000 ratings is a few hundred groups
    for r in conn.execute("SELECT window, clerk, matter, departments, COUNT(*) AS rated,"
                          " SUM(level >= 4) AS good, SUM(level = 3) AS neutral, SUM(level <= 2) AS bad"
                          " FROM evaluations WHERE at >= ? AND at < ? AND excluded = 0"
                          " GROUP BY window, clerk, matter, departments", (start, end)):
        count(r, rated=r["rated"], good=r["good"], neutral=r["neutral"], bad=r["bad"])
    for r in conn.execute("SELECT window, clerk, matter, departments, COUNT(*) AS n FROM rating_prompts"
                          " WHERE created_at >= ? AND created_at < ? AND state = 'not_rated' AND why != 'remote'"
                          " GROUP BY window, clerk, matter, departments", (start, end)):
        count(r, not_rated=r["n"])
    names = {"window": lambda k: (ctx.cfg.window(k).name if k is not None and ctx.cfg.window(k) else None),
             "clerk": lambda k: k, "matter": lambda k: ctx.matter_name(k) if k else None, "department": lambda k: k}
    out_by = {dim: sorted((_finish(k, names[dim](k), c) for k, c in rows.items()),
                          key=lambda x: (x["key"] is None, str(x["key"]) if dim != "window" else x["key"] or 0))
              for dim, rows in by.items()}
    open_rows = badratings(conn, ctx, state="open", limit=MAX_ROWS)
    return {"from": first.isoformat(), "to": last.isoformat(), "totals": _finish(None, None, total), "by": out_by,
            "badratings": {"open": len(open_rows), "amber": sum(b["deadline"] == "amber" for b in open_rows),
                           "red": sum(b["deadline"] == "red" for b in open_rows),
                           "items": [{k: b[k] for k in ("id", "number", "state", "state_name", "due", "deadline",
                                                        "window", "clerk", "matter", "matter_name", "level",
                                                        "appeal", "appeal_due", "responsible", "named")}
                                     for b in open_rows]}}
