"""Helpers for the engine tests: run changes through a Hall with a fake clock, as the API does."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from hall_server.config import parse_config
from hall_server.errors import Conflict
from hall_server.runtime import Hall

DISTRICT = Path(__file__).resolve().parent.parent / "config" / "district-centre.toml"

# -- helpers ----------------------------------------------------------------------------------------
def do(hall: Hall, action: str, *args, **kw):
    """Run one engine change in its own transaction, as the API does."""
    return hall.store.write_sync(lambda conn: getattr(hall.engine, action)(conn, *args, **kw))


def issue(hall, matter="SH-001", priority="normal", gap_s: float = 1):
    """Issue a ticket, then let `gap_s` seconds pass (so arrivals are distinct moments)."""
    t = do(hall, "issue", matter=matter, priority=priority, actor="kiosk")
    hall.clock.advance(seconds=gap_s)
    return t


def open_(hall, *numbers):
    for n in numbers:
        do(hall, "set_state", n, "open", actor="sup")


def call(hall, window, wait_s: float = 3):
    """Press call-next after `wait_s` seconds (past the 2 s debounce)."""
    hall.clock.advance(seconds=wait_s)
    t = do(hall, "call_next", window, actor="clerk")
    return t and t["number"]


def view(hall, ticket_id):
    return hall.views.ticket(hall.store.read, ticket_id, hall.clock.now())


def window_row(hall, number):
    return hall.store.read.execute("SELECT * FROM windows WHERE number=?", (number,)).fetchone()


def events(hall, since=0):
    rows = hall.store.read.execute("SELECT seq, type, window, ticket_id, data FROM events WHERE seq>? ORDER BY seq",
                                   (since,)).fetchall()
    return [{"seq": r["seq"], "type": r["type"], "window": r["window"], "ticket_id": r["ticket_id"],
             "data": json.loads(r["data"])} for r in rows]


def last_seq(hall):
    return hall.store.read.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]


def conflict(code, fn, *args, **kw) -> Conflict:
    with pytest.raises(Conflict) as exc:
        fn(*args, **kw)
    assert exc.value.code == code, exc.value.en
    assert exc.value.status == 409
    return exc.value


def hall_with(tmp_path, clock, name="custom", **queue) -> Hall:
    data = tomllib.loads(DISTRICT.read_text(encoding="utf-8"))
    data["queue"].update(queue)
    return Hall(parse_config(data, "test"), tmp_path / name, clock)


