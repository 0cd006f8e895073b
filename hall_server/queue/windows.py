"""Window actions of the queue engine: call-next (its snapshot and the routing policy), recall, start, skip,
finish, transfer from the window, the window's state (open / pause / resume / close) and the clerk's login."""
from __future__ import annotations

import sqlite3
from datetime import datetime

from ..errors import Conflict, Forbidden
from ..store.database import Change
from ..store.events import append_event
from .core import ACTIVE, EngineCore, _ts
from .routing import Waiting, pick_next

MIN_SAMPLE_S, MAX_SAMPLE_S = 20, 4 * 3600


class WindowActions(EngineCore):
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
        if self.on_finish is not None:
            self.on_finish(conn, now, w, t, actor, events)

    def _no_show(self, conn, now, w, t, actor, reason, events) -> None:
        conn.execute("UPDATE tickets SET status='no_show', finished_at=? WHERE id=?", (_ts(now), t["id"]))
        conn.execute("UPDATE windows SET current_ticket=NULL WHERE number=?", (w["number"],))
        events.append(append_event(conn, "ticket.no_show", now,
                                   {"ticket_id": t["id"], "number": t["number"], "window": w["number"],
                                    "reason": reason, "by": actor},
                                   actor=actor, ticket_id=t["id"], window=w["number"]))
