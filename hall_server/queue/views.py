"""Read models: a ticket with its place in line and estimated wait, windows, the queue overview.

The estimate: the tickets that will be served before this one are those waiting ahead of it for the
same windows (tickets of any matter that shares a window with it, earlier in line, plus waiting
priority tickets when this one is normal). Their expected handling times — learned per matter as an
exponentially weighted mean, starting from the configured minutes — are shared among the open windows
that serve the matter (all of its windows when none is open yet).
"""
from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from ..clock import service_day
from ..config import PRIORITY_CLASSES, HallConfig


def _wait(ahead: dict[str, int], times: dict[str, float], open_n: int, windows_n: int) -> tuple[int, int]:
    """(tickets ahead, estimated seconds) from the tickets ahead per matter: their handling times shared
    among the open windows of the ticket (all of its windows when none is open)."""
    work = sum(times.get(m, 600) * n for m, n in sorted(ahead.items()))
    return sum(ahead.values()), round(work / max(open_n or windows_n, 1))


class LineTally:
    """Today's waiting line counted once: how many tickets wait per matter and priority kind (`plain`:
    (matter, "p" priority | "n" normal) → n, target window not set), how many were transferred to each
    window (`transferred`: window → matter → n), the latest place in line (`last_key`, the highest
    queue_key waiting), which windows are open, and the handling times. The engine
    keeps it while only issues change the line (each issue adds its ticket), so that a new ticket's place
    and wait are counted from memory instead of by SQL over the whole line."""

    __slots__ = ("day", "last_key", "open_windows", "plain", "times", "transferred")

    def __init__(self, day: str, plain: dict[tuple[str, str], int], transferred: dict[int, dict[str, int]],
                 last_key: int | None, open_windows: frozenset[int], times: dict[str, float]):
        self.day, self.plain, self.transferred, self.last_key = day, plain, transferred, last_key
        self.open_windows, self.times = open_windows, times


TICKET_FIELDS = ("id", "number", "matter", "status", "priority", "channel", "service_day", "issued_at",
                 "called_at", "started_at", "finished_at", "window", "target_window", "transfers", "recalls")


def ticket_cases(conn: sqlite3.Connection, ticket_id: int) -> list[dict]:
    """The cases an 出件 ticket was taken to collect (`ticket_cases`, api/handout.py): [{id, number}], by id."""
    return [{"id": r[0], "number": r[1]} for r in conn.execute(
        "SELECT c.id, c.number FROM ticket_cases l JOIN cases c ON c.id = l.case_id WHERE l.ticket_id=?"
        " ORDER BY c.id", (ticket_id,))]


