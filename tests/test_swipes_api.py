"""The kiosk's card flow on the server (issue 4, items 5-6): a swipe gives a greeting with the masked name,
suggestions, the right priority, a per-person quota, and checks in an appointment; the full number never
reaches the database."""
from __future__ import annotations

from datetime import date

import pytest
from api_helpers import assert_error, clerk_at
from identity_helpers import card, id_number

ELDER = date(1956, 3, 8)        # 70 on the test morning (2026-11-24)
ADULT = date(1990, 7, 15)


@pytest.fixture
def kiosk(client):
    return client.make_user("kiosk1", "kiosk")


def swipe(client, headers, born=ADULT, kiosk="kiosk1", **kw):
    r = client.post("/api/v1/swipes", json={"kiosk": kiosk, "card": card(born, **kw)}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def take(client, headers, s, matter="SH-001", kiosk="kiosk1"):
    return client.post("/api/v1/tickets", json={"matter": matter, "kiosk": kiosk, "swipe": s["id"]}, headers=headers)


def test_a_70_year_olds_swipe_greets_suggests_and_gives_an_elderly_ticket(client, kiosk):
    s = swipe(client, kiosk, ELDER, name="王秀英", seq=124)
    assert (s["greeting_zh"], s["name_masked"], s["age"], s["gender"], s["priority"]) == (
        "王女士，您好！", "王**", 70, "女", "elderly")
    assert s["id_masked"] == id_number(ELDER, 124)[:3] + "*" * 11 + id_number(ELDER, 124)[-4:]
    assert [x["matter"] for x in s["suggestions"]] == ["LN-001"]
    r = take(client, kiosk, s, "LN-001")
    assert r.status_code == 201, r.text
    assert r.json()["priority"] == "elderly"
    again = client.get(f"/api/v1/swipes/{s['id']}", headers=kiosk).json()
    assert [t["number"] for t in again["tickets_today"]] == [r.json()["number"]]


def test_an_elderly_swipe_is_called_before_earlier_normal_tickets(client, kiosk):
    first = take(client, kiosk, swipe(client, kiosk, ADULT, seq=111), "SH-001").json()
    elder = take(client, kiosk, swipe(client, kiosk, ELDER, seq=222), "SH-001").json()
    clerk = clerk_at(client, 1)
    called = client.post("/api/v1/windows/1/call-next", headers=clerk).json()
    assert (called["number"], first["priority"]) == (elder["number"], "normal")


def test_the_daily_quota_per_person_and_matter_is_enforced_in_the_issuing_transaction(client, kiosk):
    s = swipe(client, kiosk, ADULT)
    numbers = [take(client, kiosk, s).json()["number"] for _ in range(2)]
    err = assert_error(take(client, kiosk, s), 409, "quota_exceeded")
    assert err["tickets"] == numbers and err["quota"] == 2 and "服务台" in err["message_zh"]
    assert take(client, kiosk, s, "WJ-001").status_code == 201         # another matter: its own quota
    s2 = swipe(client, kiosk, ADULT)                                      # swiping again does not reset it
    assert_error(take(client, kiosk, s2), 409, "quota_exceeded")
    other = swipe(client, kiosk, ADULT, seq=125)                         # another person is unaffected
    assert take(client, kiosk, other).status_code == 201


def test_a_cancelled_ticket_gives_its_quota_back(client, kiosk):
    s = swipe(client, kiosk, ADULT)
    t = [take(client, kiosk, s).json() for _ in range(2)]
    assert client.post(f"/api/v1/tickets/{t[0]['id']}/cancel", headers=client.admin).status_code == 200
    assert take(client, kiosk, s).status_code == 201


def test_a_swipe_expires_and_belongs_to_its_kiosk(client, kiosk):
    s = swipe(client, kiosk, ADULT)
    assert_error(take(client, kiosk, s, kiosk="kiosk2"), 409, "swipe_other_kiosk")
    client.hall.clock.advance(seconds=client.hall.cfg.identity.swipe_ttl_s + 1)
    assert_error(take(client, kiosk, s), 409, "swipe_expired")
    assert_error(client.post("/api/v1/tickets", json={"matter": "SH-001", "swipe": "nope"}, headers=kiosk),
                 404, "swipe_not_found")


def test_an_expired_card_is_told_and_offered_renewal(client, kiosk):
    s = swipe(client, kiosk, ADULT, long_term=False, valid_to="2024-05-01")
    assert s["card_expired"] and s["notices"][0]["code"] == "card_expired"
    assert "2024-05-01" in s["notices"][0]["zh"]
    assert [x["matter"] for x in s["suggestions"]] == ["GA-003"]
    assert take(client, kiosk, s, "GA-003").status_code == 201


@pytest.mark.parametrize("bad", ["11010519491231002", "110105194912310021", "1101051949123100XX"])
def test_a_bad_number_is_refused_without_echoing_it(client, kiosk, bad):
    r = client.post("/api/v1/swipes", json={"kiosk": "kiosk1", "card": {"id_number": bad, "name": "张三"}},
                    headers=kiosk)
    assert r.status_code == 422
    assert bad not in r.text and "ID number" in r.text


def test_an_appointment_made_earlier_is_checked_in_by_the_swipe(client, kiosk):
    sup = client.make_user("sup", "supervisor")
    body = {"matter": "RS-001", "day": "2026-11-24", "slot_start": "09:30", "slot_end": "10:00",
            "channel": "remote", "citizen": {"id_number": id_number(ADULT), "name": "李四"}}
    r = client.post("/api/v1/appointments", json=body, headers=sup)
    assert r.status_code == 201, r.text
    appt = r.json()
    assert appt["status"] == "booked" and appt["name_masked"] == "李*" and id_number(ADULT) not in r.text
    assert_error(client.post("/api/v1/appointments", json=body, headers=sup), 409, "appointment_exists")
    s = swipe(client, kiosk, ADULT)
    assert [a["id"] for a in s["appointments"]] == [appt["id"]]
    t = take(client, kiosk, s, "RS-001").json()
    assert (t["priority"], t["channel"]) == ("appointment", "appointment")
    after = client.get(f"/api/v1/appointments/{appt['id']}", headers=sup).json()
    assert (after["status"], after["ticket_id"]) == ("checked_in", t["id"])
    types = [e["type"] for e in client.get("/api/v1/events?since=0", headers=sup).json()["events"]]
    assert "appointment.checked_in" in types and "card.swiped" in types


def test_an_appointment_is_checked_in_only_around_its_slot(client, kiosk):
    sup = client.make_user("sup", "supervisor")
    body = {"matter": "RS-001", "day": "2026-11-24", "slot_start": "14:00", "slot_end": "14:30",
            "citizen": {"id_number": id_number(ADULT), "name": "李四"}}
    appt = client.post("/api/v1/appointments", json=body, headers=sup).json()
    early = take(client, kiosk, swipe(client, kiosk, ADULT), "RS-001").json()      # 09:00: too early
    assert early["priority"] == "normal"
    client.hall.clock.advance(hours=4, minutes=10)      # 13:10: within the hour before
    t = take(client, kiosk, swipe(client, kiosk, ADULT), "RS-001").json()
    assert t["priority"] == "appointment"
    listed = client.get("/api/v1/appointments", headers=sup).json()
    assert [(a["id"], a["status"]) for a in listed] == [(appt["id"], "checked_in")]


def test_appointments_are_refused_in_the_past_and_can_be_cancelled(client):
    sup = client.make_user("sup", "supervisor")
    body = {"matter": "RS-001", "day": "2026-11-23", "slot_start": "09:30", "slot_end": "10:00",
            "citizen": {"id_number": id_number(ADULT), "name": "李四"}}
    assert_error(client.post("/api/v1/appointments", json=body, headers=sup), 409, "appointment_in_past")
    r = client.post("/api/v1/appointments", json={**body, "slot_end": "09:00", "day": "2026-11-25"}, headers=sup)
    assert r.status_code == 422 and "slot_end" in r.text
    appt = client.post("/api/v1/appointments", json={**body, "day": "2026-11-25"}, headers=sup).json()
    r = client.post(f"/api/v1/appointments/{appt['id']}/cancel", json={"reason": "citizen called"}, headers=sup)
    assert r.json()["status"] == "cancelled"
    assert_error(client.post(f"/api/v1/appointments/{appt['id']}/cancel", headers=sup), 409,
                 "appointment_not_booked")


def test_who_may_swipe_and_book(client, kiosk):
    clerk = clerk_at(client, 1)
    tech = client.make_user("tech", "technician")
    assert_error(client.post("/api/v1/swipes", json={"kiosk": "kiosk1", "card": card(ADULT)}, headers=tech), 403)
    body = {"matter": "RS-001", "day": "2026-11-25", "slot_start": "09:30", "slot_end": "10:00",
            "citizen": {"id_number": id_number(ADULT), "name": "李四"}}
    for h in (kiosk, clerk):
        assert_error(client.post("/api/v1/appointments", json=body, headers=h), 403)
    assert_error(client.post("/api/v1/swipes", json={"kiosk": "kiosk1", "card": card(ADULT)}), 401)


def test_no_full_id_number_or_name_reaches_the_database(client, kiosk, tmp_path):
    sup = client.make_user("sup", "supervisor")
    numbers = [id_number(ELDER, 124), id_number(ADULT, 333)]
    s = swipe(client, kiosk, ELDER, seq=124, name="王秀英")
    take(client, kiosk, s, "LN-001")
    client.post("/api/v1/appointments", json={"matter": "RS-001", "day": "2026-11-24", "slot_start": "09:30",
                "slot_end": "10:00", "citizen": {"id_number": numbers[1], "name": "赵建国"}}, headers=sup)
    client.post("/api/v1/swipes", json={"kiosk": "kiosk1", "card": {"id_number": numbers[0][:-1] + "0",
                                                                     "name": "王秀英"}}, headers=kiosk)
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("hall.db*"))
    assert blob, "the database files were not found"
    for secret in [*numbers, numbers[0][:-1] + "0", "王秀英", "赵建国"]:
        for enc in ("utf-8", "utf-16-le", "gb18030"):
            assert secret.encode(enc) not in blob, (secret, enc)
    assert "王**".encode() in blob          # the masked name is what is kept
