"""Issue 19, the district service with a real PostgreSQL (tests/pgcluster.py): three in-process halls (district
centre, street centre, community station) ship through the real shipper; the district service (its own FastAPI app,
its projector thread, LISTEN/NOTIFY) answers /api/v1/district/…; the answers are compared with what the halls say
of themselves (their dashboard, their statistics, their cases).

Then the faults: a projector SIGKILLed inside a batch (a real process, its transaction open) and restarted leaves
the projections equal to a rebuild from the log; a wrong password is one log line and a health warning, the service
up; a URL that is not PostgreSQL's is refused by the CLI with a line saying what to give.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from api_helpers import assert_error
from conftest import MORNING
from fastapi.testclient import TestClient
from pgcluster import pg_cluster  # noqa: F401  (the fixture `pg`: the session's PostgreSQL)

from hall_server.app import create_app
from hall_server.cli import main as onewindow
from hall_server.clock import FakeClock
from hall_server.config import load_config
from hall_server.district.app import create_district_app
from hall_server.district.migrations import projection_tables
from hall_server.district.projector import catch_up, rebuild
from hall_server.rollup.config import RollupPolicy
from hall_server.runtime import Hall
from hall_server.stats.schema import cursor as stats_cursor

ROOT = Path(__file__).resolve().parent.parent
DISTRICT, STREET, STATION = "xialu-district", "dongfangshan-street", "shiliuyuan-community"
CONFIGS = {DISTRICT: "district-centre.toml", STREET: "street-centre.toml", STATION: "community-station.toml"}
APPLICANT = {"name": "张三", "phone": "13800000000", "id_number": "11010519491231002X"}
SH003 = ["居民身份证原件", "临时救助申请书", "遭遇困难的相关证明"]
ADMIN_PASSWORD = "admin-test-password"


# -- in-process halls shipping to the district (the page test uses these too) --------------------------------
def wait_for(cond, timeout: float = 30.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


def start_hall(data_dir: Path, name: str, clock, url: str) -> TestClient:
    """The hall of config/<name> without devices, [rollup] on `url`, behind an entered TestClient (stop_hall)."""
    rollup = RollupPolicy(url=url, interval_s=0.3, retry_min_s=0.05, retry_max_s=0.2)
    cfg = load_config(ROOT / "config" / name)
    data_dir.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
        h = Hall(cfg.model_copy(update={"devices": (), "seats": (), "rollup": rollup}), data_dir, clock)
        h.ensure_admin()
    c = TestClient(create_app(h))
    c.__enter__()
    c.hall, c.running = h, True
    r = c.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    c.admin = {"Authorization": f"Bearer {r.json()['token']}"}
    return c


def stop_hall(c: TestClient) -> None:
    if c.running:
        c.running = False
        c.__exit__(None, None, None)


def login(c: TestClient, username: str, role: str, **extra) -> dict:
    r = c.post("/api/v1/users", json={"username": username, "password": f"{username}-password", "role": role,
                                      **extra}, headers=c.admin)
    assert r.status_code == 201, r.text
    r = c.post("/api/v1/auth/login", json={"username": username, "password": f"{username}-password"})
    return {"Authorization": f"Bearer {r.json()['token']}"}


def clerk(c: TestClient, window: int, username: str) -> dict:
    """A clerk logged in to `window`, the window opened; their headers."""
    h = login(c, username, "clerk")
    for action in ("login", "open"):
        act(c, window, action, h)
    return h


def issue(c: TestClient, matter: str) -> dict:
    r = c.post("/api/v1/tickets", json={"matter": matter}, headers=c.admin)
    assert r.status_code == 201, r.text
    return r.json()


def act(c: TestClient, window: int, action: str, headers: dict) -> dict | None:
    r = c.post(f"/api/v1/windows/{window}/{action}", headers=headers)
    assert r.status_code in (200, 204), r.text
    return r.json() if r.status_code == 200 else None


def caught_up(d: TestClient, halls: list[TestClient]) -> dict[str, dict] | None:
    """The district's halls once every hall's latest event is shipped AND applied by the projector."""
    r = d.get("/api/v1/district/halls")
    assert r.status_code == 200, r.text
    view = {h["code"]: h for h in r.json()["halls"]}
    for c in halls:
        row = view.get(c.hall.cfg.hall.code)
        latest = c.hall.bus.latest_seq
        if row is None or row["last_seq"] != latest or row["applied_seq"] != latest:
            return None
    return view


def evaluator(c: TestClient, window: int) -> dict:
    return login(c, f"eval{window}", "evaluator", window=window)


def rate(c: TestClient, headers: dict, ticket: int, level: int) -> None:
    r = c.post("/api/v1/evaluations", json={"ticket": ticket, "level": level}, headers=headers)
    assert r.status_code == 201, r.text


def take_in(c: TestClient, headers: dict, accept: bool) -> dict:
    r = c.post("/api/v1/cases", headers=headers, json={
        "matter": "SH-003", "applicant": APPLICANT, "materials": [{"name": n, "state": "original"} for n in SH003]})
    assert r.status_code == 201, r.text
    case = r.json()
    if accept:
        r = c.post(f"/api/v1/cases/{case['id']}/accept", headers=headers)
        assert r.status_code == 200, r.text
        case = r.json()
    return case


@pytest.fixture(scope="module")
def district(pg, tmp_path_factory):
    """Three halls shipping to one database, the district service on it, and the traffic of the tests."""
    url = pg.create_database("district_service")
    base = tmp_path_factory.mktemp("district")
    clock = FakeClock(MORNING)
    halls = {code: start_hall(base / code, name, clock, url) for code, name in CONFIGS.items()}
    d = TestClient(create_district_app(url, clock=clock, interval_s=0.2))
    d.__enter__()
    try:
        yield url, clock, halls, d, traffic(clock, halls)
    finally:
        d.__exit__(None, None, None)
        for c in halls.values():
            stop_hall(c)


def traffic(clock: FakeClock, halls: dict[str, TestClient]) -> dict:
    """At the district centre: 5 tickets, 3 called, 2 finished and rated (5 and 2), one no-show, 2 waiting; at the
    street centre: 2 waiting, no window open; at the station: one ticket finished, a case accepted, one received."""
    dc, st, cs = halls[DISTRICT], halls[STREET], halls[STATION]
    w1, w2 = clerk(dc, 1, "dclerk1"), clerk(dc, 2, "dclerk2")
    e1, e2 = evaluator(dc, 1), evaluator(dc, 2)
    tickets = [issue(dc, "WJ-001") for _ in range(5)]
    clock.advance(seconds=90)
    t1 = act(dc, 1, "call-next", w1)
    clock.advance(seconds=30)
    t2 = act(dc, 2, "call-next", w2)
    clock.advance(seconds=200)
    act(dc, 1, "finish", w1)
    act(dc, 2, "finish", w2)
    rate(dc, e1, t1["id"], 5)
    rate(dc, e2, t2["id"], 2)
    clock.advance(seconds=5)
    act(dc, 1, "call-next", w1)
    for _ in range(3):                              # recalls until the no-show
        clock.advance(seconds=120)
        r = dc.post("/api/v1/windows/1/skip", headers=w1)
        if r.status_code == 200:
            break
    assert r.status_code == 200, r.text
    for _ in range(2):
        issue(st, "SH-001")
    c1 = clerk(cs, 1, "sclerk1")
    issue(cs, "SH-001")
    clock.advance(seconds=40)
    act(cs, 1, "call-next", c1)
    accepted = take_in(cs, c1, accept=True)
    take_in(cs, c1, accept=False)
    clock.advance(seconds=60)
    act(cs, 1, "finish", c1)
    return {"tickets": tickets, "accepted": accepted}


def view_when_caught_up(d: TestClient, halls: dict[str, TestClient]) -> dict[str, dict]:
    return wait_for(lambda: caught_up(d, list(halls.values())), what="the district to apply every hall's events")


def hall_dashboard(c: TestClient) -> dict:
    r = c.get("/api/v1/dashboard", headers=c.admin)
    assert r.status_code == 200, r.text
    return r.json()


def hall_stats_today(c: TestClient, issued: int) -> dict:
    """The hall's own statistics of today, once its projector has counted every ticket."""
    def got():
        r = c.get("/api/v1/stats", params={"from": MORNING.date().isoformat(), "to": MORNING.date().isoformat(),
                                           "by": "day"}, headers=c.admin)
        assert r.status_code == 200, r.text
        rows = r.json()["rows"]
        conn = c.hall.stats.reader()
        try:
            applied = stats_cursor(conn)
        finally:
            conn.close()
        return rows[0] if rows and rows[0]["issued"] == issued and applied >= c.hall.bus.latest_seq else None
    return wait_for(got, what="the hall's statistics")


