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


def test_cases_by_state_and_the_overdue_ones(client, clock):
    """Cases (issue 15): counts by state and deadline colour, and the overdue cases with the working days over."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    sup = client.make_user("dashsup3", "supervisor")
    clerk = clerk_at(client, 3)
    items = ("居民身份证原件", "临时救助申请书", "遭遇困难的相关证明")
    body = {"matter": "SH-003", "applicant": {"name": "张三", "phone": "13800000000"},
            "materials": [{"name": n, "state": "original"} for n in items]}
    ids = [client.post("/api/v1/cases", json=body, headers=clerk).json()["id"] for _ in range(3)]
    for case_id in ids[:2]:
        assert client.post(f"/api/v1/cases/{case_id}/accept", headers=clerk).status_code == 200
    r = client.post("/api/v1/users", headers=client.admin, json={"username": "mz1", "password": "mz1-password",
                                                                 "role": "department", "departments": ["区民政局"]})
    assert r.status_code == 201, r.text
    mz = client.headers_for("mz1", "mz1-password")
    assert client.post(f"/api/v1/cases/{ids[0]}/claim", headers=mz).status_code == 200

    cases = client.get("/api/v1/dashboard", headers=sup).json()["cases"]
    assert {k: v for k, v in cases["by_status"].items() if v} == {"received": 1, "accepted": 1, "in_review": 1}
    assert cases["deadline"] == {"ok": 2, "amber": 0, "red": 0}
    assert cases["overdue"] == [] and cases["overdue_more"] is False

    clock.set(datetime(2026, 12, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))     # due Tue 12-08: Wed, Thu over
    client.portal.call(client.hall.cases.refresh_deadlines)
    sup = client.headers_for("dashsup3", "dashsup3-password")
    snap = client.get("/api/v1/dashboard", headers=sup).json()
    cases = snap["cases"]
    assert cases["deadline"] == {"ok": 0, "amber": 0, "red": 2}
    assert [(c["id"], c["due"], c["days_over"], c["departments"], c["matter_name"]) for c in cases["overdue"]] == [
        (case_id, "2026-12-08", 2, ["区民政局"], "临时救助申请") for case_id in ids[:2]]
    assert "张三" not in str(cases)
    overdue_alerts = [a for a in snap["alerts"] if a["kind"] == "case_overdue"]
    assert sorted(a["case"] for a in overdue_alerts) == sorted(ids[:2])
