"""Reading cases: a row and its materials and tasks as the API's case, its history from the event log, the
worklist and search queries, and the public status (no name, phone or ID number)."""
from __future__ import annotations

import json
import sqlite3
from functools import lru_cache

from ..errors import NotFound

STATUSES = ("received", "supplement", "accepted", "refused", "in_review", "suspended", "decided", "ready",
            "delivered", "withdrawn")
FINAL = ("refused", "delivered", "withdrawn")
RUNNING = ("accepted", "in_review", "suspended")          # the clock runs (or is stopped) against a due date
BEFORE_DECISION = ("received", "supplement", "accepted", "in_review", "suspended")
MATERIAL_STATES = ("original", "copy", "electronic", "missing", "n/a")
PRESENT = ("original", "copy", "electronic")
MAX_PAGE = 200

# what the public status page calls each step (no names: the steps and when)
STEP_NAMES = {
    "received": ("收件", "received"), "supplement_requested": ("一次性告知补正", "asked for missing materials"),
    "materials_received": ("补交材料", "materials handed in"), "accepted": ("受理", "accepted"),
    "refused": ("不予受理", "refused"), "claimed": ("部门审查", "under review"),
    "released": ("部门审查", "under review"), "reassigned": ("部门审查", "under review"),
    "suspended": ("特别程序（暂停计时）", "special procedure (clock stopped)"),
    "resumed": ("恢复计时", "clock resumed"), "extended": ("延期", "time limit extended"),
    "reported": ("上报审批", "reported to the higher authority"), "task_decided": ("部门办结", "a department decided"),
    "decided": ("办结", "decided"), "ready": ("待取件", "ready to collect"), "delivered": ("已出件", "handed out"),
    "withdrawn": ("撤回", "withdrawn"), "parcel_received": ("收到邮寄材料", "materials received by post"),
}


@lru_cache(maxsize=4096)
def _snapshot(text: str) -> dict:
    """A case's matter snapshot, parsed once: it is written at intake and acceptance, never after, and many
    cases share one (the same matter, the same calendar warning). Read only: callers never change it."""
    return json.loads(text)


def case_not_found(ref: object) -> NotFound:
    return NotFound("case_not_found", f"没有办件 {ref}", f"no case {ref!r} in this hall", case=str(ref))


