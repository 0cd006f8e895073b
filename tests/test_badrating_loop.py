"""The 差评 loop through the API (issue 17, item 3): a bad rating opens a record that walks 核实 → 整改 → 反馈 →
复核, each step due in working days of the hall's calendar and taken by its role (403 otherwise, 409 out of
order); a named rating cannot close without its call-back; a 申诉 upheld takes the rating out of the figures;
overdue steps turn amber/red and alert; the ledger exports as CSV with a BOM. The hall's day starts Tue 2026-11-24."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from api_helpers import assert_error, clerk_at
from test_evaluations_api import delivered_at_6, evaluator, finish_one

TZ = ZoneInfo("Asia/Shanghai")
DEPT = "区卫健局"           # decides WJ-001, the matter rated here


@pytest.fixture
def c(client):
    client.clerk1 = clerk_at(client, 1)
    client.eval1 = evaluator(client, 1)
    client.sup = client.make_user("sup", "supervisor")
    r = client.post("/api/v1/users", json={"username": "officer", "password": "officer-password", "role": "department",
                                           "departments": [DEPT]}, headers=client.admin)
    assert r.status_code == 201, r.text
    client.officer = client.headers_for("officer", "officer-password")
    r = client.post("/api/v1/users", json={"username": "other", "password": "other-password", "role": "department",
                                           "departments": ["区民政局"]}, headers=client.admin)
    assert r.status_code == 201, r.text
    client.other_dept = client.headers_for("other", "other-password")
    client.clerk2 = clerk_at(client, 2)
    return client


def bad(c, level: int = 2, reasons=("态度",)) -> dict:
    """An anonymous bad rating of a ticket finished at window 1 by clerk1; its 差评 record."""
    t = finish_one(c, 1, c.clerk1)
    r = c.post("/api/v1/evaluations", json={"ticket": t["id"], "level": level, "reasons": list(reasons)},
               headers=c.eval1)
    assert r.status_code == 201, r.text
    return get(c, r.json()["badrating"])


def named_bad(c) -> dict:
    case = delivered_at_6(c)
    r = c.post("/api/v1/evaluations", json={"case": case["id"], "level": 1, "reasons": ["多次跑"]},
               headers=evaluator(c, 6))
    assert r.status_code == 201, r.text
    return get(c, r.json()["badrating"])


def get(c, rid: int, headers=None) -> dict:
    r = c.get(f"/api/v1/badratings/{rid}", headers=headers or c.sup)
    assert r.status_code == 200, r.text
    return r.json()


def step(c, rid: int, name: str, headers, status: int = 200, **body):
    r = c.post(f"/api/v1/badratings/{rid}/{name}", json=body, headers=headers)
    assert r.status_code == status, (name, r.status_code, r.text)
    return r.json()


def types(c, prefix="badrating.") -> list[str]:
    evs = c.get("/api/v1/events", params={"since": 0, "limit": 5000}).json()["events"]
    return [e["type"] for e in evs if e["type"].startswith(prefix)]


def test_a_named_bad_rating_walks_the_loop_with_working_day_dues_and_a_callback(c):
    b = named_bad(c)
    assert b["number"] == "CP20261124-001" and b["named"] and b["level"] == 1
    assert (b["state"], b["due"], b["deadline"], b["window"], b["clerk"]) == ("verify", "2026-11-25", "ok", 6, "clerk6")
    assert b["contact"]["phone"] == "13700001111" and b["reasons"] == ["多次跑"] and b["next"] == ["verify", "appeal"]
    # a clerk reading the list sees the phone masked only; the single record (for the call-back) in full
    listed = c.get("/api/v1/badratings", params={"state": "open"}, headers=c.clerk1).json()["badratings"]
    assert listed[0]["contact"] == {"phone_masked": "137****1111"}
    assert get(c, b["id"], c.clerk1)["contact"]["phone"] == "13700001111"

    b = step(c, b["id"], "verify", c.sup, finding="窗口人员解释不清，群众往返两次", department=DEPT)
    # verified Tue 11-24: 15 working days → Tue 12-15
    assert (b["state"], b["due"], b["responsible"]) == ("rectify", "2026-12-15", {"department": DEPT, "window": None})
    b = step(c, b["id"], "rectify", c.officer, measures="统一一次性告知单，培训窗口人员")
    assert (b["state"], b["due"]) == ("callback", "2026-11-27")          # 3 working days
    err = assert_error(c.post(f"/api/v1/badratings/{b['id']}/recheck", json={"note": "好"}, headers=c.sup), 409,
                       "callback_required")
    assert err["message_zh"] and b["next"] == ["callback", "appeal"]
    b = step(c, b["id"], "callback", c.clerk2, result="未接通", reached=False)
    assert b["state"] == "callback"                  # an attempt on record; the citizen is still to be reached
    b = step(c, b["id"], "callback", c.clerk2, result="群众表示满意", satisfied=True)
    assert (b["state"], b["due"]) == ("recheck", "2026-11-26")           # 2 working days
    b = step(c, b["id"], "recheck", c.sup, note="整改到位")
    assert (b["state"], b["closed_how"], b["next"], b["deadline"]) == ("closed", "rechecked", [], "ok")
    assert [s["step"] for s in b["steps"]] == ["verify", "rectify", "callback", "callback", "recheck"]
    assert [s["by"] for s in b["steps"]] == ["sup", "officer", "clerk2", "clerk2", "sup"]
    assert b["steps"][0]["due"] == "2026-11-25" and b["steps"][3]["satisfied"] is True
    assert types(c) == ["badrating.opened", "badrating.verified", "badrating.rectified",
                        "badrating.callback_attempted", "badrating.called_back", "badrating.closed"]
    assert_error(c.post(f"/api/v1/badratings/{b['id']}/verify", json={"finding": "x"}, headers=c.sup), 409,
                 "badrating_state")


def test_step_dues_skip_weekends_and_holidays_and_count_makeup_days(c):
    c.hall.clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=TZ))          # a Friday (the day rolled over)
    c.admin = c.headers_for("admin", "admin-test-password")
    c.clerk1 = clerk_at(c, 1, "clerk1b")
    b = bad(c)
    assert b["due"] == "2026-11-30" and b["number"] == "CP20261127-001"  # the Monday
    c.hall.clock.set(datetime(2026, 9, 30, 10, 0, tzinfo=TZ))           # the eve of the National Day week
    sup = c.headers_for("sup", "sup-password")
    assert get(c, b["id"], sup)["due"] == "2026-11-30"
    # (the clock set back is only for counting: a new rating on the eve is due after the holidays)
    ctx = c.hall.feedback.ctx
    assert ctx.due(1) == "2026-10-08" and ctx.due(3) == "2026-10-10"    # Sat 10-10 is a makeup working day
    assert ctx.due(1) == c.hall.cases.calendar.add_working_days(date(2026, 9, 30), 1).isoformat()


def test_each_step_is_taken_by_its_role_only(c):
    b = bad(c)
    rid = b["id"]
    for h in (c.clerk1, c.officer, c.eval1, c.make_user("k", "kiosk"), c.make_user("tech", "technician")):
        assert_error(c.post(f"/api/v1/badratings/{rid}/verify", json={"finding": "x"}, headers=h), 403)
    # an anonymous rating of window 1: by default window 1 puts it right
    b = step(c, rid, "verify", c.sup, finding="属实")
    assert b["responsible"] == {"department": None, "window": 1}
    for h in (c.clerk2, c.officer, c.other_dept, c.eval1):
        assert_error(c.post(f"/api/v1/badratings/{rid}/rectify", json={"measures": "x"}, headers=h), 403)
    b = step(c, rid, "rectify", c.clerk1, measures="改进服务用语")   # the rated window's clerk
    for h in (c.officer, c.eval1, c.make_user("tech2", "technician")):
        assert_error(c.post(f"/api/v1/badratings/{rid}/callback", json={"result": "x"}, headers=h), 403)
    for h in (c.clerk1, c.officer):
        assert_error(c.post(f"/api/v1/badratings/{rid}/recheck", json={"note": "x"}, headers=h), 403)
    for h in (c.clerk2, c.other_dept, c.eval1):
        assert_error(c.post(f"/api/v1/badratings/{rid}/appeal", json={"reason": "x"}, headers=h), 403)
    step(c, rid, "appeal", c.clerk1, reason="群众误按")
    for h in (c.clerk1, c.officer):
        assert_error(c.post(f"/api/v1/badratings/{rid}/appeal-decision", json={"upheld": True, "note": "x"},
                            headers=h), 403)
    # readers: the department sees only records that concern it; an evaluator or kiosk none
    assert c.get("/api/v1/badratings", headers=c.officer).json()["badratings"][0]["id"] == rid    # WJ-001's dept
    assert c.get("/api/v1/badratings", headers=c.other_dept).json()["badratings"] == []
    assert_error(c.get(f"/api/v1/badratings/{rid}", headers=c.other_dept), 403, "not_your_department")
    assert_error(c.get("/api/v1/badratings", headers=c.eval1), 403)
    assert_error(c.get("/api/v1/badratings"), 401)


def test_a_department_rectifies_only_what_its_department_answers_for(c):
    b = bad(c)
    step(c, b["id"], "verify", c.sup, finding="材料清单不清", department=DEPT)
    assert_error(c.post(f"/api/v1/badratings/{b['id']}/rectify", json={"measures": "x"}, headers=c.other_dept), 403)
    assert_error(c.post(f"/api/v1/badratings/{b['id']}/rectify", json={"measures": "x"}, headers=c.clerk1), 403)
    assert_error(c.post(f"/api/v1/badratings/{b['id']}/rectify", json={}, headers=c.officer), 422,
                 "measures_required")
    assert step(c, b["id"], "rectify", c.officer, measures="修订材料清单")["state"] == "callback"


def test_steps_out_of_order_are_409_and_bad_steps_422(c):
    b = bad(c)
    rid = b["id"]
    for name, body in (("rectify", {"measures": "x"}), ("callback", {"result": "x"}), ("recheck", {"note": "x"}),
                       ("appeal-decision", {"upheld": True, "note": "x"})):
        r = c.post(f"/api/v1/badratings/{rid}/{name}", json=body, headers=c.sup)
        assert r.status_code == 409, (name, r.text)
    assert_error(c.post(f"/api/v1/badratings/{rid}/verify", json={}, headers=c.sup), 422, "finding_required")
    assert_error(c.post(f"/api/v1/badratings/{rid}/verify", json={"finding": "x", "department": "区气象局"},
                        headers=c.sup), 422, "unknown_department")
    assert_error(c.post(f"/api/v1/badratings/{rid}/verify", json={"finding": "x", "bogus": 1}, headers=c.sup), 422)
    assert_error(c.post(f"/api/v1/badratings/{rid}/close", json={}, headers=c.sup), 404, "unknown_step")
    assert_error(c.post("/api/v1/badratings/999/verify", json={"finding": "x"}, headers=c.sup), 404,
                 "badrating_not_found")
    assert get(c, rid)["state"] == "verify" and get(c, rid)["steps"] == []


def test_an_anonymous_rating_may_be_rechecked_without_a_callback_and_a_failed_recheck_goes_back(c):
    b = bad(c, level=1)
    assert not b["named"] and "contact" not in b
    step(c, b["id"], "verify", c.sup, finding="属实", window=1)
    b = step(c, b["id"], "rectify", c.sup, measures="整改")
    assert b["next"] == ["callback", "recheck", "appeal"]
    b = step(c, b["id"], "recheck", c.sup, note="未整改到位", passed=False)
    assert (b["state"], b["due"]) == ("rectify", "2026-12-15")
    step(c, b["id"], "rectify", c.clerk1, measures="再次整改")
    b = step(c, b["id"], "recheck", c.sup, note="到位")
    assert b["state"] == "closed" and b["steps"][-1]["skipped_callback"] is True
    assert "badrating.recheck_failed" in types(c)


def test_an_upheld_appeal_closes_the_record_and_leaves_the_figures(c):
    good = finish_one(c, 1, c.clerk1)
    assert c.post("/api/v1/evaluations", json={"ticket": good["id"], "level": 5}, headers=c.eval1).status_code == 201
    b1, b2 = bad(c), bad(c, level=1)
    totals = c.get("/api/v1/feedback/summary", headers=c.sup).json()["totals"]
    assert (totals["rated"], totals["bad"], totals["good_rate"]) == (3, 2, 0.3333)
    b1 = step(c, b1["id"], "appeal", c.clerk1, reason="群众按错键，当场表示满意")
    assert b1["appeal"] == "pending" and b1["appeal_due"] == "2026-12-01" and "appeal-decision" in b1["next"]
    assert_error(c.post(f"/api/v1/badratings/{b1['id']}/appeal", json={"reason": "again"}, headers=c.clerk1), 409,
                 "appeal_not_open")
    assert_error(c.post(f"/api/v1/badratings/{b1['id']}/appeal-decision", json={"note": "x"}, headers=c.sup), 422,
                 "upheld_required")
    b1 = step(c, b1["id"], "appeal-decision", c.sup, upheld=True, note="监控核实为误按")
    assert (b1["state"], b1["closed_how"], b1["appeal"]) == ("closed", "appeal_upheld", "upheld")
    ev = c.get("/api/v1/evaluations", headers=c.sup).json()["evaluations"]
    assert {e["badrating"]: (e["appeal"], e["excluded"]) for e in ev if e["badrating"]} == {
        b1["id"]: ("upheld", True), b2["id"]: (None, False)}
    s = c.get("/api/v1/feedback/summary", headers=c.sup).json()
    assert (s["totals"]["rated"], s["totals"]["bad"], s["totals"]["good_rate"]) == (2, 1, 0.5)
    assert s["badratings"]["open"] == 1
    # a rejected appeal leaves the loop going on
    step(c, b2["id"], "appeal", c.officer, reason="不属实")
    b2 = step(c, b2["id"], "appeal-decision", c.sup, upheld=False, note="申诉不成立")
    assert (b2["state"], b2["appeal"]) == ("verify", "rejected")
    assert_error(c.post(f"/api/v1/badratings/{b2['id']}/appeal-decision", json={"upheld": True, "note": "x"},
                        headers=c.sup), 409, "no_appeal")
    assert c.get("/api/v1/feedback/summary", headers=c.sup).json()["totals"]["bad"] == 1
    assert types(c).count("badrating.appeal_upheld") == 1 and types(c).count("badrating.appeal_rejected") == 1


def test_overdue_steps_turn_amber_then_red_and_alert_once_each(c):
    b = bad(c)
    assert c.portal.call(c.hall.feedback.run_once) == 0              # due tomorrow: ok
    c.hall.clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=TZ))        # the due day: amber
    c.portal.call(c.hall.feedback.run_once)
    sup = c.headers_for("sup", "sup-password")
    assert get(c, b["id"], sup)["deadline"] == "amber"
    c.portal.call(c.hall.feedback.run_once)                          # no second alert for the same colour
    c.hall.clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=TZ))
    c.portal.call(c.hall.feedback.run_once)
    assert get(c, b["id"], sup)["deadline"] == "red"
    evs = c.get("/api/v1/events", params={"since": 0, "limit": 5000}).json()["events"]
    alerts = [e["data"] for e in evs if e["type"] == "alert.raised" and e["data"].get("badrating") == b["id"]]
    assert [a["kind"] for a in alerts] == ["badrating_due_soon", "badrating_overdue"]
    assert b["number"] in alerts[1]["detail"] and alerts[1]["step"] == "verify"
    s = c.get("/api/v1/feedback/summary", headers=sup).json()["badratings"]
    assert (s["open"], s["red"], s["items"][0]["deadline"]) == (1, 1, "red")
    assert [b2["id"] for b2 in c.get("/api/v1/badratings", params={"state": "verify"},
                                     headers=sup).json()["badratings"]] == [b["id"]]
    # verified late: the next step starts its own clock, ok again
    b = step(c, b["id"], "verify", sup, finding="属实")
    assert b["deadline"] == "ok"
    c.portal.call(c.hall.feedback.run_once)
    assert types(c).count("badrating.deadline") == 2


def test_the_ledger_exports_as_csv_with_a_bom(c):
    b = named_bad(c)
    step(c, b["id"], "verify", c.sup, finding="属实，窗口告知不清", department=DEPT)
    bad(c)
    r = c.get("/api/v1/badratings.csv", headers=c.sup)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf") and "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "编号 Number" and len(rows) == 3
    named = next(row for row in rows[1:] if row[0] == b["number"])
    cells = dict(zip(rows[0], named, strict=True))
    assert cells["窗口 Window"] == "6" and cells["评价等级 Level"] == "非常不满意" and cells["实名 Named"] == "是"
    assert cells["状态 State"] == "待整改" and cells["责任部门/窗口 Responsible"] == DEPT
    assert "sup：属实，窗口告知不清" in cells["核实 Verified"] and "13700001111" not in r.text
    only = c.get("/api/v1/badratings.csv", params={"state": "verify"}, headers=c.sup).content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(only)))) == 2
    assert_error(c.get("/api/v1/badratings.csv", params={"state": "nope"}, headers=c.sup), 422, "bad_state")
    for h in (c.clerk1, c.officer, c.eval1):
        assert_error(c.get("/api/v1/badratings.csv", headers=h), 403)
