"""好差评 through the API (issue 17, item 1; design.md "Evaluations and complaints"): a ticket finished (or a case
handed out) at a window opens a prompt for that window's evaluator, with the window and clerk the store had at
that moment; the evaluator account bound to the window rates it once; a prompt not answered in time is "not
rated"; the receipt's status page rates once within N days; the key box answers through `submit`."""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from api_helpers import HEALTH_MATTER, assert_error, clerk_at, issue

from hall_server.accounts import bootstrap

CHECKLIST = ["夫妻双方居民身份证", "结婚证", "户口簿"]      # WJ-001 生育登记, 即办


def evaluator(client, window: int, username: str | None = None) -> dict:
    username = username or f"eval{window}"
    r = client.post("/api/v1/users", json={"username": username, "password": f"{username}-password",
                                           "role": "evaluator", "window": window}, headers=client.admin)
    assert r.status_code == 201, r.text
    assert r.json() == {"username": username, "role": "evaluator", "window": window}
    return client.headers_for(username, f"{username}-password")


def finish_one(client, window: int, clerk: dict, matter: str = HEALTH_MATTER) -> dict:
    t = issue(client, matter)
    client.hall.clock.advance(seconds=3)            # past the call debounce of the one before
    r = client.post(f"/api/v1/windows/{window}/call-next", headers=clerk)
    assert r.status_code == 200 and r.json()["id"] == t["id"], r.text
    r = client.post(f"/api/v1/windows/{window}/finish", headers=clerk)
    assert r.status_code == 200, r.text
    return t


def events(client, since: int = 0, prefix: str = "evaluation.") -> list[dict]:
    r = client.get("/api/v1/events", params={"since": since, "limit": 5000})
    return [e for e in r.json()["events"] if e["type"].startswith(prefix)]


def rate(client, headers, status=201, **body):
    r = client.post("/api/v1/evaluations", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


@pytest.fixture
def w1(client):
    """Window 1 with clerk1 logged in and its evaluator account."""
    client.clerk1 = clerk_at(client, 1)
    client.eval1 = evaluator(client, 1)
    return client


# -- accounts ------------------------------------------------------------------------------------------------
def test_an_evaluator_account_is_bound_to_a_window_of_the_hall(client):
    def create(**body):
        return client.post("/api/v1/users", json={"username": "e", "password": "e-password-1", **body},
                           headers=client.admin)
    assert_error(create(role="evaluator"), 422, "window_required")
    assert_error(create(role="clerk", window=1), 422, "window_not_allowed")
    assert_error(create(role="evaluator", window=99), 422, "unknown_window")
    h = evaluator(client, 4)
    me = client.get("/api/v1/auth/me", headers=h).json()
    assert (me["role"], me["window"]) == ("evaluator", 4)
    users = {u["username"]: u for u in client.get("/api/v1/users", headers=client.admin).json()}
    assert users["eval4"]["window"] == 4
    # an evaluator does nothing but rate: no window action, no ticket
    assert_error(client.post("/api/v1/windows/4/call-next", headers=h), 403, "role_forbidden")
    assert_error(client.post("/api/v1/tickets", json={"matter": HEALTH_MATTER}, headers=h), 403, "role_forbidden")


def test_development_mode_makes_one_evaluator_per_window(hall, tmp_path):
    creds = hall.ensure_dev_users("admin-pw")
    numbers = [w.number for w in hall.cfg.windows]
    evals = {u: c for u, c in creds.items() if c["role"] == "evaluator"}
    assert evals.keys() == {f"eval{n}" for n in numbers}
    assert all(evals[f"eval{n}"]["window"] == n and evals[f"eval{n}"]["password"] for n in numbers)
    saved = json.loads((tmp_path / "dev-credentials.json").read_text())
    assert saved["eval1"] == evals["eval1"]
    row = hall.store.read.execute("SELECT role, window FROM users WHERE username='eval2'").fetchone()
    assert tuple(row) == ("evaluator", 2)
    assert bootstrap.ensure_dev_users(hall.store, hall.auth, hall.clock, tmp_path)["eval1"] == evals["eval1"]


# -- the prompt and the rating at the window ----------------------------------------------------------------
def test_a_finished_ticket_prompts_its_window_and_the_evaluator_rates_it_once(w1):
    c = w1
    since = c.get("/api/v1/events", params={"since": 0, "limit": 1}).json()["latest_seq"]
    t = finish_one(c, 1, c.clerk1)
    prompted = events(c, since)
    assert [e["type"] for e in prompted] == ["evaluation.prompted"]
    d = prompted[0]["data"]
    assert (d["ticket"], d["window"], d["clerk"], d["number"], d["timeout_s"]) == (
        t["id"], 1, "clerk1", t["number"], 60)
    pending = c.get("/api/v1/evaluations/pending", headers=c.eval1).json()
    assert pending["window"] == 1 and [lv["level"] for lv in pending["levels"]] == [5, 4, 3, 2, 1]
    assert pending["levels"][0]["name"] == "非常满意"
    assert pending["reasons"] == ["态度", "效率", "材料要求不清", "多次跑", "其他"]
    p = pending["pending"]
    assert (p["ticket"], p["number"], p["matter"], p["matter_name"], p["clerk"]) == (
        t["id"], t["number"], HEALTH_MATTER, c.hall.cfg.matter(HEALTH_MATTER).name, "clerk1")
    assert p["seconds_left"] == 60

    e = rate(c, c.eval1, ticket=t["id"], level=5)
    assert {"id", "level", "window", "clerk"} <= e.keys()
    assert (e["level"], e["window"], e["clerk"], e["ticket"], e["channel"], e["good"], e["badrating"]) == (
        5, 1, "clerk1", t["id"], "tablet", True, None)
    assert c.get("/api/v1/evaluations/pending", headers=c.eval1).json()["pending"] is None
    assert [x["type"] for x in events(c, since)] == ["evaluation.prompted", "evaluation.recorded"]
    assert_error(c.post("/api/v1/evaluations", json={"ticket": t["id"], "level": 1}, headers=c.eval1), 409,
                 "already_rated")
    assert c.hall.store.read.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0] == 1


