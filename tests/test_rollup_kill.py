"""Issue 19: a real hall server process with [rollup], SIGKILLed while it issues and ships (small batches), comes
back on the same data: no gap and no duplicate in PostgreSQL; the dashboard then shows the roll-up caught up.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time

import psycopg
import pytest
from pages import chromium, expect
from pgcluster import pg_cluster  # noqa: F401  (the fixture `pg`)
from serverproc import HTTP, ServerProcess, always_open_config

pytestmark = pytest.mark.slow


def wait_for(cond, timeout: float = 60.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def pg_state(url: str, code: str) -> tuple[int, list[int]]:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT last_seq FROM halls WHERE code = %s", (code,)).fetchone()
        seqs = [r[0] for r in conn.execute("SELECT seq FROM events WHERE hall = %s ORDER BY seq", (code,))]
    return (row[0] if row else 0), seqs


def test_sigkill_mid_batch_no_gap_no_duplicate(tmp_path, pg):
    url = pg.create_database("rollup_kill")
    config = always_open_config(tmp_path, devices=False)
    config.write_text(config.read_text(encoding="utf-8") + f'\n[rollup]\nurl = "{url}"\nbatch_size = 5\n'
                      "interval_s = 0.5\nretry_min_s = 0.1\nretry_max_s = 0.5\n", encoding="utf-8")
    srv = ServerProcess(tmp_path / "data", config=config)
    srv.start()
    try:
        admin = srv.admin()
        code = HTTP.get(srv.url + "/api/v1/health").json()["hall"]
        stop = threading.Event()
        issued: list[int] = []

        def kiosk() -> None:
            with srv.client(headers=admin) as c:
                while not stop.is_set():
                    try:
                        r = c.post("/api/v1/tickets", json={"matter": "SH-001"})
                    except Exception:         # the server was killed under us
                        return
                    if r.status_code == 201:
                        issued.append(r.json()["id"])

        t = threading.Thread(target=kiosk, daemon=True)
        t.start()
        # kill while events are still coming and shipping is under way
        wait_for(lambda: len(issued) >= 40 and pg_state(url, code)[0] > 0, what="traffic and shipping")
        srv.kill()
        stop.set()
        t.join(30)
        last, seqs = pg_state(url, code)
        assert seqs == list(range(1, last + 1)), "a gap or a disorder in PostgreSQL right after the kill"

        srv.start()
        for _ in range(5):
            r = HTTP.post(srv.url + "/api/v1/tickets", json={"matter": "SH-001"}, headers=srv.admin())
            assert r.status_code == 201, r.text
        latest = HTTP.get(srv.url + "/api/v1/health").json()["latest_seq"]
        wait_for(lambda: pg_state(url, code)[0] >= latest, what="shipping after the restart")
        health = HTTP.get(srv.url + "/api/v1/health").json()
        wait_for(lambda: HTTP.get(srv.url + "/api/v1/health").json()["rollup"]["lag_events"] == 0,
                 what="health to show no lag")
        last, seqs = pg_state(url, code)
        assert last == health["latest_seq"] and seqs == list(range(1, last + 1))   # no gap, none twice (PK)
        with psycopg.connect(url) as conn:
            shipped = [(r[0], r[1], r[2]) for r in conn.execute(
                "SELECT seq, type, data FROM events WHERE hall = %s ORDER BY seq", (code,))]
        local = sqlite3.connect(srv.db_path)
        assert shipped == [(s, ty, json.loads(d)) for s, ty, d in
                           local.execute("SELECT seq, type, data FROM events ORDER BY seq")]
        local.close()

        # the dashboard shows the roll-up as caught up (dashboard_rollup.js reads the health)
        HTTP.post(srv.url + "/api/v1/users", headers=srv.admin(), timeout=30,
                  json={"username": "rollsup", "password": "rollsup-password", "role": "supervisor"})
        with chromium() as browser:
            page = browser.new_page()
            page.goto(srv.url + "/dashboard")
            page.get_by_test_id("login-username").fill("rollsup")
            page.get_by_test_id("login-password").fill("rollsup-password")
            page.get_by_test_id("login-submit").click()
            expect(page.get_by_test_id("rollup")).to_be_visible()
            expect(page.get_by_test_id("rollup")).to_have_attribute("data-state", "ok")
            expect(page.get_by_test_id("rollup-text")).to_contain_text("已全部上报")
    finally:
        srv.kill()
