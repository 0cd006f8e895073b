"""A citizen's pickup at the kiosk, as stored: the wrong codes each kiosk has entered (paused after too many),
the doors opened for a pickup (`locker_pickups`, one row per door, polled by the kiosk through its token), and
the case delivered once the door is seen shut again. A door that never opened leaves the case `ready`."""
from __future__ import annotations

import json
import secrets
import sqlite3
from datetime import datetime, timedelta

from ..accounts.auth import Principal
from ..cases.base import CaseContext, record, set_fields, ts
from ..cases.records import row_of
from ..store.database import Change
from ..store.events import append_event
from .compartments import alert, compartment, event, open_failed
from .config import LockerPolicy

COLLECTOR = "自助柜取件"          # the handout's collector of a result taken from a locker


# -- wrong codes -----------------------------------------------------------------------------------------------
def paused_until(conn: sqlite3.Connection, kiosk: str, at: datetime) -> str | None:
    row = conn.execute("SELECT paused_until FROM locker_tries WHERE kiosk=?", (kiosk,)).fetchone()
    return row[0] if row and row[0] and row[0] > ts(at) else None


def wrong_try(conn: sqlite3.Connection, policy: LockerPolicy, kiosk: str, at: datetime) -> Change:
    """One more wrong code at `kiosk`: result {"wrong", "left", "paused_until"}. The count starts again after
    `pause_min` without a wrong code; reaching `max_wrong_tries` pauses the kiosk's codes (swipes still work)."""
    pause = timedelta(minutes=policy.pause_min)
    row = conn.execute("SELECT wrong, last_at FROM locker_tries WHERE kiosk=?", (kiosk,)).fetchone()
    wrong = (row["wrong"] if row and row["last_at"] > ts(at - pause) else 0) + 1
    until = None
    events = []
    if wrong >= policy.max_wrong_tries:
        until = ts(at + pause)
        events.append(_event(conn, "kiosk_paused", at, kiosk, wrong=wrong, until=until))
        events.append(alert(conn, at, "locker_tries", policy.device,
                            f"自助机 {kiosk} 连续输错取件码 {wrong} 次，已暂停取件码输入 {policy.pause_min:g} 分钟 / "
                            f"kiosk {kiosk}: {wrong} wrong pickup codes, codes paused for {policy.pause_min:g} min",
                            kiosk=kiosk))
    else:
        events.append(_event(conn, "wrong_code", at, kiosk, wrong=wrong, left=policy.max_wrong_tries - wrong))
    conn.execute("INSERT INTO locker_tries (kiosk, wrong, last_at, paused_until) VALUES (?,?,?,?)"
                 " ON CONFLICT(kiosk) DO UPDATE SET wrong=excluded.wrong, last_at=excluded.last_at,"
                 " paused_until=excluded.paused_until",
                 (kiosk, 0 if until else wrong, ts(at), until))
    return Change({"wrong": wrong, "left": max(0, policy.max_wrong_tries - wrong), "paused_until": until}, events)


def _event(conn, type_: str, at: datetime, kiosk: str, **data) -> dict:
    return append_event(conn, f"locker.{type_}", at, {"kiosk": kiosk, **data}, actor=kiosk)


