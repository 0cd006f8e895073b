"""统一出件 through the API (issue 16, items 1 and 2): 出件 tickets taken by case number, query code or ID-card
swipe, called at the 出件 window (6) ahead of new intake and linked to their cases; hand-out with the collector
(masked ID, 代领) and the 领取回执 on window 6's simulated printer; a result sent by mail with its waybill, shown
on the public status page. The cases are 即办件 (WJ-001) taken in, accepted and decided at window 3.
"""
from __future__ import annotations

import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from api_helpers import assert_error, clerk_at
from fastapi.testclient import TestClient
from identity_helpers import id_number

from hall_server.app import create_app
from hall_server.cases.notices import unavailable
from hall_server.config import DeviceConfig
from hall_server.runtime import Hall

ADMIN_PASSWORD = "admin-test-password"
MATTER, CHECKLIST = "WJ-001", ["夫妻双方居民身份证", "结婚证", "户口簿"]      # 生育登记, 即办
CROSSREGION = "KY-001"                                                     # served at window 6 before results
APPLICANT_ID = id_number(datetime(1990, 5, 17).date(), 135)
COLLECTOR_ID = id_number(datetime(1962, 3, 8).date(), 246)
FULL_ID = re.compile(r"\d{17}[\dXx]")


def wait_for(cond, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while not (value := cond()):
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)
    return value


@pytest.fixture
def client(tmp_path, district_cfg, clock, monkeypatch):
    """The district hall with one device: window 6's simulated receipt printer (80 mm), printing into tmp."""
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
    printer = DeviceConfig(name="window6-printer", kind="printer", window=6,
                           url=f"sim://printer?width=80&out={tmp_path / 'w6'}")
    h = Hall(district_cfg.model_copy(update={"devices": (printer,), "seats": ()}), tmp_path, clock)
    h.ensure_admin()
    with TestClient(create_app(h), raise_server_exceptions=False) as c:
        c.hall, c.out, c.clock = h, tmp_path / "w6", clock
        r = c.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        c.admin = {"Authorization": f"Bearer {r.json()['token']}"}
        c.make_user = lambda username, role: make_user(c, username, role)
        wait_for(lambda: all(s.since for s in h.devices.devices.values()), 60)
        c.kiosk = c.make_user("kiosk1", "kiosk")
        c.intake, c.handout = clerk_at(c, 3), clerk_at(c, 6)
        yield c


def make_user(c, username: str, role: str) -> dict:
    r = c.post("/api/v1/users", json={"username": username, "password": f"{username}-password", "role": role},
               headers=c.admin)
    assert r.status_code == 201, r.text
    r = c.post("/api/v1/auth/login", json={"username": username, "password": f"{username}-password"})
    return {"Authorization": f"Bearer {r.json()['token']}"}


