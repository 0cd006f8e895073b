"""Alerts for supervisors: one `alert.raised` event each (a failed print, a kiosk's paper running low…).

They show in `GET /api/v1/alerts` and on the dashboard; raised by the server itself (printing) and by
kiosk programs and staff through `POST /api/v1/alerts`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..store.database import Change
from ..store.events import append_event

if TYPE_CHECKING:
    from ..clock import Clock
    from ..store.database import Store


async def raise_alert(store: Store, clock: Clock, kind: str, device: str | None, detail: str,
                      ticket_id: int | None = None, by: str | None = None, **extra: str) -> dict:
    """Append one `alert.raised` event; returns the event (`seq`, `type`, `at`, `data`). `by`: who reported
    it (absent when the server raised it itself); `extra`: more data, e.g. the kiosk."""
    data = {"kind": kind, "device": device, "detail": detail, **extra}
    if by is not None:
        data["by"] = by
    at = clock.now()

    def write(conn) -> Change:
        event = append_event(conn, "alert.raised", at, data, actor=by, ticket_id=ticket_id)
        return Change(event, [event])
    return await store.write(write)
