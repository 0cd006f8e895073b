"""What the lockers look like to staff and kiosks: the compartments and what each holds, the results left too
long, a pickup's progress, and which compartment a code or a swiped card opens. Reads only, on the event
loop's thread through the store's read connection; no code and no name in any of them."""
from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

from ..cases.base import ts
from .config import SIZES

STATE_ZH = {"free": "空闲", "reserving": "正在开门（装件）", "loading": "装件中", "occupied": "有件待取",
            "opening": "正在开门（取件）", "collecting": "取件中", "taking_back": "正在开门（取回）",
            "emptying": "已取回，待关门", "out_of_service": "停用", "removed": "已移除"}


def _case_of(row: sqlite3.Row) -> dict | None:
    if row["case_id"] is None:
        return None
    snap = json.loads(row["snapshot"]) if row["snapshot"] else {}
    return {"id": row["case_id"], "number": row["number"], "matter": row["matter"],
            "matter_name": snap.get("name", ""), "status": row["status"]}


def _shown(row: sqlite3.Row) -> dict:
    return {"compartment": row["label"], "board": row["board"], "lock": row["lock"], "size": row["size"],
            "state": row["state"], "state_zh": STATE_ZH.get(row["state"], row["state"]), "since": row["since"],
            "loaded_at": row["loaded_at"], "loaded_by": row["loaded_by"], "note": row["note"], "case": _case_of(row)}


_SELECT = ("SELECT p.*, c.number, c.matter, c.snapshot, c.status FROM compartments p"
           " LEFT JOIN cases c ON c.id = p.case_id")


def compartments(conn: sqlite3.Connection) -> list[dict]:
    return [_shown(r) for r in conn.execute(_SELECT + " WHERE p.state != 'removed' ORDER BY p.board, p.lock")]


def by_label(conn: sqlite3.Connection, label: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM compartments WHERE label=? AND state != 'removed'", (label,)).fetchone()


def summary(conn: sqlite3.Connection) -> dict:
    """Compartments by size: how many, how many free, how many out of service."""
    out = {s: {"total": 0, "free": 0, "out_of_service": 0} for s in SIZES}
    for size, state, n in conn.execute("SELECT size, state, COUNT(*) FROM compartments WHERE state != 'removed'"
                                       " GROUP BY size, state"):
        out[size]["total"] += n
        if state in ("free", "out_of_service"):
            out[size][state] += n
    return out


def overdue(conn: sqlite3.Connection, now: datetime, days: int) -> list[dict]:
    """Results loaded `days` or more days ago and still inside, oldest first."""
    before = ts(now - timedelta(days=days))
    rows = conn.execute(_SELECT + " WHERE p.case_id IS NOT NULL AND p.loaded_at IS NOT NULL AND p.loaded_at <= ?"
                        " AND p.state IN ('occupied', 'out_of_service') ORDER BY p.loaded_at", (before,))
    out = []
    for r in rows:
        left = now - datetime.fromisoformat(r["loaded_at"])
        out.append({**_shown(r), "days": left.days})
    return out


def open_doors(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM compartments WHERE state IN ('loading', 'collecting', 'emptying')"
                        " ORDER BY id").fetchall()


def pending(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM compartments WHERE state IN ('reserving', 'opening', 'taking_back')"
                        " ORDER BY id").fetchall()


def by_code(conn: sqlite3.Connection, digest: str) -> sqlite3.Row | None:
    return conn.execute(_SELECT + " WHERE p.code_hash=? AND p.case_id IS NOT NULL", (digest,)).fetchone()


def by_citizen(conn: sqlite3.Connection, citizen: str) -> list[sqlite3.Row]:
    """The compartments holding results of this applicant (their swiped card's hash)."""
    return conn.execute(_SELECT + " WHERE c.applicant_hash=? AND p.case_id IS NOT NULL AND p.state IN"
                        " ('occupied', 'opening', 'collecting', 'out_of_service') ORDER BY p.board, p.lock",
                        (citizen,)).fetchall()


def swiped(conn: sqlite3.Connection, swipe: str | None, kiosk: str | None, now: datetime) -> str | None:
    """The citizen hash of a live swipe (at `kiosk`, when named), or None: no such swipe, expired, elsewhere."""
    row = conn.execute("SELECT citizen_hash, expires_at, kiosk FROM swipes WHERE id=?", (swipe,)).fetchone()
    if row is None or row["expires_at"] < ts(now.astimezone(UTC)) or (kiosk and row["kiosk"] != kiosk):
        return None
    return row["citizen_hash"]


def pickup(conn: sqlite3.Connection, token: str) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT k.*, p.label, p.size, p.board, p.lock, c.number, c.snapshot, c.status AS case_status"
        " FROM locker_pickups k JOIN compartments p ON p.id = k.compartment_id JOIN cases c ON c.id = k.case_id"
        " WHERE k.token=?", (token,)).fetchone()


def pickup_of(conn: sqlite3.Connection, comp_id: int) -> sqlite3.Row | None:
    """The latest pickup of a compartment whose door is (being) opened."""
    return conn.execute("SELECT token FROM locker_pickups WHERE compartment_id=? AND state IN ('opening', 'open')"
                        " ORDER BY id DESC LIMIT 1", (comp_id,)).fetchone()


def sms_to_mask(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Locker SMS the outbox is done with (sent, failed or uncertain) whose text still holds the code."""
    return conn.execute("SELECT l.outbox_id, l.clear_text FROM locker_sms l JOIN outbox o ON o.id = l.outbox_id"
                        " WHERE o.status IN ('sent', 'failed', 'uncertain')").fetchall()
