"""Swipes, appointments and tickets for a known citizen: the store changes behind the kiosk's card flow.

A swipe is recorded with only the `CitizenRef` (hall_server/identity/citizen.py) and lives `swipe_ttl_s` at its
kiosk. A ticket issued with a swipe gets its priority from the citizen's age, is refused past the daily
quota for that matter, and checks in a booked appointment for the matter when one is due — all inside
the one transaction that issues the ticket, so two kiosks cannot both slip under a quota.
"""
from __future__ import annotations

import secrets
import sqlite3
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..config import HallConfig
from ..errors import Conflict, NotFound, matter_not_found
from ..queue.engine import Engine, _ts
from ..store.database import Change
from ..store.events import append_event
from . import citizen as identity
from .citizen import CitizenRef

ACTIVE_APPOINTMENT = "booked"


def record_swipe(conn: sqlite3.Connection, engine: Engine, *, ref: CitizenRef, kiosk: str, device: str | None,
                 actor: str | None) -> Change:
    events: list[dict] = []
    now, _ = engine.begin(conn, events)
    cfg = engine.cfg
    swipe_id = secrets.token_urlsafe(12)
    conn.execute(
        "INSERT INTO swipes (id, kiosk, device, at, expires_at, card_kind, citizen_hash, id_masked, name_masked,"
        " gender, age, card_expired, card_valid_to, priority) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (swipe_id, kiosk, device, _ts(now), _ts(now + timedelta(seconds=cfg.identity.swipe_ttl_s)), ref.card_kind,
         ref.hash, ref.id_masked, ref.name_masked, ref.gender, ref.age, int(ref.card_expired), ref.valid_to,
         identity.priority_for(ref, cfg.identity)))
    # the event says only that a card was read at a kiosk; the kiosk fetches the rest with its token
    events.append(append_event(conn, "card.swiped", now, {"kiosk": kiosk, "device": device, "swipe": swipe_id},
                               actor=actor))
    return Change(swipe_view(conn, cfg, swipe_id, now, engine.today(now)), events)


def swipe_view(conn: sqlite3.Connection, cfg: HallConfig, swipe_id: str, now: datetime, day: str) -> dict | None:
    cur = conn.execute("SELECT * FROM swipes WHERE id=?", (swipe_id,))
    row = cur.fetchone()
    if row is None:
        return None
    s = dict(zip([d[0] for d in cur.description], row, strict=True))
    ref = CitizenRef(hash=s["citizen_hash"], id_masked=s["id_masked"], name_masked=s["name_masked"],
                     gender=s["gender"], age=s["age"], card_kind=s["card_kind"], card_expired=bool(s["card_expired"]),
                     valid_to=s["card_valid_to"])
    zh, en = identity.greeting(ref)
    taken = conn.execute(
        "SELECT id, number, matter, status FROM tickets WHERE service_day=? AND citizen_hash=? ORDER BY id",
        (day, ref.hash)).fetchall()
    return {
        "id": s["id"], "kiosk": s["kiosk"], "at": s["at"], "expires_at": s["expires_at"],
        "expired": _ts(now) > s["expires_at"], "card_kind": s["card_kind"], "id_masked": s["id_masked"],
        "name_masked": s["name_masked"], "gender": s["gender"], "age": s["age"], "priority": s["priority"],
        "card_expired": ref.card_expired, "card_valid_to": ref.valid_to, "greeting_zh": zh, "greeting_en": en,
        "notices": identity.notices(ref) if ref.card_expired else [],
        "suggestions": identity.suggestions(ref, cfg),
        "appointments": [_appointment(r) for r in _appointments_of(conn, ref.hash, day)],
        "tickets_today": [{"id": t[0], "number": t[1], "matter": t[2], "status": t[3]} for t in taken],
    }