def row_of(conn: sqlite3.Connection, case_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM cases WHERE id=?", (case_id,)).fetchone()
    if row is None:
        raise case_not_found(case_id)
    return row


def _ordered(items: list[dict], key: str, order: list[str]) -> list[dict]:
    rank = {name: i for i, name in enumerate(order)}
    return sorted(items, key=lambda m: (rank.get(m[key], len(rank)), m[key]))


def _material(r: sqlite3.Row) -> dict:
    return {"name": r["name"], "state": r["state"], "required": bool(r["required"])}


def _task(r: sqlite3.Row) -> dict:
    return {"department": r["department"], "state": r["state"], "claimed_by": r["claimed_by"],
            "claimed_at": r["claimed_at"], "outcome": r["outcome"], "opinion": r["opinion"],
            "decided_at": r["decided_at"], "decided_by": r["decided_by"]}


def materials_of(conn: sqlite3.Connection, case_id: int, order: list[str]) -> list[dict]:
    """The checklist's items in the checklist's order (`order`: the matter's materials at intake)."""
    rows = conn.execute("SELECT name, state, required FROM case_materials WHERE case_id=?", (case_id,))
    return _ordered([_material(r) for r in rows], "name", order)


def missing_of(materials: list[dict]) -> list[str]:
    return [m["name"] for m in materials if m["required"] and m["state"] not in PRESENT]


def tasks_of(conn: sqlite3.Connection, case_id: int, order: list[str]) -> list[dict]:
    """Each deciding department's task, in the matter's order of departments."""
    rows = conn.execute("SELECT * FROM case_tasks WHERE case_id=?", (case_id,))
    return _ordered([_task(r) for r in rows], "department", order)


def cases_of(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[dict]:
    """Many cases at once (a worklist's page): their materials and tasks in one query each."""
    ids = [r["id"] for r in rows]
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    materials: dict[int, list[dict]] = {}
    tasks: dict[int, list[dict]] = {}
    for r in conn.execute(f"SELECT case_id, name, state, required FROM case_materials WHERE case_id IN ({marks})",
                          ids):
        materials.setdefault(r["case_id"], []).append(_material(r))
    for r in conn.execute(f"SELECT * FROM case_tasks WHERE case_id IN ({marks})", ids):
        tasks.setdefault(r["case_id"], []).append(_task(r))
    return [case_of(conn, r, materials=materials.get(r["id"], []), tasks=tasks.get(r["id"], [])) for r in rows]


def history_of(conn: sqlite3.Connection, case_id: int) -> list[dict]:
    out = []
    for r in conn.execute("SELECT at, type, actor, data FROM events WHERE case_id=? ORDER BY seq", (case_id,)):
        if not r["type"].startswith("case."):
            continue
        d = json.loads(r["data"])
        entry = {"at": r["at"], "action": r["type"][5:], "by": r["actor"], "status": d.get("status")}
        for k in ("department", "reason", "note", "outcome", "working_days", "to", "deadline", "via",
                  "competent_organ", "authority", "approver"):
            if d.get(k) is not None:
                entry[k] = d[k]
        out.append(entry)
    return out


def case_of(conn: sqlite3.Connection, row: sqlite3.Row, *, history: bool = False, deadline: str | None = None,
            materials: list[dict] | None = None, tasks: list[dict] | None = None) -> dict:
    """The API's case. `deadline`: the colour as of now, when the caller computed it (else the stored one);
    `materials`, `tasks`: read already (cases_of), in any order."""
    snap = _snapshot(row["snapshot"])
    if materials is None:
        materials = materials_of(conn, row["id"], snap["materials"])
    else:
        materials = _ordered(materials, "name", snap["materials"])
    agent = json.loads(row["agent"]) if row["agent"] else None
    if agent:
        agent.pop("hash", None)
    if tasks is None:
        tasks = tasks_of(conn, row["id"], snap["deciders"])
    else:
        tasks = _ordered(tasks, "department", snap["deciders"])
    case = {
        "id": row["id"], "number": row["number"], "query_code": row["query_code"], "matter": row["matter"],
        "matter_name": snap["name"], "kind": row["kind"], "channel": row["channel"], "ticket": row["ticket_id"],
        "window": row["window"], "created_by": row["created_by"],
        "applicant": {"name": row["applicant_name"], "phone": row["applicant_phone"],
                      "id_masked": row["applicant_id_masked"]},
        "agent": agent, "materials": materials, "missing": missing_of(materials),
        "status": row["status"], "outcome": row["outcome"], "opinion": row["opinion"], "reason": row["reason"],
        "supplement_note": row["supplement_note"],
        "received_at": row["received_at"], "accepted_at": row["accepted_at"], "accept_day": row["accept_day"],
        "decided_at": row["decided_at"], "ready_at": row["ready_at"], "delivered_at": row["delivered_at"],
        "due": row["due"], "legal_due": row["legal_due"], "promised_days": snap["promised_days"],
        "legal_days": snap["legal_days"], "suspended_days": row["suspended_days"],
        "extended_days": row["extended_days"], "suspended_on": row["suspended_on"],
        "deadline": deadline or row["deadline"],
        "departments": tasks,
        "claimed_by": tasks[0]["claimed_by"] if len(tasks) == 1 else None,
        "authority": snap.get("authority") or None,
        "report": json.loads(row["report"]) if row["report"] else None,
        "handout": json.loads(row["handout"]) if row["handout"] else None,
        "calendar_warning": snap.get("calendar_warning"),
    }
    if history:
        case["history"] = history_of(conn, row["id"])
    return case


def public_status(conn: sqlite3.Connection, row: sqlite3.Row) -> dict:
    """What anyone holding the query code may see: no name, phone, ID number, or staff user names."""
    snap = json.loads(row["snapshot"])
    steps = []
    for h in history_of(conn, row["id"]):
        zh, en = STEP_NAMES.get(h["action"], (h["action"], h["action"]))
        step = {"at": h["at"], "step": h["action"], "name": zh, "name_en": en, "status": h["status"]}
        if h.get("department"):
            step["department"] = h["department"]
        steps.append(step)
    handout = json.loads(row["handout"]) if row["handout"] else {}
    return {"number": row["number"], "matter": row["matter"], "matter_name": snap["name"],
            "matter_name_en": snap.get("name_en", ""), "kind": row["kind"], "status": row["status"],
            "outcome": row["outcome"], "received_at": row["received_at"], "accepted_at": row["accepted_at"],
            "due": row["due"], "deadline": row["deadline"] if row["status"] in RUNNING else None,
            "missing": missing_of(materials_of(conn, row["id"], snap["materials"]))
            if row["status"] == "supplement" else [],
            "via": handout.get("via"), "waybill": handout.get("waybill"), "steps": steps}
