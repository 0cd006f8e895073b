"""The supervisor's dashboard /dashboard in headless Chromium against a real server process (issue 6, item 5).

A supervisor logs in on the page; calls made through the API show within a second; pausing a window,
moving and cancelling a waiting ticket from the page reach the API; a simulated paper-out shows as an
alert and a device in fault; the page reconnects after a restart; axe-core finds nothing serious.
With ONEWINDOW_SCREENSHOTS=1 the last test writes docs/screenshots/dashboard-1920x1080.png.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from pages import chromium, expect, serious_axe_problems
from serverproc import DISTRICT, HTTP, ServerProcess

pytestmark = pytest.mark.slow
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SUPERVISOR = ("dashsup", "dashsup-password")
# What a page may log: a failed API call (its error is shown on the page), failed reconnects while down.
API_ERROR = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")
OUTAGE = re.compile(r"WebSocket connection to .* failed|Failed to load resource: net::ERR_")


def dashboard_config(tmp: Path) -> Path:
    """The district hall with only the kiosk's simulated printer (so device health shows, and starting is
    quick), and no recall cool-down or call debounce (tests call quickly)."""
    text = DISTRICT.read_text()
    blocks = re.split(r"(?m)^(?=\[\[devices\]\]\s*$)", text)
    text = blocks[0] + "".join(b for b in blocks[1:] if re.search(r'(?m)^name = "kiosk1-printer"', b))
    text = re.sub(r"(?m)^(recall_cooldown_s|call_debounce_s)\s*=.*$", r"\1 = 0", text)
    path = tmp / "dashboard-hall.toml"
    path.write_text(text)
    return path


class Hall:
    """The API calls a test makes, as admin (windows without a clerk) or as the supervisor."""

    def __init__(self, srv: ServerProcess):
        self.srv = srv
        self.admin = srv.admin()
        r = HTTP.post(srv.url + "/api/v1/users", headers=self.admin, timeout=30,
                       json={"username": SUPERVISOR[0], "password": SUPERVISOR[1], "role": "supervisor"})
        assert r.status_code == 201, r.text

    def get(self, path: str) -> dict:
        r = HTTP.get(self.srv.url + path, headers=self.admin)
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path: str, **body) -> httpx.Response:
        r = HTTP.post(self.srv.url + path, headers=self.admin, json=body or None)
        assert r.status_code in (200, 201, 204), (path, r.status_code, r.text)
        return r

    def issue(self, matter: str = "SH-001", **extra) -> dict:
        return self.post("/api/v1/tickets", matter=matter, **extra).json()

    def open(self, window: int) -> None:
        if self.get(f"/api/v1/windows/{window}")["state"] == "closed":
            self.post(f"/api/v1/windows/{window}/open")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dashboard")
    srv = ServerProcess(tmp / "data", config=dashboard_config(tmp), keep_port=True)
    srv.start()
    yield srv
    srv.kill()      # stop() would wait for the WebSockets' next heartbeat (~10 s)


@pytest.fixture(scope="module")
def hall(server):
    return Hall(server)


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


class Watch:
    """What the page logs and asks for: no errors but those a test allows, no host but the hall server."""

    def __init__(self, page, srv: ServerProcess):
        self.host = urlsplit(srv.url).netloc
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.allow: list[re.Pattern] = []
        page.on("console", lambda m: m.type == "error" and not any(a.search(m.text) for a in self.allow)
                and self.errors.append(m.text))
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("request", lambda req: self._asked(req.url))
        page.on("websocket", lambda ws: self._asked(ws.url))

    def _asked(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("blob", "data") and parts.netloc != self.host:
            self.foreign.append(url)


@pytest.fixture
def page(browser, server, hall):
    """The dashboard, logged in as the supervisor through its own form, live."""
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = ctx.new_page()
    pg.watch = Watch(pg, server)
    pg.goto(server.url + "/dashboard")
    login(pg, *SUPERVISOR)
    expect(pg.get_by_test_id("board")).to_be_visible()
    expect(pg.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
    expect(pg.get_by_test_id("window-row-3")).to_be_visible()          # the snapshot is drawn, not just the frame
    yield pg
    ctx.close()
    assert not pg.watch.errors, f"the page logged errors: {pg.watch.errors}"
    assert not pg.watch.foreign, f"the page asked other hosts: {pg.watch.foreign}"


def login(pg, username: str, password: str) -> None:
    pg.get_by_test_id("login-username").fill(username)
    pg.get_by_test_id("login-password").fill(password)
    pg.get_by_test_id("login-submit").click()




# -- tests ----------------------------------------------------------------------------------------
def test_the_page_asks_for_a_supervisor_and_keeps_the_session(browser, server, hall):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = ctx.new_page()
    pg.watch = Watch(pg, server)
    pg.watch.allow.append(API_ERROR)
    pg.goto(server.url + "/dashboard")
    expect(pg.get_by_test_id("login-panel")).to_be_visible()
    expect(pg.get_by_test_id("board")).to_be_hidden()
    login(pg, SUPERVISOR[0], "wrong-password")
    expect(pg.get_by_test_id("error")).to_be_visible()
    assert pg.get_by_test_id("error-zh").text_content().strip()
    assert pg.get_by_test_id("error-en").text_content().strip()
    expect(pg.get_by_test_id("board")).to_be_hidden()
    login(pg, *SUPERVISOR)
    expect(pg.get_by_test_id("error")).to_be_hidden()
    expect(pg.get_by_test_id("user")).to_contain_text(SUPERVISOR[0])
    expect(pg.get_by_test_id("window-row-1")).to_be_visible()
    assert pg.evaluate("sessionStorage.getItem('onewindow.dashboard.token')")
    pg.reload()                                          # the token is kept for the tab's session
    expect(pg.get_by_test_id("window-row-1")).to_be_visible()
    expect(pg.get_by_test_id("login-panel")).to_be_hidden()
    pg.get_by_test_id("logout").click()
    expect(pg.get_by_test_id("login-panel")).to_be_visible()
    assert pg.evaluate("sessionStorage.getItem('onewindow.dashboard.token')") is None
    ctx.close()
    assert not pg.watch.errors and not pg.watch.foreign, (pg.watch.errors, pg.watch.foreign)


def test_a_clerk_is_refused(browser, server, hall):
    r = HTTP.post(server.url + "/api/v1/users", headers=hall.admin, timeout=30,
                   json={"username": "dashclerk", "password": "dashclerk-password", "role": "clerk"})
    assert r.status_code == 201, r.text
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = ctx.new_page()
    pg.goto(server.url + "/dashboard")
    login(pg, "dashclerk", "dashclerk-password")
    expect(pg.get_by_test_id("error-code")).to_have_text("role_forbidden")
    expect(pg.get_by_test_id("error-en")).to_contain_text("supervisor or admin")
    expect(pg.get_by_test_id("login-panel")).to_be_visible()
    expect(pg.get_by_test_id("board")).to_be_hidden()
    assert pg.evaluate("sessionStorage.getItem('onewindow.dashboard.token')") is None
    ctx.close()


def test_an_issued_and_called_ticket_shows_and_goes(page, hall):
    served = int(page.get_by_test_id("window-served-3").text_content())
    waiting = int(page.get_by_test_id("queue-waiting-social").text_content())
    total = int(page.get_by_test_id("total-waiting").text_content())
    hall.open(3)
    expect(page.get_by_test_id("window-row-3")).to_have_attribute("data-state", "open")
    ticket = hall.issue("SH-001")
    expect(page.get_by_test_id("queue-waiting-social")).to_have_text(str(waiting + 1))
    expect(page.get_by_test_id("queue-waiting-SH-001")).to_be_visible()
    expect(page.get_by_test_id("total-waiting")).to_have_text(str(total + 1))
    expect(page.get_by_test_id(f"ticket-row-{ticket['id']}")).to_be_visible()

    called = hall.post("/api/v1/windows/3/call-next").json()
    assert called["id"] == ticket["id"]
    expect(page.get_by_test_id("window-current-3")).to_contain_text(ticket["number"])
    expect(page.get_by_test_id("window-row-3")).to_have_attribute("data-state", "serving")
    expect(page.get_by_test_id("queue-waiting-social")).to_have_text(str(waiting))
    expect(page.get_by_test_id(f"ticket-row-{ticket['id']}")).to_have_count(0)
    hall.post("/api/v1/windows/3/finish")
    expect(page.get_by_test_id("window-served-3")).to_have_text(str(served + 1))
    expect(page.get_by_test_id("window-row-3")).to_have_attribute("data-state", "open")


def test_pausing_window_3_with_a_reason_reaches_the_api(page, hall):
    hall.open(3)
    expect(page.get_by_test_id("window-pause-3")).to_be_visible()
    page.get_by_test_id("window-pause-3").click()
    expect(page.get_by_test_id("window-dialog")).to_be_visible()
    page.get_by_test_id("window-dialog-reason").fill("会议")
    page.get_by_test_id("window-dialog-confirm").click()
    expect(page.get_by_test_id("window-row-3")).to_have_attribute("data-state", "paused")
    expect(page.get_by_test_id("window-reason-3")).to_have_text("会议")
    w = hall.get("/api/v1/windows/3")
    assert (w["state"], w["reason"]) == ("paused", "会议")
    history = hall.get("/api/v1/events?since=0&limit=5000")["events"]
    assert any(e["type"] == "window.paused" and e["data"].get("window") == 3 for e in history)
    page.get_by_test_id("window-resume-3").click()
    expect(page.get_by_test_id("window-row-3")).to_have_attribute("data-state", "open")
    assert hall.get("/api/v1/windows/3")["state"] == "open"


def test_a_waiting_ticket_is_moved_to_window_13_and_another_cancelled(page, hall):
    page.watch.allow.append(API_ERROR)
    moved, dropped = hall.issue("SH-001"), hall.issue("RS-001")
    row = page.get_by_test_id(f"ticket-row-{moved['id']}")
    expect(row).to_be_visible()

    page.get_by_test_id(f"ticket-move-{moved['id']}").click()     # no target: the API's error, as it is
    page.get_by_test_id("move-confirm").click()
    expect(page.get_by_test_id("error-code")).to_have_text("transfer_target_missing")
    expect(page.get_by_test_id("error-zh")).to_have_text("请指定转移到的事项或窗口")
    expect(page.get_by_test_id("error-en")).to_contain_text("to_window")

    page.get_by_test_id(f"ticket-move-{moved['id']}").click()
    expect(page.get_by_test_id("move-number")).to_have_text(moved["number"])
    page.get_by_test_id("move-window").select_option("13")
    page.get_by_test_id("move-reason").fill("需公安专区办理")
    page.get_by_test_id("move-confirm").click()
    expect(page.get_by_test_id("error")).to_be_hidden()
    expect(page.get_by_test_id(f"ticket-target-{moved['id']}")).to_contain_text("13")
    t = hall.get(f"/api/v1/tickets/{moved['id']}")
    assert (t["status"], t["target_window"], t["transfers"]) == ("waiting", 13, 1)

    page.get_by_test_id(f"ticket-cancel-{dropped['id']}").click()
    page.get_by_test_id("cancel-reason").fill("重复取号")
    page.get_by_test_id("cancel-confirm").click()
    expect(page.get_by_test_id(f"ticket-row-{dropped['id']}")).to_have_count(0)
    assert hall.get(f"/api/v1/tickets/{dropped['id']}")["status"] == "cancelled"
    hall.post(f"/api/v1/tickets/{moved['id']}/cancel")           # leave nothing waiting for the next tests


def test_paper_out_shows_as_an_alert_and_a_device_in_fault(page, hall):
    expect(page.get_by_test_id("device-kiosk1-printer")).to_have_attribute("data-state", "ok")
    expect(page.get_by_test_id("device-announcer")).to_be_visible()
    hall.post("/api/v1/devices/kiosk1-printer/simulate", paper="out")
    ticket = None
    try:
        ticket = hall.issue("SH-001", kiosk="kiosk1")
        assert ticket["print"]["ok"] is False, ticket
        alert = page.locator('[data-test-id^="alert-"][data-kind="print_failed"]').first
        expect(alert).to_contain_text(ticket["number"])
        expect(alert).to_contain_text("kiosk1-printer")
        # the device's supervisor polls every 5 s; its device.health event refreshes the page
        expect(page.get_by_test_id("device-kiosk1-printer")).to_have_attribute("data-state", "fault")
        expect(page.get_by_test_id("alert-device-kiosk1-printer")).to_contain_text("paper")
        assert page.get_by_test_id("alerts").locator("li").first.get_attribute("data-kind") == "device"
    finally:
        hall.post("/api/v1/devices/kiosk1-printer/simulate", paper="ok")
        if ticket:
            hall.post(f"/api/v1/tickets/{ticket['id']}/cancel")
    expect(page.get_by_test_id("device-kiosk1-printer")).to_have_attribute("data-state", "ok")


def test_a_queue_waiting_over_30_minutes_is_highlighted(browser, server, hall):
    """The server's clock is real, so the snapshot is aged on its way to the page."""
    ticket = hall.issue("SH-001")

    def aged(route):
        snap = route.fetch().json()
        for g in snap["groups"]:
            if g["code"] == "social":
                g["longest_wait_s"] = 2400
                for m in g["matters"]:
                    m["longest_wait_s"] = 2400
        for t in snap["tickets"]:
            t["wait_s"] = 2400
        route.fulfill(json=snap)

    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = ctx.new_page()
    pg.route("**/api/v1/dashboard", aged)
    pg.goto(server.url + "/dashboard")
    login(pg, *SUPERVISOR)
    expect(pg.get_by_test_id("queue-group-social")).to_have_attribute("data-long", "true")
    expect(pg.get_by_test_id("queue-longest-social")).to_have_text("40 分")
    expect(pg.get_by_test_id("queue-matter-SH-001")).to_have_attribute("data-long", "true")
    expect(pg.get_by_test_id("queue-group-health")).to_have_attribute("data-long", "false")
    expect(pg.get_by_test_id(f"ticket-row-{ticket['id']}")).to_have_class("long")
    assert pg.get_by_test_id("queue-group-social").evaluate("e => getComputedStyle(e).backgroundColor") \
        != pg.get_by_test_id("queue-group-health").evaluate("e => getComputedStyle(e).backgroundColor")
    ctx.close()
    hall.post(f"/api/v1/tickets/{ticket['id']}/cancel")