class Views:
    def __init__(self, cfg: HallConfig):
        self.cfg = cfg
        self._serving = {m.code: frozenset(cfg.windows_serving(m.code)) for m in cfg.matters}
        self._competing = {
            m.code: frozenset(o.code for o in cfg.matters if self._serving[o.code] & self._serving[m.code])
            for m in cfg.matters
        }
        self._priority = frozenset(cfg.queue.priority_classes)
        self._normal = frozenset(PRIORITY_CLASSES) - self._priority     # classes called in plain order

    def today(self, at: datetime) -> str:
        return service_day(at, self.cfg.hall.timezone, self.cfg.hall.rollover_hour).isoformat()

    def local_date(self, at: datetime) -> date:
        """The calendar date in the hall's time zone (ages and card validity are judged by it)."""
        return at.astimezone(ZoneInfo(self.cfg.hall.timezone)).date()

    def day_start(self, at: datetime) -> str:
        """When the service day of `at` began, as the UTC text events are stamped with."""
        local = at.astimezone(ZoneInfo(self.cfg.hall.timezone))
        start = datetime.combine(date.fromisoformat(self.today(at)), time(self.cfg.hall.rollover_hour),
                                 tzinfo=local.tzinfo)
        return start.astimezone(UTC).isoformat(timespec="milliseconds")

    # -- handling times ---------------------------------------------------------------------------
    def handling_s(self, conn: sqlite3.Connection) -> dict[str, float]:
        learned = {r[0]: r[1] for r in conn.execute("SELECT matter, ewma_s FROM matter_stats")}
        return {m.code: learned.get(m.code, m.minutes * 60) for m in self.cfg.matters}

    def learn(self, conn: sqlite3.Connection, matter: str, sample_s: float, alpha: float) -> None:
        m = self.cfg.matter(matter)
        prior = m.minutes * 60 if m else sample_s
        conn.execute(
            "INSERT INTO matter_stats (matter, ewma_s, samples) VALUES (?, ? * ? + (1 - ?) * ?, 1)"
            " ON CONFLICT(matter) DO UPDATE SET ewma_s = ? * ? + (1 - ?) * ewma_s, samples = samples + 1",
            (matter, alpha, sample_s, alpha, prior, alpha, sample_s, alpha),
        )

    # -- the line of a new ticket (issue's hot path) ----------------------------------------------
    def _kind(self, priority: str) -> str | None:
        return "p" if priority in self._priority else "n" if priority in self._normal else None

    def tally(self, conn: sqlite3.Connection, day: str) -> LineTally:
        """Count `day`'s waiting line (one pass over the covering index `tickets_line`)."""
        plain: dict[tuple[str, str], int] = {}
        transferred: dict[int, dict[str, int]] = {}
        last_key = None
        for matter, priority, target, n, key in conn.execute(
                "SELECT matter, priority, target_window, COUNT(*), MAX(queue_key) FROM tickets WHERE service_day=?"
                " AND status='waiting' GROUP BY matter, priority, target_window", (day,)):
            last_key = key if last_key is None else max(last_key, key)
            if target is not None:
                per = transferred.setdefault(target, {})
                per[matter] = per.get(matter, 0) + n
            elif (kind := self._kind(priority)) is not None:
                plain[(matter, kind)] = plain.get((matter, kind), 0) + n
        open_windows = frozenset(r[0] for r in conn.execute("SELECT number FROM windows WHERE state='open'"))
        return LineTally(day, plain, transferred, last_key, open_windows, self.handling_s(conn))

    def join_line(self, tally: LineTally, matter: str, priority: str, key: int) -> tuple[int, int] | None:
        """(tickets ahead, estimated seconds) of a new ticket (not transferred) joining the line at `key`, as
        `_estimate` counts them, and the ticket added to `tally`. None when it is not behind every waiting
        ticket (the clock was set back past a requeued one): then only `_estimate` can say."""
        behind_all = tally.last_key is None or key > tally.last_key
        tally.last_key = key if behind_all else tally.last_key
        windows = self._serving.get(matter, frozenset())
        ahead: dict[str, int] = {}
        for w in windows:                      # transferred to one of its windows: called there first
            for m, n in tally.transferred.get(w, {}).items():
                ahead[m] = ahead.get(m, 0) + n
        kind = self._kind(priority)
        kinds = ("p",) if kind == "p" else ("p", "n")   # a priority ticket goes before every normal one
        for m in self._competing.get(matter, ()):
            for k in kinds:
                n = tally.plain.get((m, k), 0)
                if n:
                    ahead[m] = ahead.get(m, 0) + n
        if kind is not None:
            tally.plain[(matter, kind)] = tally.plain.get((matter, kind), 0) + 1
        if not behind_all:
            return None
        return _wait(ahead, tally.times, len(windows & tally.open_windows), len(windows))

    # -- tickets ----------------------------------------------------------------------------------
    def ticket(self, conn: sqlite3.Connection, ticket_id: int, now: datetime) -> dict | None:
        if abs(ticket_id) >= 2**63:             # too big for SQLite: no such ticket
            return None
        row = conn.execute("SELECT * FROM tickets WHERE id=?", (ticket_id,)).fetchone()
        if row is None:
            return None
        out = {k: row[k] for k in TICKET_FIELDS}
        m = self.cfg.matter(row["matter"])
        out["matter_name"] = m.name if m else row["matter"]
        out["group"] = m.group if m else None
        out["waiting_ahead"], out["estimated_wait_s"] = (0, 0)
        if row["status"] == "waiting":
            out["waiting_ahead"], out["estimated_wait_s"] = self._estimate(conn, row)
        cases = ticket_cases(conn, ticket_id)
        if cases:               # an 出件 ticket (others answer without: TicketOut says case null, cases [])
            out["case"], out["cases"] = cases[0], cases
        return out

    def _estimate(self, conn: sqlite3.Connection, t: sqlite3.Row) -> tuple[int, int]:
        """(tickets ahead, estimated seconds), counted in SQL. Each part of the UNION seeks the covering
        index `tickets_line` by matter and priority instead of scanning the whole line."""
        target = t["target_window"]
        windows = [target] if target is not None else sorted(self._serving.get(t["matter"], ()))
        # "before me in line"; the first term lets SQLite seek the index by queue_key
        earlier = " AND queue_key <= ? AND (queue_key < ? OR id < ?)"
        key = (t["queue_key"], t["queue_key"], t["id"])
        base = "SELECT matter, COUNT(*) FROM tickets WHERE service_day=? AND status='waiting' AND id<>?"
        head = (t["service_day"], t["id"])
        w_marks = ",".join("?" * len(windows)) or "NULL"
        # tickets transferred to one of these windows are called there first
        parts = [base.replace("FROM tickets", "FROM tickets INDEXED BY tickets_transferred")
                 + f" AND target_window IS NOT NULL AND target_window IN ({w_marks})"
                 + (earlier if target is not None else "")
                 + " GROUP BY matter"]
        args: list = [*head, *windows, *(key if target is not None else ())]
        if target is None:
            competing = sorted(self._competing.get(t["matter"], ()))
            prio = sorted(self._priority)
            c_marks, p_marks = ",".join("?" * len(competing)), ",".join("?" * len(prio))
            mine_prio = t["priority"] in self._priority
            # priority tickets: all of them before a normal ticket, earlier ones before a priority one
            parts.append(f"{base} AND matter IN ({c_marks}) AND priority IN ({p_marks}) AND target_window IS NULL"
                         + (earlier if mine_prio else "") + " GROUP BY matter")
            args += [*head, *competing, *prio, *(key if mine_prio else ())]
            if not mine_prio:   # and earlier normal tickets
                normal = sorted(self._normal)
                n_marks = ",".join("?" * len(normal))
                parts.append(f"{base} AND matter IN ({c_marks}) AND priority IN ({n_marks})"
                             f" AND target_window IS NULL{earlier} GROUP BY matter")
                args += [*head, *competing, *normal, *key]
        ahead: dict[str, int] = {}
        for matter, n in conn.execute(" UNION ALL ".join(parts), args):
            ahead[matter] = ahead.get(matter, 0) + n
        open_n = conn.execute(f"SELECT COUNT(*) FROM windows WHERE state='open' AND number IN ({w_marks})",
                              windows).fetchone()[0] if windows else 0
        return _wait(ahead, self.handling_s(conn), open_n, len(windows))

    def history(self, conn: sqlite3.Connection, ticket_id: int) -> list[dict]:
        rows = conn.execute("SELECT seq, type, at, actor, window, data FROM events WHERE ticket_id=? ORDER BY seq",
                            (ticket_id,)).fetchall()
        return [{"seq": r["seq"], "type": r["type"], "at": r["at"], "by": r["actor"], "window": r["window"],
                 "data": json.loads(r["data"])} for r in rows]

    # -- windows and queues -----------------------------------------------------------------------
    def window(self, conn: sqlite3.Connection, number: int) -> dict:
        row = conn.execute("SELECT * FROM windows WHERE number=?", (number,)).fetchone()
        return self._window_row(conn, row)

    def windows(self, conn: sqlite3.Connection) -> list[dict]:
        return [self._window_row(conn, r) for r in conn.execute("SELECT * FROM windows ORDER BY number")]

    def _window_row(self, conn: sqlite3.Connection, row: sqlite3.Row) -> dict:
        w = self.cfg.window(row["number"])
        current = None
        if row["current_ticket"] is not None:
            t = conn.execute("SELECT id, number, matter, status, called_at, recalls FROM tickets WHERE id=?",
                             (row["current_ticket"],)).fetchone()
            current = dict(t) if t else None
        state = "serving" if current and row["state"] == "open" else row["state"]
        return {"number": row["number"], "name": w.name, "zone": w.zone, "serves": list(w.serves),
                "state": state, "reason": row["reason"], "since": row["since"], "clerk": row["clerk"],
                "current": current}

    def served_today(self, conn: sqlite3.Connection, day: str) -> dict[int, int]:
        return {r[0]: r[1] for r in conn.execute(
            "SELECT window, COUNT(*) FROM tickets WHERE service_day=? AND status='done' GROUP BY window", (day,))}

    def queue(self, conn: sqlite3.Connection, now: datetime) -> dict:
        """Waiting counts and longest wait per matter and per group, today."""
        day = self.today(now)
        now_us = int(now.timestamp() * 1_000_000)
        per_matter: dict[str, dict] = {}
        for matter, n, oldest, prio in conn.execute(
            "SELECT matter, COUNT(*), MIN(queue_key), SUM(priority <> 'normal') FROM tickets"
            " WHERE service_day=? AND status='waiting' GROUP BY matter", (day,)
        ):
            per_matter[matter] = {"waiting": n, "priority_waiting": prio or 0,
                                  "longest_wait_s": max(0, (now_us - oldest) // 1_000_000)}
        groups = []
        for g in self.cfg.groups:
            ms = [m for m in self.cfg.matters if m.group == g.code]
            waits = [per_matter[m.code] for m in ms if m.code in per_matter]
            groups.append({
                "code": g.code, "name": g.name, "prefixes": sorted({m.prefix for m in ms}),
                "waiting": sum(x["waiting"] for x in waits),
                "longest_wait_s": max((x["longest_wait_s"] for x in waits), default=0),
            })
        matters = [{"code": m.code, "name": m.name, "group": m.group, **per_matter[m.code]}
                   for m in self.cfg.matters if m.code in per_matter]
        return {"service_day": day, "waiting": sum(g["waiting"] for g in groups), "groups": groups,
                "matters": matters}
