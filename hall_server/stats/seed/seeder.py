"""The Seeder: its state, the plan of the year (open days, the matters' shares, each window's handling scale) and
the run, day by day, flushing each day's rows and events; `seed()` opens and migrates the store and runs it."""
from __future__ import annotations

import heapq
import json
import math
import random
import sqlite3
import time
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from ...cases.calendar import WorkCalendar
from ...cases.config import case_prefix
from ...cases.intake import matter_snapshot
from ...config import HallConfig, load_config
from .base import _ENCODE, CASES, DISTRICT, RESULTS_MATTER, SQL, TICKETS, SeederBase, _accumulate, _h, iso
from .cases import Cases
from .feedback import Feedback
from .tickets import Tickets


class Seeder(Tickets, Feedback, Cases, SeederBase):
    APPEALS = .06           # the share of 差评 the clerk appeals (half of them upheld)
    OUT_OF_SCOPE = .02      # the share of complaints closed as out of scope (a petition) instead of answered

    def __init__(self, conn: sqlite3.Connection, cfg: HallConfig, *, scale: float = 1.0, seed: int = 1,
                 end: date = date(2026, 11, 30), days: int = 365):
        self.conn, self.cfg, self.scale = conn, cfg, scale
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(cfg.hall.timezone)
        self.cal = WorkCalendar(cfg.calendar)
        self._wd: dict[tuple[date, int], date] = {}
        self.first, self.last = end - timedelta(days=days - 1), end
        self.end_t = self.local(end + timedelta(days=1), 0)
        self.matters = {m.code: m for m in cfg.matters}
        self.windows = {w.number: w for w in cfg.windows}
        self.case_prefix = case_prefix(cfg.cases, cfg.hall.code)
        self.n = 0                                   # tie-break of events at one instant: generation order
        self.today: list[tuple] = []
        self.future: list[tuple] = []
        self.boundary = 0.0
        self.rows: dict[str, list[tuple]] = {}
        self.ids = {k: self._max(k) for k in ("tickets", "cases", "rating_prompts", "evaluations", "badratings",
                                               "complaints")}
        self.counts: dict[str, int] = {}
        self.day_counter: dict[tuple, int] = {}
        self.open_cases: dict[int, dict] = {}
        self.ready_window: list[tuple[float, int]] = []        # (when its owner comes, case id): results at 6
        self.handled: dict[str, list[float]] = {}
        self.tickets_today: list[dict] = []
        self.unserved: list[dict] = []
        self.last_key = 0
        self.clerk_at: dict[int, str] = {}
        self.prio = frozenset(cfg.queue.priority_classes)
        self.timeout = float(cfg.feedback.prompt_timeout_s)
        self.away_s = cfg.seat_monitoring.away_alert_min * 60
        self.devices = {dv.window for dv in cfg.devices if dv.kind == "evaluator"}
        self.deps_json = {m.code: json.dumps(list(m.deciders), ensure_ascii=False) for m in cfg.matters}
        ctx = SimpleNamespace(cfg=cfg)
        self.snapshots = {m.code: matter_snapshot(ctx, m.code) for m in cfg.matters}
        counter = [m for m in cfg.matters if m.group not in ("results", "complaint")]
        self.elsewhere = {g.code: [m.code for m in counter if m.group != g.code] for g in cfg.groups}
        self._plan()

    # -- the plan: open days, matters' shares, each window's handling scale ----------------------------------------
    def _plan(self) -> None:
        rng, cfg = self.rng, self.cfg
        self.days: list[tuple[date, float, float]] = []         # (day, opens h, closes h)
        d = self.first
        while d <= self.last:
            key = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d.weekday()]
            if self.cal.is_working_day(d):        # a 调休 Saturday or Sunday works a whole day
                hours = cfg.hall.opening.get(key if d.weekday() < 5 else "mon")
            elif d.weekday() == 5 and self._no_holiday(d):
                hours = cfg.hall.opening.get("sat")
            else:
                hours = None
            if hours:
                a, b = hours.split("-")
                self.days.append((d, _h(a), _h(b)))
            d += timedelta(days=1)
        load = {n: 1.0 for n in self.windows}
        load.update({6: .3, 7: .25, 12: .5, 13: 1.3, **{n: .6 for n in range(16, 23)}})
        weights: dict[tuple[int, str], float] = {}
        pop = {m: rng.uniform(.5, 1.5) / self.matters[m].minutes ** .5 for m in self.matters}
        for n, w in self.windows.items():
            groups = list(w.serves)
            for rank, g in enumerate(groups):
                share = load[n] * (.45 if rank == 0 else .55 / max(1, len(groups) - 1)) if len(groups) > 1 \
                    else load[n]
                ms = [m for m in self.matters.values() if g in (m.code, m.group)]
                tot = sum(pop[m.code] for m in ms)
                for m in ms:
                    weights[(n, m.code)] = weights.get((n, m.code), 0) + share * pop[m.code] / tot
        mw: dict[str, float] = {}
        for (_n, m), v in weights.items():
            mw[m] = mw.get(m, 0) + v
        self.mix = sorted(mw)
        self.cum = list(_accumulate([mw[m] for m in self.mix]))
        self.pool = {m: [n for n in cfg.windows_serving(m)] for m in self.matters}
        hours = sum(b - a - (1 if b - a > 4 else 0) for _d, a, b in self.days)
        span = ((self.last - self.first).days + 1) / 365       # the year's rate over the days seeded
        handouts = .3 * CASES * self.scale * span               # 出件 tickets of ready results, on top of the mix
        total = self.total = TICKETS * self.scale * span - handouts
        tw = sum(mw.values())
        self.factor: dict[int, float] = {}
        for n in self.windows:
            mine = [(total * v / tw, self.matters[m].minutes) for (k, m), v in weights.items() if k == n]
            if n == 6:
                mine.append((handouts, self.matters[RESULTS_MATTER].minutes))
            tickets, demand = sum(t for t, _m in mine), sum(t * m * .95 for t, m in mine)
            # ~80 % busy: each ticket also takes the walk to the window and the clerk's few seconds between two
            cap = hours * 60 * .78 - len(self.days) * 25 - tickets * .8
            self.factor[n] = max(.05, min(1.0, cap / demand)) if demand else 1.0
        # cases: intake at the counters (not 出件, not 办不成事); a rated share of every prompt
        caseable = sum(mw[m] for m in self.mix if self.matters[m].group not in ("results", "complaint")) / tw
        self.p_case = min(1.0, CASES * self.scale * span / (total * .93 * caseable))
        self.p_rate = .085
        self.p_status = .02
        self.clerks = {n: f"clerk{n:02d}" for n in self.windows}
        self.relief = [f"relief{i}" for i in range(1, 7)]
        self.skill = {c: rng.uniform(.8, 1.25) for c in [*self.clerks.values(), *self.relief]}
        self.mood = {c: rng.uniform(.5, 2.0) for c in [*self.clerks.values(), *self.relief]}
        self.departments = sorted({d for m in self.matters.values() for d in m.deciders})
        self.officer = {d: f"dept{i:02d}" for i, d in enumerate(self.departments, 1)}
        self.seat_prev = {n: "unknown" for n in self.windows}
        self.seated = {s.window: s.camera for s in cfg.seats}

    def _no_holiday(self, d: date) -> bool:
        """A Saturday the hall opens its half day: not inside a statutory holiday (the days around it are off)."""
        return all(self.cal.is_working_day(d + timedelta(days=k)) or (d + timedelta(days=k)).weekday() >= 5
                   for k in (-1, 1, 2))

    def _users(self) -> None:
        now = iso(self.local(self.first, 8))
        users = [(c, "clerk", None, None) for c in [*self.clerks.values(), *self.relief]]
        users += [("sup1", "supervisor", None, None), ("sup2", "supervisor", None, None),
                  ("kiosk1", "kiosk", None, None)]
        users += [(u, "department", json.dumps([d], ensure_ascii=False), None) for d, u in self.officer.items()]
        users += [(f"eval{n}", "evaluator", None, n) for n in self.windows]
        self.conn.executemany("INSERT OR IGNORE INTO users (username, role, password_hash, created_at, disabled,"
                              " departments, window) VALUES (?,?,'!seeded',?,0,?,?)",
                              [(u, r, now, d, w) for u, r, d, w in users])
        self.conn.executemany("INSERT OR IGNORE INTO windows (number, state, since) VALUES (?, 'closed', ?)",
                              [(n, now) for n in self.windows])

    # -- the run ------------------------------------------------------------------------------------------
    def run(self) -> dict:
        started = time.perf_counter()
        c = self.conn
        c.execute("PRAGMA synchronous = OFF")
        c.execute("PRAGMA foreign_keys = OFF")
        c.execute("BEGIN")
        self._users()
        open_days = {d: (a, b) for d, a, b in self.days}
        prev_day = c.execute("SELECT value FROM meta WHERE key='service_day'").fetchone()
        prev_day = prev_day[0] if prev_day else None
        per_day = self._per_day()
        d = self.first
        while d <= self.last:
            self.boundary = self.local(d + timedelta(days=1), self.cfg.hall.rollover_hour)
            if prev_day is not None:        # the engine's tick rolls the day over at rollover_hour
                self.emit(self.local(d, self.cfg.hall.rollover_hour) + 1, "day.rolled_over",
                          {"from_day": prev_day, "to_day": d.isoformat(), "expired": self.expired})
            self.expired = 0
            prev_day = d.isoformat()
            if d in open_days:
                a, b = open_days[d]
                self._day(d, a, b, per_day[d])
                self._complaints(d, a, b)
            self._flush()
            if d.day == 1 or d == self.last:
                c.execute("COMMIT")
                c.execute("BEGIN")
            d += timedelta(days=1)
        self._finish_cases()
        self._flush(final=True)
        c.execute("INSERT INTO meta (key, value) VALUES ('service_day', ?) ON CONFLICT(key) DO UPDATE SET"
                  " value=excluded.value", (prev_day,))
        c.execute("UPDATE windows SET state='closed', reason=NULL, clerk=NULL, current_ticket=NULL, since=?",
                  (iso(self.local(self.last, 18)),))
        for m, xs in self.handled.items():
            c.execute("INSERT OR REPLACE INTO matter_stats (matter, ewma_s, samples) VALUES (?,?,?)",
                      (m, sum(xs[-50:]) / len(xs[-50:]), len(xs)))
        c.execute("COMMIT")
        c.execute("PRAGMA synchronous = FULL")
        c.execute("PRAGMA foreign_keys = ON")
        counts = {t: c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in (
            "tickets", "cases", "evaluations", "badratings", "complaints", "events")}
        return {"seconds": round(time.perf_counter() - started, 1), "days": len(self.days), **counts,
                "handling_scale": {n: round(f, 2) for n, f in sorted(self.factor.items())}}

    def _per_day(self) -> dict[date, int]:
        rng = self.rng
        w = {d: (b - a) * (1.15 if d.weekday() == 0 else 1.0) * rng.uniform(.85, 1.15) *
             (1 + .1 * math.sin(d.timetuple().tm_yday / 58)) for d, a, b in self.days}
        tot = sum(w.values())
        return {d: round(self.total * v / tot) for d, v in w.items()}

    def _flush(self, final: bool = False) -> None:
        while self.future and (final or self.future[0][0] < self.boundary):
            self.today.append(heapq.heappop(self.future))
        self.today.sort(key=lambda e: (e[0], e[1]))
        rows = self.rows
        order = ("tickets", "cases", "case_materials", "case_tasks", "ticket_cases", "rating_prompts", "evaluations",
                 "badratings", "badrating_steps", "complaints", "complaint_steps", "seat_time", "counters")
        for table in order:
            if rows.get(table):
                self.conn.executemany(SQL[table], rows[table])
        self.rows = {}
        self.conn.executemany(
            "INSERT INTO events (type, at, actor, ticket_id, window, case_id, data) VALUES (?,?,?,?,?,?,?)",
            [(e[2], iso(e[0]), e[3], e[4], e[5], e[6], _ENCODE(e[7])) for e in self.today])
        self.today = []

    expired = 0


def seed(db: str | Path, *, scale: float = 1.0, seed: int = 1, end: date = date(2026, 11, 30), days: int = 365,
         config: str | Path = DISTRICT) -> dict:
    """Seed `db` (created and migrated if new) with a year of the hall of `config`; returns counts and seconds."""
    from ...store.database import _migrate, connect

    cfg = load_config(config)
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    conn = connect(db)
    try:
        _migrate(conn)
        n = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        if n:
            raise RuntimeError(f"{db} already holds {n} events: seed a fresh data dir (a seeded year is for "
                               "benchmarks and screenshots, never mixed into a hall's own log)")
        return Seeder(conn, cfg, scale=scale, seed=seed, end=end, days=days).run()
    finally:
        conn.close()
