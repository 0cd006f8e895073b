"""Every public page of the hall server passes axe-core without serious or critical violations (issue 6).

The kiosk, the window terminal and the dashboard check themselves in their own tests; this covers the rest:
the hall's index page, a ticket's status page (what the receipt's QR code opens), a case's status page (what
a notice's QR code opens), the hall's calling screen and a window's screen.
"""
from __future__ import annotations

import pytest
from kiosk_helpers import hall_config
from pages import chromium, expect, serious_axe_problems
from serverproc import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("a11y")
    srv = ServerProcess(tmp / "data", config=hall_config(tmp))
    srv.start()
    http = srv.client(headers=srv.admin())
    srv.ticket = http.post("/api/v1/tickets", json={"matter": "SH-001"}).raise_for_status().json()
    http.post("/api/v1/windows/3/open").raise_for_status()
    http.post("/api/v1/windows/3/call-next").raise_for_status()
    srv.case = http.post("/api/v1/cases", json={"matter": "SH-003", "applicant": {"name": "张三"}, "materials": [
        {"name": "居民身份证原件", "state": "original"}]}).raise_for_status().json()
    http.post(f"/api/v1/cases/{srv.case['id']}/request-supplement",
              json={"missing": ["临时救助申请书"]}).raise_for_status()
    yield srv
    srv.kill()          # the screens' WebSockets would hold a graceful stop


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


# What each page shows once it is complete: axe-core checks that, not the page's first paint.
def _server_rendered(page):
    expect(page.get_by_test_id("hall-name")).to_be_visible()


def _ticket_state(page):
    expect(page.get_by_test_id("ticket-state")).to_contain_text("请到 3 号窗口办理")


def _live_screen(page):
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "connected")


def _case_state(page):
    expect(page.get_by_test_id("case-missing")).to_contain_text("临时救助申请书")


READY = {"/": _server_rendered, "/t/{id}": _ticket_state, "/c/{code}": _case_state, "/screen?audio=0": _live_screen,
         "/screen/window/3?audio=0": _live_screen}


@pytest.mark.parametrize("path", list(READY))
def test_the_page_has_no_serious_accessibility_faults(browser, hall, path):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = ctx.new_page()
    r = page.goto(hall.url + path.format(id=hall.ticket["id"], code=hall.case["query_code"]))
    assert r.status == 200
    READY[path](page)
    problems = serious_axe_problems(page)
    ctx.close()
    assert problems == []


def test_the_ticket_page_updates_itself_without_reloading(browser, hall):
    http = hall.client(headers=hall.admin())
    t = http.post("/api/v1/tickets", json={"matter": "SH-001"}).raise_for_status().json()
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)       # a phone
    page = ctx.new_page()
    page.goto(f"{hall.url}/t/{t['id']}?every=2")
    expect(page.get_by_test_id("ticket-state")).to_contain_text("等候中")
    page.evaluate("window.notReloaded = true")
    http.post("/api/v1/windows/3/finish").raise_for_status()
    assert http.post("/api/v1/windows/3/call-next").json()["id"] == t["id"]
    expect(page.get_by_test_id("ticket-state")).to_contain_text("请到 3 号窗口办理")
    assert page.evaluate("window.notReloaded") is True
    expect(page.get_by_test_id("ticket-status")).to_have_attribute("data-live", "yes")
    http.post("/api/v1/windows/3/skip").raise_for_status()
    expect(page.get_by_test_id("ticket-state")).to_contain_text("已过号")
    expect(page.get_by_test_id("ticket-status")).to_have_attribute("data-live", "no")
    ctx.close()
