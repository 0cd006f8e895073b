"""The running hall: configuration, store, engine, event bus and auth, wired together once.

Created by the app's lifespan and reached by request handlers through `app.state.hall`.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import card_reads, identity, keypads
from .announcer import Announcer
from .auth import Auth
from .clock import Clock
from .config import HallConfig
from .devices import DeviceSupervisor
from .displays import ScreenFanOut
from .engine import Engine
from .events import EventBus, last_seq
from .seats import SeatMonitor
from .store import Change, Store

log = logging.getLogger(__name__)
DEV_USERS = [("supervisor", "supervisor"), ("technician", "technician"), ("kiosk1", "kiosk"), ("kiosk2", "kiosk"),
             *[(f"clerk{n}", "clerk") for n in range(1, 6)]]


class Hall:
    def __init__(self, cfg: HallConfig, data_dir: str | Path, clock: Clock | None = None):
        self.cfg = cfg
        self.started_monotonic = time.monotonic()
        self.clock = clock or Clock()
        self.data_dir = Path(data_dir)
        self.bus = EventBus()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.engine = Engine(cfg, self.clock)
        self.store = Store(self.data_dir / "hall.db", on_commit=self._on_commit,
                           on_rollback=self.engine.forget_cached_state)
        self.views = self.engine.views
        self.auth = Auth(self.store.read)
        self.identity_key = identity.load_key(self.data_dir)
        self.devices = DeviceSupervisor(cfg.devices, self.store.write, self.clock.now,
                                        sim_dir=self.data_dir / "sim",
                                        on_card=lambda dev, card, problem: card_reads.on_card(self, dev, card, problem),
                                        on_key=lambda dev, press: keypads.on_key(self, dev, press))
        self.announcer = Announcer(self)
        self.screens = ScreenFanOut(self)
        self.seats = SeatMonitor(self)
        self.store.write_sync(self._sync_windows)
        self.bus.latest_seq = last_seq(self.store.read)

    def _sync_windows(self, conn) -> Change:
        for w in self.cfg.windows:
            conn.execute("INSERT OR IGNORE INTO windows (number, state, since) VALUES (?, 'closed', ?)",
                         (w.number, self.clock.now().isoformat(timespec="milliseconds")))
        return self.engine.tick(conn)

    def _on_commit(self, events: list[dict]) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.bus.publish, events)

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.store.start()
        await self.devices.start()
        await self.announcer.start()
        await self.screens.start()
        await self.seats.start()

    async def stop(self) -> None:
        await self.seats.stop()
        await self.screens.stop()
        await self.announcer.stop()
        await self.devices.stop()
        self.close()

    def close(self) -> None:
        self.store.close()

    async def write(self, fn: Callable[..., Change], *args: Any, **kw: Any) -> Any:
        return await self.store.write(lambda conn: fn(conn, *args, **kw))

    # -- accounts ------------------------------------------------------------------------------
    def ensure_admin(self) -> str | None:
        """On first start, create `admin`; returns the password if it was generated here."""
        if self.auth.password_hash(self.store.read, "admin"):
            return None
        password = os.environ.get("ONEWINDOW_ADMIN_PASSWORD")
        generated = None
        if not password:
            password = generated = secrets.token_urlsafe(12)
        self.store.write_sync(lambda c: self.auth.create_user(c, "admin", password, "admin", self.clock.now()))
        return generated

    def ensure_dev_users(self, admin_password: str | None = None) -> dict[str, dict]:
        """Development mode: demo accounts, their passwords kept in var/dev-credentials.json."""
        path = self.data_dir / "dev-credentials.json"
        creds = json.loads(path.read_text()) if path.exists() else {}
        if admin_password:
            creds["admin"] = {"role": "admin", "password": admin_password}
        for username, role in DEV_USERS:
            if self.auth.password_hash(self.store.read, username):
                continue
            password = secrets.token_urlsafe(9)
            self.store.write_sync(lambda c, u=username, p=password, r=role:
                                  self.auth.create_user(c, u, p, r, self.clock.now()))
            creds[username] = {"role": role, "password": password}
        path.write_text(json.dumps(creds, ensure_ascii=False, indent=1))
        path.chmod(0o600)
        return creds
