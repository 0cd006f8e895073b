"""Seat monitoring in a running hall (issue 7): a simulated camera over window 3, in real time.

The camera plays a short script (the clerk works, leaves for 22 s, comes back) through OpenCV in the hall's seat
worker process (the faults are injected there through the devices API); the hall turns
it into `seat.presence` events, a 离岗 alert after away_alert_min (3 s here) with an evidence snapshot that is
blurred outside the seat, a cleared alert on return, on-seat time for the clerk, and "unknown" — never
"away" — when the camera drops out. Evidence past evidence_days is deleted.
"""
from __future__ import annotations

import time
from datetime import timedelta

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from kiosk_helpers import hall_config
from seatconfig import one_camera_config

from drivers.camera.simulator import default_rois
from hall_server.app import create_app
from hall_server.clock import Clock
from hall_server.config import load_config
from hall_server.runtime import Hall

pytestmark = pytest.mark.slow
SCRIPT = """
0   noise 3
0   seat1 work
10  seat1 empty
23  seat1 work
45  end
"""
STILL = """
0   noise 3
0   seat1 work
45  end
"""


class MovableClock(Clock):
    """Real time, plus a jump when a test needs days to pass (evidence expiry)."""

    def __init__(self):
        self.offset = timedelta()

    def now(self):
        return super().now() + self.offset


@pytest.fixture
def hall(tmp_path, monkeypatch, request):
    """The hall with one seat camera playing SCRIPT (the clerk leaves for 13 s), or the script a test passes
    (indirect parametrisation)."""
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", "admin-test-password")
    path = one_camera_config(tmp_path, getattr(request, "param", SCRIPT),
                             base=hall_config(tmp_path).read_text(encoding="utf-8"),
                             seat_monitoring="away_alert_min = 0.05\ndebounce_s = 1\nevidence_days = 3",
                             name="seats.toml")
    h = Hall(load_config(path), tmp_path / "data", MovableClock())
    h.ensure_admin()
    with TestClient(create_app(h)) as c:
        r = c.post("/api/v1/auth/login", json={"username": "admin", "password": "admin-test-password"})
        c.headers.update({"Authorization": f"Bearer {r.json()['token']}"})
        c.hall = h
        yield c


def events(c, kind: str) -> list[dict]:
    return [e for e in c.get("/api/v1/events", params={"since": 0, "limit": 1000}).json()["events"]
            if e["type"] == kind]


def wait(what, timeout: float):
    end = time.monotonic() + timeout
    while True:
        got = what()
        if got:
            return got
        assert time.monotonic() < end, "timed out"
        time.sleep(0.2)