def test_the_clerk_rated_is_the_one_logged_in_when_it_was_finished_never_one_typed(w1):
    c = w1
    t = finish_one(c, 1, c.clerk1)
    # the body has no clerk or window to give: an unknown field is refused
    assert_error(c.post("/api/v1/evaluations", json={"ticket": t["id"], "level": 5, "clerk": "clerk9"},
                        headers=c.eval1), 422, "invalid_request")
    # clerk1 logs out and clerk9 logs in at window 1 before the citizen rates: still clerk1's handling
    assert c.post("/api/v1/windows/1/logout", headers=c.clerk1).status_code == 200
    clerk_at(c, 1, "clerk9", open_window=False)
    assert rate(c, c.eval1, ticket=t["id"], level=4)["clerk"] == "clerk1"


def test_a_ticket_not_finished_at_the_evaluators_window_is_409(w1):
    c = w1
    eval2 = evaluator(c, 2)
    t = finish_one(c, 1, c.clerk1)
    err = assert_error(c.post("/api/v1/evaluations", json={"ticket": t["id"], "level": 5}, headers=eval2), 409,
                       "not_finished_here")
    assert err["finished_at_window"] == 1
    # called but not finished yet
    t2 = issue(c)
    c.hall.clock.advance(seconds=3)
    assert c.post("/api/v1/windows/1/call-next", headers=c.clerk1).json()["id"] == t2["id"]
    assert_error(c.post("/api/v1/evaluations", json={"ticket": t2["id"], "level": 5}, headers=c.eval1), 409,
                 "not_finished_here")
    assert_error(c.post("/api/v1/evaluations", json={"ticket": 10**6, "level": 5}, headers=c.eval1), 404,
                 "ticket_not_found")


@pytest.mark.parametrize("role", ["clerk", "supervisor", "admin", "department", "kiosk", "technician"])
def test_a_staff_token_cannot_rate(w1, role):
    c = w1
    t = finish_one(c, 1, c.clerk1)
    if role == "admin":
        h = c.admin
    elif role == "clerk":
        h = c.clerk1
    elif role == "department":
        r = c.post("/api/v1/users", json={"username": "off", "password": "off-password", "role": "department",
                                          "departments": ["区卫健局"]}, headers=c.admin)
        assert r.status_code == 201, r.text
        h = c.headers_for("off", "off-password")
    else:
        h = c.make_user(f"{role}1", role)
    assert_error(c.post("/api/v1/evaluations", json={"ticket": t["id"], "level": 5}, headers=h), 403,
                 "staff_cannot_rate")
    assert_error(c.post("/api/v1/evaluations", json={"ticket": t["id"], "level": 5}), 401)
    assert c.hall.store.read.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0] == 0


