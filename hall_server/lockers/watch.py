"""The door watch: one task that reads every open door (loading, collecting, emptying) each `poll_s` until it
is seen shut, then makes the change that waited for it — the case ready with its code and SMS, the case
delivered, the compartment free. It raises one alert for a door left open too long, settles the commands a stop
left under way (at start, by reading those doors), and masks the pickup code in the outbox once the SMS has
gone. A door that cannot be read (a board unplugged) is read again and again; nothing is assumed of it."""
from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from drivers.locker.base import DoorState

from ..store.database import Change
from ..tasks import cancel_all
from . import compartments, pickups, views

log = logging.getLogger(__name__)
IDLE_S = 2.0            # no door open: look again this often (the outbox's sent messages, a missed wake-up)


class Doors(Protocol):
    """What the watch uses of the lockers' service (service.Lockers)."""
    read: sqlite3.Connection
    store: Any
    policy: Any
    device: str
    ctx: Any            # the cases' context (its notify: a take-back's "ready at the window" SMS)
    quiet: Any          # the same without its notify (a load's SMS, with the code, is the lockers' own)
    outbox: Any
    key: bytes

    def now(self) -> datetime: ...

    async def door_state(self, board: int, lock: int) -> DoorState: ...


class DoorWatch:
    def __init__(self, lockers: Doors):
        self.lockers = lockers
        self.unknown: dict[int, str] = {}       # compartment id → why its door could not be read just now
        self._pending: set[int] = set()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        # commands under way when the hall stopped: no request of this run has begun one yet
        self._pending = {r["id"] for r in views.pending(self.lockers.read)}
        if self._pending:
            log.info("lockers: %d door command(s) left under way by the last stop are settled by reading the doors",
                     len(self._pending))
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name="locker-watch")

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_all([self._task])
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the locker door watch failed; it reads the doors again shortly")
                busy = True
            try:
                await asyncio.wait_for(self._wake.wait(), self.lockers.policy.poll_s if busy else IDLE_S)
            except TimeoutError:
                pass
            self._wake.clear()

    async def run_once(self) -> bool:
        """One round over the doors; True while a door stands open or a command is still to be settled."""
        lk = self.lockers
        for comp_id in sorted(self._pending):
            row = compartments.compartment(lk.read, comp_id)
            if row is None or row["state"] not in compartments.PENDING:
                self._pending.discard(comp_id)
                continue
            state = await self._read(row)
            if state is not None:
                is_open = state is DoorState.OPEN
                await lk.store.write(partial(compartments.recovered, ctx=lk.ctx, comp_id=comp_id, door_open=is_open,
                                             at=lk.now()))
                self._pending.discard(comp_id)
        rows = views.open_doors(lk.read)
        for row in rows:
            state = await self._read(row)
            if state is DoorState.CLOSED:
                await lk.store.write(self._finish(row, lk.now()))
            elif state is DoorState.OPEN and not row["alerted"]:
                now = lk.now()
                open_s = (now - datetime.fromisoformat(row["since"])).total_seconds()
                if open_s >= lk.policy.open_alert_s:
                    minutes = max(1, round(open_s / 60))
                    await lk.store.write(partial(compartments.door_left_open, comp_id=row["id"], at=now,
                                                 device=lk.device, minutes=minutes))
        for gone in set(self.unknown) - {r["id"] for r in rows}:
            self.unknown.pop(gone, None)
        await self._mask_sms()
        return bool(rows or self._pending)

    async def _read(self, row: sqlite3.Row) -> DoorState | None:
        """The door's state now, or None (remembered in `unknown`, logged once) when it cannot be read."""
        try:
            state = await self.lockers.door_state(row["board"], row["lock"])
        except Exception as exc:       # LockerError, DeviceUnavailable: the board or the line is gone for now
            if row["id"] not in self.unknown:
                log.warning("lockers: the door of compartment %s cannot be read (%s); it stays %s until it can",
                            row["label"], exc, row["state"])
            self.unknown[row["id"]] = str(exc) or type(exc).__name__
            return None
        if self.unknown.pop(row["id"], None) is not None:
            log.info("lockers: the door of compartment %s can be read again", row["label"])
        return state

    def _finish(self, row: sqlite3.Row, now: datetime) -> Callable[[sqlite3.Connection], Change]:
        lk, comp_id = self.lockers, row["id"]
        if row["state"] == "loading":
            return lambda conn: compartments.loaded(conn, lk.quiet, lk.outbox, lk.key, comp_id, now, lk.device)
        if row["state"] == "collecting":
            return lambda conn: pickups.collected(conn, lk.ctx, comp_id, now)
        return lambda conn: compartments.emptied(conn, comp_id, now)

    async def _mask_sms(self) -> None:
        rows = views.sms_to_mask(self.lockers.read)
        if not rows:
            return
        done = [(r["clear_text"], r["outbox_id"]) for r in rows]

        def mask(conn: sqlite3.Connection) -> Change:
            for text, msg_id in done:
                conn.execute("UPDATE outbox SET text=? WHERE id=?", (text, msg_id))
                conn.execute("DELETE FROM locker_sms WHERE outbox_id=?", (msg_id,))
            return Change(len(done))
        await self.lockers.store.write(mask)
