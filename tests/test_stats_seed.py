"""The seeded year (hall_server/stats/seed/) writes what the engine writes: a few tickets, cases, ratings, a 差评
loop and a complaint driven through the REAL hall (API, fake clock) give the event types and data-key sets of the
engine; every type and key set the seeder writes must be one of them (or, for the few the API cannot drive here —
seat presence and away alerts from the camera worker, a 联办 task decision, a rejected 申诉 — the shape written
out below from the code that emits it), and every type the statistics read that the engine wrote must be seeded.
Then a small seed loads, and S1's `stats rebuild` replays it into the same counts as its rows."""
from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime

import pytest
from api_helpers import clerk_at, issue
from test_evaluations_api import evaluator

from hall_server.cases.deadlines import refresh
from hall_server.feedback import prompts
from hall_server.runtime import Hall
from hall_server.stats import seed as seeder
from hall_server.store.database import Change

STATS_PREFIXES = ("ticket.", "window.", "case.", "evaluation.", "badrating.", "complaint.", "day.", "alert.",
                  "seat.", "handout.")
# shapes the API cannot drive in this test, as the code writes them (file: what emits it)
WRITTEN_OUT = {
    # seats/monitor.py _presence, _raise (no evidence snapshot), _clear
    ("seat.presence", None): {frozenset({"window", "state", "previous", "clerk"})},
    ("alert.raised", "away"): {frozenset({"kind", "device", "window", "clerk", "away_since", "detail"})},
    ("alert.cleared", "away"): {frozenset({"kind", "window", "clerk", "reason", "away_s", "detail"})},
    # cases/review.py decide() of a 联办 case: one per department
    ("case.task_decided", None): {frozenset({"case", "number", "matter", "kind", "status", "department", "outcome"})},
    # lockers/compartments.py loaded() and lockers/pickups.py collected(): a result by locker
    ("case.ready", None): {frozenset({"case", "number", "matter", "kind", "status", "via", "compartment"})},
    # cases/handout.py deliver() by mail (no collector: no proxy), and pickups.py collected()
    ("case.delivered", None): {
        frozenset({"case", "number", "matter", "kind", "status", "via"}),
        frozenset({"case", "number", "matter", "kind", "status", "via", "proxy", "compartment"})},
    # … and the case decided when the last department has: no single department
    ("case.decided", None): {frozenset({"case", "number", "matter", "kind", "status", "outcome", "on_time"})},
    # feedback/badratings.py appeal_decision() not upheld
    ("badrating.appeal_rejected", None): {frozenset({"badrating", "number", "window", "clerk", "matter", "by", "state",
                                                     "appeal"})},
}
# what the engine writes that the seeded year leaves out (said in seed.py's docstring)
NOT_SEEDED = {"ticket.requeued", "window.logout", "case.released", "case.reassigned", "case.suspended",
              "case.resumed", "case.extended", "case.withdrawn", "badrating.recheck_failed",
              "badrating.callback_attempted", "badrating.deadline", "complaint.deadline", "alert.cleared"}


def shapes(conn: sqlite3.Connection) -> dict[tuple[str, str | None], set[frozenset]]:
    out: dict[tuple[str, str | None], set[frozenset]] = {}
    for type_, data in conn.execute("SELECT type, data FROM events"):
        d = json.loads(data)
        kind = d.get("kind") if type_.startswith("alert.") else None
        out.setdefault((type_, kind), set()).add(frozenset(d))
    return out


def _post(c, path, headers, body=None, status=200):
    r = c.post(path, json=body or {}, headers=headers)
    assert r.status_code == status, (path, r.status_code, r.text)
    return r.json()


def _user(c, username, role, **extra):
    _post(c, "/api/v1/users", c.admin, {"username": username, "password": f"{username}-password", "role": role,
                                        **extra}, status=201)
    return c.headers_for(username, f"{username}-password")


