"""Hall configuration: TOML files under config/, validated by pydantic.

Unknown keys are errors that name the file, the key's path and, where a known key is close, the
key that was probably meant. Cross-references (a matter's group, a window's profile) are checked
after the shape, so a typo in a window's `serves` list is caught at start-up, not at the first call.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from datetime import time
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .cases.config import CalendarTable, CasesPolicy
from .complaints.config import ComplaintPolicy
from .courier.config import CourierPolicy
from .feedback.config import FeedbackPolicy
from .hardware.config import DeviceConfig, check_devices
from .hardware.config import DeviceKind as DeviceKind  # the device models moved; imported from here too
from .lockers.config import LockerPolicy
from .notify.config import SmsPolicy
from .rollup.config import RollupPolicy
from .seats.config import Seat, SeatMonitoring, check_seats

MatterKind = Literal["即办", "承诺", "上报", "联办"]
Level = Literal["district", "street", "community"]
# `handout`: an 出件 ticket, taken at a kiosk to collect a ready result (api/handout.py), called at the 出件
# window ahead of new intake; never asked for through POST /api/v1/tickets
PRIORITY_CLASSES = ("normal", "elderly", "disabled", "veteran", "pregnant", "appointment", "handout")


class ConfigError(ValueError):
    """A configuration file is wrong; the message names the file, the key and what to do."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hall(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    name_en: str = ""
    level: Level
    timezone: str = "Asia/Shanghai"
    rollover_hour: int = Field(default=3, ge=0, le=23, description="local hour at which numbers restart")
    opening: dict[str, str] = Field(
        default_factory=dict, description='weekday → "HH:MM-HH:MM", e.g. mon = "08:30-17:30"'
    )
    tickets_before_opening_min: int = Field(
        default=30, ge=0, le=240, description="kiosks issue tickets from this many minutes before opening "
        "until closing; staff may issue at any time")
    address: str = ""
    phone: str = ""
    public_url: str = Field(default="", description="how citizens' phones reach this server, for receipt QR "
                            "codes, e.g. http://192.168.10.2:8000; empty: the address the request came to")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}; use an IANA name such as 'Asia/Shanghai'") from None
        return v

    @field_validator("opening")
    @classmethod
    def _hours(cls, v: dict[str, str]) -> dict[str, str]:
        days = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
        for day, span in v.items():
            if day not in days:
                raise ValueError(f"opening: {day!r} is not a weekday; use one of {sorted(days)}")
            if not re.fullmatch(r"\d{2}:\d{2}-\d{2}:\d{2}", span):
                raise ValueError(f"opening.{day}: {span!r} is not 'HH:MM-HH:MM'")
            start, end = (time.fromisoformat(s) for s in span.split("-"))
            if end <= start:
                raise ValueError(f"opening.{day}: closes at {end} before it opens at {start}")
        return v


class QueuePolicy(_Strict):
    max_priority_in_row: int = Field(default=3, ge=1, description="starvation guard for normal tickets")
    recall_cooldown_s: float = Field(default=15, ge=0)
    recall_limit: int = Field(default=3, ge=0, description="recalls allowed; the next makes a no-show")
    call_debounce_s: float = Field(default=2, ge=0, description="ignore a second call-next this soon")
    no_show_requeue_places: int = Field(default=3, ge=0, description="a returning no-show waits this many")
    ewma_alpha: float = Field(default=0.2, gt=0, le=1, description="weight of the newest handling time")
    priority_classes: tuple[str, ...] = ("elderly", "disabled", "veteran", "pregnant", "appointment", "handout")

    @field_validator("priority_classes")
    @classmethod
    def _known_classes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for c in v:
            if c not in PRIORITY_CLASSES or c == "normal":
                raise ValueError(f"unknown priority class {c!r}; known: {PRIORITY_CLASSES[1:]}")
        return v