def test_leaving_raises_an_alert_with_blurred_evidence_and_returning_clears_it(hall):
    c = hall
    r = c.post("/api/v1/users", json={"username": "c3", "password": "c3-password", "role": "clerk"})
    assert r.status_code == 201, r.text
    token = c.post("/api/v1/auth/login", json={"username": "c3", "password": "c3-password"}).json()["token"]
    clerk = {"Authorization": f"Bearer {token}"}
    assert c.post("/api/v1/windows/3/login", headers=clerk).status_code == 200
    assert c.post("/api/v1/windows/3/open", headers=clerk).status_code == 200
    wait(lambda: [e for e in events(c, "seat.presence") if e["data"]["state"] == "present"], 20)

    away = wait(lambda: [e for e in events(c, "seat.presence") if e["data"]["state"] == "away"], 20)
    raised = wait(lambda: [e for e in events(c, "alert.raised") if e["data"]["kind"] == "away"], 10)[0]
    assert raised["data"]["window"] == 3 and raised["data"]["clerk"] == "c3" and "离岗" in raised["data"]["detail"]
    assert raised["seq"] > away[0]["seq"]
    seats = c.get("/api/v1/seats").json()
    assert seats[0]["window"] == 3 and seats[0]["presence"] == "away" and seats[0]["alert"] is True
    snap = c.get("/api/v1/dashboard").json()
    assert snap["seats"][0]["alert"] is True
    assert next(a for a in snap["alerts"] if a["kind"] == "away")["cleared"] is False

    r = c.get(f"/api/v1/evidence/{raised['data']['evidence']}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image.shape == (360, 640)
    x, y, w, h = default_rois(1)[0].to_pixels(640, 360)
    outside = image[:, : max(1, x - 10)]
    inside = image[y + 10: y + h - 10, x + 10: x + w - 10]
    assert cv2.Laplacian(outside, cv2.CV_64F).var() < 0.2 * cv2.Laplacian(inside, cv2.CV_64F).var()
    clerk_only = c.get(f"/api/v1/evidence/{raised['data']['evidence']}", headers=clerk)
    assert clerk_only.status_code == 403

    cleared = wait(lambda: [e for e in events(c, "alert.cleared") if e["data"]["kind"] == "away"], 40)[0]
    assert cleared["data"]["reason"] == "returned" and cleared["data"]["away_s"] >= 10
    assert next(a for a in c.get("/api/v1/dashboard").json()["alerts"] if a["kind"] == "away")["cleared"] is True
    times = c.get("/api/v1/seats/time").json()
    mine = next(t for t in times if t["clerk"] == "c3")
    assert mine["window"] == 3 and mine["present_s"] > 5 and mine["away_s"] > 10


@pytest.mark.parametrize("hall", [STILL], indirect=True, ids=["still"])     # the clerk never leaves
def test_a_camera_drop_out_reads_unknown_not_away(hall):
    c = hall
    wait(lambda: c.get("/api/v1/seats").json()[0]["presence"] == "present", 20)
    r = c.post("/api/v1/devices/seat-cam/simulate", json={"fault": "dropout"})
    assert r.status_code == 200, r.text
    wait(lambda: c.get("/api/v1/seats").json()[0]["presence"] == "unknown", 10)
    time.sleep(3)
    assert c.get("/api/v1/seats").json()[0]["presence"] == "unknown"
    assert not [e for e in events(c, "seat.presence") if e["data"]["state"] == "away"]
    c.post("/api/v1/devices/seat-cam/simulate", json={"fault": "restore"})
    wait(lambda: c.get("/api/v1/seats").json()[0]["presence"] == "present", 10)


def test_evidence_is_deleted_when_it_expires(hall):
    c, h = hall, hall.hall
    evidence_dir = h.data_dir / "evidence" / "2026-11-24"
    evidence_dir.mkdir(parents=True)
    old, fresh = evidence_dir / "window03-090000.jpg", evidence_dir / "window03-100000.jpg"
    for path in (old, fresh):
        path.write_bytes(b"\xff\xd8jpeg")
    now = h.clock.now()

    def add(conn, path, expires):
        conn.execute("INSERT INTO evidence (at, window, clerk, path, expires_at) VALUES (?,?,?,?,?)",
                     (now.isoformat(), 3, "c3", str(path), expires.isoformat(timespec="seconds")))
        from hall_server.store.database import Change
        return Change()
    h.store.write_sync(lambda conn: add(conn, old, now + timedelta(days=3)))
    h.store.write_sync(lambda conn: add(conn, fresh, now + timedelta(days=5)))
    h.clock.offset = timedelta(days=4)
    c.portal.call(h.seats._prune, h.clock.now())
    assert not old.exists() and fresh.exists()
    rows = h.store.read.execute("SELECT path, deleted_at IS NOT NULL FROM evidence ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [(str(old), 1), (str(fresh), 0)]
    token = c.post("/api/v1/auth/login", json={"username": "admin", "password": "admin-test-password"}).json()["token"]
    r = c.get("/api/v1/evidence/1", headers={"Authorization": f"Bearer {token}"})      # four days on: log in again
    assert r.status_code == 404 and r.json()["error"]["code"] == "evidence_not_found"
