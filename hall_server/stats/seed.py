"""A seeded year of a district centre: the tickets, cases, ratings, 差评, complaints and seat events of a year of
traffic, written straight into a hall store with exactly the events (types and data keys) and the state rows
the engine writes, so that `onewindow stats rebuild` computes the figures from them as from real traffic.

    python -m hall_server.stats.seed --db var/seed-year.sqlite [--scale 0.01] [--seed 1] [--end 2026-11-30]

Scale 1 is the issue's year: 1,000,000 tickets, 200,000 cases, 100,000 ratings (approximately), over the
open days of the hall's calendar (weekdays and 调休 Saturdays full days, other Saturdays the half day of
[hall.opening], statutory holidays closed). Arrivals follow a day shape (morning and afternoon peaks, a
lunch dip); each window serves one ticket at a time (the pool of windows serving a matter, first free first),
pauses for lunch in two shifts and now and then, and its clerk leaves the seat a few times a day.

One thing is not as in a real hall, and it is said here: a million tickets through 22 windows leave about
three minutes of a window per ticket, where the matters' expected minutes average near ten. Handling times
are therefore the expected minutes scaled per window (so that each window is ~80 % busy) — waits stay
realistic, and `handle_mean_s` against `expected_handle_s` shows the scale. At --scale 0.3 and below the
scale is 1 (capped) and handling times are the expected minutes' own.

Not written: the SMS outbox, the locker compartments and their locker.* events (a result by locker is
ready/delivered with its compartment label as the cases' events say), the deadline colours of 差评 and
complaint steps (case deadlines are: case.deadline with its alert), evidence snapshots. Deterministic in
--seed; fast: one connection, synchronous=OFF, executemany in transactions of a day.
"""
from __future__ import annotations

import argparse
import base64
import heapq
import json
import math
import random
import sqlite3
import time
from bisect import bisect
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from ..cases.calendar import WorkCalendar
from ..cases.config import case_prefix
from ..cases.intake import matter_snapshot
from ..complaints.base import CLOSE_REASONS
from ..config import HallConfig, load_config

ROOT = Path(__file__).resolve().parents[2]
DISTRICT = ROOT / "config" / "district-centre.toml"
TICKETS, CASES, RATINGS = 1_000_000, 200_000, 100_000
# half-hour arrival weights from 08:30 (the lunch dip at 12:00-13:30, peaks mid-morning and mid-afternoon)
SHAPE = (.6, 1.0, 1.3, 1.4, 1.2, 1.0, .7, .35, .3, .4, .7, 1.0, 1.2, 1.2, 1.0, .8, .5, .2)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余于杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国玉兰红梅志文斌辉鹏宇浩"
RESULTS_MATTER = "CJ-001"      # 办件结果领取: the matter of an 出件 ticket (api/handout.py)
REASONS = ("态度", "效率", "材料要求不清", "多次跑", "其他")
COMPLAINT_TEXTS = ("材料要求前后不一致，跑了两趟", "窗口说系统不支持，办不了", "要求提供的证明开不出来",
                   "网上说能办，现场说不能办", "等了一上午没叫到号", "不知道该到哪个部门办")
TASK_COLS = {"claimed_by": 2, "claimed_at": 3, "outcome": 4, "opinion": 5, "decided_at": 6, "decided_by": 7}


