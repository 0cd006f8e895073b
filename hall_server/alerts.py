"""Alerts for supervisors: one `alert.raised` event each (a failed print, a kiosk's paper running low…).

They show in `GET /api/v1/alerts` and on the dashboard; raised by the server itself (printing) and by
kiosk programs and staff through `POST /api/v1/alerts`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .events import append_event
from .store import Change

if TYPE_CHECKING:
    from .runtime import Hall


async def raise_alert(hall: Hall, kind: str, device: str | None, detail: str, ticket_id: int | None = None,
                      by: str | None = None, **extra: str) -> dict:
    """Append one `alert.raised` event; returns the event (`seq`, `type`, `at`, `data`). `by`: who reported
    it (absent when the server raised it itself); `extra`: more data, e.g. the kiosk."""
    data = {"kind": kind, "device": device, "detail": detail, **extra}
    if by is not None:
        data["by"] = by
    at = hall.clock.now()

    def write(conn) -> Change:
        event = append_event(conn, "alert.raised", at, data, actor=by, ticket_id=ticket_id)
        return Change(event, [event])
    return await hall.store.write(write)
