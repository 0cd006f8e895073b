"""The deadline watch: a running case within `cases.amber_days` working days of its due date turns amber,
past it red; each turn is one `case.deadline` event and one dashboard alert. A suspended case's clock is
stopped, so its colour stays. Runs every minute (and at once after start) through the store's writer."""
from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable

from ..store.database import Change
from ..store.events import append_event
from ..tasks import cancel_all
from .base import CaseContext, ts

log = logging.getLogger(__name__)
WATCH_S = 60.0
ACTIVE = ("accepted", "in_review")          # the clock runs (a suspended case's is stopped)


def refresh(conn: sqlite3.Connection, ctx: CaseContext) -> Change:
    """Recolour every running case whose colour today differs from the stored one."""
    now = ctx.now()
    today = ctx.local_day(now)
    amber_limit = ctx.calendar.add_working_days(today, ctx.cfg.cases.amber_days).isoformat()
    t = today.isoformat()
    marks = ",".join("?" * len(ACTIVE))
    rows = conn.execute(
        f"SELECT * FROM cases"
        f" WHERE status IN ({marks}) AND ((due < ? AND deadline != 'red')"
        f" OR (due >= ? AND due <= ? AND deadline != 'amber') OR (due > ? AND deadline != 'ok'))",
        (*ACTIVE, t, t, amber_limit, amber_limit)).fetchall()
    events: list[dict] = []
    for r in rows:
        colour = "red" if r["due"] < t else "amber" if r["due"] <= amber_limit else "ok"
        conn.execute("UPDATE cases SET deadline=?, updated_at=? WHERE id=?", (colour, ts(now), r["id"]))
        departments = json.loads(r["snapshot"])["deciders"]
        data = {"case": r["id"], "number": r["number"], "matter": r["matter"], "kind": r["kind"],
                "deadline": colour, "was": r["deadline"], "due": r["due"], "departments": departments}
        event = append_event(conn, "case.deadline", now, data, ticket_id=r["ticket_id"], window=r["window"],
                             case_id=r["id"])
        events.append(event)
        if colour == "red" and ctx.notify is not None:           # the overdue apology to the applicant
            ctx.notify(conn, r, event, json.loads(r["snapshot"])["name"])
        if colour != "ok" and colour != r["deadline"]:
            zh = "已超期" if colour == "red" else "即将到期"
            en = "is overdue" if colour == "red" else "is due soon"
            events.append(append_event(conn, "alert.raised", now, {
                "kind": "case_overdue" if colour == "red" else "case_due_soon", "device": None,
                "detail": f"办件 {r['number']} {zh}（{r['due']}，{'、'.join(departments)}） / case {r['number']} "
                          f"{en} ({r['due']})", "case": r["id"]}, case_id=r["id"]))
    return Change(len(rows), events)


class DeadlineWatch:
    def __init__(self, write: Callable[[Callable[[sqlite3.Connection], Change]], Awaitable], ctx: CaseContext,
                 every_s: float = WATCH_S):
        self._write, self._ctx, self.every_s = write, ctx, every_s
        self._task: asyncio.Task | None = None

    async def run_once(self) -> int:
        return await self._write(lambda conn: refresh(conn, self._ctx))

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:   # logged; the next round tries again
                log.exception("the deadline watch failed")
            await asyncio.sleep(self.every_s)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="case-deadlines")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_all([self._task])
            self._task = None
