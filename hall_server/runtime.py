"""The running hall: configuration, store, engine, event bus, auth and devices, wired together once.

This is the one place that knows every part: each subsystem receives the parts it uses (store, bus, clock,
config, devices) from here and never imports the `Hall`. Created by the app's lifespan and reached by
request handlers through `app.state.hall`.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .accounts import bootstrap
from .accounts.auth import Auth
from .cases.service import Cases
from .clock import Clock
from .complaints.service import Complaints
from .config import HallConfig
from .courier.service import Parcels
from .feedback.service import Feedback
from .hardware.card_reads import CardReads
from .hardware.evaluators import EvaluatorPrompts
from .hardware.keypads import Keypads
from .hardware.printing import KioskPrinting
from .hardware.screens import ScreenFanOut
from .hardware.supervisor import DeviceSupervisor, DeviceUnavailable, hall_url
from .identity import citizen as identity
from .lockers.service import Lockers
from .notify.outbox import Outbox, Sender
from .queue.engine import Engine
from .seats.monitor import SeatMonitor
from .speech.announcer import Announcer
from .stats.facts import Dims, MatterDims
from .stats.service import Stats
from .store.database import Change, Store
from .store.events import EventBus, last_seq

log = logging.getLogger(__name__)


class Hall:
    def __init__(self, cfg: HallConfig, data_dir: str | Path, clock: Clock | None = None, *,
                 stats_mode: str = "thread"):
        """`stats_mode`: where the statistics' projector runs — 'thread' (a hall inside another program, tests) or
        'process' (the server: its own process, off the server's interpreter lock and core)."""
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
        self.outbox = Outbox(cfg.sms, cfg.hall.name, cfg.cases.complaint_phone or cfg.hall.phone,
                             lambda: cfg.hall.public_url)
        self.cases = Cases(cfg, self.store, self.clock, self.identity_key,
                           notify=lambda conn, row, event, matter: self.outbox.for_case_event(
                               conn, row, event, matter_name=matter),
                           after=lambda conn, row, event: self.feedback.on_case_event(conn, row, event))
        # 好差评: a prompt opens in the transaction that finishes a ticket or delivers a case at a window
        self.feedback = Feedback(cfg, self.store, self.bus, self.clock, self.cases.calendar, self.identity_key)
        self.engine.on_finish = self.feedback.on_ticket_finished
        # “办不成事” complaints: counted in the cases' working days, their SMS through the outbox
        self.complaints = Complaints(cfg, self.store, self.clock, self.cases.calendar, self.outbox)
        card_reads = CardReads(self.store, self.engine, self.clock, self.identity_key)
        self.devices = DeviceSupervisor(cfg.devices, self.store.write, self.clock.now,
                                        sim_dir=self.data_dir / "sim", on_card=card_reads,
                                        on_key=lambda dev, press: self.keypads(dev, press),
                                        owned_elsewhere=frozenset({"camera"}))
        self.keypads = Keypads(cfg, self.store, self.engine, self.clock, self.devices)
        self.evaluators = EvaluatorPrompts(cfg.devices, self.devices, self.clock, self.feedback.submit,
                                           cfg.feedback.prompt_timeout_s, self.store)
        # the windows' key boxes (评价器): a finished handling lights the box, whose key answers self.feedback.submit
        self.feedback.ask = self.evaluators.prompt
        self.printing = KioskPrinting(cfg, self.store, self.devices, self.clock)
        self.announcer = Announcer(cfg, self.store, self.bus, self.devices, self.clock, self.data_dir / "audio-cache")
        self.screens = ScreenFanOut(cfg, self.store, self.bus, self.views, self.devices)
        # the seat cameras belong to the seat worker process, which receives them as plain data
        cameras = [{"name": d.name, "url": hall_url(d.url, self.data_dir / "sim", d.kind), "poll_s": d.poll_s}
                   for d in cfg.devices if d.kind == "camera"]
        modem = cfg.sms.device and any(d.name == cfg.sms.device for d in cfg.devices)
        if cfg.sms.device and not modem:
            log.warning("sms.device %r is not among the devices: messages to applicants stay in the outbox",
                        cfg.sms.device)
        self.sms = Sender(self.outbox, self.store.write, self.store.read, self.clock.now,
                          self._send_sms if modem else None, unavailable=(DeviceUnavailable,))
        self.seats = SeatMonitor(cfg, self.store, self.views, self.devices, self.clock, self.data_dir, cameras)
        # 统一出件: the result lockers (a door watch reads the boards through the supervisor), the courier register
        self.lockers = Lockers(cfg, self.store, self.devices, self.clock, self.cases.ctx, self.outbox,
                               self.identity_key)
        self.parcels = Parcels(cfg, self.store, self.cases.ctx)
        # statistics and 考核: a projector follows the log into the stats database (its own file), batched
        self.stats = Stats(self.store.path, stats_dims(cfg, self.cases.calendar.working_days_between),
                           lambda: self.bus.latest_seq, mode=stats_mode,
                           calendar=cfg.calendar.model_dump(mode="json"))
        self.store.write_sync(self._sync_windows)
        self.bus.latest_seq = last_seq(self.store.read)
        # issue 19: the event log shipped to the district's PostgreSQL — only with [rollup] (psycopg imported then)
        self.rollup = None
        self.commands = self.remote_cases = None
        if cfg.rollup is not None:
            from .cases.remote import apply_command
            from .cases.service import ACTIONS
            from .rollup.commands import CommandRunner
            from .rollup.remote_cases import RemoteCases
            from .rollup.shipper import Shipper, hall_info
            self.rollup = Shipper(cfg.rollup, hall_info(cfg), self.store.path, self.bus, self.clock.now)
            # cases across levels: the district's commands for this hall's cases, applied once each here; and
            # other halls' cases (their departments' worklists at the district centre, the 跨域 query) read there
            self.commands = CommandRunner(cfg.rollup, cfg.hall.code,
                                          lambda cmd: apply_command(self.store, self.cases.ctx, ACTIONS, cmd))
            self.remote_cases = RemoteCases(cfg.rollup, cfg.hall.code)

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
        self.cases.watch.start()
        self.feedback.start()
        self.complaints.start()
        self.sms.start()
        await self.lockers.start()
        self.stats.start()
        if self.rollup is not None:
            self.rollup.start()
            self.commands.start()

    async def stop(self) -> None:
        if self.rollup is not None:
            await self.commands.stop()
            await self.rollup.stop()
            self.remote_cases.close()
        await self.stats.stop()
        await self.lockers.stop()
        await self.sms.stop()
        await self.complaints.stop()
        await self.feedback.stop()
        await self.evaluators.stop()
        await self.cases.watch.stop()
        await self.seats.stop()
        await self.screens.stop()
        await self.announcer.stop()
        await self.devices.stop()
        self.close()

    def close(self) -> None:
        self.stats.close()
        self.store.close()

    async def _send_sms(self, phone: str, text: str) -> list[int]:
        """The outbox's way to the modem: the device held for this one message, the AT exchange in a thread."""
        async with self.devices.use(self.cfg.sms.device, wait_s=5.0) as modem:
            return await asyncio.to_thread(modem.send, phone, text)

    async def write(self, fn: Callable[..., Change], *args: Any, **kw: Any) -> Any:
        return await self.store.write(lambda conn: fn(conn, *args, **kw))

    # -- accounts (accounts/bootstrap.py) ------------------------------------------------------------
    def ensure_admin(self) -> str | None:
        """On first start, create `admin`; returns the password if it was generated here."""
        return bootstrap.ensure_admin(self.store, self.auth, self.clock)

    def ensure_dev_users(self, admin_password: str | None = None) -> dict[str, dict]:
        """Development mode: demo accounts, their passwords kept in var/dev-credentials.json."""
        deciders = [d for m in self.cfg.matters if m.kind != "即办" for d in m.deciders]
        return bootstrap.ensure_dev_users(self.store, self.auth, self.clock, self.data_dir, admin_password, deciders,
                                          [w.number for w in self.cfg.windows])


def stats_dims(cfg: HallConfig, workdays: Callable) -> Dims:
    """What the statistics need of the configuration, as plain data."""
    return Dims(tz=cfg.hall.timezone, rollover_hour=cfg.hall.rollover_hour,
                matters={m.code: MatterDims(m.group, m.department or (m.deciders[0] if m.deciders else None),
                                            m.minutes * 60.0) for m in cfg.matters},
                windows={w.number: w.name for w in cfg.windows}, groups={g.code: g.name for g in cfg.groups},
                matter_names={m.code: m.name for m in cfg.matters}, workdays=workdays)
