"""What every rating change shares: the hall's parts it needs (`FeedbackContext`), the five levels, the local day
and working-day arithmetic of the hall's calendar, and the row → dict of a prompt and of an evaluation."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from ..clock import Clock
from ..config import HallConfig
from ..errors import NotFound
from .config import FeedbackPolicy

# 国办发〔2019〕51号: 5 非常满意, 4 满意 (good); 3 基本满意 (neutral); 2 不满意, 1 非常不满意 (bad)
LEVELS = {5: ("非常满意", "very satisfied"), 4: ("满意", "satisfied"), 3: ("基本满意", "fairly satisfied"),
          2: ("不满意", "dissatisfied"), 1: ("非常不满意", "very dissatisfied")}
GOOD, BAD = (4, 5), (1, 2)
CHANNELS = ("device", "tablet", "status_page")


class Calendar(Protocol):
    """The working-day calendar the cases count in (hall_server/cases/calendar.py WorkCalendar)."""

    def add_working_days(self, start: date, n: int) -> date: ...

    def working_days_left(self, today: date, due: date) -> int: ...


@dataclass
class FeedbackContext:
    cfg: HallConfig
    clock: Clock
    calendar: Calendar

    @property
    def policy(self) -> FeedbackPolicy:
        return self.cfg.feedback

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.cfg.hall.timezone)

    def now(self) -> datetime:
        return self.clock.now()

    def local_day(self, at: datetime | None = None) -> date:
        return (at or self.clock.now()).astimezone(self.tz).date()

    def due(self, working_days: int, at: datetime | None = None) -> str:
        """The day `working_days` working days after the local day of `at` (now), as YYYY-MM-DD."""
        return self.calendar.add_working_days(self.local_day(at), working_days).isoformat()

    def colour(self, due: str | None, today: date | None = None) -> str:
        """ok | amber | red of a step due on `due`: amber within `feedback.amber_days` working days, red past."""
        if not due:
            return "ok"
        left = self.calendar.working_days_left(today or self.local_day(), date.fromisoformat(due))
        if left < 0:
            return "red"
        return "amber" if left <= self.policy.amber_days else "ok"

    def day_span(self, first: date, last: date) -> tuple[str, str]:
        """[start, end) in the UTC text rows are stamped with, of the local days first..last."""
        start = datetime.combine(first, time(0), tzinfo=self.tz).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=self.tz).astimezone(UTC)
        return ts(start), ts(end)

    def matter_name(self, code: str) -> str:
        m = self.cfg.matter(code)
        return m.name if m else code

    def departments(self, code: str) -> list[str]:
        m = self.cfg.matter(code)
        return list(m.deciders) if m else []


def ts(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


def level_name(level: int) -> dict:
    zh, en = LEVELS[level]
    return {"level": level, "name": zh, "name_en": en}


def prompt_of(ctx: FeedbackContext, row: sqlite3.Row) -> dict:
    """A handling awaiting its rating, as the window's tablet shows it: no name, phone or ID of the citizen."""
    left = None
    if row["state"] == "pending" and row["expires_at"]:
        left = max(0.0, round((datetime.fromisoformat(row["expires_at"]) - ctx.now()).total_seconds(), 1))
    return {"prompt": row["id"], "ticket": row["ticket_id"], "case": row["case_id"], "number": row["number"],
            "matter": row["matter"], "matter_name": ctx.matter_name(row["matter"]), "window": row["window"],
            "clerk": row["clerk"], "state": row["state"], "created_at": row["created_at"],
            "expires_at": row["expires_at"], "seconds_left": left, "why": row["why"],
            "evaluation": row["evaluation_id"]}


def evaluation_of(ctx: FeedbackContext, row: sqlite3.Row, badrating: int | None = None) -> dict:
    zh, en = LEVELS[row["level"]]
    return {"id": row["id"], "level": row["level"], "level_name": zh, "level_name_en": en,
            "window": row["window"], "clerk": row["clerk"], "ticket": row["ticket_id"], "case": row["case_id"],
            "number": row["number"], "matter": row["matter"], "matter_name": ctx.matter_name(row["matter"]),
            "departments": json.loads(row["departments"]), "reasons": json.loads(row["reasons"]),
            "channel": row["channel"], "at": row["at"], "named": bool(row["named"]),
            "good": row["level"] in GOOD, "bad": row["level"] in BAD, "appeal": row["appeal"],
            "excluded": bool(row["excluded"]), "badrating": badrating}


def prompt_row(conn: sqlite3.Connection, *, ticket: int | None = None, case: int | None = None) -> sqlite3.Row | None:
    if ticket is not None:
        return conn.execute("SELECT * FROM rating_prompts WHERE ticket_id=?", (ticket,)).fetchone()
    return conn.execute("SELECT * FROM rating_prompts WHERE case_id=?", (case,)).fetchone()


def handling_not_found(what: str, ident) -> NotFound:
    zh = {"ticket": "票", "case": "办件"}.get(what, what)
    return NotFound(f"{what}_not_found", f"没有编号为 {ident} 的{zh}", f"no {what} {ident}", **{what: ident})
