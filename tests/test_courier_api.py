"""The courier register through the API (issue 16, item 5): a parcel signed in at the window, attached to a case
(its arrival in the case's history) or opened as a case with channel courier, sorted to a department; the list
of parcels not attached yet; department officers reading their departments' parcels only; duplicate waybills, final
cases and bad fields refused with messages in both languages; the sender's phone in no event and no log."""
from __future__ import annotations

import logging

import pytest
from api_helpers import assert_error, clerk_at

from hall_server.courier.rules import courier_name, waybill_number

PHONE = "13967051842"
SENDER = "李寄件"
MATERIALS_SH003 = ["居民身份证原件", "临时救助申请书", "遭遇困难的相关证明"]
COURIERS = ("中国邮政EMS", "顺丰速运", "京东物流", "中通快递", "圆通速递")


def parcel_body(waybill="SF1234567890", courier="顺丰速运", **extra) -> dict:
    return {"courier": courier, "waybill": waybill, "sender_name": SENDER, "sender_phone": PHONE,
            "contents": "临时救助申请材料一套", **extra}


def register(client, headers, status=201, **body) -> dict:
    r = client.post("/api/v1/parcels", json=parcel_body(**body), headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def take_in(client, clerk, names=MATERIALS_SH003) -> dict:
    r = client.post("/api/v1/cases", json={"matter": "SH-003", "applicant": {"name": "张三", "phone": "13800000000"},
                                           "materials": [{"name": n, "state": "original"} for n in names]},
                    headers=clerk)
    assert r.status_code == 201, r.text
    return r.json()


def history(client, headers, case_id) -> list[dict]:
    return client.get(f"/api/v1/cases/{case_id}", headers=headers).json()["history"]


def events(client) -> list[dict]:
    return client.get("/api/v1/events", params={"since": 0, "limit": 1000}).json()["events"]


@pytest.fixture
def clerk(client):
    return clerk_at(client, 3)


def test_a_parcel_is_registered_and_listed_until_attached(client, clerk):
    options = client.get("/api/v1/parcels/options", headers=clerk).json()
    assert "顺丰速运" in options["couriers"] and "区民政局" in options["departments"]
    p = register(client, clerk, courier="顺丰", waybill="sf 1234 5678 90", matter="SH-003")
    assert (p["courier"], p["waybill"], p["status"]) == ("顺丰速运", "SF1234567890", "registered")
    assert p["sender"] == {"name": SENDER, "phone_masked": "139****1842"} and PHONE not in str(p)
    assert (p["window"], p["registered_by"], p["matter_name"], p["case"]) == (3, "clerk3", "临时救助申请", None)
    other = register(client, clerk, courier="DHL Express", waybill="JD-0001-2345")      # free text
    assert other["courier"] == "DHL Express"
    listed = client.get("/api/v1/parcels", params={"attached": "false"}, headers=clerk).json()
    assert [x["id"] for x in listed["parcels"]] == [other["id"], p["id"]] and listed["more"] is False
    assert client.get(f"/api/v1/parcels/{p['id']}", headers=clerk).json() == p
    assert_error(client.get("/api/v1/parcels/999", headers=clerk), 404, "parcel_not_found")


def test_the_same_waybill_of_the_same_courier_is_refused_naming_the_first(client, clerk):
    first = register(client, clerk)
    err = assert_error(client.post("/api/v1/parcels", json=parcel_body(waybill="sf1234567890", courier="顺丰"),
                                   headers=clerk), 409, "duplicate_waybill")
    assert err["parcel"] == first["id"] and str(first["id"]) in err["message_zh"]
    assert "SF1234567890" in err["message_en"]
    assert register(client, clerk, courier="中通快递")["waybill"] == "SF1234567890"      # another courier's: fine
    register(client, clerk, courier="dhl", waybill="X-123456")
    assert_error(client.post("/api/v1/parcels", json=parcel_body(courier="DHL", waybill="x-123456"), headers=clerk),
                 409, "duplicate_waybill")                                         # free text: any case


def test_attached_to_a_case_its_arrival_is_in_the_case_history(client, clerk):
    case = take_in(client, clerk, names=["居民身份证原件"])
    p = register(client, clerk)
    r = client.post(f"/api/v1/parcels/{p['id']}/attach", json={"case": case["number"]}, headers=clerk)
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["status"] == "attached" and p["case"]["number"] == case["number"] and p["attached_by"] == "clerk3"
    assert p["case"]["departments"] == ["区民政局"] and p["matter"] == "SH-003"
    steps = history(client, clerk, case["id"])
    assert [s["action"] for s in steps] == ["received", "parcel_received"]
    assert steps[1]["status"] == "received" and steps[1]["by"] == "clerk3"
    arrival = next(e for e in events(client) if e["type"] == "case.parcel_received")
    assert arrival["data"] == {"case": case["id"], "number": case["number"], "matter": "SH-003", "kind": "承诺",
                               "status": "received", "parcel": p["id"], "courier": "顺丰速运",
                               "waybill": "SF1234567890"}
    assert client.get("/api/v1/parcels", params={"attached": "false"}, headers=clerk).json()["parcels"] == []
    assert [x["id"] for x in client.get("/api/v1/parcels", params={"case": case["id"]},
                                        headers=clerk).json()["parcels"]] == [p["id"]]
    err = assert_error(client.post(f"/api/v1/parcels/{p['id']}/attach", json={"case": case["id"]}, headers=clerk),
                       409, "parcel_attached")
    assert case["number"] in err["message_zh"]
    # a case waiting for 补正: the parcel of the missing items goes on it, the status in the history
    client.post(f"/api/v1/cases/{case['id']}/request-supplement", json={"missing": ["临时救助申请书"]}, headers=clerk)
    register(client, clerk, waybill="SF0000000002", case=case["id"])
    assert history(client, clerk, case["id"])[-1] == {**history(client, clerk, case["id"])[-1],
                                                      "action": "parcel_received", "status": "supplement"}
    loose = register(client, clerk, waybill="SF0000000003")
    assert_error(client.post(f"/api/v1/parcels/{loose['id']}/attach", json={"case": "XL-20991231-9999"},
                             headers=clerk), 404, "case_not_found")


def test_a_case_opened_from_a_parcel_has_channel_courier(client, clerk):
    p = register(client, clerk, matter="SH-003")
    r = client.post(f"/api/v1/parcels/{p['id']}/open-case", headers=clerk, json={
        "applicant_is_sender": True, "materials": [{"name": n, "state": "original"} for n in MATERIALS_SH003]})
    assert r.status_code == 201, r.text
    opened = r.json()
    case = opened["case"]
    assert (case["channel"], case["matter"], case["status"], case["missing"]) == ("courier", "SH-003", "received", [])
    assert case["applicant"]["name"] == SENDER and case["applicant"]["phone"] == PHONE and case["window"] == 3
    assert [s["action"] for s in case["history"]] == ["received", "parcel_received"]
    assert opened["parcel"]["status"] == "attached" and opened["parcel"]["case"]["id"] == case["id"]
    assert_error(client.post(f"/api/v1/parcels/{p['id']}/open-case", headers=clerk, json={
        "applicant_is_sender": True}), 409, "parcel_attached")
    # another applicant than the sender, another matter than registered; the case is accepted as any other
    q = register(client, clerk, waybill="EMS-99887766", courier="EMS")
    assert q["courier"] == "中国邮政EMS"
    opened = client.post(f"/api/v1/parcels/{q['id']}/open-case", headers=clerk, json={
        "matter": "SH-003", "applicant": {"name": "王五", "phone": "13700000000"},
        "materials": [{"name": "居民身份证原件", "state": "copy"}]}).json()
    assert opened["case"]["applicant"]["name"] == "王五" and len(opened["case"]["missing"]) == 2
    assert opened["parcel"]["matter"] == "SH-003"
    assert client.get(f"/api/v1/cases/{case['id']}", headers=clerk).json()["status"] == "received"
    r = client.post(f"/api/v1/cases/{case['id']}/accept", headers=clerk)
    assert r.status_code == 200 and r.json()["status"] == "accepted"


def test_sorted_to_a_deciding_department(client, clerk):
    p = register(client, clerk)
    assert [x["id"] for x in client.get("/api/v1/parcels", params={"sorted": "false"},
                                        headers=clerk).json()["parcels"]] == [p["id"]]
    r = client.post(f"/api/v1/parcels/{p['id']}/sort", json={"department": "区民政局"}, headers=clerk)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["department"], r.json()["sorted_by"]) == ("sorted", "区民政局", "clerk3")
    again = client.post(f"/api/v1/parcels/{p['id']}/sort", json={"department": "区人社局"}, headers=clerk).json()
    assert again["department"] == "区人社局"
    sorted_events = [e["data"] for e in events(client) if e["type"] == "parcel.sorted"]
    assert [(d["department"], d.get("previous")) for d in sorted_events] == [("区民政局", None),
                                                                             ("区人社局", "区民政局")]
    assert client.get("/api/v1/parcels", params={"sorted": "false"}, headers=clerk).json()["parcels"] == []
    assert client.get("/api/v1/parcels", params={"department": "区人社局"}, headers=clerk).json()["parcels"][0]["id"] \
        == p["id"]
    err = assert_error(client.post(f"/api/v1/parcels/{p['id']}/sort", json={"department": "区民政"}, headers=clerk),
                       422, "unknown_department")
    assert "区民政局" in err["message_zh"] and "did you mean" in err["message_en"] and err["field"] == "department"
    assert_error(client.post(f"/api/v1/parcels/{p['id']}/sort", json={}, headers=clerk), 422, "department_required")


