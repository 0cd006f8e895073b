"""What kiosk programs report: the health of the devices they own (shown in /health and on the dashboard,
logged as device.health on a change only, offline once the kiosk falls silent), and alerts."""
from __future__ import annotations

import time

import pytest
from api_helpers import assert_error, issue, latest_seq

PRINTER = {"name": "kiosk2-printer", "kind": "printer", "url": "sim://printer?width=80", "state": "ok", "detail": ""}
READER = {"name": "kiosk2-idcard", "kind": "idcard", "url": "sim://idcard", "state": "ok", "detail": "ready"}


@pytest.fixture
def kiosk(client):
    return client.make_user("kiosk2", "kiosk")


def report(client, headers, *devices, kiosk="kiosk2", **extra):
    return client.put(f"/api/v1/kiosks/{kiosk}/devices", json={"devices": list(devices), **extra}, headers=headers)


def health_events(client, since: int) -> list[dict]:
    events = client.get("/api/v1/events", params={"since": since}).json()["events"]
    return [e for e in events if e["type"] == "device.health"]


def by_name(devices: list[dict]) -> dict[str, dict]:
    return {d["name"]: d for d in devices}


def test_reported_devices_show_in_health_and_the_dashboard(client, kiosk):
    r = report(client, kiosk, PRINTER, READER)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kiosk"] == "kiosk2" and body["interval_s"] == 15
    assert {d["name"] for d in body["devices"]} == {"kiosk2-printer", "kiosk2-idcard"}
    shown = by_name(client.get("/api/v1/health").json()["devices"])
    assert "kiosk1-printer" in shown                                      # the server's own, still there
    p = shown["kiosk2-printer"]
    assert (p["kind"], p["url"], p["kiosk"], p["window"], p["state"], p["remote"]) == (
        "printer", "sim://printer?width=80", "kiosk2", None, "ok", True)
    assert p["at"].startswith("2026-11-24T01:00:00") and p["since"] == p["at"]
    dash = by_name(client.get("/api/v1/dashboard", headers=client.admin).json()["devices"])
    assert dash["kiosk2-idcard"]["state"] == "ok" and dash["kiosk2-idcard"]["detail"] == "ready"
    assert dash["kiosk2-idcard"]["kiosk"] == "kiosk2"


def test_device_health_is_logged_on_a_change_only(client, kiosk):
    since = latest_seq(client)
    report(client, kiosk, PRINTER)
    first = health_events(client, since)
    assert [e["data"] for e in first] == [{"device": "kiosk2-printer", "kind": "printer", "kiosk": "kiosk2",
                                           "window": None, "state": "ok", "previous": None, "detail": "",
                                           "remote": True}]
    since = latest_seq(client)
    client.hall.clock.advance(seconds=15)
    report(client, kiosk, {**PRINTER, "detail": "fresh"})                  # same state: nothing logged
    assert health_events(client, since) == []
    assert by_name(client.get("/api/v1/health").json()["devices"])["kiosk2-printer"]["detail"] == "fresh"
    report(client, kiosk, {**PRINTER, "state": "degraded", "detail": "paper near end"})
    [e] = health_events(client, since)
    assert (e["data"]["state"], e["data"]["previous"], e["data"]["detail"]) == ("degraded", "ok", "paper near end")
    health = client.get("/api/v1/health").json()
    assert health["status"] == "ok"                                       # degraded still works
    report(client, kiosk, {**PRINTER, "state": "fault", "detail": "paper out"})
    assert client.get("/api/v1/health").json()["status"] == "degraded"
    alerts = client.get("/api/v1/alerts").json()["devices"]
    assert [d["name"] for d in alerts] == ["kiosk2-printer"]


