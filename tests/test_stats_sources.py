"""The figures beyond tickets, each through its own real API or engine (issue 18, item 2): cases (accepted,
refused, 补正 rate, 即办 share, decided on time, working days, 出件 by window and mail, uncollected), 好差评 (rated,
好评率, 差评, 整改 on time, an upheld 申诉 taken out), 办不成事 complaints (by class, answered on time), and the seat
monitor's on-seat share and away alerts per clerk. Each read back from GET /api/v1/stats."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from api_helpers import clerk_at
from test_cases_api import act, officer, take_in
from test_evaluations_api import evaluator, finish_one
from test_stats_api import caught_up

from hall_server.seats.rules import Raise

DAY = "2026-11-24"
CHECKLIST_WJ = ["夫妻双方居民身份证", "结婚证", "户口簿"]        # WJ-001, 即办 (区卫健局)


def stats(c, headers, **params) -> dict:
    caught_up(c)
    r = c.get("/api/v1/stats", params={"from": DAY, "to": DAY, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def same_from_facts(c, day: str = DAY) -> None:
    """Every by's report from the rollups and delta sums equals the same report read from the facts alone."""
    from datetime import date

    caught_up(c)
    reports, d = c.hall.stats.reports, date.fromisoformat(day)
    for by in ("window", "clerk", "matter", "group", "department", "channel", "day", "week", "month", "hour"):
        rolled = c.hall.stats._read(reports.report, d, d, by, {})
        reports.facts_only = True
        try:
            assert c.hall.stats._read(reports.report, d, d, by, {}) == rolled, by
        finally:
            reports.facts_only = False


def row(body: dict, key: str) -> dict:
    return next(r for r in body["rows"] if r["key"] == key)


@pytest.fixture
def c(client):
    client.hall.stats.projector.delay_s = 0.01
    client.sup = client.make_user("sup", "supervisor")
    return client


def test_case_figures(c):
    clerk = clerk_at(c, 3)
    mz = officer(c, "mz1", "区民政局")
    # a 承诺件 accepted, claimed and decided the same day (on time, 0 working days), then ready by mail
    promised = act(c, clerk, take_in(c, clerk)["id"], "accept")
    act(c, mz, promised["id"], "claim")
    act(c, mz, promised["id"], "decide", {"outcome": "approved", "opinion": "符合条件"})
    act(c, clerk, promised["id"], "ready", {"via": "mail", "address": "某区某路1号"})
    act(c, clerk, promised["id"], "deliver", {"waybill": "SF123"})
    # a 即办件 decided at the window on the spot, handed out there
    instant = act(c, clerk, take_in(c, clerk, "WJ-001", CHECKLIST_WJ)["id"], "accept")
    act(c, clerk, instant["id"], "decide", {"outcome": "approved"})
    act(c, clerk, instant["id"], "ready", {"via": "window"})
    act(c, clerk, instant["id"], "deliver", {"collector": {"name": "张三", "id_number": "11010519491231002X"}})
    # one asked for its missing materials (补正), one refused, one decided and left uncollected
    act(c, clerk, take_in(c, clerk, materials=["居民身份证原件"])["id"], "request-supplement",
        {"missing": ["临时救助申请书"], "note": "请补齐"})
    act(c, clerk, take_in(c, clerk)["id"], "refuse", {"reason": "不属于本机关职权范围"})
    waiting = act(c, clerk, take_in(c, clerk, "WJ-001", CHECKLIST_WJ)["id"], "accept")
    act(c, clerk, waiting["id"], "decide", {"outcome": "approved"})
    act(c, clerk, waiting["id"], "ready", {"via": "window"})
    w3 = row(stats(c, c.sup, by="window"), "3")
    assert (w3["cases_accepted"], w3["cases_refused"], w3["cases_decided"], w3["cases_decided_on_time"]) == \
        (3, 1, 3, 3)
    assert w3["cases_supplement_rate"] == 0.2 and w3["cases_immediate_share"] == 1.0
    assert w3["on_time_rate"] == 1.0 and w3["decide_mean_workdays"] == 0 and w3["cases_overdue"] == 0
    assert (w3["handed_window"], w3["handed_mail"], w3["handed_locker"], w3["uncollected"]) == (1, 1, 0, 1)
    by_dept = stats(c, c.sup, by="department")
    assert row(by_dept, "区民政局")["cases_accepted"] == 1 and row(by_dept, "区卫健局")["cases_accepted"] == 2
    assert stats(c, c.sup, by="clerk", matter="WJ-001")["totals"]["cases_decided"] == 2
    # overdue: a running case past its due day turns red through the deadline watch
    late = act(c, clerk, take_in(c, clerk)["id"], "accept")
    c.hall.clock.advance(days=30)
    _recolour(c)
    sup = c.headers_for("sup", "sup-password")             # a day's token has expired meanwhile
    w3 = row(stats(c, sup, by="window"), "3")
    assert (w3["cases_overdue"], w3["cases_accepted"]) == (1, 4) and late["status"] == "accepted"
    same_from_facts(c)


