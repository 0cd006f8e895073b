"""Opening hours for kiosks: no kiosk tickets after hours (staff still may), the hall's `tickets_open`,
`next_opening` and receipt layout, and looking a ticket up by the number on its receipt."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from api_helpers import assert_error, issue
from serverproc import DISTRICT, always_open_config

from hall_server.clock import next_opening, tickets_open
from hall_server.config import load_config, without_opening_hours

TZ = "Asia/Shanghai"
HOURS = {d: "08:30-17:30" for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": "09:00-12:00"}


def at(day: int, hh: int, mm: int = 0) -> datetime:
    """A moment in Shanghai in the week of the test morning: Mon 23 … Sun 29 Nov 2026."""
    return datetime(2026, 11, day, hh, mm, tzinfo=ZoneInfo(TZ))


@pytest.mark.parametrize(("when", "early", "expected"), [
    (at(24, 9), 30, True),                  # Tuesday morning
    (at(24, 8, 29), 0, False),              # a minute before opening, no early window
    (at(24, 8, 0), 30, True),               # the early window starts at 08:00
    (at(24, 7, 59), 30, False),
    (at(24, 17, 29), 30, True),
    (at(24, 17, 30), 30, False),            # closing time
    (at(24, 22), 30, False),                # evening
    (at(28, 10), 30, True),                 # Saturday half-day
    (at(28, 12, 30), 30, False),
    (at(29, 10), 30, False),                # Sunday: closed
    (at(24, 3), 240, False),                # four hours early is still not 03:00
    (at(24, 4, 30), 240, True),
])
def test_tickets_open(when, early, expected):
    assert tickets_open(when, TZ, HOURS, early) is expected


@pytest.mark.parametrize("when", [at(24, 3), at(29, 23, 59), at(24, 22)])
def test_a_hall_without_opening_hours_is_always_open(when):
    assert tickets_open(when, TZ, {}, 0) is True
    assert next_opening(when, TZ, {}) is None


@pytest.mark.parametrize(("when", "expected"), [
    (at(24, 7), at(24, 8, 30)),             # before today's opening: today's
    (at(24, 8, 30), at(25, 8, 30)),         # at opening: strictly after, so tomorrow's
    (at(24, 9), at(25, 8, 30)),
    (at(24, 22), at(25, 8, 30)),
    (at(27, 18), at(28, 9)),                # Friday evening → Saturday 09:00
    (at(28, 13), at(30, 8, 30)),            # Saturday afternoon → Monday
    (at(29, 10), at(30, 8, 30)),            # Sunday
    (datetime(2026, 11, 24, 14, 0, tzinfo=ZoneInfo("UTC")), at(25, 8, 30)),     # 22:00 in Shanghai
])
def test_next_opening(when, expected):
    got = next_opening(when, TZ, HOURS)
    assert got == expected and got.utcoffset() == expected.utcoffset()


def test_next_opening_a_week_ahead_and_none():
    assert next_opening(at(24, 9), TZ, {"tue": "08:30-17:30"}) == datetime(2026, 12, 1, 8, 30, tzinfo=ZoneInfo(TZ))
    assert next_opening(at(24, 9), TZ, {}) is None


def test_without_opening_hours_keeps_the_rest_of_the_config(tmp_path):
    text = DISTRICT.read_text(encoding="utf-8")
    cut = without_opening_hours(text)
    assert "[hall.opening]" in text and "[hall.opening]" not in cut and 'mon = "' not in cut
    original, derived = load_config(DISTRICT), load_config(always_open_config(tmp_path))
    assert derived.hall.opening == {}
    assert derived.model_copy(update={"hall": original.hall}) == original
    inline = 'code = "x"\nopening = {mon = "08:30-17:30"}\nname = "y"\n'
    assert without_opening_hours(inline) == 'code = "x"\nname = "y"\n'


# -- the API ---------------------------------------------------------------------------------------
def test_a_kiosk_gets_no_ticket_at_22_00(client):
    kiosk = client.make_user("k", "kiosk")
    client.hall.clock.set(at(24, 22))
    err = assert_error(client.post("/api/v1/tickets", json={"matter": "WJ-001"}, headers=kiosk), 409, "hall_closed")
    assert err["opening_today"] == "08:30-17:30"
    assert err["next_opening"] == "2026-11-25T08:30:00+08:00"
    assert "08:30-17:30" in err["message_zh"] and "自助查询仍可使用" in err["message_zh"]
    assert "opening hours" in err["message_en"]
    assert client.get("/api/v1/tickets", headers=client.admin).json() == []      # nothing was issued


def test_a_kiosk_gets_no_ticket_on_sunday_but_a_supervisor_does(client):
    kiosk = client.make_user("k", "kiosk")
    sup = client.make_user("sup", "supervisor")
    client.hall.clock.set(at(29, 10))
    err = assert_error(client.post("/api/v1/tickets", json={"matter": "WJ-001"}, headers=kiosk), 409, "hall_closed")
    assert err["opening_today"] is None and err["next_opening"] == "2026-11-30T08:30:00+08:00"
    assert "不开放" in err["message_zh"]
    r = client.post("/api/v1/tickets", json={"matter": "WJ-001"}, headers=sup)
    assert r.status_code == 201, r.text


def test_a_supervisor_issues_after_hours(client):
    sup = client.make_user("sup", "supervisor")
    client.hall.clock.set(at(24, 22))
    assert issue(client, headers=sup)["status"] == "waiting"


def test_a_kiosk_issues_in_the_early_window(client):
    kiosk = client.make_user("k", "kiosk")
    client.hall.clock.set(at(24, 8, 10))
    r = client.post("/api/v1/tickets", json={"matter": "WJ-001"}, headers=kiosk)
    assert r.status_code == 201, r.text
    client.hall.clock.set(at(24, 7, 59))
    assert_error(client.post("/api/v1/tickets", json={"matter": "WJ-001"}, headers=kiosk), 409, "hall_closed")


def test_the_hall_says_whether_tickets_are_open(client):
    h = client.get("/api/v1/hall").json()
    assert h["tickets_open"] is True and h["open_now"] is True
    assert h["next_opening"] == "2026-11-25T08:30:00+08:00"
    assert h["tickets_before_opening_min"] == 30
    cfg = client.hall.cfg.receipt
    assert h["receipt"] == {"header": list(cfg.header), "footer": list(cfg.footer)}
    assert h["receipt"]["footer"]
    client.hall.clock.set(at(24, 8, 10))
    h = client.get("/api/v1/hall").json()
    assert (h["tickets_open"], h["open_now"], h["next_opening"]) == (True, False, "2026-11-24T08:30:00+08:00")
    client.hall.clock.set(at(29, 10))
    h = client.get("/api/v1/hall").json()
    assert (h["tickets_open"], h["opening_today"], h["next_opening"]) == (False, None, "2026-11-30T08:30:00+08:00")


# -- by number -------------------------------------------------------------------------------------
def test_a_ticket_by_its_number_in_any_case(client):
    t = issue(client)
    for number in (t["number"], t["number"].lower()):
        r = client.get(f"/api/v1/tickets/by-number/{number}")
        assert r.status_code == 200, r.text
        assert r.json()["id"] == t["id"] and r.json()["number"] == t["number"]


def test_a_number_not_issued_today(client):
    t = issue(client)
    err = assert_error(client.get("/api/v1/tickets/by-number/W999"), 404, "ticket_not_found")
    assert "小票" in err["message_zh"] and "receipt" in err["message_en"] and err["number"] == "W999"
    client.hall.clock.advance(days=1)           # a new service day: yesterday's number is not today's
    assert_error(client.get(f"/api/v1/tickets/by-number/{t['number']}"), 404, "ticket_not_found")


@pytest.mark.parametrize("bad", ["1", "A1", "ABC001", "A00001", "A-001", "ticket"])
def test_a_malformed_number_says_the_expected_form(client, bad):
    err = assert_error(client.get(f"/api/v1/tickets/by-number/{bad}"), 422, "bad_ticket_number")
    assert "A001" in err["message_en"] and "A001" in err["message_zh"]


def test_by_number_is_not_taken_for_a_ticket_id(client):
    assert_error(client.get("/api/v1/tickets/by-number"), 422)      # /{ticket_id} with "by-number": not an id
    t = issue(client)
    assert client.get(f"/api/v1/tickets/{t['id']}").json()["number"] == t["number"]