@pytest.mark.parametrize("final", ["refuse", "withdraw"])
def test_a_final_case_takes_no_parcel(client, clerk, final):
    case = take_in(client, clerk)
    r = client.post(f"/api/v1/cases/{case['id']}/{final}", json={"reason": "不属于本机关职权范围"}, headers=clerk)
    assert r.status_code == 200, r.text
    status = r.json()["status"]
    p = register(client, clerk)
    err = assert_error(client.post(f"/api/v1/parcels/{p['id']}/attach", json={"case": case["id"]}, headers=clerk),
                       409, "case_final")
    assert case["number"] in err["message_zh"]
    assert {"refused": "不予受理", "withdrawn": "已撤回"}[status] in err["message_zh"]
    assert "final" in err["message_en"] and err["state"] == status
    # registered with the final case: refused whole, nothing saved
    seq = len(events(client))
    assert_error(client.post("/api/v1/parcels", json=parcel_body(waybill="YT0000000001", case=case["number"]),
                             headers=clerk), 409, "case_final")
    assert len(events(client)) == seq
    assert client.get("/api/v1/parcels", params={"waybill": "YT0000000001"}, headers=clerk).json()["parcels"] == []
    assert [s["action"] for s in history(client, clerk, case["id"])][-1] != "parcel_received"


