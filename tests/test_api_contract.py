"""The HTTP surface of design.md ("HTTP surface (stable contract)") and issue 2's "Bad input and faults",
through the `client` fixture (district hall, fake clock).

Window 3 (无差别综合受理 3号) serves health, medins, enterprise, social and hrss; window 4 the same groups
in another order; window 7 only the complaint matters (FY-*).
"""
from __future__ import annotations

from api_helpers import (
    HEALTH_MATTER,
    SOCIAL_MATTER,
    assert_error,
    clerk_at,
    issue,
)


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


def test_health(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert isinstance(body["devices"], list)

