"""The register's changes, each one store change (one transaction with its events): register a parcel, attach
it to a case, open a case from it (channel `courier`, through cases/intake.py in the same transaction, so a
parcel never opens two cases), sort it to a department.

Events carry no sender's name or phone (the stream reaches screens and the district): `parcel.*` with the
parcel's id, courier and waybill; a parcel attached to a case also appends `case.parcel_received` to the case's
log, so its history shows when the materials arrived."""
from __future__ import annotations

import difflib
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from ..accounts.auth import Principal
from ..cases import intake
from ..cases.base import STATE_ZH, CaseContext, ts
from ..cases.records import FINAL, case_not_found
from ..config import HallConfig
from ..errors import Conflict, Unprocessable, matter_not_found
from ..store.database import Change
from ..store.events import append_event
from . import rules
from .records import parcel_row


@dataclass
class CourierContext:
    cfg: HallConfig
    cases: CaseContext          # the cases' parts: a case opened from a parcel is taken in with them

    def now(self) -> datetime:
        return self.cases.now()

    @property
    def couriers(self) -> tuple[str, ...]:
        return self.cfg.courier.couriers

    @property
    def departments(self) -> list[str]:
        """The departments a parcel may be sorted to: every matter's deciding departments, in config order."""
        return list(dict.fromkeys(d for m in self.cfg.matters for d in m.deciders))


def invalid(found: list[rules.Problem]) -> Unprocessable:
    return Unprocessable("invalid_parcel", "；".join(p.zh for p in found), "; ".join(p.en for p in found),
                         fields=[p.as_dict() for p in found])


def _window(conn: sqlite3.Connection, who: Principal) -> int | None:
    w = conn.execute("SELECT number FROM windows WHERE clerk=?", (who.username,)).fetchone()
    return w[0] if w else None


def case_row(conn: sqlite3.Connection, ref: int | str) -> sqlite3.Row:
    """A case by its id (a number) or its case number (XL-20261203-0012)."""
    text = str(ref).strip()
    if text.isdigit():
        row = conn.execute("SELECT * FROM cases WHERE id=?", (int(text),)).fetchone()
    else:
        row = conn.execute("SELECT * FROM cases WHERE number=?", (text.upper(),)).fetchone()
    if row is None:
        raise case_not_found(text)
    return row


def _open_to_parcels(case: sqlite3.Row) -> None:
    if case["status"] in FINAL:
        state = STATE_ZH[case["status"]]
        raise Conflict("case_final", f"办件 {case['number']} 已「{state}」，办理已终结，不能再关联邮寄材料；"
                       "请从该快递登记新的办件，或联系申请人",
                       f"case {case['number']} is {case['status']}, which is final: it takes no more materials; "
                       "open a new case from the parcel instead, or contact the applicant",
                       case=case["id"], number=case["number"], state=case["status"])


def _unattached(conn: sqlite3.Connection, parcel: sqlite3.Row) -> None:
    if parcel["case_id"] is not None:
        number = conn.execute("SELECT number FROM cases WHERE id=?", (parcel["case_id"],)).fetchone()[0]
        raise Conflict("parcel_attached", f"快递 {parcel['waybill']} 已关联办件 {number}",
                       f"parcel {parcel['id']} ({parcel['waybill']}) is attached to case {number} already",
                       parcel=parcel["id"], case=parcel["case_id"], number=number)


def _status(case_id: int | None, department: str | None) -> str:
    return "sorted" if department else "attached" if case_id is not None else "registered"


def _event(conn: sqlite3.Connection, type_: str, parcel: sqlite3.Row, who: Principal, at: datetime,
           events: list[dict], **data) -> None:
    """`parcel.<what>`: the parcel's id, courier and waybill, and `data` (the acting clerk's window among it)."""
    body = {"parcel": parcel["id"], "courier": parcel["courier"], "waybill": parcel["waybill"],
            **{k: v for k, v in data.items() if v is not None}}
    events.append(append_event(conn, type_, at, body, actor=who.username, window=data.get("window"),
                               case_id=data.get("case")))


def _link(conn: sqlite3.Connection, who: Principal, parcel_id: int, case: sqlite3.Row, at: datetime,
          window: int | None, events: list[dict], via: str) -> None:
    """The parcel on the case: its row, `parcel.attached` and the case's `case.parcel_received`."""
    parcel = parcel_row(conn, parcel_id)
    conn.execute("UPDATE parcels SET case_id=?, matter=?, status=?, attached_at=?, attached_by=?,"
                 " updated_at=? WHERE id=?", (case["id"], case["matter"], _status(case["id"], parcel["department"]),
                                              ts(at), who.username, ts(at), parcel_id))
    parcel = parcel_row(conn, parcel_id)
    _event(conn, "parcel.attached", parcel, who, at, events, case=case["id"], number=case["number"],
           via=via, status=parcel["status"], window=window)
    events.append(append_event(
        conn, "case.parcel_received", at,
        {"case": case["id"], "number": case["number"], "matter": case["matter"], "kind": case["kind"],
         "status": case["status"], "parcel": parcel_id, "courier": parcel["courier"], "waybill": parcel["waybill"]},
        actor=who.username, ticket_id=case["ticket_id"], window=window, case_id=case["id"]))


