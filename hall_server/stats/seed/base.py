"""What the seeder's parts share: the year's constants, the store's columns and INSERTs, the time stamps, made-up
people, and the small helpers of the Seeder (ids, local time, working days, events and rows)."""
from __future__ import annotations

import heapq
import json
import random
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ...cases.calendar import WorkCalendar
from ...config import HallConfig

ROOT = Path(__file__).resolve().parents[3]
DISTRICT = ROOT / "config" / "district-centre.toml"
TICKETS, CASES, RATINGS = 1_000_000, 200_000, 100_000
# half-hour arrival weights from 08:30 (the lunch dip at 12:00-13:30, peaks mid-morning and mid-afternoon)
SHAPE = (.6, 1.0, 1.3, 1.4, 1.2, 1.0, .7, .35, .3, .4, .7, 1.0, 1.2, 1.2, 1.0, .8, .5, .2)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余于杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国玉兰红梅志文斌辉鹏宇浩"
RESULTS_MATTER = "CJ-001"      # 办件结果领取: the matter of an 出件 ticket (api/handout.py)
REASONS = ("态度", "效率", "材料要求不清", "多次跑", "其他")
COMPLAINT_TEXTS = ("材料要求前后不一致，跑了两趟", "窗口说系统不支持，办不了", "要求提供的证明开不出来",
                   "网上说能办，现场说不能办", "等了一上午没叫到号", "不知道该到哪个部门办")
TASK_COLS = {"claimed_by": 2, "claimed_at": 3, "outcome": 4, "opinion": 5, "decided_at": 6, "decided_by": 7}


_DAYS: dict[int, str] = {}
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def iso(t: float) -> str:
    """UTC text as the store stamps it (datetime.isoformat(timespec="milliseconds")), a few times faster."""
    msec = round(t * 1000)
    day, rest = divmod(msec, 86_400_000)
    head = _DAYS.get(day)
    if head is None:
        head = _DAYS[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%dT")
    sec, ms_ = divmod(rest, 1000)
    hh, rem = divmod(sec, 3600)
    mm, ss = divmod(rem, 60)
    return f"{head}{hh:02d}:{mm:02d}:{ss:02d}.{ms_:03d}+00:00"


def _iso(t: float | None) -> str | None:
    return None if t is None else iso(t)



def _h(text: str) -> float:
    hh, mm = text.split(":")
    return int(hh) + int(mm) / 60


def _accumulate(xs):
    s = 0.0
    for x in xs:
        s += x
        yield s



COLUMNS = {
    "tickets": "id service_day prefix seq number matter channel priority status queue_key issued_at called_at"
               " last_called_at started_at finished_at window target_window transfers recalls kiosk",
    "cases": "id number query_code matter kind snapshot channel ticket_id window created_by status outcome opinion"
             " reason supplement_note applicant_name applicant_phone applicant_id_masked applicant_hash received_at"
             " accepted_at accept_day decided_at ready_at delivered_at closed_at due legal_due deadline handout report"
             " updated_at",
    "case_materials": "case_id name state required",
    "case_tasks": "case_id department state claimed_by claimed_at outcome opinion decided_at decided_by",
    "ticket_cases": "ticket_id case_id",
    "rating_prompts": "id ticket_id case_id window clerk matter departments number created_at expires_at state"
                      " ended_at why evaluation_id",
    "evaluations": "id prompt_id ticket_id case_id window clerk matter departments number level reasons channel by"
                   " at named contact_case appeal excluded",
    "badratings": "id number evaluation_id opened_at state due deadline window clerk matter departments level named"
                  " contact_case responsible_department responsible_window appeal appeal_due closed_at closed_how"
                  " updated_at",
    "badrating_steps": "badrating_id step due at by note data",
    "complaints": "id number text case_id matter window department channel registered_by registered_at"
                  " registered_day contact_name contact_phone class responsible_department status due answer_due"
                  " deadline answered_at closed_at closed_reason updated_at",
    "complaint_steps": "complaint_id step due at by text data",
    "seat_time": "service_day window clerk present_s away_s unknown_s",
    "counters": "service_day prefix last",
}
SQL = {t: f"INSERT {'OR REPLACE ' if t in ('seat_time', 'counters') else ''}INTO {t} ({', '.join(c.split())})"
          f" VALUES ({','.join('?' * len(c.split()))})" for t, c in COLUMNS.items()}


def fake_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def fake_person(rng: random.Random) -> tuple[str, str | None, str, str]:
    """name, phone (or None), masked ID number, keyed hash (made up: no ID number is ever formed)."""
    phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}" if rng.random() < .8 else None
    return fake_name(rng), phone, f"4202{'*' * 10}{rng.randrange(10**4):04d}", rng.randbytes(16).hex()


class SeederBase:
    """The state every part of the Seeder reads (set by Seeder.__init__) and the helpers they all call."""
    conn: sqlite3.Connection
    cfg: HallConfig
    rng: random.Random
    tz: ZoneInfo
    cal: WorkCalendar
    _wd: dict[tuple[date, int], date]
    ids: dict[str, int]
    n: int
    today: list[tuple]
    future: list[tuple]
    boundary: float
    end_t: float
    rows: dict[str, list[tuple]]
    counts: dict[str, int]
    day_counter: dict[tuple, int]

    # -- small helpers --------------------------------------------------------------------------------------
    def _max(self, table: str) -> int:
        return self.conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]

    def new_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def local(self, d: date, hours: float) -> float:
        return datetime(d.year, d.month, d.day, tzinfo=self.tz).timestamp() + hours * 3600

    def day_of(self, t: float) -> date:
        return datetime.fromtimestamp(t, self.tz).date()

    def add_wd(self, d: date, n: int) -> date:
        k = (d, n)
        got = self._wd.get(k)
        if got is None:
            got = self._wd[k] = self.cal.add_working_days(d, n)
        return got

    def at_work(self, d: date, lo: float = 9.0, hi: float = 17.0, after: float | None = None) -> float:
        """A moment of office hours on day d (or the next working day if d is not one), later than `after`."""
        while not self.cal.is_working_day(d):
            d += timedelta(days=1)
        t = self.local(d, self.rng.uniform(lo, hi))
        return t if after is None or t > after + 60 else after + self.rng.uniform(60, 3600)

    def emit(self, t: float, type_: str, data: dict, *, actor=None, ticket=None, window=None, case=None) -> None:
        self.n += 1
        item = (t, self.n, type_, actor, ticket, window, case, data)
        if t < self.boundary:
            self.today.append(item)
        elif t < self.end_t:
            heapq.heappush(self.future, item)
        self.counts[type_] = self.counts.get(type_, 0) + 1

    def row(self, table: str, values: tuple) -> None:
        self.rows.setdefault(table, []).append(values)

    def seq_of(self, day: str, prefix: str) -> int:
        k = (day, prefix)
        self.day_counter[k] = self.day_counter.get(k, 0) + 1
        return self.day_counter[k]
