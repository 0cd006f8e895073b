"""“办不成事” complaints through the API (issue 17, item 4): registered at the 办不成事 window (7) by its clerk, from a
kiosk, or from a case's status page; 受理 → 分类 → 转办 → 办结 → 反馈 → 核查 → 备案, each step by its role (403
otherwise, 409 out of order, 422 for a bad body), due in working days of the hall's calendar (over a weekend),
amber/red with an alert; the citizen's SMS at registration and at the answer put in the outbox in the step's own
transaction, and one through the simulated modem (sim://sms); the phone masked in every listing and the ledger.
The hall's day starts Tue 2026-11-24."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from api_helpers import assert_error, clerk_at
from test_sms_delivery import Running, wait_for

from hall_server.clock import Clock
from hall_server.config import DeviceConfig
from hall_server.notify.config import SmsPolicy

TZ = ZoneInfo("Asia/Shanghai")
DEPT = "区卫健局"            # decides WJ-001
PHONE = "13912345678"
CHECKLIST = ["夫妻双方居民身份证", "结婚证", "户口簿"]      # WJ-001 生育登记


def dept_user(c, username: str, department: str) -> dict:
    r = c.post("/api/v1/users", json={"username": username, "password": f"{username}-password", "role": "department",
                                      "departments": [department]}, headers=c.admin)
    assert r.status_code == 201, r.text
    return c.headers_for(username, f"{username}-password")


@pytest.fixture
def c(client):
    client.clerk7 = clerk_at(client, 7)
    client.clerk1 = clerk_at(client, 1)
    client.sup = client.make_user("sup", "supervisor")
    client.officer = dept_user(client, "officer", DEPT)
    client.other_dept = dept_user(client, "other", "区民政局")
    return client


def register(c, headers=None, status: int = 201, **body) -> dict:
    body = {"text": "生育登记跑了三次还没办成，窗口说系统不通", "matter": "WJ-001", "window": 1,
            "contact": {"name": "王小明", "phone": PHONE}, **body}
    r = c.post("/api/v1/complaints", json=body, headers=headers or c.clerk7)
    assert r.status_code == status, r.text
    return r.json()


def step(c, cid: int, name: str, headers, status: int = 200, **body) -> dict:
    r = c.post(f"/api/v1/complaints/{cid}/{name}", json=body, headers=headers)
    assert r.status_code == status, (name, r.status_code, r.text)
    return r.json()


def get(c, cid: int, headers=None) -> dict:
    r = c.get(f"/api/v1/complaints/{cid}", headers=headers or c.sup)
    assert r.status_code == 200, r.text
    return r.json()


def outbox(c) -> list[dict]:
    return [dict(r) for r in c.hall.store.read.execute("SELECT * FROM outbox ORDER BY id")]


def events(c, prefix: str = "complaint.") -> list[dict]:
    evs = c.get("/api/v1/events", params={"since": 0, "limit": 5000}).json()["events"]
    return [e for e in evs if e["type"].startswith(prefix)]


def test_a_complaint_walks_the_seven_steps_with_its_roles_and_two_sms(c):
    got = register(c)
    assert (got["number"], got["status"], got["channel"]) == ("BC20261124-001", "registered", "window")
    # the SMS with the number, in the registration's own transaction (tied to its event)
    sms = outbox(c)
    assert [m["kind"] for m in sms] == ["complaint_registered"] and sms[0]["phone"] == PHONE
    assert got["number"] in sms[0]["text"] and sms[0]["status"] == "queued"
    ev = events(c)
    assert [e["type"] for e in ev] == ["complaint.registered"] and sms[0]["event_seq"] == ev[0]["seq"]
    cid = got["id"]

    one = step(c, cid, "classify", c.sup, **{"class": "complex"})
    # registered Tue 11-24: 5 working days → Tue 12-01
    assert (one["status"], one["class"], one["answer_due"], one["due"]) == ("classified", "complex", "2026-12-01",
                                                                            "2026-12-01")
    one = step(c, cid, "assign", c.sup, department=DEPT, text="请区卫健局核查系统问题")
    assert (one["status"], one["assigned_department"]) == ("assigned", DEPT)
    one = step(c, cid, "answer", c.officer, text="系统已恢复，已电话预约当日办结")
    assert one["status"] == "answered" and one["due"] == "2026-11-25"          # 反馈 within 1 working day
    sms = outbox(c)
    assert [m["kind"] for m in sms] == ["complaint_registered", "complaint_answered"]
    assert "系统已恢复" in sms[1]["text"] and got["number"] in sms[1]["text"]
    one = step(c, cid, "feedback", c.clerk7, text="已电话告知群众，群众表示满意")
    assert one["status"] == "fed_back"
    one = step(c, cid, "check", c.sup, text="核查属实")
    assert one["status"] == "checked"
    one = step(c, cid, "file", c.sup)
    assert (one["status"], one["next"], one["deadline"], one["due"]) == ("filed", [], "ok", None)
    assert [s["step"] for s in one["steps"]] == ["register", "classify", "assign", "answer", "feedback", "check",
                                                 "file"]
    assert [s["by"] for s in one["steps"]] == ["clerk7", "sup", "sup", "officer", "clerk7", "sup", "sup"]
    assert one["steps"][3]["text"] == "系统已恢复，已电话预约当日办结"
    types = [e["type"] for e in events(c)]
    assert types == ["complaint.registered", "complaint.classified", "complaint.assigned", "complaint.answered",
                     "complaint.fed_back", "complaint.checked", "complaint.filed"]
    text = json.dumps(events(c), ensure_ascii=False)
    assert PHONE not in text and "王小明" not in text and "跑了三次" not in text      # no personal data in events
    assert_error(c.post(f"/api/v1/complaints/{cid}/file", json={}, headers=c.sup), 409, "complaint_state")


def test_each_step_is_taken_by_its_role_only(c):
    assert_error(c.post("/api/v1/complaints", json={"text": "x"}, headers=c.clerk1), 403, "not_complaint_window")
    assert_error(c.post("/api/v1/complaints", json={"text": "x"}, headers=c.sup), 403, "not_complaint_window")
    kiosk = c.make_user("kiosk-a", "kiosk")
    k = register(c, kiosk, contact=None)
    assert k["channel"] == "kiosk" and outbox(c) == []               # no phone: no message
    cid = register(c)["id"]
    for h in (c.clerk7, c.officer, kiosk):
        err = assert_error(c.post(f"/api/v1/complaints/{cid}/classify", json={"class": "simple"}, headers=h), 403,
                           "role_forbidden")
        assert "分类" in err["message_zh"] and "classify" in err["message_en"]
    assert_error(c.post(f"/api/v1/complaints/{cid}/answer", json={"text": "x"}, headers=c.officer), 409,
                 "complaint_state")                                  # not passed to anyone yet
    step(c, cid, "classify", c.sup, **{"class": "simple"})
    assert_error(c.post(f"/api/v1/complaints/{cid}/assign", json={"department": DEPT}, headers=c.clerk7), 403)
    step(c, cid, "assign", c.sup, department=DEPT)
    assert_error(c.post(f"/api/v1/complaints/{cid}/answer", json={"text": "x"}, headers=c.other_dept), 403,
                 "not_your_department")
    for h in (c.sup, c.clerk7):
        assert_error(c.post(f"/api/v1/complaints/{cid}/answer", json={"text": "x"}, headers=h), 403, "role_forbidden")
    assert_error(c.get(f"/api/v1/complaints/{cid}", headers=c.other_dept), 403, "not_your_department")
    assert_error(c.post(f"/api/v1/complaints/{cid}/feedback", json={"text": "x"}, headers=c.sup), 409)
    step(c, cid, "answer", c.officer, text="已办结")
    assert_error(c.post(f"/api/v1/complaints/{cid}/feedback", json={"text": "x"}, headers=c.clerk1), 403)
    assert_error(c.post(f"/api/v1/complaints/{cid}/check", json={}, headers=c.sup), 409, "complaint_state")
    step(c, cid, "feedback", c.sup, text="已告知")                   # a supervisor may feed back too
    assert_error(c.post(f"/api/v1/complaints/{cid}/check", json={}, headers=c.clerk7), 403)
    assert_error(c.post(f"/api/v1/complaints/{cid}/file", json={}, headers=c.sup), 409)
    step(c, cid, "check", c.sup)
    assert_error(c.post(f"/api/v1/complaints/{cid}/file", json={}, headers=c.officer), 403)
    assert step(c, cid, "file", c.sup)["status"] == "filed"
    assert_error(c.post("/api/v1/complaints/99999/classify", json={"class": "simple"}, headers=c.sup), 404,
                 "complaint_not_found")


def test_bad_bodies_are_refused_and_nothing_is_kept(c):
    for body in ({}, {"text": ""}, {"text": "   "}, {"text": "x", "case": 999999}, {"text": "x", "matter": "NOPE"},
                 {"text": "x", "window": 99}, {"text": "x", "department": "火星局"},
                 {"text": "x", "contact": {"phone": "abc"}}, {"text": "x", "colour": "red"}):
        err = assert_error(c.post("/api/v1/complaints", json=body, headers=c.clerk7), 422)
        assert err["message_zh"] and err["message_en"]
    assert c.hall.store.read.execute("SELECT COUNT(*) FROM complaints").fetchone()[0] == 0 and outbox(c) == []
    cid = register(c)["id"]
    assert_error(c.post(f"/api/v1/complaints/{cid}/classify", json={"class": "urgent"}, headers=c.sup), 422)
    assert_error(c.post(f"/api/v1/complaints/{cid}/classify", json={}, headers=c.sup), 422)
    step(c, cid, "classify", c.sup, **{"class": "special"})
    assert_error(c.post(f"/api/v1/complaints/{cid}/assign", json={"department": "火星局"}, headers=c.sup), 422,
                 "unknown_department")
    step(c, cid, "assign", c.sup, department=DEPT)
    assert_error(c.post(f"/api/v1/complaints/{cid}/answer", json={}, headers=c.officer), 422)
    assert_error(c.post(f"/api/v1/complaints/{cid}/answer", json={"text": " "}, headers=c.officer), 422)
    assert get(c, cid)["status"] == "assigned"


def test_out_of_scope_is_closed_with_its_reason(c):
    cid = register(c, text="法院判决不公，要求重审")["id"]
    assert_error(c.post(f"/api/v1/complaints/{cid}/close", json={"reason": "court"}, headers=c.clerk7), 403)
    assert_error(c.post(f"/api/v1/complaints/{cid}/close", json={"reason": "weather"}, headers=c.sup), 422)
    one = step(c, cid, "close", c.sup, reason="court", text="已进入司法程序，告知群众依法申诉")
    assert (one["status"], one["closed_reason"], one["next"]) == ("closed", "court", [])
    assert one["closed_reason_name"].startswith("涉诉")
    assert_error(c.post(f"/api/v1/complaints/{cid}/classify", json={"class": "simple"}, headers=c.sup), 409)


def test_dues_skip_the_weekend_and_turn_amber_then_red_with_an_alert(c):
    c.hall.clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=TZ))          # a Friday
    c.admin = c.headers_for("admin", "admin-test-password")
    c.clerk7 = clerk_at(c, 7, "clerk7b")
    sup = c.headers_for("sup", "sup-password")
    a, b, s = register(c), register(c), register(c)
    assert a["number"] == "BC20261127-001" and a["due"] == "2026-11-30"     # 分类 by Monday
    assert step(c, a["id"], "classify", sup, **{"class": "complex"})["answer_due"] == "2026-12-04"
    assert step(c, b["id"], "classify", sup, **{"class": "special"})["answer_due"] == "2026-12-11"
    assert step(c, s["id"], "classify", sup, **{"class": "simple"})["answer_due"] == "2026-11-27"   # on the spot
    # Friday's simple one is due today: amber at once; the others are ok
    c.portal.call(c.hall.complaints.run_once)
    assert [get(c, x["id"], sup)["deadline"] for x in (a, b, s)] == ["ok", "ok", "amber"]
    c.portal.call(c.hall.complaints.run_once)                        # no second alert for the same colour
    c.hall.clock.set(datetime(2026, 11, 29, 10, 0, tzinfo=TZ))       # Sunday: no working day has passed
    c.portal.call(c.hall.complaints.run_once)
    sup = c.headers_for("sup", "sup-password")
    assert get(c, s["id"], sup)["deadline"] == "amber"
    c.hall.clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=TZ))        # Monday: past its day
    c.portal.call(c.hall.complaints.run_once)
    sup = c.headers_for("sup", "sup-password")
    assert get(c, s["id"], sup)["deadline"] == "red"
    alerts = [e["data"] for e in events(c, "alert.raised") if e["data"].get("complaint") == s["id"]]
    assert [al["kind"] for al in alerts] == ["complaint_due_soon", "complaint_overdue"]
    assert s["number"] in alerts[1]["detail"] and alerts[1]["step"] == "assign"
    listed = c.get("/api/v1/complaints", params={"overdue": "true"}, headers=sup).json()["complaints"]
    assert [x["id"] for x in listed] == [s["id"]]
    listed = c.get("/api/v1/complaints", params={"overdue": "false", "class": "complex"},
                   headers=sup).json()["complaints"]
    assert [x["id"] for x in listed] == [a["id"]]
    assert [e["type"] for e in events(c)].count("complaint.deadline") == 2


def test_contacts_are_masked_in_every_listing_and_the_ledger(c):
    cid = register(c)["id"]
    step(c, cid, "classify", c.sup, **{"class": "complex"})
    step(c, cid, "assign", c.sup, department=DEPT)
    for h in (c.sup, c.clerk7, c.clerk1, c.officer):
        listed = c.get("/api/v1/complaints", params={"status": "assigned"}, headers=h).json()["complaints"]
        assert [x["id"] for x in listed] == [cid]
        assert listed[0]["contact"] == {"name": "王**", "phone": "139****5678"} and listed[0]["contact_masked"]
        assert PHONE not in json.dumps(listed)
    assert c.get("/api/v1/complaints", params={"department": DEPT}, headers=c.sup).json()["complaints"][0]["id"] == cid
    assert c.get("/api/v1/complaints", headers=c.other_dept).json()["complaints"] == []
    # the single complaint, read to call the citizen back: whole for the supervisor and window 7's clerk only
    assert get(c, cid, c.sup)["contact"] == {"name": "王小明", "phone": PHONE}
    assert get(c, cid, c.clerk7)["contact"]["phone"] == PHONE
    assert get(c, cid, c.clerk1)["contact"]["phone"] == "139****5678"
    assert get(c, cid, c.officer)["contact"]["phone"] == "139****5678"
    r = c.get("/api/v1/complaints.csv", headers=c.sup)
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "编号 Number" and rows[1][0] == "BC20261124-001" and len(rows) == 2
    assert PHONE not in r.content.decode("utf-8-sig") and "139****5678" in rows[1][7]
    assert_error(c.get("/api/v1/complaints.csv", headers=c.clerk7), 403)
    assert_error(c.get("/api/v1/complaints", params={"status": "lost"}, headers=c.sup), 422)
    assert_error(c.get("/api/v1/complaints", headers=c.make_user("kiosk-b", "kiosk")), 403)
    # the outbox lists the number masked too
    listed = c.get("/api/v1/outbox", headers=c.sup)
    assert listed.status_code == 200 and PHONE not in listed.text
    assert [m["phone"] for m in listed.json()["messages"]] == ["139****5678"]


def test_a_case_status_page_registers_one_linked_to_its_case_a_few_a_day(c):
    r = c.post("/api/v1/cases", headers=c.clerk1, json={
        "matter": "WJ-001", "applicant": {"name": "刘晓梅", "phone": "13700001111"},
        "materials": [{"name": m, "state": "original"} for m in CHECKLIST]})
    assert r.status_code == 201, r.text
    case = r.json()
    body = {"query_code": case["query_code"], "text": "说好的当天办结，到现在还没消息"}
    got = c.post("/api/v1/complaints/public", json=body)
    assert got.status_code == 201, got.text
    one = get(c, got.json()["id"])
    assert (one["channel"], one["case"], one["case_number"], one["matter"]) == ("status_page", case["id"],
                                                                                case["number"], "WJ-001")
    for _ in range(2):
        assert c.post("/api/v1/complaints/public", json=body).status_code == 201
    assert_error(c.post("/api/v1/complaints/public", json=body), 429, "too_many_complaints")
    assert_error(c.post("/api/v1/complaints/public", json={**body, "query_code": "nope"}), 404)
    assert_error(c.post("/api/v1/complaints/public", json={"query_code": case["query_code"]}), 422)


@pytest.fixture
def with_modem(tmp_path, district_cfg, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", "admin-test-password")
    modem = DeviceConfig(name="sms-modem", kind="sms", url="sim://sms", poll_s=0.2)
    cfg = district_cfg.model_copy(update={"devices": (modem,), "seats": (),
                                          "sms": SmsPolicy(device="sms-modem", retry_s=(0.1, 0.2))})
    h = Running(cfg, tmp_path / "data", Clock())
    yield h
    h.close()


def test_the_seven_steps_send_their_two_messages_through_the_simulated_modem(with_modem):
    """受理-分类-转办-办结-反馈-核查-备案 with the citizen told by SMS at registration and at the answer, as the
    simulated modem received them over its AT line."""
    h = with_modem
    clerk7 = clerk_at(h.c, 7)
    r = h.c.post("/api/v1/complaints", headers=clerk7, json={"text": "材料被要求重复提交", "contact": {"phone": PHONE}})
    assert r.status_code == 201, r.text
    number, cid = r.json()["number"], r.json()["id"]
    sent = h.modem.wait_sent(1)
    assert len(sent) == 1 and sent[0].number.endswith(PHONE) and number in sent[0].text
    wait_for(lambda: h.outbox()[0]["status"] == "sent")
    sup, officer = h.c.make_user("sup", "supervisor"), dept_user(h.c, "officer", DEPT)
    for name, headers, body in (("classify", sup, {"class": "simple"}), ("assign", sup, {"department": DEPT}),
                                ("answer", officer, {"text": "已核实，材料只需提交一次"}),
                                ("feedback", clerk7, {"text": "已告知"}), ("check", sup, {}), ("file", sup, {})):
        r = h.c.post(f"/api/v1/complaints/{cid}/{name}", json=body, headers=headers)
        assert r.status_code == 200, (name, r.text)
    assert r.json()["status"] == "filed"
    sent = h.modem.wait_sent(2)
    assert len(sent) == 2 and sent[1].number.endswith(PHONE)
    assert number in sent[1].text and "材料只需提交一次" in sent[1].text
    wait_for(lambda: [m["status"] for m in h.outbox()] == ["sent", "sent"])
    evs = h.c.get("/api/v1/events", params={"since": 0, "limit": 1000}).json()["events"]
    assert [e["data"]["to"] for e in evs if e["type"] == "sms.sent"] == ["139****5678"] * 2