def test_bad_bodies_are_422_and_change_nothing(w1):
    c = w1
    t = finish_one(c, 1, c.clerk1)
    for body in ({"ticket": t["id"], "level": 0}, {"ticket": t["id"], "level": 6}, {"ticket": t["id"], "level": "x"},
                 {"ticket": t["id"]}, {"level": 3}, {"ticket": t["id"], "case": 1, "level": 3}):
        assert_error(c.post("/api/v1/evaluations", json=body, headers=c.eval1), 422)
    err = assert_error(c.post("/api/v1/evaluations", json={"ticket": t["id"], "level": 2, "reasons": ["太慢"]},
                              headers=c.eval1), 422, "unknown_reason")
    assert err["allowed"] == list(c.hall.cfg.feedback.reasons)
    assert c.get("/api/v1/evaluations/pending", headers=c.eval1).json()["pending"]["ticket"] == t["id"]
    e = rate(c, c.eval1, ticket=t["id"], level=2, reasons=["效率", "多次跑", "效率"])
    assert e["reasons"] == ["效率", "多次跑"] and e["bad"] and e["badrating"]


def test_a_prompt_not_answered_in_time_is_not_rated_never_a_level(w1):
    c = w1
    t = finish_one(c, 1, c.clerk1)
    c.hall.clock.advance(seconds=59)
    assert c.portal.call(c.hall.feedback.run_once, False) == 0
    assert c.get("/api/v1/evaluations/pending", headers=c.eval1).json()["pending"] is not None
    c.hall.clock.advance(seconds=2)
    # past its time the tablet no longer offers it, even before the watch has run
    assert c.get("/api/v1/evaluations/pending", headers=c.eval1).json()["pending"] is None
    assert_error(c.post("/api/v1/evaluations", json={"ticket": t["id"], "level": 5}, headers=c.eval1), 409,
                 "rating_closed")
    assert c.portal.call(c.hall.feedback.run_once, False) == 1
    not_rated = events(c)[-1]
    assert not_rated["type"] == "evaluation.not_rated" and not_rated["data"]["why"] == "timeout"
    assert c.hall.store.read.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0] == 0
    s = c.get("/api/v1/feedback/summary", headers=c.make_user("sup", "supervisor")).json()
    assert (s["totals"]["rated"], s["totals"]["not_rated"], s["totals"]["good_rate"]) == (0, 1, None)
    assert_error(c.post("/api/v1/evaluations", json={"ticket": t["id"], "level": 5}, headers=c.eval1), 409,
                 "rating_closed")


def test_the_next_handling_at_the_window_ends_the_one_before_as_not_rated(w1):
    c = w1
    t1 = finish_one(c, 1, c.clerk1)
    t2 = finish_one(c, 1, c.clerk1)
    kinds = [(e["type"], e["data"]["ticket"], e["data"].get("why")) for e in events(c)]
    assert kinds == [("evaluation.prompted", t1["id"], None), ("evaluation.not_rated", t1["id"], "superseded"),
                     ("evaluation.prompted", t2["id"], None)]
    assert c.get("/api/v1/evaluations/pending", headers=c.eval1).json()["pending"]["ticket"] == t2["id"]
    assert_error(c.post("/api/v1/evaluations", json={"ticket": t1["id"], "level": 5}, headers=c.eval1), 409,
                 "rating_closed")


def test_call_next_over_a_served_ticket_finishes_it_with_its_prompt(w1):
    c = w1
    t1, t2 = issue(c), issue(c)
    assert c.post("/api/v1/windows/1/call-next", headers=c.clerk1).json()["id"] == t1["id"]
    c.hall.clock.advance(seconds=30)
    assert c.post("/api/v1/windows/1/call-next", headers=c.clerk1).json()["id"] == t2["id"]
    assert rate(c, c.eval1, ticket=t1["id"], level=4)["ticket"] == t1["id"]


