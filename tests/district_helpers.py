"""Helpers for the district tests (issue 19): in-process halls (Hall + TestClient, no devices) shipping to the
session's PostgreSQL (`pg`), and the district's projections brought up to what those halls have shipped."""
from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from hall_server.app import create_app
from hall_server.config import load_config
from hall_server.district.migrations import ensure_projection_schema
from hall_server.district.projector import catch_up
from hall_server.rollup.config import RollupPolicy
from hall_server.runtime import Hall

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "admin-test-password"


def wait_for(cond, timeout: float = 30.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


def config(name: str):
    return load_config(ROOT / "config" / name)


class HallClient:
    """One in-process hall with [rollup] on `url`, started and stopped (and started again) on its data directory;
    `c` is its TestClient while it runs."""

    def __init__(self, data_dir: Path, cfg, clock, url: str):
        self.data_dir, self.cfg, self.clock, self.url = data_dir, cfg, clock, url
        self.code = cfg.hall.code
        self.c: TestClient | None = None
        self.hall: Hall | None = None

    def start(self) -> HallClient:
        rollup = RollupPolicy(url=self.url, interval_s=0.3, retry_min_s=0.05, retry_max_s=0.2)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.hall = Hall(self.cfg.model_copy(update={"devices": (), "seats": (), "rollup": rollup}), self.data_dir,
                         self.clock)
        before = os.environ.get("ONEWINDOW_ADMIN_PASSWORD")
        os.environ["ONEWINDOW_ADMIN_PASSWORD"] = ADMIN_PASSWORD
        try:
            self.hall.ensure_admin()
        finally:
            if before is None:
                del os.environ["ONEWINDOW_ADMIN_PASSWORD"]
            else:
                os.environ["ONEWINDOW_ADMIN_PASSWORD"] = before
        self.c = TestClient(create_app(self.hall))
        self.c.__enter__()
        self.c.hall = self.hall
        self.admin = self.login("admin", ADMIN_PASSWORD)
        self.c.admin = self.admin
        self.c.make_user = self.make_user
        return self

    def stop(self) -> None:
        if self.c is not None:
            self.c.__exit__(None, None, None)
            self.c = None

    def login(self, username: str, password: str | None = None) -> dict:
        r = self.c.post("/api/v1/auth/login",
                        json={"username": username, "password": password or f"{username}-password"})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def make_user(self, username: str, role: str, **extra) -> dict:
        r = self.c.post("/api/v1/users", headers=self.admin,
                        json={"username": username, "password": f"{username}-password", "role": role, **extra})
        assert r.status_code == 201, r.text
        return self.login(username)

    def shipped(self) -> bool:
        """Every event of the hall's log is in PostgreSQL."""
        r = self.c.get("/api/v1/health").json()["rollup"]
        return r["lag_events"] == 0 and r["shipped_seq"] == self.hall.bus.latest_seq

    def rows(self, sql: str, *args) -> list:
        return self.hall.store.read.execute(sql, args).fetchall()


def project(url: str, *halls: HallClient) -> int:
    """Once `halls` have shipped everything, the district projector's catch-up over every hall's shipped events
    (what `onewindow district serve` does on each NOTIFY); answers how many events it applied."""
    for h in halls:
        wait_for(h.shipped, what=f"{h.code} to ship its events")
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_projection_schema(conn)
        return catch_up(conn)
