"""The compartments as stored, and every change to them that is not a citizen's pickup (pickups.py): synced
from config, reserved for a case, loaded (the case goes `ready` with its pickup code), taken back to the 出件
window, out of service and back. Each change is one transaction with its `locker.*` event; no event or log
holds a pickup code or a name.

A compartment's `state` says what is in it and what its door is doing:
    free → reserving → loading → occupied → opening → collecting → free      (a load, then a pickup)
    occupied → taking_back → emptying → free                                  (staff take a result back)
    reserving | opening | taking_back: an open command is under way; a door that stays closed → out_of_service
"""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from ..accounts.auth import Principal
from ..cases.base import CaseContext, load, record, set_fields, snapshot, ts
from ..cases.records import row_of
from ..errors import Conflict
from ..notify.outbox import Outbox, mobile
from ..store.database import Change
from ..store.events import append_event
from . import codes
from .config import LockerPolicy, label

DOOR_OPEN = ("loading", "collecting", "emptying")          # the door stands open: read until it is shut
PENDING = ("reserving", "opening", "taking_back")           # an open command is under way
HOLDING = ("occupied", "opening", "collecting", "taking_back")  # a result is inside
ACTIVE = ("reserving", "loading", *HOLDING)                 # the compartment belongs to a case
PURPOSE = {"reserving": "load", "opening": "pickup", "taking_back": "take_back"}
SIZE_ZH = {"small": "小格", "large": "大格"}


def compartment(conn: sqlite3.Connection, comp_id: int) -> sqlite3.Row:
    return conn.execute("SELECT * FROM compartments WHERE id=?", (comp_id,)).fetchone()


def event(conn: sqlite3.Connection, type_: str, at: datetime, row: sqlite3.Row, actor: str | None = None,
          case_id: int | None = None, **data: Any) -> dict:
    """`locker.<type_>` of a compartment: where it is, its size, the case it concerns (number, never a name)."""
    case_id = case_id if case_id is not None else row["case_id"]
    body = {"compartment": row["label"], "board": row["board"], "lock": row["lock"], "size": row["size"]}
    if case_id is not None:
        number = conn.execute("SELECT number FROM cases WHERE id=?", (case_id,)).fetchone()
        body |= {"case": case_id, "number": number[0] if number else None}
    body |= {k: v for k, v in data.items() if v is not None}
    return append_event(conn, f"locker.{type_}", at, body, actor=actor, case_id=case_id)


def _set(conn: sqlite3.Connection, comp_id: int, at: datetime, **fields: Any) -> None:
    cols = ", ".join(f"{k}=?" for k in fields)
    conn.execute(f"UPDATE compartments SET {cols}, since=?, alerted=0 WHERE id=?", (*fields.values(), ts(at), comp_id))


def alert(conn: sqlite3.Connection, at: datetime, kind: str, device: str, detail: str, case_id: int | None = None,
          **extra: Any) -> dict:
    """An `alert.raised` for supervisors, in the change's own transaction (hardware/alerts.py's shape)."""
    return append_event(conn, "alert.raised", at, {"kind": kind, "device": device, "detail": detail, **extra},
                        case_id=case_id)


# -- from config ---------------------------------------------------------------------------------------------
def sync(conn: sqlite3.Connection, policy: LockerPolicy, at: datetime) -> Change:
    """The compartments of config: new ones added free, sizes as configured; one no longer configured is
    `removed` once empty (a result still inside stays until it is collected or taken back)."""
    wanted = {(b, lock): size for b, lock, size in policy.doors()}
    have = {(r["board"], r["lock"]): r for r in conn.execute("SELECT * FROM compartments")}
    for (board, lock), size in wanted.items():
        if (board, lock) not in have:
            conn.execute("INSERT INTO compartments (board, lock, label, size, state, since) VALUES (?,?,?,?,?,?)",
                         (board, lock, label(board, lock), size, "free", ts(at)))
        else:
            conn.execute("UPDATE compartments SET size=?, state=CASE state WHEN 'removed' THEN 'free' ELSE state END"
                         " WHERE board=? AND lock=?", (size, board, lock))
    for key, r in have.items():
        if key not in wanted and r["state"] == "free":
            conn.execute("UPDATE compartments SET state='removed' WHERE id=?", (r["id"],))
    return Change(len(wanted))