def test_an_evaluator_reads_only_its_own_windows_pending_prompt(w1):
    c = w1
    assert_error(c.get("/api/v1/evaluations/pending", params={"window": 2}, headers=c.eval1), 403, "not_your_window")
    assert c.get("/api/v1/evaluations/pending", params={"window": 1}, headers=c.eval1).json()["pending"] is None
    assert c.get("/api/v1/evaluations/pending", params={"window": 1}, headers=c.clerk1).status_code == 200
    assert_error(c.get("/api/v1/evaluations/pending", headers=c.clerk1), 422, "window_required")
    assert_error(c.get("/api/v1/evaluations/pending", params={"window": 1}, headers=c.make_user("k", "kiosk")), 403)


# -- a case handed out at a window ------------------------------------------------------------------------------
def delivered_at_6(c, intake: dict | None = None) -> dict:
    intake, handout = intake or clerk_at(c, 3), clerk_at(c, 6)

    def act(h, case, action, body=None):
        r = c.post(f"/api/v1/cases/{case['id']}/{action}", json=body or {}, headers=h)
        assert r.status_code == 200, r.text
        return r.json()
    r = c.post("/api/v1/cases", headers=intake, json={
        "matter": "WJ-001", "applicant": {"name": "刘晓梅", "phone": "13700001111"},
        "materials": [{"name": m, "state": "original"} for m in CHECKLIST]})
    assert r.status_code == 201, r.text
    case = act(intake, act(intake, r.json(), "accept"), "decide", {"outcome": "approved", "opinion": "符合"})
    case = act(handout, act(handout, case, "ready", {"via": "window"}), "deliver", {"collector": {"name": "刘晓梅"}})
    assert case["status"] == "delivered"
    return case


def test_a_case_handed_out_at_window_6_is_rated_there_and_named(client):
    case = delivered_at_6(client)
    eval6 = evaluator(client, 6)
    p = client.get("/api/v1/evaluations/pending", headers=eval6).json()["pending"]
    assert (p["case"], p["ticket"], p["number"], p["window"], p["clerk"]) == (case["id"], None, case["number"], 6,
                                                                              "clerk6")
    assert "刘晓梅" not in json.dumps(p) and "13700001111" not in json.dumps(p)
    e = rate(client, eval6, case=case["id"], level=1, reasons=["态度"])
    assert (e["case"], e["window"], e["clerk"], e["named"], e["bad"]) == (case["id"], 6, "clerk6", True, True)
    assert_error(client.post("/api/v1/evaluations", json={"case": case["id"], "level": 5}, headers=eval6), 409,
                 "already_rated")
    assert_error(client.post("/api/v1/evaluations", json={"case": case["id"], "level": 5},
                             headers=evaluator(client, 3)), 409, "not_finished_here")


# -- the status page ----------------------------------------------------------------------------------------
def test_the_receipts_status_page_rates_once_within_the_days(w1):
    c = w1
    t = finish_one(c, 1, c.clerk1)
    key = c.hall.feedback.ticket_key(t["id"])
    assert_error(c.get("/api/v1/evaluations/public", params={"ticket": t["id"], "key": "0" * 16}), 404)
    assert_error(c.get("/api/v1/evaluations/public", params={"ticket": t["id"]}), 404)
    view = c.get("/api/v1/evaluations/public", params={"ticket": t["id"], "key": key}).json()
    assert view["rateable"] and view["number"] == t["number"] and view["window"] == 1 and "clerk" not in view
    r = c.post("/api/v1/evaluations/public", json={"ticket": t["id"], "key": key, "level": 4})
    assert r.status_code == 201, r.text
    assert (r.json()["level"], r.json()["channel"], r.json()["window"]) == (4, "status_page", 1)
    assert "clerk" not in r.json()
    view = c.get("/api/v1/evaluations/public", params={"ticket": t["id"], "key": key}).json()
    assert not view["rateable"] and view["why"] == "already_rated" and view["rated"]["level"] == 4
    assert_error(c.post("/api/v1/evaluations/public", json={"ticket": t["id"], "key": key, "level": 1}), 409,
                 "already_rated")
    # the window's evaluator cannot rate it again either: one rating per handling
    assert_error(c.post("/api/v1/evaluations", json={"ticket": t["id"], "level": 1}, headers=c.eval1), 409,
                 "already_rated")


