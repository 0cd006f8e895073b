"""Shared fixtures: a hall on a temporary database with a fake clock, and an HTTP client for it."""
from __future__ import annotations

import fcntl
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from hall_server.accounts import auth
from hall_server.app import create_app
from hall_server.clock import FakeClock
from hall_server.config import load_config
from hall_server.runtime import Hall

# Passwords in the in-process tests are hashed with a cheaper scrypt (n = 2**10, 1 MB, ~1 ms instead of
# 16 MB and ~60 ms): a `client` logs its admin in for every test, and hundreds of tests spent two minutes of
# the suite in scrypt. The format and the verification path are the same; test_auth_matrix checks that the
# server's own setting is the strong one. Server processes (serverproc.py) keep the real cost.
STRONG_SCRYPT = dict(auth._SCRYPT)
auth._SCRYPT = {**auth._SCRYPT, "n": 2**10}

ROOT = Path(__file__).resolve().parent.parent
DISTRICT = ROOT / "config" / "district-centre.toml"
ADMIN_PASSWORD = "admin-test-password"
# A Tuesday morning in the hall's zone, well after the 03:00 rollover.
MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="session")
def district_cfg():
    return load_config(DISTRICT)


@pytest.fixture
def clock():
    return FakeClock(MORNING)


@pytest.fixture
def hall(tmp_path, district_cfg, clock):
    """A Hall (not started: its writer runs changes synchronously via write_sync)."""
    h = Hall(district_cfg, tmp_path, clock)
    yield h
    h.close()


@pytest.fixture
def client(tmp_path, district_cfg, clock, monkeypatch):
    """A TestClient on the district hall; `client.login(role_or_user)` returns auth headers."""
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
    # The kiosk's devices only: the calling devices (loudspeakers, LED screens) have their own tests, and
    # their simulators would add a quarter of a second to every one of these.
    kiosk_devices = tuple(d for d in district_cfg.devices if d.kiosk)
    h = Hall(district_cfg.model_copy(update={"devices": kiosk_devices, "seats": ()}), tmp_path, clock)
    h.ensure_admin()
    with TestClient(create_app(h)) as c:
        c.hall = h
        c.headers_for = lambda user, password: _login(c, user, password)
        c.admin = _login(c, "admin", ADMIN_PASSWORD)
        c.make_user = lambda username, role: _make_user(c, username, role)
        _settle(h)
        yield c


def _settle(h: Hall, timeout: float = 60.0) -> None:
    """Wait until every device has reported its first health, so its event is not in the middle of a test."""
    end = time.monotonic() + timeout
    while not all(s.since for s in h.devices.devices.values()):
        assert time.monotonic() < end, "devices did not report their health in time"
        time.sleep(0.005)


def _login(c: TestClient, user: str, password: str) -> dict:
    r = c.post("/api/v1/auth/login", json={"username": user, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _make_user(c: TestClient, username: str, role: str) -> dict:
    password = f"{username}-password"
    r = c.post("/api/v1/users", json={"username": username, "password": password, "role": role}, headers=c.admin)
    assert r.status_code == 201, r.text
    return _login(c, username, password)


@pytest.fixture(scope="module")
def vpcd_slot_1():
    """vpcd's slot 1 (port 35964), held while a test module uses it: there is one such card slot on the
    machine, and `make test`'s workers (or two test runs at once) take it in turn instead of inserting
    cards into each other's reader."""
    with open(Path(tempfile.gettempdir()) / "onewindow-vpcd-slot-1.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)        # blocks; pytest-timeout ends a wait that never ends
        try:
            yield 35964
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _no_admin_env_leak(monkeypatch):
    if "ONEWINDOW_ADMIN_PASSWORD" in os.environ:
        monkeypatch.delenv("ONEWINDOW_ADMIN_PASSWORD")


# -- hardware in the loop: `pytest -m hardware --device-url URL` (see tests/test_hardware.py) ------------
def pytest_addoption(parser):
    group = parser.getgroup("hardware", "driver tests against a real (or simulated) device")
    group.addoption("--device-url", default=None, help="the device URL the hardware tests talk to, e.g. "
                    "escpos+tcp://192.168.10.31:9100 or sam+serial:///dev/ttyUSB0")
    group.addoption("--device-kind", default=None, choices=("printer", "idcard", "display", "caller", "camera"),
                    help="the device's kind, when its URL scheme does not say it")
    group.addoption("--device-address", type=int, default=1, help="LED screen or keypad address to use (1)")
    group.addoption("--device-wait", type=float, default=15.0,
                    help="seconds to wait for a card, a key press or frames (15)")


# The files that take longest (wall time alone on a loaded 2-core box, `pytest --durations`), longest first.
LONGEST_FIRST = ("test_seat_worker", "test_terminal_page", "test_screen_pages", "test_presence", "test_terminal_intake",
                 "test_seats_live", "test_seat_timelines", "test_office_page", "test_kiosk_pages", "test_restart",
                 "test_pages_accessibility", "test_printer_opening", "test_dashboard_page", "test_auth_matrix",
                 "test_scripts_env", "test_locker_pickup_page", "test_handout_pages", "test_pcsc_reader",
                 "test_sms_delivery", "test_diagnose")


def _file_rank(item, slow_files) -> tuple[int, int]:
    name = item.path.stem
    if name in LONGEST_FIRST:
        return (0, LONGEST_FIRST.index(name))
    return (1, 0) if item.path in slow_files else (2, 0)


def pytest_collection_modifyitems(config, items):
    """The longest files run first (LONGEST_FIRST, then the others that spawn server processes — a `slow`
    test), each file's tests still together: `make test`'s workers take whole files in this order
    (`--no-loadscope-reorder`: xdist would otherwise put the files with the most tests first, and the long
    page files, with few tests each, last), so no long file is left running alone at the end.
    Without --device-url the hardware tests are collected and skipped, saying why."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: _file_rank(item, slow_files))     # stable: the order within a file stays
    if config.getoption("--device-url"):
        return
    skip = pytest.mark.skip(reason="no --device-url given (run: pytest -m hardware --device-url URL)")
    for item in items:
        if "hardware" in item.keywords:
            item.add_marker(skip)
