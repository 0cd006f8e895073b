"""SIGKILL in the middle of case traffic (issue 15, "Bad input and faults"): nothing acknowledged is lost.

Two clerks take cases in and accept them while an officer claims and decides them, continuously; every 2xx
answer is recorded. The server is killed twice mid-traffic and restarted on the same data directory: every
acknowledged case is there with at least the status its last acknowledged action gave it, case numbers are
unique, and each case's history (the event log) ends in its current status.
"""
from __future__ import annotations

import sqlite3
import threading
import time

import httpx
import pytest
from serverproc import DISTRICT, HTTP, ServerProcess, without_devices

from hall_server.config import without_opening_hours

pytestmark = pytest.mark.slow
ORDER = ["received", "accepted", "in_review", "decided"]
BODY = {"matter": "SH-003", "applicant": {"name": "测试", "phone": "13800000000"},
        "materials": [{"name": n, "state": "original"}
                      for n in ("居民身份证原件", "临时救助申请书", "遭遇困难的相关证明")]}


class Acks:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.status: dict[int, str] = {}           # case id → the status of its last acknowledged action
        self.numbers: dict[int, str] = {}
        self.unexpected: list[str] = []

    def ack(self, case: dict) -> None:
        with self.lock:
            old = self.status.get(case["id"])
            if old is None or ORDER.index(case["status"]) > ORDER.index(old):
                self.status[case["id"]] = case["status"]
            self.numbers[case["id"]] = case["number"]


def traffic(srv: ServerProcess, clerk: dict, officer: dict, acks: Acks, stop: threading.Event) -> list:
    def clerk_loop() -> None:
        with srv.client(headers=clerk, timeout=10) as c:
            while not stop.is_set():
                try:
                    r = c.post("/api/v1/cases", json=BODY)
                    if r.status_code != 201:
                        acks.unexpected.append(f"create {r.status_code} {r.text}")
                        continue
                    acks.ack(r.json())
                    r = c.post(f"/api/v1/cases/{r.json()['id']}/accept")
                    if r.status_code == 200:
                        acks.ack(r.json())
                    else:
                        acks.unexpected.append(f"accept {r.status_code} {r.text}")
                except httpx.TransportError:
                    return

    def officer_loop() -> None:
        with srv.client(headers=officer, timeout=10) as c:
            while not stop.is_set():
                try:
                    r = c.get("/api/v1/cases", params={"status": "accepted", "order": "due", "limit": 5})
                    for case in r.json().get("cases", []) if r.status_code == 200 else []:
                        for action, body in (("claim", None), ("decide", {"outcome": "approved"})):
                            r = c.post(f"/api/v1/cases/{case['id']}/{action}", json=body)
                            if r.status_code != 200:
                                acks.unexpected.append(f"{action} {r.status_code} {r.text}")
                                break
                            acks.ack(r.json())
                except httpx.TransportError:
                    return

    threads = [threading.Thread(target=clerk_loop), threading.Thread(target=clerk_loop),
               threading.Thread(target=officer_loop)]
    for t in threads:
        t.start()
    return threads


def test_sigkill_mid_case_traffic_loses_no_acknowledged_action(tmp_path):
    cfg = tmp_path / "hall.toml"
    cfg.write_text(without_opening_hours(without_devices(DISTRICT.read_text(encoding="utf-8"))), encoding="utf-8")
    srv = ServerProcess(tmp_path / "data", config=cfg).start()
    admin = srv.admin()
    clerk = srv.make_user("clerk1", "clerk", admin)
    r = HTTP.post(srv.url + "/api/v1/users", headers=admin, json={
        "username": "mz1", "password": "mz1-password", "role": "department", "departments": ["区民政局"]})
    assert r.status_code == 201, r.text
    acks = Acks()
    try:
        for kill_at in (15, 40):
            clerk, officer = srv.login("clerk1", "clerk1-password"), srv.login("mz1", "mz1-password")
            stop = threading.Event()
            threads = traffic(srv, clerk, officer, acks, stop)
            end = time.monotonic() + 60
            while len(acks.status) < kill_at and time.monotonic() < end:
                time.sleep(0.01)
            srv.kill()
            stop.set()
            for t in threads:
                t.join(15)
            srv.start()
        assert not acks.unexpected, acks.unexpected[:5]
        assert len(acks.status) >= 40
        decided = sum(s == "decided" for s in acks.status.values())
        assert decided > 0, "the officer decided nothing: the test did not exercise review"
        db = sqlite3.connect(srv.db_path)
        rows = {r[0]: (r[1], r[2]) for r in db.execute("SELECT id, status, number FROM cases")}
        assert len({n for _s, n in rows.values()}) == len(rows)                 # numbers unique
        for case_id, status in acks.status.items():
            assert case_id in rows, f"acknowledged case {case_id} is gone"
            assert ORDER.index(rows[case_id][0]) >= ORDER.index(status), (case_id, rows[case_id], status)
            assert rows[case_id][1] == acks.numbers[case_id]
        for case_id, (status, _n) in rows.items():
            last = db.execute("SELECT data FROM events WHERE case_id=? AND type LIKE 'case.%' ORDER BY seq DESC"
                              " LIMIT 1", (case_id,)).fetchone()
            assert last is not None and f'"status":"{status}"' in last[0], (case_id, status, last)
        got = HTTP.get(f"{srv.url}/api/v1/cases/{next(iter(acks.status))}", headers=srv.admin()).json()
        assert got["history"][0]["action"] == "received"
    finally:
        srv.stop()
