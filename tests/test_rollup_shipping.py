"""Issue 19: a hall ships its event log to the district's PostgreSQL (a real cluster, tests/pgcluster.py).

In-process halls (Hall + TestClient): every event arrives once, in order, none missing; PostgreSQL stopped
during traffic → the hall keeps issuing and calling, the lag grows, and after the restart everything arrives
once; a wrong password → one log line and a health warning, retried without a crash loop or a line per retry.
"""
from __future__ import annotations

import json
import logging
import re
import time

import psycopg
from api_helpers import clerk_at, issue
from fastapi.testclient import TestClient
from pgcluster import pg_cluster  # noqa: F401  (the fixture `pg`: the session's PostgreSQL)

from hall_server.app import create_app
from hall_server.diagnose.rollup import rollup as diagnose_rollup
from hall_server.rollup.config import RollupPolicy
from hall_server.runtime import Hall

ADMIN_PASSWORD = "admin-test-password"


def wait_for(cond, timeout: float = 30.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


def start_hall(tmp_path, cfg, clock, monkeypatch, url: str, **policy) -> TestClient:
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
    rollup = RollupPolicy(url=url, **{"interval_s": 0.5, "retry_min_s": 0.05, "retry_max_s": 0.2, **policy})
    h = Hall(cfg.model_copy(update={"devices": (), "seats": (), "rollup": rollup}), tmp_path, clock)
    h.ensure_admin()
    c = TestClient(create_app(h))
    c.__enter__()
    c.hall = h
    r = c.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    c.admin = {"Authorization": f"Bearer {r.json()['token']}"}

    def make_user(username, role):
        password = f"{username}-password"
        r = c.post("/api/v1/users", json={"username": username, "password": password, "role": role},
                   headers=c.admin)
        assert r.status_code == 201, r.text
        r = c.post("/api/v1/auth/login", json={"username": username, "password": password})
        return {"Authorization": f"Bearer {r.json()['token']}"}
    c.make_user = make_user
    return c


def local_events(hall: Hall) -> list[tuple]:
    rows = hall.store.read.execute("SELECT seq, type, data FROM events ORDER BY seq").fetchall()
    return [(r[0], r[1], json.loads(r[2])) for r in rows]


def pg_events(url: str, code: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute("SELECT seq, type, data FROM events WHERE hall = %s ORDER BY seq",
                                               (code,))]


def pg_last_seq(url: str, code: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            row = conn.execute("SELECT last_seq FROM halls WHERE code = %s", (code,)).fetchone()
            return row[0] if row else -1
    except psycopg.OperationalError:
        return -1


def caught_up(c: TestClient) -> bool:
    r = c.get("/api/v1/health").json()["rollup"]
    return r["lag_events"] == 0 and r["shipped_seq"] == c.hall.bus.latest_seq


def traffic(c: TestClient, clerk: dict, n: int, window: int = 1) -> None:
    for _ in range(n):
        issue(c)
    for _ in range(n):
        r = c.post(f"/api/v1/windows/{window}/call-next", headers=clerk)
        assert r.status_code == 200, r.text
        c.hall.clock.advance(seconds=5)


ID_OR_PHONE = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9})(?!\d)")


def test_every_event_arrives_once_in_order(tmp_path, district_cfg, clock, monkeypatch, pg):
    url = pg.create_database("rollup_order")
    c = start_hall(tmp_path, district_cfg, clock, monkeypatch, url, batch_size=7)
    try:
        clerk = clerk_at(c, 1)
        traffic(c, clerk, 12)
        wait_for(lambda: caught_up(c), what="shipping to catch up")
        local = local_events(c.hall)
        assert pg_events(url, c.hall.cfg.hall.code) == local        # same seqs, types and data, in order
        with psycopg.connect(url) as conn:
            hall = conn.execute("SELECT name, level, info, last_seq, hall_latest_seq, last_contact FROM halls"
                                " WHERE code = %s", (c.hall.cfg.hall.code,)).fetchone()
            n, distinct = conn.execute("SELECT count(*), count(DISTINCT seq) FROM events").fetchone()
            shipped = " ".join(r[0] for r in conn.execute("SELECT data::text FROM events"))
        assert hall[0] == c.hall.cfg.hall.name and hall[1] == "district"
        assert {w["number"] for w in hall[2]["windows"]} == {w.number for w in c.hall.cfg.windows}
        assert hall[2]["departments"] and hall[2]["timezone"] == "Asia/Shanghai"
        assert hall[3] == hall[4] == local[-1][0] and hall[5] is not None
        assert n == distinct == len(local)
        assert not ID_OR_PHONE.search(shipped), "an unmasked ID number or phone in a shipped event"
        health = c.get("/api/v1/health").json()
        assert health["rollup"]["ok"] and health["rollup"]["lag_s"] == 0 and "secret" not in json.dumps(health)
        check = diagnose_rollup(c.hall.cfg, tmp_path)                # scripts/diagnose's check
        assert check.state == "ok" and check.data["lag_events"] == 0, check.as_dict()
    finally:
        c.__exit__(None, None, None)

    # the hall starts again on the same data: nothing is shipped twice, the new events follow
    c = start_hall(tmp_path, district_cfg, clock, monkeypatch, url, batch_size=7)
    try:
        traffic(c, clerk_at(c, 2, "clerk2"), 3, window=2)
        wait_for(lambda: caught_up(c), what="shipping after the hall's restart")
        assert pg_events(url, c.hall.cfg.hall.code) == local_events(c.hall)
    finally:
        c.__exit__(None, None, None)


