"""The complaint's steps, each one store transaction: the complaint's new status and due day, one row in
`complaint_steps` (who, when, what they wrote), one `complaint.*` event, and — at registration and at the answer —
the citizen's SMS put in the outbox in the same transaction. Who may take a step is checked here (403) before
its order (409); the body's shape was checked by the API (422).

Events carry the number, status, class, departments, due day and the actor: never the citizen's text, name or
phone."""
from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime

from ..accounts.auth import Principal
from ..errors import Conflict, Forbidden, NotFound
from ..notify.outbox import Outbox, mobile
from ..store.database import Change
from ..store.events import append_event
from .base import CLASS_ZH, CLOSE_REASONS, NEXT, OPEN, STATUS_ZH, STEP_ZH, ComplaintContext, ts

SUPERVISE = ("supervisor", "admin")


def row_of(conn: sqlite3.Connection, cid: int) -> sqlite3.Row:
    row = None
    if abs(cid) < 2**63:
        row = conn.execute("SELECT * FROM complaints WHERE id=?", (cid,)).fetchone()
    if row is None:
        raise NotFound("complaint_not_found", f"没有编号为 {cid} 的“办不成事”反映", f"no complaint {cid}",
                       complaint=cid)
    return row


def window_clerk(conn: sqlite3.Connection, number: int) -> str | None:
    w = conn.execute("SELECT clerk FROM windows WHERE number=?", (number,)).fetchone()
    return w["clerk"] if w else None


def forbidden(who: Principal, step: str, allowed: str, code: str = "role_forbidden") -> Forbidden:
    return Forbidden(code, f"{who.username}（{who.role}）无权{STEP_ZH[step]}此“办不成事”反映（须为：{allowed}）",
                     f"{who.username} ({who.role}) may not {step} this complaint; it needs: {allowed}",
                     role=who.role, step=step)


def _order(r: sqlite3.Row, step: str, need: tuple[str, ...]) -> Conflict:
    return Conflict("complaint_state", f"“办不成事”反映 {r['number']} 当前为「{STATUS_ZH[r['status']]}」，不能"
                    f"{STEP_ZH[step]}（须为：{'、'.join(STATUS_ZH[s] for s in need)}）",
                    f"complaint {r['number']} is {r['status']}: {step} needs it {' or '.join(need)}",
                    state=r["status"], step=step, allowed=list(need))


def _event(conn: sqlite3.Connection, kind: str, at: datetime, cid: int, by: str | None, **data) -> dict:
    r = conn.execute("SELECT * FROM complaints WHERE id=?", (cid,)).fetchone()
    body = {"complaint": cid, "number": r["number"], "status": r["status"], "class": r["class"],
            "department": r["responsible_department"] or r["department"], "due": r["due"], "by": by, **data}
    return append_event(conn, f"complaint.{kind}", at, body, actor=by,
                        case_id=r["case_id"], window=r["window"])


def _step(conn: sqlite3.Connection, cid: int, step: str, due: str | None, at: datetime, by: str,
          text: str | None, **data) -> None:
    conn.execute("INSERT INTO complaint_steps (complaint_id, step, due, at, by, text, data) VALUES (?,?,?,?,?,?,?)",
                 (cid, step, due, ts(at), by, text,
                  json.dumps({k: v for k, v in data.items() if v is not None}, ensure_ascii=False)))


def _set(conn: sqlite3.Connection, cid: int, at: datetime, **fields) -> None:
    cols = ", ".join(f"{k}=?" for k in fields)
    conn.execute(f"UPDATE complaints SET {cols}, updated_at=? WHERE id=?", (*fields.values(), ts(at), cid))


def _sms(conn: sqlite3.Connection, outbox: Outbox | None, r: sqlite3.Row, kind: str, event: dict, **values) -> None:
    phone = mobile(r["contact_phone"])
    if outbox is not None and phone is not None:
        outbox.enqueue(conn, kind, phone, {"number": r["number"], **values}, event=event, case_id=r["case_id"])