def test_the_status_page_rates_after_the_window_prompt_timed_out_but_not_after_the_days(w1):
    c = w1
    t1, t2 = finish_one(c, 1, c.clerk1), finish_one(c, 1, c.clerk1)
    c.hall.clock.advance(seconds=120)
    c.portal.call(c.hall.feedback.run_once, False)
    k1, k2 = c.hall.feedback.ticket_key(t1["id"]), c.hall.feedback.ticket_key(t2["id"])
    c.hall.clock.advance(days=6, hours=23)
    assert c.post("/api/v1/evaluations/public", json={"ticket": t1["id"], "key": k1, "level": 3}).status_code == 201
    c.hall.clock.advance(hours=2)
    assert_error(c.post("/api/v1/evaluations/public", json={"ticket": t2["id"], "key": k2, "level": 3}), 409,
                 "rating_period_over")
    sup = c.headers_for("admin", "admin-test-password")
    listed = c.get("/api/v1/evaluations", params={"from": "2026-11-24", "to": "2026-12-31"}, headers=sup).json()
    assert [(e["ticket"], e["channel"], e["level"]) for e in listed["evaluations"]] == [(t1["id"], "status_page", 3)]


def test_a_case_is_rated_from_its_status_page_by_its_query_code_once_handed_out(client):
    intake = clerk_at(client, 3)
    r = client.post("/api/v1/cases", headers=intake, json={
        "matter": "WJ-001", "applicant": {"name": "王五", "phone": "13900002222"},
        "materials": [{"name": m, "state": "original"} for m in CHECKLIST]})
    case = r.json()
    assert_error(client.post("/api/v1/evaluations/public", json={"query_code": case["query_code"], "level": 5}), 409,
                 "not_finished")
    assert_error(client.get("/api/v1/evaluations/public", params={"query_code": "nope"}), 404)
    assert_error(client.post("/api/v1/evaluations/public", json={"case": case["id"], "level": 5}), 422)
    delivered = delivered_at_6(client, intake)
    r = client.post("/api/v1/evaluations/public", json={"query_code": delivered["query_code"], "level": 5})
    assert r.status_code == 201 and r.json()["window"] == 6, r.text


# -- the key box ----------------------------------------------------------------------------------------------
def test_the_key_box_is_asked_after_commit_and_answers_through_submit(w1):
    c = w1
    asked: list[tuple[int, dict]] = []

    async def ask(window: int, handling: dict) -> bool:
        asked.append((window, handling))
        return True
    c.hall.feedback.ask = ask
    t1 = finish_one(c, 1, c.clerk1)
    c.portal.call(_until, lambda: asked)
    window, handling = asked[0]
    assert window == 1 and handling["ticket"] == t1["id"] and handling["prompt"]
    e = c.portal.call(c.hall.feedback.submit, 1, handling, 2)
    assert (e["channel"], e["level"], e["ticket"], e["clerk"]) == ("device", 2, t1["id"], "clerk1")
    assert c.portal.call(c.hall.feedback.submit, 1, handling, 5) is None        # a second key: one rating
    # the box went silent or timed out: not rated, and the queue goes on
    t2 = finish_one(c, 1, c.clerk1)
    c.portal.call(_until, lambda: len(asked) == 2)
    assert c.portal.call(c.hall.feedback.submit, 1, asked[1][1], None) is None
    last = events(c)[-1]
    assert (last["type"], last["data"]["ticket"], last["data"]["why"]) == ("evaluation.not_rated", t2["id"], "device")
    finish_one(c, 1, c.clerk1)


def test_a_failing_key_box_never_stops_the_window(w1):
    c = w1
    calls = []

    async def broken(window: int, handling: dict) -> bool:
        calls.append(window)
        raise OSError("the key box is unplugged")
    c.hall.feedback.ask = broken
    finish_one(c, 1, c.clerk1)
    c.portal.call(_until, lambda: calls)
    finish_one(c, 1, c.clerk1)          # calling and finishing go on


async def _until(cond, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.01)