def test_a_silent_kiosk_has_its_devices_shown_offline(client, kiosk):
    report(client, kiosk, PRINTER, interval_s=10)
    client.hall.clock.advance(seconds=30)                                  # three intervals: not yet
    assert by_name(client.get("/api/v1/health").json()["devices"])["kiosk2-printer"]["state"] == "ok"
    since = latest_seq(client)
    client.hall.clock.advance(seconds=5)
    p = by_name(client.get("/api/v1/health").json()["devices"])["kiosk2-printer"]
    assert p["state"] == "offline" and p["detail"] == "kiosk kiosk2 has not reported for 35 s"
    [e] = health_events(client, since)                                    # in the log before the answer
    assert (e["data"]["state"], e["data"]["previous"], e["data"]["remote"]) == ("offline", "ok", True)
    assert "has not reported" in e["data"]["detail"]
    client.hall.clock.advance(seconds=20)
    dash = by_name(client.get("/api/v1/dashboard", headers=client.admin).json()["devices"])
    assert dash["kiosk2-printer"]["detail"] == "kiosk kiosk2 has not reported for 55 s"
    assert health_events(client, since) == [e]                            # noticed once
    since = latest_seq(client)
    report(client, kiosk, PRINTER)                                        # back
    [back] = health_events(client, since)
    assert (back["data"]["state"], back["data"]["previous"]) == ("ok", "offline")
    assert by_name(client.get("/api/v1/health").json()["devices"])["kiosk2-printer"]["state"] == "ok"


def test_a_silent_kiosk_is_noticed_without_anyone_looking(client, kiosk, monkeypatch):
    import hall_server.hardware.supervisor
    monkeypatch.setattr(hall_server.hardware.supervisor, "REMOTE_CHECK_S", 0.02)
    report(client, kiosk, PRINTER, interval_s=1)
    since = latest_seq(client)
    client.hall.clock.advance(seconds=4)
    end = time.monotonic() + 5
    while not health_events(client, since):
        assert time.monotonic() < end, "the silent kiosk was not noticed"
        time.sleep(0.02)
    [e] = health_events(client, since)
    assert (e["data"]["device"], e["data"]["state"]) == ("kiosk2-printer", "offline")


def test_a_kiosk_drops_a_device_it_no_longer_reports(client, kiosk):
    report(client, kiosk, PRINTER, READER)
    report(client, kiosk, READER)
    names = {d["name"] for d in client.get("/api/v1/health").json()["devices"]}
    assert "kiosk2-idcard" in names and "kiosk2-printer" not in names


def test_names_of_other_devices_are_refused(client, kiosk):
    err = assert_error(report(client, kiosk, {**PRINTER, "name": "kiosk1-printer"}), 409, "device_name_taken")
    assert "server" in err["message_en"]
    report(client, kiosk, PRINTER)
    err = assert_error(report(client, kiosk, PRINTER, kiosk="kiosk3"), 409, "device_name_taken")
    assert "kiosk2" in err["message_en"]
    client.hall.clock.advance(seconds=60)                                 # kiosk2 fell silent: it may move
    assert report(client, kiosk, PRINTER, kiosk="kiosk3").status_code == 200


def test_a_password_in_a_url_is_not_shown(client, kiosk):
    report(client, kiosk, {**PRINTER, "url": "escpos+tcp://user:secret@192.168.10.31:9100"})
    shown = by_name(client.get("/api/v1/health").json()["devices"])["kiosk2-printer"]
    assert "secret" not in shown["url"] and "192.168.10.31:9100" in shown["url"]


