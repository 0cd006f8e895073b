"""SMS to applicants through the simulated modem (issue 16, item 4): the outbox's messages reach `sim://sms` (the
real AT driver on a pseudo-terminal), once each; a modem without signal keeps them queued until it has one; a
+CMS ERROR is retried with back-off; a restart in the middle loses nothing and sends nothing twice."""
from __future__ import annotations

import time

import pytest
from api_helpers import clerk_at
from fastapi.testclient import TestClient

from hall_server.app import create_app
from hall_server.clock import Clock
from hall_server.config import DeviceConfig
from hall_server.notify.config import SmsPolicy
from hall_server.runtime import Hall

ADMIN_PASSWORD = "admin-test-password"
MATERIALS = ("居民身份证原件", "临时救助申请书", "遭遇困难的相关证明")


def wait_for(cond, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while not (value := cond()):
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)
    return value


class Running:
    """A started hall with a simulated modem "sms-modem"; `.modem` is the simulator behind it."""

    def __init__(self, cfg, data, clock):
        self.hall = Hall(cfg, data, clock)
        self.hall.sms.unavailable_wait_s = 0.2
        self.hall.ensure_admin()
        self.c = TestClient(create_app(self.hall))
        self.c.__enter__()
        wait_for(lambda: all(s.since for s in self.hall.devices.devices.values()), 60)
        r = self.c.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        self.c.admin = {"Authorization": f"Bearer {r.json()['token']}"}
        self.c.make_user = self.make_user
        self.c.headers_for = self.login

    def login(self, user, password):
        r = self.c.post("/api/v1/auth/login", json={"username": user, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def make_user(self, username, role):
        r = self.c.post("/api/v1/users", headers=self.c.admin, json={"username": username, "role": role,
                                                                      "password": f"{username}-password"})
        assert r.status_code == 201, r.text
        return self.login(username, f"{username}-password")

    @property
    def modem(self):
        return self.hall.devices.devices["sms-modem"].device.simulator

    def simulate(self, **faults):
        r = self.c.post("/api/v1/devices/sms-modem/simulate", json=faults, headers=self.c.admin)
        assert r.status_code == 200, r.text

    def outbox(self) -> list[dict]:
        return [dict(r) for r in self.hall.store.read.execute("SELECT * FROM outbox ORDER BY id")]

    def accept_a_case(self, clerk) -> dict:
        r = self.c.post("/api/v1/cases", headers=clerk, json={
            "matter": "SH-003", "applicant": {"name": "张三", "phone": "13800000000"},
            "materials": [{"name": n, "state": "original"} for n in MATERIALS]})
        assert r.status_code == 201, r.text
        r = self.c.post(f"/api/v1/cases/{r.json()['id']}/accept", headers=clerk)
        assert r.status_code == 200, r.text
        return r.json()

    def close(self):
        self.c.__exit__(None, None, None)


@pytest.fixture
def start(tmp_path, district_cfg, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
    modem = DeviceConfig(name="sms-modem", kind="sms", url="sim://sms", poll_s=0.2)
    cfg = district_cfg.model_copy(update={"devices": (modem,), "seats": (),
                                          "sms": SmsPolicy(device="sms-modem", retry_s=(0.1, 0.2))})
    clock = Clock()                         # real time: retries wait for it
    opened: list[Running] = []

    def go() -> Running:
        r = Running(cfg, tmp_path / "data", clock)
        opened.append(r)
        return r
    yield go
    for r in opened:
        r.close()


def test_the_acceptance_message_reaches_the_modem_once(start):
    h = start()
    case = h.accept_a_case(clerk_at(h.c, 3))
    sent = h.modem.wait_sent(1)
    assert len(sent) == 1 and sent[0].number.endswith("13800000000")
    assert case["number"] in sent[0].text and case["query_code"] in sent[0].text and case["due"] in sent[0].text
    assert sent[0].parts > 1                                     # a long Chinese text: concatenated parts
    wait_for(lambda: h.outbox()[0]["status"] == "sent")
    events = h.c.get("/api/v1/events", params={"since": 0, "limit": 1000}).json()["events"]
    sms = [e for e in events if e["type"] == "sms.sent"]
    assert sms and sms[0]["data"]["to"] == "138****0000" and "13800000000" not in str(events)
    time.sleep(0.5)                                              # a while longer: nothing is sent again
    assert len(h.modem.sent) == 1


def test_no_signal_keeps_messages_queued_until_the_modem_has_one(start):
    h = start()
    h.simulate(fault="no-signal")
    wait_for(lambda: h.hall.devices.devices["sms-modem"].health.state.value != "ok")
    h.accept_a_case(clerk_at(h.c, 3))
    wait_for(lambda: h.outbox() and h.outbox()[0]["error"])
    assert h.outbox()[0]["status"] == "queued" and h.outbox()[0]["tries"] == 0 and h.modem.sent == []
    h.simulate(fault="none")
    assert len(h.modem.wait_sent(1, timeout=20)) == 1
    wait_for(lambda: h.outbox()[0]["status"] == "sent")


def test_a_refused_message_is_retried_then_sent(start):
    h = start()
    h.simulate(cms_error=38, times=1)
    h.accept_a_case(clerk_at(h.c, 3))
    assert len(h.modem.wait_sent(1, timeout=20)) == 1
    wait_for(lambda: h.outbox()[0]["status"] == "sent")
    assert h.outbox()[0]["tries"] == 2


def test_a_restart_in_the_middle_loses_nothing_and_sends_nothing_twice(start):
    h = start()
    h.simulate(fault="no-signal")
    wait_for(lambda: h.hall.devices.devices["sms-modem"].health.state.value != "ok")
    h.accept_a_case(clerk_at(h.c, 3))
    wait_for(lambda: h.outbox() and h.outbox()[0]["error"])
    h.close()
    h2 = start()                                                 # the same data directory, a modem that works
    assert len(h2.modem.wait_sent(1, timeout=20)) == 1
    wait_for(lambda: h2.outbox()[0]["status"] == "sent")
    time.sleep(0.5)
    assert len(h2.modem.sent) == 1 and len(h2.outbox()) == 1
