"""GET /api/v1/dashboard: what the supervisor's dashboard shows, in one read (issue 6, item 5)."""
from __future__ import annotations

from api_helpers import HEALTH_MATTER, SOCIAL_MATTER, assert_error, clerk_at, issue, latest_seq


def test_only_staff_and_technicians_read_it(client):
    assert_error(client.get("/api/v1/dashboard"), 401)
    assert_error(client.get("/api/v1/dashboard", headers=client.make_user("dashkiosk", "kiosk")), 403,
                 "role_forbidden")
    for role in ("supervisor", "technician"):
        r = client.get("/api/v1/dashboard", headers=client.make_user(f"dash{role}", role))
        assert r.status_code == 200, r.text


def test_windows_queues_and_waiting_tickets(client):
    sup = client.make_user("dashsup", "supervisor")
    clerk = clerk_at(client, 3)                 # window 3 serves health (W) first, then social (S)
    first, second, third = issue(client, HEALTH_MATTER), issue(client, SOCIAL_MATTER), issue(client, SOCIAL_MATTER)
    assert client.post("/api/v1/windows/3/call-next", headers=clerk).json()["id"] == first["id"]
    assert client.post("/api/v1/windows/3/finish", headers=clerk).status_code == 200
    assert client.post("/api/v1/windows/3/call-next", headers=clerk).json()["id"] == second["id"]
    r = client.post(f"/api/v1/tickets/{third['id']}/transfer", headers=sup, json={"to_window": 13, "reason": "公安"})
    assert r.status_code == 200, r.text
    issue(client, SOCIAL_MATTER)
    assert client.post("/api/v1/windows/5/open", headers=sup).status_code == 200
    r = client.post("/api/v1/windows/5/pause", headers=sup, json={"reason": "会议"})
    assert r.status_code == 200, r.text

    snap = client.get("/api/v1/dashboard", headers=sup).json()
    assert snap["latest_seq"] == latest_seq(client)
    assert snap["hall_name"] == "下陆区政务服务中心"
    windows = {w["number"]: w for w in snap["windows"]}
    assert len(windows) == 22
    w3 = windows[3]
    assert (w3["state"], w3["clerk"], w3["current"]["number"], w3["served_today"]) == (
        "serving", "clerk3", second["number"], 1)
    assert (windows[5]["state"], windows[5]["reason"]) == ("paused", "会议")
    assert snap["waiting"] == 2
    social = next(g for g in snap["groups"] if g["code"] == "social")
    assert social["waiting"] == 2 and social["longest_wait_s"] >= 0
    assert [m["code"] for m in social["matters"]] == [SOCIAL_MATTER]
    assert all(g["matters"] == [] for g in snap["groups"] if g["waiting"] == 0)
    tickets = snap["tickets"]
    assert tickets[0]["id"] == third["id"]                        # a transfer keeps the place in line
    assert (tickets[0]["target_window"], tickets[0]["transfers"]) == (13, 1)
    assert all(t["wait_s"] >= 0 and t["matter_name"] for t in tickets)


def test_devices_the_announcer_and_alerts_newest_first(client):
    sup = client.make_user("dashsup2", "supervisor")
    r = client.post("/api/v1/devices/kiosk1-printer/simulate", headers=sup, json={"paper": "out"})
    assert r.status_code == 200, r.text
    a = issue(client, SOCIAL_MATTER, kiosk="kiosk1")
    b = issue(client, SOCIAL_MATTER, kiosk="kiosk1")
    assert a["print"]["ok"] is False and b["print"]["ok"] is False
    snap = client.get("/api/v1/dashboard", headers=sup).json()
    assert "kiosk1-printer" in {d["name"] for d in snap["devices"]}
    assert {"voice", "voice_state", "queued_to_play"} <= set(snap["announcer"])
    alerts = snap["alerts"]
    assert [al["kind"] for al in alerts[:2]] == ["print_failed", "print_failed"]
    assert alerts[0]["seq"] > alerts[1]["seq"]
    assert b["number"] in alerts[0]["detail"] and a["number"] in alerts[1]["detail"]
    assert alerts[0]["device"] == "kiosk1-printer"