# -- loading -------------------------------------------------------------------------------------------------
def reserve(conn: sqlite3.Connection, who: Principal, case_id: int, size: str | None, skip: tuple[int, ...],
            skip_boards: tuple[int, ...], at: datetime) -> Change:
    """A free compartment of `size` (None: small, else large) for a decided case, held while its door is
    opened; result None when none is free."""
    row = load(conn, case_id, "ready", ("decided",))
    busy = conn.execute(f"SELECT label FROM compartments WHERE case_id=? AND state IN ({_marks(ACTIVE)})",
                        (case_id, *ACTIVE)).fetchone()
    if busy:
        raise Conflict("already_in_locker", f"办件 {row['number']} 已在 {busy[0]} 号格口，无需重复装柜",
                       f"case {row['number']} is in compartment {busy[0]} already", case=case_id,
                       compartment=busy[0])
    if mobile(row["applicant_phone"]) is None and not row["applicant_hash"]:
        raise Conflict("no_pickup_channel", f"办件 {row['number']} 的申请人没有手机号码，也没有登记身份证号码：无法告知"
                       "取件码，也无法刷证取件，请选择窗口领取或邮寄",
                       f"case {row['number']}: the applicant has no mobile number for the pickup code and no ID "
                       "number to swipe: hand the result out at the window or by mail instead", case=case_id)
    where = "".join(f" AND {col} NOT IN ({_marks(values)})" for col, values in (("id", skip), ("board", skip_boards))
                    if values)
    for want in (size,) if size == "large" else ("small", "large"):
        found = conn.execute(f"SELECT * FROM compartments WHERE state='free' AND size=?{where} ORDER BY board, lock"
                             " LIMIT 1", (want, *skip, *skip_boards)).fetchone()
        if found is not None:
            break
    else:
        return Change(None)
    _set(conn, found["id"], at, state="reserving", case_id=case_id, actor=who.username, note=None)
    return Change({**dict(found), "state": "reserving", "case_id": case_id, "number": row["number"]})


def _marks(values: tuple) -> str:
    return ",".join("?" * len(values))


def load_opened(conn: sqlite3.Connection, comp_id: int, at: datetime) -> Change:
    row = compartment(conn, comp_id)
    _set(conn, comp_id, at, state="loading")
    return Change(None, [event(conn, "loading", at, row, actor=row["actor"])])


def loaded(conn: sqlite3.Connection, quiet: CaseContext, outbox: Outbox, key: bytes, comp_id: int,
           at: datetime, device: str = "") -> Change:
    """The door of a loading compartment was seen shut: the case goes `ready` (as cases/handout.py `ready`
    writes it, with the compartment), a pickup code is drawn and kept as a hash, and the SMS telling it is put
    in the outbox — one transaction. `quiet`: the cases' context without its notify (this SMS is the one)."""
    comp = compartment(conn, comp_id)
    if comp is None or comp["state"] != "loading":
        return Change(None)
    events: list[dict] = []
    row = row_of(conn, comp["case_id"])
    if row["status"] != "decided":          # changed meanwhile (handed out at the window…): staff look at it
        _set(conn, comp_id, at, state="out_of_service", note=f"装柜时办件已为「{row['status']}」，请取回核对")
        events.append(event(conn, "out_of_service", at, comp, reason="case_changed"))
        events.append(alert(conn, at, "locker_check", device, f"{comp['label']} 号格口：办件 {row['number']} 装柜时状态"
                            f"已变为 {row['status']}，请工作人员取回核对 / compartment {comp['label']}: case "
                            f"{row['number']} changed to {row['status']} while it was loaded; take it back and "
                            "check", case_id=row["id"], compartment=comp["label"]))
        return Change(None, events)
    who = Principal(comp["actor"] or "locker", "clerk", "")
    handout = {"via": "locker", "address": None, "by": who.username, "compartment": comp["label"],
               "size": comp["size"]}
    set_fields(conn, row["id"], at, status="ready", ready_at=ts(at), handout=json.dumps(handout, ensure_ascii=False))
    ready = record(conn, quiet, row, "ready", who, "ready", at, events, via="locker", compartment=comp["label"])
    digest, message, clear = _code_and_message(conn, outbox, key, row, ready)
    _set(conn, comp_id, at, state="occupied", code_hash=digest, loaded_at=ts(at), loaded_by=who.username,
         actor=None)
    if message is not None:
        conn.execute("INSERT INTO locker_sms (outbox_id, clear_text) VALUES (?,?)", (message, clear))
    events.append(event(conn, "loaded", at, comp, actor=who.username, sms=message is not None))
    return Change({"case": row["id"], "sms": message}, events)