# -- 受理 ---------------------------------------------------------------------------------------------------
def register(conn: sqlite3.Connection, ctx: ComplaintContext, outbox: Outbox | None, *, by: str, channel: str,
             text: str, case_id: int | None, matter: str | None, window: int | None, department: str | None,
             contact_name: str | None, contact_phone: str | None) -> Change:
    now = ctx.now()
    prefix = f"{ctx.policy.prefix}{ctx.local_day(now):%Y%m%d}-"
    n = conn.execute("SELECT COUNT(*) FROM complaints WHERE number LIKE ?", (prefix + "%",)).fetchone()[0] + 1
    due = ctx.due(ctx.policy.classify_working_days)
    cid = conn.execute(
        "INSERT INTO complaints (number, text, case_id, matter, window, department, channel, registered_by,"
        " registered_at, registered_day, contact_name, contact_phone, status, due, deadline, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'registered',?,'ok',?) RETURNING id",
        (f"{prefix}{n:03d}", text, case_id, matter, window, department, channel, by, ts(now),
         ctx.local_day(now).isoformat(), contact_name, contact_phone, due, ts(now))).fetchone()[0]
    _step(conn, cid, "register", None, now, by, text, channel=channel)
    ev = _event(conn, "registered", now, cid, by if channel != "status_page" else None, channel=channel,
                case=case_id, matter=matter, window=window, named=bool(contact_name or contact_phone))
    _sms(conn, outbox, row_of(conn, cid), "complaint_registered", ev)
    return Change(cid, [ev])


# -- 分类 转办 办结 反馈 核查 备案 ----------------------------------------------------------------------------------
def classify(conn, ctx: ComplaintContext, outbox, who: Principal, cid: int, cls: str,
             text: str | None = None) -> Change:
    if who.role not in SUPERVISE:
        raise forbidden(who, "classify", "主管 supervisor")
    r = row_of(conn, cid)
    if r["status"] != "registered":
        raise _order(r, "classify", ("registered",))
    now = ctx.now()
    answer_due = ctx.due(ctx.policy.class_days(cls), date.fromisoformat(r["registered_day"]))
    _set(conn, cid, now, status="classified", **{"class": cls}, due=answer_due, answer_due=answer_due,
         deadline="ok")
    _step(conn, cid, "classify", r["due"], now, who.username, text, **{"class": cls})
    return Change(cid, [_event(conn, "classified", now, cid, who.username, answer_due=answer_due)])


def assign(conn, ctx: ComplaintContext, outbox, who: Principal, cid: int, department: str,
           text: str | None = None) -> Change:
    if who.role not in SUPERVISE:
        raise forbidden(who, "assign", "主管 supervisor")
    r = row_of(conn, cid)
    if r["status"] not in ("classified", "assigned"):     # 转办 again when the first department was not the one
        raise _order(r, "assign", ("classified", "assigned"))
    now = ctx.now()
    _set(conn, cid, now, status="assigned", responsible_department=department)
    _step(conn, cid, "assign", r["due"], now, who.username, text, department=department,
          was=r["responsible_department"])
    return Change(cid, [_event(conn, "assigned", now, cid, who.username, was=r["responsible_department"])])


def answer(conn, ctx: ComplaintContext, outbox, who: Principal, cid: int, text: str) -> Change:
    if who.role != "department":
        raise forbidden(who, "answer", "被转办部门的账号 the assigned department's account")
    r = row_of(conn, cid)
    if r["status"] != "assigned":
        raise _order(r, "answer", ("assigned",))
    if r["responsible_department"] not in who.departments:
        raise forbidden(who, "answer", f"{r['responsible_department']} 的账号", code="not_your_department")
    now = ctx.now()
    due = ctx.due(ctx.policy.feedback_working_days)
    _set(conn, cid, now, status="answered", due=due, deadline="ok", answered_at=ts(now))
    _step(conn, cid, "answer", r["due"], now, who.username, text, department=r["responsible_department"])
    on_time = ctx.local_day(now).isoformat() <= (r["answer_due"] or "")
    ev = _event(conn, "answered", now, cid, who.username, on_time=on_time)
    short = text if len(text) <= 60 else text[:59] + "…"
    _sms(conn, outbox, r, "complaint_answered", ev, answer=short)
    return Change(cid, [ev])