class Group(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    name: str
    name_en: str = ""


class Matter(_Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    name: str
    name_en: str = ""
    group: str
    prefix: str = Field(pattern=r"^[A-Z]{1,2}$")
    kind: MatterKind
    promised_days: int = Field(ge=0)
    minutes: float = Field(gt=0, description="expected handling minutes at the window")
    materials: tuple[str, ...]
    optional: tuple[str, ...] = Field(default=(), description="checklist items (of materials) that may be "
                                      "missing at acceptance: 容缺 or only some applicants have them")
    department: str = ""
    departments: tuple[str, ...] = Field(default=(), description="联办: every department with a task of its "
                                         "own (the case is decided when all are); others: `department` decides")
    legal_days: int | None = Field(default=None, ge=0, le=365, description="legal limit in working days "
                                   "(行政许可法 §42: 20; joint handling 45); unset: 20, or the promised days "
                                   "when they are longer")
    authority: str = Field(default="", description="上报: the higher authority the first opinion goes to")
    levels: tuple[Level, ...] = ("district",)

    @model_validator(mode="after")
    def _case_rules(self) -> Matter:
        unknown = [o for o in self.optional if o not in self.materials]
        if unknown:
            raise ValueError(f"matter {self.code}: optional items {unknown} are not in its materials")
        if self.kind == "联办" and len(self.departments) < 2:
            raise ValueError(f"matter {self.code} is 联办: list its departments (two or more) in `departments`")
        if self.legal_days is not None and self.kind != "即办" and self.promised_days > self.legal_days:
            raise ValueError(f"matter {self.code}: promised_days {self.promised_days} is longer than "
                             f"legal_days {self.legal_days}")
        return self

    @property
    def legal_limit(self) -> int:
        """The legal limit in working days: as configured, else 20 (or the promised days when longer)."""
        if self.legal_days is not None:
            return self.legal_days
        return max(20, self.promised_days)

    @property
    def deciders(self) -> tuple[str, ...]:
        """The departments that decide a case of this matter: each 联办 department, else the one department."""
        if self.departments:
            return self.departments
        return (self.department,) if self.department else ()


class Window(_Strict):
    number: int = Field(ge=1)
    name: str
    zone: str
    staffing: Literal["bought-in", "department", "intermediary"] = "bought-in"
    serves: tuple[str, ...] = Field(min_length=1, description="group or matter codes, most preferred first")


class ReceiptLayout(_Strict):
    """What a hall prints around the ticket; the ticket itself (number, matter, wait, QR) is fixed."""

    header: tuple[str, ...] = ()
    footer: tuple[str, ...] = ("请留意叫号，过号请到服务台重新取号", "扫码可查看排队进度")


class Suggestion(_Strict):
    """Matters a kiosk suggests to a citizen of a given age after a swipe (e.g. 老年证 from 60)."""

    min_age: int = Field(default=0, ge=0, le=150)
    max_age: int = Field(default=150, ge=0, le=150)
    matters: tuple[str, ...] = Field(min_length=1)
    why: str = Field(description="why it is suggested, in Chinese, shown to the citizen")
    why_en: str = ""


class IdentityPolicy(_Strict):
    """What a swiped ID card means for the queue: priority by age, quotas, suggestions, appointments."""

    elderly_age: int | None = Field(default=65, ge=1, le=150,
                                    description="from this age a swiped card gets the elderly priority; unset: never")
    daily_quota: int = Field(default=2, ge=0, description="tickets per person per matter per day; 0: no limit")
    quota: dict[str, int] = Field(default_factory=dict, description="matter code → its own daily quota")
    swipe_ttl_s: float = Field(default=180, gt=0, le=3600, description="how long a swipe can be used at its kiosk")
    appointment_early_min: int = Field(default=60, ge=0, description="check-in opens this long before the slot")
    appointment_late_min: int = Field(default=30, ge=0, description="check-in closes this long after the slot ends")
    expired_card_matters: tuple[str, ...] = Field(default=(), description="suggested when the card has expired")
    suggest: tuple[Suggestion, ...] = ()

    def quota_for(self, matter: str) -> int:
        return self.quota.get(matter, self.daily_quota)


class Calling(_Strict):
    """How a call is announced and shown: the voice, its phrasing, volume and quiet hours, the screens."""

    voice: str = Field(default="tts://espeak?voice=cmn-latn-pinyin",
                       description="tts://espeak?… (speech) or clips://zh (recorded clips in sounds/clips/zh)")
    template: str = Field(default="请{number}号到{window}号窗口办理", description="{number} and {window} are filled in")
    template_en: str = Field(default="", description='an English line after the Chinese, e.g. "Number {number}, '
                             'please go to window {window}"; empty: none')
    repeat: int = Field(default=2, ge=1, le=5, description="how many times the phrase is said")
    chime: bool = True
    volume: float = Field(default=1.0, ge=0, le=1)
    quiet_hours: tuple[str, ...] = Field(default=(), description='local spans "HH:MM-HH:MM" with quiet_volume')
    quiet_volume: float = Field(default=0.3, ge=0, le=1, description="0: silent, the screens still show calls")
    recalls_announced: bool = True
    notice: str = Field(default="", description="the calling screen's scrolling notice")
    recent_calls: int = Field(default=6, ge=1, le=20, description="calls listed on the calling screen")
    window_screen: dict[str, str] = Field(
        default_factory=lambda: {"called": "请{number}", "paused": "暂停服务", "closed": "停止服务",
                                 "open": "{window}号窗口"},
        description="what a window's LED screen shows in each state ({number}, {window}); keys called, "
                    "paused, closed, open")
    hall_screen: str = Field(default="请{number}号到{window}号窗口", description="the hall LED bar on a call")

    @field_validator("template", "template_en", "hall_screen")
    @classmethod
    def _fields(cls, v: str) -> str:
        try:
            v.format(number="A001", window=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"{v!r}: use only {{number}} and {{window}} ({exc})") from None
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _spans(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for span in v:
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", span):
                raise ValueError(f"quiet_hours: {span!r} is not 'HH:MM-HH:MM'")
        return v

    @field_validator("window_screen")
    @classmethod
    def _states(cls, v: dict[str, str]) -> dict[str, str]:
        known = {"called", "paused", "closed", "open"}
        for key, text in v.items():
            if key not in known:
                raise ValueError(f"window_screen: {key!r} is not a state{_near(key, known)}; use {sorted(known)}")
            cls._fields(text)
        return v


class HallConfig(_Strict):
    hall: Hall
    queue: QueuePolicy = QueuePolicy()
    groups: tuple[Group, ...]
    matters: tuple[Matter, ...]
    windows: tuple[Window, ...]
    devices: tuple[DeviceConfig, ...] = ()
    receipt: ReceiptLayout = ReceiptLayout()
    identity: IdentityPolicy = IdentityPolicy()
    calling: Calling = Calling()
    seat_monitoring: SeatMonitoring = SeatMonitoring()
    seats: tuple[Seat, ...] = ()
    cases: CasesPolicy = CasesPolicy()
    calendar: CalendarTable = CalendarTable()
    sms: SmsPolicy = SmsPolicy()
    courier: CourierPolicy = CourierPolicy()
    lockers: LockerPolicy = LockerPolicy()
    feedback: FeedbackPolicy = FeedbackPolicy()
    complaints: ComplaintPolicy = ComplaintPolicy()
    rollup: RollupPolicy | None = None      # issue 19: ship the event log to the district's PostgreSQL

    @model_validator(mode="after")
    def _references(self) -> HallConfig:
        _unique("groups", [g.code for g in self.groups])
        _unique("matters", [m.code for m in self.matters])
        _unique("windows", [w.number for w in self.windows])
        _unique("devices", [d.name for d in self.devices])
        numbers = {w.number for w in self.windows}
        check_devices(self.devices, numbers)
        groups = {g.code for g in self.groups}
        for m in self.matters:
            if m.group not in groups:
                raise ValueError(
                    f"matter {m.code} names group {m.group!r}, which is not defined{_near(m.group, groups)}"
                )
        known = groups | {m.code for m in self.matters}
        for w in self.windows:
            for s in w.serves:
                if s not in known:
                    raise ValueError(
                        f"window {w.number} serves {s!r}, which is neither a group nor a matter{_near(s, known)}"
                    )
        codes = {m.code for m in self.matters}
        named = [*self.identity.quota, *self.identity.expired_card_matters,
                 *(c for sug in self.identity.suggest for c in sug.matters)]
        for code in named:
            if code not in codes:
                raise ValueError(f"identity names matter {code!r}, which is not defined{_near(code, codes)}")
        check_seats(self.seats, numbers, {d.name for d in self.devices if d.kind == "camera"})
        for m in self.matters:
            if not any(s in (m.code, m.group) for w in self.windows for s in w.serves):
                raise ValueError(f"matter {m.code} ({m.name}) is served by no window; add it to a window's serves")
        return self

    # -- lookups used by the engine -------------------------------------------------------------
    def matter(self, code: str) -> Matter | None:
        return self._matters.get(code)

    @cached_property
    def _matters(self) -> dict[str, Matter]:
        return {m.code: m for m in self.matters}

    def window(self, number: int) -> Window | None:
        return next((w for w in self.windows if w.number == number), None)

    def preference(self, window: Window, matter_code: str) -> int | None:
        """Rank of a matter in a window's profile (0 = most preferred), None if not served."""
        m = self._matters.get(matter_code)
        if m is None:
            return None
        for rank, entry in enumerate(window.serves):
            if entry == matter_code or entry == m.group:
                return rank
        return None

    def windows_serving(self, matter_code: str) -> list[int]:
        return [w.number for w in self.windows if self.preference(w, matter_code) is not None]


def _unique(what: str, keys: list) -> None:
    seen = set()
    for k in keys:
        if k in seen:
            raise ValueError(f"{what}: {k!r} is defined twice")
        seen.add(k)


def _near(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Known keys of the model that the unknown key at `loc` sits in."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if current is None or isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        candidates = [ann, *args]
        current = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return list(current.model_fields) if current else []


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_config(data: dict, source: str = "<config>") -> HallConfig:
    try:
        return HallConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = _where(err["loc"])
            if err["type"] == "extra_forbidden":
                key = str(err["loc"][-1])
                lines.append(f"{source}: unknown key '{where}'{_near(key, _fields_at(HallConfig, err['loc']))}")
            elif err["type"] == "missing":
                lines.append(f"{source}: missing key '{where}'")
            else:
                msg = err["msg"].removeprefix("Value error, ")
                lines.append(f"{source}: {where or 'top level'}: {msg}")
        raise ConfigError("\n".join(lines)) from None


def without_opening_hours(text: str) -> str:
    """A hall config's TOML text without its `[hall.opening]` table: a hall that is always open (tests and
    benchmarks that run at any hour of the day)."""
    text = re.sub(r"(?m)^opening\s*=\s*\{.*\}[ \t]*(#.*)?\n?", "", text)          # an inline table in [hall]
    return re.sub(r"(?ms)^\[hall\.opening\][ \t]*(#[^\n]*)?\n.*?(?=^[ \t]*$|^\[|\Z)", "", text)


def load_config(path: str | Path) -> HallConfig:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; pass --config with one of config/*.toml") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, str(path))