# -- supervisors' reads ---------------------------------------------------------------------------------------
def test_supervisors_list_ratings_and_the_satisfaction_figures(w1):
    c = w1
    clerk2, eval2 = clerk_at(c, 2), evaluator(c, 2)
    for level in (5, 4, 3):
        rate(c, c.eval1, ticket=finish_one(c, 1, c.clerk1)["id"], level=level)
    rate(c, eval2, ticket=finish_one(c, 2, clerk2)["id"], level=1, reasons=["态度"])
    finish_one(c, 2, clerk2)
    c.hall.clock.advance(seconds=61)
    c.portal.call(c.hall.feedback.run_once, False)
    sup = c.make_user("sup", "supervisor")
    got = c.get("/api/v1/evaluations", headers=sup).json()["evaluations"]
    assert [e["level"] for e in got] == [1, 3, 4, 5]
    assert [e["level"] for e in c.get("/api/v1/evaluations", params={"window": 1, "level": 4},
                                      headers=sup).json()["evaluations"]] == [4]
    assert c.get("/api/v1/evaluations", params={"from": "2026-11-25"}, headers=sup).json()["evaluations"] == []
    assert_error(c.get("/api/v1/evaluations", params={"from": "24/11"}, headers=sup), 422, "bad_date")
    for h in (c.clerk1, c.eval1):
        assert_error(c.get("/api/v1/evaluations", headers=h), 403)
        assert_error(c.get("/api/v1/feedback/summary", headers=h), 403)

    s = c.get("/api/v1/feedback/summary", params={"period": "today"}, headers=sup).json()
    assert (s["period"], s["from"], s["to"]) == ("today", "2026-11-24", "2026-11-24")
    t = s["totals"]
    assert (t["rated"], t["good"], t["neutral"], t["bad"], t["not_rated"], t["good_rate"]) == (4, 2, 1, 1, 1, 0.5)
    windows = {r["key"]: r for r in s["by"]["window"]}
    assert (windows[1]["rated"], windows[1]["good_rate"], windows[2]["bad"], windows[2]["not_rated"]) == (
        3, 0.6667, 1, 1)
    assert {r["key"]: r["rated"] for r in s["by"]["clerk"]} == {"clerk1": 3, "clerk2": 1}
    assert [(r["key"], r["rated"]) for r in s["by"]["matter"]] == [(HEALTH_MATTER, 4)]
    dept = c.hall.cfg.matter(HEALTH_MATTER).deciders[0]
    assert [(r["key"], r["rated"]) for r in s["by"]["department"]] == [(dept, 4)]
    assert s["badratings"]["open"] == 1 and s["badratings"]["items"][0]["state"] == "verify"
    month = c.get("/api/v1/feedback/summary", params={"period": "month"}, headers=sup).json()
    assert month["from"] == "2026-11-01" and month["totals"]["rated"] == 4
    c.hall.clock.advance(days=1)
    assert c.get("/api/v1/feedback/summary", headers=sup).json()["totals"]["rated"] == 0
    assert_error(c.get("/api/v1/feedback/summary", params={"period": "year"}, headers=sup), 422)


def test_prompts_survive_a_restart_of_the_hall(tmp_path, district_cfg, clock):
    """The prompt is in the same transaction as the finish: a new Hall on the same database still has it."""
    from hall_server.runtime import Hall

    h = Hall(district_cfg.model_copy(update={"devices": (), "seats": ()}), tmp_path, clock)
    h.store.write_sync(lambda conn: h.engine.login(conn, 1, username="clerk1"))
    h.store.write_sync(lambda conn: h.engine.set_state(conn, 1, "open", actor="clerk1"))
    t = h.store.write_sync(lambda conn: h.engine.issue(conn, matter=HEALTH_MATTER, actor="admin"))
    h.store.write_sync(lambda conn: h.engine.call_next(conn, 1, actor="clerk1"))
    clock.advance(seconds=30)
    h.store.write_sync(lambda conn: h.engine.finish(conn, 1, actor="clerk1"))
    h.close()
    h2 = Hall(district_cfg.model_copy(update={"devices": (), "seats": ()}), tmp_path, clock)
    try:
        row = h2.store.read.execute("SELECT ticket_id, window, clerk, state, expires_at FROM rating_prompts").fetchone()
        assert (row["ticket_id"], row["window"], row["clerk"], row["state"]) == (t["id"], 1, "clerk1", "pending")
        assert row["expires_at"] == (clock.now() + timedelta(seconds=60)).isoformat(timespec="milliseconds")
    finally:
        h2.close()