@pytest.fixture
def engine_shapes(client):
    """A morning of the real hall: every kind of ticket, case, rating and complaint event the seeder writes."""
    c, clock = client, client.hall.clock
    clerk1, clerk6, clerk7 = clerk_at(c, 1), clerk_at(c, 6), clerk_at(c, 7)
    sup = c.make_user("sup", "supervisor")
    health = _user(c, "officer", "department", departments=["区卫健局"])
    civil = _user(c, "civil", "department", departments=["区民政局"])
    market = _user(c, "market", "department", departments=["区市场监管局"])
    eval1 = evaluator(c, 1)

    def w(n, action, h, body=None):
        clock.advance(seconds=20)
        return _post(c, f"/api/v1/windows/{n}/{action}", h, body)

    def case(cid, action, h, body=None):
        clock.advance(seconds=30)
        return _post(c, f"/api/v1/cases/{cid}/{action}", h, body)

    # a ticket taken in with a 即办 case that needs 补正, decided and handed over on the spot; a bad rating
    t = issue(c, "WJ-001")
    w(1, "call-next", clerk1)
    w(1, "start", clerk1)
    got = _post(c, "/api/v1/cases", clerk1, {"matter": "WJ-001", "ticket": t["id"],
                                             "applicant": {"name": "刘晓梅", "phone": "13700001111"},
                                             "materials": [{"name": "夫妻双方居民身份证", "state": "original"},
                                                           {"name": "结婚证", "state": "original"}]}, status=201)
    case(got["id"], "request-supplement", clerk1, {"missing": ["户口簿"]})
    case(got["id"], "materials", clerk1, {"materials": [{"name": "户口簿", "state": "original"}]})
    case(got["id"], "decide", clerk1, {"outcome": "approved"})
    case(got["id"], "ready", clerk1, {"via": "window"})
    case(got["id"], "deliver", clerk1, {"collector": {"name": "刘晓梅"}})
    w(1, "finish", clerk1)                              # supersedes the case's prompt at window 1
    clock.advance(seconds=5)
    bad = _post(c, "/api/v1/evaluations", eval1, {"ticket": t["id"], "level": 1, "reasons": ["态度"]}, status=201)
    rid = bad["badrating"]
    for step, h, body in (("verify", sup, {"finding": "属实"}), ("rectify", clerk1, {"measures": "培训"}),
                          ("callback", sup, {"result": "已回访", "satisfied": True}),
                          ("recheck", sup, {"note": "到位"})):
        clock.advance(hours=1)
        _post(c, f"/api/v1/badratings/{rid}/{step}", h, body)
    # a second one appealed and upheld; a third prompt times out (not rated)
    t2 = issue(c, "WJ-001")
    w(1, "call-next", clerk1)
    w(1, "finish", clerk1)
    b2 = _post(c, "/api/v1/evaluations", eval1, {"ticket": t2["id"], "level": 2, "reasons": ["效率"]}, status=201)
    _post(c, f"/api/v1/badratings/{b2['badrating']}/appeal", clerk1, {"reason": "误按"})
    _post(c, f"/api/v1/badratings/{b2['badrating']}/appeal-decision", sup, {"upheld": True, "note": "成立"})
    issue(c, "WJ-001")
    w(1, "call-next", clerk1)
    w(1, "finish", clerk1)
    clock.advance(seconds=120)

    def expire(conn):
        evs: list[dict] = []
        prompts.expire(conn, c.hall.feedback.ctx, evs)
        return Change(None, evs)
    c.hall.store.write_sync(expire)
    # a no-show after a recall; a transfer; a cancel; a pause
    issue(c, "WJ-001")
    w(1, "call-next", clerk1)
    w(1, "recall", clerk1)
    w(1, "skip", clerk1)
    issue(c, "WJ-001")
    w(1, "call-next", clerk1)
    w(1, "start", clerk1)
    w(1, "transfer", clerk1, {"to_matter": "SH-001", "reason": "非本窗口事项"})
    gone = issue(c, "RS-001")
    _post(c, f"/api/v1/tickets/{gone['id']}/cancel", sup, {"reason": "群众离开"})
    w(1, "pause", clerk1, {"reason": "午休"})
    w(1, "resume", clerk1)

    def new_case(matter, h):
        items = [{"name": m, "state": "original"} for m in c.hall.cfg.matter(matter).materials]
        return _post(c, "/api/v1/cases", h, {"matter": matter, "applicant": {"name": "张三"}, "materials": items},
                     status=201)
    # a 上报 case through the back office, its result made ready for the 出件 window
    sh = new_case("SH-001", clerk1)
    case(sh["id"], "accept", clerk1)
    case(sh["id"], "claim", civil)
    case(sh["id"], "report", civil, {"opinion": "符合条件"})
    case(sh["id"], "decide", civil, {"outcome": "approved"})
    case(sh["id"], "ready", clerk6, {"via": "window"})
    # a case refused; one due in three working days (amber three days on); one due the next working day, decided
    # three days on: the deadline watch turns it red first
    no = _post(c, "/api/v1/cases", clerk1, {"matter": "SH-003", "applicant": {"name": "李四"}, "materials": []},
               status=201)
    case(no["id"], "refuse", clerk1, {"reason": "不属于本机关职权范围"})
    ga = new_case("GA-004", clerk1)
    case(ga["id"], "accept", clerk1)
    qy = new_case("QY-004", clerk1)
    case(qy["id"], "accept", clerk1)
    case(qy["id"], "claim", market)
    clock.advance(days=3)
    ctx = c.hall.cases.watch._ctx
    c.hall.store.write_sync(lambda conn: refresh(conn, ctx))
    market = c.headers_for("market", "market-password")
    case(qy["id"], "decide", market, {"outcome": "approved"})
    # the next days: everyone signs in again (the rollover closed the windows)
    heads = {u: c.headers_for(u, f"{u}-password") for u in ("clerk1", "clerk6", "clerk7", "sup", "officer")}
    clerk1, clerk6, clerk7, sup, health = (heads[u] for u in ("clerk1", "clerk6", "clerk7", "sup", "officer"))
    for n, h in ((1, clerk1), (6, clerk6), (7, clerk7)):
        _post(c, f"/api/v1/windows/{n}/login", h)
        _post(c, f"/api/v1/windows/{n}/open", h)
    ht = _post(c, "/api/v1/handout-tickets", clerk6, {"number": sh["number"]}, status=201)
    w(6, "call-next", clerk6)
    case(sh["id"], "deliver", clerk6, {"collector": {"name": "张三"}})
    w(6, "finish", clerk6)
    assert ht["priority"] == "handout"
    # a complaint walked to the end, one closed as out of scope
    cp = _post(c, "/api/v1/complaints", clerk7, {"text": "跑了三次", "matter": "WJ-001", "window": 1}, status=201)
    for step, h, body in (("classify", sup, {"class": "complex"}), ("assign", sup, {"department": "区卫健局"}),
                          ("answer", health, {"text": "已办结"}), ("feedback", clerk7, {"text": "已告知"}),
                          ("check", sup, {}), ("file", sup, {})):
        clock.advance(hours=2)
        _post(c, f"/api/v1/complaints/{cp['id']}/{step}", h, body)
    cp2 = _post(c, "/api/v1/complaints", clerk7, {"text": "诉讼中", "matter": "WJ-001"}, status=201)
    _post(c, f"/api/v1/complaints/{cp2['id']}/close", sup, {"reason": "petition"})
    w(1, "close", clerk1)
    return shapes(c.hall.store.read)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A month of the district centre at 3 % of the year's rate (some 2,500 tickets)."""
    d = tmp_path_factory.mktemp("seeded")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(seeder.Seeder, "APPEALS", .5)       # half the 差评 appealed, half the complaints out of scope:
        mp.setattr(seeder.Seeder, "OUT_OF_SCOPE", .5)  # the rare steps appear in a small month too
        out = seeder.seed(d / "hall.db", scale=0.03, seed=7, end=date(2026, 11, 30), days=30)
    return d, out


