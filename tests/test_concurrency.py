"""Concurrency over real HTTP against a real server process (issue 2, "Bad input and faults"): twenty-odd
windows pressing call-next at the same instant never get the same ticket, and kiosks issuing at the same
time never get the same number.
"""
from __future__ import annotations

import sqlite3
import threading
from collections import Counter, defaultdict

import pytest
from serverproc import DISTRICT, HTTP, ServerProcess, always_open_config

from hall_server.config import load_config

pytestmark = pytest.mark.slow

CFG = load_config(DISTRICT)
WINDOWS = [w.number for w in CFG.windows]          # all 22 windows of the district centre
TICKETS = 220
MAX_ROUNDS = 80


# The halls here have no devices: what is checked is the engine and the store (with devices every issue
# waited for the kiosk's receipt and every call for its voice).
def _run_threads(targets) -> None:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"


def _kiosk_burst(srv: ServerProcess, kiosk: dict, plan: list[list[str]]) -> tuple[list[dict], list[str]]:
    """One thread per kiosk, each issuing its list of matters, all starting together."""
    barrier = threading.Barrier(len(plan))
    issued: list[dict] = []
    errors: list[str] = []
    lock = threading.Lock()

    def kiosk_thread(matters: list[str]) -> None:
        with srv.client(headers=kiosk) as c:
            c.get("/api/v1/health")                 # connection up before the start line
            barrier.wait()
            for matter in matters:
                r = c.post("/api/v1/tickets", json={"matter": matter})
                with lock:
                    if r.status_code == 201:
                        issued.append(r.json())
                    else:
                        errors.append(f"{r.status_code} {r.text}")

    _run_threads([lambda m=m: kiosk_thread(m) for m in plan])
    return issued, errors


def test_kiosks_issuing_at_once_get_unique_contiguous_numbers(tmp_path):
    matters = ["WJ-001", "WJ-002", "SH-001", "FY-001", "YB-003"]      # W twice: two matters, one prefix
    prefix = {m: CFG.matter(m).prefix for m in matters}
    plan = [[matters[(k + i) % len(matters)] for i in range(30)] for k in range(8)]
    with ServerProcess(tmp_path / "data", config=always_open_config(tmp_path, devices=False)) as srv:
        kiosk = srv.make_user("kiosk1", "kiosk")
        issued, errors = _kiosk_burst(srv, kiosk, plan)
        day = HTTP.get(srv.url + "/api/v1/hall").json()["service_day"]
    assert not errors, errors[:5]
    assert len(issued) == 8 * 30

    by_prefix: dict[str, list[int]] = defaultdict(list)
    for t in issued:
        p = prefix[t["matter"]]
        assert t["number"].startswith(p)
        by_prefix[p].append(int(t["number"][len(p):]))
    wanted = Counter(prefix[m] for row in plan for m in row)
    for p, seqs in by_prefix.items():
        assert sorted(seqs) == list(range(1, wanted[p] + 1)), f"prefix {p}: {sorted(seqs)}"
    assert len({t["id"] for t in issued}) == len(issued)

    db = sqlite3.connect(srv.db_path)
    rows = db.execute("SELECT id, number, prefix, seq FROM tickets WHERE service_day=?", (day,)).fetchall()
    assert {(r[0], r[1]) for r in rows} == {(t["id"], t["number"]) for t in issued}
    counters = dict(db.execute("SELECT prefix, last FROM counters WHERE service_day=?", (day,)).fetchall())
    assert counters == dict(wanted)
    events = db.execute("SELECT ticket_id FROM events WHERE type='ticket.issued'").fetchall()
    assert sorted(e[0] for e in events) == sorted(t["id"] for t in issued)


