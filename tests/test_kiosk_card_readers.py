"""Card readers owned by the hall server (issue 4, item 6): a card read at a kiosk's reader — the SAM
reader on a pseudo-terminal, or a social-security card through the real pcscd — becomes a swipe at that
kiosk, announced by a `card.swiped` event; a failed read becomes `card.read_failed`."""
from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from hall_server.app import create_app
from hall_server.config import DeviceConfig
from hall_server.runtime import Hall

READERS = {
    "sam": "sim://idcard?timeout=1",
    "pcsc": "sim://sscard?port=35964",      # vpcd slot 1: a hall started with `make run` may use slot 0
}


def wait_for(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while not (value := cond()):
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.05)
    return value


@pytest.fixture(params=sorted(READERS))
def hall_client(request, tmp_path, district_cfg, clock, monkeypatch, vpcd_slot_1):
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", "admin-test-password")
    reader = DeviceConfig(name="kiosk2-reader", kind="idcard", url=READERS[request.param], kiosk="kiosk2", poll_s=2)
    cfg = district_cfg.model_copy(update={"devices": (reader,), "seats": ()})
    h = Hall(cfg, tmp_path, clock)
    h.ensure_admin()
    with TestClient(create_app(h)) as c:
        token = c.post("/api/v1/auth/login", json={"username": "admin", "password": "admin-test-password"})
        c.admin = {"Authorization": f"Bearer {token.json()['token']}"}
        c.hall = h
        wait_for(lambda: h.devices.devices["kiosk2-reader"].health.state.value == "ok", 15)
        yield c


def events_of(c, type_):
    return [e for e in c.get("/api/v1/events?since=0", headers=c.admin).json()["events"] if e["type"] == type_]


def test_a_card_on_a_kiosks_reader_becomes_a_swipe_there(hall_client):
    c = hall_client
    r = c.post("/api/v1/devices/kiosk2-reader/simulate", json={"card": "elder"}, headers=c.admin)
    assert r.status_code == 200, r.text
    swiped = wait_for(lambda: events_of(c, "card.swiped"))
    assert len(swiped) == 1 and swiped[0]["data"]["kiosk"] == "kiosk2"
    s = c.get(f"/api/v1/swipes/{swiped[0]['data']['swipe']}", headers=c.admin).json()
    assert (s["age"], s["priority"], s["gender"]) == (70, "elderly", "女")
    t = c.post("/api/v1/tickets", json={"matter": "SH-001", "kiosk": "kiosk2", "swipe": s["id"]}, headers=c.admin)
    assert t.status_code == 201 and t.json()["priority"] == "elderly"
    time.sleep(0.8)                                   # the card stays: it is not read again
    c.post("/api/v1/devices/kiosk2-reader/simulate", json={"remove_card": True}, headers=c.admin)
    assert len(events_of(c, "card.swiped")) == 1


def test_the_same_person_on_either_card_is_one_citizen(hall_client):
    c = hall_client
    c.post("/api/v1/devices/kiosk2-reader/simulate", json={"card": "adult"}, headers=c.admin)
    sid = wait_for(lambda: events_of(c, "card.swiped"))[0]["data"]["swipe"]
    for _ in range(2):
        c.post("/api/v1/tickets", json={"matter": "SH-001", "kiosk": "kiosk2", "swipe": sid}, headers=c.admin)
    # the quota counts by the keyed hash of the number, whichever card and reader it came from
    from drivers.idcard.sim_sscard import CARDS as SS_CARDS
    from drivers.idcard.simulator.cards import CARDS as SAM_CARDS
    assert SAM_CARDS["adult"].id_number == SS_CARDS["adult"].id_number
    card = {"id_number": SAM_CARDS["adult"].id_number, "name": SAM_CARDS["adult"].name}
    other = c.post("/api/v1/swipes", json={"kiosk": "kiosk2", "card": card}, headers=c.admin).json()
    r = c.post("/api/v1/tickets", json={"matter": "SH-001", "kiosk": "kiosk2", "swipe": other["id"]},
               headers=c.admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "quota_exceeded"


def test_a_failed_read_tells_the_kiosk(hall_client, request):
    c = hall_client
    fault = "removed" if "sam" in request.node.callspec.id else "wrong-app"
    c.post("/api/v1/devices/kiosk2-reader/simulate", json={"fault": fault, "card": "adult"}, headers=c.admin)
    failed = wait_for(lambda: events_of(c, "card.read_failed"))
    assert failed[0]["data"]["kiosk"] == "kiosk2" and failed[0]["data"]["reason"]
    assert not events_of(c, "card.swiped")


def test_a_bad_simulation_request_is_refused(hall_client):
    c = hall_client
    r = c.post("/api/v1/devices/kiosk2-reader/simulate", json={"paper": "out"}, headers=c.admin)
    assert r.status_code == 422 and "cannot simulate" in r.json()["error"]["message_en"]
    r = c.post("/api/v1/devices/kiosk2-reader/simulate", json={"card": "nobody"}, headers=c.admin)
    assert r.status_code == 422 and "unknown simulated card" in r.json()["error"]["message_en"]
