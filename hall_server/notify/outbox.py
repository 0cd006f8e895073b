"""The SMS outbox. A case change that calls for a message (accepted, 补正, decided, ready, overdue) puts it in
the `outbox` table in its own transaction: the message exists exactly when the change does. The sender takes
due messages one at a time, marks each `sending` (committed) before handing it to the modem and `sent` after,
so a message is never sent twice; one found `sending` after a crash may or may not have left the modem and is
marked `uncertain` for the staff to look at rather than sent again. A modem that is missing or not working
leaves the messages queued (they go when it returns); a modem that refuses one is retried with back-off,
then the message is `failed`, with an alert. Numbers appear in logs and events only masked.
"""
from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from ..store.database import Change
from ..store.events import append_event
from ..tasks import cancel_all
from .config import SmsPolicy

log = logging.getLogger(__name__)
MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
POLL_S = 2.0
UNAVAILABLE_WAIT_S = 10.0
WAIT_CODES = frozenset({"timeout", "no_sim", "no_signal", "not_registered", "no_answer"})   # SmsError codes
OUTCOME_ZH = {"approved": "准予", "rejected": "不予批准"}
# the case event → the message it calls for
MESSAGE_OF = {"case.accepted": "accepted", "case.supplement_requested": "supplement", "case.decided": "decided",
              "case.ready": "ready"}


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def mobile(phone: str | None) -> str | None:
    """The 11-digit mobile number in `phone`, or None when it is not a Chinese mobile (no SMS then)."""
    m = MOBILE.match(re.sub(r"[\s-]", "", phone or ""))
    return m.group(1) if m else None