def issue_for_swipe(conn: sqlite3.Connection, engine: Engine, *, swipe_id: str, matter: str, kiosk: str | None,
                    actor: str | None) -> Change:
    """A ticket for the citizen of a swipe: priority by age, quota, and an appointment checked in."""
    events: list[dict] = []
    now, day = engine.begin(conn, events)
    cfg = engine.cfg
    s = conn.execute("SELECT kiosk, expires_at, citizen_hash, id_masked, name_masked, gender, age, card_kind,"
                     " card_expired, priority FROM swipes WHERE id=?", (swipe_id,)).fetchone()
    if s is None:
        raise NotFound("swipe_not_found", "没有找到这次刷卡记录，请重新刷卡",
                       "no such swipe: ask the citizen to swipe the card again", swipe=swipe_id)
    if kiosk is not None and s[0] != kiosk:
        raise Conflict("swipe_other_kiosk", "这次刷卡不是在本机进行的，请在本机重新刷卡",
                       f"that swipe was made at {s[0]}, not {kiosk}: swipe the card again here", swipe=swipe_id)
    if _ts(now) > s[1]:
        raise Conflict("swipe_expired", "刷卡已超时，请重新刷卡", "the swipe has expired: swipe the card again",
                       swipe=swipe_id)
    if cfg.matter(matter) is None:
        raise matter_not_found(matter)
    ref = CitizenRef(hash=s[2], id_masked=s[3], name_masked=s[4], gender=s[5], age=s[6], card_kind=s[7],
                     card_expired=bool(s[8]), valid_to=None)
    quota = cfg.identity.quota_for(matter)
    if quota:
        held = conn.execute("SELECT number FROM tickets WHERE service_day=? AND citizen_hash=? AND matter=?"
                            " AND status <> 'cancelled' ORDER BY id", (day, ref.hash, matter)).fetchall()
        if len(held) >= quota:
            numbers = [r[0] for r in held]
            raise Conflict("quota_exceeded",
                           f"您今天已为该事项取号 {len(held)} 次（{'、'.join(numbers)}），每人每天限 {quota} 次；"
                           "如有需要请到服务台",
                           f"you already have {len(held)} ticket(s) for this matter today ({', '.join(numbers)}); "
                           f"the limit is {quota} a day; ask at the service desk if you need another",
                           quota=quota, tickets=numbers)
    priority, channel, appointment_id = s[9], "kiosk", None
    appt = _due_appointment(conn, cfg, ref.hash, day, matter, now)
    if appt is not None:
        appointment_id, priority, channel = appt, "appointment", "appointment"
    change = engine.issue(conn, matter=matter, priority=priority, channel=channel, citizen=ref,
                          appointment_id=appointment_id, kiosk=kiosk or s[0], actor=actor)
    ticket = change.result
    if appointment_id is not None:
        conn.execute("UPDATE appointments SET status='checked_in', ticket_id=?, checked_in_at=? WHERE id=?",
                     (ticket["id"], _ts(now), appointment_id))
        change.events.append(append_event(conn, "appointment.checked_in", now,
                                          {"appointment": appointment_id, "ticket_id": ticket["id"],
                                           "number": ticket["number"], "matter": matter},
                                          actor=actor, ticket_id=ticket["id"]))
    return Change(ticket, events + change.events)


# -- appointments ------------------------------------------------------------------------------
APPOINTMENT_FIELDS = ("id", "service_day", "slot_start", "slot_end", "matter", "channel", "id_masked", "name_masked",
                      "status", "created_at", "created_by", "ticket_id", "checked_in_at", "note")


def _appointment(row) -> dict:
    return dict(zip(APPOINTMENT_FIELDS, row, strict=True))


def _appointments_of(conn: sqlite3.Connection, citizen_hash: str, day: str) -> list:
    return conn.execute(f"SELECT {', '.join(APPOINTMENT_FIELDS)} FROM appointments WHERE citizen_hash=?"
                        " AND service_day=? AND status=? ORDER BY slot_start", (citizen_hash, day,
                                                                                ACTIVE_APPOINTMENT)).fetchall()


