"""Follow the event log from a seq: every committed event after it, in order, none missed.

The in-process subscribers (the announcer, the LED screens) use this: they read what they missed from the
log, then take live events from the bus, and go back to the log if they ever fall behind the bus.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from .events import EventBus, read_events

log = logging.getLogger(__name__)
PAGE = 1000


async def follow(bus: EventBus, read_conn, since: int, types: frozenset[str],
                 handle: Callable[[dict], Awaitable[None]]) -> None:
    """Call `handle` for each event of `types` after `since`; runs until cancelled."""
    last = since
    while True:
        with bus.subscribe() as sub:
            while True:                       # catch up from the log first
                page = read_events(read_conn, last, PAGE)
                for e in page:
                    last = e["seq"]
                    if e["type"] in types:
                        await handle(e)
                if len(page) < PAGE:
                    break
            while True:
                e = await sub.queue.get()
                if e is None:                 # fell behind the bus: resubscribe and read the log again
                    log.info("event follower fell behind at seq %s; catching up from the log", last)
                    break
                if e["seq"] <= last:
                    continue
                last = e["seq"]
                if e["type"] in types:
                    await handle(e)
