"""SIGKILL in the middle of traffic (issue 2, "Bad input and faults"): after a restart on the same data
directory nothing acknowledged is missing, no number is repeated, and tickets and windows are consistent.

Kiosks issue tickets and five windows call and finish them continuously; every 2xx answer is recorded
as acknowledged. The server is killed at three different moments of the traffic, restarted each time,
and checked — database and API — against everything acknowledged so far.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter, defaultdict

import httpx
import pytest
from serverproc import DISTRICT, HTTP, ServerProcess, always_open_config

from hall_server.config import load_config

pytestmark = pytest.mark.slow

CFG = load_config(DISTRICT)
WINDOWS = [1, 2, 3, 4, 5]
MATTERS = ["WJ-001", "SH-001", "RS-001", "YB-001", "QY-001", "SH-002"]   # served by windows 1-5
KIOSKS = 3
# Kill once this many tickets were issued in the run (then a little later, off the ack's heels), so
# the kills fall early in a run, in its middle, and once queues and windows are busy.
KILL_AFTER_ISSUED = [(6, 0.0), (30, 0.013), (70, 0.029)]


class Acks:
    """Everything the server acknowledged (answered 2xx to), across all runs."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.issued: dict[int, dict] = {}          # ticket id -> ticket as acknowledged
        self.called: dict[int, int] = {}           # ticket id -> window that was handed it
        self.finished: set[int] = set()
        self.unexpected: list[str] = []


def _traffic(srv: ServerProcess, kiosk: dict, clerks: dict[int, dict], acks: Acks, stop: threading.Event):
    def kiosk_thread(k: int) -> None:
        i = k
        with srv.client(headers=kiosk, timeout=10) as c:
            while not stop.is_set():
                matter = MATTERS[i % len(MATTERS)]
                i += 1
                try:
                    r = c.post("/api/v1/tickets", json={"matter": matter, "kiosk": f"k{k}"})
                except httpx.TransportError:
                    return                      # the server is gone
                with acks.lock:
                    if r.status_code == 201:
                        t = r.json()
                        acks.issued[t["id"]] = t
                    else:
                        acks.unexpected.append(f"issue: {r.status_code} {r.text}")

    def window_thread(n: int) -> None:
        with srv.client(headers=clerks[n], timeout=10) as c:
            while not stop.is_set():
                try:
                    r = c.post(f"/api/v1/windows/{n}/call-next")
                    if r.status_code == 200:
                        t = r.json()
                        with acks.lock:
                            if t["id"] in acks.called:
                                acks.unexpected.append(f"{t['number']} called twice: windows "
                                                       f"{acks.called[t['id']]} and {n}")
                            acks.called[t["id"]] = n
                    elif r.status_code == 204:
                        time.sleep(0.01)
                        continue
                    elif not (r.status_code == 409 and r.json()["error"]["code"] == "just_called"):
                        with acks.lock:
                            acks.unexpected.append(f"call-next {n}: {r.status_code} {r.text}")
                        continue
                    # called just now, or a ticket left called by the previous run: finish it
                    f = c.post(f"/api/v1/windows/{n}/finish")
                    with acks.lock:
                        if f.status_code == 200:
                            acks.finished.add(f.json()["id"])
                        else:
                            acks.unexpected.append(f"finish {n}: {f.status_code} {f.text}")
                except httpx.TransportError:
                    return

    threads = [threading.Thread(target=kiosk_thread, args=(k,), daemon=True) for k in range(KIOSKS)]
    threads += [threading.Thread(target=window_thread, args=(n,), daemon=True) for n in WINDOWS]
    for t in threads:
        t.start()
    return threads