@pytest.mark.parametrize(("body", "field"), [
    ({"devices": [{**PRINTER, "name": "Kiosk 2"}]}, "devices.0.name"),
    ({"devices": [{**PRINTER, "kind": "toaster"}]}, "devices.0.kind"),
    ({"devices": [{**PRINTER, "state": "broken"}]}, "devices.0.state"),
    ({"devices": [{**PRINTER, "detail": "x" * 301}]}, "devices.0.detail"),
    ({"devices": [{**PRINTER, "name": f"d{i}"} for i in range(17)]}, "devices"),
    ({"devices": [PRINTER], "interval_s": 0}, "interval_s"),
    ({"devices": [PRINTER], "interval_s": 301}, "interval_s"),
    ({"devices": [PRINTER, PRINTER]}, "body"),
    ({"devices": [PRINTER], "extra": 1}, "extra"),
])
def test_a_bad_report_names_the_field(client, kiosk, body, field):
    r = client.put("/api/v1/kiosks/kiosk2/devices", json=body, headers=kiosk)
    err = assert_error(r, 422, "invalid_request")
    assert field in [f["field"] for f in err["fields"]], err


def test_a_bad_kiosk_name_is_refused(client, kiosk):
    err = assert_error(report(client, kiosk, PRINTER, kiosk="Kiosk 2"), 422, "invalid_request")
    assert err["fields"][0]["field"] == "path.kiosk"


@pytest.mark.parametrize(("role", "status"), [("clerk", 403), ("supervisor", 403), ("technician", 200)])
def test_who_may_report(client, role, status):
    r = report(client, client.make_user("someone", role), PRINTER)
    assert r.status_code == status, r.text
    assert report(client, {}, PRINTER).status_code == 401
    assert report(client, client.admin, READER, kiosk="kiosk4").status_code == 200


# -- alerts ----------------------------------------------------------------------------------------
def test_a_kiosks_alert_shows_in_alerts_and_on_the_dashboard(client, kiosk):
    t = issue(client)
    r = client.post("/api/v1/alerts", json={"kind": "print_failed", "device": "kiosk2-printer",
                                            "detail": "paper out", "ticket_id": t["id"], "kiosk": "kiosk2"},
                    headers=kiosk)
    assert r.status_code == 201, r.text
    a = r.json()
    assert (a["kind"], a["device"], a["detail"], a["by"], a["kiosk"]) == (
        "print_failed", "kiosk2-printer", "paper out", "kiosk2", "kiosk2")
    [listed] = client.get("/api/v1/alerts").json()["alerts"]
    assert listed["seq"] == a["seq"] and listed["by"] == "kiosk2" and listed["kind"] == "print_failed"
    [shown] = client.get("/api/v1/dashboard", headers=client.admin).json()["alerts"]
    assert shown["device"] == "kiosk2-printer" and shown["by"] == "kiosk2"
    events = client.get("/api/v1/events", params={"since": a["seq"] - 1}).json()["events"]
    assert events[0]["type"] == "alert.raised" and events[0]["data"]["detail"] == "paper out"


def test_staff_raise_alerts_too(client):
    clerk = client.make_user("clerk1", "clerk")
    r = client.post("/api/v1/alerts", json={"kind": "paper_low", "device": None}, headers=clerk)
    assert r.status_code == 201 and r.json()["by"] == "clerk1"


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "Print Failed"}, "kind"),
    ({"kind": "x" * 41}, "kind"),
    ({"kind": "paper_low", "detail": "x" * 301}, "detail"),
    ({"detail": "no kind"}, "kind"),
])
def test_a_bad_alert_names_the_field(client, kiosk, body, field):
    err = assert_error(client.post("/api/v1/alerts", json=body, headers=kiosk), 422, "invalid_request")
    assert field in [f["field"] for f in err["fields"]]


def test_an_alert_for_an_unknown_ticket(client, kiosk):
    assert_error(client.post("/api/v1/alerts", json={"kind": "print_failed", "ticket_id": 9999}, headers=kiosk),
                 404, "ticket_not_found")


def test_who_may_raise_alerts(client):
    tech = client.make_user("tech", "technician")
    assert_error(client.post("/api/v1/alerts", json={"kind": "paper_low"}, headers=tech), 403, "role_forbidden")
    assert_error(client.post("/api/v1/alerts", json={"kind": "paper_low"}), 401)
    assert client.get("/api/v1/alerts").json()["alerts"] == []

