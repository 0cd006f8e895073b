"""Ticket actions of the queue engine: issuing (with the waiting line counted for its estimate), putting a
no-show back in line, cancelling, and a supervisor's transfer of a waiting ticket."""
from __future__ import annotations

import sqlite3

from .. import errors
from ..clock import micros
from ..errors import Conflict
from ..identity.citizen import CitizenRef
from ..store.database import Change
from ..store.events import append_event
from .core import EngineCore, _ts
from .views import LineTally


class TicketActions(EngineCore):
    def issue(self, conn, *, matter: str, priority: str = "normal", channel: str = "kiosk",
              citizen: CitizenRef | None = None, appointment_id: int | None = None, kiosk: str | None = None,
              actor: str | None = None) -> Change:
        """A new ticket; `citizen` (masked forms and keyed hash only) when an ID card was swiped."""
        events: list[dict] = []
        now, day = self._begin(conn, events)
        m = self.cfg.matter(matter)
        if m is None:
            raise errors.matter_not_found(matter)
        line = self._line(conn, day)        # before this ticket joins it
        seq = conn.execute(
            "INSERT INTO counters (service_day, prefix, last) VALUES (?,?,1)"
            " ON CONFLICT(service_day, prefix) DO UPDATE SET last = last + 1 RETURNING last",
            (day, m.prefix),
        ).fetchone()[0]
        number = f"{m.prefix}{seq:03d}"
        # Place in line: arrival time, but always after the ticket issued before it, even if the
        # clock was set back in between (or two tickets came in the same microsecond).
        last = conn.execute("SELECT queue_key FROM tickets ORDER BY id DESC LIMIT 1").fetchone()
        key = max(micros(now), last[0] + 1) if last else micros(now)
        tid = conn.execute(
            "INSERT INTO tickets (service_day, prefix, seq, number, matter, channel, priority, citizen_ref,"
            " citizen_hash, citizen_name, appointment_id, status, queue_key, issued_at, kiosk)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,'waiting',?,?,?) RETURNING id",
            (day, m.prefix, seq, number, matter, channel, priority, citizen and citizen.id_masked,
             citizen and citizen.hash, citizen and citizen.name_masked, appointment_id, key, _ts(now), kiosk),
        ).fetchone()[0]
        events.append(append_event(
            conn, "ticket.issued", now,
            {"ticket_id": tid, "number": number, "matter": matter, "group": m.group,
             "priority": priority, "channel": channel},
            actor=actor, ticket_id=tid))
        # the answer is what views.ticket() would read back, built from what was just written
        estimate = self.views.join_line(line, matter, priority, key)
        self._tally_mark = conn.total_changes
        if estimate is None:
            return Change(self.views.ticket(conn, tid, now), events)
        ahead, wait_s = estimate
        return Change({"id": tid, "number": number, "matter": matter, "status": "waiting", "priority": priority,
                       "channel": channel, "service_day": day, "issued_at": _ts(now), "called_at": None,
                       "started_at": None, "finished_at": None, "window": None, "target_window": None,
                       "transfers": 0, "recalls": 0, "matter_name": m.name, "group": m.group,
                       "waiting_ahead": ahead, "estimated_wait_s": wait_s}, events)

    def _line(self, conn: sqlite3.Connection, day: str) -> LineTally:
        """Today's waiting line before the ticket being issued: counted in SQL, unless the count kept from the
        last issue still holds — no row has been written on this connection since that issue ended
        (`total_changes` counts every row an INSERT, UPDATE or DELETE wrote: a call, a transfer, a window
        opened, a device event all move it) and no change was rolled back since (forget_cached_state)."""
        t = self._tally
        if t is None or t.day != day or conn.total_changes != self._tally_mark:
            t = self._tally = self.views.tally(conn, day)
        return t

    def requeue(self, conn, ticket_id: int, *, actor: str) -> Change:
        """A no-show who comes back is put in line again after a configured number of places."""
        events: list[dict] = []
        now, day = self._begin(conn, events)
        t = self._ticket(conn, ticket_id)
        if t["status"] != "no_show" or t["service_day"] != day:
            raise Conflict("not_a_no_show", f"{t['number']} 号当前状态为 {t['status']}，只有今天过号的票可以重新排队",
                           f"ticket {t['number']} is {t['status']}; only today's no-shows can be put back in line",
                           status_now=t["status"])
        line = [tuple(r) for r in conn.execute(
            "SELECT queue_key, id FROM tickets WHERE service_day=? AND status='waiting' AND matter=?"
            " ORDER BY queue_key, id", (day, t["matter"]))]
        keys = [k for k, _ in line]
        n = self.policy.no_show_requeue_places
        if len(keys) > n:
            key = (keys[n - 1] + keys[n]) // 2 if n else keys[0] - 1
            if n and (key, ticket_id) < line[n - 1]:   # no key between the two (same microsecond or
                key = keys[n]                           # next to it): share the later one's, id decides
        else:
            key = max([micros(now), *[k + 1 for k in keys]])
        conn.execute("UPDATE tickets SET status='waiting', queue_key=?, window=NULL, recalls=0 WHERE id=?",
                     (key, ticket_id))
        events.append(append_event(conn, "ticket.requeued", now,
                                   {"ticket_id": ticket_id, "number": t["number"], "matter": t["matter"],
                                    "places": n, "by": actor}, actor=actor, ticket_id=ticket_id))
        return Change(self.views.ticket(conn, ticket_id, now), events)

    def cancel(self, conn, ticket_id: int, *, actor: str, reason: str = "") -> Change:
        events: list[dict] = []
        now, _ = self._begin(conn, events)
        t = self._ticket(conn, ticket_id)
        if t["status"] not in ("waiting", "no_show"):
            raise Conflict("ticket_not_cancellable", f"{t['number']} 号当前状态为 {t['status']}，不能取消",
                           f"ticket {t['number']} is {t['status']} and cannot be cancelled; finish or skip it "
                           "at its window instead", status_now=t["status"])
        conn.execute("UPDATE tickets SET status='cancelled', finished_at=? WHERE id=?", (_ts(now), ticket_id))
        events.append(append_event(conn, "ticket.cancelled", now,
                                   {"ticket_id": ticket_id, "number": t["number"], "reason": reason, "by": actor},
                                   actor=actor, ticket_id=ticket_id))
        return Change(self.views.ticket(conn, ticket_id, now), events)

    def transfer_ticket(self, conn, ticket_id: int, *, actor: str, to_matter: str | None = None,
                        to_window: int | None = None, reason: str = "") -> Change:
        """Move a waiting ticket (a supervisor's move) keeping its place in line."""
        events: list[dict] = []
        now, _ = self._begin(conn, events)
        t = self._ticket(conn, ticket_id)
        if t["status"] != "waiting":
            raise Conflict("ticket_not_waiting", f"{t['number']} 号不在等候中（{t['status']}）",
                           f"ticket {t['number']} is {t['status']}, not waiting; transfer it from its window",
                           status_now=t["status"])
        self._move(conn, now, t, None, actor, to_matter, to_window, reason, events)
        return Change(self.views.ticket(conn, ticket_id, now), events)

