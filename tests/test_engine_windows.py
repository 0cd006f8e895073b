"""The engine: issuing numbers, the window state machine, clerks and the event log."""
from __future__ import annotations

import sqlite3

import pytest
from engine_helpers import (
    call,
    conflict,
    do,
    events,
    issue,
    last_seq,
    open_,
    window_row,
)

from hall_server.errors import Forbidden, NotFound


# -- issuing ----------------------------------------------------------------------------------------
def test_numbers_run_per_prefix_and_prefixes_are_independent(hall):
    got = [issue(hall, m)["number"] for m in
           ("SH-001", "SH-001", "RS-001", "SH-003", "YB-001", "RS-007", "SH-001", "GA-001")]
    # SH-001 and SH-003 share the letter S, so they share one sequence
    assert got == ["S001", "S002", "R001", "S003", "Y001", "R002", "S004", "G001"]


def test_issued_ticket_shape(hall):
    t = issue(hall, "RS-001", priority="elderly")
    assert t["status"] == "waiting" and t["matter"] == "RS-001" and t["group"] == "hrss"
    assert t["matter_name"] == "城乡居民基本养老保险参保登记"
    assert t["priority"] == "elderly" and t["service_day"] == "2026-11-24"
    assert t["waiting_ahead"] == 0 and t["window"] is None
    row = hall.store.read.execute("SELECT prefix, seq, status FROM tickets WHERE id=?", (t["id"],)).fetchone()
    assert tuple(row) == ("R", 1, "waiting")


def test_unknown_matter_is_refused_and_uses_no_number(hall):
    with pytest.raises(NotFound) as exc:
        do(hall, "issue", matter="NOPE-1", actor="kiosk")
    assert exc.value.code == "matter_not_found" and exc.value.status == 404
    assert issue(hall)["number"] == "S001"
    assert hall.store.read.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1


def test_numbers_go_past_999(hall):
    hall.store.write_sync(lambda c: (c.execute(
        "INSERT INTO counters (service_day, prefix, last) VALUES ('2026-11-24', 'S', 998)"), None)[1]
        or hall.engine.tick(c))
    assert [issue(hall)["number"] for _ in range(2)] == ["S999", "S1000"]


# -- window state machine ---------------------------------------------------------------------------
STATE_TABLE = [
    # from state, action, resulting state or conflict code
    ("closed", "open", "open"),
    ("closed", "pause", "window_closed"),
    ("closed", "resume", "window_closed"),
    ("closed", "close", "window_closed"),
    ("open", "open", "window_open"),
    ("open", "pause", "paused"),
    ("open", "resume", "window_open"),
    ("open", "close", "closed"),
    ("paused", "open", "window_paused"),
    ("paused", "pause", "window_paused"),
    ("paused", "resume", "open"),
    ("paused", "close", "closed"),
]


@pytest.mark.parametrize("start,action,outcome", STATE_TABLE)
def test_window_state_machine(hall, start, action, outcome):
    if start in ("open", "paused"):
        open_(hall, 7)
    if start == "paused":
        do(hall, "set_state", 7, "pause", actor="sup", reason="lunch")
    assert window_row(hall, 7)["state"] == start
    before = last_seq(hall)
    if outcome.startswith("window_"):
        err = conflict(outcome, do, hall, "set_state", 7, action, actor="sup")
        assert err.details["state"] == start
        assert window_row(hall, 7)["state"] == start
        assert last_seq(hall) == before          # a refused change appends no event
    else:
        w = do(hall, "set_state", 7, action, actor="sup", reason="why not")
        assert w["state"] == outcome and w["reason"] == "why not"
        assert window_row(hall, 7)["state"] == outcome
        [e] = events(hall, before)
        kind = {"open": "opened", "pause": "paused", "resume": "resumed", "close": "closed"}[action]
        assert e["type"] == f"window.{kind}" and e["data"]["window"] == 7 and e["data"]["state"] == outcome


def test_unknown_window_is_not_found(hall):
    for action, args in (("call_next", ()), ("set_state", ("open",)), ("recall", ())):
        with pytest.raises(NotFound) as exc:
            do(hall, action, 23, *args, actor="x")
        assert exc.value.code == "window_not_found"


@pytest.mark.parametrize("action", ["pause", "close"])
def test_window_with_a_ticket_cannot_pause_or_close(hall, action):
    open_(hall, 1)
    issue(hall)
    call(hall, 1)
    err = conflict("window_busy", do, hall, "set_state", 1, action, actor="sup")
    assert err.details["current"] == "S001"
    do(hall, "finish", 1, actor="clerk")
    assert do(hall, "set_state", 1, action, actor="sup")["state"] in ("paused", "closed")


@pytest.mark.parametrize("state", ["closed", "paused"])
def test_call_next_needs_an_open_window(hall, state):
    issue(hall)
    if state == "paused":
        open_(hall, 1)
        do(hall, "set_state", 1, "pause", actor="sup")
    conflict(f"window_{state}", do, hall, "call_next", 1, actor="clerk")
    assert hall.store.read.execute("SELECT status FROM tickets").fetchone()[0] == "waiting"


def test_window_view_reports_serving(hall):
    open_(hall, 1)
    issue(hall)
    call(hall, 1)
    w = hall.views.window(hall.store.read, 1)
    assert w["state"] == "serving" and w["current"]["number"] == "S001"


