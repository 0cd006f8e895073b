"""Kiosk printing on the server (issue 3, item 5): a ticket issued for kiosk1 is printed on its simulated
printer; when printing fails the ticket still stands, the answer says why, and supervisors see an alert."""
from __future__ import annotations

import time

import cv2
import pytest


def wait_for(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)


@pytest.fixture
def kiosk(client):
    h = client.make_user("kiosk1", "kiosk")
    sup = client.hall.devices
    wait_for(lambda: sup.devices["kiosk1-printer"].health.state.value == "ok")
    return h


def test_a_kiosk_ticket_prints_a_receipt_whose_qr_opens_its_status_page(client, kiosk, tmp_path):
    r = client.post("/api/v1/tickets", json={"matter": "RS-001", "kiosk": "kiosk1"}, headers=kiosk)
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["print"] == {"ok": True, "device": "kiosk1-printer", "status_url": f"http://testserver/t/{t['id']}?k={t['status_key']}",
                          "error": None, "message_zh": None, "message_en": None}
    out = tmp_path / "sim" / "printer"          # the printer prints after the bytes arrive, as a real one
    wait_for(lambda: list(out.glob("*.txt")))
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) == 1
    text = pngs[0].with_suffix(".txt").read_text(encoding="utf-8")
    assert t["number"] in text and "城乡居民基本养老保险参保登记" in text and "下陆区政务服务中心" in text
    data, _, _ = cv2.QRCodeDetector().detectAndDecode(cv2.imread(str(pngs[0])))
    assert data == t["print"]["status_url"]
    assert t["number"] in client.get(f"/t/{t['id']}").text


def test_a_ticket_without_a_kiosk_printer_is_not_printed(client, kiosk):
    t = client.post("/api/v1/tickets", json={"matter": "RS-001"}, headers=kiosk).json()
    assert t["print"] is None


def test_paper_out_the_ticket_stands_the_citizen_is_told_and_supervisors_alerted(client, kiosk, tmp_path):
    tech = client.make_user("tech", "technician")
    r = client.post("/api/v1/devices/kiosk1-printer/simulate", json={"paper": "out"}, headers=tech)
    assert r.status_code == 200 and r.json()["faults"]["paper"] == "out"
    r = client.post("/api/v1/tickets", json={"matter": "RS-001", "kiosk": "kiosk1"}, headers=kiosk)
    assert r.status_code == 201
    t = r.json()
    assert t["print"]["ok"] is False and "paper" in t["print"]["error"]
    assert t["number"] in t["print"]["message_zh"] and "valid" in t["print"]["message_en"]
    assert client.get(f"/api/v1/tickets/{t['id']}").json()["status"] == "waiting"     # still in line
    assert not list((tmp_path / "sim" / "printer").glob("*.png"))
    alerts = client.get("/api/v1/alerts").json()["alerts"]
    assert alerts[0]["kind"] == "print_failed" and alerts[0]["device"] == "kiosk1-printer"
    assert t["number"] in alerts[0]["detail"]


def test_paper_near_end_is_a_warning_before_the_paper_runs_out(client, kiosk):
    tech = client.make_user("tech", "technician")
    client.post("/api/v1/devices/kiosk1-printer/simulate", json={"paper": "near-end"}, headers=tech)
    sup = client.hall.devices
    wait_for(lambda: sup.devices["kiosk1-printer"].health.state.value == "degraded")
    devices = client.get("/api/v1/alerts").json()["devices"]
    assert devices[0]["name"] == "kiosk1-printer" and devices[0]["state"] == "degraded"
    t = client.post("/api/v1/tickets", json={"matter": "RS-001", "kiosk": "kiosk1"}, headers=kiosk).json()
    assert t["print"]["ok"] is True                     # near end still prints


def test_simulate_is_for_technicians_and_simulators(client, kiosk):
    assert client.post("/api/v1/devices/kiosk1-printer/simulate", json={"paper": "out"},
                       headers=kiosk).status_code == 403
    tech = client.make_user("tech", "technician")
    r = client.post("/api/v1/devices/nope/simulate", json={"paper": "out"}, headers=tech)
    assert r.status_code == 404 and r.json()["error"]["code"] == "device_not_found"
    r = client.post("/api/v1/devices/kiosk1-printer/simulate", json={"paper": "wet"}, headers=tech)
    assert r.status_code == 422
    diag = client.get("/api/v1/devices/kiosk1-printer", headers=tech).json()
    assert diag["kind"] == "printer" and diag["diagnostics"]["kind"] == "printer"