def _code_and_message(conn, outbox: Outbox, key: bytes, row: sqlite3.Row, ready: dict):
    """(the code's hash, the outbox message id or None, the message's text with the code masked); the code
    itself is gone when this returns: it lives on only in the SMS."""
    matter = snapshot(row)["name"]
    for _ in range(50):
        code = codes.new_code()
        digest = codes.code_hash(key, code)
        if conn.execute("SELECT 1 FROM compartments WHERE code_hash=?", (digest,)).fetchone():
            continue                    # another compartment's code: each code opens one door only
        message = outbox.for_case_event(conn, row, ready, matter_name=matter, extra={"pickup_code": code})
        if message is None:
            return digest, None, None
        text = conn.execute("SELECT text FROM outbox WHERE id=?", (message,)).fetchone()[0]
        clear = codes.masked(text, code)
        if clear is not None:
            return digest, message, clear
        conn.execute("DELETE FROM outbox WHERE id=?", (message,))    # the code spells part of the text: another
    raise RuntimeError("could not draw a pickup code that the SMS can hold once")


def cancel(conn: sqlite3.Connection, who: Principal, comp_id: int, at: datetime) -> Change:
    """A clerk changes their mind while the door stands open: the case stays decided, the door is shut empty."""
    comp = compartment(conn, comp_id)
    if comp["state"] != "loading":
        raise _state(comp, "cancel", ("loading",))
    _set(conn, comp_id, at, state="emptying", case_id=None, actor=who.username)
    return Change(None, [event(conn, "load_cancelled", at, comp, actor=who.username, case_id=comp["case_id"])])


# -- a door that would not open --------------------------------------------------------------------------------
def open_failed(conn: sqlite3.Connection, comp_id: int, at: datetime, device: str, error: dict) -> Change:
    """The open command of a pending compartment failed (`error`: code, message_zh, message_en). A door the
    board reports still closed is out of service (with any result still inside); any other failure (a board
    or the line silent) leaves the compartment as it was before."""
    comp = compartment(conn, comp_id)
    if comp is None or comp["state"] not in PENDING:
        return Change(None)
    purpose = PURPOSE[comp["state"]]
    holding = purpose != "load"
    if error.get("code") == "not_opened":
        _set(conn, comp_id, at, state="out_of_service", note=error.get("message_zh", ""),
             **({} if holding else {"case_id": None, "actor": None}))
        detail = (f"{comp['label']} 号格口柜门打不开，已停用：{error.get('message_zh', '')} / compartment "
                  f"{comp['label']} would not open and is out of service: {error.get('message_en', '')}")
        events = [event(conn, "out_of_service", at, comp, reason="not_opened", purpose=purpose),
                  alert(conn, at, "locker_door", device, detail, case_id=comp["case_id"] if holding else None,
                        compartment=comp["label"])]
        return Change("out_of_service", events)
    back = "occupied" if holding else "free"
    _set(conn, comp_id, at, state=back, **({} if holding else {"case_id": None, "actor": None}))
    return Change(back, [event(conn, "open_failed", at, comp, purpose=purpose, error=error.get("code"))])


def in_service(conn: sqlite3.Connection, who: Principal, comp_id: int, at: datetime) -> Change:
    """A technician has mended an empty out-of-service compartment."""
    comp = compartment(conn, comp_id)
    if comp["state"] != "out_of_service" or comp["case_id"] is not None:
        inside = comp["case_id"] is not None
        raise Conflict("compartment_state", f"{comp['label']} 号格口{'仍有材料，请先取回' if inside else '未停用'}",
                       f"compartment {comp['label']} is {comp['state']}"
                       f"{' with a result inside: take it back first' if comp['case_id'] else ''}",
                       compartment=comp["label"], state=comp["state"])
    _set(conn, comp_id, at, state="free", note=None, actor=None)
    return Change(None, [event(conn, "in_service", at, comp, actor=who.username)])