def test_postgres_outage_during_traffic(tmp_path, district_cfg, clock, monkeypatch, pg):
    url = pg.create_database("rollup_outage")
    code = district_cfg.hall.code
    c = start_hall(tmp_path, district_cfg, clock, monkeypatch, url, batch_size=50)
    try:
        clerk = clerk_at(c, 1)
        traffic(c, clerk, 3)
        wait_for(lambda: caught_up(c), what="shipping before the outage")
        before = c.hall.bus.latest_seq
        pg.stop(mode="immediate")
        try:
            traffic(c, clerk, 8)            # the hall keeps issuing and calling
            clock.advance(seconds=30)
            health = wait_for(lambda: (lambda h: h if h["rollup"]["error"] else None)(
                c.get("/api/v1/health").json()), what="the health warning")
            assert health["status"] == "ok"                          # a warning, not a failure
            r = health["rollup"]
            assert r["warning"] and not r["ok"] and not r["connected"]
            assert r["shipped_seq"] == before and r["lag_events"] == c.hall.bus.latest_seq - before > 0
            assert r["lag_s"] >= 30
        finally:
            pg.start()
        traffic(c, clerk, 2)
        wait_for(lambda: caught_up(c), what="shipping after PostgreSQL's restart")
        assert pg_events(url, code) == local_events(c.hall)          # everything once, in order
        assert c.get("/api/v1/health").json()["rollup"]["error"] is None
    finally:
        c.__exit__(None, None, None)


def test_wrong_password_one_log_line_and_a_warning(tmp_path, district_cfg, clock, monkeypatch, pg, caplog):
    pg.create_database("rollup_auth")
    pg.create_role("hall_user", "right-password")
    bad = pg.tcp_url("hall_user", "wrong-secret-pw", "rollup_auth")
    caplog.set_level(logging.INFO, logger="hall_server.rollup")
    c = start_hall(tmp_path, district_cfg, clock, monkeypatch, bad)
    try:
        shipper = c.hall.rollup
        wait_for(lambda: shipper.error is not None, what="the first failed connection")
        issue(c)                                         # the hall works as ever
        first = shipper.retry_at
        wait_for(lambda: shipper.retry_at != first and shipper.retry_at is not None, what="a retry")
        wait_for(lambda: shipper.retry_at != first, what="another retry")
        r = c.get("/api/v1/health").json()
        assert r["status"] == "ok" and r["rollup"]["warning"]
        assert "password authentication failed" in r["rollup"]["error"]
        assert "wrong-secret-pw" not in json.dumps(r) and "***" in r["rollup"]["url"]
        lines = [rec for rec in caplog.records if rec.name.startswith("hall_server.rollup")]
        assert len(lines) == 1, [rec.getMessage() for rec in lines]
        assert "password authentication failed" in lines[0].getMessage()
        assert "wrong-secret-pw" not in lines[0].getMessage()
        assert shipper._thread.is_alive()
        check = diagnose_rollup(c.hall.cfg, tmp_path)
        assert check.state == "warn" and "password authentication failed" in check.detail, check.as_dict()
        assert "wrong-secret-pw" not in json.dumps(check.as_dict())
    finally:
        c.__exit__(None, None, None)