def _due_appointment(conn: sqlite3.Connection, cfg: HallConfig, citizen_hash: str, day: str, matter: str,
                     now: datetime) -> int | None:
    """Today's booked appointment for this matter whose check-in window contains `now`."""
    tz = ZoneInfo(cfg.hall.timezone)
    local = now.astimezone(tz)
    for row in conn.execute("SELECT id, slot_start, slot_end FROM appointments WHERE citizen_hash=?"
                            " AND service_day=? AND matter=? AND status=? ORDER BY slot_start",
                            (citizen_hash, day, matter, ACTIVE_APPOINTMENT)):
        start = datetime.fromisoformat(f"{day}T{row[1]}").replace(tzinfo=tz)
        end = datetime.fromisoformat(f"{day}T{row[2]}").replace(tzinfo=tz)
        if (start - timedelta(minutes=cfg.identity.appointment_early_min) <= local
                <= end + timedelta(minutes=cfg.identity.appointment_late_min)):
            return row[0]
    return None


def book(conn: sqlite3.Connection, engine: Engine, *, ref: CitizenRef, matter: str, day: str, slot_start: str,
         slot_end: str, channel: str, note: str, actor: str) -> Change:
    events: list[dict] = []
    now, today = engine.begin(conn, events)
    if engine.cfg.matter(matter) is None:
        raise matter_not_found(matter)
    if day < today:
        raise Conflict("appointment_in_past", f"{day} 已过，不能预约", f"{day} is in the past; book today or later")
    dup = conn.execute("SELECT id FROM appointments WHERE citizen_hash=? AND service_day=? AND matter=? AND status=?",
                       (ref.hash, day, matter, ACTIVE_APPOINTMENT)).fetchone()
    if dup is not None:
        raise Conflict("appointment_exists", "该市民当天已预约此事项", "this citizen already has an appointment for "
                       "this matter that day; cancel it first to rebook", appointment=dup[0])
    aid = conn.execute(
        "INSERT INTO appointments (service_day, slot_start, slot_end, matter, channel, citizen_hash, id_masked,"
        " name_masked, status, created_at, created_by, note) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
        (day, slot_start, slot_end, matter, channel, ref.hash, ref.id_masked, ref.name_masked, ACTIVE_APPOINTMENT,
         _ts(now), actor, note)).fetchone()[0]
    events.append(append_event(conn, "appointment.booked", now, {"appointment": aid, "matter": matter, "day": day,
                                                                 "slot_start": slot_start, "channel": channel},
                               actor=actor))
    return Change(appointment(conn, aid), events)


def cancel_appointment(conn: sqlite3.Connection, engine: Engine, appointment_id: int, *, actor: str,
                       reason: str) -> Change:
    events: list[dict] = []
    now, _ = engine.begin(conn, events)
    a = appointment(conn, appointment_id)
    if a["status"] != ACTIVE_APPOINTMENT:
        raise Conflict("appointment_not_booked", f"该预约状态为 {a['status']}，不能取消",
                       f"the appointment is {a['status']}; only a booked one can be cancelled")
    conn.execute("UPDATE appointments SET status='cancelled' WHERE id=?", (appointment_id,))
    events.append(append_event(conn, "appointment.cancelled", now, {"appointment": appointment_id,
                                                                    "reason": reason}, actor=actor))
    return Change(appointment(conn, appointment_id), events)


def appointment(conn: sqlite3.Connection, appointment_id: int) -> dict:
    row = conn.execute(f"SELECT {', '.join(APPOINTMENT_FIELDS)} FROM appointments WHERE id=?",
                       (appointment_id,)).fetchone()
    if row is None:
        raise NotFound("appointment_not_found", f"没有编号为 {appointment_id} 的预约",
                       f"no appointment with id {appointment_id}", appointment=appointment_id)
    return _appointment(row)