def test_twenty_two_windows_calling_at_once_never_share_a_ticket(tmp_path):
    matters = [m.code for m in CFG.matters]
    plan = [[matters[i % len(matters)] for i in range(k, TICKETS, 4)] for k in range(4)]
    with ServerProcess(tmp_path / "data", config=always_open_config(tmp_path, devices=False)) as srv:
        admin = srv.admin()
        kiosk = srv.make_user("kiosk1", "kiosk", admin)
        clerks: dict[int, dict] = {}
        setup_errors: list[str] = []

        def set_up_window(n: int) -> None:
            try:
                h = srv.make_user(f"clerk{n}", "clerk", admin)
                with srv.client(headers=h) as c:
                    for action in ("login", "open"):
                        r = c.post(f"/api/v1/windows/{n}/{action}")
                        assert r.status_code == 200, r.text
                clerks[n] = h
            except Exception as exc:  # reported below
                setup_errors.append(f"window {n}: {exc!r}")

        _run_threads([lambda n=n: set_up_window(n) for n in WINDOWS])
        assert not setup_errors, setup_errors
        issued, errors = _kiosk_burst(srv, kiosk, plan)
        assert not errors, errors[:5]
        assert len(issued) == TICKETS

        # -- every window presses call-next at the same instant, round after round -------------
        results: list[tuple[int, int, int, dict | None]] = []    # (round, window, status, ticket)
        lock = threading.Lock()
        state = {"round": 0, "stop": False, "last_round_all_empty": False}
        failures: list[str] = []

        def between_rounds() -> None:          # runs once, while every thread waits at the barrier
            this = [r for r in results if r[0] == state["round"]]
            if state["round"] and all(r[2] == 204 for r in this):
                state["stop"] = True
            if state["round"] >= MAX_ROUNDS or failures:
                state["stop"] = True
            state["round"] += 1

        barrier = threading.Barrier(len(WINDOWS), action=between_rounds)

        def window_thread(n: int) -> None:
            with srv.client(headers=clerks[n]) as c:
                c.get("/api/v1/health")
                while True:
                    barrier.wait(60)
                    if state["stop"]:
                        return
                    rnd = state["round"]
                    r = c.post(f"/api/v1/windows/{n}/call-next")
                    ticket = r.json() if r.status_code == 200 else None
                    with lock:
                        results.append((rnd, n, r.status_code, ticket))
                        if r.status_code not in (200, 204):
                            failures.append(f"window {n} round {rnd}: {r.status_code} {r.text}")
                    if ticket is not None:
                        f = c.post(f"/api/v1/windows/{n}/finish")
                        if f.status_code != 200:
                            with lock:
                                failures.append(f"window {n} finish: {f.status_code} {f.text}")

        _run_threads([lambda n=n: window_thread(n) for n in WINDOWS])
        assert not failures, failures[:5]
        assert state["round"] <= MAX_ROUNDS, "windows were still being handed tickets after many rounds"

    calls = [(rnd, n, t) for rnd, n, status, t in results if status == 200]
    first_round = [c for c in calls if c[0] == 1]
    assert len(first_round) == len(WINDOWS), "every window had work: all should have got a ticket at once"
    called_ids = [t["id"] for _, _, t in calls]
    dupes = [i for i, k in Counter(called_ids).items() if k > 1]
    assert not dupes, f"tickets handed to more than one window (or twice): {dupes}"
    issued_ids = {t["id"] for t in issued}
    assert set(called_ids) == issued_ids, "every issued ticket is called exactly once"
    who: dict[int, int] = {}
    for _, n, t in calls:
        assert t["window"] == n and t["status"] == "called"
        assert n in CFG.windows_serving(t["matter"]), f"window {n} called {t['number']} of {t['matter']}"
        who[t["id"]] = n

    db = sqlite3.connect(srv.db_path)
    rows = db.execute("SELECT id, status, window FROM tickets").fetchall()
    assert {r[0] for r in rows} == issued_ids
    for tid, status, window in rows:
        assert status == "done", (tid, status)
        assert window == who[tid], (tid, window, who[tid])
    called_events = db.execute("SELECT ticket_id, window FROM events WHERE type='ticket.called'").fetchall()
    assert sorted(called_events) == sorted(who.items())
    finished = Counter(r[0] for r in db.execute("SELECT ticket_id FROM events WHERE type='ticket.finished'"))
    assert set(finished) == issued_ids and set(finished.values()) == {1}
    assert db.execute("SELECT COUNT(*) FROM windows WHERE current_ticket IS NOT NULL").fetchone()[0] == 0
