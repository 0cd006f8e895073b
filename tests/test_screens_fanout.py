"""The LED screens follow the hall (issue 5, item 3): a call shows over its window and on the hall bar; a
pause, a close and a finish change the window's screen; a restarted server sets every screen from the
windows' state. The real LedBus driver writes to the simulated RS-485 bus on a pseudo-terminal."""
from __future__ import annotations

import time

import pytest
from api_helpers import clerk_at, issue
from fastapi.testclient import TestClient

from hall_server.app import create_app
from hall_server.config import DeviceConfig
from hall_server.runtime import Hall

PASSWORD = "admin-test-password"


def wait_for(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while not (value := cond()):
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)
    return value


def hall_with_leds(tmp_path, district_cfg, clock, url):
    leds = DeviceConfig(name="leds", kind="display", url=url, screens={"hall": 99}, poll_s=5)
    cfg = district_cfg.model_copy(update={"devices": (leds,), "seats": ()})
    return Hall(cfg, tmp_path, clock)


@pytest.fixture
def leds_client(tmp_path, district_cfg, clock, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", PASSWORD)
    url = f"sim://display?protocol=led&gap_ms=5&widths=99:64&out={tmp_path / 'sim'}"
    h = hall_with_leds(tmp_path, district_cfg, clock, url)
    h.ensure_admin()
    with TestClient(create_app(h)) as c:
        c.hall, c.url = h, url
        c.admin = {"Authorization": "Bearer " + c.post("/api/v1/auth/login", json={
            "username": "admin", "password": PASSWORD}).json()["token"]}
        c.make_user = lambda u, role: _user(c, u, role)
        sim = wait_for(lambda: getattr(h.devices.devices["leds"].device, "simulator", None))
        c.sim = sim
        yield c


def _user(c, username, role):
    c.post("/api/v1/users", json={"username": username, "password": f"{username}-password", "role": role},
           headers=c.admin)
    token = c.post("/api/v1/auth/login", json={"username": username, "password": f"{username}-password"})
    return {"Authorization": f"Bearer {token.json()['token']}"}


def screen(c, address):
    return c.sim.screens.get(address, "").strip()


def test_every_window_screen_is_set_at_start(leds_client):
    c = leds_client
    wait_for(lambda: all(screen(c, w.number) == "停止服务" for w in c.hall.cfg.windows))


def test_a_call_shows_over_its_window_and_on_the_hall_bar(leds_client):
    c = leds_client
    t = issue(c, "SH-001")
    clerk = clerk_at(c, 3)
    wait_for(lambda: screen(c, 3) == "3号窗口")                       # opened, nobody called yet
    c.post("/api/v1/windows/3/call-next", headers=clerk)
    wait_for(lambda: screen(c, 3) == f"请{t['number']}")
    wait_for(lambda: screen(c, 99) == f"请{t['number']}号到3号窗口")
    c.post("/api/v1/windows/3/finish", headers=clerk)
    wait_for(lambda: screen(c, 3) == "3号窗口")
    c.post("/api/v1/windows/3/pause", json={"reason": "午休"}, headers=clerk)
    wait_for(lambda: screen(c, 3) == "暂停服务")
    c.post("/api/v1/windows/3/resume", headers=clerk)
    wait_for(lambda: screen(c, 3) == "3号窗口")
    c.post("/api/v1/windows/3/close", headers=clerk)
    wait_for(lambda: screen(c, 3) == "停止服务")
    assert screen(c, 4) == "停止服务"                                   # other windows untouched


def test_the_wall_of_screens_is_drawn(leds_client, tmp_path):
    c = leds_client
    issue(c, "SH-001")
    clerk = clerk_at(c, 1)
    c.post("/api/v1/windows/1/call-next", headers=clerk)
    wall = tmp_path / "sim" / "wall.png"
    wait_for(lambda: wall.exists() and wall.stat().st_size > 1000)


def test_a_restarted_server_shows_the_windows_as_they_are(tmp_path, district_cfg, clock, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", PASSWORD)
    url = f"sim://display?protocol=led&gap_ms=5&widths=99:64&out={tmp_path / 'sim'}"
    h = hall_with_leds(tmp_path, district_cfg, clock, url)
    h.ensure_admin()
    with TestClient(create_app(h)) as c:
        c.admin = {"Authorization": "Bearer " + c.post("/api/v1/auth/login", json={
            "username": "admin", "password": PASSWORD}).json()["token"]}
        c.make_user = lambda u, role: _user(c, u, role)
        t = issue(c, "SH-001")
        clerk = clerk_at(c, 2)
        c.post("/api/v1/windows/2/call-next", headers=clerk)
        other = clerk_at(c, 5, "clerk5")
        c.post("/api/v1/windows/5/pause", json={"reason": "会议"}, headers=other)
    h2 = hall_with_leds(tmp_path, district_cfg, clock, url)          # a new simulator: every screen blank
    with TestClient(create_app(h2)):
        sim = wait_for(lambda: getattr(h2.devices.devices["leds"].device, "simulator", None))
        wait_for(lambda: sim.screens.get(2, "").strip() == f"请{t['number']}")
        wait_for(lambda: sim.screens.get(5, "").strip() == "暂停服务")
        wait_for(lambda: sim.screens.get(1, "").strip() == "停止服务")



def test_a_screen_skips_to_its_latest_text_when_the_bus_is_slower_than_the_calls():
    """The bus takes a few frames a second: waiting texts are one per screen, the newest one."""
    import asyncio

    from hall_server.hardware.screens import _Latest

    async def scenario():
        q = _Latest()
        for n in range(1, 51):                        # 50 calls at two windows before the writer runs once
            q.put_nowait((str(n % 2 + 1), f"请S{n:03d}"))
            q.put_nowait(("hall", f"请S{n:03d}号到{n % 2 + 1}号窗口"))
        q.put_nowait(("@led-screens", None))
        assert q.qsize() == 4
        return [await q.get() for _ in range(4)]

    assert asyncio.run(scenario()) == [("2", "请S049"), ("hall", "请S050号到1号窗口"), ("1", "请S050"),
                                       ("@led-screens", None)]
