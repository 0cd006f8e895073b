"""d_cases: every hall's cases as the district sees them, folded from the shipped `case.*` events.

One row per (hall, case_id): number, matter, kind, status, outcome, the departments and each one's task
(state, who claimed it, its outcome), the promised and legal due dates, the public steps (each step's key and
when; a reader names them as the hall's status page does) and the seq of the last event folded in. No name,
phone or ID number: the events carry none. The query code itself never leaves the hall; the received event
carries its SHA-256 (`query_hash`), which the 跨域 query compares with the hash of the code a citizen types.

Exactly once by the projector's cursor, and idempotent besides: an event whose seq is not above the row's
`last_seq` is skipped, so a batch replayed after a crash changes nothing. Rebuildable: a fold of the log.
"""
from __future__ import annotations

import json
from typing import Any

NAME = "cases"

DDL = [
    """CREATE TABLE IF NOT EXISTS d_cases (
        hall text NOT NULL, case_id bigint NOT NULL, number text NOT NULL, query_hash text,
        matter text, matter_name text, kind text, status text NOT NULL, outcome text,
        departments text[] NOT NULL DEFAULT '{}', tasks jsonb NOT NULL DEFAULT '{}'::jsonb,
        due date, legal_due date, channel text, received_at timestamptz, accepted_at timestamptz,
        decided_at timestamptz, updated_at timestamptz, via text, steps jsonb NOT NULL DEFAULT '[]'::jsonb,
        last_seq bigint NOT NULL, PRIMARY KEY (hall, case_id))""",
    "CREATE INDEX IF NOT EXISTS d_cases_number ON d_cases (number)",
    "CREATE INDEX IF NOT EXISTS d_cases_query_hash ON d_cases (query_hash)",
    "CREATE INDEX IF NOT EXISTS d_cases_departments ON d_cases USING gin (departments)",
    "CREATE INDEX IF NOT EXISTS d_cases_status_due ON d_cases (status, due)",
]

COLUMNS = ("hall", "case_id", "number", "query_hash", "matter", "matter_name", "kind", "status", "outcome",
           "departments", "tasks", "due", "legal_due", "channel", "received_at", "accepted_at", "decided_at",
           "updated_at", "via", "steps", "last_seq")
TASK_EVENTS = ("claimed", "released", "reassigned", "task_decided", "decided")
STEP_KEYS = ("department", "outcome", "working_days", "via")


def _fresh(hall: str, ev: dict) -> dict[str, Any]:
    d = ev["data"]
    return {"hall": hall, "case_id": ev["case_id"], "number": d.get("number") or str(ev["case_id"]),
            "query_hash": None, "matter": d.get("matter"), "matter_name": None, "kind": d.get("kind"),
            "status": d.get("status") or "received", "outcome": None, "departments": [], "tasks": {},
            "due": None, "legal_due": None, "channel": None, "received_at": None, "accepted_at": None,
            "decided_at": None, "updated_at": None, "via": None, "steps": [], "last_seq": 0}


def _task(row: dict, department: str) -> dict:
    if department not in row["departments"]:
        row["departments"] = [*row["departments"], department]
    return row["tasks"].setdefault(department, {"state": "open", "claimed_by": None, "outcome": None})


def fold(row: dict, ev: dict) -> None:
    """One event into the case's row (in place)."""
    d = ev["data"]
    action = ev["type"][5:]
    row["last_seq"] = ev["seq"]
    row["updated_at"] = ev["at"]
    if d.get("status"):
        row["status"] = d["status"]
    for k in ("number", "matter", "kind"):
        if d.get(k):
            row[k] = d[k]
    if action == "received":
        row["received_at"] = ev["at"]
        row["channel"] = d.get("channel")
        row["matter_name"] = d.get("matter_name")
        row["query_hash"] = d.get("query_hash")
        for dep in d.get("departments") or ():
            _task(row, dep)
    elif action == "accepted":
        row["accepted_at"] = ev["at"]
    if d.get("due"):
        row["due"] = d["due"]
    if d.get("legal_due"):
        row["legal_due"] = d["legal_due"]
    dep = d.get("department")
    if action in TASK_EVENTS and dep:
        task = _task(row, dep)
        if action == "claimed":
            task.update(state="claimed", claimed_by=ev.get("actor"))
        elif action == "released":
            task.update(state="open", claimed_by=None)
        elif action == "reassigned":
            task.update(state="claimed", claimed_by=d.get("to"))
        else:
            task.update(state="decided", outcome=d.get("outcome"))
    if action == "decided":
        row["outcome"] = d.get("outcome")
        row["decided_at"] = ev["at"]
        if not dep and len(row["tasks"]) == 1:          # the one task of a single-department case
            next(iter(row["tasks"].values())).update(state="decided", outcome=d.get("outcome"))
    elif action == "withdrawn":
        for task in row["tasks"].values():
            if task["state"] != "decided":
                task["state"] = "closed"
    elif action in ("ready", "delivered"):
        row["via"] = d.get("via") or row["via"]
    step = {"at": ev["at"], "step": action, "status": d.get("status")}
    step.update({k: d[k] for k in STEP_KEYS if d.get(k) is not None})
    row["steps"] = [*row["steps"], step]


def apply(cur, hall: str, events: list[dict]) -> None:
    """Fold a batch of one hall's events (seq order) into d_cases: each touched row read once, written once."""
    mine = [e for e in events if e["type"].startswith("case.") and e.get("case_id") is not None]
    if not mine:
        return
    ids = sorted({e["case_id"] for e in mine})
    cur.execute(f"SELECT {', '.join(COLUMNS)} FROM d_cases WHERE hall = %s AND case_id = ANY(%s) FOR UPDATE",
                (hall, ids))
    rows = {}
    for values in cur.fetchall():
        row = dict(zip(COLUMNS, values, strict=True))
        for k in ("due", "legal_due"):
            row[k] = row[k].isoformat() if row[k] is not None else None
        for k in ("received_at", "accepted_at", "decided_at", "updated_at"):
            row[k] = row[k].isoformat() if row[k] is not None else None
        rows[row["case_id"]] = row
    touched = set()
    for ev in mine:
        row = rows.get(ev["case_id"])
        if row is None:
            row = rows[ev["case_id"]] = _fresh(hall, ev)
        if ev["seq"] <= row["last_seq"]:
            continue                                    # folded already (a replayed batch)
        fold(row, ev)
        touched.add(ev["case_id"])
    if not touched:
        return
    cols = ", ".join(COLUMNS)
    marks = ", ".join(["%s"] * len(COLUMNS))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c not in ("hall", "case_id"))
    cur.executemany(
        f"INSERT INTO d_cases ({cols}) VALUES ({marks}) ON CONFLICT (hall, case_id) DO UPDATE SET {updates}"
        " WHERE d_cases.last_seq < EXCLUDED.last_seq",
        [tuple(_param(c, rows[i][c]) for c in COLUMNS) for i in sorted(touched)])


def _param(column: str, value: Any) -> Any:
    if column in ("tasks", "steps"):
        return json.dumps(value, ensure_ascii=False)
    return value