# -- clerks -----------------------------------------------------------------------------------------
def test_login_rules(hall):
    w = do(hall, "login", 1, username="clerk1")
    assert w["clerk"] == "clerk1"
    assert do(hall, "login", 1, username="clerk1")["clerk"] == "clerk1"      # again: fine
    err = conflict("window_taken", do, hall, "login", 1, username="clerk2")
    assert err.details["clerk"] == "clerk1"
    hall.store.write_sync(lambda c: (hall.engine.require_clerk(c, 1, "clerk1"), hall.engine.tick(c))[1])
    with pytest.raises(Forbidden) as exc:
        hall.store.write_sync(lambda c: hall.engine.require_clerk(c, 1, "clerk2"))
    assert exc.value.code == "not_your_window" and exc.value.status == 403


def test_clerk_moving_windows_leaves_the_old_one_paused(hall):
    open_(hall, 1)
    do(hall, "login", 1, username="clerk1")
    before = last_seq(hall)
    do(hall, "login", 2, username="clerk1")
    one, two = window_row(hall, 1), window_row(hall, 2)
    assert one["clerk"] is None and one["state"] == "paused" and one["reason"] == "clerk logged out"
    assert two["clerk"] == "clerk1"
    assert [(e["type"], e["window"]) for e in events(hall, before)] == [("window.logout", 1), ("window.login", 2)]
    # window 1 is free for someone else now
    assert do(hall, "login", 1, username="clerk2")["clerk"] == "clerk2"


def test_clerk_with_a_ticket_cannot_move(hall):
    open_(hall, 1)
    do(hall, "login", 1, username="clerk1")
    issue(hall)
    call(hall, 1)
    err = conflict("clerk_busy_elsewhere", do, hall, "login", 2, username="clerk1")
    assert err.details["window"] == 1
    assert window_row(hall, 2)["clerk"] is None and window_row(hall, 1)["clerk"] == "clerk1"


def test_logout(hall):
    open_(hall, 1)
    do(hall, "login", 1, username="clerk1")
    issue(hall)
    call(hall, 1)
    conflict("window_busy", do, hall, "logout", 1, username="clerk1")
    do(hall, "finish", 1, actor="clerk1")
    w = do(hall, "logout", 1, username="clerk1")
    assert w["clerk"] is None and w["state"] == "paused"
    assert events(hall)[-1]["type"] == "window.logout"


def test_closing_a_window_logs_the_clerk_out(hall):
    open_(hall, 1)
    do(hall, "login", 1, username="clerk1")
    do(hall, "set_state", 1, "close", actor="sup")
    assert window_row(hall, 1)["clerk"] is None
    assert do(hall, "login", 1, username="clerk2")["clerk"] == "clerk2"


def test_pause_and_resume_keep_the_clerk(hall):
    open_(hall, 1)
    do(hall, "login", 1, username="clerk1")
    do(hall, "set_state", 1, "pause", actor="clerk1", reason="break")
    do(hall, "set_state", 1, "resume", actor="clerk1")
    assert window_row(hall, 1)["clerk"] == "clerk1" and window_row(hall, 1)["state"] == "open"


# -- events -----------------------------------------------------------------------------------------
def test_each_change_appends_events_in_seq_order(hall):
    start = last_seq(hall)
    steps = [
        (lambda: open_(hall, 1), ["window.opened"]),
        (lambda: issue(hall), ["ticket.issued"]),
        (lambda: issue(hall, "RS-001"), ["ticket.issued"]),
        (lambda: call(hall, 1), ["ticket.called"]),
        (lambda: (hall.clock.advance(seconds=15), do(hall, "recall", 1, actor="c")), ["ticket.recalled"]),
        (lambda: do(hall, "start", 1, actor="c"), ["ticket.serving"]),
        (lambda: call(hall, 1, wait_s=60), ["ticket.finished", "evaluation.prompted", "ticket.called"]),
        (lambda: do(hall, "skip", 1, actor="c"), ["ticket.no_show"]),
        (lambda: do(hall, "login", 1, username="c"), ["window.login"]),
    ]
    seen = start
    for step, types in steps:
        step()
        new = events(hall, seen)
        assert [e["type"] for e in new] == types
        seqs = [e["seq"] for e in new]
        assert seqs == sorted(seqs) and seqs[0] > seen and len(set(seqs)) == len(seqs)
        seen = seqs[-1]
    all_seqs = [e["seq"] for e in events(hall)]
    assert all_seqs == sorted(set(all_seqs))


def test_ticket_called_event_names_window_and_number(hall):
    open_(hall, 3)
    t = issue(hall, "WJ-001")
    call(hall, 3)
    e = events(hall)[-1]
    assert e["type"] == "ticket.called"
    assert e["data"]["number"] == "W001" and e["data"]["window"] == 3
    assert e["data"]["ticket_id"] == t["id"] and e["window"] == 3 and e["ticket_id"] == t["id"]
    assert e["data"]["window_name"] == hall.cfg.window(3).name
    assert e["data"]["matter_name"] == "生育登记"
    # the ticket's history lists its events in order
    assert [h["type"] for h in hall.views.history(hall.store.read, t["id"])] == ["ticket.issued", "ticket.called"]


def test_events_are_append_only(hall):
    issue(hall)
    conn = sqlite3.connect(hall.store.path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE events SET type='x'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM events")
    finally:
        conn.close()
    assert [e["type"] for e in events(hall)] == ["ticket.issued"]
