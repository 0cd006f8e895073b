"""Intake at the comprehensive window (行政许可法 §32): register a case against its matter's checklist, then
accept it, ask once for everything missing (一次性告知 / 补正), take the missing items in, or refuse it.

Each function is a store change: it runs in the writer's transaction and returns a `Change` whose events
are the case's history. The due dates are computed here, by the server, at acceptance.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from datetime import date

from drivers.idcard import gb11643

from ..accounts.auth import Principal
from ..errors import Conflict, NotFound, Unprocessable, matter_not_found
from ..identity.citizen import citizen_hash
from ..store.database import Change
from .base import CaseContext, load, record, set_fields, snapshot, ts
from .config import case_prefix
from .records import MATERIAL_STATES, PRESENT, materials_of, missing_of

CHANNELS = ("window", "courier", "proxy", "cross_region")


def _person(ctx: CaseContext, person: dict, what: str) -> dict:
    """Name, phone and the ID number only as its masked form and keyed hash."""
    out = {"name": person["name"], "phone": person.get("phone")}
    number = person.get("id_number")
    if number:
        try:
            valid = gb11643.validate(number)
        except gb11643.InvalidIdNumber as exc:
            raise Unprocessable("invalid_id_number", f"{what}的身份证号码无效，请核对后重新输入",
                                f"the {what_en(what)}'s ID number is not valid ({exc}); check it and type it again",
                                field=f"{what_en(what)}.id_number") from None
        out["id_masked"] = gb11643.mask(valid)
        out["hash"] = citizen_hash(ctx.identity_key, valid)
    return out


def what_en(what: str) -> str:
    return {"申请人": "applicant", "代办人": "agent"}.get(what, what)


def _checklist(snap: dict, given: list[dict]) -> list[dict]:
    """Every checklist item with its state; items the clerk did not mention are missing."""
    names = snap["materials"]
    unknown = [m["name"] for m in given if m["name"] not in names]
    if unknown:
        raise Unprocessable("unknown_material", f"收件清单中没有：{'、'.join(unknown)}",
                            f"not on the checklist of {snap['code']}: {', '.join(unknown)}; use the items as the "
                            f"checklist words them: {', '.join(names)}", unknown=unknown, checklist=names)
    states = {m["name"]: m["state"] for m in given}
    bad = {n: s for n, s in states.items() if s not in MATERIAL_STATES}
    if bad:
        raise Unprocessable("bad_material_state", "材料状态有误", f"material states {bad} are not one of "
                            f"{MATERIAL_STATES}", states=list(MATERIAL_STATES))
    optional = set(snap["optional"])
    out = []
    for name in names:
        state = states.get(name, "missing")
        required = name not in optional
        if required and state == "n/a":
            raise Unprocessable("material_required", f"「{name}」为必备材料，不能标为不适用",
                                f"{name!r} is required for {snap['code']}: it cannot be 'n/a'", material=name)
        out.append({"name": name, "state": state, "required": required})
    return out


def matter_snapshot(ctx: CaseContext, code: str) -> dict:
    """The matter as it is now: a running case keeps it, whatever later edits of the config say."""
    m = ctx.cfg.matter(code)
    if m is None:
        raise matter_not_found(code)
    return {"code": m.code, "name": m.name, "name_en": m.name_en, "kind": m.kind, "group": m.group,
            "materials": list(m.materials), "optional": list(m.optional), "department": m.department,
            "deciders": list(m.deciders) or ["窗口"], "promised_days": m.promised_days,
            "legal_days": m.legal_limit, "authority": m.authority}


def create(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, *, matter: str, applicant: dict,
           materials: list[dict], ticket: int | None = None, channel: str = "window", agent: dict | None = None,
           window: int | None = None) -> Change:
    events: list[dict] = []
    now = ctx.now()
    snap = matter_snapshot(ctx, matter)
    if channel not in CHANNELS:
        raise Unprocessable("bad_channel", f"未知收件渠道 {channel}", f"channel must be one of {CHANNELS}")
    if ticket is not None:
        t = conn.execute("SELECT id, window FROM tickets WHERE id=?", (ticket,)).fetchone()
        if t is None:
            raise NotFound("ticket_not_found", f"没有编号为 {ticket} 的票", f"no ticket with id {ticket}",
                           ticket=ticket)
        window = window or t["window"]
    if window is None:
        w = conn.execute("SELECT number FROM windows WHERE clerk=?", (who.username,)).fetchone()
        window = w[0] if w else None
    items = _checklist(snap, materials)
    person = _person(ctx, applicant, "申请人")
    agent_rec = _person(ctx, agent, "代办人") if agent else None
    day = ctx.local_day(now)
    prefix = case_prefix(ctx.cfg.cases, ctx.cfg.hall.code)
    seq = conn.execute(
        "INSERT INTO counters (service_day, prefix, last) VALUES (?,?,1)"
        " ON CONFLICT(service_day, prefix) DO UPDATE SET last = last + 1 RETURNING last",
        (day.isoformat(), f"case:{prefix}")).fetchone()[0]
    number = f"{prefix}-{day:%Y%m%d}-{seq:04d}"
    code = secrets.token_urlsafe(12)            # 96 random bits: says nothing of the number or its sequence
    case_id = conn.execute(
        "INSERT INTO cases (number, query_code, matter, kind, snapshot, channel, ticket_id, window, created_by,"
        " status, applicant_name, applicant_phone, applicant_id_masked, applicant_hash, agent, received_at,"
        " updated_at) VALUES (?,?,?,?,?,?,?,?,?,'received',?,?,?,?,?,?,?) RETURNING id",
        (number, code, snap["code"], snap["kind"], json.dumps(snap, ensure_ascii=False), channel, ticket, window,
         who.username, person["name"], person.get("phone"), person.get("id_masked"), person.get("hash"),
         json.dumps(agent_rec, ensure_ascii=False) if agent_rec else None, ts(now), ts(now))).fetchone()[0]
    conn.executemany("INSERT INTO case_materials (case_id, name, state, required) VALUES (?,?,?,?)",
                     [(case_id, m["name"], m["state"], int(m["required"])) for m in items])
    conn.executemany("INSERT INTO case_tasks (case_id, department, state) VALUES (?,?,'open')",
                     [(case_id, d) for d in snap["deciders"]])
    row = conn.execute("SELECT * FROM cases WHERE id=?", (case_id,)).fetchone()
    # the departments, the matter's name and the query code's hash let the district list the case and find it
    # by its code (跨域 query) without holding the code itself
    record(conn, ctx, row, "received", who, "received", now, events, channel=channel,
           missing=len(missing_of(items)), departments=snap["deciders"], matter_name=snap["name"],
           query_hash=hashlib.sha256(code.encode()).hexdigest())
    return Change(case_id, events)


def _complete_acceptance(conn: sqlite3.Connection, ctx: CaseContext, row: sqlite3.Row, who: Principal,
                         events: list[dict], via: str) -> None:
    now = ctx.now()
    snap = snapshot(row)
    day = ctx.local_day(now)
    promised = 0 if snap["kind"] == "即办" else snap["promised_days"]
    due = ctx.calendar.add_working_days(day, promised)
    legal_due = ctx.calendar.add_working_days(day, snap["legal_days"])
    warning = ctx.calendar.warning(day, legal_due)
    if warning != snap.get("calendar_warning"):
        snap["calendar_warning"] = warning
    set_fields(conn, row["id"], now, status="accepted", accepted_at=ts(now), accept_day=day.isoformat(),
               due=due.isoformat(), legal_due=legal_due.isoformat(),
               deadline=ctx.deadline("accepted", due.isoformat(), day),
               snapshot=json.dumps(snap, ensure_ascii=False))
    record(conn, ctx, row, "accepted", who, "accepted", now, events, due=due.isoformat(),
           legal_due=legal_due.isoformat(), via=via, calendar_warning=warning["code"] if warning else None)


def materials_missing(row: sqlite3.Row, missing: list[str]) -> Conflict:
    return Conflict("materials_missing", f"办件 {row['number']} 尚缺必备材料：{'、'.join(missing)}",
                    f"case {row['number']} still lacks required items: {', '.join(missing)}; take them in "
                    "(POST …/materials) or ask for them once (POST …/request-supplement)",
                    case=row["id"], missing=missing)


def accept(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int) -> Change:
    events: list[dict] = []
    row = load(conn, case_id, "accept", ("received", "supplement"))
    missing = missing_of(materials_of(conn, case_id, snapshot(row)["materials"]))
    if missing:
        raise materials_missing(row, missing)
    _complete_acceptance(conn, ctx, row, who, events, via="window")
    return Change(case_id, events)


def request_supplement(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int,
                       missing: list[str], note: str | None = None) -> Change:
    events: list[dict] = []
    row = load(conn, case_id, "request-supplement", ("received",))
    snap = snapshot(row)
    items = materials_of(conn, case_id, snap["materials"])
    by_name = {m["name"]: m for m in items}
    unknown = [n for n in missing if n not in by_name]
    if unknown:
        raise Unprocessable("unknown_material", f"收件清单中没有：{'、'.join(unknown)}",
                            f"not on the checklist: {', '.join(unknown)}", unknown=unknown, checklist=snap["materials"])
    # told once, everything: what the clerk names plus every required item not yet in
    told = list(dict.fromkeys([*missing, *missing_of(items)]))
    if not told:
        raise Unprocessable("nothing_missing", "材料已齐全，无需补正，请直接受理",
                            "nothing is missing: accept the case instead (POST …/accept)")
    now = ctx.now()
    for name in told:
        conn.execute("UPDATE case_materials SET state='missing' WHERE case_id=? AND name=?", (case_id, name))
        if not by_name[name]["required"]:
            conn.execute("UPDATE case_materials SET required=1 WHERE case_id=? AND name=?", (case_id, name))
    set_fields(conn, case_id, now, status="supplement", supplement_note=note)
    record(conn, ctx, row, "supplement_requested", who, "supplement", now, events, missing=told, note=note)
    return Change(case_id, events)


def hand_in(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int,
            materials: list[dict]) -> Change:
    """Items handed in later. A case waiting for 补正 is accepted the moment its last required item is in:
    the acceptance date is the day the materials were complete."""
    events: list[dict] = []
    row = load(conn, case_id, "materials", ("received", "supplement"))
    snap = snapshot(row)
    current = {m["name"]: m for m in materials_of(conn, case_id, snap["materials"])}
    unknown = [m["name"] for m in materials if m["name"] not in current]
    if unknown:
        raise Unprocessable("unknown_material", f"收件清单中没有：{'、'.join(unknown)}",
                            f"not on the checklist: {', '.join(unknown)}", unknown=unknown, checklist=snap["materials"])
    for m in materials:
        if m["state"] not in MATERIAL_STATES:
            raise Unprocessable("bad_material_state", "材料状态有误",
                                f"{m['name']!r}: state {m['state']!r} is not one of {MATERIAL_STATES}")
        if m["state"] == "n/a" and current[m["name"]]["required"]:
            raise Unprocessable("material_required", f"「{m['name']}」为必备材料，不能标为不适用",
                                f"{m['name']!r} is required: it cannot be 'n/a'", material=m["name"])
    now = ctx.now()
    conn.executemany("UPDATE case_materials SET state=? WHERE case_id=? AND name=?",
                     [(m["state"], case_id, m["name"]) for m in materials])
    items = materials_of(conn, case_id, snap["materials"])
    still = missing_of(items)
    record(conn, ctx, row, "materials_received", who, row["status"], now, events,
           items=[m["name"] for m in materials if m["state"] in PRESENT], missing=len(still))
    if row["status"] == "supplement" and not still:
        _complete_acceptance(conn, ctx, row, who, events, via="supplement")
    return Change(case_id, events)


def refuse(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int, reason: str,
           competent_organ: str | None = None) -> Change:
    events: list[dict] = []
    row = load(conn, case_id, "refuse", ("received", "supplement"))
    now = ctx.now()
    set_fields(conn, case_id, now, status="refused", reason=reason, closed_at=ts(now), deadline="ok")
    record(conn, ctx, row, "refused", who, "refused", now, events, reason=reason, competent_organ=competent_organ)
    return Change(case_id, events)


def withdraw(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int, reason: str) -> Change:
    events: list[dict] = []
    row = load(conn, case_id, "withdraw", ("received", "supplement", "accepted", "in_review", "suspended"))
    now = ctx.now()
    set_fields(conn, case_id, now, status="withdrawn", reason=reason, closed_at=ts(now), deadline="ok")
    conn.execute("UPDATE case_tasks SET state='closed' WHERE case_id=? AND state!='decided'", (case_id,))
    record(conn, ctx, row, "withdrawn", who, "withdrawn", now, events, reason=reason)
    return Change(case_id, events)


def parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Unprocessable("bad_date", f"{field} 日期格式有误，应为 YYYY-MM-DD",
                            f"{field}: {text!r} is not a date YYYY-MM-DD", field=field) from None
