"""GET /api/v1/screen, the calling screens' snapshot, and the two screen pages (issue 5, item 4)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from api_helpers import SOCIAL_MATTER, clerk_at, issue, latest_seq
from fastapi.testclient import TestClient

from hall_server.api.screen import screen_plays_audio
from hall_server.app import create_app
from hall_server.config import Calling, DeviceConfig
from hall_server.runtime import Hall

KEYS = {"hall", "service_day", "latest_seq", "now", "calls", "windows", "groups", "notice", "audio"}
CALL_KEYS = {"seq", "at", "number", "window", "window_name", "matter_name", "recall"}


def snapshot(client) -> dict:
    r = client.get("/api/v1/screen")
    assert r.status_code == 200, r.text
    return r.json()


def test_the_snapshot_of_a_quiet_morning(client, district_cfg):
    s = snapshot(client)
    assert set(s) == KEYS
    assert s["hall"] == {"name": "下陆区政务服务中心", "name_en": "Xialu District Government Service Centre"}
    assert s["service_day"] == "2026-11-24"
    assert s["now"] == "2026-11-24T09:00:00.000+08:00"         # the hall's time, with its offset
    assert s["calls"] == [] and s["notice"] == client.hall.cfg.calling.notice
    assert s["audio"] is False         # the `client` hall has only the kiosk's devices: no screen:// sink
    assert 0 <= s["latest_seq"] <= latest_seq(client)      # (the simulated devices may log their health)
    assert [w["number"] for w in s["windows"]] == list(range(1, 23))
    assert s["windows"][2] == {"number": 3, "name": "无差别综合受理 3号", "state": "closed", "current": None}
    assert [g["code"] for g in s["groups"]] == [g.code for g in district_cfg.groups]
    assert s["groups"][0] == {"code": "social", "name": "社会事务", "prefixes": ["S"], "waiting": 0}


def test_calls_are_newest_first_and_only_the_recent_ones(client, clock, district_cfg):
    clerk = clerk_at(client, 3)
    numbers = []
    for _ in range(7):
        numbers.append(issue(client, SOCIAL_MATTER)["number"])
        r = client.post("/api/v1/windows/3/call-next", headers=clerk)
        assert r.json()["number"] == numbers[-1]
        clock.advance(seconds=20)                               # past the call debounce and the recall cool-down
    assert client.post("/api/v1/windows/3/recall", headers=clerk).status_code == 200

    s = snapshot(client)
    calls = s["calls"]
    assert len(calls) == 6                                       # calling.recent_calls
    assert [c["number"] for c in calls] == [numbers[-1], *reversed(numbers)][:6]
    assert [c["recall"] for c in calls] == [True, False, False, False, False, False]
    assert all(set(c) == CALL_KEYS for c in calls)
    assert [c["seq"] for c in calls] == sorted((c["seq"] for c in calls), reverse=True)
    events = client.get("/api/v1/events", params={"since": 0}).json()["events"]
    assert calls[0]["seq"] == [e["seq"] for e in events if e["type"] == "ticket.recalled"][-1] <= s["latest_seq"]
    c = calls[1]
    assert (c["number"], c["window"], c["window_name"], c["recall"]) == (numbers[-1], 3, "无差别综合受理 3号", False)
    assert c["matter_name"] == district_cfg.matter(SOCIAL_MATTER).name and c["at"].startswith("2026-11-24T")


def test_latest_seq_is_read_before_the_rows(client, monkeypatch):
    """An event published while the rows are read is after latest_seq, so the WebSocket replays it."""
    hall, seen = client.hall, []
    rows = hall.views.queue

    def queue_while_an_event_comes(conn, now):
        seen.append(hall.bus.latest_seq)
        hall.bus.latest_seq += 1
        return rows(conn, now)

    monkeypatch.setattr(hall.views, "queue", queue_while_an_event_comes)
    assert snapshot(client)["latest_seq"] == seen[0]


def test_yesterdays_calls_are_not_shown(client, clock):
    clerk = clerk_at(client, 3)
    issue(client)
    client.post("/api/v1/windows/3/call-next", headers=clerk)
    assert len(snapshot(client)["calls"]) == 1
    clock.advance(days=1)
    s = snapshot(client)
    assert s["service_day"] == "2026-11-25" and s["calls"] == []


def test_window_states_and_waiting_counts(client, clock):
    clerk = clerk_at(client, 3)
    first, _ = issue(client, SOCIAL_MATTER), issue(client, SOCIAL_MATTER)

    def window3():
        s = snapshot(client)
        return s["windows"][2], next(g for g in s["groups"] if g["code"] == "social")

    assert window3() == ({"number": 3, "name": "无差别综合受理 3号", "state": "open", "current": None},
                         {"code": "social", "name": "社会事务", "prefixes": ["S"], "waiting": 2})
    client.post("/api/v1/windows/3/call-next", headers=clerk)
    w, g = window3()
    assert (w["state"], w["current"], g["waiting"]) == ("serving", first["number"], 1)
    client.post("/api/v1/windows/3/finish", headers=clerk)
    assert window3()[0]["state"] == "open" and window3()[0]["current"] is None
    client.post("/api/v1/windows/3/pause", headers=clerk, json={"reason": "午休"})
    assert window3()[0]["state"] == "paused"
    client.post("/api/v1/windows/3/close", headers=clerk)
    assert window3()[0]["state"] == "closed"


def test_notice_recent_calls_and_audio_come_from_the_config(tmp_path, district_cfg, clock):
    speakers = DeviceConfig(name="hall-screens", kind="audio", url="screen://")
    cfg = district_cfg.model_copy(update={"calling": Calling(notice="请携带身份证", recent_calls=2),
                                          "devices": (speakers,)})
    h = Hall(cfg, tmp_path, clock)
    with TestClient(create_app(h)) as c:
        s = c.get("/api/v1/screen").json()
        assert (s["notice"], s["audio"]) == ("请携带身份证", True)
        assert 'data-recent-calls="2"' in c.get("/screen").text


@pytest.mark.parametrize(("kind", "url", "plays"), [
    ("audio", "screen://", True),
    ("audio", "screen://?volume=0.5", True),
    ("audio", "alsa://default", False),
    ("audio", "sim://audio", False),
    ("display", "screen://", False),
])
def test_the_screens_play_audio_only_for_a_screen_sink(kind, url, plays):
    cfg = SimpleNamespace(devices=(DeviceConfig(name="d", kind=kind, url=url),))
    assert screen_plays_audio(cfg) is plays


# -- the pages ------------------------------------------------------------------------------------
def test_the_pages_are_served_and_not_in_the_api_document(client):
    hall = client.get("/screen")
    assert hall.status_code == 200 and hall.headers["content-type"].startswith("text/html")
    assert "下陆区政务服务中心" in hall.text and 'src="/static/screen.js"' in hall.text
    assert 'data-test-id="latest-number"' in hall.text
    window = client.get("/screen/window/3")
    assert window.status_code == 200 and "无差别综合受理 3号" in window.text and 'data-window="3"' in window.text
    for asset in ("/static/screen.js", "/static/screen.css"):
        assert client.get(asset).status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/screen")]
    schema = paths["/api/v1/screen"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/ScreenSnapshot")


@pytest.mark.parametrize("n", ["99", "0", "abc", "3x", "99999999999999999999"])
def test_an_unknown_window_screen_is_a_404_page(client, n):
    r = client.get(f"/screen/window/{n}")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert f"没有 {n} 号窗口" in r.text and "screen.js" not in r.text
