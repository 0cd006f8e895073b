"""The statistics as the hall runs them: the projector (started and stopped with the hall; in its own process in
the server) and the reports, read on a connection of their own in a worker thread so that a year's report never
holds up the event loop."""
from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from ..store.database import connect
from .apply import REBUILD_PAGE, replay
from .facts import Dims
from .projector import Projector
from .query import Reports
from .schema import open_reports, open_stats, path_beside
from .worker import start_message


class Stats:
    def __init__(self, db_path: str | Path, dims: Dims, latest_seq: Callable[[], int], *, mode: str = "thread",
                 calendar: dict | None = None, delay_s: float = 0.5):
        self.db_path, self.dims = Path(db_path), dims
        self.path = path_beside(self.db_path)
        open_stats(self.path).close()           # made (or made afresh) before anyone reads it
        self.projector = Projector(self.db_path, self.path, dims, latest_seq, mode=mode, delay_s=delay_s,
                                   start_message=lambda: start_message(dims, calendar))
        self.reports = Reports(dims)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self.projector.start()

    async def stop(self) -> None:
        await self.projector.stop()
        self.close()

    def close(self) -> None:
        self.projector.close()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def reader(self) -> sqlite3.Connection:
        """A read connection of the caller's own on the stats, the hall's tables attached (close it after use)."""
        return open_reports(self.path, self.db_path)

    def rebuild(self, page: int = REBUILD_PAGE) -> tuple[int, float]:
        """Drop the aggregates and replay the log (`onewindow stats rebuild`, or a test); returns (seqs, seconds).
        A projector running meanwhile takes turns with it batch by batch and ends at the same place."""
        t0 = time.monotonic()
        conn, log_conn = open_stats(self.path), connect(self.db_path, readonly=True)
        try:
            n = replay(conn, log_conn, self.dims, page)
        finally:
            conn.close()
            log_conn.close()
        return n, time.monotonic() - t0

    def _read(self, fn, *args):
        with self._lock:
            if self._conn is None:
                self._conn = open_reports(self.path, self.db_path)
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