def test_every_event_the_seeder_writes_is_one_the_engine_writes(engine_shapes, seeded):
    d, _ = seeded
    with sqlite3.connect(d / "hall.db") as conn:
        seeded_shapes = shapes(conn)
    known = {**engine_shapes}
    for k, v in WRITTEN_OUT.items():
        known.setdefault(k, set()).update(v)
    wrong = [f"{key}: seeded keys {sorted(ks)} are none of the engine's {[sorted(k) for k in known.get(key, ())]}"
             for key, keysets in seeded_shapes.items() for ks in keysets if ks not in known.get(key, ())]
    assert not wrong, "\n".join(wrong)
    stats_types = {t for t, _k in engine_shapes if t.startswith(STATS_PREFIXES)}
    missing = stats_types - {t for t, _k in seeded_shapes} - NOT_SEEDED
    assert not missing, f"the engine writes {sorted(missing)}, the seeded year never does"


def test_the_seed_is_deterministic_and_its_rows_agree_with_its_events(seeded, tmp_path):
    d, _ = seeded
    one, two = (seeder.seed(tmp_path / f"{n}.db", scale=0.03, seed=3, end=date(2026, 6, 30), days=7) for n in (1, 2))
    assert {k: v for k, v in one.items() if k != "seconds"} == {k: v for k, v in two.items() if k != "seconds"}
    dumps = []
    for n in (1, 2):
        with sqlite3.connect(tmp_path / f"{n}.db") as conn:
            dumps.append([tuple(r) for r in conn.execute("SELECT seq, type, at, actor, data FROM events ORDER BY seq")]
                         + [tuple(r) for r in conn.execute("SELECT * FROM cases ORDER BY id")])
    assert dumps[0] == dumps[1]
    with sqlite3.connect(d / "hall.db") as conn:
        one = conn.execute("SELECT COUNT(*), SUM(status='done') FROM tickets").fetchone()
        issued = conn.execute("SELECT COUNT(*) FROM events WHERE type='ticket.issued'").fetchone()[0]
        finished = conn.execute("SELECT COUNT(*) FROM events WHERE type='ticket.finished'").fetchone()[0]
        assert one == (issued, finished) and issued > 100
        cases = conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
        assert cases == conn.execute("SELECT COUNT(*) FROM events WHERE type='case.received'").fetchone()[0] > 0
        assert conn.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0] == conn.execute(
            "SELECT COUNT(*) FROM events WHERE type='evaluation.recorded'").fetchone()[0]
        # each case's row is where its events left it; no ticket of a past day is still open
        last = {}
        for cid, data in conn.execute("SELECT case_id, data FROM events WHERE type LIKE 'case.%'"
                                      " AND type != 'case.deadline' ORDER BY seq"):
            last[cid] = json.loads(data)["status"]
        assert last == dict(conn.execute("SELECT id, status FROM cases"))
        assert conn.execute("SELECT COUNT(*) FROM tickets WHERE status IN ('waiting','called','serving')"
                            " AND service_day < (SELECT MAX(service_day) FROM tickets)").fetchone()[0] == 0
        # time order: the log is written as the engine would have committed it
        ats = [datetime.fromisoformat(a) for (a,) in conn.execute("SELECT at FROM events ORDER BY seq")]
        assert ats == sorted(ats)
        # no full ID number anywhere: masked and hashed only
        assert conn.execute("SELECT COUNT(*) FROM cases WHERE applicant_id_masked NOT LIKE '4202**********%'"
                            ).fetchone()[0] == 0


def test_stats_rebuild_replays_the_seeded_month(seeded, district_cfg):
    d, out = seeded
    hall = Hall(district_cfg, d)
    try:
        events, _s = hall.stats.rebuild()
        conn = hall.store.read
        stats = hall.stats.reader()         # the statistics' own database, the hall's tables attached
        assert events == conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] >= out["events"]
        assert stats.execute("SELECT COUNT(*) FROM stats_ticket").fetchone()[0] == out["tickets"]
        rep = hall.stats.reports.report(stats, date(2026, 11, 1), date(2026, 11, 30), "window", {})
        stats.close()
        assert rep["totals"]["issued"] == conn.execute(
            "SELECT COUNT(*) FROM tickets WHERE service_day BETWEEN '2026-11-01' AND '2026-11-30'").fetchone()[0]
        assert rep["totals"]["served"] == conn.execute(
            "SELECT COUNT(*) FROM tickets WHERE status='done' AND service_day >= '2026-11-01'").fetchone()[0]
        assert rep["totals"]["rated"] > 0 and rep["totals"]["cases_accepted"] > 0
        assert rep["totals"]["wait_p50_s"] is not None and rep["totals"]["handle_mean_s"] is not None
    finally:
        hall.close()

