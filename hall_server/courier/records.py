"""Reading parcels: a row as the API's parcel (the sender's phone only masked), with a summary of the case it
is attached to, and the lists the window works from (not attached yet, not sorted yet, a case's parcels)."""
from __future__ import annotations

import json
import sqlite3

from drivers.sms.numbers import mask as mask_phone

from ..errors import NotFound

MAX_PAGE = 200


def parcel_not_found(ref: object) -> NotFound:
    return NotFound("parcel_not_found", f"没有登记号为 {ref} 的快递", f"no parcel {ref} is registered in this hall",
                    parcel=ref)


def parcel_row(conn: sqlite3.Connection, parcel_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM parcels WHERE id=?", (parcel_id,)).fetchone()
    if row is None:
        raise parcel_not_found(parcel_id)
    return row


def case_summary(row: sqlite3.Row) -> dict:
    """What the register shows of a case: no applicant's name or phone (the parcel's sender is shown)."""
    snap = json.loads(row["snapshot"])
    return {"id": row["id"], "number": row["number"], "status": row["status"], "matter": row["matter"],
            "matter_name": snap["name"], "kind": row["kind"], "departments": list(snap["deciders"])}


def _cases(conn: sqlite3.Connection, ids: set[int]) -> dict[int, dict]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = conn.execute(f"SELECT id, number, status, matter, kind, snapshot FROM cases WHERE id IN ({marks})",
                        sorted(ids))
    return {r["id"]: case_summary(r) for r in rows}


def parcel_of(row: sqlite3.Row, case: dict | None, matter_name: str | None) -> dict:
    return {"id": row["id"], "courier": row["courier"], "waybill": row["waybill"],
            "sender": {"name": row["sender_name"], "phone_masked": mask_phone(row["sender_phone"])},
            "contents": row["contents"], "matter": row["matter"], "matter_name": matter_name,
            "status": row["status"], "case": case, "department": row["department"], "window": row["window"],
            "registered_at": row["registered_at"], "registered_by": row["registered_by"],
            "attached_at": row["attached_at"], "attached_by": row["attached_by"],
            "sorted_at": row["sorted_at"], "sorted_by": row["sorted_by"]}


def parcels_of(conn: sqlite3.Connection, rows: list[sqlite3.Row], matter_names: dict[str, str]) -> list[dict]:
    cases = _cases(conn, {r["case_id"] for r in rows if r["case_id"] is not None})
    return [parcel_of(r, cases.get(r["case_id"]), matter_names.get(r["matter"])) for r in rows]


def departments_of(conn: sqlite3.Connection, row: sqlite3.Row) -> set[str]:
    """The departments a parcel is theirs of: the one it is sorted to, and those deciding the case it is attached to."""
    found = {row["department"]} if row["department"] else set()
    if row["case_id"] is not None:
        found |= {d for (d,) in conn.execute("SELECT department FROM case_tasks WHERE case_id=?", (row["case_id"],))}
    return found


def listing(conn: sqlite3.Connection, matter_names: dict[str, str], *, attached: bool | None = None,
            sorted_: bool | None = None, case_id: int | None = None, department: str | None = None,
            waybill: str | None = None, limit: int = 50, before: int | None = None,
            scope: tuple[str, ...] | None = None) -> dict:
    """Newest first, paged by `before` (an id). `scope`: only the parcels of these departments (sorted to one, or
    attached to a case one of them decides) — a department officer's view; None: every parcel."""
    where, args = ["1=1"], []
    if scope is not None:
        marks = ",".join("?" * len(scope)) or "NULL"
        where.append(f"(department IN ({marks}) OR EXISTS (SELECT 1 FROM case_tasks t WHERE t.case_id = parcels.case_id"
                     f" AND t.department IN ({marks})))")
        args += [*scope, *scope]
    if attached is not None:
        where.append("case_id IS NOT NULL" if attached else "case_id IS NULL")
    if sorted_ is not None:
        where.append("department IS NOT NULL" if sorted_ else "department IS NULL")
    if case_id is not None:
        where.append("case_id = ?")
        args.append(case_id)
    if department:
        where.append("department = ?")
        args.append(department)
    if waybill:
        where.append("waybill = ?")
        args.append(waybill)
    if before is not None:
        where.append("id < ?")
        args.append(before)
    limit = max(1, min(limit, MAX_PAGE))
    rows = conn.execute(f"SELECT * FROM parcels WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
                        (*args, limit + 1)).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"parcels": parcels_of(conn, rows, matter_names), "next_before": rows[-1]["id"] if more else None,
            "more": more}
