"""Daily rollover with a fake clock: at the hall's rollover hour (03:00 Asia/Shanghai) numbers restart and
yesterday's open tickets expire — once, only forward, and not again after a restart."""
from __future__ import annotations

import json
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hall_server.clock import FakeClock, is_open, opening_span, service_day
from hall_server.config import parse_config
from hall_server.errors import Conflict, NotFound
from hall_server.runtime import Hall

SH = ZoneInfo("Asia/Shanghai")
DISTRICT = Path(__file__).resolve().parent.parent / "config" / "district-centre.toml"
DAY1, DAY2 = "2026-11-24", "2026-11-25"     # the conftest clock starts on DAY1 at 09:00 local


def local(day: int, h: int, m: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(2026, 11, day, h, m, s, us, tzinfo=SH)


def do(hall: Hall, action: str, *args, **kw):
    return hall.store.write_sync(lambda conn: getattr(hall.engine, action)(conn, *args, **kw))


def issue(hall, matter="SH-001"):
    t = do(hall, "issue", matter=matter, actor="kiosk")
    hall.clock.advance(seconds=1)
    return t


def tick(hall):
    hall.store.write_sync(hall.engine.tick)


def rolled(hall) -> list[dict]:
    return [json.loads(r[0]) for r in
            hall.store.read.execute("SELECT data FROM events WHERE type='day.rolled_over' ORDER BY seq")]


def status(hall, ticket_id) -> str:
    return hall.store.read.execute("SELECT status FROM tickets WHERE id=?", (ticket_id,)).fetchone()[0]


def busy_day(hall) -> dict:
    """Day 1: tickets in every state, windows open with clerks."""
    for n in (1, 2, 13):
        do(hall, "set_state", n, "open", actor="sup")
    do(hall, "login", 1, username="clerk1")
    t = {
        "done": issue(hall), "no_show": issue(hall), "called": issue(hall), "waiting": issue(hall),
        "serving": issue(hall, "RS-001"), "police": issue(hall, "GA-001"),
    }
    hall.clock.advance(seconds=3)
    assert do(hall, "call_next", 1, actor="c")["id"] == t["done"]["id"]
    hall.clock.advance(seconds=60)
    do(hall, "finish", 1, actor="c")
    hall.clock.advance(seconds=3)
    assert do(hall, "call_next", 1, actor="c")["id"] == t["no_show"]["id"]
    do(hall, "skip", 1, actor="c")
    hall.clock.advance(seconds=3)
    assert do(hall, "call_next", 1, actor="c")["id"] == t["called"]["id"]
    assert do(hall, "call_next", 2, actor="c")["id"] == t["serving"]["id"]
    do(hall, "start", 2, actor="c")
    return t


# -- the service day itself ------------------------------------------------------------------------
def test_district_rolls_over_at_three_in_shanghai(district_cfg):
    assert district_cfg.hall.timezone == "Asia/Shanghai" and district_cfg.hall.rollover_hour == 3


@pytest.mark.parametrize("moment,day", [
    (local(24, 9), DAY1),
    (local(24, 23, 59, 59), DAY1),
    (local(25, 0, 0), DAY1),
    (local(25, 2, 59, 59, 999_999), DAY1),
    (local(25, 3, 0), DAY2),
    (local(25, 3, 0, 1), DAY2),
    (local(25, 23, 0), DAY2),
    (datetime(2026, 11, 24, 18, 59, 59, tzinfo=ZoneInfo("UTC")), DAY1),   # 02:59:59 local on the 25th
    (datetime(2026, 11, 24, 19, 0, 0, tzinfo=ZoneInfo("UTC")), DAY2),     # 03:00 local on the 25th
])
def test_service_day_boundaries(moment, day):
    assert service_day(moment, "Asia/Shanghai", 3).isoformat() == day


# -- rollover ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("trigger", ["tick", "issue", "call_next"])
def test_rollover_expires_yesterday_closes_windows_restarts_numbers(hall, clock, trigger):
    t = busy_day(hall)
    clock.set(local(25, 3, 0, 1))
    before = hall.store.read.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
    if trigger == "tick":
        tick(hall)
    elif trigger == "issue":
        assert issue(hall)["number"] == "S001"
    else:
        with pytest.raises(Conflict) as exc:     # the windows are closed now
            do(hall, "call_next", 1, actor="c")
        assert exc.value.code == "window_closed"
        tick(hall)                               # the refused change rolled back its rollover too
    for key in ("called", "waiting", "serving", "police"):
        assert status(hall, t[key]["id"]) == "expired", key
    assert status(hall, t["done"]["id"]) == "done"
    assert status(hall, t["no_show"]["id"]) == "no_show"
    finished = hall.store.read.execute("SELECT finished_at FROM tickets WHERE id=?", (t["waiting"]["id"],)).fetchone()
    assert finished[0] is not None
    for w in hall.store.read.execute("SELECT * FROM windows"):
        assert w["state"] == "closed" and w["current_ticket"] is None and w["clerk"] is None
        assert w["priority_streak"] == 0
    assert rolled(hall) == [{"from_day": DAY1, "to_day": DAY2, "expired": 4}]
    first = hall.store.read.execute("SELECT type FROM events WHERE seq>? ORDER BY seq", (before,)).fetchone()
    assert first[0] == "day.rolled_over"     # the rollover comes before the change that caused it
    # numbers restart, per prefix
    if trigger != "issue":
        assert issue(hall)["number"] == "S001"
    assert issue(hall)["number"] == "S002"
    assert issue(hall, "RS-001")["number"] == "R001"
    assert issue(hall, "GA-001")["number"] == "G001"
    # still one rollover
    tick(hall)
    assert len(rolled(hall)) == 1


def test_refused_first_change_of_the_day_does_not_skip_the_rollover(hall, clock):
    old = issue(hall)
    clock.set(local(25, 8))
    with pytest.raises(NotFound):
        do(hall, "issue", matter="NO-SUCH", actor="kiosk")     # refused: its transaction is rolled back
    t = issue(hall)
    assert (t["number"], t["service_day"]) == ("S001", DAY2)
    assert status(hall, old["id"]) == "expired"
    assert rolled(hall) == [{"from_day": DAY1, "to_day": DAY2, "expired": 1}]


def test_just_before_three_is_still_the_previous_day(hall, clock):
    issue(hall), issue(hall)
    clock.set(local(25, 2, 59, 58))
    t = issue(hall)                          # the clock is at 02:59:59 after it
    assert t["number"] == "S003" and t["service_day"] == DAY1
    tick(hall)
    assert rolled(hall) == []
    clock.set(local(25, 3, 0, 0))
    t = issue(hall)
    assert t["number"] == "S001" and t["service_day"] == DAY2
    assert rolled(hall) == [{"from_day": DAY1, "to_day": DAY2, "expired": 3}]


def test_new_day_tickets_are_callable_and_old_ones_are_not(hall, clock):
    do(hall, "set_state", 1, "open", actor="sup")
    old = issue(hall)
    clock.set(local(25, 8, 30))
    new = issue(hall)
    assert new["number"] == old["number"] == "S001"
    assert new["waiting_ahead"] == 0
    do(hall, "set_state", 1, "open", actor="sup")
    clock.advance(seconds=5)
    assert do(hall, "call_next", 1, actor="c")["id"] == new["id"]
    clock.advance(seconds=5)
    assert do(hall, "call_next", 1, actor="c") is None
    assert status(hall, old["id"]) == "expired"


def test_yesterdays_no_show_cannot_be_requeued(hall, clock):
    t = busy_day(hall)
    clock.set(local(25, 9))
    with pytest.raises(Conflict) as exc:
        do(hall, "requeue", t["no_show"]["id"], actor="c")
    assert exc.value.code == "not_a_no_show"


def test_several_days_off_roll_over_once(hall, clock):
    issue(hall), issue(hall)
    clock.set(local(28, 10))
    tick(hall)
    assert rolled(hall) == [{"from_day": DAY1, "to_day": "2026-11-28", "expired": 2}]
    assert issue(hall)["number"] == "S001"


def test_quiet_night_then_next_rollover(hall, clock):
    issue(hall)
    clock.set(local(25, 3, 30))
    tick(hall)
    issue(hall), issue(hall)
    clock.set(local(26, 3, 30))
    tick(hall)
    assert rolled(hall) == [{"from_day": DAY1, "to_day": DAY2, "expired": 1},
                            {"from_day": DAY2, "to_day": "2026-11-26", "expired": 2}]
    seqs = [r[0] for r in hall.store.read.execute("SELECT seq FROM events ORDER BY seq")]
    assert seqs == sorted(set(seqs))


# -- clock moved backwards -------------------------------------------------------------------------
def test_clock_set_back_does_not_roll_back(hall, clock):
    issue(hall), issue(hall)
    clock.set(local(25, 3, 0, 30))
    a = issue(hall)
    assert (a["number"], a["service_day"]) == ("S001", DAY2)
    clock.set(local(25, 2, 59, 30))          # an NTP step back across the rollover hour
    b = issue(hall)
    assert (b["number"], b["service_day"]) == ("S002", DAY2)
    tick(hall)
    assert len(rolled(hall)) == 1
    # the ticket issued while the clock was behind is in today's line, and callable
    do(hall, "set_state", 1, "open", actor="sup")
    clock.set(local(25, 9))
    assert do(hall, "call_next", 1, actor="c")["id"] == a["id"]
    clock.advance(seconds=5)
    assert do(hall, "call_next", 1, actor="c")["id"] == b["id"]
    # no duplicate numbers for the day
    dup = hall.store.read.execute(
        "SELECT service_day, number, COUNT(*) FROM tickets GROUP BY service_day, number HAVING COUNT(*) > 1"
    ).fetchall()
    assert dup == []


def test_clock_set_back_a_whole_day(hall, clock):
    clock.set(local(25, 9))
    t = issue(hall)
    clock.set(local(24, 9))
    u = issue(hall)
    assert u["service_day"] == DAY2 and u["number"] == "S002"
    assert status(hall, t["id"]) == "waiting"
    clock.set(local(25, 10))
    tick(hall)
    assert len(rolled(hall)) == 1 and status(hall, t["id"]) == "waiting"


# -- restarts ---------------------------------------------------------------------------------------
def test_restart_does_not_roll_over_twice(tmp_path, district_cfg, clock):
    data = tmp_path / "hall"
    a = Hall(district_cfg, data, clock)
    issue(a), issue(a)
    clock.set(local(25, 3, 5))
    tick(a)
    assert issue(a)["number"] == "S001"
    a.close()
    clock.advance(minutes=5)
    b = Hall(district_cfg, data, clock)
    try:
        tick(b)
        assert len(rolled(b)) == 1
        t = issue(b)
        assert (t["number"], t["service_day"]) == ("S002", DAY2)
        assert status(b, t["id"] - 1) == "waiting"       # today's ticket from before the restart
    finally:
        b.close()


def test_rollover_due_at_restart_happens_once(tmp_path, district_cfg, clock):
    data = tmp_path / "hall"
    a = Hall(district_cfg, data, clock)
    first = issue(a)
    a.close()
    clock.set(local(25, 7))                  # the server was down over the rollover hour
    b = Hall(district_cfg, data, clock)      # start-up itself rolls the day over
    assert len(rolled(b)) == 1 and status(b, first["id"]) == "expired"
    b.close()
    c = Hall(district_cfg, data, clock)
    try:
        tick(c)
        assert rolled(c) == [{"from_day": DAY1, "to_day": DAY2, "expired": 1}]
        assert issue(c)["number"] == "S001"
    finally:
        c.close()


def test_restart_with_clock_behind_keeps_the_day(tmp_path, district_cfg, clock):
    data = tmp_path / "hall"
    clock.set(local(25, 3, 1))
    a = Hall(district_cfg, data, clock)
    issue(a)
    a.close()
    clock.set(local(25, 2, 50))              # restarted with the clock behind
    b = Hall(district_cfg, data, clock)
    try:
        t = issue(b)
        assert (t["number"], t["service_day"]) == ("S002", DAY2)
        assert rolled(b) == []                # a fresh database has nothing to roll over
    finally:
        b.close()


def test_rollover_hour_and_zone_come_from_config(tmp_path):
    data = tomllib.loads(DISTRICT.read_text(encoding="utf-8"))
    data["hall"].update(timezone="Europe/Berlin", rollover_hour=0)
    cfg = parse_config(data, "test")
    berlin = ZoneInfo("Europe/Berlin")
    clock = FakeClock(datetime(2026, 11, 24, 23, 59, tzinfo=berlin))
    h = Hall(cfg, tmp_path / "berlin", clock)
    try:
        assert issue(h)["service_day"] == DAY1
        clock.set(datetime(2026, 11, 25, 0, 0, 1, tzinfo=berlin))
        t = issue(h)
        assert (t["number"], t["service_day"]) == ("S001", DAY2)
        assert len(rolled(h)) == 1
    finally:
        h.close()


# -- opening hours ----------------------------------------------------------------------------------
@pytest.mark.parametrize("local,open_now,span", [
    ("2026-11-24 08:29", False, "08:30-17:30"),    # Tuesday, before opening
    ("2026-11-24 08:30", True, "08:30-17:30"),
    ("2026-11-24 17:29", True, "08:30-17:30"),
    ("2026-11-24 17:30", False, "08:30-17:30"),    # closes at 17:30
    ("2026-11-28 10:00", True, "09:00-12:00"),     # Saturday half day
    ("2026-11-29 10:00", False, None),             # Sunday: closed all day
])
def test_opening_hours_in_the_halls_zone(district_cfg, local, open_now, span):
    at = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    hall = district_cfg.hall
    assert is_open(at, hall.timezone, hall.opening) is open_now
    assert opening_span(at, hall.timezone, hall.opening) == span
    # the same instant seen in UTC gives the same answer
    assert is_open(at.astimezone(ZoneInfo("UTC")), hall.timezone, hall.opening) is open_now


def test_a_hall_without_opening_hours_is_always_open():
    assert is_open(datetime(2026, 11, 29, 3, 0, tzinfo=ZoneInfo("UTC")), "Asia/Shanghai", {})


def test_hall_endpoint_says_whether_the_hall_is_open(client, clock):
    body = client.get("/api/v1/hall").json()
    assert body["open_now"] is True and body["opening_today"] == "08:30-17:30"     # Tuesday 09:00
    clock.advance(hours=9)                                                          # 18:00
    assert client.get("/api/v1/hall").json()["open_now"] is False