def act(client, headers: dict, case: dict, action: str, body: dict | None = None) -> dict:
    r = client.post(f"/api/v1/cases/{case['id']}/{action}", json=body or {}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def decided(client, applicant_id: str = APPLICANT_ID, name: str = "刘晓梅") -> dict:
    """A 即办件 taken in at window 3, accepted and approved on the spot."""
    r = client.post("/api/v1/cases", headers=client.intake, json={
        "matter": MATTER, "applicant": {"name": name, "phone": "13700001111", "id_number": applicant_id},
        "materials": [{"name": m, "state": "original"} for m in CHECKLIST]})
    assert r.status_code == 201, r.text
    case = act(client, client.intake, r.json(), "accept")
    return act(client, client.intake, case, "decide", {"outcome": "approved", "opinion": "符合生育登记条件"})


def ready(client, via: str = "window", **body) -> dict:
    return act(client, client.handout, decided(client), "ready", {"via": via, **body})


def deliver(client, case: dict, body: dict):
    """POST …/deliver."""
    r = client.post(f"/api/v1/cases/{case['id']}/deliver", json=body, headers=client.handout)
    return r


def handout_ticket(client, headers=None, **body) -> dict:
    r = client.post("/api/v1/handout-tickets", json=body, headers=headers or client.kiosk)
    assert r.status_code == 201, r.text
    return r.json()


def swipe(client, number: str = APPLICANT_ID, name: str = "刘晓梅") -> str:
    r = client.post("/api/v1/swipes", json={"kiosk": "kiosk1", "card": {"id_number": number, "name": name,
                                                                        "long_term": True}}, headers=client.kiosk)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def call_next(client) -> dict:
    client.clock.advance(seconds=5)              # past the call debounce
    r = client.post("/api/v1/windows/6/call-next", headers=client.handout)
    assert r.status_code == 200, r.text
    return r.json()


# -- the ticket ----------------------------------------------------------------------------------------------------
def test_a_ticket_by_case_number_query_code_or_swipe_is_linked_to_the_ready_cases(client):
    by_number, by_code = ready(client), ready(client)
    t = handout_ticket(client, number=by_number["number"].lower(), kiosk="kiosk1")
    assert t["matter"] == "CJ-001" and t["priority"] == "handout" and t["channel"] == "kiosk"
    assert t["number"].startswith("C") and t["status"] == "waiting"
    assert t["case"] == {"id": by_number["id"], "number": by_number["number"]} and t["cases"] == [t["case"]]
    again = client.get(f"/api/v1/tickets/{t['id']}").json()
    assert again["case"] == t["case"] and again["cases"] == t["cases"] and again["priority"] == "handout"

    t2 = handout_ticket(client, query_code=by_code["query_code"])
    assert t2["case"]["number"] == by_code["number"]

    # a swipe of the applicant's card: every one of their cases ready at the window not yet on a ticket
    third = ready(client)
    t3 = handout_ticket(client, swipe=swipe(client), kiosk="kiosk1")
    assert t3["cases"] == [{"id": third["id"], "number": third["number"]}]
    events = client.get("/api/v1/events", params={"since": 0, "limit": 1000}).json()["events"]
    linked = [e["data"] for e in events if e["type"] == "handout.ticket"]
    assert [d["number"] for d in linked] == [t["number"], t2["number"], t3["number"]]
    assert "刘晓梅" not in str(events) and APPLICANT_ID not in str(events)

    # staff take one for a citizen at the counter; an ordinary ticket cannot claim the class
    fourth = ready(client)
    assert handout_ticket(client, client.handout, number=fourth["number"])["channel"] == "staff"
    r = client.post("/api/v1/tickets", json={"matter": "CJ-001", "priority": "handout"}, headers=client.kiosk)
    assert_error(r, 422, "invalid_request")


def test_the_handout_ticket_is_called_at_window_6_before_an_earlier_crossregion_ticket(client):
    case = ready(client)
    earlier = client.post("/api/v1/tickets", json={"matter": CROSSREGION}, headers=client.kiosk).json()
    client.clock.advance(seconds=30)
    t = handout_ticket(client, number=case["number"])
    assert t["waiting_ahead"] == 0                     # the crossregion ticket waits behind it
    assert client.get(f"/api/v1/tickets/{earlier['id']}").json()["waiting_ahead"] == 1
    called = call_next(client)
    assert called["id"] == t["id"] and called["window"] == 6 and called["case"]["id"] == case["id"]
    assert call_next(client)["id"] == earlier["id"]
    window = client.get("/api/v1/windows/6").json()
    assert window["current"]["id"] == earlier["id"]


def test_a_case_not_ready_for_the_window_is_409_saying_its_state(client):
    accepted = client.post("/api/v1/cases", headers=client.intake, json={
        "matter": MATTER, "applicant": {"name": "赵敏"},
        "materials": [{"name": m, "state": "original"} for m in CHECKLIST]}).json()
    accepted = act(client, client.intake, accepted, "accept")
    err = assert_error(client.post("/api/v1/handout-tickets", json={"number": accepted["number"]},
                                   headers=client.kiosk), 409, "case_not_ready")
    assert err["state"] == "accepted" and "已受理" in err["message_zh"] and "accepted" in err["message_en"]

    d = decided(client)
    err = assert_error(client.post("/api/v1/handout-tickets", json={"query_code": d["query_code"]},
                                   headers=client.kiosk), 409, "case_not_ready")
    assert err["state"] == "decided" and "出件窗口" in err["message_zh"]

    mailed = ready(client, "mail", address="湖北省黄石市下陆区团城山街道 12 号")
    err = assert_error(client.post("/api/v1/handout-tickets", json={"number": mailed["number"]},
                                   headers=client.kiosk), 409, "case_not_ready")
    assert "邮寄" in err["message_zh"] and "mail" in err["message_en"]

    # the applicant's swipe finds only these: none ready at the window
    err = assert_error(client.post("/api/v1/handout-tickets", json={"swipe": swipe(client)}, headers=client.kiosk),
                       409, "case_not_ready")
    assert {c["number"] for c in err["cases"]} >= {d["number"], mailed["number"]}

    # one ticket per case: the second asks to wait for the first
    case = ready(client)
    first = handout_ticket(client, number=case["number"])
    err = assert_error(client.post("/api/v1/handout-tickets", json={"number": case["number"]}, headers=client.kiosk),
                       409, "handout_ticket_exists")
    assert err["tickets"] == [first["number"]] and first["number"] in err["message_zh"]


def test_nothing_found_is_404_and_bad_requests_are_refused(client):
    err = assert_error(client.post("/api/v1/handout-tickets", json={"number": "XL-20991231-0001"},
                                   headers=client.kiosk), 404, "case_not_found")
    assert "XL-20991231-0001" in err["message_zh"]
    assert_error(client.post("/api/v1/handout-tickets", json={"query_code": "no-such-code-123"},
                             headers=client.kiosk), 404, "case_not_found")
    stranger = swipe(client, id_number(datetime(1971, 1, 2).date(), 777), "孙立")
    assert_error(client.post("/api/v1/handout-tickets", json={"swipe": stranger}, headers=client.kiosk),
                 404, "no_cases")
    assert_error(client.post("/api/v1/handout-tickets", json={"swipe": "no-such-swipe"}, headers=client.kiosk),
                 404, "swipe_not_found")
    assert_error(client.post("/api/v1/handout-tickets", json={}, headers=client.kiosk), 422, "lookup_empty")
    assert_error(client.post("/api/v1/handout-tickets", json={"number": "x", "extra": 1}, headers=client.kiosk), 422)
    tech = client.make_user("tech1", "technician")
    assert_error(client.post("/api/v1/handout-tickets", json={"number": "x"}, headers=tech), 403, "role_forbidden")
    assert_error(client.post("/api/v1/handout-tickets", json={"number": "x"}), 401)
    assert not client.get("/api/v1/tickets", headers=client.admin).json()          # nothing was issued


def test_kiosks_take_handout_tickets_only_while_the_hall_takes_tickets(client):
    case = ready(client)
    client.clock.set(datetime(2026, 11, 24, 22, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert_error(client.post("/api/v1/handout-tickets", json={"number": case["number"]}, headers=client.kiosk),
                 409, "hall_closed")
    assert handout_ticket(client, client.handout, number=case["number"])["case"]["id"] == case["id"]


# -- hand-out at the window and the 领取回执 ---------------------------------------------------------------------------
def printed(client, count: int = 1) -> list[str]:
    found = wait_for(lambda: len(txt := sorted(client.out.glob("*.txt"))) >= count and txt)
    return [p.read_text(encoding="utf-8") for p in found]


def squash(text: str) -> str:
    return re.sub(r"[\s\u3000]+", "", text)


def test_handed_out_to_a_proxy_with_the_id_masked_and_the_collection_receipt_printed_at_window_6(client):
    case = ready(client)
    handout_ticket(client, number=case["number"])
    assert call_next(client)["case"]["id"] == case["id"]
    err = assert_error(client.post(f"/api/v1/cases/{case['id']}/print", json={"notice": "collection"},
                                   headers=client.handout), 409, "notice_not_available")
    assert "领取回执" in err["message_zh"]
    done = act(client, client.handout, case, "deliver",
               {"collector": {"name": "刘建国", "id_number": COLLECTOR_ID, "proxy": True,
                              "authorisation": "授权委托书 2026-12-01"}})
    collector = done["handout"]["collector"]
    assert done["status"] == "delivered" and done["handout"]["delivered_by"] == "clerk6"
    assert collector["name"] == "刘建国" and collector["proxy"] is True
    assert collector["id_masked"] == f"{COLLECTOR_ID[:3]}{'*' * 11}{COLLECTOR_ID[-4:]}"
    assert COLLECTOR_ID not in str(client.get(f"/api/v1/cases/{case['id']}", headers=client.admin).json())
    events = client.get("/api/v1/events", params={"since": 0, "limit": 1000}).json()["events"]
    assert COLLECTOR_ID not in str(events) and "刘建国" not in str(events)

    # printed where the clerk is logged in (window 6), with what the receipt must say
    r = client.post(f"/api/v1/cases/{case['id']}/print", json={"notice": "collection"}, headers=client.handout)
    assert r.status_code == 200, r.text
    assert r.json()["device"] == "window6-printer" and r.json()["window"] == 6
    [text] = printed(client)
    flat = squash(text)
    delivered = datetime.fromisoformat(done["delivered_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    for words in ("领取回执", case["number"], "生育登记", "准予", "刘晓梅", "领取人：刘建国", collector["id_masked"],
                  "代领（凭授权委托书）", "出件窗口：6号窗口", "经办人：clerk6",
                  f"领取时间：{delivered.year}年{delivered.month}月{delivered.day}日{delivered:%H:%M}",
                  "领取人签名", "本回执一式两份"):
        assert squash(words) in flat, (words, text)
    assert not FULL_ID.search(text) and "13700001111" not in text

    # the A4 page says the same
    page = client.get(f"/cases/{case['id']}/notice/collection", headers=client.handout)
    assert page.status_code == 200 and "领取回执" in page.text and collector["id_masked"] in page.text
    assert COLLECTOR_ID not in page.text


def test_a_hand_out_at_the_window_without_the_collector_is_422(client):
    assert_error(deliver(client, ready(client), {}), 422, "collector_required")


def test_the_collection_receipt_is_only_for_results_handed_out_at_a_window():
    assert unavailable({"status": "ready", "handout": {"via": "window"}}, "collection")
    assert unavailable({"status": "delivered", "handout": {"via": "mail", "waybill": "SF1"}}, "collection")
    assert unavailable({"status": "delivered", "handout": {"via": "window", "collector": {"name": "甲"}}},
                       "collection") is None


# -- by mail -----------------------------------------------------------------------------------------------------
def test_a_result_sent_by_mail_shows_its_waybill_on_the_public_status_page(client):
    d = decided(client)
    assert_error(client.post(f"/api/v1/cases/{d['id']}/ready", json={"via": "mail"}, headers=client.handout),
                 422, "address_required")
    case = act(client, client.handout, d, "ready", {"via": "mail", "address": "湖北省黄石市下陆区新下陆街道 8 号"})
    assert case["status"] == "ready" and case["handout"]["address"].startswith("湖北省")
    status = client.get(f"/api/v1/case-status/{case['query_code']}").json()
    assert status["status"] == "ready" and status["via"] == "mail" and status["waybill"] is None
    assert_error(deliver(client, case, {}), 422, "waybill_required")
    r = deliver(client, case, {"waybill": " SF1234567890 "})
    assert r.status_code == 200, r.text
    sent = r.json()
    assert sent["status"] == "delivered" and sent["handout"]["waybill"] == "SF1234567890"
    status = client.get(f"/api/v1/case-status/{case['query_code']}").json()
    assert status["status"] == "delivered" and status["waybill"] == "SF1234567890"
    assert "address" not in str(status) and "新下陆街道" not in str(status)
    page = client.get(f"/c/{case['query_code']}")
    assert page.status_code == 200 and "SF1234567890" in page.text and 'data-test-id="case-waybill"' in page.text
    assert "刘晓梅" not in page.text and "新下陆街道" not in page.text
    assert_error(client.post(f"/api/v1/cases/{case['id']}/print", json={"notice": "collection", "window": 6},
                             headers=client.handout), 409, "notice_not_available")
