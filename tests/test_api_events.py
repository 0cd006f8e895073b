"""The event stream: the WebSocket's shape, replay from `since` without gaps or duplicates, and HTTP replay."""
from __future__ import annotations

import re

from api_helpers import (
    COMPLAINT_MATTER,
    HEALTH_MATTER,
    SOCIAL_MATTER,
    assert_error,
    clerk_at,
    issue,
    latest_seq,
    next_event,
)


# -- events --------------------------------------------------------------------------------------
def test_websocket_event_shape_and_ticket_called(client):
    clerk = clerk_at(client, 3)
    t = issue(client)
    since = latest_seq(client)
    with client.websocket_connect(f"/api/v1/events?since={since}") as ws:
        r = client.post("/api/v1/windows/3/call-next", headers=clerk)
        assert r.status_code == 200
        e = next_event(ws)
    assert set(e) == {"seq", "type", "at", "data"}
    assert e["seq"] == since + 1
    assert e["type"] == "ticket.called"
    assert isinstance(e["at"], str) and re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d", e["at"])
    assert e["data"]["number"] == t["number"]
    assert e["data"]["window"] == 3


def test_websocket_replay_then_live_no_gaps_no_duplicates(client, clock):
    clerk = clerk_at(client, 3)
    for _ in range(3):
        issue(client)
    since = latest_seq(client)
    issued_after = [issue(client, SOCIAL_MATTER) for _ in range(3)]
    logged = client.get("/api/v1/events", params={"since": since}).json()["events"]
    assert [e["type"] for e in logged] == ["ticket.issued"] * 3

    got: list[dict] = []
    with client.websocket_connect(f"/api/v1/events?since={since}") as ws:
        for _ in logged:                      # replay: exactly the logged events after `since`, in order
            got.append(next_event(ws))
        assert got == logged
        assert [e["data"]["number"] for e in got] == [t["number"] for t in issued_after]
        # live events
        assert client.post("/api/v1/windows/3/call-next", headers=clerk).status_code == 200
        clock.advance(seconds=3)
        assert client.post("/api/v1/windows/3/call-next", headers=clerk).status_code == 200
        issue(client, COMPLAINT_MATTER)
        live_expected = client.get("/api/v1/events", params={"since": got[-1]["seq"]}).json()["events"]
        assert len(live_expected) >= 4        # called, finished, called, issued
        for _ in live_expected:
            got.append(next_event(ws))
        # one more event: it must come next, so nothing was sent twice in between
        marker = issue(client, COMPLAINT_MATTER)
        last = next_event(ws)
        assert last["type"] == "ticket.issued" and last["data"]["number"] == marker["number"]
        got.append(last)

    seqs = [e["seq"] for e in got]
    assert seqs == list(range(since + 1, since + 1 + len(got))), seqs
    assert got == client.get("/api/v1/events", params={"since": since}).json()["events"]
    types = [e["type"] for e in got]
    assert types.count("ticket.called") == 2


def test_websocket_live_events_during_a_long_replay(client):
    """Events committed while a long replay is being sent arrive once each, in order, after it."""
    from hall_server.store.database import Change

    engine = client.hall.engine

    def many(conn):
        return Change(None, [e for _ in range(1200) for e in engine.issue(conn, matter=HEALTH_MATTER).events])

    client.hall.store.write_sync(many)
    with client.websocket_connect("/api/v1/events?since=0") as ws:
        during = [issue(client, SOCIAL_MATTER) for _ in range(10)]     # while the replay is under way
        final = latest_seq(client)
        got = []
        while not got or got[-1]["seq"] < final:
            e = next_event(ws)
            expected_seq = got[-1]["seq"] + 1 if got else 1
            assert e["seq"] == expected_seq, f"after {expected_seq - 1} came {e['seq']}"
            got.append(e)
        marker = issue(client, COMPLAINT_MATTER)
        last = next_event(ws)
        assert last["seq"] == final + 1 and last["data"]["number"] == marker["number"]
    assert [e["data"]["number"] for e in got[-10:]] == [t["number"] for t in during]


def test_websocket_reconnect_misses_nothing(client):
    """A screen that drops and reconnects with the last seq it saw gets what happened meanwhile."""
    with client.websocket_connect("/api/v1/events") as ws:      # live only
        a = issue(client)
        first = next_event(ws)
        assert first["data"]["number"] == a["number"]
    missed = [issue(client) for _ in range(2)]
    with client.websocket_connect(f"/api/v1/events?since={first['seq']}") as ws:
        got = [next_event(ws), next_event(ws)]
        b = issue(client)
        got.append(next_event(ws))
    assert [e["data"]["number"] for e in got] == [t["number"] for t in (*missed, b)]
    assert [e["seq"] for e in got] == [first["seq"] + 1, first["seq"] + 2, first["seq"] + 3]


def test_events_over_http(client):
    before = latest_seq(client)
    tickets = [issue(client) for _ in range(3)]
    r = client.get("/api/v1/events", params={"since": before})
    assert r.status_code == 200
    body = r.json()
    assert body["latest_seq"] == before + 3
    events = body["events"]
    assert [e["seq"] for e in events] == [before + 1, before + 2, before + 3]
    assert all(set(e) == {"seq", "type", "at", "data"} for e in events)
    assert [e["data"]["number"] for e in events] == [t["number"] for t in tickets]
    r = client.get("/api/v1/events", params={"since": before + 1, "limit": 1})
    assert [e["seq"] for e in r.json()["events"]] == [before + 2]
    assert client.get("/api/v1/events", params={"since": before + 3}).json()["events"] == []
    assert_error(client.get("/api/v1/events", params={"since": -1}), 422)