def test_the_board_answers_what_the_halls_shipped(district):
    _, _, halls, d, _ = district
    view = view_when_caught_up(d, halls)
    assert list(view) == [DISTRICT, STREET, STATION]             # district, street, community
    for code, c in halls.items():
        h, dash = view[code], hall_dashboard(c)
        assert h["online"] and h["lag_events"] == 0 and h["lag_s"] == 0, h
        assert h["last_seq"] == c.get("/api/v1/health").json()["latest_seq"] == h["applied_seq"]
        assert h["name"] == c.hall.cfg.hall.name and h["level"] == c.hall.cfg.hall.level
        assert h["waiting"] == len(dash["tickets"]), (code, h, dash["tickets"])
        assert h["open_windows"] == sum(w["state"] in ("open", "serving") for w in dash["windows"]), dash["windows"]
        assert h["served_today"] == sum(w["served_today"] for w in dash["windows"])
        oldest = max((t["wait_s"] for t in dash["tickets"]), default=0)
        assert abs(h["longest_wait_s"] - oldest) <= 1
        counts = {s: n for s, n in dash["cases"]["by_status"].items()
                  if n and s not in ("refused", "delivered", "withdrawn")}
        assert h["cases"] == counts and h["overdue"] == dash["cases"]["deadline"]["red"] == 0
    dc, st, cs = view[DISTRICT], view[STREET], view[STATION]
    assert (dc["issued_today"], dc["served_today"], dc["waiting"], dc["open_windows"]) == (5, 2, 2, 2)
    assert (dc["rated_today"], dc["good_rate"]) == (2, 0.5)      # 好评率: one 5, one 2
    assert (st["waiting"], st["open_windows"], st["served_today"], st["good_rate"]) == (2, 0, 0, None)
    assert (cs["served_today"], cs["cases"]) == (1, {"accepted": 1, "received": 1})
    text = json.dumps(view, ensure_ascii=False)
    assert APPLICANT["name"] not in text and APPLICANT["phone"] not in text and APPLICANT["id_number"] not in text

    # the drill-down: the windows and queues of one hall
    r = d.get(f"/api/v1/district/halls/{DISTRICT}")
    assert r.status_code == 200, r.text
    one = r.json()
    dash = hall_dashboard(halls[DISTRICT])
    states = {w["number"]: w["state"] for w in one["windows"]}
    assert {w["number"] for w in one["windows"]} == {w["number"] for w in dash["windows"]}
    assert states[1] == "open" and states[2] == "open" and states[3] == "closed"
    served = {w["number"]: w["served_today"] for w in one["windows"]}
    assert served == {w["number"]: w["served_today"] for w in dash["windows"]}
    [q] = one["queues"]
    assert (q["matter"], q["waiting"]) == ("WJ-001", 2)
    assert q["next"] == [t["number"] for t in dash["tickets"]]
    assert_error(d.get("/api/v1/district/halls/nowhere"), 404, "hall_not_found")

    # the statistics per hall and summed equal each hall's own
    stats = d.get("/api/v1/district/stats", params={"from": MORNING.date().isoformat(), "by": "hall"}).json()
    rows = {r["key"]: r for r in stats["rows"]}
    for code, c in halls.items():
        own = hall_stats_today(c, view[code]["issued_today"])
        for k in ("issued", "served", "no_show", "cancelled", "rated", "good_rate", "wait_p50_s", "wait_p90_s",
                  "cases_accepted", "cases_decided"):
            assert rows[code][k] == own[k], (code, k, rows[code][k], own[k])
    total = stats["total"]
    assert total["issued"] == sum(r["issued"] for r in rows.values()) == 8
    assert total["served"] == 3 and total["no_show"] == 1 and total["rated"] == 2 and total["good_rate"] == 0.5
    community = d.get("/api/v1/district/stats", params={"from": MORNING.date().isoformat(), "level": "community"})
    assert [r["key"] for r in community.json()["rows"]] == [STATION]
    assert_error(d.get("/api/v1/district/stats", params={"from": "2026-11-24", "to": "2026-11-01"}), 422,
                 "range_reversed")
    assert_error(d.get("/api/v1/district/stats", params={"from": "24/11/2026"}), 422, "invalid_request")
    assert_error(d.get("/api/v1/district/stats", params={"halls": "nowhere"}), 404, "hall_not_found")


