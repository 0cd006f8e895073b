"""The event stream: WebSocket with replay from `since`, a heartbeat, and the same replay over HTTP.

A client sends the last `seq` it saw as `since`; it first receives every later event from the log,
then live ones, each exactly once and in order. Without `since` it receives live events only. A
heartbeat `{"seq": null, "type": "heartbeat", "data": {"latest_seq": N}}` comes when the hall is
quiet, so a screen can tell a quiet hall from a dead connection.
"""
from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Depends, Query, WebSocket, WebSocketDisconnect

from ..runtime import Hall
from ..store.events import read_events
from .deps import get_hall
from .models import EventPage

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["events"])
HEARTBEAT_S = 10.0
PAGE = 1000


@router.get("/events", response_model=EventPage,
            summary="Events after `since`, oldest first (the WebSocket's replay over HTTP)")
async def get_events(since: int = Query(0, ge=0, le=2**63 - 1), limit: int = Query(PAGE, ge=1, le=5000),
               hall: Hall = Depends(get_hall)) -> dict:
    return {"latest_seq": hall.bus.latest_seq, "events": read_events(hall.store.read, since, limit)}


@router.websocket("/events")
async def events_ws(ws: WebSocket, since: int | None = Query(None, ge=0)):
    hall: Hall = ws.app.state.hall
    await ws.accept()
    sub = hall.bus.subscribe()
    receiver: asyncio.Future | None = None
    last = hall.bus.latest_seq if since is None else since
    try:
        if last > hall.bus.latest_seq:
            # The client saw events this database never had (restored backup, other hall): start over.
            await ws.send_json({"seq": None, "type": "stream.reset", "at": hall.clock.now().isoformat(),
                                "data": {"latest_seq": hall.bus.latest_seq}})
            last = hall.bus.latest_seq
        last = await _replay(ws, hall, last)
        # Listening as well as sending: a client that goes away, or a server shutting down, ends the
        # stream at once instead of at the next heartbeat.
        receiver = asyncio.ensure_future(ws.receive())
        while True:
            getter = asyncio.ensure_future(sub.queue.get())
            done, _ = await asyncio.wait({getter, receiver}, timeout=HEARTBEAT_S,
                                         return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                if receiver.result()["type"] == "websocket.disconnect":
                    getter.cancel()
                    break
                receiver = asyncio.ensure_future(ws.receive())     # clients have nothing to say: ignored
            if getter not in done:
                getter.cancel()
                if not done:
                    await ws.send_json({"seq": None, "type": "heartbeat", "at": hall.clock.now().isoformat(),
                                        "data": {"latest_seq": last}})
                continue
            event = getter.result()
            if event is None:           # we fell behind the bus: catch up from the log
                sub = hall.bus.subscribe()
                last = await _replay(ws, hall, last)
                continue
            if event["seq"] <= last:
                continue
            await ws.send_json(event)
            last = event["seq"]
    except (WebSocketDisconnect, RuntimeError) as exc:
        # the client went away (RuntimeError: a send after the socket closed); it resumes with since=
        log.debug("event stream closed at seq %s: %r", last, exc)
    finally:
        sub.close()
        if receiver is not None:
            receiver.cancel()


async def _replay(ws: WebSocket, hall: Hall, last: int) -> int:
    while True:
        page = read_events(hall.store.read, last, PAGE)
        for e in page:
            await ws.send_json(e)
            last = e["seq"]
        if len(page) < PAGE:
            return last
