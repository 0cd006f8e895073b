"""The queue engine: every change to tickets and windows, as a function run inside one transaction.

Each public method takes the writer's connection (the store has already opened `BEGIN IMMEDIATE`)
and returns a `Change` with the result and the events it appended. Selecting and assigning a ticket
happen in that one transaction, so two windows can never be handed the same ticket, and the per-prefix
counter is bumped in the same transaction that inserts the ticket, so a number is never issued twice.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime

from .. import errors
from ..clock import Clock, micros
from ..config import HallConfig
from ..errors import Conflict, Forbidden, HallError
from ..identity.citizen import CitizenRef
from ..store.database import Change
from ..store.events import append_event
from .routing import Waiting, pick_next
from .views import LineTally, Views

ACTIVE = ("called", "serving")
MIN_SAMPLE_S, MAX_SAMPLE_S = 20, 4 * 3600


def _ts(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


class Engine:
    def __init__(self, cfg: HallConfig, clock: Clock):
        self.cfg = cfg
        self.clock = clock
        self.policy = cfg.queue
        self.views = Views(cfg)
        self._known_day: str | None = None
        # Today's line as counted for the last issue, and the writer connection's row-change count right
        # after it: valid while nothing but issues has written since (see _line).
        self._tally: LineTally | None = None
        self._tally_mark = -1
        # the matters each window may call (its profile), for call-next's snapshot
        self._served_by = {w.number: tuple(m.code for m in cfg.matters if cfg.preference(w, m.code) is not None)
                           for w in cfg.windows}

    # -- time and rollover ----------------------------------------------------------------------
    def today(self, at: datetime | None = None) -> str:
        return self.views.today(at or self.clock.now())

    def forget_cached_state(self) -> None:
        """A change or a whole transaction was rolled back: what was read in it may never have been saved."""
        self._known_day = None
        self._tally = None

    def _begin(self, conn: sqlite3.Connection, events: list[dict]) -> tuple[datetime, str]:
        """Every change starts here: the time, the service day, and the rollover if one is due."""
        now = self.clock.now()
        day = self.today(now)
        if day != self._known_day:
            row = conn.execute("SELECT value FROM meta WHERE key='service_day'").fetchone()
            if row is None or row[0] < day:     # only forward: a clock set back never reopens a day
                # Not cached here: this change may still be refused and rolled back, rollover and all;
                # the next change then reads the day again and rolls over itself.
                self._rollover(conn, now, row[0] if row else None, day, events)
                self._known_day = None
            else:
                day = row[0]                    # the clock is behind the stored day: stay in that day
                self._known_day = day
        return now, day

    def _rollover(self, conn, now: datetime, old: str | None, day: str, events: list[dict]) -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES ('service_day', ?)"
                     " ON CONFLICT(key) DO UPDATE SET value=excluded.value", (day,))
        if old is None:             # a new database: nothing to close
            return
        expired = conn.execute(
            "UPDATE tickets SET status='expired', finished_at=? WHERE service_day < ?"
            " AND status IN ('waiting','called','serving')",
            (_ts(now), day),
        ).rowcount
        conn.execute(
            "UPDATE windows SET state='closed', reason='rollover', since=?, clerk=NULL,"
            " current_ticket=NULL, priority_streak=0",
            (_ts(now),),
        )
        events.append(append_event(conn, "day.rolled_over", now,
                                   {"from_day": old, "to_day": day, "expired": expired}))

    def tick(self, conn: sqlite3.Connection) -> Change:
        """A no-op change that makes a due rollover happen even when the hall is quiet."""
        events: list[dict] = []
        self._begin(conn, events)
        return Change(None, events)

    # -- tickets --------------------------------------------------------------------------------
    begin = _begin      # public for changes composed outside the engine (hall_server/identity/swipes.py)

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

    # -- window actions -------------------------------------------------------------------------
    def call_next(self, conn, number: int, *, actor: str) -> Change:
        events: list[dict] = []
        now, day = self._begin(conn, events)
        w = self._window(conn, number)
        self._require_state(w, ("open",), "call the next ticket")
        if w["current_ticket"] is not None:
            cur = self._ticket(conn, w["current_ticket"])
            since = (now - datetime.fromisoformat(cur["last_called_at"])).total_seconds()
            if cur["status"] == "called" and since < self.policy.call_debounce_s:
                raise Conflict("just_called", f"{cur['number']} 号刚刚叫过，请稍候再叫下一位",
                               f"{cur['number']} was called {since:.1f} s ago; wait a moment before calling "
                               "the next ticket", retry_after_s=round(self.policy.call_debounce_s - since, 1))
            self._finish(conn, now, w, cur, actor, events)
        rows = self._line_heads(conn, day, number)
        wcfg = self.cfg.window(number)
        pick = pick_next([Waiting(*r) for r in rows], number, lambda m: self.cfg.preference(wcfg, m),
                         w["priority_streak"], self.policy.max_priority_in_row,
                         frozenset(self.policy.priority_classes))
        if pick is None:
            return Change(None, events)
        t = self._ticket(conn, pick.ticket_id)
        if pick.reason == "transferred":
            streak = w["priority_streak"]
        else:
            streak = w["priority_streak"] + 1 if pick.priority_call else 0
        conn.execute("UPDATE tickets SET status='called', window=?, target_window=NULL, called_at=?,"
                     " last_called_at=?, recalls=0 WHERE id=?", (number, _ts(now), _ts(now), t["id"]))
        conn.execute("UPDATE windows SET current_ticket=?, priority_streak=? WHERE number=?",
                     (t["id"], streak, number))
        events.append(self._call_event(conn, now, "ticket.called", t, number, actor, 0, pick.reason))
        return Change(self.views.ticket(conn, t["id"], now), events)

    def recall(self, conn, number: int, *, actor: str) -> Change:
        events: list[dict] = []
        now, _ = self._begin(conn, events)
        w = self._window(conn, number)
        t = self._current(conn, w, ("called",), "recall")
        since = (now - datetime.fromisoformat(t["last_called_at"])).total_seconds()
        # The cool-down comes first: the citizen gets it after the last recall too, so a double press
        # past the limit does not make them a no-show at once.
        if since < self.policy.recall_cooldown_s:
            wait = round(self.policy.recall_cooldown_s - since, 1)
            raise Conflict("recall_too_soon", f"刚刚叫过 {t['number']} 号，请 {wait} 秒后再重呼",
                           f"{t['number']} was called {since:.1f} s ago; recall again in {wait} s",
                           retry_after_s=wait)
        if t["recalls"] >= self.policy.recall_limit:
            self._no_show(conn, now, w, t, actor, "recall_limit", events)
            return Change(self.views.ticket(conn, t["id"], now), events)
        conn.execute("UPDATE tickets SET recalls=recalls+1, last_called_at=? WHERE id=?", (_ts(now), t["id"]))
        events.append(self._call_event(conn, now, "ticket.recalled", t, number, actor, t["recalls"] + 1, None))
        return Change(self.views.ticket(conn, t["id"], now), events)

    def start(self, conn, number: int, *, actor: str) -> Change:
        """The citizen has arrived at the window: serving starts (handling time is measured from here)."""
        events: list[dict] = []
        now, _ = self._begin(conn, events)
        w = self._window(conn, number)
        t = self._current(conn, w, ("called",), "start serving")
        conn.execute("UPDATE tickets SET status='serving', started_at=? WHERE id=?", (_ts(now), t["id"]))
        events.append(append_event(conn, "ticket.serving", now,
                                   {"ticket_id": t["id"], "number": t["number"], "window": number, "by": actor},
                                   actor=actor, ticket_id=t["id"], window=number))
        return Change(self.views.ticket(conn, t["id"], now), events)

    def skip(self, conn, number: int, *, actor: str) -> Change:
        events: list[dict] = []
        now, _ = self._begin(conn, events)
        w = self._window(conn, number)
        t = self._current(conn, w, ("called",), "skip")
        self._no_show(conn, now, w, t, actor, "skipped", events)
        return Change(self.views.ticket(conn, t["id"], now), events)

    def finish(self, conn, number: int, *, actor: str) -> Change:
        events: list[dict] = []
        now, _ = self._begin(conn, events)
        w = self._window(conn, number)
        t = self._current(conn, w, ACTIVE, "finish")
        self._finish(conn, now, w, t, actor, events)
        return Change(self.views.ticket(conn, t["id"], now), events)

    def transfer(self, conn, number: int, *, actor: str, to_matter: str | None = None,
                 to_window: int | None = None, reason: str = "") -> Change:
        events: list[dict] = []
        now, _ = self._begin(conn, events)
        w = self._window(conn, number)
        t = self._current(conn, w, ACTIVE, "transfer")
        self._move(conn, now, t, number, actor, to_matter, to_window, reason, events)
        conn.execute("UPDATE windows SET current_ticket=NULL WHERE number=?", (number,))
        return Change(self.views.ticket(conn, t["id"], now), events)

    def set_state(self, conn, number: int, action: str, *, actor: str, reason: str = "") -> Change:
        """open / pause / resume / close, each allowed only from the states that make sense."""
        allowed = {"open": ("closed",), "pause": ("open",), "resume": ("paused",), "close": ("open", "paused")}
        target = {"open": "open", "pause": "paused", "resume": "open", "close": "closed"}[action]
        events: list[dict] = []
        now, _ = self._begin(conn, events)
        w = self._window(conn, number)
        self._require_state(w, allowed[action], action)
        if action in ("pause", "close") and w["current_ticket"] is not None:
            cur = self._ticket(conn, w["current_ticket"])
            raise Conflict("window_busy", f"{number} 号窗口正在办理 {cur['number']} 号，请先办结、过号或转移",
                           f"window {number} still has ticket {cur['number']}; finish, skip or transfer it "
                           f"before you {action} the window", current=cur["number"])
        clerk = None if action == "close" else w["clerk"]
        conn.execute("UPDATE windows SET state=?, reason=?, since=?, clerk=?,"
                     " priority_streak=CASE WHEN ?='open' THEN 0 ELSE priority_streak END WHERE number=?",
                     (target, reason or None, _ts(now), clerk, action, number))
        kind = {"open": "opened", "pause": "paused", "resume": "resumed", "close": "closed"}[action]
        events.append(append_event(conn, f"window.{kind}", now,
                                   {"window": number, "state": target, "reason": reason, "by": actor},
                                   actor=actor, window=number))
        return Change(self.views.window(conn, number), events)

    def login(self, conn, number: int, *, username: str) -> Change:
        events: list[dict] = []
        now, _ = self._begin(conn, events)
        w = self._window(conn, number)
        if w["clerk"] and w["clerk"] != username:
            raise Conflict("window_taken", f"{number} 号窗口已由 {w['clerk']} 登录，请其先退出",
                           f"{w['clerk']} is logged in to window {number}; they must log out, or a supervisor "
                           "must close the window, first", clerk=w["clerk"])
        for other in conn.execute("SELECT number, current_ticket FROM windows WHERE clerk=? AND number<>?",
                                  (username, number)).fetchall():
            if other["current_ticket"] is not None:
                raise Conflict("clerk_busy_elsewhere", f"您在 {other['number']} 号窗口还有未办结的票",
                               f"you still have a ticket at window {other['number']}; finish it there first",
                               window=other["number"])
            self._logout(conn, now, other["number"], username, events)
        conn.execute("UPDATE windows SET clerk=? WHERE number=?", (username, number))
        events.append(append_event(conn, "window.login", now, {"window": number, "clerk": username},
                                   actor=username, window=number))
        return Change(self.views.window(conn, number), events)

    def logout(self, conn, number: int, *, username: str) -> Change:
        events: list[dict] = []
        now, _ = self._begin(conn, events)
        w = self._window(conn, number)
        if w["current_ticket"] is not None:
            raise Conflict("window_busy", "请先办结当前的票再退出", "finish the current ticket before logging out")
        self._logout(conn, now, number, w["clerk"] or username, events)
        return Change(self.views.window(conn, number), events)

    def require_clerk(self, conn, number: int, username: str) -> None:
        """A clerk may act only on the window they are logged in to."""
        w = self._window(conn, number)
        if w["clerk"] != username:
            held = f" ({w['clerk']} is)" if w["clerk"] else ""
            raise Forbidden("not_your_window", f"您未登录 {number} 号窗口",
                            f"you are not logged in to window {number}{held}; log in to it first with "
                            f"POST /api/v1/windows/{number}/login", window=number)

    # -- internals ------------------------------------------------------------------------------
    def _line_heads(self, conn, day: str, number: int) -> list[sqlite3.Row]:
        """Call-next's snapshot: the tickets transferred to this window, and of the other waiting tickets
        it may call only the first in line of each (matter, priority) — with any that share that place,
        so pick_next's tie-break by id still decides. pick_next orders tickets within such a group by
        exactly (queue_key, id), so it picks the same ticket as over the whole line, while the snapshot
        stays a few dozen rows and is read from the covering index however long the line grows."""
        served = self._served_by.get(number, ())
        marks = ",".join("?" * len(served)) or "NULL"
        return conn.execute(
            "SELECT t.id, t.matter, t.priority, t.queue_key, t.target_window FROM ("
            "  SELECT matter, priority, MIN(queue_key) AS first FROM tickets"
            "  WHERE service_day=? AND status='waiting' AND target_window IS NULL"
            f"  AND matter IN ({marks}) GROUP BY matter, priority) AS head"
            " CROSS JOIN tickets AS t ON t.service_day=? AND t.status='waiting' AND t.matter=head.matter"
            "  AND t.priority=head.priority AND t.target_window IS NULL AND t.queue_key=head.first"
            " UNION ALL"
            " SELECT id, matter, priority, queue_key, target_window FROM tickets INDEXED BY tickets_transferred"
            " WHERE service_day=? AND status='waiting' AND target_window IS NOT NULL AND target_window=?",
            (day, *served, day, day, number)).fetchall()

    def _logout(self, conn, now, number: int, username: str, events: list[dict]) -> None:
        conn.execute("UPDATE windows SET clerk=NULL, state=CASE WHEN state='open' THEN 'paused' ELSE state END,"
                     " reason=CASE WHEN state='open' THEN 'clerk logged out' ELSE reason END WHERE number=?",
                     (number,))
        events.append(append_event(conn, "window.logout", now, {"window": number, "clerk": username},
                                   actor=username, window=number))

    def _ticket(self, conn, ticket_id: int) -> sqlite3.Row:
        row = None
        if abs(ticket_id) < 2**63:              # a bigger id (any int may come from a URL) is no ticket
            row = conn.execute("SELECT * FROM tickets WHERE id=?", (ticket_id,)).fetchone()
        if row is None:
            raise errors.ticket_not_found(ticket_id)
        return row

    def _window(self, conn, number: int) -> sqlite3.Row:
        if self.cfg.window(number) is None:     # first: any int may come from a URL, even 10**30
            raise errors.window_not_found(number)
        row = conn.execute("SELECT * FROM windows WHERE number=?", (number,)).fetchone()
        if row is None:
            raise errors.window_not_found(number)
        return row

    def _require_state(self, w, allowed: tuple[str, ...], doing: str) -> None:
        if w["state"] not in allowed:
            hint = {"closed": "open it first", "paused": "resume it first", "open": "it is already open"}
            zh = {"closed": "已关闭，请先开窗", "paused": "已暂停，请先恢复", "open": "已开放"}
            raise Conflict(f"window_{w['state']}", f"{w['number']} 号窗口{zh[w['state']]}",
                           f"window {w['number']} is {w['state']}; cannot {doing}: {hint[w['state']]}",
                           state=w["state"])

    def _current(self, conn, w, statuses: tuple[str, ...], doing: str) -> sqlite3.Row:
        if w["current_ticket"] is None:
            raise Conflict("no_current_ticket", f"{w['number']} 号窗口当前没有票",
                           f"window {w['number']} has no current ticket to {doing}; call the next one first")
        t = self._ticket(conn, w["current_ticket"])
        if t["status"] not in statuses:
            raise Conflict("ticket_state", f"{t['number']} 号当前为 {t['status']}，不能执行该操作",
                           f"ticket {t['number']} is {t['status']}; cannot {doing} it", status_now=t["status"])
        return t

    def _call_event(self, conn, now, type_, t, number, actor, recalls, reason) -> dict:
        m = self.cfg.matter(t["matter"])
        w = self.cfg.window(number)
        return append_event(conn, type_, now, {
            "ticket_id": t["id"], "number": t["number"], "window": number, "window_name": w.name,
            "matter": t["matter"], "matter_name": m.name if m else t["matter"], "priority": t["priority"],
            "recalls": recalls, "reason": reason, "by": actor}, actor=actor, ticket_id=t["id"], window=number)

    def _finish(self, conn, now, w, t, actor, events) -> None:
        began = datetime.fromisoformat(t["started_at"] or t["called_at"])
        sample = (now - began).total_seconds()
        conn.execute("UPDATE tickets SET status='done', finished_at=? WHERE id=?", (_ts(now), t["id"]))
        conn.execute("UPDATE windows SET current_ticket=NULL WHERE number=?", (w["number"],))
        if MIN_SAMPLE_S <= sample <= MAX_SAMPLE_S:
            self.views.learn(conn, t["matter"], sample, self.policy.ewma_alpha)
        events.append(append_event(conn, "ticket.finished", now,
                                   {"ticket_id": t["id"], "number": t["number"], "window": w["number"],
                                    "handling_s": round(sample, 1), "by": actor},
                                   actor=actor, ticket_id=t["id"], window=w["number"]))

    def _no_show(self, conn, now, w, t, actor, reason, events) -> None:
        conn.execute("UPDATE tickets SET status='no_show', finished_at=? WHERE id=?", (_ts(now), t["id"]))
        conn.execute("UPDATE windows SET current_ticket=NULL WHERE number=?", (w["number"],))
        events.append(append_event(conn, "ticket.no_show", now,
                                   {"ticket_id": t["id"], "number": t["number"], "window": w["number"],
                                    "reason": reason, "by": actor},
                                   actor=actor, ticket_id=t["id"], window=w["number"]))

    def _move(self, conn, now, t, from_window, actor, to_matter, to_window, reason, events) -> None:
        if to_matter is None and to_window is None:
            raise HallError("transfer_target_missing", "请指定转移到的事项或窗口",
                            "say where to transfer: give to_matter, to_window or both", status=422)
        if to_matter is not None and self.cfg.matter(to_matter) is None:
            raise errors.matter_not_found(to_matter)
        if to_window is not None:
            self._window(conn, to_window)
            if to_window == from_window:
                raise Conflict("transfer_to_self", "不能转移到本窗口",
                               f"the ticket is already at window {to_window}; pick another window")
        conn.execute("UPDATE tickets SET status='waiting', matter=COALESCE(?, matter), target_window=?,"
                     " transfers=transfers+1, recalls=0 WHERE id=?", (to_matter, to_window, t["id"]))
        events.append(append_event(conn, "ticket.transferred", now, {
            "ticket_id": t["id"], "number": t["number"], "from_window": from_window,
            "from_matter": t["matter"], "to_matter": to_matter or t["matter"], "to_window": to_window,
            "reason": reason, "by": actor}, actor=actor, ticket_id=t["id"], window=from_window))
