"""The statistics as the hall runs them: the projector (started and stopped with the hall) and the reports, read
on a connection of their own in a worker thread so that a year's report never holds up the event loop."""
from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import date
from pathlib import Path

from ..store.database import Store, connect
from ..store.events import EventBus
from .facts import Dims
from .projector import Projector, cursor, rebuild
from .query import Reports


class Stats:
    def __init__(self, store: Store, bus: EventBus, dims: Dims, delay_s: float = 0.5):
        self.store, self.dims = store, dims
        self.projector = Projector(store, bus, dims, delay_s)
        self.reports = Reports(dims)
        self._path: Path = store.path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self.projector.start()

    async def stop(self) -> None:
        await self.projector.stop()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def rebuild(self) -> tuple[int, float]:
        """Drop the aggregates and replay the log (the hall's writer: the server or `onewindow stats rebuild`)."""
        n, s = rebuild(self.store, self.dims)
        self.projector.cursor = cursor(self.store.read)
        return n, s

    def _read(self, fn, *args):
        with self._lock:
            if self._conn is None:
                self._conn = connect(self._path)
            conn = self._conn
            conn.execute("BEGIN")           # one snapshot for every query of the report
            try:
                return fn(conn, *args)
            finally:
                conn.execute("COMMIT")

    async def report(self, frm: date, to: date, by: str, filters: dict, by2: str | None = None) -> dict:
        return await asyncio.to_thread(self._read, self.reports.report, frm, to, by, filters, by2)

    async def today(self, day: date) -> dict:
        return await asyncio.to_thread(self._read, self.reports.today, day)

    async def appraisal(self, month: str, of: str) -> dict:
        return await asyncio.to_thread(self._read, self.reports.appraisal, month, of)
