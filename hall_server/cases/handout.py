"""统一出件: a decided case's result is made ready (at the 出件 window, by mail) and handed out. The
collector is recorded with a masked ID number only; a proxy (代领) is marked as such. Lockers come with the
locker driver (a later issue): until one is configured, `via: locker` is refused saying so."""
from __future__ import annotations

import json
import sqlite3

from ..accounts.auth import Principal
from ..errors import Conflict, Unprocessable
from ..store.database import Change
from .base import CaseContext, load, record, set_fields, ts
from .intake import _person

VIAS = ("window", "mail", "locker")


def ready(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int, via: str,
          address: str | None = None) -> Change:
    events: list[dict] = []
    row = load(conn, case_id, "ready", ("decided",))
    if via not in VIAS:
        raise Unprocessable("bad_via", f"出件方式须为 {VIAS} 之一", f"via must be one of {VIAS}", via=via)
    if via == "mail" and not (address or "").strip():
        raise Unprocessable("address_required", "邮寄出件须填写收件地址（address）",
                            "a result sent by mail needs the `address`")
    if via == "locker":
        raise Conflict("no_lockers", "本厅尚未配置智能取件柜，请选择窗口领取或邮寄",
                       "this hall has no smart lockers configured: choose via window or mail", case=case_id)
    now = ctx.now()
    handout = {"via": via, "address": address if via == "mail" else None, "by": who.username}
    set_fields(conn, case_id, now, status="ready", ready_at=ts(now), handout=json.dumps(handout, ensure_ascii=False))
    record(conn, ctx, row, "ready", who, "ready", now, events, via=via)
    return Change(case_id, events)


def deliver(conn: sqlite3.Connection, ctx: CaseContext, who: Principal, case_id: int,
            collector: dict | None = None, waybill: str | None = None) -> Change:
    events: list[dict] = []
    row = load(conn, case_id, "deliver", ("ready",))
    handout = json.loads(row["handout"]) if row["handout"] else {"via": "window"}
    if handout["via"] == "mail":
        if not (waybill or "").strip():
            raise Unprocessable("waybill_required", "邮寄出件须填写运单号（waybill）",
                                "a result sent by mail is delivered with its `waybill` number")
        handout["waybill"] = waybill.strip()
    else:
        if not collector or not collector.get("name"):
            raise Unprocessable("collector_required", "请登记领取人（collector.name）",
                                "record who collects the result: `collector` with `name` (and `id_number`)")
        person = _person(ctx, collector, "领取人")
        person.pop("hash", None)
        person["proxy"] = bool(collector.get("proxy"))
        if person["proxy"]:
            if not (collector.get("authorisation") or "").strip():
                raise Unprocessable("authorisation_required", "代领须登记委托书（authorisation）",
                                    "a proxy collector (代领) needs the authorisation noted: `collector.authorisation`")
            person["authorisation"] = collector["authorisation"].strip()
        handout["collector"] = person
        w = conn.execute("SELECT number FROM windows WHERE clerk=?", (who.username,)).fetchone()
        handout["window"] = w[0] if w else None
    now = ctx.now()
    handout["delivered_by"] = who.username
    set_fields(conn, case_id, now, status="delivered", delivered_at=ts(now), closed_at=ts(now),
               handout=json.dumps(handout, ensure_ascii=False))
    record(conn, ctx, row, "delivered", who, "delivered", now, events, via=handout["via"],
           proxy=handout.get("collector", {}).get("proxy"))
    return Change(case_id, events)