def feedback(conn, ctx: ComplaintContext, outbox, who: Principal, cid: int, text: str) -> Change:
    r = row_of(conn, cid)
    if who.role not in SUPERVISE and not (who.role == "clerk" and
                                          window_clerk(conn, ctx.policy.window) == who.username):
        raise forbidden(who, "feedback", f"主管或 {ctx.policy.window} 号窗口（办不成事反映窗口）的工作人员")
    if r["status"] != "answered":
        raise _order(r, "feedback", ("answered",))
    now = ctx.now()
    due = ctx.due(ctx.policy.check_working_days)
    _set(conn, cid, now, status="fed_back", due=due, deadline="ok")
    _step(conn, cid, "feedback", r["due"], now, who.username, text)
    return Change(cid, [_event(conn, "fed_back", now, cid, who.username)])


def check(conn, ctx: ComplaintContext, outbox, who: Principal, cid: int, text: str | None = None) -> Change:
    if who.role not in SUPERVISE:
        raise forbidden(who, "check", "主管 supervisor")
    r = row_of(conn, cid)
    if r["status"] != "fed_back":
        raise _order(r, "check", ("fed_back",))
    now = ctx.now()
    due = ctx.due(ctx.policy.file_working_days)
    _set(conn, cid, now, status="checked", due=due, deadline="ok")
    _step(conn, cid, "check", r["due"], now, who.username, text)
    return Change(cid, [_event(conn, "checked", now, cid, who.username)])


def file(conn, ctx: ComplaintContext, outbox, who: Principal, cid: int, text: str | None = None) -> Change:
    if who.role not in SUPERVISE:
        raise forbidden(who, "file", "主管 supervisor")
    r = row_of(conn, cid)
    if r["status"] != "checked":
        raise _order(r, "file", ("checked",))
    now = ctx.now()
    _set(conn, cid, now, status="filed", due=None, deadline="ok", closed_at=ts(now))
    _step(conn, cid, "file", r["due"], now, who.username, text)
    return Change(cid, [_event(conn, "filed", now, cid, who.username)])


def close(conn, ctx: ComplaintContext, outbox, who: Principal, cid: int, reason: str,
          text: str | None = None) -> Change:
    """Out of scope (a matter in court, a petition 信访, …): closed with its reason, before it is answered."""
    if who.role not in SUPERVISE:
        raise forbidden(who, "close", "主管 supervisor")
    r = row_of(conn, cid)
    if r["status"] not in ("registered", "classified", "assigned"):
        raise _order(r, "close", ("registered", "classified", "assigned"))
    now = ctx.now()
    _set(conn, cid, now, status="closed", due=None, deadline="ok", closed_at=ts(now), closed_reason=reason)
    _step(conn, cid, "close", r["due"], now, who.username, text, reason=reason)
    return Change(cid, [_event(conn, "closed", now, cid, who.username, reason=reason,
                               reason_zh=CLOSE_REASONS[reason])])


STEPS = {"classify": (classify, ("cls", "text")), "assign": (assign, ("department", "text")),
         "answer": (answer, ("text",)), "feedback": (feedback, ("text",)), "check": (check, ("text",)),
         "file": (file, ("text",)), "close": (close, ("reason", "text"))}


# -- due steps: the watch colours them and alerts once per turn ---------------------------------------------
def refresh(conn: sqlite3.Connection, ctx: ComplaintContext) -> Change:
    today, now = ctx.local_day(), ctx.now()
    events: list[dict] = []
    marks = ",".join("?" * len(OPEN))
    for r in conn.execute(f"SELECT * FROM complaints WHERE status IN ({marks})", OPEN).fetchall():
        colour = ctx.colour(r["due"], today)
        if colour == r["deadline"]:
            continue
        conn.execute("UPDATE complaints SET deadline=? WHERE id=?", (colour, r["id"]))
        step = NEXT[r["status"]]
        events.append(_event(conn, "deadline", now, r["id"], None, deadline=colour, was=r["deadline"], step=step))
        if colour != "ok":
            zh, en = ("已超期", "is overdue") if colour == "red" else ("即将到期", "is due soon")
            cls = f"，{CLASS_ZH[r['class']]}" if r["class"] else ""
            events.append(append_event(conn, "alert.raised", now, {
                "kind": "complaint_overdue" if colour == "red" else "complaint_due_soon", "device": None,
                "complaint": r["id"], "step": step,
                "detail": f"“办不成事”反映 {r['number']}（{STATUS_ZH[r['status']]}{cls}）{STEP_ZH[step]}{zh}"
                          f"（{r['due']}） / complaint {r['number']}: {step} {en} ({r['due']})"},
                window=r["window"], case_id=r["case_id"]))
    return Change(len(events), events)