@pytest.mark.parametrize("body, fields, zh", [
    ({}, ["courier", "waybill", "sender_name", "sender_phone", "contents"], "请填写运单号"),
    (parcel_body(waybill="AB12"), ["waybill"], "6–30 位字母、数字或短横线"),
    (parcel_body(waybill="SF12345678901234567890123456789"), ["waybill"], "运单号"),
    (parcel_body(waybill="SF_123456"), ["waybill"], "运单号"),
    (parcel_body(sender_phone="call me"), ["sender_phone"], "寄件人电话格式有误"),
    (parcel_body(sender_phone="12"), ["sender_phone"], "寄件人电话"),
    (parcel_body(contents="   "), ["contents"], "内件"),
    (parcel_body(sender_name="某" * 41), ["sender_name"], "不超过 40 个字"),
])
def test_bad_fields_are_named_in_both_languages(client, clerk, body, fields, zh):
    err = assert_error(client.post("/api/v1/parcels", json=body, headers=clerk), 422, "invalid_parcel")
    assert [f["field"] for f in err["fields"]] == fields
    assert zh in err["message_zh"] and all(f["problem_zh"] and f["problem_en"] for f in err["fields"])
    assert client.get("/api/v1/parcels", headers=clerk).json()["parcels"] == []


def test_other_refusals(client, clerk):
    assert_error(client.post("/api/v1/parcels", json=parcel_body(matter="XX-1"), headers=clerk), 404,
                 "matter_not_found")
    assert_error(client.post("/api/v1/parcels", json={**parcel_body(), "colour": "red"}, headers=clerk), 422,
                 "invalid_request")
    p = register(client, clerk)
    err = assert_error(client.post(f"/api/v1/parcels/{p['id']}/open-case", json={"applicant": {"name": "张三"}},
                                   headers=clerk), 422, "matter_required")
    assert err["message_zh"].startswith("请选择")
    assert_error(client.post(f"/api/v1/parcels/{p['id']}/open-case", json={"matter": "SH-003"}, headers=clerk), 422,
                 "applicant_required")
    assert_error(client.post(f"/api/v1/parcels/{p['id']}/open-case", headers=clerk, json={
        "matter": "SH-003", "applicant_is_sender": True, "materials": [{"name": "户口本", "state": "original"}]}),
        422, "unknown_material")
    assert client.get(f"/api/v1/parcels/{p['id']}", headers=clerk).json()["status"] == "registered"
    assert client.get("/api/v1/cases", headers=clerk).json()["cases"] == []       # nothing half done
    assert_error(client.post("/api/v1/parcels/999/attach", json={"case": 1}, headers=clerk), 404, "parcel_not_found")
    for role in ("kiosk", "technician"):
        other = client.make_user(f"p-{role}", role)
        assert_error(client.get("/api/v1/parcels", headers=other), 403, "role_forbidden")
        assert_error(client.post("/api/v1/parcels", json=parcel_body(), headers=other), 403, "role_forbidden")
    assert_error(client.get("/api/v1/parcels"), 401)
    supervisor = client.make_user("p-supervisor", "supervisor")
    assert register(client, supervisor, waybill="SUP-000001")["window"] is None