def test_cases_by_state_follow_the_case_events(page, hall):
    """The cases panel (issue 15): a case taken in, then accepted, moves between the counts as it happens."""
    count = {s: int(page.get_by_test_id(f"cases-count-{s}").text_content()) for s in ("received", "accepted")}
    ok = int(page.get_by_test_id("cases-deadline-ok").text_content())
    case = hall.post("/api/v1/cases", matter="SH-003", applicant={"name": "张三", "phone": "13800000000"},
                     materials=[{"name": n, "state": "original"}
                                for n in ("居民身份证原件", "临时救助申请书", "遭遇困难的相关证明")]).json()
    expect(page.get_by_test_id("cases-count-received")).to_have_text(str(count["received"] + 1))
    hall.post(f"/api/v1/cases/{case['id']}/accept")
    expect(page.get_by_test_id("cases-count-accepted")).to_have_text(str(count["accepted"] + 1))
    expect(page.get_by_test_id("cases-count-received")).to_have_text(str(count["received"]))
    expect(page.get_by_test_id("cases-deadline-ok")).to_have_text(str(ok + 1))
    expect(page.get_by_test_id("cases-overdue")).to_contain_text("没有超期办件")
    assert "张三" not in page.get_by_test_id("board").text_content()
    hall.post(f"/api/v1/cases/{case['id']}/withdraw", reason="测试结束")


