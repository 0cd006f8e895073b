"""The running kiosk: the hall's state as the page needs it, tickets, card reads and device health.

The hall is read every `refresh_s` (its matters, opening hours and queue); the page gets the result from
`state()` and, when it changes, as a `state` event. A card read becomes a swipe on the hall server and a
`swipe` event for the page; the card itself is dropped as soon as it is posted. The kiosk's devices are
reported to the hall every `report_s`, and at once when one changes state.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import Any

from . import cases
from .devices import DeviceUnavailable, KioskDevices
from .hall_client import HallClient, HallRefused, HallUnreachable
from .receipts import failed, qr_svg, receipt_for, status_url
from .search import keys
from .settings import KioskSettings
from .speech import Prompts

log = logging.getLogger(__name__)
HALL_FIELDS = ("name", "name_en", "phone", "address", "opening", "opening_today", "open_now", "tickets_open",
               "next_opening", "service_day", "timezone")
UNREACHABLE = {"code": "server_unreachable", "message_zh": "暂时无法连接服务器，请稍候再试或到服务台取号",
               "message_en": "The hall server cannot be reached right now: try again shortly or ask at the "
                             "service desk"}


class Kiosk:
    def __init__(self, name: str, settings: KioskSettings, client: HallClient, devices: KioskDevices | None = None,
                 prompts: Prompts | None = None):
        self.name, self.settings, self.client = name, settings, client
        self.devices = devices or KioskDevices(name, settings, on_card=self._card_read, on_change=self._changed)
        self.prompts = prompts or Prompts(settings.kiosk.voice)
        self.hall: dict | None = None
        self.queue: dict = {}
        self.server = {"ok": False, "detail": "not reached yet"}
        self._subscribers: set[asyncio.Queue] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._report_now = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._background: set[asyncio.Task] = set()
        self._last_state = ""
        self._matters: list[dict] = []

    # -- life cycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.devices.start()
        await self.refresh()
        self._tasks = [asyncio.create_task(self._every(self.settings.kiosk.refresh_s, self.refresh), name="refresh"),
                       asyncio.create_task(self._report_loop(), name="report")]

    async def stop(self) -> None:
        for t in (*self._tasks, *self._background):
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        await asyncio.to_thread(self.devices.stop)
        await asyncio.to_thread(self.prompts.close)
        await self.client.close()

    def _spawn(self, job) -> None:
        """Run `job` beside the request (an alert, a refresh), holding on to it until it is done."""
        task = asyncio.create_task(job)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _every(self, seconds: float, job) -> None:
        while True:
            await asyncio.sleep(seconds)
            await job()

    # -- the hall, as the page sees it ---------------------------------------------------------------
    async def refresh(self) -> None:
        try:
            hall = await self.client.hall()
            queue = await self.client.queue()
        except (HallUnreachable, HallRefused) as exc:
            if self.server["ok"]:
                log.warning("the hall server is not answering: %s", exc)
            self.server = {"ok": False, "detail": str(exc)}
        else:
            if not self.server["ok"]:
                log.info("the hall server answers: %s", self.client.server)
            if hall != self.hall:
                self._matters = [_matter(m) for m in hall["matters"]]
            self.hall, self.queue, self.server = hall, queue, {"ok": True, "detail": ""}
        self._publish_state()

    def state(self) -> dict:
        hall = self.hall or {}
        waiting = {m["code"]: m for m in self.queue.get("matters", ())}
        groups = {g["code"]: g for g in self.queue.get("groups", ())}
        k = self.settings.kiosk
        return {
            "kiosk": self.name,
            "hall": {f: hall.get(f) for f in HALL_FIELDS} | {"tickets_open": bool(hall.get("tickets_open", False))},
            "server": self.server,
            "groups": [{"code": g["code"], "name": g["name"], "name_en": g.get("name_en", ""),
                        "waiting": groups.get(g["code"], {}).get("waiting", 0)} for g in hall.get("groups", ())],
            "matters": [{**m, "waiting": waiting.get(m["code"], {}).get("waiting", 0)} for m in self._matters],
            "devices": {"printer": self.devices.state("printer"), "idcard": self.devices.state("idcard")},
            "idle_s": k.idle_s, "elder_idle_s": k.elder_idle_s, "speech": self.prompts.available,
        }

    def _publish_state(self) -> None:
        state = self.state()
        text = json.dumps(state, ensure_ascii=False, sort_keys=True)
        if text != self._last_state:
            self._last_state = text
            self.publish("state", state)

    # -- the page's event stream -------------------------------------------------------------------
    def subscribe(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(maxsize=100)
        self._subscribers.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        self._subscribers.discard(q)

    def publish(self, event: str, data: dict) -> None:
        for q in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):    # a page that stopped reading misses it; it reloads state
                q.put_nowait((event, data))

    # -- tickets -----------------------------------------------------------------------------------
    async def issue(self, matter: str, swipe: str | None) -> dict:
        """Issue on the hall server, then print here. Raises HallRefused / HallUnreachable."""
        try:
            ticket = await self.client.issue(matter, self.name, swipe)
        except HallRefused as exc:
            if (exc.body.get("error") or {}).get("code") == "hall_closed":
                self._spawn(self.refresh())
            raise
        return await self._printed(ticket)

    async def handout_ticket(self, number: str | None, swipe: str | None) -> dict:
        """An 出件 ticket for a ready case (统一出件): by the swiped card (every ready case of the applicant), else by
        the case number — also when the swipe has run out meanwhile. Printed here as any ticket."""
        try:
            if swipe:
                try:
                    ticket = await self.client.handout_ticket(self.name, {"swipe": swipe})
                except HallRefused as exc:
                    code = (exc.body.get("error") or {}).get("code")
                    if not number or code not in ("swipe_expired", "swipe_not_found", "swipe_other_kiosk"):
                        raise
                    ticket = await self.client.handout_ticket(self.name, {"number": number})
            elif number:
                ticket = await self.client.handout_ticket(self.name, {"number": number})
            else:
                raise ValueError("no case number and no swipe")
        except HallRefused as exc:
            if (exc.body.get("error") or {}).get("code") == "hall_closed":
                self._spawn(self.refresh())
            raise
        return await self._printed(ticket)

    async def _printed(self, ticket: dict) -> dict:
        """A ticket the hall issued, printed here (unless the hall printed it), with its status page's QR code."""
        # the ticket is committed on the hall: from here on nothing may fail the answer, or the citizen loses it
        hall = self.hall or await self._hall_or_empty()
        url = status_url(hall, self.client.server, ticket["id"], ticket.get("status_key"))
        outcome = ticket.pop("print", None)          # the hall printed it itself (a printer it owns for this kiosk)
        if outcome is None and "printer" in self.devices.devices:
            outcome = await asyncio.to_thread(self._print, hall, ticket, url)
            if not outcome["ok"]:
                self._spawn(self._alert("print_failed", outcome["device"],
                                        f"{ticket['number']} 未能打印 / not printed: {outcome['error']}",
                                        ticket["id"]))
        self._spawn(self.refresh())          # the waiting counts changed
        return {"ticket": ticket, "print": outcome, "status_url": url, "qr_svg": qr_svg(url)}

    async def _hall_or_empty(self) -> dict:
        try:
            return await self.client.hall()
        except (HallUnreachable, HallRefused):
            return {"name": "", "matters": []}     # a receipt without the hall name and checklist: still a ticket

    def _print(self, hall: dict, ticket: dict, url: str) -> dict:
        name = self.devices.devices["printer"].name
        try:
            with self.devices.use("printer") as printer:
                printer.print_receipt(receipt_for(hall, ticket, url, getattr(printer, "width", 80)))
        except Exception as exc:   # DeviceUnavailable, PrintError or any driver failure: the ticket stands
            reason = str(exc) or type(exc).__name__
            log.warning("ticket %s issued but not printed: %s", ticket["number"], reason)
            return failed(ticket["number"], name, reason)
        return {"ok": True, "device": name}

    async def lookup(self, q: str) -> dict:
        """A ticket by what a citizen typed or scanned: a number (A001), a status URL (…/t/12) or an id."""
        text = q.strip()
        scanned = re.search(r"/t/(\d+)\b", text)
        if scanned or text.isdigit():
            return await self.client.ticket(int(scanned.group(1) if scanned else text))
        return await self.client.ticket_by_number(text.upper())

    async def find_cases(self, q: str | None, swipe: str | None) -> list[dict]:
        """Cases by what a citizen typed or scanned (number, status URL) or by their card's swipe, each with its
        status page's QR code. ValueError when there is nothing to look up; HallRefused / HallUnreachable."""
        found = (await self.client.case_lookup(cases.lookup_body(q, swipe)))["cases"]
        hall = self.hall or {}
        return await asyncio.to_thread(
            lambda: [cases.shown(c, cases.status_page(hall, self.client.server, c["query_code"])) for c in found])

    async def _alert(self, kind: str, device: str | None, detail: str, ticket_id: int | None = None) -> None:
        try:
            await self.client.alert(self.name, kind, device, detail, ticket_id)
        except (HallUnreachable, HallRefused) as exc:
            log.warning("could not raise the %s alert on the hall server: %s", kind, exc)

    # -- devices -----------------------------------------------------------------------------------
    def _changed(self, _device) -> None:
        """A device changed state (its own thread): tell the page and the hall now."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._device_changed)

    def _device_changed(self) -> None:
        self._report_now.set()
        self._publish_state()

    async def _report_loop(self) -> None:
        every = self.settings.kiosk.report_s
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._report_now.wait(), every)
            self._report_now.clear()
            if not self.devices.devices:
                continue
            try:
                await self.client.report_devices(self.name, self.devices.report(), every)
            except (HallUnreachable, HallRefused) as exc:
                log.debug("device health not reported: %s", exc)

    def _card_read(self, card: Any, problem: str | None) -> None:
        """A card read (the reader's thread): post it as a swipe; the card is not kept here."""
        if self._loop is None:
            return
        body = None if card is None else _card_body(card)
        future = asyncio.run_coroutine_threadsafe(self._swipe(body, problem), self._loop)
        try:
            future.result(timeout=15)      # one card at a time, in order
        except Exception:                  # the page then hears nothing: say why in the log
            log.exception("the card read at %s could not be handed to the hall", self.name)

    async def _swipe(self, body: dict | None, problem: str | None) -> None:
        if body is None:
            log.info("card read failed at %s: %s", self.name, problem)
            self.publish("card_error", {"code": "card_read_failed", "reason": problem,
                                        "message_zh": "读卡失败，请把卡片放平放稳，再试一次",
                                        "message_en": "The card could not be read: lay it flat on the reader and "
                                                      "try again"})
            return
        try:
            swipe = await self.client.swipe(self.name, body)
        except HallRefused as exc:
            self.publish("card_error", exc.body.get("error") or {})
        except HallUnreachable:
            self.publish("card_error", UNREACHABLE)
        else:
            log.info("card read at %s: swipe %s, priority %s", self.name, swipe["id"], swipe["priority"])
            self.publish("swipe", swipe)

    def simulate(self, kind: str, **options: Any) -> None:
        """Change a simulated device (tests, demonstrations): place a card, run out of paper. ValueError for an
        option the device does not take; DeviceUnavailable when it is not a running simulator."""
        d = self.devices.devices.get(kind)
        sim = getattr(d.device, "simulator", None) if d is not None and d.device is not None else None
        if sim is None:
            raise DeviceUnavailable(f"this kiosk's {kind} is not a running simulator")
        try:
            getattr(d.device, "simulate", sim.set_fault)(**options)
        except TypeError as exc:
            raise ValueError(f"the {kind} cannot simulate that: {exc}") from None


def _matter(m: dict) -> dict:
    pinyin, initials = keys(m["name"])
    return {f: m.get(f) for f in ("code", "name", "name_en", "group", "prefix", "kind", "promised_days", "minutes",
                                  "materials", "department")} | {"pinyin": pinyin, "initials": initials}


def _card_body(card: Any) -> dict:
    return {"kind": card.kind, "id_number": card.id_number, "name": card.name,
            "valid_to": card.valid_to.isoformat() if card.valid_to else None, "long_term": bool(card.long_term)}