# -- taking a result back to the 出件 window --------------------------------------------------------------------
def take_back_begin(conn: sqlite3.Connection, who: Principal, comp_id: int, at: datetime) -> Change:
    comp = compartment(conn, comp_id)
    if comp["case_id"] is None or comp["state"] not in ("occupied", "out_of_service"):
        raise _state(comp, "take back", ("occupied", "out_of_service"))
    _set(conn, comp_id, at, state="taking_back", actor=who.username)
    return Change(dict(comp))


def taken_back(conn: sqlite3.Connection, ctx: CaseContext, comp_id: int, at: datetime) -> Change:
    """The door opened for the staff: the case is ready at the 出件 window (the applicant is told by SMS, as
    for any case made ready there), the code no longer opens anything, and the door is read until shut."""
    comp = compartment(conn, comp_id)
    if comp is None or comp["state"] != "taking_back":
        return Change(None)
    events: list[dict] = []
    who = Principal(comp["actor"] or "staff", "clerk", "")
    row = row_of(conn, comp["case_id"])
    if row["status"] == "ready":
        old = json.loads(row["handout"]) if row["handout"] else {}
        handout = {"via": "window", "address": None, "by": who.username, "from_locker": comp["label"],
                   "locker_by": old.get("by")}
        set_fields(conn, row["id"], at, handout=json.dumps(handout, ensure_ascii=False))
        record(conn, ctx, row, "ready", who, "ready", at, events, via="window", from_locker=comp["label"])
    _set(conn, comp_id, at, state="emptying", case_id=None, code_hash=None, loaded_at=None, loaded_by=None)
    events.append(event(conn, "taken_back", at, comp, actor=who.username, case_id=row["id"]))
    return Change(row["id"], events)


def emptied(conn: sqlite3.Connection, comp_id: int, at: datetime) -> Change:
    comp = compartment(conn, comp_id)
    if comp is None or comp["state"] != "emptying":
        return Change(None)
    _set(conn, comp_id, at, state="free", actor=None)
    return Change(None, [event(conn, "shut", at, comp, case_id=None)])


# -- the watch's findings ----------------------------------------------------------------------------------------
def door_left_open(conn: sqlite3.Connection, comp_id: int, at: datetime, device: str, minutes: int) -> Change:
    comp = compartment(conn, comp_id)
    if comp is None or comp["alerted"] or comp["state"] not in DOOR_OPEN:
        return Change(None)
    conn.execute("UPDATE compartments SET alerted=1 WHERE id=?", (comp_id,))
    doing = {"loading": "装件", "collecting": "取件", "emptying": "取回"}[comp["state"]]
    detail = (f"{comp['label']} 号格口{doing}后柜门已开 {minutes} 分钟未关，请到柜前关门 / compartment "
              f"{comp['label']} has stood open {minutes} min ({comp['state']}): shut it")
    return Change(None, [alert(conn, at, "locker_door_open", device, detail, case_id=comp["case_id"],
                               compartment=comp["label"])])


def recovered(conn: sqlite3.Connection, ctx: CaseContext, comp_id: int, door_open: bool, at: datetime) -> Change:
    """A command left under way by a stop, settled by what the door says now: open, the command went through
    (loading, a pickup being collected, a result taken back); closed, the compartment is as it was before."""
    comp = compartment(conn, comp_id)
    if comp is None or comp["state"] not in PENDING:
        return Change(None)
    state = comp["state"]
    if state == "taking_back" and door_open:
        change = taken_back(conn, ctx, comp_id, at)
        return Change("emptying", change.events)
    if state == "reserving":
        after = "loading" if door_open else "free"
    elif state == "opening":
        after = "collecting" if door_open else "occupied"
        conn.execute("UPDATE locker_pickups SET state=?, opened_at=? WHERE compartment_id=? AND state='opening'",
                     ("open" if door_open else "failed", ts(at) if door_open else None, comp_id))
    else:
        after = "occupied"
    extra = {"case_id": None, "actor": None} if after == "free" else {}
    _set(conn, comp_id, at, state=after, **extra)
    return Change(after, [event(conn, "recovered", at, comp, was=state, now=after,
                                door="open" if door_open else "closed")])


def _state(comp: sqlite3.Row, action: str, allowed: tuple[str, ...]) -> Conflict:
    return Conflict("compartment_state", f"{comp['label']} 号格口当前为「{comp['state']}」，不能执行此操作",
                    f"compartment {comp['label']} is {comp['state']}: {action} needs it {' or '.join(allowed)}",
                    compartment=comp["label"], state=comp["state"], allowed=list(allowed))
