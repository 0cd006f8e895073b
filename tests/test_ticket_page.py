"""The ticket status page a receipt's QR code opens, and the supervisors' alerts list."""
from __future__ import annotations

from api_helpers import clerk_at, issue


def test_status_page_follows_the_ticket(client, clock):
    first = issue(client)
    second = issue(client)
    page = client.get(f"/t/{second['id']}")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert second["number"] in page.text and second["matter_name"] in page.text
    assert "前面还有" in page.text and 'data-test-id="waiting-ahead">1<' in page.text
    assert 'data-live="yes"' in page.text and "/static/ticket_status.js" in page.text     # it updates itself

    clerk = clerk_at(client, 3)
    assert client.post("/api/v1/windows/3/call-next", headers=clerk).json()["id"] == first["id"]
    assert "请到 3 号窗口办理" in client.get(f"/t/{first['id']}").text
    clock.advance(seconds=3)
    client.post("/api/v1/windows/3/skip", headers=clerk)
    assert "已过号" in client.get(f"/t/{first['id']}").text
    assert 'data-live="no"' in client.get(f"/t/{first['id']}").text          # a missed ticket stops updating


def test_status_page_of_an_unknown_ticket_is_404(client):
    r = client.get("/t/999999")
    assert r.status_code == 404 and r.json()["error"]["code"] == "ticket_not_found"


def test_alerts_list_is_empty_in_a_quiet_hall(client):
    assert client.get("/api/v1/alerts").json() == {"devices": [], "alerts": []}
