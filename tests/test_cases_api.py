"""Cases through the API (design.md "Cases"): a 承诺件 and a 联办件 from the ticket at the window to
`decided`, 补正, 即办 and 上报, the working-day due dates across National Day and the Spring Festival, and
the refusals the contract fixes (404, 409, 422, 403)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from api_helpers import assert_error, clerk_at, issue

TZ = ZoneInfo("Asia/Shanghai")
ID = "11010519491231002X"                   # a valid GB 11643 number (the standard's example)
MATERIALS_SH003 = ["居民身份证原件", "临时救助申请书", "遭遇困难的相关证明"]


def officer(client, username: str, *departments: str) -> dict:
    password = f"{username}-password"
    r = client.post("/api/v1/users", json={"username": username, "password": password, "role": "department",
                                           "departments": list(departments)}, headers=client.admin)
    assert r.status_code == 201, r.text
    return client.headers_for(username, password)


def served_ticket(client, clerk: dict, window: int, matter: str) -> dict:
    issue(client, matter)
    r = client.post(f"/api/v1/windows/{window}/call-next", headers=clerk)
    assert r.status_code == 200, r.text
    ticket = r.json()
    assert client.post(f"/api/v1/windows/{window}/start", headers=clerk).status_code == 200
    return ticket


def take_in(client, clerk, matter="SH-003", materials=None, ticket=None, **extra) -> dict:
    names = MATERIALS_SH003 if materials is None else materials
    body = {"matter": matter, "applicant": {"name": "张三", "phone": "13800000000", "id_number": ID},
            "materials": [{"name": n, "state": "original"} for n in names], **extra}
    if ticket is not None:
        body["ticket"] = ticket
    r = client.post("/api/v1/cases", json=body, headers=clerk)
    assert r.status_code == 201, r.text
    return r.json()


def act(client, headers, case_id, action, body=None, status=200):
    r = client.post(f"/api/v1/cases/{case_id}/{action}", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def at(clock, y, m, d, hh=10):
    clock.set(datetime(y, m, d, hh, 0, tzinfo=TZ))


def again(client, username: str) -> dict:
    """Log in again (after the clock moved past a clerk's or officer's one-day token)."""
    return client.headers_for(username, f"{username}-password")


def test_a_promised_case_from_the_ticket_to_decided(client, clock):
    clerk = clerk_at(client, 3)
    ticket = served_ticket(client, clerk, 3, "SH-003")
    case = take_in(client, clerk, ticket=ticket["id"])
    assert case["status"] == "received" and case["kind"] == "承诺" and case["missing"] == []
    assert case["number"].startswith("XL-20261124-") and case["ticket"] == ticket["id"] and case["window"] == 3
    assert case["applicant"]["id_masked"].startswith("110") and ID not in str(case)
    case = act(client, clerk, case["id"], "accept")
    assert case["status"] == "accepted"
    # accepted Tue 2026-11-24: day 1 is Wed 25th; 10 working days → Tue 12-08; legal 20 → Tue 12-22
    assert (case["due"], case["legal_due"]) == ("2026-12-08", "2026-12-22")
    mz = officer(client, "mz1", "区民政局")
    assert client.get("/api/v1/cases", params={"department": "区民政局"}, headers=mz).json()["cases"][0]["id"] \
        == case["id"]
    case = act(client, mz, case["id"], "claim")
    assert case["status"] == "in_review" and case["claimed_by"] == "mz1"
    case = act(client, mz, case["id"], "decide", {"outcome": "approved", "opinion": "符合临时救助条件"})
    assert case["status"] == "decided" and case["outcome"] == "approved"
    got = client.get(f"/api/v1/cases/{case['id']}", headers=mz).json()
    assert [h["action"] for h in got["history"]] == ["received", "accepted", "claimed", "decided"]
    assert [h["status"] for h in got["history"]] == ["received", "accepted", "in_review", "decided"]
    assert got["history"][2]["by"] == "mz1"
    public = client.get(f"/api/v1/case-status/{case['query_code']}").json()
    assert public["number"] == case["number"] and public["status"] == "decided"
    assert "张三" not in str(public) and "13800000000" not in str(public) and "mz1" not in str(public)


def test_a_joint_case_is_decided_when_every_department_has(client, clock):
    clerk = clerk_at(client, 8)
    ticket = served_ticket(client, clerk, 8, "LB-001")
    case = take_in(client, clerk, "LB-001", ["出生医学证明", "父母双方居民身份证", "户口簿", "结婚证"],
                   ticket=ticket["id"])
    case = act(client, clerk, case["id"], "accept")
    assert case["legal_due"] == "2027-01-29" or case["legal_due"] > case["due"]
    departments = [t["department"] for t in case["departments"]]
    assert departments == ["区卫健局", "下陆公安分局", "区医保局", "区人社局"]
    heads = {d: officer(client, f"o{i}", d) for i, d in enumerate(departments)}
    for n, (d, h) in enumerate(heads.items()):
        case = act(client, h, case["id"], "claim")
        task = next(t for t in case["departments"] if t["department"] == d)
        assert task["state"] == "claimed" and case["status"] == "in_review"
        case = act(client, h, case["id"], "decide", {"outcome": "approved", "opinion": f"{d}同意"})
        assert case["status"] == ("decided" if n == len(heads) - 1 else "in_review")
    assert case["outcome"] == "approved" and all(t["state"] == "decided" for t in case["departments"])
    # one department's officer cannot decide another's task
    other = officer(client, "gongan2", "下陆公安分局")
    r = client.post(f"/api/v1/cases/{case['id']}/decide", json={"outcome": "approved"}, headers=other)
    assert r.status_code == 409                 # decided already: the state answers first


def test_supplement_then_accepted_the_day_the_last_item_arrives(client, clock):
    clerk = clerk_at(client, 3)
    case = take_in(client, clerk, materials=["居民身份证原件"])
    assert case["missing"] == ["临时救助申请书", "遭遇困难的相关证明"]
    err = assert_error(client.post(f"/api/v1/cases/{case['id']}/accept", headers=clerk), 409, "materials_missing")
    assert err["missing"] == ["临时救助申请书", "遭遇困难的相关证明"]
    case = act(client, clerk, case["id"], "request-supplement", {"missing": ["临时救助申请书"], "note": "请补齐"})
    assert case["status"] == "supplement"
    assert set(case["missing"]) == {"临时救助申请书", "遭遇困难的相关证明"}    # told once: everything missing
    at(clock, 2026, 11, 27)                                                  # Friday
    clerk = again(client, "clerk3")
    case = act(client, clerk, case["id"], "materials", {"materials": [{"name": "临时救助申请书", "state": "original"}]})
    assert case["status"] == "supplement"
    at(clock, 2026, 11, 30)                                                  # Monday: complete
    clerk = again(client, "clerk3")
    case = act(client, clerk, case["id"], "materials",
               {"materials": [{"name": "遭遇困难的相关证明", "state": "copy"}]})
    assert case["status"] == "accepted" and case["accept_day"] == "2026-11-30"
    assert case["due"] == "2026-12-14"                                     # 10 working days after Monday


def test_instant_case_is_decided_at_the_window(client, clock):
    clerk = clerk_at(client, 1)
    case = take_in(client, clerk, "WJ-001", ["夫妻双方居民身份证", "结婚证", "户口簿"])
    case = act(client, clerk, case["id"], "accept")
    assert case["due"] == "2026-11-24"
    case = act(client, clerk, case["id"], "decide", {"outcome": "approved"})
    assert case["status"] == "decided"


def test_reported_case_waits_for_the_higher_authority(client, clock):
    clerk = clerk_at(client, 3)
    case = take_in(client, clerk, "SH-001",
                   ["居民身份证原件", "户口簿", "家庭收入及财产申报表", "家庭经济状况核对授权书"])
    case = act(client, clerk, case["id"], "accept")
    mz = officer(client, "mz1", "区民政局")
    act(client, mz, case["id"], "claim")
    assert_error(client.post(f"/api/v1/cases/{case['id']}/decide", json={"outcome": "approved"}, headers=mz),
                 409, "not_reported")
    case = act(client, mz, case["id"], "report", {"opinion": "经入户调查，符合低保条件", "authority": "市民政局"})
    assert case["report"]["authority"] == "市民政局"
    case = act(client, mz, case["id"], "decide", {"outcome": "approved", "opinion": "市民政局批准"})
    assert case["status"] == "decided"


@pytest.mark.parametrize(("accepted", "days", "due"), [
    ((2026, 9, 29), 10, "2026-10-19"),     # National Day 10-01…10-07 skipped; Sat 10-10 is a makeup day
    ((2026, 2, 12), 5, "2026-02-26"),      # 02-13, makeup Sat 02-14, Spring Festival 02-15…23 off, 02-24…26
    ((2026, 2, 24), 5, "2026-03-02"),      # makeup Sat 02-28 counts
])
def test_due_dates_across_holidays(client, clock, accepted, days, due):
    start = "{:04d}-{:02d}-{:02d}".format(*accepted)
    r = client.get("/api/v1/calendar/due", params={"from": start, "working_days": days})
    assert r.status_code == 200 and r.json()["due"] == due, r.text


def test_due_date_of_a_case_accepted_before_national_day(client, clock):
    at(clock, 2026, 9, 29)
    clerk = clerk_at(client, 3)
    case = act(client, clerk, take_in(client, clerk)["id"], "accept")
    assert case["due"] == "2026-10-19"


def test_suspension_moves_both_due_dates_by_the_working_days_suspended(client, clock):
    clerk = clerk_at(client, 3)
    case = act(client, clerk, take_in(client, clerk)["id"], "accept")           # due 12-08, legal 12-22
    mz = officer(client, "mz1", "区民政局")
    act(client, mz, case["id"], "claim")
    at(clock, 2026, 11, 26)                                                     # Thursday
    mz = again(client, "mz1")
    case = act(client, mz, case["id"], "suspend", {"reason": "入户核查"})
    assert case["status"] == "suspended"
    at(clock, 2026, 12, 1)                                                      # Tuesday: Fri, Mon, Tue = 3
    mz = again(client, "mz1")
    case = act(client, mz, case["id"], "resume")
    assert case["suspended_days"] == 3 and case["status"] == "in_review"
    assert (case["due"], case["legal_due"]) == ("2026-12-11", "2026-12-25")


def test_extension_needs_a_supervisor_and_moves_the_dates(client, clock):
    clerk = clerk_at(client, 3)
    case = act(client, clerk, take_in(client, clerk)["id"], "accept")
    assert_error(client.post(f"/api/v1/cases/{case['id']}/extend", json={"working_days": 10, "reason": "复杂"},
                             headers=clerk), 403)
    sup = client.make_user("sup", "supervisor")
    case = act(client, sup, case["id"], "extend", {"working_days": 10, "reason": "情况复杂，经负责人批准"})
    assert case["extended_days"] == 10 and case["due"] == "2026-12-22"


def test_refusals(client, clock):
    clerk = clerk_at(client, 3)
    assert_error(client.post("/api/v1/cases", json={"matter": "NOPE", "applicant": {"name": "李四"}},
                             headers=clerk), 404, "matter_not_found")
    assert_error(client.get("/api/v1/cases/999999", headers=clerk), 404, "case_not_found")
    case = take_in(client, clerk)
    assert_error(client.post(f"/api/v1/cases/{case['id']}/refuse", json={}, headers=clerk), 422)
    assert_error(client.post(f"/api/v1/cases/{case['id']}/decide", json={"outcome": "approved"}, headers=clerk),
                 409, "case_state")
    act(client, clerk, case["id"], "accept")
    mz, other = officer(client, "mz1", "区民政局"), officer(client, "mz2", "区民政局")
    ws = officer(client, "ws1", "区卫健局")
    assert_error(client.post(f"/api/v1/cases/{case['id']}/claim", headers=ws), 403, "not_your_department")
    assert_error(client.get(f"/api/v1/cases/{case['id']}", headers=ws), 403, "not_your_department")
    act(client, mz, case["id"], "claim")
    assert_error(client.post(f"/api/v1/cases/{case['id']}/claim", headers=other), 403, "claimed_by_other")
    assert_error(client.post(f"/api/v1/cases/{case['id']}/decide", json={"outcome": "approved"}, headers=other),
                 403, "claimed_by_other")
    sup = client.make_user("sup", "supervisor")
    case = act(client, sup, case["id"], "reassign", {"to": "mz2"})
    assert case["claimed_by"] == "mz2"
    case = act(client, other, case["id"], "decide", {"outcome": "rejected", "opinion": "不符合条件"})
    assert case["outcome"] == "rejected"
    refused = take_in(client, clerk)
    refused = act(client, clerk, refused["id"], "refuse", {"reason": "不属于本机关职权范围"})
    assert refused["status"] == "refused"
    assert_error(client.post(f"/api/v1/cases/{refused['id']}/withdraw", json={"reason": "x"}, headers=clerk), 409)


def test_query_code_reveals_nothing_of_the_sequence(client, clock):
    clerk = clerk_at(client, 3)
    a, b = take_in(client, clerk), take_in(client, clerk)
    assert a["number"][:-4] == b["number"][:-4] and int(b["number"][-4:]) == int(a["number"][-4:]) + 1
    assert len(a["query_code"]) >= 16 and a["number"] not in a["query_code"]
    assert len(set(a["query_code"]) & set(b["query_code"])) < len(a["query_code"])
    assert_error(client.get("/api/v1/case-status/" + "x" * 16), 404)


def test_deadline_turns_amber_then_red_with_events(client, clock):
    clerk = clerk_at(client, 3)
    case = act(client, clerk, take_in(client, clerk)["id"], "accept")           # due 12-08
    at(clock, 2026, 12, 4)                                                      # Fri: Mon, Tue left = 2 → amber
    clerk = again(client, "clerk3")
    assert client.portal.call(client.hall.cases.refresh_deadlines) == 1
    assert client.get(f"/api/v1/cases/{case['id']}", headers=clerk).json()["deadline"] == "amber"
    at(clock, 2026, 12, 9)
    clerk = again(client, "clerk3")
    client.portal.call(client.hall.cases.refresh_deadlines)
    red = client.get("/api/v1/cases", params={"deadline": "red"}, headers=clerk).json()["cases"]
    assert [c["id"] for c in red] == [case["id"]]
    kinds = [e["data"].get("kind") for e in client.get("/api/v1/events", params={"since": 0, "limit": 1000})
             .json()["events"] if e["type"] == "alert.raised"]
    assert "case_due_soon" in kinds and "case_overdue" in kinds


def test_a_windows_cases_of_the_day(client, clock):
    clerk3, clerk8 = clerk_at(client, 3), clerk_at(client, 8)
    mine = take_in(client, clerk3)
    take_in(client, clerk8)
    got = client.get("/api/v1/cases", params={"window": 3, "day": "2026-11-24"}, headers=clerk3).json()["cases"]
    assert [c["id"] for c in got] == [mine["id"]]
    assert client.get("/api/v1/cases", params={"window": 3, "day": "2026-11-25"}, headers=clerk3).json()["cases"] == []
    assert_error(client.get("/api/v1/cases", params={"day": "24/11/2026"}, headers=clerk3), 422)
