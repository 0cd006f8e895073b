"""Helpers for the API tests (they run through the `client` fixture of conftest.py)."""
from __future__ import annotations

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