def _recolour(c) -> None:
    """Run the deadline watch's refresh once, through the hall's writer (as its minute tick does)."""
    from hall_server.cases.deadlines import refresh

    c.hall.store.submit(lambda conn: refresh(conn, c.hall.cases.ctx)).result()


def test_rating_figures_and_an_upheld_appeal_taken_out(c):
    clerk1 = clerk_at(c, 1)
    ev1 = evaluator(c, 1)
    for level in (5, 4, 1):
        t = finish_one(c, 1, clerk1)
        r = c.post("/api/v1/evaluations", json={"ticket": t["id"], "level": level, "reasons": ["态度"]},
                   headers=ev1)
        assert r.status_code == 201, r.text
    rid = r.json()["badrating"]
    w1 = row(stats(c, c.sup, by="window"), "1")
    assert (w1["rated"], w1["good_rate"], w1["bad_count"], w1["rectified_on_time"]) == (3, 0.6667, 1, 0)
    r = c.post(f"/api/v1/badratings/{rid}/verify", json={"finding": "属实"}, headers=c.sup)
    assert r.status_code == 200, r.text
    r = c.post(f"/api/v1/badratings/{rid}/rectify", json={"measures": "改进服务用语"}, headers=clerk1)
    assert r.status_code == 200, r.text
    assert row(stats(c, c.sup, by="clerk"), "clerk1")["rectified_on_time"] == 1
    # another bad one, appealed and upheld: out of the figures
    t = finish_one(c, 1, clerk1)
    r = c.post("/api/v1/evaluations", json={"ticket": t["id"], "level": 2, "reasons": ["态度"]}, headers=ev1)
    rid = r.json()["badrating"]
    r = c.post(f"/api/v1/badratings/{rid}/appeal", json={"reason": "评价器误按"}, headers=clerk1)
    assert r.status_code == 200, r.text
    r = c.post(f"/api/v1/badratings/{rid}/appeal-decision", json={"upheld": True, "note": "录像核实误按"},
               headers=c.sup)
    assert r.status_code == 200, r.text
    w1 = row(stats(c, c.sup, by="window"), "1")
    assert (w1["rated"], w1["bad_count"]) == (3, 1)
    same_from_facts(c)


def test_complaint_figures_by_class_and_on_time(c):
    clerk7 = clerk_at(c, 7)
    r = c.post("/api/v1/users", json={"username": "ws", "password": "ws-password", "role": "department",
                                      "departments": ["区卫健局"]}, headers=c.admin)
    assert r.status_code == 201, r.text
    ws = c.headers_for("ws", "ws-password")
    ids = []
    for cls in ("simple", "complex"):
        r = c.post("/api/v1/complaints", json={"text": "生育登记跑了三次还没办成", "matter": "WJ-001", "window": 1},
                   headers=clerk7)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
        assert c.post(f"/api/v1/complaints/{ids[-1]}/classify", json={"class": cls}, headers=c.sup).status_code == 200
    assert c.post(f"/api/v1/complaints/{ids[0]}/assign", json={"department": "区卫健局"},
                  headers=c.sup).status_code == 200
    r = c.post(f"/api/v1/complaints/{ids[0]}/answer", json={"text": "已协调办结"}, headers=ws)
    assert r.status_code == 200, r.text
    body = stats(c, c.sup, by="window")
    w1 = row(body, "1")
    assert (w1["complaints"], w1["complaints_on_time"]) == (2, 1)
    assert w1["complaints_by_class"] == {"simple": 1, "complex": 1, "special": 0}
    assert stats(c, c.sup, by="department")["totals"]["complaints"] == 2
    same_from_facts(c)


def test_seat_figures_from_the_seat_monitor(tmp_path, district_cfg, clock):
    """The seat monitor's own on-seat time (seat_time) and its away alerts, through its rules and writes."""
    from hall_server.runtime import Hall

    hall = Hall(district_cfg.model_copy(update={"devices": ()}), tmp_path, clock)
    hall.stats.projector.delay_s = 0.01

    async def run() -> dict:
        hall.loop = asyncio.get_running_loop()
        hall.store.start()
        mon, t0 = hall.seats, clock.now()
        mon.rules.window(1, "open", "ca", t0)
        mon.rules.presence(1, "present", t0)
        mon.rules.presence(1, "away", t0 + timedelta(seconds=600))
        mon.rules.presence(1, "present", t0 + timedelta(seconds=900))
        await mon._flush(t0 + timedelta(seconds=1200))
        await mon._raise(Raise(1, "ca", t0 + timedelta(seconds=600), t0 + timedelta(seconds=900)))
        await hall.stats.projector.catch_up()
        stats = hall.stats.reader()
        try:
            return hall.stats.reports.report(stats, clock.now().date(), clock.now().date(), "clerk", {})
        finally:
            stats.close()
    try:
        body = asyncio.run(run())
    finally:
        hall.close()
    ca = row(body, "ca")
    assert ca["on_seat_share"] == 0.75 and ca["away_events"] == 1
    assert row(body, "ca")["issued"] == 0