_DAYS: dict[int, str] = {}
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def iso(t: float) -> str:
    """UTC text as the store stamps it (datetime.isoformat(timespec="milliseconds")), a few times faster."""
    msec = round(t * 1000)
    day, rest = divmod(msec, 86_400_000)
    head = _DAYS.get(day)
    if head is None:
        head = _DAYS[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%dT")
    sec, ms_ = divmod(rest, 1000)
    hh, rem = divmod(sec, 3600)
    mm, ss = divmod(rem, 60)
    return f"{head}{hh:02d}:{mm:02d}:{ss:02d}.{ms_:03d}+00:00"


def _iso(t: float | None) -> str | None:
    return None if t is None else iso(t)


class Seeder:
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

    # -- small helpers --------------------------------------------------------------------------------------
    def _max(self, table: str) -> int:
        return self.conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]

    def new_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def local(self, d: date, hours: float) -> float:
        return datetime(d.year, d.month, d.day, tzinfo=self.tz).timestamp() + hours * 3600

    def day_of(self, t: float) -> date:
        return datetime.fromtimestamp(t, self.tz).date()

    def add_wd(self, d: date, n: int) -> date:
        k = (d, n)
        got = self._wd.get(k)
        if got is None:
            got = self._wd[k] = self.cal.add_working_days(d, n)
        return got

    def at_work(self, d: date, lo: float = 9.0, hi: float = 17.0, after: float | None = None) -> float:
        """A moment of office hours on day d (or the next working day if d is not one), later than `after`."""
        while not self.cal.is_working_day(d):
            d += timedelta(days=1)
        t = self.local(d, self.rng.uniform(lo, hi))
        return t if after is None or t > after + 60 else after + self.rng.uniform(60, 3600)

    def emit(self, t: float, type_: str, data: dict, *, actor=None, ticket=None, window=None, case=None) -> None:
        self.n += 1
        item = (t, self.n, type_, actor, ticket, window, case, data)
        if t < self.boundary:
            self.today.append(item)
        elif t < self.end_t:
            heapq.heappush(self.future, item)
        self.counts[type_] = self.counts.get(type_, 0) + 1

    def row(self, table: str, values: tuple) -> None:
        self.rows.setdefault(table, []).append(values)

    def seq_of(self, day: str, prefix: str) -> int:
        k = (day, prefix)
        self.day_counter[k] = self.day_counter.get(k, 0) + 1
        return self.day_counter[k]

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

    # -- a day of the hall --------------------------------------------------------------------------------
    def _day(self, d: date, a: float, b: float, n: int) -> None:
        rng, day = self.rng, d.isoformat()
        open_t, close_t = self.local(d, a), self.local(d, b)
        relief = list(self.relief)
        rng.shuffle(relief)
        st: dict[int, dict] = {}
        for num in self.windows:
            clerk = relief.pop() if rng.random() < .07 and relief else self.clerks[num]
            login, opened = open_t - rng.uniform(300, 900), open_t - rng.uniform(0, 240)
            self.emit(login, "window.login", {"window": num, "clerk": clerk}, actor=clerk, window=num)
            self.emit(opened, "window.opened", {"window": num, "state": "open", "reason": "", "by": clerk},
                      actor=clerk, window=num)
            blocks = []
            if b - a > 4:                   # lunch in two shifts, so the hall never stops
                blocks.append([self.local(d, 12.0 if num % 2 else 12.75) + rng.uniform(-300, 300),
                               rng.uniform(2700, 3600), "午休"])
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                blocks.append([rng.uniform(open_t + 1800, close_t - 1800), rng.uniform(300, 900),
                               rng.choice(("临时离开", "业务咨询", "设备故障"))])
            for _ in range(rng.choice((1, 2, 3, 4))):
                blocks.append([rng.uniform(open_t + 600, close_t - 900), rng.lognormvariate(math.log(120), .7), None])
            blocks.sort(key=lambda x: x[0])
            st[num] = {"num": num, "clerk": clerk, "free": opened, "blocks": blocks, "prompt": None, "away": 0.0,
                       "seen": login + rng.uniform(5, 60)}
            self._seat(st[num]["seen"], num, "present", clerk)
        starts = [8.5 + i / 2 for i in range(len(SHAPE)) if a <= 8.5 + i / 2 < b]
        cw = list(_accumulate(SHAPE[int((h - 8.5) * 2)] for h in starts))
        arrivals = [(self.local(d, h + rng.random() / 2), None) for h in rng.choices(starts, cum_weights=cw, k=n)]
        while self.ready_window and self.ready_window[0][0] < close_t - 1800:
            when, cid = heapq.heappop(self.ready_window)
            arrivals.append((when if when > open_t else rng.uniform(open_t, close_t - 1800), cid))
        arrivals.sort(key=lambda x: x[0])
        waiting = self.unserved = []
        for arr, collect in arrivals:
            t = self._issue(day, arr, collect)
            if collect is None and rng.random() < .008:       # gone before the call: cancelled at the desk
                tt = arr + rng.uniform(300, 1800)
                self.emit(tt, "ticket.cancelled", {"ticket_id": t["id"], "number": t["number"], "reason": "群众离开",
                                                   "by": "sup1"}, actor="sup1", ticket=t["id"])
                t.update(status="cancelled", finished=tt)
            else:
                self._serve(t, st, arr, close_t + 600)
        for s in st.values():
            self._avail(s, close_t)
            c = max(close_t, s["free"]) + rng.uniform(60, 300)
            num, clerk = s["num"], s["clerk"]
            if s["prompt"] is not None:
                self._close_prompt(s["prompt"])
            self.emit(c, "window.closed", {"window": num, "state": "closed", "reason": "", "by": clerk},
                      actor=clerk, window=num)
            self._seat(c + rng.uniform(30, 240), num, "away", None)
            unknown = rng.uniform(0, 90)
            self.row("seat_time", (day, num, clerk, round(c - s["seen"] - s["away"] - unknown, 1),
                                   round(s["away"], 1), round(unknown, 1)))
        rolled = self.local(d + timedelta(days=1), self.cfg.hall.rollover_hour) + 1
        for t in waiting:
            if d < self.last:
                t["status"], t["finished"] = "expired", rolled
        self.expired = len(waiting) if d < self.last else 0
        for t in self.tickets_today:
            self.row("tickets", (t["id"], day, t["prefix"], t["seq"], t["number"], t["matter"], t["channel"],
                                 t["priority"], t["status"], t["key"], iso(t["issued"]), _iso(t["called"]),
                                 _iso(t["last_called"]), _iso(t["started"]), _iso(t["finished"]), t["window"], None,
                                 t["transfers"], t["recalls"], t["kiosk"]))
        self.tickets_today = []

    def _seat(self, t: float, num: int, state: str, clerk: str | None) -> None:
        if num not in self.seated or self.seat_prev[num] == state:
            return
        self.emit(t, "seat.presence", {"window": num, "state": state, "previous": self.seat_prev[num], "clerk": clerk},
                  window=num)
        self.seat_prev[num] = state

    def _avail(self, s: dict, t: float) -> float:
        """When window `s` can call next at or after t; the pauses and seat absences due by then happen first."""
        f, bl = s["free"], s["blocks"]
        while bl and bl[0][0] <= max(f, t):
            planned, dur, kind = bl.pop(0)
            bs = max(planned, f)
            be = bs + dur
            num, clerk = s["num"], s["clerk"]
            if kind is None:                # the clerk leaves the seat of an open window
                self._seat(bs, num, "away", clerk)
                if dur >= self.away_s:
                    at = bs + self.away_s
                    m = max(1, round(self.away_s / 60))
                    self.emit(at, "alert.raised", {
                        "kind": "away", "device": self.seated[num], "window": num, "clerk": clerk,
                        "away_since": datetime.fromtimestamp(int(bs), UTC).isoformat(timespec="seconds"),
                        "detail": f"{num}号窗口离岗 {m} 分钟 / window {num}: clerk away {m} min"}, window=num)
                    self.emit(be, "alert.cleared", {
                        "kind": "away", "window": num, "clerk": clerk, "reason": "returned", "away_s": round(dur),
                        "detail": f"{num}号窗口离岗 {round(dur / 60)} 分钟后：已回到座位 / back at the seat"},
                        window=num)
                self._seat(be, num, "present", clerk)
                s["away"] += dur
            else:
                self.emit(bs, "window.paused", {"window": num, "state": "paused", "reason": kind, "by": clerk},
                          actor=clerk, window=num)
                if kind == "午休" and dur > 120:
                    self._seat(bs + 30, num, "away", clerk)
                    self._seat(be - 30, num, "present", clerk)
                    s["away"] += dur - 60
                self.emit(be, "window.resumed", {"window": num, "state": "open", "reason": "", "by": clerk},
                          actor=clerk, window=num)
            f = be
        s["free"] = f
        return max(f, t)

    # -- tickets ------------------------------------------------------------------------------------------
    def _issue(self, day: str, arr: float, collect: int | None) -> dict:
        rng = self.rng
        m = self.mix[bisect(self.cum, rng.random() * self.cum[-1])]
        mt = self.matters[m]
        r = rng.random()
        pr = ("elderly" if r < .05 else "disabled" if r < .06 else "veteran" if r < .065 else "pregnant" if r < .07
              else "appointment" if r < .12 else "normal")
        channel = "appointment" if pr == "appointment" else "staff" if rng.random() < .06 else "kiosk"
        linked: list[int] = []
        if collect is not None:                 # the owner of a ready result takes an 出件 ticket
            m, mt, linked = RESULTS_MATTER, self.matters[RESULTS_MATTER], [collect]
            pr, channel = "handout", "kiosk"
        actor = "sup1" if channel == "staff" else "kiosk1"
        tid = self.new_id("tickets")
        seq = self.seq_of(day, mt.prefix)
        self.last_key = key = max(int(arr * 1e6), self.last_key + 1)
        t = {"id": tid, "prefix": mt.prefix, "seq": seq, "number": f"{mt.prefix}{seq:03d}", "matter": m,
             "channel": channel, "priority": pr, "status": "waiting", "key": key, "issued": arr, "called": None,
             "last_called": None, "started": None, "finished": None, "window": None, "transfers": 0, "recalls": 0,
             "kiosk": None if channel == "staff" else "kiosk1", "linked": linked, "contact": None}
        self.tickets_today.append(t)
        self.emit(arr, "ticket.issued", {"ticket_id": tid, "number": t["number"], "matter": m, "group": mt.group,
                                         "priority": pr, "channel": channel}, actor=actor, ticket=tid)
        if linked:
            self.row("ticket_cases", (tid, linked[0]))
            c = self.open_cases[linked[0]]
            self.emit(arr, "handout.ticket", {"ticket_id": tid, "number": t["number"],
                                              "cases": [{"id": c["id"], "number": c["number"]}]},
                      actor=actor, ticket=tid, case=c["id"])
        return t

    def _call(self, t: dict, num: int, recalls: int, reason: str | None) -> dict:
        m = self.matters[t["matter"]]
        return {"ticket_id": t["id"], "number": t["number"], "window": num, "window_name": self.windows[num].name,
                "matter": t["matter"], "matter_name": m.name, "priority": t["priority"], "recalls": recalls,
                "reason": reason, "by": self.clerk_at[num]}

    def _serve(self, t: dict, st: dict, at: float, last_call: float) -> bool:
        """Call, handle and finish (or lose) ticket t at the first free window of its pool; False: never called."""
        rng = self.rng
        best, start = 0, math.inf
        for num in self.pool[t["matter"]]:
            s = self._avail(st[num], at)
            if s < start:
                best, start = num, s
        if start > last_call:                   # still waiting when the windows close: expired at the rollover
            self.unserved.append(t)
            return False
        s = st[best]
        num, clerk, tid = best, s["clerk"], t["id"]
        self.clerk_at[num] = clerk
        t.update(status="called", window=num, called=start, last_called=start, recalls=0)
        reason = "priority" if t["priority"] in self.prio and not t["transfers"] else "preference"
        self.emit(start, "ticket.called", self._call(t, num, 0, reason), actor=clerk, ticket=tid, window=num)
        if rng.random() < .04 and not t["transfers"]:       # nobody comes: recalled, then a no-show
            k, tt = rng.choice((0, 1, 1, 2, 3, 3)), start
            for i in range(1, k + 1):
                tt += rng.uniform(16, 40)
                self.emit(tt, "ticket.recalled", self._call(t, num, i, None), actor=clerk, ticket=tid, window=num)
                t.update(recalls=i, last_called=tt)
            tt += rng.uniform(16, 40)
            why = "recall_limit" if k >= self.cfg.queue.recall_limit and rng.random() < .5 else "skipped"
            self.emit(tt, "ticket.no_show", {"ticket_id": tid, "number": t["number"], "window": num, "reason": why,
                                             "by": clerk}, actor=clerk, ticket=tid, window=num)
            t.update(status="no_show", finished=tt)
            s["free"] = tt + rng.uniform(2, 10)
            return True
        began = start
        if t["transfers"] or rng.random() < .85:
            began = start + rng.uniform(10, 60)
            self.emit(began, "ticket.serving", {"ticket_id": tid, "number": t["number"], "window": num, "by": clerk},
                      actor=clerk, ticket=tid, window=num)
            t.update(status="serving", started=began)
        mt = self.matters[t["matter"]]
        h = max(25.0, rng.lognormvariate(math.log(mt.minutes * 60 * self.factor[num] * self.skill[clerk]), .45))
        end = began + h
        if not t["transfers"] and not t["linked"] and rng.random() < .02:     # not this window's matter after all
            tt = began + h * rng.uniform(.2, .5)
            to = rng.choice(self.elsewhere[mt.group])
            self.emit(tt, "ticket.transferred", {
                "ticket_id": tid, "number": t["number"], "from_window": num, "from_matter": t["matter"],
                "to_matter": to, "to_window": None, "reason": "非本窗口事项", "by": clerk},
                actor=clerk, ticket=tid, window=num)
            t.update(status="waiting", matter=to, transfers=1, recalls=0)
            s["free"] = tt + rng.uniform(2, 10)
            return self._serve(t, st, tt + 1, last_call) or True
        if mt.group not in ("results", "complaint") and rng.random() < self.p_case:
            self._case(t, s, began, end)
        for cid in t["linked"]:
            self._deliver_window(self.open_cases[cid], began + h * .6, s, t)
        self.emit(end, "ticket.finished", {"ticket_id": tid, "number": t["number"], "window": num,
                                           "handling_s": round(end - began, 1), "by": clerk},
                  actor=clerk, ticket=tid, window=num)
        t.update(status="done", finished=end)
        s["free"] = end + rng.uniform(3, 20)
        if 20 <= h <= 4 * 3600:
            self.handled.setdefault(t["matter"], []).append(h)
        p = s["prompt"]
        if (t["priority"] == "handout" and p is not None and p["ticket"] is None and p["case"] in t["linked"]
                and p["end"] > end):
            p["ticket"] = tid                           # the same visit: one rating of the case and its ticket
        else:
            self._prompt(s, end, ticket=tid, case=None, matter=t["matter"], number=t["number"], contact=t["contact"])
        return True

    # -- 好差评 -----------------------------------------------------------------------------------------------
    def _prompt(self, s: dict | None, at: float, *, ticket, case, matter, number, contact, remote=None) -> None:
        """The prompt of a finished handling: on site at window s, or (remote = (window, clerk)) the status page's."""
        rng, pid = self.rng, self.new_id("rating_prompts")
        num, clerk = (s["num"], s["clerk"]) if s is not None else remote
        p = {"id": pid, "ticket": ticket, "case": case, "window": num, "clerk": clerk, "matter": matter,
             "number": number, "created": at, "contact": contact, "remote": s is None}
        if s is None:
            p["outcome"], p["end"] = "remote", at
            self._close_prompt(p)
            return
        old = s["prompt"]
        if old is not None:
            if old["end"] > at:
                old["outcome"], old["end"] = "superseded", at
            self._close_prompt(old)
        p["expires"] = at + self.timeout
        self.emit(at, "evaluation.prompted", {
            "prompt": pid, "ticket": ticket, "case": case, "number": number, "window": num, "clerk": clerk,
            "matter": matter, "matter_name": self.matters[matter].name, "expires_at": iso(p["expires"]),
            "timeout_s": self.cfg.feedback.prompt_timeout_s}, ticket=ticket, case=case, window=num)
        if rng.random() < self.p_rate:
            p["outcome"], p["end"] = "rated", at + rng.uniform(3, 40)
        else:
            p["outcome"], p["end"] = "timeout", p["expires"]
        s["prompt"] = p

    def _close_prompt(self, p: dict) -> None:
        rng, num = self.rng, p["window"]
        state, ended, why, eid = "rated", p["end"], None, None
        if p["outcome"] == "rated":
            eid = self._rate(p, p["end"], "device" if num in self.devices else "tablet", f"eval{num}")
        else:
            state, why = "not_rated", p["outcome"]
            if why != "remote":
                self.emit(p["end"], "evaluation.not_rated", {
                    "prompt": p["id"], "ticket": p["ticket"], "case": p["case"], "number": p["number"], "window": num,
                    "clerk": p["clerk"], "matter": p["matter"], "why": why}, ticket=p["ticket"], case=p["case"],
                    window=num)
            if rng.random() < self.p_status * (3 if why == "remote" else 1):
                later = p["end"] + rng.uniform(600, self.cfg.feedback.rate_from_status_days * 86400 - 600)
                if later < self.end_t:
                    eid = self._rate(p, later, "status_page", None)
                    state, ended, why = "rated", later, None
        self.row("rating_prompts", (p["id"], p["ticket"], p["case"], num, p["clerk"], p["matter"],
                                    self.deps_json[p["matter"]], p["number"], iso(p["created"]),
                                    None if p["remote"] else iso(p["expires"]), state, iso(ended), why, eid))

    def _rate(self, p: dict, at: float, channel: str, by: str | None) -> int:
        rng = self.rng
        mood = self.mood.get(p["clerk"], 1.0)
        r = rng.random()
        level = 1 if r < .01 * mood else 2 if r < .03 * mood else 3 if r < .03 * mood + .05 else \
            4 if r < .03 * mood + .27 else 5
        reasons = rng.sample(REASONS, rng.choice((1, 1, 2))) if level <= 3 else []
        eid = self.new_id("evaluations")
        contact = p["contact"]
        self.emit(at, "evaluation.recorded", {
            "evaluation": eid, "prompt": p["id"], "ticket": p["ticket"], "case": p["case"], "number": p["number"],
            "window": p["window"], "clerk": p["clerk"], "matter": p["matter"], "level": level, "reasons": reasons,
            "channel": channel, "bad": level <= 2}, actor=by, ticket=p["ticket"], case=p["case"], window=p["window"])
        appeal, excluded = (self._badrating(eid, p, level, at) if level <= 2 else (None, 0))
        self.row("evaluations", (eid, p["id"], p["ticket"], p["case"], p["window"], p["clerk"], p["matter"],
                                 self.deps_json[p["matter"]], p["number"], level,
                                 json.dumps(reasons, ensure_ascii=False), channel, by, iso(at),
                                 int(contact is not None), contact, appeal, excluded))
        return eid

    def _badrating(self, eid: int, p: dict, level: int, at: float) -> tuple[str | None, int]:
        """The 差评 loop of a bad rating: 核实 整改 反馈 复核 (and now and then a 申诉); (appeal, excluded)."""
        rng, fb = self.rng, self.cfg.feedback
        rid = self.new_id("badratings")
        d0 = self.day_of(at)
        number = f"CP{d0:%Y%m%d}-{self.seq_of(d0.isoformat(), 'CP'):03d}"
        win, clerk, named = p["window"], p["clerk"], p["contact"] is not None
        row = {"state": "verify", "due": self.add_wd(d0, fb.verify_working_days).isoformat(), "appeal": None,
               "appeal_due": None, "closed_at": None, "closed_how": None, "rd": None, "rw": None, "updated": at}
        where = {"ticket": p["ticket"], "case": p["case"], "window": win}

        def event(t, kind, by, **data):
            if t < self.end_t:
                self.emit(t, f"badrating.{kind}", {"badrating": rid, "number": number, "window": win, "clerk": clerk,
                                                   "matter": p["matter"], "by": by, **data}, actor=by, **where)

        def step(t, name, due, by, note, **data):
            if t < self.end_t:
                self.row("badrating_steps", (rid, name, due, iso(t), by, note, json.dumps(
                    {k: v for k, v in data.items() if v is not None}, ensure_ascii=False)))

        def upd(t, **fields):
            if t < self.end_t:
                row.update(fields, updated=t)

        def done():
            self.row("badratings", (rid, number, eid, iso(at), row["state"], row["due"], "ok", win, clerk, p["matter"],
                                    self.deps_json[p["matter"]], level, int(named), p["contact"], row["rd"], row["rw"],
                                    row["appeal"], row["appeal_due"], _iso(row["closed_at"]), row["closed_how"],
                                    iso(row["updated"])))

        event(at, "opened", None, state="verify", due=row["due"], evaluation=eid, level=level, named=named)
        t = at
        appeal, excluded = None, 0
        if rng.random() < self.APPEALS:                  # the clerk appeals
            t = self.at_work(d0 + timedelta(days=1), after=t)
            due = self.add_wd(self.day_of(t), fb.appeal_working_days).isoformat()
            upd(t, appeal="pending", appeal_due=due)
            step(t, "appeal", None, clerk, "评价人误操作，请核查录像")
            event(t, "appealed", clerk, state="verify", appeal="pending", due=due)
            t = self.at_work(self.add_wd(self.day_of(t), rng.randint(1, 5)), after=t)
            upheld = rng.random() < .5
            step(t, "appeal_decision", due, "sup1", "经核查" + ("申诉成立" if upheld else "申诉不成立"), upheld=upheld)
            appeal = "upheld" if upheld else "rejected"
            if t < self.end_t:
                excluded = int(upheld)
            else:
                appeal = "pending"
            if upheld:
                upd(t, appeal=appeal, state="closed", due=None, closed_at=t, closed_how="appeal_upheld")
                event(t, "appeal_upheld", "sup1", state="closed", appeal=appeal)
                done()
                return appeal, excluded
            upd(t, appeal=appeal)
            event(t, "appeal_rejected", "sup1", state="verify", appeal=appeal)
        rw, rd = (win, None) if win is not None else (None, json.loads(self.deps_json[p["matter"]])[0])
        t = self.at_work(self.add_wd(self.day_of(t), rng.choice((0, 1, 1, 1, 2))), after=t)
        due_r = self.add_wd(self.day_of(t), fb.rectify_working_days).isoformat()
        step(t, "verify", row["due"], "sup1", "经核实，情况属实", department=rd, window=rw)
        upd(t, state="rectify", due=due_r, rd=rd, rw=rw)
        event(t, "verified", "sup1", state="rectify", due=due_r, responsible_department=rd, responsible_window=rw)
        t = self.at_work(self.add_wd(self.day_of(t), min(25, int(rng.lognormvariate(math.log(6), .6)) + 1)), after=t)
        due_c = self.add_wd(self.day_of(t), fb.callback_working_days).isoformat()
        who = clerk if rw is not None and clerk else "sup1"
        step(t, "rectify", due_r, who, "已开展服务规范培训并整改")
        upd(t, state="callback", due=due_c)
        event(t, "rectified", who, state="callback", due=due_c)
        t = self.at_work(self.add_wd(self.day_of(t), rng.randint(1, 3)), after=t)
        due_k = self.add_wd(self.day_of(t), fb.recheck_working_days).isoformat()
        satisfied = rng.random() < .8
        step(t, "callback", due_c, "sup1", "已电话回访群众", reached=True, satisfied=satisfied)
        upd(t, state="recheck", due=due_k)
        event(t, "called_back", "sup1", state="recheck", due=due_k, reached=True, satisfied=satisfied)
        t = self.at_work(self.add_wd(self.day_of(t), rng.randint(1, 2)), after=t)
        step(t, "recheck", due_k, "sup1", "整改到位", passed=True)
        upd(t, state="closed", due=None, closed_at=t, closed_how="rechecked")
        event(t, "closed", "sup1", state="closed", how="rechecked")
        done()
        return appeal, excluded

    # -- cases ----------------------------------------------------------------------------------------------
    def _case(self, t: dict, s: dict, began: float, end: float) -> None:
        """A case taken in during ticket t's handling, and its whole life: 补正, acceptance, review, decision,
        the result made ready and handed out (at the 出件 window when a ticket for it comes, by mail, by locker)."""
        rng, mt = self.rng, self.matters[t["matter"]]
        num, clerk = s["num"], s["clerk"]
        cid = self.new_id("cases")
        recv = began + (end - began) * rng.uniform(.1, .3)
        d0 = self.day_of(recv)
        number = f"{self.case_prefix}-{d0:%Y%m%d}-{self.seq_of(d0.isoformat(), 'case:' + self.case_prefix):04d}"
        name, phone, idm, digest = fake_person(rng)
        snap = self.snapshots[mt.code]
        optional = set(mt.optional)
        mats = [[m, "original" if rng.random() < .8 else "copy", int(m not in optional)] for m in mt.materials]
        required = [m for m in mats if m[2]]
        if required and rng.random() < .12:
            for item in rng.sample(required, k=min(len(required), rng.choice((1, 1, 2)))):
                item[1] = "missing"
        missing = [m[0] for m in mats if m[2] and m[1] == "missing"]
        c = {"id": cid, "number": number, "query_code": base64.urlsafe_b64encode(rng.randbytes(12)).decode(),
             "matter": mt.code, "kind": mt.kind, "snapshot": snap, "channel": "window", "ticket_id": t["id"],
             "window": num, "created_by": clerk, "status": "received", "outcome": None, "opinion": None,
             "reason": None, "name": name, "phone": phone, "idm": idm, "hash": digest, "received_at": recv,
             "accepted_at": None, "accept_day": None, "decided_at": None, "ready_at": None, "delivered_at": None,
             "closed_at": None, "due": None, "legal_due": None, "deadline": "ok", "handout": None, "updated": recv,
             "mats": mats, "tasks": {d: [d, "open", None, None, None, None, None, None] for d in snap["deciders"]}}
        self.open_cases[cid] = c
        if phone and t["contact"] is None:
            t["contact"] = cid
        self._rec(c, recv, "received", clerk, "received", channel="window", missing=len(missing))
        tt = recv + rng.uniform(30, 90)
        if rng.random() < .02:
            self._rec(c, tt, "refused", clerk, "refused", reason="不属于本机关职权范围", competent_organ=None)
            self._set(c, tt, status="refused", reason="不属于本机关职权范围", closed_at=tt, deadline="ok")
            return
        if missing:
            self._rec(c, tt, "supplement_requested", clerk, "supplement", missing=missing)
            self._set(c, tt, status="supplement")
            if rng.random() < .1:           # never came back
                return
            tt = self.at_work(self.day_of(tt) + timedelta(days=rng.randint(1, 12)), after=tt)
            who = self.clerks[rng.choice(self.pool[mt.code])]
            if tt < self.end_t:
                for m in mats:
                    if m[1] == "missing":
                        m[1] = "original"
            self._rec(c, tt, "materials_received", who, "supplement", items=missing, missing=0)
            self._accept(c, tt + .001, who, "supplement")
        else:
            self._accept(c, tt, clerk, "window")
        acc = c["_acc"]
        if acc >= self.end_t:
            return
        if mt.kind == "即办":                   # decided at the window in the same sitting, and handed over
            td = acc + rng.uniform(20, 60)
            if td > end - 5:
                td = acc + .5
            self._decide(c, td, clerk, [snap["deciders"][0]], rng.random() < .98)
            if tt >= end:                       # after 补正: the result waits for its owner at the 出件 window
                self._ready(c, td + 1, clerk)
                return
            self._set(c, td + 1, status="ready", ready_at=td + 1,
                      handout={"via": "window", "address": None, "by": clerk})
            self._rec(c, td + 1, "ready", clerk, "ready", via="window")
            self._deliver(c, td + 2, num, clerk, s)
            return
        # the back office: each department claims its task, and decides it by the promised day (mostly)
        promised = snap["promised_days"]
        late = rng.random() < .06
        k = promised + rng.randint(1, 5) if late else max(0, int(promised * rng.uniform(.25, 1.0)))
        t_dec = self.at_work(self.add_wd(c["_accday"], k), after=acc + 600)
        deps = list(snap["deciders"])
        tc = acc
        for dep in deps:
            tc = min(t_dec - 300, self.at_work(self.add_wd(c["_accday"], rng.choice((0, 1, 1, 2))), after=acc))
            tc = max(tc, acc + 30)
            officer = self.officer.get(dep, "sup1")
            self._task(c, tc, dep, "claimed", claimed_by=officer, claimed_at=tc)
            self._set(c, tc, status="in_review")
            self._rec(c, tc, "claimed", officer, "in_review", department=dep)
        if mt.kind == "上报":
            tr = tc + (t_dec - tc) * .5
            self._set(c, tr, report={"authority": snap["authority"], "opinion": "经初审，符合条件", "at": iso(tr),
                                     "by": self.officer[deps[0]]})
            self._rec(c, tr, "reported", self.officer[deps[0]], "in_review", department=deps[0],
                      authority=snap["authority"])
        self._deadlines(c, t_dec)
        self._decide(c, t_dec, None, deps, rng.random() < .95)
        if t_dec < self.end_t:
            self._ready(c, self.at_work(self.day_of(t_dec) + timedelta(days=rng.choice((0, 0, 1, 2))), after=t_dec),
                        self.clerks[6])

    def _set(self, c: dict, t: float, **fields) -> None:
        if t < self.end_t:
            c.update(fields, updated=t)

    def _rec(self, c: dict, t: float, action: str, who: str | None, status: str, **data) -> None:
        self.emit(t, f"case.{action}", {"case": c["id"], "number": c["number"], "matter": c["matter"],
                                        "kind": c["kind"], "status": status,
                                        **{k: v for k, v in data.items() if v is not None}},
                  actor=who, ticket=c["ticket_id"], window=c["window"], case=c["id"])

    def _task(self, c: dict, t: float, dep: str, state: str, **fields) -> None:
        if t < self.end_t:
            row = c["tasks"][dep]
            row[1] = state
            for k, v in fields.items():
                row[TASK_COLS[k]] = iso(v) if k.endswith("_at") else v

    def _accept(self, c: dict, t: float, who: str, via: str) -> None:
        snap = c["snapshot"]
        day = self.day_of(t)
        promised = 0 if snap["kind"] == "即办" else snap["promised_days"]
        due, legal = self.add_wd(day, promised), self.add_wd(day, snap["legal_days"])
        warning = self.cal.warning(day, legal)
        if warning is not None:
            c["snapshot"] = {**snap, "calendar_warning": warning}
        c["_acc"], c["_accday"] = t, day
        self._set(c, t, status="accepted", accepted_at=t, accept_day=day.isoformat(), due=due.isoformat(),
                  legal_due=legal.isoformat(), deadline=self._colour(due.isoformat(), day))
        self._rec(c, t, "accepted", who, "accepted", due=due.isoformat(), legal_due=legal.isoformat(), via=via,
                  calendar_warning=warning["code"] if warning else None)

    def _colour(self, due: str, day: date) -> str:
        if due < day.isoformat():
            return "red"
        return "amber" if due <= self.add_wd(day, self.cfg.cases.amber_days).isoformat() else "ok"

    def _deadlines(self, c: dict, until: float) -> None:
        """The deadline watch's turns of a running case before `until` (its decision): case.deadline + alert."""
        d, last = c["_accday"] + timedelta(days=1), min(self.day_of(until), self.last)
        colour, deps = c["deadline"], c["snapshot"]["deciders"]
        while d <= last:
            new = self._colour(c["due"], d)
            at = self.local(d, 0) + 30
            if new != colour and at < until:
                self.emit(at, "case.deadline", {"case": c["id"], "number": c["number"], "matter": c["matter"],
                                                "kind": c["kind"], "deadline": new, "was": colour, "due": c["due"],
                                                "departments": deps}, ticket=c["ticket_id"], window=c["window"],
                          case=c["id"])
                if new != "ok":
                    zh, en = ("已超期", "is overdue") if new == "red" else ("即将到期", "is due soon")
                    self.emit(at, "alert.raised", {
                        "kind": "case_overdue" if new == "red" else "case_due_soon", "device": None,
                        "detail": f"办件 {c['number']} {zh}（{c['due']}，{'、'.join(deps)}） / case {c['number']} "
                                  f"{en} ({c['due']})", "case": c["id"]}, case=c["id"])
                self._set(c, at, deadline=new)
                colour = new
            d += timedelta(days=1)

    def _decide(self, c: dict, t: float, clerk: str | None, deps: list[str], approved: bool) -> None:
        outcomes = {}
        for i, dep in enumerate(deps):
            who = clerk or self.officer.get(dep, "sup1")
            ti = t - (len(deps) - 1 - i) * 60
            outcomes[dep] = "approved" if approved or i else "rejected"
            self._task(c, ti, dep, "decided", outcome=outcomes[dep], decided_at=ti, decided_by=who)
            if len(deps) > 1:
                self._rec(c, ti, "task_decided", who, "in_review", department=dep, outcome=outcomes[dep])
        final = "approved" if all(o == "approved" for o in outcomes.values()) else "rejected"
        opinion = None if len(deps) == 1 else "；".join(
            f"{d}：{'准予' if o == 'approved' else '不予'}" for d, o in outcomes.items())
        self._set(c, t, status="decided", outcome=final, opinion=opinion, decided_at=t, deadline="ok")
        self._rec(c, t, "decided", clerk or self.officer.get(deps[-1], "sup1"), "decided", outcome=final,
                  on_time=self.day_of(t).isoformat() <= c["due"], department=deps[0] if len(deps) == 1 else None)

    def _ready(self, c: dict, t: float, who: str) -> None:
        rng = self.rng
        r = rng.random()
        via = "window" if r < .45 else "mail" if r < .85 else "locker"
        if via == "locker":
            label = f"{rng.randint(1, 2)}-{rng.randint(1, 24):02d}"
            self._set(c, t, status="ready", ready_at=t, handout={"via": "locker", "address": None, "by": who,
                                                                 "compartment": label, "size": "small"})
            self._rec(c, t, "ready", who, "ready", via="locker", compartment=label)
            td = t + rng.uniform(3600, 3 * 86400)
            if td < self.end_t:
                h = {**c["handout"], "collector": {"name": "自助柜取件", "proxy": False, "method": "code",
                                                   "kiosk": "kiosk1"}, "delivered_by": "kiosk1"}
                self._set(c, td, status="delivered", delivered_at=td, closed_at=td, handout=h)
                self._rec(c, td, "delivered", "kiosk1", "delivered", via="locker", proxy=False, compartment=label)
                self._prompt(None, td, ticket=None, case=c["id"], matter=c["matter"], number=c["number"],
                             contact=c["id"] if c["phone"] else None, remote=(c["window"], c["created_by"]))
            return
        addr = "湖北省黄石市下陆区团城山街道" if via == "mail" else None
        self._set(c, t, status="ready", ready_at=t, handout={"via": via, "address": addr, "by": who})
        self._rec(c, t, "ready", who, "ready", via=via)
        if via == "window":
            if rng.random() < .93:              # most come for it within days; some never do
                heapq.heappush(self.ready_window, (t + rng.lognormvariate(math.log(2 * 86400), 1.0), c["id"]))
            return
        td = self.at_work(self.day_of(t) + timedelta(days=rng.randint(0, 2)), after=t)
        if td < self.end_t:
            h = {**c["handout"], "waybill": f"SF{rng.randrange(10**12):012d}", "delivered_by": who}
            self._set(c, td, status="delivered", delivered_at=td, closed_at=td, handout=h)
            self._rec(c, td, "delivered", who, "delivered", via="mail")
            self._prompt(None, td, ticket=None, case=c["id"], matter=c["matter"], number=c["number"],
                         contact=c["id"] if c["phone"] else None, remote=(c["window"], c["created_by"]))

    def _deliver_window(self, c: dict, t: float, s: dict, ticket: dict) -> None:
        """A ready result collected at the 出件 window (s) with its 出件 ticket."""
        if c["phone"] and ticket["contact"] is None:
            ticket["contact"] = c["id"]
        self._deliver(c, t, s["num"], s["clerk"], s)

    def _deliver(self, c: dict, t: float, num: int, clerk: str, s: dict | None) -> None:
        collector = {"name": c["name"], "phone": None, "id_masked": c["idm"], "proxy": False}
        h = {**c["handout"], "collector": collector, "window": num, "delivered_by": clerk}
        self._set(c, t, status="delivered", delivered_at=t, closed_at=t, handout=h)
        self._rec(c, t, "delivered", clerk, "delivered", via="window", proxy=False)
        if s is not None:
            self._prompt(s, t, ticket=None, case=c["id"], matter=c["matter"], number=c["number"],
                         contact=c["id"] if c["phone"] else None)

    def _finish_cases(self) -> None:
        cases, mats, tasks = [], [], []
        for c in self.open_cases.values():
            cases.append((c["id"], c["number"], c["query_code"], c["matter"], c["kind"],
                          json.dumps(c["snapshot"], ensure_ascii=False), c["channel"], c["ticket_id"], c["window"],
                          c["created_by"], c["status"], c["outcome"], c["opinion"], c["reason"], None, c["name"],
                          c["phone"], c["idm"], c["hash"], iso(c["received_at"]), _iso(c["accepted_at"]),
                          c["accept_day"], _iso(c["decided_at"]), _iso(c["ready_at"]), _iso(c["delivered_at"]),
                          _iso(c["closed_at"]), c["due"], c["legal_due"], c["deadline"],
                          json.dumps(c["handout"], ensure_ascii=False) if c["handout"] else None,
                          json.dumps(c["report"], ensure_ascii=False) if c.get("report") else None, iso(c["updated"])))
            mats += [(c["id"], *m) for m in c["mats"]]
            tasks += [(c["id"], *row) for row in c["tasks"].values()]
        self.rows["cases"], self.rows["case_materials"], self.rows["case_tasks"] = cases, mats, tasks
        self.rows["counters"] = [(d, p, n) for (d, p), n in self.day_counter.items() if p not in ("CP", "BC")]

    # -- 办不成事 complaints ----------------------------------------------------------------------------------
    def _complaints(self, d: date, a: float, b: float) -> None:
        rng = self.rng
        rate = self.total / 400 / len(self.days)
        for _ in range(int(rate) + (rng.random() < rate - int(rate))):
            self._complaint(d, self.local(d, rng.uniform(a + .25, b - .25)))

    def _complaint(self, d: date, at: float) -> None:
        rng, pol = self.rng, self.cfg.complaints
        cid = self.new_id("complaints")
        number = f"{pol.prefix}{d:%Y%m%d}-{self.seq_of(d.isoformat(), 'BC'):03d}"
        r = rng.random()
        channel = "window" if r < .6 else "kiosk" if r < .85 else "status_page"
        by = self.clerk_at.get(pol.window, self.clerks[pol.window]) if channel == "window" else \
            "kiosk1" if channel == "kiosk" else "status_page"
        mt = self.matters[rng.choice(self.mix)]
        case_id = rng.randint(1, self.ids["cases"]) if self.ids["cases"] and rng.random() < .3 else None
        window = rng.choice(self.pool[mt.code]) if rng.random() < .7 else None
        dep = mt.department or None
        named = rng.random() < .6
        name, phone = (fake_name(rng), f"139{rng.randrange(10**8):08d}") if named else (None, None)
        text = rng.choice(COMPLAINT_TEXTS)
        row = {"class": None, "rd": None, "status": "registered", "due": None, "answer_due": None, "answered_at": None,
               "closed_at": None, "closed_reason": None, "updated": at}
        steps: list = []

        def upd(t, **fields):
            if t < self.end_t:
                row.update(fields, updated=t)

        def step(t, name, due, who, txt, **data):
            if t < self.end_t:
                steps.append((cid, name, due, iso(t), who, txt, json.dumps(
                    {k: v for k, v in data.items() if v is not None}, ensure_ascii=False)))

        def event(t, kind, who, **data):
            if t < self.end_t:
                self.emit(t, f"complaint.{kind}", {"complaint": cid, "number": number, "status": row["status"],
                                                   "class": row["class"], "department": row["rd"] or dep,
                                                   "due": row["due"], "by": who, **data},
                          actor=who, case=case_id, window=window)

        upd(at, due=self.add_wd(d, pol.classify_working_days).isoformat())
        step(at, "register", None, by, text, channel=channel)
        event(at, "registered", by if channel != "status_page" else None, channel=channel, case=case_id,
              matter=mt.code, window=window, named=named)
        t = self.at_work(d + timedelta(days=rng.choice((0, 0, 1))), after=at)
        if rng.random() < self.OUT_OF_SCOPE:
            upd(t, status="closed", due=None, closed_at=t, closed_reason="petition")
            step(t, "close", None, "sup1", "已转信访渠道", reason="petition")
            event(t, "closed", "sup1", reason="petition", reason_zh=CLOSE_REASONS["petition"])
        else:
            cls = rng.choices(("simple", "complex", "special"), (5, 4, 1))[0]
            answer_due = self.add_wd(d, pol.class_days(cls)).isoformat()
            prev = row["due"]
            upd(t, status="classified", **{"class": cls}, due=answer_due, answer_due=answer_due)
            step(t, "classify", prev, "sup1", None, **{"class": cls})
            event(t, "classified", "sup1", answer_due=answer_due)
            resp = dep or rng.choice(self.departments)
            t += rng.uniform(300, 3600)
            upd(t, status="assigned", rd=resp)
            step(t, "assign", answer_due, "sup1", None, department=resp)
            event(t, "assigned", "sup1", was=None)
            days = pol.class_days(cls)
            k = days + rng.randint(1, 4) if rng.random() < .08 else rng.randint(0, days)
            t = self.at_work(self.add_wd(d, k), after=t)
            officer = self.officer.get(resp, "sup1")
            upd(t, status="answered", due=self.add_wd(self.day_of(t), pol.feedback_working_days).isoformat(),
                answered_at=t)
            step(t, "answer", answer_due, officer, "已核实并答复", department=resp)
            event(t, "answered", officer, on_time=self.day_of(t).isoformat() <= answer_due)
            for kind, st, days_next, who in (("feedback", "fed_back", pol.check_working_days, self.clerks[pol.window]),
                                             ("check", "checked", pol.file_working_days, "sup1"),
                                             ("file", "filed", None, "sup1")):
                prev = row["due"]
                t = self.at_work(self.add_wd(self.day_of(t), rng.randint(0, 1)), after=t)
                if st == "filed":
                    upd(t, status="filed", due=None, closed_at=t)
                else:
                    upd(t, status=st, due=self.add_wd(self.day_of(t), days_next).isoformat())
                step(t, kind, prev, who, None)
                event(t, st, who)
        self.row("complaints", (cid, number, text, case_id, mt.code, window, dep, channel, by, iso(at),
                                d.isoformat(), name, phone, row["class"], row["rd"], row["status"], row["due"],
                                row["answer_due"], "ok",
                                _iso(row["answered_at"]), _iso(row["closed_at"]), row["closed_reason"],
                                iso(row["updated"])))
        self.rows.setdefault("complaint_steps", []).extend(steps)


