"""Issue 15's "Done when" through the API: a whole 承诺件 and a whole 联办件, from the ticket called at the
window to `decided`, each 受理通知书 printed on the window's simulated printer with the due dates the server
computed across National Day (2026-10-01…07, makeup Saturday 10-10) and the Spring Festival (2026-02-15…23,
makeup Saturdays 02-14 and 02-28). (The same through the pages: tests/test_terminal_intake.py and
tests/test_office_page.py.)"""
from __future__ import annotations

import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from api_helpers import clerk_at, issue
from fastapi.testclient import TestClient

from hall_server.app import create_app
from hall_server.clock import FakeClock
from hall_server.config import DeviceConfig
from hall_server.runtime import Hall

TZ = ZoneInfo("Asia/Shanghai")
ADMIN_PASSWORD = "admin-test-password"


def wait_for(cond, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while not (value := cond()):
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)
    return value


@pytest.fixture
def hall_at(tmp_path, district_cfg, monkeypatch):
    """A TestClient on the district hall, its clock at the given local time, printers at windows 3 and 8."""
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
    opened = []

    def start(when: datetime) -> TestClient:
        printers = tuple(DeviceConfig(name=f"window{n}-printer", kind="printer", window=n,
                                      url=f"sim://printer?width=80&out={tmp_path / f'w{n}'}") for n in (3, 8))
        h = Hall(district_cfg.model_copy(update={"devices": printers, "seats": ()}), tmp_path / "data",
                 FakeClock(when))
        h.ensure_admin()
        c = TestClient(create_app(h))
        c.__enter__()
        opened.append(c)
        c.hall, c.out = h, tmp_path

        def login(user, password):
            r = c.post("/api/v1/auth/login", json={"username": user, "password": password})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['token']}"}
        c.headers_for = login
        c.admin = login("admin", ADMIN_PASSWORD)

        def make_user(username, role, **extra):
            r = c.post("/api/v1/users", headers=c.admin, json={"username": username, "role": role,
                                                                "password": f"{username}-password", **extra})
            assert r.status_code == 201, r.text
            return login(username, f"{username}-password")
        c.make_user = make_user
        wait_for(lambda: all(s.since for s in h.devices.devices.values()), 60)
        return c
    yield start
    for c in opened:
        c.__exit__(None, None, None)


def ok(r, status=200) -> dict:
    assert r.status_code == status, r.text
    return r.json()


def served(c, clerk, window: int, matter: str) -> dict:
    ticket = issue(c, matter)
    called = ok(c.post(f"/api/v1/windows/{window}/call-next", headers=clerk))
    assert called["id"] == ticket["id"]
    ok(c.post(f"/api/v1/windows/{window}/start", headers=clerk))
    return ticket


def printed_text(c, window: int) -> str:
    found = wait_for(lambda: sorted((c.out / f"w{window}").glob("*.txt")))
    return re.sub(r"[\s\u3000]+", "", found[-1].read_text(encoding="utf-8"))


def test_a_promised_case_accepted_before_national_day(hall_at):
    c = hall_at(datetime(2026, 9, 29, 10, 0, tzinfo=TZ))          # Tuesday before the holiday
    clerk = clerk_at(c, 3)
    ticket = served(c, clerk, 3, "SH-003")
    case = ok(c.post("/api/v1/cases", headers=clerk, json={
        "matter": "SH-003", "ticket": ticket["id"], "applicant": {"name": "张三", "phone": "13800000000"},
        "materials": [{"name": n, "state": "original"}
                      for n in ("居民身份证原件", "临时救助申请书", "遭遇困难的相关证明")]}), 201)
    case = ok(c.post(f"/api/v1/cases/{case['id']}/accept", headers=clerk))
    # day 1 is 09-30; 10-01…07 are off; 10-08, 10-09, Saturday 10-10 (makeup), 10-12 … 10-19 is day 10
    assert case["due"] == "2026-10-19"
    # 20 working days: … 10-19 is day 10, then 10-20 … 11-02 is day 20
    assert case["legal_due"] == "2026-11-02"
    assert ok(c.post(f"/api/v1/cases/{case['id']}/print", headers=clerk, json={"notice": "acceptance"}))["ok"]
    paper = printed_text(c, 3)
    assert "受理通知书" in paper and case["number"] in paper and "2026年10月19日" in paper
    officer = c.make_user("mz1", "department", departments=["区民政局"])
    ok(c.post(f"/api/v1/cases/{case['id']}/claim", headers=officer))
    case = ok(c.post(f"/api/v1/cases/{case['id']}/decide", headers=officer, json={"outcome": "approved"}))
    assert case["status"] == "decided" and case["ticket"] == ticket["id"]


def test_a_joint_case_across_the_spring_festival(hall_at):
    c = hall_at(datetime(2026, 2, 12, 10, 0, tzinfo=TZ))          # Thursday before the holiday
    clerk = clerk_at(c, 8)
    ticket = served(c, clerk, 8, "LB-001")
    case = ok(c.post("/api/v1/cases", headers=clerk, json={
        "matter": "LB-001", "ticket": ticket["id"], "channel": "proxy",
        "applicant": {"name": "李四", "phone": "13900000000"}, "agent": {"name": "王五", "phone": "13700000000"},
        "materials": [{"name": n, "state": "original"} for n in ("出生医学证明", "父母双方居民身份证", "户口簿")]
        + [{"name": "结婚证", "state": "n/a"}]}), 201)
    case = ok(c.post(f"/api/v1/cases/{case['id']}/accept", headers=clerk))
    # 5 working days: 02-13, Saturday 02-14 (makeup), 02-15…23 off, 02-24, 02-25, 02-26
    assert case["due"] == "2026-02-26"
    assert ok(c.post(f"/api/v1/cases/{case['id']}/print", headers=clerk, json={"notice": "acceptance"}))["ok"]
    paper = printed_text(c, 8)
    assert "受理通知书" in paper and case["number"] in paper and "2026年2月26日" in paper
    departments = [t["department"] for t in case["departments"]]
    assert len(departments) == 4
    for i, d in enumerate(departments):
        officer = c.make_user(f"o{i}", "department", departments=[d])
        ok(c.post(f"/api/v1/cases/{case['id']}/claim", headers=officer))
        case = ok(c.post(f"/api/v1/cases/{case['id']}/decide", headers=officer,
                         json={"outcome": "approved", "opinion": f"{d}：同意"}))
    assert case["status"] == "decided" and case["outcome"] == "approved"
    history = ok(c.get(f"/api/v1/cases/{case['id']}", headers=c.admin))["history"]
    assert [h["action"] for h in history].count("task_decided") == 4
