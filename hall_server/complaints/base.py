"""What every complaint change shares: the hall's parts it needs (`ComplaintContext`), the statuses and steps with
their Chinese names, the local day and the working-day arithmetic of the hall's calendar, and the masks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from ..clock import Clock
from ..config import HallConfig
from .config import ComplaintPolicy

# 受理 → 分类 → 转办 → 办结 → 反馈 → 核查 → 备案; `closed`: out of scope (in court, 信访), with its reason
STATUSES = ("registered", "classified", "assigned", "answered", "fed_back", "checked", "filed", "closed")
STATUS_ZH = {"registered": "已受理", "classified": "已分类", "assigned": "已转办", "answered": "已办结",
             "fed_back": "已反馈", "checked": "已核查", "filed": "已备案", "closed": "不予受理（已终止）"}
STEP_ZH = {"register": "受理", "classify": "分类", "assign": "转办", "answer": "办结（答复）", "feedback": "反馈",
           "check": "核查", "file": "备案", "close": "终止（不属受理范围）"}
CLASS_ZH = {"simple": "简单", "complex": "复杂", "special": "特殊"}
CHANNELS = ("window", "kiosk", "status_page")
CLOSE_REASONS = {"court": "涉诉（已进入司法程序）", "petition": "信访事项", "other": "其他不属受理范围"}
# the step each status waits for
NEXT = {"registered": "classify", "classified": "assign", "assigned": "answer", "answered": "feedback",
        "fed_back": "check", "checked": "file", "filed": None, "closed": None}
OPEN = ("registered", "classified", "assigned", "answered", "fed_back", "checked")


class Calendar(Protocol):
    def add_working_days(self, start: date, n: int) -> date: ...

    def working_days_left(self, today: date, due: date) -> int: ...


@dataclass
class ComplaintContext:
    cfg: HallConfig
    clock: Clock
    calendar: Calendar

    @property
    def policy(self) -> ComplaintPolicy:
        return self.cfg.complaints

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.cfg.hall.timezone)

    def now(self) -> datetime:
        return self.clock.now()

    def local_day(self, at: datetime | None = None) -> date:
        return (at or self.clock.now()).astimezone(self.tz).date()

    def due(self, working_days: int, start: date | None = None) -> str:
        """The day `working_days` working days after `start` (today), as YYYY-MM-DD."""
        return self.calendar.add_working_days(start or self.local_day(), working_days).isoformat()

    def colour(self, due: str | None, today: date | None = None) -> str:
        if not due:
            return "ok"
        left = self.calendar.working_days_left(today or self.local_day(), date.fromisoformat(due))
        if left < 0:
            return "red"
        return "amber" if left <= self.policy.amber_days else "ok"

    def departments(self) -> set[str]:
        return {d for m in self.cfg.matters for d in m.deciders}

    def matter_name(self, code: str | None) -> str | None:
        m = self.cfg.matter(code) if code else None
        return m.name if m else code


def ts(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


def mask_phone(phone: str | None) -> str | None:
    p = (phone or "").strip()
    return f"{p[:3]}****{p[-4:]}" if len(p) >= 8 else ("****" if p else None)


def mask_name(name: str | None) -> str | None:
    n = (name or "").strip()
    return (n[0] + "*" * max(1, len(n) - 1)) if n else None
