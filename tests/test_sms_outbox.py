"""The SMS outbox (issue 16, item 4): a message is committed with the case change that calls for it — at
accept (promised date and query code), 补正 (what is missing), decided, ready and the overdue apology — once per
event, only to a mobile number, with templates from config; a message left `sending` by a crash is marked
uncertain rather than sent again. (Sending through the simulated modem: tests/test_sms_delivery.py.)"""
from __future__ import annotations

from api_helpers import clerk_at
from conftest import ADMIN_PASSWORD
from test_cases_api import act, at, officer, take_in


def outbox(client) -> list[dict]:
    return [dict(r) for r in client.hall.store.read.execute("SELECT * FROM outbox ORDER BY id")]


def test_accept_and_supplement_put_their_messages_in_the_outbox(client, clock):
    clerk = clerk_at(client, 3)
    case = act(client, clerk, take_in(client, clerk)["id"], "accept")
    msgs = outbox(client)
    assert [(m["kind"], m["status"], m["phone"]) for m in msgs] == [("accepted", "queued", "13800000000")]
    text = msgs[0]["text"]
    assert case["number"] in text and case["query_code"] in text and case["due"] in text and "临时救助" in text
    assert "张三" not in text                                   # no name in a text message
    short = take_in(client, clerk, materials=["居民身份证原件"])
    act(client, clerk, short["id"], "request-supplement", {"missing": ["临时救助申请书"]})
    supplement = outbox(client)[-1]
    assert supplement["kind"] == "supplement" and "临时救助申请书" in supplement["text"]
    assert "遭遇困难的相关证明" in supplement["text"]            # everything missing, told once


def test_decided_and_the_overdue_apology(client, clock):
    clerk = clerk_at(client, 3)
    case = act(client, clerk, take_in(client, clerk)["id"], "accept")
    at(clock, 2026, 12, 9)                                       # past the promised 12-08
    client.portal.call(client.hall.cases.refresh_deadlines)
    client.portal.call(client.hall.cases.refresh_deadlines)      # still red: no second apology
    assert [m["kind"] for m in outbox(client)] == ["accepted", "overdue"]
    client.admin = client.headers_for("admin", ADMIN_PASSWORD)        # the clock passed the admin's token
    mz = officer(client, "mz1", "区民政局")
    act(client, mz, case["id"], "claim")
    act(client, mz, case["id"], "decide", {"outcome": "approved"})
    assert outbox(client)[-1]["kind"] == "decided" and "准予" in outbox(client)[-1]["text"]


def test_no_message_without_a_mobile_number(client, clock):
    clerk = clerk_at(client, 3)
    r = client.post("/api/v1/cases", headers=clerk, json={
        "matter": "SH-003", "applicant": {"name": "李四", "phone": "0714-6351234"},
        "materials": [{"name": n, "state": "original"}
                      for n in ("居民身份证原件", "临时救助申请书", "遭遇困难的相关证明")]})
    act(client, clerk, r.json()["id"], "accept")
    assert outbox(client) == []


def test_the_outbox_is_listed_for_supervisors_with_numbers_masked(client, clock):
    clerk = clerk_at(client, 3)
    act(client, clerk, take_in(client, clerk)["id"], "accept")
    sup = client.make_user("sup", "supervisor")
    got = client.get("/api/v1/outbox", headers=sup).json()
    assert got["counts"]["queued"] == 1 and got["messages"][0]["phone"] == "138****0000"
    assert "13800000000" not in str(got)
    assert client.get("/api/v1/outbox", headers=clerk).status_code == 403
    assert client.get("/api/v1/health").json()["sms_outbox"]["queued"] == 1
    assert client.get("/api/v1/dashboard", headers=sup).json()["cases"]["sms"]["queued"] == 1


def test_a_message_left_sending_by_a_crash_is_uncertain_not_resent(client, clock):
    clerk = clerk_at(client, 3)
    act(client, clerk, take_in(client, clerk)["id"], "accept")
    h = client.hall
    h.store.write_sync(lambda conn: _mark_sending(conn))
    assert client.portal.call(h.sms.recover) == 1
    assert outbox(client)[0]["status"] == "uncertain"
    alerts = client.get("/api/v1/alerts").json()["alerts"]
    assert any(a["kind"] == "sms_uncertain" and "138****0000" in a["detail"] for a in alerts)


def _mark_sending(conn):
    from hall_server.store.database import Change
    conn.execute("UPDATE outbox SET status='sending'")
    return Change()