def test_no_serious_accessibility_problems(browser, server, page, hall):
    hall.open(3)
    hall.issue("WJ-001")
    expect(page.locator('[data-test-id^="ticket-row-"]').first).to_be_visible()
    assert serious_axe_problems(page) == []
    page.get_by_test_id(f"window-pause-{3}").click()             # the dialog, open
    assert serious_axe_problems(page) == []
    page.get_by_test_id("window-dialog-cancel").click()
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    login_page = ctx.new_page()
    login_page.goto(server.url + "/dashboard")
    expect(login_page.get_by_test_id("login-panel")).to_be_visible()
    assert serious_axe_problems(login_page) == []
    ctx.close()


def test_the_page_reconnects_after_a_restart(page, server, hall):
    page.watch.allow.append(OUTAGE)
    server.kill()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "reconnecting")
    expect(page.get_by_test_id("connection")).to_contain_text("重连")
    server.start()
    ticket = hall.issue("SH-002")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
    expect(page.get_by_test_id(f"ticket-row-{ticket['id']}")).to_be_visible()
    expect(page.get_by_test_id("board")).to_be_visible()         # the token survives the restart


def test_another_log_at_the_same_address_asks_to_log_in_again(page, server, tmp_path):
    """A restored backup or another hall: the stream says reset, the page starts over, and the old token,
    unknown there, brings back the log-in form with the server's 401 shown."""
    page.watch.allow += [OUTAGE, API_ERROR]
    server.kill()
    other = ServerProcess(tmp_path / "other", config=server.config, keep_port=True)
    other.port = server.port
    try:
        other.start()
        expect(page.get_by_test_id("login-panel")).to_be_visible()
        expect(page.get_by_test_id("board")).to_be_hidden()
        expect(page.get_by_test_id("error")).to_be_visible()
        assert page.evaluate("sessionStorage.getItem('onewindow.dashboard.token')") is None
    finally:
        other.kill()
        server.start()