def test_department_officers_read_the_parcels_of_their_departments(client, clerk):
    from test_cases_api import officer
    mz, rs = officer(client, "p-mz", "区民政局"), officer(client, "p-rs", "区人社局")
    case = take_in(client, clerk)                                            # SH-003: 区民政局 decides
    attached = register(client, clerk, case=case["id"])
    sorted_rs = register(client, clerk, waybill="SF0000000002")
    client.post(f"/api/v1/parcels/{sorted_rs['id']}/sort", json={"department": "区人社局"}, headers=clerk)
    loose = register(client, clerk, waybill="SF0000000003")                 # neither attached nor sorted: nobody's

    def seen(headers, **params):
        r = client.get("/api/v1/parcels", params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["parcels"]]
    assert seen(mz) == [attached["id"]] and seen(rs) == [sorted_rs["id"]]
    assert seen(mz, case=case["id"]) == [attached["id"]] and seen(mz, attached="false") == []
    assert seen(clerk) == [loose["id"], sorted_rs["id"], attached["id"]]  # the window sees every parcel
    got = client.get(f"/api/v1/parcels/{attached['id']}", headers=mz)
    assert got.status_code == 200 and got.json()["case"]["number"] == case["number"]
    assert PHONE not in got.text and got.json()["sender"]["phone_masked"] == "139****1842"
    for headers, other in ((mz, sorted_rs), (mz, loose), (rs, attached)):
        err = assert_error(client.get(f"/api/v1/parcels/{other['id']}", headers=headers), 403, "not_your_department")
        assert err["message_zh"] and err["message_en"]
    assert_error(client.get("/api/v1/parcels", params={"department": "区人社局"}, headers=mz), 403,
                 "not_your_department")
    assert seen(rs, department="区人社局") == [sorted_rs["id"]]
    # sorted to 区人社局 as well: both departments see it
    client.post(f"/api/v1/parcels/{attached['id']}/sort", json={"department": "区人社局"}, headers=clerk)
    assert seen(rs) == [sorted_rs["id"], attached["id"]] and seen(mz) == [attached["id"]]
    # reading only: the register's changes stay the comprehensive windows'
    assert_error(client.post("/api/v1/parcels", json=parcel_body(waybill="SF0000000004"), headers=mz), 403,
                 "role_forbidden")
    assert_error(client.post(f"/api/v1/parcels/{loose['id']}/sort", json={"department": "区民政局"}, headers=mz),
                 403, "role_forbidden")
    assert_error(client.get("/api/v1/parcels/options", headers=mz), 403, "role_forbidden")


def test_the_senders_phone_is_in_no_event_and_no_log(client, clerk, caplog):
    caplog.set_level(logging.DEBUG)
    case = take_in(client, clerk)
    p = register(client, clerk, case=case["id"])
    q = register(client, clerk, waybill="SF0000000009")
    client.post(f"/api/v1/parcels/{q['id']}/open-case", json={"matter": "SH-003", "applicant_is_sender": True},
                headers=clerk)
    client.post(f"/api/v1/parcels/{p['id']}/sort", json={"department": "区民政局"}, headers=clerk)
    client.post("/api/v1/parcels", json=parcel_body(), headers=clerk)                  # a refusal too
    parcel_events = [e for e in events(client)
                     if e["type"].startswith("parcel.") or e["type"] == "case.parcel_received"]
    assert {e["type"] for e in parcel_events} == {"parcel.registered", "parcel.attached", "case.parcel_received",
                                                  "parcel.sorted"}
    text = str(events(client))
    assert PHONE not in text and PHONE[-8:] not in text and SENDER not in text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert PHONE not in logged and PHONE[-8:] not in logged
    listed = str(client.get("/api/v1/parcels", headers=clerk).json())
    assert PHONE not in listed and "139****1842" in listed


@pytest.mark.parametrize("typed, registered", [
    ("顺丰速运", "顺丰速运"), ("  顺丰 ", "顺丰速运"), ("ems", "中国邮政EMS"), ("中国邮政", "中国邮政EMS"),
    ("京东", "京东物流"), ("通", "通"), ("圆通速递公司", "圆通速递"), ("DHL", "DHL"), ("德邦  快递", "德邦 快递"),
])
def test_courier_names(typed, registered):
    assert courier_name(typed, COURIERS) == registered


@pytest.mark.parametrize("typed, stored", [("sf 1234 5678 90", "SF1234567890"), ("JD-0001-2345\t", "JD-0001-2345")])
def test_waybill_numbers(typed, stored):
    assert waybill_number(typed) == stored