def _check_invariants(db_path, acks: Acks) -> dict[tuple[str, str], int]:
    """Returns the last sequence number per (service_day, prefix)."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    tickets = {r["id"]: r for r in db.execute("SELECT * FROM tickets")}

    # nothing acknowledged is missing, and it is what was acknowledged
    missing = [t["number"] for tid, t in acks.issued.items() if tid not in tickets]
    assert not missing, f"acknowledged tickets lost: {missing}"
    for tid, t in acks.issued.items():
        row = tickets[tid]
        assert (row["number"], row["matter"]) == (t["number"], t["matter"]), (dict(row), t)
    for tid, n in acks.called.items():
        row = tickets[tid]
        assert row["status"] != "waiting" and row["window"] == n, (dict(row), n)
    for tid in acks.finished:
        assert tickets[tid]["status"] == "done", dict(tickets[tid])

    # numbers: unique per service day and prefix, contiguous, and the counter agrees
    seqs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row in tickets.values():
        assert row["number"] == f"{row['prefix']}{row['seq']:03d}"
        seqs[row["service_day"], row["prefix"]].append(row["seq"])
    counters = {(r[0], r[1]): r[2] for r in db.execute("SELECT service_day, prefix, last FROM counters")}
    for key, got in seqs.items():
        assert sorted(got) == list(range(1, len(got) + 1)), (key, sorted(got))
        assert counters[key] == len(got), (key, counters[key], len(got))

    # a ticket is with at most one window, and a called/serving ticket with exactly its window
    current = [(r["number"], r["current_ticket"]) for r in db.execute(
        "SELECT number, current_ticket FROM windows WHERE current_ticket IS NOT NULL")]
    assert len({tid for _, tid in current}) == len(current), current
    for n, tid in current:
        assert tickets[tid]["status"] in ("called", "serving") and tickets[tid]["window"] == n
    active = {tid for tid, r in tickets.items() if r["status"] in ("called", "serving")}
    assert active == {tid for _, tid in current}

    # the event log agrees: each ticket issued once and called at most once, by its window
    issued_ev = Counter(r[0] for r in db.execute("SELECT ticket_id FROM events WHERE type='ticket.issued'"))
    assert set(issued_ev) == set(tickets) and set(issued_ev.values()) <= {1}
    called_ev = db.execute("SELECT ticket_id, window FROM events WHERE type='ticket.called'").fetchall()
    assert len({tid for tid, _ in called_ev}) == len(called_ev), "a ticket was called twice"
    for tid, n in called_ev:
        assert tickets[tid]["window"] == n
    seq = [r[0] for r in db.execute("SELECT seq FROM events ORDER BY seq")]
    assert seq == list(range(1, len(seq) + 1))
    db.close()
    return {k: len(v) for k, v in seqs.items()}


def test_sigkill_mid_traffic_loses_nothing_acknowledged(tmp_path):
    # without devices: what is checked is the store, and each of the four starts opened eighteen of them
    srv = ServerProcess(tmp_path / "data", config=always_open_config(tmp_path, devices=False))
    acks = Acks()
    seen_numbers: set[tuple[str, str]] = set()        # (service_day, number) ever handed out
    try:
        srv.start()
        admin = srv.admin()
        kiosk = srv.make_user("kiosk1", "kiosk", admin)
        clerks = {}
        for n in WINDOWS:
            clerks[n] = srv.make_user(f"clerk{n}", "clerk", admin)
            for action in ("login", "open"):
                assert HTTP.post(f"{srv.url}/api/v1/windows/{n}/{action}", headers=clerks[n]).status_code == 200

        for threshold, extra_s in KILL_AFTER_ISSUED:
            before = len(acks.issued), len(acks.called)
            stop = threading.Event()
            threads = _traffic(srv, kiosk, clerks, acks, stop)
            deadline = time.monotonic() + 30
            # kill once enough tickets were issued and at least one was called in this run
            while ((len(acks.issued) - before[0] < threshold or len(acks.called) == before[1])
                   and time.monotonic() < deadline and not acks.unexpected):
                time.sleep(0.002)
            time.sleep(extra_s)
            srv.kill()                                   # mid-traffic: requests are in flight
            stop.set()
            for t in threads:
                t.join(30)
            assert not any(t.is_alive() for t in threads)
            assert not acks.unexpected, acks.unexpected[:5]
            assert len(acks.issued) > before[0] and len(acks.called) > before[1], "no traffic before the kill"

            srv.start()                                  # same data dir; tokens survive the restart
            last = _check_invariants(srv.db_path, acks)
            day = HTTP.get(srv.url + "/api/v1/hall").json()["service_day"]
            for t in acks.issued.values():
                seen_numbers.add((day, t["number"]))
            # issuing after the restart continues the numbers; none comes again
            for matter in {CFG.matter(m).prefix: m for m in MATTERS}.values():
                r = HTTP.post(srv.url + "/api/v1/tickets", json={"matter": matter}, headers=kiosk)
                assert r.status_code == 201, r.text
                t = r.json()
                prefix = CFG.matter(matter).prefix
                assert t["number"] == f"{prefix}{last.get((day, prefix), 0) + 1:03d}"
                assert (day, t["number"]) not in seen_numbers
                seen_numbers.add((day, t["number"]))
                acks.issued[t["id"]] = t
            for tid, t in acks.issued.items():          # and the API shows every acknowledged ticket
                if tid % 7 == 0:
                    got = HTTP.get(f"{srv.url}/api/v1/tickets/{tid}").json()
                    assert got["number"] == t["number"]
        assert len(acks.called) >= 10 and len(acks.finished) >= 10
    finally:
        srv.stop()
    _check_invariants(srv.db_path, acks)
