"""asyncio helpers for the hall's long-running parts (device supervisor, announcer …)."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable


async def cancel_all(tasks: Iterable[asyncio.Task]) -> None:
    """Cancel every task, then wait for each to end: its CancelledError is swallowed, any other error raised."""
    tasks = list(tasks)
    for t in tasks:
        t.cancel()
    for t in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await t
