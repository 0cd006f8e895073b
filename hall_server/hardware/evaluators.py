"""The windows' evaluator key boxes (评价器) asked to rate a handling: the `ask` of feedback/service.py.

`EvaluatorPrompts.prompt(window, handling)` is called after the commit that finished a ticket (or delivered a
case) at `window`. If a key box serves that window (a device of kind "evaluator" with `window = N`), its lamp is
lit and the first key within the timeout is awaited in a task of its own, never in a request; the answer goes
to `submit(window, handling, level)`: the level, or None when no key came in time (not rated, never a default
level). A box that stops answering mid-prompt is not rated either, and raises an alert (kind evaluator_failed);
the queue and calling never wait for a box. A newer handling at the same window ends the box's older prompt.
Returns False at once when the window has no key box (the tablet page, or nobody, rates it).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ..config import DeviceConfig
from ..tasks import cancel_all
from .alerts import raise_alert
from .supervisor import DeviceSupervisor, DeviceUnavailable

if TYPE_CHECKING:
    from ..clock import Clock
    from ..store.database import Store

log = logging.getLogger(__name__)
Submit = Callable[[int, dict, "int | None"], Awaitable[Any]]
USE_WAIT_S = 5.0            # a box still being opened, or in its health check, is waited for this long


class EvaluatorPrompts:
    def __init__(self, devices: Iterable[DeviceConfig], supervisor: DeviceSupervisor, clock: Clock, submit: Submit,
                 timeout_s: float, store: Store):
        self.boxes = {d.window: d.name for d in devices if d.kind == "evaluator" and d.window is not None}
        self.supervisor, self.clock, self.submit, self.store = supervisor, clock, submit, store
        self.timeout_s = timeout_s
        self._running: dict[int, asyncio.Task] = {}
        self._tasks: set[asyncio.Task] = set()
        # a prompt blocks a thread for up to its timeout: one thread per box, never the loop's default pool
        self._pool = ThreadPoolExecutor(len(self.boxes), thread_name_prefix="evaluator") if self.boxes else None

    async def prompt(self, window: int, handling: dict) -> bool:
        name = self.boxes.get(window)
        if name is None:
            return False
        older = self._running.get(window)
        if older is not None and not older.done():
            self._cancel_box(name)          # superseded: its prompt ends as None, the store ignores that
        task = asyncio.create_task(self._ask(window, name, handling), name=f"evaluator:{window}")
        self._running[window] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def stop(self) -> None:
        for window, task in list(self._running.items()):
            if not task.done():
                self._cancel_box(self.boxes[window])
        await cancel_all(list(self._tasks))
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _cancel_box(self, name: str) -> None:
        s = self.supervisor.devices.get(name)
        dev = s.device if s is not None else None
        if dev is not None and hasattr(dev, "cancel"):
            with contextlib.suppress(Exception):
                dev.cancel()            # thread-safe: sets a flag the prompt's thread looks at

    async def _ask(self, window: int, name: str, handling: dict) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with self.supervisor.use(name, wait_s=USE_WAIT_S) as dev:
                pass        # only whether it is working: the prompt does not hold the device from its health check,
            try:            # which answers from the prompt's heartbeat meanwhile, nor from a simulator's key press
                level = await loop.run_in_executor(self._pool, dev.prompt, self.timeout_s)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    dev.cancel()
                raise
        except DeviceUnavailable as exc:        # not lit at all: the tablet may still rate, or it times out
            log.info("window %s's key box %s could not prompt: %s", window, name, exc)
            await self._alert(window, name, f"{window} 号窗口评价器不可用，本次未能提示评价 / window {window}'s "
                              f"evaluator {name} is unavailable, so it did not prompt: {exc}", handling)
            return
        except Exception as exc:                # went silent mid-prompt: not rated, and someone should look
            log.warning("window %s's key box %s failed mid-prompt: %s", window, name, exc)
            await self.submit(window, handling, None)
            await self._alert(window, name, f"{window} 号窗口评价器在评价中断开，本次记为未评价 / window {window}'s "
                              f"evaluator {name} stopped answering mid-prompt, so this handling is not rated: "
                              f"{exc}", handling)
            return
        finally:
            if self._running.get(window) is asyncio.current_task():
                del self._running[window]
        log.info("window %s's key box %s: %s", window, name, "no key in time" if level is None else f"key {level}")
        await self.submit(window, handling, level)

    async def _alert(self, window: int, name: str, detail: str, handling: dict) -> None:
        try:
            await raise_alert(self.store, self.clock, "evaluator_failed", name, detail,
                              ticket_id=handling.get("ticket"), window=window)  # type: ignore[arg-type]
        except Exception:
            log.exception("could not raise the alert for window %s's key box", window)