def test_a_new_event_is_pushed_and_an_overdue_case_counted(district):
    _, clock, halls, d, done = district
    view_when_caught_up(d, halls)
    with d.websocket_connect("/api/v1/district/events") as ws:
        assert ws.receive_json()["type"] == "hello"
        issue(halls[STREET], "SH-001")
        while True:
            msg = ws.receive_json()
            assert msg["type"] != "heartbeat", "no change was pushed after the street centre's new ticket"
            if msg.get("hall") == STREET:
                break
    assert msg["seq"] == halls[STREET].hall.bus.latest_seq
    assert d.get("/api/v1/district/halls").json()["halls"][1]["waiting"] == 3

    # the accepted case's due date passed (the service's clock, the halls' too): overdue at the station
    due = date.fromisoformat(done["accepted"]["due"])
    before = clock.now()
    try:
        clock.set(before + (due - MORNING.date() + timedelta(days=1)))
        st = {h["code"]: h for h in d.get("/api/v1/district/halls").json()["halls"]}[STATION]
        assert st["overdue"] == 1 and st["cases"] == {"accepted": 1, "received": 1}
    finally:
        clock.set(before)


def _snapshot(url: str) -> dict[str, list]:
    with psycopg.connect(url) as conn:
        out = {}
        for table in projection_tables():
            if table == "d_cursor":
                out[table] = conn.execute("SELECT hall, seq FROM d_cursor ORDER BY hall").fetchall()
            else:
                rows = conn.execute(f"SELECT to_jsonb(t) FROM {table} t").fetchall()
                out[table] = sorted(json.dumps(r[0], sort_keys=True) for r in rows)
        return out