# -- opening doors for a pickup --------------------------------------------------------------------------------
def begin(conn: sqlite3.Connection, who: Principal, kiosk: str, method: str, comp_ids: list[int],
          at: datetime) -> Change:
    """Each occupied compartment of `comp_ids` is `opening`, with a pickup row (and its token) for the kiosk
    to follow; a right code also clears the kiosk's wrong ones. Result: the pickups, as the kiosk sees them."""
    if method == "code":
        conn.execute("DELETE FROM locker_tries WHERE kiosk=?", (kiosk,))
    out = []
    for comp_id in comp_ids:
        comp = compartment(conn, comp_id)
        if comp is None or comp["state"] != "occupied":
            continue
        token = secrets.token_urlsafe(12)
        conn.execute("UPDATE compartments SET state='opening', actor=?, since=?, alerted=0 WHERE id=?",
                     (who.username, ts(at), comp_id))
        pickup_id = conn.execute(
            "INSERT INTO locker_pickups (token, compartment_id, case_id, kiosk, actor, method, state, started_at)"
            " VALUES (?,?,?,?,?,?,'opening',?) RETURNING id",
            (token, comp_id, comp["case_id"], kiosk, who.username, method, ts(at))).fetchone()[0]
        out.append({"id": pickup_id, "token": token, "compartment_id": comp_id, "board": comp["board"],
                    "lock": comp["lock"]})
    return Change(out)


def opened(conn: sqlite3.Connection, pickup_id: int, at: datetime) -> Change:
    p = conn.execute("SELECT * FROM locker_pickups WHERE id=?", (pickup_id,)).fetchone()
    comp = compartment(conn, p["compartment_id"])
    if comp["state"] != "opening":
        return Change(None)
    conn.execute("UPDATE locker_pickups SET state='open', opened_at=? WHERE id=?", (ts(at), pickup_id))
    conn.execute("UPDATE compartments SET state='collecting', since=?, alerted=0 WHERE id=?", (ts(at), comp["id"]))
    return Change(None, [event(conn, "opened", at, comp, actor=p["actor"], kiosk=p["kiosk"], method=p["method"])])


def failed(conn: sqlite3.Connection, pickup_id: int, at: datetime, device: str, error: dict) -> Change:
    """The door did not open: the pickup failed, the case stays ready (compartments.open_failed)."""
    p = conn.execute("SELECT * FROM locker_pickups WHERE id=?", (pickup_id,)).fetchone()
    conn.execute("UPDATE locker_pickups SET state='failed', ended_at=?, error=? WHERE id=?",
                 (ts(at), error.get("code"), pickup_id))
    return open_failed(conn, p["compartment_id"], at, device, error)


def collected(conn: sqlite3.Connection, ctx: CaseContext, comp_id: int, at: datetime) -> Change:
    """The door opened for a pickup was seen shut: the case is delivered (collector 自助柜取件) and the
    compartment free; its code opens nothing any more."""
    comp = compartment(conn, comp_id)
    if comp is None or comp["state"] != "collecting":
        return Change(None)
    p = conn.execute("SELECT * FROM locker_pickups WHERE compartment_id=? AND state='open' ORDER BY id DESC LIMIT 1",
                     (comp_id,)).fetchone()
    events: list[dict] = []
    row = row_of(conn, comp["case_id"])
    actor = (p["actor"] if p else None) or comp["actor"] or "kiosk"
    if row["status"] == "ready":
        handout = json.loads(row["handout"]) if row["handout"] else {"via": "locker"}
        handout["collector"] = {"name": COLLECTOR, "proxy": False, "method": p["method"] if p else None,
                                "kiosk": p["kiosk"] if p else None}
        handout["delivered_by"] = actor
        set_fields(conn, row["id"], at, status="delivered", delivered_at=ts(at), closed_at=ts(at),
                   handout=json.dumps(handout, ensure_ascii=False))
        record(conn, ctx, row, "delivered", Principal(actor, "kiosk", ""), "delivered", at, events, via="locker",
               proxy=False, compartment=comp["label"])
    if p is not None:
        conn.execute("UPDATE locker_pickups SET state='delivered', ended_at=? WHERE id=?", (ts(at), p["id"]))
    conn.execute("UPDATE compartments SET state='free', case_id=NULL, code_hash=NULL, loaded_at=NULL, loaded_by=NULL,"
                 " actor=NULL, since=?, alerted=0 WHERE id=?", (ts(at), comp_id))
    events.append(event(conn, "collected", at, comp, actor=actor, kiosk=p["kiosk"] if p else None))
    return Change(row["id"], events)
