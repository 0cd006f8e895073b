"""Ratings as the API, the devices and the rest of the hall use them: the hooks that open a prompt inside the
change that finishes a handling, the window's key box asked after commit (through the `ask` callable runtime.py
passes in: hardware/evaluators.py `EvaluatorPrompts.prompt`, which answers through `submit`), the watch that
turns late prompts into "not rated" and colours the 差评 steps, and who may do what (403 before 409)."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from ..accounts.auth import Principal
from ..clock import Clock
from ..config import HallConfig
from ..errors import Forbidden, HallError, NotFound, Unprocessable
from ..store.database import Change, Store, connect
from ..store.events import EventBus
from ..store.follow import follow
from ..tasks import cancel_all
from . import badratings, prompts, ratings, views
from .base import LEVELS, Calendar, FeedbackContext, evaluation_of, handling_not_found, level_name, prompt_row, ts

log = logging.getLogger(__name__)
WATCH_S = 2.0               # how often late prompts are looked for (a read; a write only when one is late)
COLOUR_EVERY_S = 60.0       # how often the open 差评 steps are recoloured
Ask = Callable[[int, dict], Awaitable[bool]]
SUPERVISE = ("supervisor", "admin")
READ_LOOP = ("supervisor", "admin", "clerk", "department")


def staff_cannot_rate(who: Principal) -> Forbidden:
    return Forbidden("staff_cannot_rate", f"工作人员（{who.role}）不能评价，评价只能由群众在窗口评价器上作出",
                     f"staff ({who.role}) cannot rate: only the citizen rates, on the window's evaluator "
                     "(an evaluator account bound to the window)", role=who.role)


class Feedback:
    def __init__(self, cfg: HallConfig, store: Store, bus: EventBus, clock: Clock, calendar: Calendar,
                 secret: bytes, ask: Ask | None = None):
        self.ctx = FeedbackContext(cfg, clock, calendar)
        self.store, self.bus = store, bus
        self.ask = ask              # set by runtime.py once the window devices are there
        self._secret = hmac.new(secret, b"onewindow feedback: status-page rating", hashlib.sha256).digest()
        self._tasks: list[asyncio.Task] = []
        self._asking: set[asyncio.Task] = set()
        self._last_colour = 0.0
        self._report_conn: sqlite3.Connection | None = None     # the month's figures and the ledger, in a thread
        self._report_lock = asyncio.Lock()

    @property
    def _read(self) -> sqlite3.Connection:
        return self.store.read

    # -- hooks, inside the change's own transaction -------------------------------------------------------
    def on_ticket_finished(self, conn: sqlite3.Connection, now: datetime, window: sqlite3.Row, ticket: sqlite3.Row,
                           actor: str, events: list[dict]) -> None:
        prompts.ticket_finished(conn, self.ctx, now, window, ticket, actor, events)

    def on_case_event(self, conn: sqlite3.Connection, row: sqlite3.Row, event: dict) -> list[dict]:
        return prompts.case_event(conn, self.ctx, row, event)

    # -- life cycle ---------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._tasks:
            return
        since = self.bus.latest_seq        # prompts opened before this start are past their time or the watch's
        self._tasks = [asyncio.create_task(self._watch(), name="feedback:watch"),
                       asyncio.create_task(follow(self.bus, self._read, since, frozenset({"evaluation.prompted"}),
                                                  self._prompted), name="feedback:prompts")]

    async def stop(self) -> None:
        await cancel_all([*self._tasks, *self._asking])
        self._tasks, self._asking = [], set()
        if self._report_conn is not None:
            self._report_conn.close()
            self._report_conn = None

    async def _report(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A long read (a month of ratings: ~0.1 s) on its own read-only connection in a thread, so that the
        event loop (call-next, the screens) does not wait behind it; SQLite releases the GIL while it reads."""
        async with self._report_lock:
            if self._report_conn is None:
                self._report_conn = connect(self.store.path, readonly=True)
            return await asyncio.to_thread(fn, self._report_conn, self.ctx, *args)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                colour = loop.time() - self._last_colour >= COLOUR_EVERY_S
                await self.run_once(colour=colour)
                if colour:
                    self._last_colour = loop.time()
            except Exception:           # logged; the next round tries again
                log.exception("the feedback watch failed")
            await asyncio.sleep(WATCH_S)

    async def run_once(self, colour: bool = True) -> int:
        """Late prompts → not rated; with `colour`, the open 差评 steps recoloured (alerts on a turn)."""
        late = self._read.execute("SELECT 1 FROM rating_prompts WHERE state='pending' AND expires_at <= ? LIMIT 1",
                                  (ts(self.ctx.now()),)).fetchone()
        if not late and not colour:
            return 0

        def change(conn: sqlite3.Connection) -> Change:
            events: list[dict] = []
            n = prompts.expire(conn, self.ctx, events)
            if colour:
                events += badratings.refresh(conn, self.ctx).events
            return Change(n, events)
        return await self.store.write(change)

    async def _prompted(self, event: dict) -> None:
        if self.ask is None:
            return
        task = asyncio.create_task(self._ask(event["data"]), name=f"feedback:ask:{event['data']['window']}")
        self._asking.add(task)
        task.add_done_callback(self._asking.discard)

    async def _ask(self, handling: dict) -> None:
        try:
            await self.ask(handling["window"], handling)        # type: ignore[misc]
        except Exception:       # a device fault never touches the queue: the prompt times out as not rated
            log.exception("asking window %s's evaluator failed", handling["window"])

    async def submit(self, window: int, handling: dict, level: int | None) -> dict | None:
        """The key box's answer: a level, or None (no key within its time, or the box went silent) → not rated."""
        pid = handling["prompt"]
        if level is None:
            await self.store.write(lambda conn: _collect(prompts.device_gave_none, conn, self.ctx, pid))
            return None
        p = self._read.execute("SELECT ticket_id, case_id FROM rating_prompts WHERE id=?", (pid,)).fetchone()
        if p is None:
            return None
        try:
            return await self._rate_at(window, f"evaluator@{window}", "device", p["ticket_id"], p["case_id"],
                                       level, [])
        except HallError as exc:
            log.info("window %s's key box rated prompt %s too late or twice: %s", window, pid, exc.en)
            return None

    # -- rating ---------------------------------------------------------------------------------------------
    async def rate(self, who: Principal, *, ticket: int | None, case: int | None, level: int,
                   reasons: list[str] | None) -> dict:
        if who.role != "evaluator" or who.window is None:
            raise staff_cannot_rate(who)
        return await self._rate_at(who.window, who.username, "tablet", ticket, case, level, reasons)

    async def _rate_at(self, window: int, by: str, channel: str, ticket: int | None, case: int | None, level: int,
                       reasons: list[str] | None) -> dict:
        _one_handling(ticket, case)
        reasons = ratings.check_body(self.ctx, level, reasons)
        eid = await self.store.write(lambda conn: _collect(
            ratings.at_window, conn, self.ctx, window, by, channel, ticket=ticket, case=case, level=level,
            reasons=reasons))
        return self.evaluation(eid)

    def evaluation(self, eid: int) -> dict:
        row = self._read.execute("SELECT e.*, b.id AS badrating FROM evaluations e LEFT JOIN badratings b"
                                 " ON b.evaluation_id = e.id WHERE e.id=?", (eid,)).fetchone()
        return evaluation_of(self.ctx, row, row["badrating"])

    def pending(self, who: Principal, window: int | None) -> dict:
        if who.role == "evaluator":
            if window is not None and window != who.window:
                raise Forbidden("not_your_window", f"本评价器绑定 {who.window} 号窗口，不能查看 {window} 号窗口",
                                f"this evaluator is bound to window {who.window}, not {window}", window=window)
            window = who.window
        elif who.role not in ("supervisor", "admin", "clerk"):
            raise Forbidden("role_forbidden", f"角色 {who.role} 无权查看待评价", f"a {who.role} may not read the "
                            "pending ratings", role=who.role)
        if window is None or self.ctx.cfg.window(window) is None:
            raise Unprocessable("window_required", "请指定本厅的窗口号（window）",
                                "give `window`, a window of this hall", window=window)
        return {"window": window, "pending": prompts.pending(self._read, self.ctx, window), **self.choices()}

    def choices(self) -> dict:
        return {"levels": [level_name(lv) for lv in sorted(LEVELS, reverse=True)],
                "reasons": list(self.ctx.policy.reasons)}

    # -- the public status page (no token) -----------------------------------------------------------------
    def ticket_key(self, ticket_id: int) -> str:
        """What the receipt's QR carries beside the ticket id, so that only the receipt's holder rates it."""
        return hmac.new(self._secret, f"ticket:{ticket_id}".encode(), hashlib.sha256).hexdigest()[:16]

    def _public_handle(self, ticket: int | None, key: str | None,
                       query_code: str | None) -> tuple[int | None, int | None]:
        if query_code:
            row = self._read.execute("SELECT id FROM cases WHERE query_code=?", (query_code.strip(),)).fetchone()
            if row is None:
                raise NotFound("case_not_found", "查询码有误，请核对受理通知书", "no case with this query code")
            return None, row[0]
        if ticket is None:
            raise Unprocessable("handling_required", "请给出票（ticket 与 key）或查询码（query_code）",
                                "give `ticket` with its `key` (from the receipt's QR code) or a case's `query_code`")
        if not key or not hmac.compare_digest(key, self.ticket_key(ticket)):
            raise handling_not_found("ticket", ticket)      # no hint that the ticket exists
        return ticket, None

    def public(self, *, ticket: int | None = None, key: str | None = None, query_code: str | None = None) -> dict:
        t, c = self._public_handle(ticket, key, query_code)
        out: dict[str, Any] = {"ticket": t, "case": c, **self.choices()}
        try:
            p = ratings.check_public(self.ctx, self._read, ticket=t, case=c)
        except HallError as exc:
            if exc.status == 404:
                raise
            p = prompt_row(self._read, ticket=t, case=c)
            out.update(rateable=False, why=exc.code, message_zh=exc.zh, message_en=exc.en)
        else:
            out.update(rateable=True)
        if p is not None:
            out.update(number=p["number"], matter_name=self.ctx.matter_name(p["matter"]), window=p["window"],
                       finished_at=p["created_at"])
            if p["evaluation_id"] is not None:
                e = self._read.execute("SELECT level, at FROM evaluations WHERE id=?", (p["evaluation_id"],)).fetchone()
                out["rated"] = {**level_name(e["level"]), "at": e["at"]}
        return out

    async def rate_public(self, *, ticket: int | None, key: str | None, query_code: str | None, level: int,
                          reasons: list[str] | None) -> dict:
        t, c = self._public_handle(ticket, key, query_code)
        reasons = ratings.check_body(self.ctx, level, reasons)
        eid = await self.store.write(lambda conn: _collect(ratings.from_status_page, conn, self.ctx, ticket=t, case=c,
                                                           level=level, reasons=reasons))
        e = self.evaluation(eid)
        return {k: e[k] for k in ("id", "level", "level_name", "window", "number", "matter_name", "at", "channel")}

    # -- supervisors' reads --------------------------------------------------------------------------------
    def evaluations(self, *, first: date, last: date, window: int | None, level: int | None, limit: int) -> list[dict]:
        return views.evaluations(self._read, self.ctx, first=first, last=last, window=window, level=level, limit=limit)

    async def summary(self, first: date, last: date) -> dict:
        return await self._report(views.summary, first, last)

    def today(self) -> date:
        return self.ctx.local_day()

    # -- the 差评 loop ----------------------------------------------------------------------------------------
    async def step(self, who: Principal, rid: int, action: str, body: dict) -> dict:
        fn, fields = badratings.STEPS[action]
        kwargs = {k: body[k] for k in fields if body.get(k) is not None}
        await self.store.write(lambda conn: fn(conn, self.ctx, who, rid, **kwargs))
        return self.badrating(who, rid)

    def _may_read(self, who: Principal) -> None:
        if who.role not in READ_LOOP:
            raise Forbidden("role_forbidden", f"角色 {who.role} 无权查看差评", f"a {who.role} may not read the bad "
                            f"ratings; it needs one of: {', '.join(READ_LOOP)}", role=who.role)

    def badrating(self, who: Principal, rid: int) -> dict:
        self._may_read(who)
        out = views.badrating(self._read, self.ctx, rid, contact=who.role in ("supervisor", "admin", "clerk"))
        if who.role == "department" and not set(who.departments) & {*out["departments"],
                                                                      out["responsible"]["department"]}:
            raise Forbidden("not_your_department", "该差评不涉及您所在部门",
                            f"bad rating {out['number']} is not about {', '.join(who.departments)}", badrating=rid)
        return out

    def badratings(self, who: Principal, state: str | None, limit: int = 500) -> list[dict]:
        self._may_read(who)
        if state and state not in (*badratings.STATES, "open"):
            raise Unprocessable("bad_state", f"未知状态 {state}", f"state: open or one of {badratings.STATES}",
                                state=state)
        return views.badratings(self._read, self.ctx, state=state, limit=limit,
                                departments=who.departments if who.role == "department" else None)

    async def ledger_csv(self, state: str | None) -> bytes:
        return await self._report(views.ledger_csv, state)


def _one_handling(ticket: int | None, case: int | None) -> None:
    if (ticket is None) == (case is None):
        raise Unprocessable("handling_required", "请给出所评价的票（ticket）或办件（case）之一",
                            "give exactly one of `ticket` or `case`: the handling being rated")


def _collect(fn, conn: sqlite3.Connection, ctx: FeedbackContext, *args, **kw) -> Change:
    """Run a change that appends to an events list, as a store change."""
    events: list[dict] = []
    result = fn(conn, ctx, *args, events=events, **kw)
    return Change(result, events)
