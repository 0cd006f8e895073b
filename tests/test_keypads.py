"""Caller keypads bound to windows (issue 6, item 4): a press on the simulated RS-485 keypad line becomes the
window's action, as the clerk logged in there; a refused press is a `keypad.refused` event and changes nothing."""
from __future__ import annotations

import time

import pytest
from api_helpers import HEALTH_MATTER, clerk_at, issue
from conftest import ADMIN_PASSWORD, _login, _make_user
from fastapi.testclient import TestClient

from hall_server.app import create_app
from hall_server.config import DeviceConfig
from hall_server.runtime import Hall

DEVICE = "window-keypads"


def wait_for(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while not (value := cond()):
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)
    return value


@pytest.fixture
def c(tmp_path, district_cfg, clock, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
    keypads = DeviceConfig(name=DEVICE, kind="caller", url="sim://caller?addresses=1-30", poll_s=2)
    h = Hall(district_cfg.model_copy(update={"devices": (keypads,), "seats": ()}), tmp_path, clock)
    h.ensure_admin()
    with TestClient(create_app(h)) as client:
        client.hall, client.clock = h, clock
        client.admin = _login(client, "admin", ADMIN_PASSWORD)
        client.make_user = lambda username, role: _make_user(client, username, role)
        wait_for(lambda: h.devices.devices[DEVICE].health.state.value == "ok", 15)
        yield client


def events(c, type_=None):
    evs = c.get("/api/v1/events?since=0", headers=c.admin).json()["events"]
    return [e for e in evs if type_ is None or e["type"] == type_]


def press(c, key, address=3, wait_type=None):
    """Press `key` on the keypad at `address`; wait until the hall has handled it (an ACK and, when given, an
    event of `wait_type` more than before)."""
    before = len(events(c, wait_type)) if wait_type else 0
    sim = c.hall.devices.devices[DEVICE].device.simulator
    acks = len(sim.acks)
    r = c.post(f"/api/v1/devices/{DEVICE}/simulate", json={"press": key, "address": address}, headers=c.admin)
    assert r.status_code == 200, r.text
    wait_for(lambda: len(sim.acks) > acks)
    if wait_type:
        return wait_for(lambda: events(c, wait_type)[before:])[0]
    return None


def window(c, number=3):
    return c.get(f"/api/v1/windows/{number}", headers=c.admin).json()


def shown(c, address=3):
    sim = c.hall.devices.devices[DEVICE].device.simulator
    return wait_for(lambda: sim.shown().get(address))


def test_call_recall_and_skip_act_as_the_clerk_at_the_window(c):
    clerk_at(c, 3, "clerk3")
    first, second = issue(c, HEALTH_MATTER), issue(c, HEALTH_MATTER)
    called = press(c, "call", wait_type="ticket.called")
    assert called["data"]["number"] == first["number"] and called["data"]["window"] == 3
    assert called["data"]["by"] == "clerk3"
    assert window(c)["current"]["number"] == first["number"]
    assert shown(c) == f"请{first['number']}"
    history = c.get(f"/api/v1/tickets/{first['id']}/history", headers=c.admin).json()
    assert any(h["type"] == "ticket.called" and h["by"] == "clerk3" for h in history)

    refused = press(c, "recall", wait_type="keypad.refused")          # within the recall cool-down
    assert refused["data"]["code"] == "recall_too_soon" and refused["data"]["window"] == 3
    c.clock.advance(seconds=20)
    recalled = press(c, "recall", wait_type="ticket.recalled")
    assert recalled["data"]["recalls"] == 1 and recalled["data"]["by"] == "clerk3"
    wait_for(lambda: shown(c) == f"重呼{first['number']}")

    skipped = press(c, "skip", wait_type="ticket.no_show")
    assert skipped["data"]["number"] == first["number"] and skipped["data"]["by"] == "clerk3"
    assert window(c)["current"] is None
    assert c.get(f"/api/v1/tickets/{second['id']}", headers=c.admin).json()["status"] == "waiting"


def test_pause_toggles_pause_and_resume(c):
    clerk_at(c, 3, "clerk3")
    paused = press(c, "pause", wait_type="window.paused")
    assert paused["data"]["by"] == "clerk3" and window(c)["state"] == "paused"
    resumed = press(c, "pause", wait_type="window.resumed")
    assert resumed["data"]["by"] == "clerk3" and window(c)["state"] == "open"


def test_transfer_alerts_and_evaluate_is_recorded_for_the_current_ticket(c):
    clerk_at(c, 3, "clerk3")
    refused = press(c, "evaluate", wait_type="keypad.refused")        # nothing at the window yet
    assert refused["data"]["code"] == "no_current_ticket"
    t = issue(c, HEALTH_MATTER)
    press(c, "call", wait_type="ticket.called")
    evaluation = press(c, "evaluate", wait_type="evaluation.requested")
    assert evaluation["data"] == {"window": 3, "ticket_id": t["id"], "number": t["number"], "by": "clerk3",
                                  "device": DEVICE}
    alert = press(c, "transfer", wait_type="alert.raised")
    assert alert["data"]["kind"] == "transfer_requested" and alert["data"]["number"] == t["number"]
    alerts = c.get("/api/v1/alerts", headers=c.admin).json()["alerts"]
    assert alerts[0]["kind"] == "transfer_requested"
    assert window(c)["current"]["number"] == t["number"]             # nothing moved: a supervisor decides


def test_a_press_at_a_window_without_a_clerk_is_refused_and_changes_nothing(c):
    issue(c, HEALTH_MATTER)
    before = window(c, 4)
    refused = press(c, "call", address=4, wait_type="keypad.refused")
    assert refused["data"]["code"] == "keypad_no_clerk" and refused["data"]["window"] == 4
    assert refused["data"]["key"] == "call" and refused["data"]["keypad"] == 4
    assert "登录" in shown(c, 4)
    assert window(c, 4) == before
    assert not events(c, "ticket.called")


def test_a_keypad_bound_to_no_window_is_refused(c):
    refused = press(c, "call", address=30, wait_type="keypad.refused")     # the district hall has no window 30
    assert refused["data"]["code"] == "keypad_unbound" and refused["data"]["window"] is None


def test_the_keypad_line_shows_in_the_devices_api(c):
    press(c, "pause", wait_type="keypad.refused")
    d = c.get(f"/api/v1/devices/{DEVICE}", headers=c.admin).json()
    assert d["kind"] == "caller" and d["state"] == "ok"
    assert d["diagnostics"]["presses"] == 1 and d["diagnostics"]["simulator"]["acks"] == 1
    r = c.post(f"/api/v1/devices/{DEVICE}/simulate", json={"press": "call"}, headers=c.admin)
    assert r.status_code == 422 and "address" in r.json()["error"]["message_en"]


def test_keypad_addresses_come_from_the_config(district_cfg):
    from hall_server.config import ConfigError, parse_config
    from hall_server.hardware.keypads import window_of

    bus = DeviceConfig(name="k", kind="caller", url="sim://caller", keypads={"3": 17, "4": 3})
    assert [window_of(district_cfg, bus, a) for a in (17, 3, 4)] == [3, 4, None]
    default = DeviceConfig(name="k", kind="caller", url="sim://caller")
    assert [window_of(district_cfg, default, a) for a in (3, 22, 23)] == [3, 22, None]
    one = DeviceConfig(name="k", kind="caller", url="sim://caller", window=5)
    assert window_of(district_cfg, one, 1) == 5
    data = district_cfg.model_dump(mode="json")
    data["seats"] = []
    for keypads, problem in (({"x": 1}, "not a window number"), ({"3": 0}, "not 1-254"),
                             ({"3": 5, "4": 5}, "same keypad address"), ({"99": 5}, "keypad for window 99")):
        data["devices"] = [{"name": "k", "kind": "caller", "url": "sim://caller", "keypads": keypads}]
        with pytest.raises(ConfigError, match=problem):
            parse_config(data)