def _h(text: str) -> float:
    hh, mm = text.split(":")
    return int(hh) + int(mm) / 60


def _accumulate(xs):
    s = 0.0
    for x in xs:
        s += x
        yield s


COLUMNS = {
    "tickets": "id service_day prefix seq number matter channel priority status queue_key issued_at called_at"
               " last_called_at started_at finished_at window target_window transfers recalls kiosk",
    "cases": "id number query_code matter kind snapshot channel ticket_id window created_by status outcome opinion"
             " reason supplement_note applicant_name applicant_phone applicant_id_masked applicant_hash received_at"
             " accepted_at accept_day decided_at ready_at delivered_at closed_at due legal_due deadline handout report"
             " updated_at",
    "case_materials": "case_id name state required",
    "case_tasks": "case_id department state claimed_by claimed_at outcome opinion decided_at decided_by",
    "ticket_cases": "ticket_id case_id",
    "rating_prompts": "id ticket_id case_id window clerk matter departments number created_at expires_at state"
                      " ended_at why evaluation_id",
    "evaluations": "id prompt_id ticket_id case_id window clerk matter departments number level reasons channel by"
                   " at named contact_case appeal excluded",
    "badratings": "id number evaluation_id opened_at state due deadline window clerk matter departments level named"
                  " contact_case responsible_department responsible_window appeal appeal_due closed_at closed_how"
                  " updated_at",
    "badrating_steps": "badrating_id step due at by note data",
    "complaints": "id number text case_id matter window department channel registered_by registered_at"
                  " registered_day contact_name contact_phone class responsible_department status due answer_due"
                  " deadline answered_at closed_at closed_reason updated_at",
    "complaint_steps": "complaint_id step due at by text data",
    "seat_time": "service_day window clerk present_s away_s unknown_s",
    "counters": "service_day prefix last",
}
SQL = {t: f"INSERT {'OR REPLACE ' if t in ('seat_time', 'counters') else ''}INTO {t} ({', '.join(c.split())})"
          f" VALUES ({','.join('?' * len(c.split()))})" for t, c in COLUMNS.items()}


def fake_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def fake_person(rng: random.Random) -> tuple[str, str | None, str, str]:
    """name, phone (or None), masked ID number, keyed hash (made up: no ID number is ever formed)."""
    phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}" if rng.random() < .8 else None
    return fake_name(rng), phone, f"4202{'*' * 10}{rng.randrange(10**4):04d}", rng.randbytes(16).hex()


def seed(db: str | Path, *, scale: float = 1.0, seed: int = 1, end: date = date(2026, 11, 30), days: int = 365,
         config: str | Path = DISTRICT) -> dict:
    """Seed `db` (created and migrated if new) with a year of the hall of `config`; returns counts and seconds."""
    from ..store.database import _migrate, connect

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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hall_server.stats.seed", description=__doc__.split("\n\n")[0])
    p.add_argument("--db", required=True, help="the hall store to write (created if missing)")
    p.add_argument("--scale", type=float, default=1.0, help="1 = a year of 1,000,000 tickets; 0.01 for tests")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 30), help="the year's last day")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--config", default=str(DISTRICT))
    a = p.parse_args(argv)
    out = seed(a.db, scale=a.scale, seed=a.seed, end=a.end, days=a.days, config=a.config)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
