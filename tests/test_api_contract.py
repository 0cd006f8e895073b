"""The HTTP surface of design.md ("HTTP surface (stable contract)") and issue 2's "Bad input and faults",
through the `client` fixture (district hall, fake clock).

Window 3 (无差别综合受理 3号) serves health, medins, enterprise, social and hrss; window 4 the same groups
in another order; window 7 only the complaint matters (FY-*).
"""
from __future__ import annotations

import re

import pytest

HEALTH_MATTER = "WJ-001"      # 卫健, prefix W, served by windows 1-5
SOCIAL_MATTER = "SH-001"      # 社会事务, prefix S
COMPLAINT_MATTER = "FY-001"   # only window 7

ERROR_KEYS = {"code", "message_zh", "message_en"}


# -- helpers -------------------------------------------------------------------------------------
def issue(client, matter=HEALTH_MATTER, headers=None, **extra):
    r = client.post("/api/v1/tickets", json={"matter": matter, **extra}, headers=headers or client.admin)
    assert r.status_code == 201, r.text
    return r.json()


def clerk_at(client, number: int, username: str | None = None, open_window: bool = True) -> dict:
    """A clerk logged in to window `number` (opened unless told otherwise); returns the clerk's headers."""
    h = client.make_user(username or f"clerk{number}", "clerk")
    r = client.post(f"/api/v1/windows/{number}/login", headers=h)
    assert r.status_code == 200, r.text
    if open_window:
        r = client.post(f"/api/v1/windows/{number}/open", headers=h)
        assert r.status_code == 200, r.text
    return h