# -- screenshot ----------------------------------------------------------------------------------
@pytest.mark.skipif(not os.environ.get("ONEWINDOW_SCREENSHOTS"), reason="set ONEWINDOW_SCREENSHOTS=1 to write it")
def test_write_screenshot(browser, tmp_path):
    srv = ServerProcess(tmp_path / "data", config=dashboard_config(tmp_path)).start()
    try:
        h = Hall(srv)
        for matter in ["SH-001", "WJ-001", "RS-001", "YB-001", "SH-002", "RS-001", "GA-001", "WJ-001", "SH-001",
                       "YB-001", "RS-001", "SH-001", "GA-001", "QY-001", "SH-001", "RS-001", "YB-001", "WJ-001"]:
            h.issue(matter)
        for w in (1, 2, 3, 4, 5, 6, 8, 13, 14, 15):
            h.open(w)
        for w in (1, 2, 4, 13, 3):
            h.post(f"/api/v1/windows/{w}/call-next")
        h.post("/api/v1/windows/1/finish")
        h.post("/api/v1/windows/1/call-next")
        h.post("/api/v1/windows/6/pause", reason="午休")
        waiting = h.get("/api/v1/tickets?status=waiting")
        h.post(f"/api/v1/tickets/{waiting[0]['id']}/transfer", to_window=13, reason="需公安专区办理")
        h.post("/api/v1/devices/kiosk1-printer/simulate", paper="out")
        h.issue("SH-001", kiosk="kiosk1")
        ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
        pg = ctx.new_page()
        pg.goto(srv.url + "/dashboard")
        login(pg, *SUPERVISOR)
        expect(pg.get_by_test_id("device-kiosk1-printer")).to_have_attribute("data-state", "fault")
        expect(pg.get_by_test_id("window-row-1")).to_have_attribute("data-state", "serving")
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=SHOTS / "dashboard-1920x1080.png")
        ctx.close()
    finally:
        srv.kill()
