"""The append-only event log and the in-process bus that carries committed events to subscribers.

An event is `{"seq", "type", "at", "data"}`; it is written in the same transaction as the change it
describes and published only after that transaction commits. Subscribers (WebSocket clients, and in
later issues the announcer and the displays) each get an asyncio queue; one that falls too far behind
is dropped and must reconnect with `since=<last seq>`, which loses nothing.
"""
from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime

from .database import Change

log = logging.getLogger(__name__)

SUBSCRIBER_BACKLOG = 10_000


def append_event(
    conn: sqlite3.Connection,
    type_: str,
    at: datetime,
    data: dict,
    *,
    actor: str | None = None,
    ticket_id: int | None = None,
    window: int | None = None,
    case_id: int | None = None,
) -> dict:
    at_s = at.isoformat(timespec="milliseconds")
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    seq = conn.execute(
        "INSERT INTO events (type, at, actor, ticket_id, window, case_id, data) VALUES (?,?,?,?,?,?,?)"
        " RETURNING seq",
        (type_, at_s, actor, ticket_id, window, case_id, payload),
    ).fetchone()[0]
    return {"seq": seq, "type": type_, "at": at_s, "data": data}


def event_change(type_: str, at: datetime, data: dict, **where) -> Callable[[sqlite3.Connection], Change]:
    """A store change that only appends one event (device health, alerts)."""
    return lambda conn: Change(None, [append_event(conn, type_, at, data, **where)])


def event_from_row(row: sqlite3.Row) -> dict:
    return {"seq": row["seq"], "type": row["type"], "at": row["at"], "data": json.loads(row["data"])}


def read_events(conn: sqlite3.Connection, since: int, limit: int = 1000) -> list[dict]:
    rows = conn.execute(
        "SELECT seq, type, at, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (since, limit)
    ).fetchall()
    return [event_from_row(r) for r in rows]


def last_seq(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]


class Subscription:
    def __init__(self, bus: EventBus):
        self._bus = bus
        self.queue: asyncio.Queue[dict | None] = asyncio.Queue()
        self.overflowed = False

    def close(self) -> None:
        self._bus._subs.discard(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class EventBus:
    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self.latest_seq = 0

    def subscribe(self) -> Subscription:
        sub = Subscription(self)
        self._subs.add(sub)
        return sub

    def publish(self, events: list[dict]) -> None:
        """Called on the event loop with committed events, in seq order."""
        if events:
            self.latest_seq = max(self.latest_seq, events[-1]["seq"])
        for sub in list(self._subs):
            if sub.queue.qsize() + len(events) > SUBSCRIBER_BACKLOG:
                sub.overflowed = True
                sub.queue.put_nowait(None)  # tells the reader to resync from the log
                self._subs.discard(sub)
                continue
            for e in events:
                sub.queue.put_nowait(e)