def assert_error(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert ERROR_KEYS <= set(err), err
    assert all(isinstance(err[k], str) and err[k].strip() for k in ERROR_KEYS), err
    if code is not None:
        assert err["code"] == code, err
    return err


def latest_seq(client) -> int:
    r = client.get("/api/v1/events", params={"since": 0, "limit": 1})
    assert r.status_code == 200
    return r.json()["latest_seq"]


def next_event(ws) -> dict:
    """The next real event. A heartbeat (sent after 10 quiet seconds) means the event we wait for never
    came, so it fails the test instead of blocking forever."""
    msg = ws.receive_json()
    assert msg["type"] != "heartbeat", f"expected an event, the stream went quiet: {msg}"
    return msg


# -- GET /api/v1/hall ----------------------------------------------------------------------------
def test_hall_lists_matters_and_windows(client, district_cfg):
    r = client.get("/api/v1/hall")
    assert r.status_code == 200
    body = r.json()
    matters = body["matters"]
    assert len(matters) == len(district_cfg.matters) >= 40
    for m in matters:
        assert isinstance(m["code"], str) and m["code"]
        assert isinstance(m["name"], str) and m["name"]
        assert isinstance(m["prefix"], str) and len(m["prefix"]) >= 1
    codes = [m["code"] for m in matters]
    assert len(set(codes)) == len(codes)
    assert {"城乡居民基本养老保险参保登记", "老年证办理"} & {m["name"] for m in matters}
    numbers = [w["number"] for w in body["windows"]]
    assert numbers == list(range(1, 23))
    assert all(isinstance(n, int) for n in numbers)


# -- tickets -------------------------------------------------------------------------------------
def test_issue_ticket_returns_201_with_contract_fields(client, district_cfg):
    prefix = district_cfg.matter(HEALTH_MATTER).prefix
    first = issue(client)
    for key in ("id", "number", "matter", "status", "waiting_ahead", "estimated_wait_s"):
        assert key in first, key
    assert isinstance(first["id"], int)
    assert first["number"] == f"{prefix}001"
    assert first["matter"] == HEALTH_MATTER
    assert first["status"] == "waiting"
    assert first["waiting_ahead"] == 0
    assert isinstance(first["estimated_wait_s"], int) and first["estimated_wait_s"] >= 0

    second = issue(client)
    assert second["id"] != first["id"]
    assert second["number"] == f"{prefix}002"
    assert second["waiting_ahead"] == 1
    assert second["estimated_wait_s"] > first["estimated_wait_s"]


def test_get_ticket_by_id(client):
    t = issue(client)
    r = client.get(f"/api/v1/tickets/{t['id']}")
    assert r.status_code == 200
    got = r.json()
    for key in ("id", "number", "matter", "status"):
        assert got[key] == t[key]
    err = assert_error(client.get("/api/v1/tickets/999999"), 404, "ticket_not_found")
    assert "999999" in err["message_en"] and "999999" in err["message_zh"]


# -- window actions ------------------------------------------------------------------------------
def test_call_next_200_with_ticket_then_204_when_nothing_waits(client, clock):
    clerk = clerk_at(client, 3)
    t = issue(client)
    r = client.post("/api/v1/windows/3/call-next", headers=clerk)
    assert r.status_code == 200, r.text
    called = r.json()
    assert called["id"] == t["id"] and called["number"] == t["number"]
    assert called["status"] == "called" and called["window"] == 3

    clock.advance(seconds=5)
    r = client.post("/api/v1/windows/3/call-next", headers=clerk)
    assert r.status_code == 204, r.text
    assert r.content == b""
    # calling the next one finished the previous ticket
    assert client.get(f"/api/v1/tickets/{t['id']}").json()["status"] == "done"


def test_call_next_twice_within_debounce_is_refused(client, clock):
    clerk = clerk_at(client, 3)
    first, second = issue(client), issue(client)
    assert client.post("/api/v1/windows/3/call-next", headers=clerk).json()["id"] == first["id"]
    err = assert_error(client.post("/api/v1/windows/3/call-next", headers=clerk), 409, "just_called")
    assert first["number"] in err["message_en"]
    clock.advance(seconds=3)
    assert client.post("/api/v1/windows/3/call-next", headers=clerk).json()["id"] == second["id"]


def test_recall_start_finish(client, clock):
    clerk = clerk_at(client, 3)
    t = issue(client)
    client.post("/api/v1/windows/3/call-next", headers=clerk)
    assert_error(client.post("/api/v1/windows/3/recall", headers=clerk), 409, "recall_too_soon")
    clock.advance(seconds=16)
    r = client.post("/api/v1/windows/3/recall", headers=clerk)
    assert r.status_code == 200, r.text
    assert r.json()["recalls"] == 1 and r.json()["status"] == "called"

    r = client.post("/api/v1/windows/3/start", headers=clerk)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "serving"
    assert_error(client.post("/api/v1/windows/3/recall", headers=clerk), 409)   # serving: no recall

    clock.advance(minutes=5)
    r = client.post("/api/v1/windows/3/finish", headers=clerk)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == t["id"] and r.json()["status"] == "done"
    w = client.get("/api/v1/windows/3").json()
    assert w["current"] is None and w["state"] == "open"
    assert_error(client.post("/api/v1/windows/3/finish", headers=clerk), 409, "no_current_ticket")


def test_recall_limit_makes_a_no_show(client, clock, district_cfg):
    clerk = clerk_at(client, 3)
    issue(client)
    client.post("/api/v1/windows/3/call-next", headers=clerk)
    for n in range(1, district_cfg.queue.recall_limit + 1):
        clock.advance(seconds=district_cfg.queue.recall_cooldown_s + 1)
        r = client.post("/api/v1/windows/3/recall", headers=clerk)
        assert r.status_code == 200 and r.json()["recalls"] == n, r.text
    clock.advance(seconds=district_cfg.queue.recall_cooldown_s + 1)
    r = client.post("/api/v1/windows/3/recall", headers=clerk)
    assert r.status_code == 200 and r.json()["status"] == "no_show", r.text
    assert client.get("/api/v1/windows/3").json()["current"] is None


def test_skip_then_requeue(client, clock):
    clerk = clerk_at(client, 3)
    t = issue(client)
    client.post("/api/v1/windows/3/call-next", headers=clerk)
    r = client.post("/api/v1/windows/3/skip", headers=clerk)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "no_show"
    assert_error(client.post("/api/v1/windows/3/skip", headers=clerk), 409, "no_current_ticket")
    r = client.post(f"/api/v1/tickets/{t['id']}/requeue", headers=clerk)
    assert r.status_code == 200 and r.json()["status"] == "waiting", r.text
    assert_error(client.post(f"/api/v1/tickets/{t['id']}/requeue", headers=clerk), 409, "not_a_no_show")


def test_transfer_to_another_window(client, clock):
    clerk3 = clerk_at(client, 3)
    clerk4 = clerk_at(client, 4)
    t = issue(client, SOCIAL_MATTER)
    later = issue(client, SOCIAL_MATTER)
    client.post("/api/v1/windows/3/call-next", headers=clerk3)
    r = client.post("/api/v1/windows/3/transfer", json={"to_window": 4, "reason": "需要医保窗口"}, headers=clerk3)
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["id"] == t["id"] and moved["status"] == "waiting" and moved["target_window"] == 4
    assert client.get("/api/v1/windows/3").json()["current"] is None
    # Window 4 gets the transferred ticket before the one that waited in line all along.
    r = client.post("/api/v1/windows/4/call-next", headers=clerk4)
    assert r.status_code == 200 and r.json()["id"] == t["id"], r.text
    clock.advance(seconds=3)
    r = client.post("/api/v1/windows/3/call-next", headers=clerk3)
    assert r.status_code == 200 and r.json()["id"] == later["id"], r.text
    assert_error(client.post("/api/v1/windows/3/transfer", json={"to_window": 3}, headers=clerk3), 409,
                 "transfer_to_self")


def test_pause_resume_close_open(client, clock):
    clerk = clerk_at(client, 3)
    window = lambda: client.get("/api/v1/windows/3").json()  # noqa: E731
    assert window()["state"] == "open"
    r = client.post("/api/v1/windows/3/pause", json={"reason": "午休"}, headers=clerk)
    assert r.status_code == 200, r.text
    assert window()["state"] == "paused" and window()["reason"] == "午休"
    assert_error(client.post("/api/v1/windows/3/call-next", headers=clerk), 409, "window_paused")
    assert_error(client.post("/api/v1/windows/3/pause", headers=clerk), 409)
    assert client.post("/api/v1/windows/3/resume", headers=clerk).status_code == 200
    assert window()["state"] == "open"
    assert_error(client.post("/api/v1/windows/3/open", headers=clerk), 409, "window_open")

    issue(client)
    client.post("/api/v1/windows/3/call-next", headers=clerk)
    err = assert_error(client.post("/api/v1/windows/3/close", headers=clerk), 409, "window_busy")
    assert "finish" in err["message_en"]
    client.post("/api/v1/windows/3/finish", headers=clerk)
    assert client.post("/api/v1/windows/3/close", json={"reason": "下班"}, headers=clerk).status_code == 200
    assert window()["state"] == "closed" and window()["clerk"] is None
    # closing logged the clerk out: they must log in again before opening
    assert_error(client.post("/api/v1/windows/3/open", headers=clerk), 403, "not_your_window")
    assert client.post("/api/v1/windows/3/login", headers=clerk).status_code == 200
    assert client.post("/api/v1/windows/3/open", headers=clerk).status_code == 200
    assert window()["state"] == "open"


def test_clerk_login_logout(client):
    clerk = clerk_at(client, 3, open_window=False)
    me = client.get("/api/v1/auth/me", headers=clerk).json()
    assert me["window"] == 3 and me["role"] == "clerk"
    other = client.make_user("other", "clerk")
    assert_error(client.post("/api/v1/windows/3/login", headers=other), 409, "window_taken")
    r = client.post("/api/v1/windows/3/logout", headers=clerk)
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/windows/3").json()["clerk"] is None
    assert client.post("/api/v1/windows/3/login", headers=other).status_code == 200


# -- OpenAPI -------------------------------------------------------------------------------------
def test_openapi_lists_the_contract_paths(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    expected = {
        "/api/v1/hall": "get", "/api/v1/tickets": "post", "/api/v1/tickets/{ticket_id}": "get",
        "/api/v1/events": "get", "/api/v1/health": "get",
        "/api/v1/auth/login": "post", "/api/v1/auth/logout": "post",
    }
    for action in ("call-next", "recall", "skip", "finish", "transfer", "pause", "resume", "open", "close",
                   "login", "logout", "start"):
        expected[f"/api/v1/windows/{{number}}/{action}"] = "post"
    for path, method in expected.items():
        assert path in paths, f"{path} missing from the OpenAPI document"
        assert method in paths[path], f"{method.upper()} {path} missing from the OpenAPI document"
    assert "204" in paths["/api/v1/windows/{number}/call-next"]["post"]["responses"]
    assert "201" in paths["/api/v1/tickets"]["post"]["responses"]


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
    from hall_server.store import Change

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


def test_health(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert isinstance(body["devices"], list)


# -- bad input -----------------------------------------------------------------------------------
def test_unknown_matter_is_404_naming_it(client):
    err = assert_error(client.post("/api/v1/tickets", json={"matter": "NO-SUCH-9"}, headers=client.admin), 404,
                       "matter_not_found")
    assert "NO-SUCH-9" in err["message_en"] and "NO-SUCH-9" in err["message_zh"]


@pytest.mark.parametrize("action", ["call-next", "recall", "skip", "finish", "pause", "resume", "open", "close",
                                    "start"])
def test_unknown_window_is_404(client, action):
    err = assert_error(client.post(f"/api/v1/windows/99/{action}", headers=client.admin), 404, "window_not_found")
    assert "99" in err["message_en"] and "99" in err["message_zh"]


HUGE = 10**23          # beyond SQLite's 64-bit integers


def test_absurd_window_numbers_and_ticket_ids_are_404_not_500(client):
    for action in ("call-next", "open", "login"):
        err = assert_error(client.post(f"/api/v1/windows/{HUGE}/{action}", headers=client.admin), 404,
                           "window_not_found")
        assert str(HUGE) in err["message_en"]
    assert_error(client.get(f"/api/v1/tickets/{HUGE}"), 404, "ticket_not_found")
    assert_error(client.get(f"/api/v1/tickets/{HUGE}/history", headers=client.admin), 404, "ticket_not_found")
    for action in ("cancel", "requeue"):
        assert_error(client.post(f"/api/v1/tickets/{HUGE}/{action}", headers=client.admin), 404, "ticket_not_found")
    err = assert_error(client.get("/api/v1/events", params={"since": HUGE}), 422, "invalid_request")
    assert "since" in err["message_en"]


def test_unknown_window_get_and_transfer_target(client):
    err = assert_error(client.get("/api/v1/windows/99"), 404, "window_not_found")
    assert "99" in err["message_en"]
    clerk = clerk_at(client, 3)
    issue(client)
    client.post("/api/v1/windows/3/call-next", headers=clerk)
    err = assert_error(client.post("/api/v1/windows/3/transfer", json={"to_window": 99}, headers=clerk), 404,
                       "window_not_found")
    assert "99" in err["message_en"]
    err = assert_error(client.post("/api/v1/windows/3/transfer", json={"to_matter": "XX-404"}, headers=clerk), 404,
                       "matter_not_found")
    assert "XX-404" in err["message_en"]


def test_state_conflicts_are_409_saying_why(client):
    clerk = clerk_at(client, 3, open_window=False)
    issue(client)
    err = assert_error(client.post("/api/v1/windows/3/call-next", headers=clerk), 409, "window_closed")
    assert "closed" in err["message_en"] and "open it first" in err["message_en"]
    err = assert_error(client.post("/api/v1/windows/3/resume", headers=clerk), 409)
    assert "closed" in err["message_en"]
    client.post("/api/v1/windows/3/open", headers=clerk)
    err = assert_error(client.post("/api/v1/windows/3/skip", headers=clerk), 409, "no_current_ticket")
    assert "no current ticket" in err["message_en"]
    t = client.post("/api/v1/windows/3/call-next", headers=clerk).json()
    err = assert_error(client.post(f"/api/v1/tickets/{t['id']}/cancel", headers=client.admin), 409,
                       "ticket_not_cancellable")
    assert "called" in err["message_en"]


def test_clerk_acting_on_another_window_is_403(client):
    clerk_at(client, 3)
    clerk4 = clerk_at(client, 4)
    issue(client)
    for action in ("call-next", "pause", "close", "finish"):
        err = assert_error(client.post(f"/api/v1/windows/3/{action}", headers=clerk4), 403, "not_your_window")
        assert "3" in err["message_en"]
    assert client.get("/api/v1/windows/3").json()["state"] == "open"   # nothing happened


@pytest.mark.parametrize("content, field", [
    ('{"matter": "WJ-001"', "body"),                        # broken JSON
    ('{"matter": }', "body"),
    ("{}", "matter"),                                       # missing field
    ('{"matter": 5}', "matter"),                            # wrong type
    ('{"matter": ["WJ-001"]}', "matter"),
    ('{"matter": "WJ-001", "priority": "vip"}', "priority"),  # not one of the allowed values
    ('{"matter": "WJ-001", "colour": "red"}', "colour"),    # unknown field
])
def test_malformed_ticket_request_is_422_naming_the_field(client, content, field):
    r = client.post("/api/v1/tickets", content=content,
                    headers={**client.admin, "content-type": "application/json"})
    err = assert_error(r, 422, "invalid_request")
    assert field in err["message_en"], err
    assert field in err["message_zh"], err
    assert any(p["field"] == field for p in err["fields"]), err


def test_malformed_window_and_login_requests_are_422(client):
    clerk = clerk_at(client, 3)
    err = assert_error(client.post("/api/v1/windows/3/transfer", json={"to_window": "four"}, headers=clerk), 422)
    assert "to_window" in err["message_en"]
    err = assert_error(client.post("/api/v1/windows/3/pause", json={"why": "lunch"}, headers=clerk), 422)
    assert "why" in err["message_en"]
    err = assert_error(client.post("/api/v1/auth/login", json={"username": "admin"}), 422)
    assert "password" in err["message_en"]


def test_every_error_has_the_error_envelope(client):
    """A sample of every kind of failure, including the framework's own (unknown path, wrong method)."""
    kiosk = client.make_user("kiosk1", "kiosk")
    responses = [
        client.get("/api/v1/no-such-thing"),
        client.delete("/api/v1/hall"),
        client.get("/api/v1/tickets/abc"),
        client.post("/api/v1/tickets", json={"matter": "WJ-001"}),
        client.post("/api/v1/tickets", json={"matter": "WJ-001"}, headers={"Authorization": "Bearer nope"}),
        client.post("/api/v1/windows/3/call-next", headers=kiosk),
        client.post("/api/v1/windows/3/call-next", headers=client.admin),
        client.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong"}),
    ]
    assert [r.status_code for r in responses] == [404, 405, 422, 401, 401, 403, 409, 401]
    for r in responses:
        assert_error(r, r.status_code)


# -- pages ---------------------------------------------------------------------------------------
def test_landing_page_lists_hall_windows_matters_and_links_docs(client, district_cfg):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert district_cfg.hall.name in html
    for w in district_cfg.windows:
        assert w.name in html, w.name
    for m in district_cfg.matters:
        assert m.name in html, m.name
        assert m.code in html, m.code
    assert 'href="/api/docs"' in html


EXTERNAL = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)
ASSET = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)


@pytest.mark.parametrize("path", ["/", "/api/docs"])
def test_pages_render_offline(client, path):
    r = client.get(path)
    assert r.status_code == 200
    html = r.text
    assert not EXTERNAL.search(html), EXTERNAL.search(html).group(0)
    assert "cdn" not in html.lower()
    for asset in ASSET.findall(html):           # every asset the page loads is served by the hall
        assert client.get(asset).status_code == 200, asset


def test_api_docs_lists_the_endpoints(client):
    html = client.get("/api/docs").text
    for path in ("/api/v1/tickets", "/api/v1/windows/{number}/call-next", "/api/v1/hall", "/api/v1/health"):
        assert path in html, path