KILLED_MID_BATCH = """
import sys, time, psycopg
from hall_server.district import projector
from hall_server.district.projections import PROJECTIONS
last, calls = PROJECTIONS[-1], []
apply = last.apply
def slow(cur, hall, events):
    apply(cur, hall, events)
    calls.append(1)
    if len(calls) == 3:                   # the third batch: applied, its cursor not yet moved, not committed
        print("inside", flush=True)
        time.sleep(120)
last.apply = slow
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    projector.catch_up(conn, limit=4)
"""


def committed_batches(last_seqs: dict[str, int], limit: int, batches: int) -> dict[str, int]:
    """Where the cursors are after `batches` batches of catch_up (halls in code order, `limit` events a batch)."""
    out = {}
    for hall, last in last_seqs.items():
        seq = 0
        while batches and seq < last:
            seq, batches = min(last, seq + limit), batches - 1
            out[hall] = seq
            if seq % limit:
                break
    return out


def test_a_projector_killed_mid_batch_then_restarted_equals_a_rebuild(district, pg):
    url, _, halls, d, _ = district
    view_when_caught_up(d, halls)
    copy = pg.create_database("district_killed")
    with psycopg.connect(url) as src, psycopg.connect(copy) as dst:
        from hall_server.district.migrations import ensure_projection_schema
        ensure_projection_schema(dst)
        dst.commit()
        for row in src.execute("SELECT code, name, level, info, last_seq, hall_latest_seq FROM halls").fetchall():
            dst.execute("INSERT INTO halls (code, name, level, info, last_seq, hall_latest_seq, last_contact)"
                        " VALUES (%s,%s,%s,%s,%s,%s,now())", (*row[:3], json.dumps(row[3]), *row[3 + 1:]))
        with dst.cursor() as cur:
            cur.executemany("INSERT INTO events (hall, seq, type, at, actor, window_no, ticket_id, case_id, data)"
                            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                            [(*r[:8], json.dumps(r[8])) for r in src.execute(
                                "SELECT hall, seq, type, at, actor, window_no, ticket_id, case_id, data FROM events"
                                " ORDER BY hall, seq").fetchall()])
        dst.commit()
    p = subprocess.Popen([sys.executable, "-c", KILLED_MID_BATCH, copy], cwd=ROOT, stdout=subprocess.PIPE,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert p.stdout.readline().strip() == "inside"
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    with psycopg.connect(copy, autocommit=True) as conn:
        counts = dict(conn.execute("SELECT hall, max(seq) FROM events GROUP BY hall ORDER BY hall").fetchall())
        cursors = dict(conn.execute("SELECT hall, seq FROM d_cursor WHERE seq > 0").fetchall())
        assert cursors == committed_batches(counts, 4, 2), cursors   # the third batch rolled back, cursor and all
        assert catch_up(conn) > 0                                # the restarted projector goes on from its cursor
    resumed = _snapshot(copy)
    with psycopg.connect(copy, autocommit=True) as conn:
        rebuild(conn)
    assert _snapshot(copy) == resumed
    assert resumed == _snapshot(url)                               # and what the service's projector made


def test_a_wrong_password_is_one_log_line_and_a_health_warning(pg, caplog):
    pg.create_role("district_user", "right-password")
    bad = pg.tcp_url("district_user", "wrong-secret-pw", "postgres")
    caplog.set_level(logging.INFO, logger="hall_server.district")
    with TestClient(create_district_app(bad, interval_s=0.05)) as d:
        app = d.app.state.district
        wait_for(lambda: app.projector.status()["error"], what="the projector's error")
        health = d.get("/api/v1/health")
        assert health.status_code == 200
        h = health.json()
        assert not h["ok"] and not h["database"]["ok"] and "password" in h["database"]["error"]
        assert "区级数据库" in h["warning_zh"] and "password" in h["warning_en"]
        assert "wrong-secret-pw" not in health.text and "***" in h["database"]["url"]
        assert_error(d.get("/api/v1/district/halls"), 503, "district_database_unavailable")
        wait_for(lambda: app.projector.status()["failures"] >= 2 and app.hub.failures >= 2, what="retries")
        assert d.get("/district").status_code == 200                       # the board still answers
    lines = [r for r in caplog.records if r.name.startswith("hall_server.district") and r.levelno >= logging.WARNING]
    assert len(lines) == 1, [r.getMessage() for r in lines]          # start-up, projector and hub: one line
    assert "password authentication failed" in lines[0].getMessage() and "--db" in lines[0].getMessage()
    assert "wrong-secret-pw" not in caplog.text


def test_the_cli_refuses_a_url_that_is_not_postgresqls_and_rebuilds_a_real_one(district, capsys):
    url = district[0]
    assert onewindow(["district", "serve", "--db", "mysql://u:secret@host/db"]) == 2
    err = capsys.readouterr().err
    assert "postgresql://" in err and "PostgreSQL" in err and "secret" not in err
    assert onewindow(["district", "rebuild", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "3 halls" in out and "events" in out