def _ts(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


class Outbox:
    """Puts messages in (inside case changes) and tells how many wait; the Sender sends them."""

    def __init__(self, policy: SmsPolicy, hall_name: str, phone: str, status_base: Callable[[], str]):
        self.policy, self.hall_name, self.phone, self.status_base = policy, hall_name, phone, status_base
        self.wake: asyncio.Event | None = None

    def text(self, kind: str, values: dict[str, Any]) -> str:
        fields = {"hall": self.hall_name, "phone": self.phone, "number": "", "matter": "", "due": "",
                  "query_code": "", "status_url": "", "missing": "", "where": "", "pickup_code": "",
                  "outcome": "", "answer": ""}
        fields.update({k: v for k, v in values.items() if v is not None})
        return self.policy.template(kind).format(**fields)

    def for_case_event(self, conn: sqlite3.Connection, case: sqlite3.Row, event: dict, *,
                       matter_name: str, extra: dict | None = None) -> int | None:
        """The message a case event calls for, put in the outbox in the caller's transaction; None if none."""
        kind = MESSAGE_OF.get(event["type"])
        if event["type"] == "case.deadline" and event["data"].get("deadline") == "red":
            kind = "overdue"
        if kind is None:
            return None
        phone = mobile(case["applicant_phone"])
        if phone is None:
            return None
        d = event["data"]
        where = {"window": "请到综合出件窗口领取", "mail": "已安排邮寄", "locker": "自助取件柜"}.get(d.get("via"), "")
        if kind == "ready" and (extra or {}).get("pickup_code"):
            kind = "ready_locker"
        base = self.status_base().rstrip("/")
        link = f"{base}/c/{case['query_code']}" if base else "大厅自助机，或扫描受理通知书上的二维码"
        values = {"number": case["number"], "matter": matter_name, "due": d.get("due") or case["due"],
                  "query_code": case["query_code"], "status_url": link,
                  "missing": "、".join(d.get("missing") or []), "where": where,
                  "outcome": OUTCOME_ZH.get(d.get("outcome"), ""), **(extra or {})}
        text = self.text(kind, values)
        msg_id = conn.execute(
            "INSERT INTO outbox (created_at, case_id, event_seq, kind, phone, text, status, tries, next_at)"
            " VALUES (?,?,?,?,?,?,'queued',0,?) ON CONFLICT(event_seq, kind) DO NOTHING RETURNING id",
            (event["at"], case["id"], event["seq"], kind, phone, text, event["at"])).fetchone()
        if self.wake is not None:
            self.wake.set()
        return msg_id[0] if msg_id else None

    def enqueue(self, conn: sqlite3.Connection, kind: str, phone: str, values: dict[str, Any], *, event: dict,
                case_id: int | None = None) -> int | None:
        """A message of `kind` (a template) to `phone`, put in the outbox in the caller's transaction, tied to the
        event that called for it (once per event and kind); None when `phone` is not a mobile or it is there."""
        to = mobile(phone)
        if to is None:
            return None
        msg_id = conn.execute(
            "INSERT INTO outbox (created_at, case_id, event_seq, kind, phone, text, status, tries, next_at)"
            " VALUES (?,?,?,?,?,?,'queued',0,?) ON CONFLICT(event_seq, kind) DO NOTHING RETURNING id",
            (event["at"], case_id, event["seq"], kind, to, self.text(kind, values), event["at"])).fetchone()
        if self.wake is not None:
            self.wake.set()
        return msg_id[0] if msg_id else None

    @staticmethod
    def counts(conn: sqlite3.Connection) -> dict[str, int]:
        got = dict(conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())
        return {s: got.get(s, 0) for s in ("queued", "sending", "sent", "failed", "uncertain")}

    @staticmethod
    def listing(conn: sqlite3.Connection, status: str | None = None, limit: int = 100) -> list[dict]:
        sql = ("SELECT o.id, o.created_at, o.case_id, c.number, o.kind, o.phone, o.status, o.tries, o.next_at,"
               " o.sent_at, o.error FROM outbox o LEFT JOIN cases c ON c.id = o.case_id")
        args: list = []
        if status:
            sql += " WHERE o.status = ?"
            args.append(status)
        rows = conn.execute(sql + " ORDER BY o.id DESC LIMIT ?", (*args, limit)).fetchall()
        return [{**dict(r), "phone": mask_phone(r["phone"])} for r in rows]


class Sender:
    """Hands queued messages to the modem, one at a time, from its own task (never from a request)."""

    def __init__(self, outbox: Outbox, write: Callable[[Callable[[sqlite3.Connection], Change]], Awaitable],
                 read: sqlite3.Connection, now: Callable[[], datetime],
                 send: Callable[[str, str], Awaitable[list[int]]] | None, unavailable: tuple[type, ...] = ()):
        """`send(phone, text)`: the modem's send, awaited (in a thread by the caller); raises one of
        `unavailable` when there is no working modem (the message waits), anything else when it refused."""
        self.outbox, self._write, self._read, self._now, self._send = outbox, write, read, now, send
        self._unavailable = unavailable
        self.unavailable_wait_s = UNAVAILABLE_WAIT_S
        self._task: asyncio.Task | None = None

    async def recover(self) -> int:
        """At start: messages left `sending` by a crash may have gone out; mark them uncertain, with an alert."""
        def change(conn: sqlite3.Connection) -> Change:
            rows = conn.execute("SELECT * FROM outbox WHERE status='sending'").fetchall()
            events: list[dict] = []
            for r in rows:
                events += self._uncertain(conn, r, "the server stopped while this message was being sent").events
            return Change(len(rows), events)
        return await self._write(change)

    def _uncertain(self, conn, row, reason: str) -> Change:
        conn.execute("UPDATE outbox SET status='uncertain', error=? WHERE id=?",
                     (f"{reason}: it may or may not have been sent; check with the applicant", row["id"]))
        return Change(None, [append_event(conn, "alert.raised", self._now(), {
            "kind": "sms_uncertain", "device": self.outbox.policy.device or None,
            "detail": f"短信 {row['id']}（{mask_phone(row['phone'])}）发送中断，是否已发出不明，请人工核实 / "
                      f"message {row['id']} may or may not have been sent ({reason})"}, case_id=row["case_id"])])

    async def run_once(self) -> bool:
        """Send the next due message, if any; True when one was handled."""
        if self._send is None:
            return False
        now = self._now()
        row = self._read.execute("SELECT id, phone, text, tries, case_id, kind FROM outbox WHERE status='queued'"
                                 " AND next_at <= ? ORDER BY id LIMIT 1", (_ts(now),)).fetchone()
        if row is None:
            return False
        msg_id = row["id"]

        def mark_sending(conn: sqlite3.Connection) -> Change:
            got = conn.execute("UPDATE outbox SET status='sending', tries=tries+1 WHERE id=? AND status='queued'",
                               (msg_id,)).rowcount
            return Change(got == 1)
        if not await self._write(mark_sending):
            return True
        try:
            refs = await self._send(row["phone"], row["text"])
        except Exception as exc:
            if getattr(exc, "uncertain", False):      # the modem went silent after taking a part: not again
                reason = str(exc)
                await self._write(lambda conn: self._uncertain(conn, row, reason))
                return True
            if not (isinstance(exc, self._unavailable) or getattr(exc, "code", None) in WAIT_CODES):
                return await self._refused(row, exc)
            # no working modem (gone, no SIM, no signal): the message waits and goes when it is back
            reason = str(exc)
            await self._write(lambda conn: self._requeue(conn, msg_id, reason, self.unavailable_wait_s, count=False))
            return False
        await self._write(lambda conn: self._sent(conn, row, refs))
        return True

    async def _refused(self, row: sqlite3.Row, exc: Exception) -> bool:
        """The modem refused this message (+CMS ERROR …): retried with back-off, then failed with an alert."""
        msg_id, reason = row["id"], str(exc) or type(exc).__name__
        log.warning("SMS %s to %s not sent: %s", msg_id, mask_phone(row["phone"]), reason)
        tries = row["tries"] + 1
        if tries >= self.outbox.policy.max_tries:
            await self._write(lambda conn: self._fail(conn, row, reason))
        else:
            wait_s = self.outbox.policy.retry_s[min(tries, len(self.outbox.policy.retry_s)) - 1]
            await self._write(lambda conn: self._requeue(conn, msg_id, reason, wait_s))
        return True

    def _requeue(self, conn, msg_id: int, reason: str, wait_s: float, count: bool = True) -> Change:
        nxt = _ts(self._now() + timedelta(seconds=wait_s))
        conn.execute("UPDATE outbox SET status='queued', next_at=?, error=?, tries=tries - ? WHERE id=?",
                     (nxt, reason, 0 if count else 1, msg_id))
        return Change(None)

    def _fail(self, conn, row, reason: str) -> Change:
        conn.execute("UPDATE outbox SET status='failed', error=? WHERE id=?", (reason, row["id"]))
        now = self._now()
        events = [append_event(conn, "sms.failed", now, {"message": row["id"], "kind": row["kind"],
                                                        "to": mask_phone(row["phone"]), "error": reason},
                               case_id=row["case_id"]),
                  append_event(conn, "alert.raised", now, {
                      "kind": "sms_failed", "device": self.outbox.policy.device or None,
                      "detail": f"短信未能发出（{mask_phone(row['phone'])}）：{reason} / SMS not sent: {reason}"},
                      case_id=row["case_id"])]
        return Change(None, events)

    def _sent(self, conn, row, refs: list[int]) -> Change:
        now = self._now()
        conn.execute("UPDATE outbox SET status='sent', sent_at=?, refs=?, error=NULL WHERE id=?",
                     (_ts(now), ",".join(map(str, refs)), row["id"]))
        return Change(None, [append_event(conn, "sms.sent", now, {"message": row["id"], "kind": row["kind"],
                                                                 "to": mask_phone(row["phone"]), "parts": len(refs)},
                                          case_id=row["case_id"])])

    async def _loop(self) -> None:
        self.outbox.wake = asyncio.Event()
        await self.recover()
        while True:
            try:
                while await self.run_once():
                    pass
            except Exception:
                log.exception("the SMS sender failed; it tries again shortly")
            try:
                await asyncio.wait_for(self.outbox.wake.wait(), POLL_S)
            except TimeoutError:
                pass
            self.outbox.wake.clear()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="sms-sender")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_all([self._task])
            self._task = None