def register(conn: sqlite3.Connection, ctx: CourierContext, who: Principal, *, courier: str, waybill: str,
             sender_name: str, sender_phone: str, contents: str, case: int | str | None = None,
             matter: str | None = None) -> Change:
    fields = {"courier": rules.courier_name(courier, ctx.couriers), "waybill": rules.waybill_number(waybill),
              "sender_name": rules.squeeze(sender_name), "sender_phone": rules.phone_number(sender_phone),
              "contents": rules.squeeze(contents)}
    found = rules.problems(**fields)
    if found:
        raise invalid(found)
    matter = (matter or "").strip() or None
    if matter and ctx.cfg.matter(matter) is None:
        raise matter_not_found(matter)
    same = conn.execute("SELECT p.id, p.registered_at, c.number FROM parcels p LEFT JOIN cases c ON c.id = p.case_id"
                        " WHERE p.courier = ? AND p.waybill = ?", (fields["courier"], fields["waybill"])).fetchone()
    if same is not None:
        on = f"，已关联办件 {same['number']}" if same["number"] else ""
        raise Conflict("duplicate_waybill",
                       f"{fields['courier']} 运单 {fields['waybill']} 已登记（登记号 {same['id']}{on}），请勿重复签收",
                       f"{fields['courier']} waybill {fields['waybill']} is registered already (parcel {same['id']}"
                       f"{', attached to case ' + same['number'] if same['number'] else ''}): do not sign it in twice",
                       parcel=same["id"], registered_at=same["registered_at"], number=same["number"])
    target = case_row(conn, case) if case is not None and str(case).strip() else None
    if target is not None:
        _open_to_parcels(target)
    events: list[dict] = []
    now = ctx.now()
    window = _window(conn, who)
    parcel_id = conn.execute(
        "INSERT INTO parcels (courier, waybill, sender_name, sender_phone, contents, matter, status, window,"
        " registered_by, registered_at, updated_at) VALUES (?,?,?,?,?,?,'registered',?,?,?,?) RETURNING id",
        (fields["courier"], fields["waybill"], fields["sender_name"], fields["sender_phone"], fields["contents"],
         matter, window, who.username, ts(now), ts(now))).fetchone()[0]
    _event(conn, "parcel.registered", parcel_row(conn, parcel_id), who, now, events, matter=matter,
           status="registered", window=window)
    if target is not None:
        _link(conn, who, parcel_id, target, now, window, events, via="registered")
    return Change(parcel_id, events)


def attach(conn: sqlite3.Connection, ctx: CourierContext, who: Principal, parcel_id: int, *,
           case: int | str) -> Change:
    parcel = parcel_row(conn, parcel_id)
    _unattached(conn, parcel)
    target = case_row(conn, case)
    _open_to_parcels(target)
    events: list[dict] = []
    _link(conn, who, parcel_id, target, ctx.now(), _window(conn, who), events, via="attached")
    return Change(parcel_id, events)


def open_case(conn: sqlite3.Connection, ctx: CourierContext, who: Principal, parcel_id: int, *,
              applicant: dict, materials: list[dict], matter: str | None = None, agent: dict | None = None,
              applicant_is_sender: bool = False) -> Change:
    """Take a case in from the parcel (channel courier) and attach the parcel to it; answers (parcel, case)."""
    parcel = parcel_row(conn, parcel_id)
    _unattached(conn, parcel)
    matter = (matter or "").strip() or parcel["matter"]
    if not matter:
        raise Unprocessable("matter_required", "请选择该快递材料所申请的事项",
                            "choose the matter the parcel's materials apply for", field="matter")
    person = dict(applicant)
    if applicant_is_sender:          # the sender applies: their name and phone as the label gives them
        person["name"] = person.get("name") or parcel["sender_name"]
        person["phone"] = person.get("phone") or parcel["sender_phone"]
    if not person.get("name"):
        raise Unprocessable("applicant_required", "请填写申请人姓名（或勾选“寄件人即申请人”）",
                            "type the applicant's name (or tick 'the sender applies')", field="applicant.name")
    made = intake.create(conn, ctx.cases, who, matter=matter, applicant=person, materials=materials,
                         channel="courier", agent=agent)
    case_id = made.result
    events = list(made.events)
    _link(conn, who, parcel_id, case_row(conn, case_id), ctx.now(), _window(conn, who), events, via="opened")
    return Change((parcel_id, case_id), events)


def unknown_department(department: str, known: list[str]) -> Unprocessable:
    if not department:
        return Unprocessable("department_required", "请选择分拣部门", "choose the department the parcel goes to",
                             field="department", departments=known)
    near = difflib.get_close_matches(department, known, n=1, cutoff=0.4)
    hint_zh = f"（是否为「{near[0]}」？）" if near else ""
    hint_en = f" (did you mean {near[0]!r}?)" if near else ""
    return Unprocessable("unknown_department", f"没有部门「{department}」{hint_zh}，请从列表中选择分拣部门",
                         f"no department {department!r} decides a matter of this hall{hint_en}; choose one of the "
                         "list (GET /api/v1/parcels/options)", field="department", departments=known)


def sort(conn: sqlite3.Connection, ctx: CourierContext, who: Principal, parcel_id: int, *,
         department: str) -> Change:
    """Sorted to the department that decides it (again: a correction, the earlier one kept in the event)."""
    department = rules.squeeze(department)
    known = ctx.departments
    if department not in known:
        raise unknown_department(department, known)
    parcel = parcel_row(conn, parcel_id)
    events: list[dict] = []
    now = ctx.now()
    window = _window(conn, who)
    conn.execute("UPDATE parcels SET department=?, status=?, sorted_at=?, sorted_by=?, updated_at=? WHERE id=?",
                 (department, _status(parcel["case_id"], department), ts(now), who.username, ts(now), parcel_id))
    _event(conn, "parcel.sorted", parcel_row(conn, parcel_id), who, now, events, department=department,
           previous=parcel["department"], case=parcel["case_id"], status="sorted", window=window)
    return Change(parcel_id, events)
