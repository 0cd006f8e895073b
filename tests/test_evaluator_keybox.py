"""好差评 over the key box's wire (issue 17, "Done when": the key-box simulator does the same): a clerk finishes a
ticket at window 1, the window's sim://evaluator box lights its lamp over its pty, the citizen presses 2 (不满意),
and the rating is recorded with the window and the clerk the store had, and a 差评 record opens. No key within
the timeout → not rated; the box unplugged mid-prompt → not rated and an alert, and the window goes on calling."""
from __future__ import annotations

import time

import pytest
from api_helpers import HEALTH_MATTER, clerk_at, issue
from conftest import ADMIN_PASSWORD, _login, _make_user, _settle
from fastapi.testclient import TestClient

from hall_server.app import create_app
from hall_server.runtime import Hall

BOX = "evaluator-1"


@pytest.fixture
def c(tmp_path, district_cfg, clock, monkeypatch):
    """The district hall with only its windows' key boxes (sim://evaluator, windows 1-3) as devices."""
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
    boxes = tuple(d for d in district_cfg.devices if d.kind == "evaluator")
    assert {d.window for d in boxes} == {1, 2, 3}
    h = Hall(district_cfg.model_copy(update={"devices": boxes, "seats": ()}), tmp_path, clock)
    h.ensure_admin()
    with TestClient(create_app(h)) as client:
        client.hall = h
        client.admin = _login(client, "admin", ADMIN_PASSWORD)
        client.make_user = lambda username, role: _make_user(client, username, role)
        _settle(h)
        client.sup = _make_user(client, "sup1", "supervisor")
        client.clerk1 = clerk_at(client, 1)
        yield client


def sim(c):
    return c.hall.devices.devices[BOX].device.simulator


def until(cond, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while not (got := cond()):
        assert time.monotonic() < end, "the condition did not come true in time"
        time.sleep(0.01)
    return got


def finish_one(c) -> dict:
    t = issue(c, HEALTH_MATTER)
    c.hall.clock.advance(seconds=3)
    r = c.post("/api/v1/windows/1/call-next", headers=c.clerk1)
    assert r.status_code == 200 and r.json()["id"] == t["id"], r.text
    r = c.post("/api/v1/windows/1/finish", headers=c.clerk1)
    assert r.status_code == 200, r.text
    return t


def events(c, prefix: str) -> list[dict]:
    r = c.get("/api/v1/events", params={"since": 0, "limit": 5000})
    return [e for e in r.json()["events"] if e["type"].startswith(prefix)]


def lamp_lit(c, times: int = 1) -> None:
    box = sim(c)
    assert box.wait_until(lambda: box.faults()["lamp"] and box.faults()["lamp_ons"] >= times, 10), box.faults()


def test_key_2_on_the_wire_rates_the_handling_dissatisfied_and_opens_a_bad_rating(c):
    t = finish_one(c)
    lamp_lit(c)
    r = c.post(f"/api/v1/devices/{BOX}/simulate", json={"press": "2"}, headers=c.sup)
    assert r.status_code == 200, r.text
    until(lambda: events(c, "evaluation.recorded"))
    r = c.get("/api/v1/evaluations", params={"from": "2026-11-24", "to": "2026-11-24"}, headers=c.sup)
    (e,) = r.json()["evaluations"]
    assert (e["ticket"], e["window"], e["clerk"], e["level"], e["level_name"], e["channel"]) == (
        t["id"], 1, "clerk1", 2, "不满意", "device")
    bad = c.get("/api/v1/badratings", params={"state": "open"}, headers=c.sup).json()["badratings"]
    assert len(bad) == 1 and bad[0]["evaluation"] == e["id"] and e["badrating"] == bad[0]["id"], (bad, e)
    box = sim(c)
    assert box.wait_until(lambda: not box.faults()["lamp"] and box.faults()["key_acks"] == 1, 5), box.faults()
    # a second key after the first counts for nothing: one rating per handling
    box.press(5)
    finish_one(c)                                   # and the window goes on
    lamp_lit(c, 2)
    assert len(c.get("/api/v1/evaluations", params={"from": "2026-11-24", "to": "2026-11-24"},
                     headers=c.sup).json()["evaluations"]) == 1


def test_no_key_within_the_timeout_is_not_rated(c):
    c.hall.evaluators.timeout_s = 1.0
    t = finish_one(c)
    lamp_lit(c)
    (ended,) = until(lambda: events(c, "evaluation.not_rated"))
    assert (ended["data"]["ticket"], ended["data"]["why"]) == (t["id"], "device")
    box = sim(c)
    assert box.wait_until(lambda: not box.faults()["lamp"], 5)
    assert events(c, "evaluation.recorded") == []


def test_a_box_unplugged_mid_prompt_is_not_rated_raises_an_alert_and_calling_goes_on(c):
    t = finish_one(c)
    lamp_lit(c)
    sim(c).disconnect()
    (ended,) = until(lambda: events(c, "evaluation.not_rated"))
    assert (ended["data"]["ticket"], ended["data"]["why"]) == (t["id"], "device")
    (alert,) = until(lambda: [e for e in events(c, "alert.raised") if e["data"]["kind"] == "evaluator_failed"])
    assert alert["data"]["device"] == BOX and alert["data"]["window"] == 1
    assert "未评价" in alert["data"]["detail"] and "not rated" in alert["data"]["detail"]
    assert events(c, "evaluation.recorded") == []
    t2 = finish_one(c)                              # calling and finishing are not held up by the box
    assert t2["id"] != t["id"]


def test_a_window_without_a_key_box_is_not_prompted_by_one(c):
    assert c.portal.call(c.hall.evaluators.prompt, 4, {"prompt": 1, "window": 4}) is False


def test_the_next_handling_at_the_window_takes_over_the_box(c):
    finish_one(c)
    lamp_lit(c)
    t2 = finish_one(c)                              # the first is superseded: the box now asks about the second
    lamp_lit(c, 2)
    sim(c).press(4)
    until(lambda: events(c, "evaluation.recorded"))
    r = c.get("/api/v1/evaluations", params={"from": "2026-11-24", "to": "2026-11-24"}, headers=c.sup)
    (e,) = r.json()["evaluations"]
    assert (e["ticket"], e["level"], e["clerk"]) == (t2["id"], 4, "clerk1")
    assert c.get("/api/v1/badratings", headers=c.sup).json()["badratings"] == []       # 满意 opens none
