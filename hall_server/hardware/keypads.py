"""Caller keypads (呼叫器) bound to windows: each key press becomes that window's action, as its clerk.

A press acts as the clerk logged in to the keypad's window, in the same transaction that reads who that is;
with nobody logged in it is refused, never done anonymously. A refused press (nobody logged in, 409 "nothing
to recall", …) is recorded as a `keypad.refused` event and shown on the keypad's display, if it has one.
Transfer has no target a keypad could pick, so it raises an `alert.raised` (kind transfer_requested) for a
supervisor's dashboard; evaluate records `evaluation.requested` for the evaluator at the window.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ..config import DeviceConfig, HallConfig
from ..errors import Conflict, HallError
from ..store.database import Change
from ..store.events import append_event, event_change
from .supervisor import DeviceSupervisor, DeviceUnavailable

if TYPE_CHECKING:
    from ..clock import Clock
    from ..queue.engine import Engine
    from ..store.database import Store

log = logging.getLogger(__name__)


def window_of(cfg: HallConfig, device: DeviceConfig, address: int) -> int | None:
    """The window whose keypad sits at `address` on `device`'s bus, or None."""
    if device.keypads:
        return next((int(w) for w, a in device.keypads.items() if a == address), None)
    if device.window is not None:       # a bus serving one window: each of its keypads is that window's
        return device.window
    return address if cfg.window(address) is not None else None


def press_change(engine: Engine, clock: Clock, number: int, key: str, device: str):
    """The store change for `key` pressed at window `number`: the engine's action, as the logged-in clerk."""

    def run(conn) -> Change:
        w = conn.execute("SELECT clerk, state, current_ticket FROM windows WHERE number=?", (number,)).fetchone()
        clerk = w["clerk"] if w is not None else None
        if not clerk:
            raise Conflict("keypad_no_clerk", f"{number} 号窗口无人登录，请先在窗口终端登录",
                           f"nobody is logged in to window {number}, so its keypad cannot act; log in at the "
                           "window terminal first")
        if key == "call":
            return engine.call_next(conn, number, actor=clerk)
        if key == "recall":
            return engine.recall(conn, number, actor=clerk)
        if key == "skip":
            return engine.skip(conn, number, actor=clerk)
        if key == "pause":
            return engine.set_state(conn, number, "resume" if w["state"] == "paused" else "pause", actor=clerk)
        if w["current_ticket"] is None:
            raise Conflict("no_current_ticket", f"{number} 号窗口当前没有票",
                           f"window {number} has no current ticket to {key}; call the next one first")
        t = conn.execute("SELECT id, number FROM tickets WHERE id=?", (w["current_ticket"],)).fetchone()
        data = {"window": number, "ticket_id": t["id"], "number": t["number"], "by": clerk, "device": device}
        if key == "transfer":       # an alert, so the dashboard shows it (alert.raised: kind, device, detail)
            type_, data = "alert.raised", {"kind": "transfer_requested", **data, "detail": (
                f"{number} 号窗口请求转移 {t['number']} 号 / window {number} asks to transfer {t['number']}")}
        else:
            type_ = "evaluation.requested"
        event = append_event(conn, type_, clock.now(), data, actor=clerk, ticket_id=t["id"], window=number)
        return Change({"number": t["number"]}, [event])
    return run


def _shown(key: str, result: Any) -> str:
    """What the keypad's display says after a press that worked."""
    number = result.get("number") if isinstance(result, dict) else None
    if key == "pause":
        return "暂停服务" if isinstance(result, dict) and result.get("state") == "paused" else "恢复服务"
    if key == "call" and number is None:
        return "无人等候"
    if key == "recall" and result.get("status") == "no_show":      # recalled past the limit
        return f"过号{number}"
    return {"call": "请{n}", "recall": "重呼{n}", "skip": "过号{n}", "transfer": "已请求转移{n}",
            "evaluate": "请评价{n}"}[key].format(n=number)


class Keypads:
    """Turns key presses from the supervisor's keypad buses into window actions (the supervisor's `on_key`)."""

    def __init__(self, cfg: HallConfig, store: Store, engine: Engine, clock: Clock, devices: DeviceSupervisor):
        self.cfg, self.store, self.engine, self.clock, self.devices = cfg, store, engine, clock, devices

    async def __call__(self, device: DeviceConfig, press: Any) -> None:
        """Handle one press from the keypad bus `device`."""
        number = window_of(self.cfg, device, press.address)
        try:
            if number is None:
                raise Conflict("keypad_unbound", f"地址 {press.address} 的呼叫器未绑定窗口",
                               f"no window has the keypad at address {press.address} on {device.name}; set its "
                               "address in the device's keypads (window number → address)")
            result = await self.store.write(press_change(self.engine, self.clock, number, press.key, device.name))
        except HallError as exc:
            log.info("keypad %s at %s (window %s): %s refused: %s", press.address, device.name, number, press.key,
                     exc.en)
            await self.store.write(event_change("keypad.refused", self.clock.now(), {
                "device": device.name, "keypad": press.address, "window": number, "key": press.key,
                "code": exc.code, "message_zh": exc.zh, "message_en": exc.en}, window=number))
            await self.show(device, press.address, exc.zh)
            return
        log.info("keypad %s at %s: %s at window %s", press.address, device.name, press.key, number)
        await self.show(device, press.address, _shown(press.key, result))

    async def show(self, device: DeviceConfig, address: int, text: str) -> None:
        """Best effort: a keypad without a display ignores it, and a failed write only costs the line."""
        try:
            async with self.devices.use(device.name) as dev:
                await asyncio.to_thread(dev.show, address, text)
        except (DeviceUnavailable, OSError, ValueError, RuntimeError) as exc:
            log.debug("could not show %r on keypad %s at %s: %s", text, address, device.name, exc)
