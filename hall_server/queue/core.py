"""The queue engine's footing: the time and service day every change starts from (with the daily rollover),
and the row lookups and the transfer that both the ticket and the window actions use.

Each change takes the writer's connection (the store has already opened `BEGIN IMMEDIATE`) and returns a
`Change` with the result and the events it appended (see engine.py).
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime

from .. import errors
from ..clock import Clock
from ..config import HallConfig
from ..errors import Conflict, HallError
from ..store.database import Change
from ..store.events import append_event
from .views import LineTally, Views

ACTIVE = ("called", "serving")


def _ts(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


class EngineCore:
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
        # called in the transaction that finishes a ticket, with (conn, now, window row, ticket row, actor, events):
        # the rating prompt of 好差评 (hall_server/feedback/), set by runtime.py
        self.on_finish: Callable[..., None] | None = None

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

    begin = _begin      # public for changes composed outside the engine (hall_server/identity/swipes.py)

    # -- shared by ticket and window actions ------------------------------------------------------
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
