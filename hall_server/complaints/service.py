"""Complaints as the API and the rest of the hall use them: registering (the 办不成事 window's clerk, a kiosk, a
case's public status page — that one limited per case and day), the steps by their roles, the reads with the
contact masked, the ledger, and the watch that colours due steps amber/red with an alert on each turn. The SMS
go through the outbox runtime.py hands in, in the step's own transaction."""
from __future__ import annotations

import asyncio
import logging
import re
import sqlite3

from ..accounts.auth import Principal
from ..clock import Clock
from ..config import HallConfig
from ..errors import Forbidden, HallError, NotFound, Unprocessable
from ..notify.outbox import Outbox
from ..store.database import Change, Store
from ..tasks import cancel_all
from . import steps, views
from .base import CLOSE_REASONS, STATUSES, Calendar, ComplaintContext

log = logging.getLogger(__name__)
WATCH_S = 60.0              # how often the open complaints' due steps are recoloured
PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,18}[0-9]$")
SUPERVISE = ("supervisor", "admin")
READERS = ("supervisor", "admin", "clerk", "department")


class TooMany(HallError):
    status = 429


class Complaints:
    def __init__(self, cfg: HallConfig, store: Store, clock: Clock, calendar: Calendar, outbox: Outbox | None = None):
        self.ctx = ComplaintContext(cfg, clock, calendar)
        self.store, self.outbox = store, outbox
        self._tasks: list[asyncio.Task] = []

    @property
    def _read(self) -> sqlite3.Connection:
        return self.store.read

    # -- life cycle ---------------------------------------------------------------------------------------
    def start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._watch(), name="complaints:watch")]

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        self._tasks = []

    async def _watch(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:           # logged; the next round tries again
                log.exception("the complaints watch failed")
            await asyncio.sleep(WATCH_S)

    async def run_once(self) -> int:
        """Recolour the open complaints' due steps: one `complaint.deadline` event and one alert per turn."""
        return await self.store.write(lambda conn: steps.refresh(conn, self.ctx))

    # -- 受理 ---------------------------------------------------------------------------------------------------
    def _channel(self, who: Principal) -> str:
        if who.role == "kiosk":
            return "kiosk"
        if who.role == "admin":
            return "window"
        w = self.ctx.policy.window
        if who.role == "clerk" and steps.window_clerk(self._read, w) == who.username:
            return "window"
        raise Forbidden("not_complaint_window", f"“办不成事”反映须在 {w} 号窗口（办不成事反映窗口）由当班工作人员、"
                        f"在自助机或办件状态页登记；{who.username}（{who.role}）不能登记",
                        f"a complaint is registered by the clerk signed in at window {w} (the 办不成事 window), a "
                        f"kiosk, or a case's status page; {who.username} ({who.role}) may not", role=who.role)

    def _check_refs(self, *, case: int | None, matter: str | None, window: int | None,
                    department: str | None) -> str | None:
        """422 for a reference this hall does not know; returns the matter (the case's when not given)."""
        cfg = self.ctx.cfg
        if case is not None:
            row = self._read.execute("SELECT matter FROM cases WHERE id=?", (case,)).fetchone() \
                if abs(case) < 2**63 else None
            if row is None:
                raise Unprocessable("unknown_case", f"没有编号为 {case} 的办件", f"no case {case}", case=case)
            matter = matter or row["matter"]
        if matter is not None and cfg.matter(matter) is None:
            raise Unprocessable("unknown_matter", f"本厅没有事项 {matter}", f"this hall has no matter {matter!r}",
                                matter=matter)
        if window is not None and cfg.window(window) is None:
            raise Unprocessable("unknown_window", f"本厅没有 {window} 号窗口", f"this hall has no window {window}",
                                window=window)
        if department is not None and department not in self.ctx.departments():
            raise Unprocessable("unknown_department", f"本厅事项中没有部门：{department}",
                                f"no matter of this hall is decided by {department!r}", department=department)
        return matter

    @staticmethod
    def _contact(contact: dict | None) -> tuple[str | None, str | None]:
        if not contact:
            return None, None
        name = (contact.get("name") or "").strip() or None
        phone = re.sub(r"\s", "", contact.get("phone") or "") or None
        if phone is not None and not PHONE.match(phone):
            raise Unprocessable("bad_phone", "联系电话格式有误：请填写手机或固定电话号码",
                                "contact.phone is not a phone number (digits, optionally +, spaces or dashes)",
                                field="contact.phone")
        return name, phone

    async def register(self, who: Principal, *, text: str, case: int | None = None, matter: str | None = None,
                       window: int | None = None, department: str | None = None,
                       contact: dict | None = None) -> dict:
        channel = self._channel(who)
        text = _text(text)
        matter = self._check_refs(case=case, matter=matter, window=window, department=department)
        name, phone = self._contact(contact)
        cid = await self.store.write(lambda conn: steps.register(
            conn, self.ctx, self.outbox, by=who.username, channel=channel, text=text, case_id=case,
            matter=matter, window=window, department=department, contact_name=name, contact_phone=phone))
        return self._summary(cid)

    async def register_public(self, *, query_code: str, text: str, contact: dict | None = None) -> dict:
        """From a case's public status page: linked to that case, at most `public_per_case_per_day` a day."""
        row = self._read.execute("SELECT id, matter FROM cases WHERE query_code=?", (query_code.strip(),)).fetchone()
        if row is None:
            raise NotFound("case_not_found", "查询码有误，请核对受理通知书", "no case with this query code")
        name, phone = self._contact(contact)
        text = _text(text)
        limit = self.ctx.policy.public_per_case_per_day

        def change(conn: sqlite3.Connection) -> Change:
            n = conn.execute("SELECT COUNT(*) FROM complaints WHERE case_id=? AND channel='status_page'"
                             " AND registered_day=?", (row["id"], self.ctx.local_day().isoformat())).fetchone()[0]
            if n >= limit:
                raise TooMany("too_many_complaints", f"该办件今日已通过状态页反映 {n} 次，请到办不成事反映窗口或"
                              "致电咨询", f"this case's status page has registered {n} complaints today (the limit "
                              f"is {limit}); please come to the 办不成事 window or call", limit=limit)
            return steps.register(conn, self.ctx, self.outbox, by="status_page", channel="status_page",
                                  text=text, case_id=row["id"], matter=row["matter"], window=None,
                                  department=None, contact_name=name, contact_phone=phone)
        return self._summary(await self.store.write(change))

    def _summary(self, cid: int) -> dict:
        r = steps.row_of(self._read, cid)
        return {"id": r["id"], "number": r["number"], "status": r["status"], "due": r["due"],
                "registered_at": r["registered_at"], "channel": r["channel"]}

    # -- the steps ----------------------------------------------------------------------------------------
    async def step(self, who: Principal, cid: int, action: str, body: dict) -> dict:
        fn, fields = steps.STEPS[action]
        if action == "assign":
            self._check_refs(case=None, matter=None, window=None, department=body.get("department"))
        if action == "close" and body.get("reason") not in CLOSE_REASONS:
            raise Unprocessable("reason_required", f"请给出终止原因（reason）：{'、'.join(CLOSE_REASONS)}",
                                f"`reason` is one of {list(CLOSE_REASONS)}")
        kwargs = {k: body[k] for k in fields if body.get(k) is not None}
        if "text" in kwargs:
            kwargs["text"] = _text(kwargs["text"])
        await self.store.write(lambda conn: fn(conn, self.ctx, self.outbox, who, cid, **kwargs))
        return self.complaint(who, cid)

    # -- reads --------------------------------------------------------------------------------------------
    def _may_read(self, who: Principal) -> None:
        if who.role not in READERS:
            raise Forbidden("role_forbidden", f"角色 {who.role} 无权查看“办不成事”反映",
                            f"a {who.role} may not read complaints; it needs one of: {', '.join(READERS)}",
                            role=who.role)

    def _sees_contact(self, who: Principal) -> bool:
        return who.role in SUPERVISE or (
            who.role == "clerk" and steps.window_clerk(self._read, self.ctx.policy.window) == who.username)

    def complaint(self, who: Principal, cid: int) -> dict:
        self._may_read(who)
        out = views.complaint(self._read, self.ctx, cid, contact=self._sees_contact(who))
        if who.role == "department" and not set(who.departments) & {out["department"], out["assigned_department"]}:
            raise Forbidden("not_your_department", "该“办不成事”反映未转办您所在部门",
                            f"complaint {out['number']} is not passed to {', '.join(who.departments)}",
                            complaint=cid)
        return out

    def complaints(self, who: Principal, *, status: str | None = None, cls: str | None = None,
                   department: str | None = None, overdue: bool | None = None, limit: int = 500) -> list[dict]:
        self._may_read(who)
        if status and status not in (*STATUSES, "open"):
            raise Unprocessable("bad_status", f"未知状态 {status}", f"status: open or one of {list(STATUSES)}",
                                given=status)
        return views.complaints(self._read, self.ctx, status=status, cls=cls, department=department,
                                overdue=overdue, limit=limit,
                                mine=who.departments if who.role == "department" else None)

    def ledger_csv(self, status: str | None = None) -> bytes:
        return views.ledger_csv(self._read, self.ctx, status)


def _text(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise Unprocessable("text_required", "请填写内容（text）", "`text` must not be empty", field="text")
    return text[:2000]
