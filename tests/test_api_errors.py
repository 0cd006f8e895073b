"""Issue 2's "Bad input and faults" over HTTP, and the pages: every error has the JSON envelope."""
from __future__ import annotations

import re

import pytest
from api_helpers import (
    assert_error,
    clerk_at,
    issue,
)


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
