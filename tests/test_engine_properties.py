"""Property-based (stateful) test of the queue engine: random sequences of kiosk, clerk and supervisor
actions on a hall with a fake clock, checking the engine's invariants after every step.

Invariants (issue 2, "Tests"):
- a ticket is with at most one window at a time, and a window's current ticket is called/serving there;
- numbers are unique per (service day, prefix), and each prefix's sequence is 1..n without gaps;
- among normal tickets of one matter never transferred or requeued, call order is arrival order;
- the starvation guard: per window, never more than max_priority_in_row priority calls in a row that
  jumped over a waiting normal ticket the window could serve;
- the event log's seq strictly increases, and a refused action appends nothing.
"""
from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from hall_server.clock import FakeClock
from hall_server.config import parse_config
from hall_server.errors import HallError
from hall_server.runtime import Hall

DISTRICT = Path(__file__).resolve().parent.parent / "config" / "district-centre.toml"
MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _config():
    data = tomllib.loads(DISTRICT.read_text(encoding="utf-8"))
    # A shorter guard than the district's 3, so random runs reach it more often.
    data["queue"]["max_priority_in_row"] = 2
    return parse_config(data, str(DISTRICT))


CFG = _config()
MAX_IN_ROW = CFG.queue.max_priority_in_row
PRIORITY = frozenset(CFG.queue.priority_classes)
# A handful of matters across groups: two social matters sharing the letter S, hrss, medins,
# enterprise, police (window 13 only) and assist (windows 9-11).
MATTERS = ["SH-001", "SH-003", "RS-001", "YB-001", "QY-001", "GA-001", "BB-001"]
WINDOWS = [1, 2, 5, 9, 13]
PRIORITIES = ["normal", "normal", "normal", "elderly", "disabled", "appointment"]
ACTIVE = ("called", "serving")
# A fresh database per example; on tmpfs where there is one, so that fsync costs nothing and a failing
# example shrinks in seconds (durability is tested elsewhere; this file is about the engine's logic).
SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


class EngineMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="onewindow-props-", dir=SCRATCH)
        self.clock = FakeClock(MORNING)
        self.hall = Hall(CFG, self.dir, self.clock)
        self.db = self.hall.store.read
        self.requeued: set[int] = set()
        self.run = {w: 0 for w in WINDOWS}     # priority calls in a row that jumped a normal ticket
        self.seen_seq = self._max_seq()
        self.calls = 0

    def teardown(self):
        self.hall.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- plumbing --------------------------------------------------------------------------------
    def _max_seq(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    def _do(self, action: str, *args, **kw):
        """Run one engine change; a refused one (409/404/422) must leave no event behind."""
        before = self._max_seq()
        try:
            result = self.hall.store.write_sync(lambda conn: getattr(self.hall.engine, action)(conn, *args, **kw))
        except HallError as exc:
            assert exc.status in (404, 409, 422), exc
            assert self._max_seq() == before, f"refused {action} appended events"
            return None, exc
        return result, None

    def _busy(self) -> bool:
        return self.db.execute("SELECT 1 FROM windows WHERE current_ticket IS NOT NULL").fetchone() is not None

    def _window_for(self, pick: int, where: str) -> int:
        """Mostly a window where the action makes sense (open, or holding a ticket); sometimes any."""
        sql = {"open": "state='open'", "busy": "current_ticket IS NOT NULL"}[where]
        fit = [r[0] for r in self.db.execute(f"SELECT number FROM windows WHERE {sql} ORDER BY number")
               if r[0] in WINDOWS]
        pool = fit if fit and pick % 5 else WINDOWS     # one time in five: any window at all
        return pool[pick % len(pool)]

    def _waiting(self):
        return self.db.execute(
            "SELECT id, matter, priority, queue_key, target_window, transfers FROM tickets"
            " WHERE status='waiting' AND service_day=?", (self.hall.engine.today(),)).fetchall()

    @initialize(windows=st.sets(st.sampled_from(WINDOWS), min_size=1),
                tickets=st.lists(st.tuples(st.sampled_from(MATTERS), st.sampled_from(PRIORITIES)), max_size=8))
    def morning(self, windows, tickets):
        for n in sorted(windows):
            w, err = self._do("set_state", n, "open", actor="sup")
            assert err is None and w["state"] == "open"
        for matter, priority in tickets:
            self.issue([(matter, priority)])

    # -- kiosk -----------------------------------------------------------------------------------
    @rule(tickets=st.lists(st.tuples(st.sampled_from(MATTERS), st.sampled_from(PRIORITIES)),
                           min_size=1, max_size=3))
    def issue(self, tickets):
        for matter, priority in tickets:
            t, err = self._do("issue", matter=matter, priority=priority, actor="kiosk")
            assert err is None and t["status"] == "waiting" and t["matter"] == matter

    # -- supervisor ------------------------------------------------------------------------------
    @rule(window=st.sampled_from(WINDOWS), action=st.sampled_from(["open", "pause", "resume", "close"]))
    def set_state(self, window, action):
        w, err = self._do("set_state", window, action, actor="sup")
        if err is not None:
            assert err.code in ("window_open", "window_paused", "window_closed", "window_busy"), err.code
            return
        assert w["state"] == {"open": "open", "pause": "paused", "resume": "open", "close": "closed"}[action]
        if action == "open":
            self.run[window] = 0      # a new session at the window: the engine resets its streak

    # -- clerks ----------------------------------------------------------------------------------
    @rule(pick=st.integers(0, 999))
    def call_next(self, pick):
        window = self._window_for(pick, "open")
        waiting = {r["id"]: r for r in self._waiting()}
        t, err = self._do("call_next", window, actor="clerk")
        if err is not None:
            assert err.code in ("window_closed", "window_paused", "just_called"), err.code
            return
        wcfg = CFG.window(window)
        serves = lambda matter: CFG.preference(wcfg, matter) is not None  # noqa: E731
        mine = [r for r in waiting.values() if r["target_window"] == window]
        free = [r for r in waiting.values() if r["target_window"] is None and serves(r["matter"])]
        if t is None:
            assert not mine and not free, "call-next found nothing although a ticket was waiting"
            return
        self.calls += 1
        picked = waiting.get(t["id"])
        assert picked is not None, "called a ticket that was not waiting"
        assert t["status"] == "called" and t["window"] == window
        if mine:
            assert picked["target_window"] == window, "a ticket transferred here must be called first"
            return                                # transferred calls neither count nor reset
        assert picked["target_window"] is None and serves(picked["matter"])
        # starvation guard
        normal_waiting = any(r["priority"] not in PRIORITY for r in free)
        jumped = picked["priority"] in PRIORITY and normal_waiting
        self.run[window] = self.run[window] + 1 if jumped else 0
        assert self.run[window] <= MAX_IN_ROW, f"window {window}: {self.run[window]} priority calls in a row"
        # arrival order among untouched normal tickets of the same matter
        if picked["priority"] not in PRIORITY and picked["transfers"] == 0 and picked["id"] not in self.requeued:
            jumped_over = [r["id"] for r in free
                           if r["matter"] == picked["matter"] and r["priority"] not in PRIORITY
                           and r["transfers"] == 0 and r["id"] not in self.requeued and r["id"] < picked["id"]]
            assert not jumped_over, f"called {picked['id']} before earlier {jumped_over} of {picked['matter']}"

    @precondition(lambda self: self._busy())
    @rule(pick=st.integers(0, 999))
    def recall(self, pick):
        window = self._window_for(pick, "busy")
        t, err = self._do("recall", window, actor="clerk")
        if err is None:
            assert t["status"] in ("called", "no_show")
        else:
            assert err.code in ("no_current_ticket", "ticket_state", "recall_too_soon"), err.code

    @precondition(lambda self: self._busy())
    @rule(pick=st.integers(0, 999))
    def start(self, pick):
        window = self._window_for(pick, "busy")
        t, err = self._do("start", window, actor="clerk")
        if err is None:
            assert t["status"] == "serving"

    @precondition(lambda self: self._busy())
    @rule(pick=st.integers(0, 999))
    def skip(self, pick):
        window = self._window_for(pick, "busy")
        t, err = self._do("skip", window, actor="clerk")
        if err is None:
            assert t["status"] == "no_show"

    @precondition(lambda self: self._busy())
    @rule(pick=st.integers(0, 999))
    def finish(self, pick):
        window = self._window_for(pick, "busy")
        t, err = self._do("finish", window, actor="clerk")
        if err is None:
            assert t["status"] == "done"

    @precondition(lambda self: self._busy())
    @rule(pick=st.integers(0, 999),
          to_matter=st.one_of(st.none(), st.sampled_from(MATTERS)),
          to_window=st.one_of(st.none(), st.sampled_from(WINDOWS)))
    def transfer(self, pick, to_matter, to_window):
        window = self._window_for(pick, "busy")
        t, err = self._do("transfer", window, actor="clerk", to_matter=to_matter, to_window=to_window)
        if err is None:
            assert t["status"] == "waiting" and t["target_window"] == to_window
            assert to_matter is None or t["matter"] == to_matter
        else:
            assert err.code in ("no_current_ticket", "transfer_target_missing", "transfer_to_self"), err.code

    @precondition(lambda self: self.calls > 0)
    @rule(pick=st.integers(0, 10_000), any_ticket=st.booleans())
    def requeue(self, pick, any_ticket):
        where = "" if any_ticket else " WHERE status='no_show'"
        ids = [r[0] for r in self.db.execute(f"SELECT id FROM tickets{where} ORDER BY id")]
        if not ids:
            return
        tid = ids[pick % len(ids)]
        status = self.db.execute("SELECT status FROM tickets WHERE id=?", (tid,)).fetchone()[0]
        t, err = self._do("requeue", tid, actor="clerk")
        if status == "no_show":
            assert err is None and t["status"] == "waiting" and t["recalls"] == 0
            self.requeued.add(tid)
        else:
            assert err is not None and err.code == "not_a_no_show"

    @rule(seconds=st.sampled_from([0, 0.5, 1, 2, 5, 15, 60, 300]))
    def advance_clock(self, seconds):
        self.clock.advance(seconds=seconds)

    # -- invariants ------------------------------------------------------------------------------
    @invariant()
    def one_window_per_ticket(self):
        current = self.db.execute("SELECT number, state, current_ticket FROM windows"
                                  " WHERE current_ticket IS NOT NULL").fetchall()
        ids = [w["current_ticket"] for w in current]
        assert len(ids) == len(set(ids)), f"a ticket is current at two windows: {ids}"
        for w in current:
            t = self.db.execute("SELECT status, window FROM tickets WHERE id=?", (w["current_ticket"],)).fetchone()
            assert t["status"] in ACTIVE, f"window {w['number']} holds a {t['status']} ticket"
            assert t["window"] == w["number"]
            assert w["state"] == "open", f"window {w['number']} is {w['state']} with a ticket"
        active = self.db.execute("SELECT id, window FROM tickets WHERE status IN ('called','serving')").fetchall()
        held = {w["current_ticket"]: w["number"] for w in current}
        for t in active:
            assert held.get(t["id"]) == t["window"], f"ticket {t['id']} is active but no window holds it"

    @invariant()
    def numbers_unique_and_gapless(self):
        rows = self.db.execute("SELECT service_day, prefix, seq, number FROM tickets").fetchall()
        keys = [(r["service_day"], r["number"]) for r in rows]
        assert len(keys) == len(set(keys)), "a number was issued twice in a day"
        per: dict[tuple[str, str], list[int]] = {}
        for r in rows:
            assert r["number"] == f"{r['prefix']}{r['seq']:03d}"
            per.setdefault((r["service_day"], r["prefix"]), []).append(r["seq"])
        for key, seqs in per.items():
            assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"{key}: {sorted(seqs)}"
        counters = {(r[0], r[1]): r[2] for r in self.db.execute("SELECT service_day, prefix, last FROM counters")}
        assert counters == {k: len(v) for k, v in per.items()}

    @invariant()
    def targets_only_on_waiting_tickets(self):
        bad = self.db.execute("SELECT id, status FROM tickets WHERE target_window IS NOT NULL"
                              " AND status <> 'waiting'").fetchall()
        assert not bad
        statuses = {r[0] for r in self.db.execute("SELECT DISTINCT status FROM tickets")}
        assert statuses <= {"waiting", "called", "serving", "done", "no_show"}

    @invariant()
    def events_strictly_increasing(self):
        seqs = [r[0] for r in self.db.execute("SELECT seq FROM events WHERE seq > ? ORDER BY rowid",
                                              (self.seen_seq - 1 if self.seen_seq else 0,))]
        assert all(a < b for a, b in itertools.pairwise(seqs)), seqs
        if seqs:
            assert seqs[0] >= self.seen_seq
            self.seen_seq = seqs[-1]
        called = self.db.execute("SELECT COUNT(*) FROM events WHERE type='ticket.called'").fetchone()[0]
        assert called == self.calls


EngineMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestEngineProperties = EngineMachine.TestCase
