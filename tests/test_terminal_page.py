"""The clerk's window terminal /window/{n} in headless Chromium against a real server process (issue 6, item 3).

A clerk logs in at /window/3 and works tickets with the keyboard shortcuts and the buttons; each step is
checked against the API. The page follows changes made elsewhere (a supervisor's pause, new tickets),
survives a reload, shows the API's refusals as they are, and has no serious accessibility faults (axe-core).
With ONEWINDOW_SCREENSHOTS=1 the last test writes docs/screenshots/terminal-1920x1080.png.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from api_helpers import clerk_at, issue
from pages import chromium, expect, serious_axe_problems
from serverproc import DISTRICT, ServerProcess, without_devices

pytestmark = pytest.mark.slow
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
WINDOW = 3
CLERK, CLERK_PASSWORD = "termclerk", "termclerk-password"
SH001_MATERIALS = ["居民身份证原件", "户口簿", "家庭收入及财产申报表", "家庭经济状况核对授权书"]


def terminal_config(tmp: Path) -> Path:
    """The district hall without devices (they only slow the start), no call debounce or recall cool-down."""
    text = DISTRICT.read_text()
    text = without_devices(text)
    text = re.sub(r"(?m)^(recall_cooldown_s|call_debounce_s)\s*=.*$", r"\1 = 0", text)
    path = tmp / "terminal-hall.toml"
    path.write_text(text)
    return path


class HallAPI:
    """What the tests do and check through the API, as admin."""

    def __init__(self, srv: ServerProcess):
        self.http = srv.client(headers=srv.admin())

    def issue(self, matter: str = "SH-001", **extra) -> dict:
        r = self.http.post("/api/v1/tickets", json={"matter": matter, **extra})
        assert r.status_code == 201, r.text
        return r.json()

    def ticket(self, tid: int) -> dict:
        return self.http.get(f"/api/v1/tickets/{tid}").raise_for_status().json()

    def window(self, n: int = WINDOW) -> dict:
        return self.http.get(f"/api/v1/windows/{n}").raise_for_status().json()

    def act(self, action: str, n: int = WINDOW, **body) -> httpx.Response:
        r = self.http.post(f"/api/v1/windows/{n}/{action}", json=body or None)
        assert r.status_code in (200, 204), r.text
        return r

    def reset(self) -> None:
        """Window 3 open with nothing current, and nobody waiting: each test starts from the same hall."""
        w = self.window()
        if w["current"]:
            self.act("finish")
        if w["state"] == "paused":
            self.act("resume")
        if w["state"] == "closed":
            self.act("open")
        for t in self.http.get("/api/v1/tickets", params={"status": "waiting"}).json():
            self.http.post(f"/api/v1/tickets/{t['id']}/cancel", json={"reason": "test reset"}).raise_for_status()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("terminal")
    srv = ServerProcess(tmp / "data", config=terminal_config(tmp), keep_port=True)
    srv.start()
    srv.make_user(CLERK, "clerk")
    yield srv
    srv.kill()      # stop() would wait for the page's WebSocket to end


@pytest.fixture(scope="module")
def api(server):
    return HallAPI(server)


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server, api):
    """A fresh browser session on /window/3 (not logged in); fails the test if the page logged errors."""
    api.reset()
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = ctx.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    host = urlsplit(server.url).netloc
    pg.allowed = re.compile(r"status of 409")         # what a test expects the console to say
    pg.on("console", lambda m: m.type == "error" and not pg.allowed.search(m.text) and errors.append(m.text))
    pg.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    pg.on("request", lambda req: urlsplit(req.url).netloc not in (host, "") and foreign.append(req.url))
    pg.goto(f"{server.url}/window/{WINDOW}")
    yield pg
    ctx.close()
    assert not errors, f"the page logged errors: {errors}"
    assert not foreign, f"the page asked other hosts: {foreign}"


def log_in(page) -> None:
    page.get_by_test_id("login-username").fill(CLERK)
    page.get_by_test_id("login-password").fill(CLERK_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("desk")).to_be_visible()
    expect(page.get_by_test_id("clerk-name")).to_have_text(CLERK)
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "connected")




# -- the window's day (the one read the terminal adds to the API) ----------------------------------
def test_window_today_lists_each_call_and_how_it_ended(client, clock):
    h3, h13 = clerk_at(client, 3), clerk_at(client, 13)
    done, skipped, moved = (issue(client, "SH-001") for _ in range(3))
    for action, body in [("call-next", None), ("start", None), ("finish", None), ("call-next", None),
                         ("recall", None), ("skip", None), ("call-next", None),
                         ("transfer", {"to_window": 13, "reason": "需公安专区办理"})]:
        clock.advance(seconds=30)               # past the recall cool-down and the call debounce
        r = client.post(f"/api/v1/windows/3/{action}", json=body, headers=h3)
        assert r.status_code == 200, (action, r.text)
    assert client.post("/api/v1/windows/13/call-next", headers=h13).json()["id"] == moved["id"]

    day = client.get("/api/v1/windows/3/today").json()
    assert [(t["number"], t["outcome"]) for t in day["tickets"]] == [
        (done["number"], "done"), (skipped["number"], "no_show"), (moved["number"], "transferred")]
    assert (day["done"], day["no_show"], day["transferred"]) == (1, 1, 1)
    assert day["tickets"][0]["started_at"] and day["tickets"][1]["recalls"] == 1
    assert day["tickets"][2]["to"] == "13" and day["tickets"][2]["priority"] == "normal"
    assert day["latest_seq"] == client.get("/api/v1/events", params={"limit": 1}).json()["latest_seq"]
    there = client.get("/api/v1/windows/13/today").json()["tickets"]
    assert [(t["number"], t["outcome"], t["ended_at"]) for t in there] == [(moved["number"], "active", None)]
    assert client.get("/api/v1/windows/99/today").json()["error"]["code"] == "window_not_found"


# -- log-in ---------------------------------------------------------------------------------------
def test_the_logged_out_page_asks_for_a_login_and_is_accessible(page):
    expect(page.get_by_test_id("login-form")).to_be_visible()
    expect(page.get_by_test_id("desk")).to_be_hidden()
    expect(page.get_by_test_id("window-name")).to_contain_text("无差别综合受理 3号")
    assert serious_axe_problems(page) == []


def test_a_wrong_password_shows_the_apis_message(page):
    page.allowed = re.compile(r"status of 401")
    page.get_by_test_id("login-username").fill(CLERK)
    page.get_by_test_id("login-password").fill("not-the-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("error-zh")).to_have_text("用户名或密码错误")
    expect(page.get_by_test_id("error-en")).to_have_text("wrong username or password")
    expect(page.get_by_test_id("desk")).to_be_hidden()


def test_an_unknown_window_has_a_404_page(browser, server):
    ctx = browser.new_context()
    pg = ctx.new_page()
    r = pg.goto(f"{server.url}/window/99")
    assert r.status == 404
    expect(pg.get_by_test_id("window-missing")).to_contain_text("没有 99 号窗口")
    ctx.close()


# -- working tickets ------------------------------------------------------------------------------
def test_call_recall_start_finish_by_keyboard(page, api):
    log_in(page)
    assert api.window()["clerk"] == CLERK
    expect(page.get_by_test_id("window-state")).to_have_attribute("data-state", "open")
    ticket = api.issue("SH-001", priority="elderly")
    expect(page.get_by_test_id("waiting-total")).to_have_text("1")
    expect(page.get_by_test_id("action-call-next")).to_contain_text("1")     # the key is on the button

    page.keyboard.press("1")
    expect(page.get_by_test_id("current-number")).to_have_text(ticket["number"])
    expect(page.get_by_test_id("current-matter")).to_contain_text("最低生活保障申请")
    expect(page.get_by_test_id("current-priority-class")).to_contain_text("老年人优先")
    expect(page.get_by_test_id("checklist").locator("li")).to_have_text(SH001_MATERIALS)
    expect(page.get_by_test_id("matter-kind")).to_contain_text("承诺 30 个工作日")
    expect(page.get_by_test_id("waiting-total")).to_have_text("0")
    assert api.window()["current"]["id"] == ticket["id"]
    assert api.ticket(ticket["id"])["status"] == "called"

    page.keyboard.press("2")
    expect(page.get_by_test_id("current-times")).to_contain_text("重呼 1 次")
    assert api.ticket(ticket["id"])["recalls"] == 1

    page.keyboard.press("3")
    expect(page.get_by_test_id("current")).to_have_attribute("data-status", "serving")
    assert api.ticket(ticket["id"])["status"] == "serving"
    expect(page.get_by_test_id("action-recall")).to_be_disabled()            # a citizen at the desk
    expect(page.get_by_test_id("action-skip")).to_be_disabled()

    page.keyboard.press("5")
    expect(page.get_by_test_id("current-number")).to_have_text("—")
    assert api.ticket(ticket["id"])["status"] == "done"
    row = page.get_by_test_id("history-row").first
    expect(row).to_have_attribute("data-number", ticket["number"])
    expect(row).to_have_attribute("data-outcome", "done")


def test_skip_and_transfer_to_window_13_with_a_reason(page, api):
    log_in(page)
    first, second = api.issue("SH-001"), api.issue("SH-001")
    page.keyboard.press("Numpad1")                                          # the keypad works too
    expect(page.get_by_test_id("current-number")).to_have_text(first["number"])
    page.keyboard.press("4")
    expect(page.get_by_test_id("current-number")).to_have_text("—")
    assert api.ticket(first["id"])["status"] == "no_show"

    page.get_by_test_id("action-call-next").click()
    expect(page.get_by_test_id("current-number")).to_have_text(second["number"])
    page.keyboard.press("6")
    dialog = page.get_by_test_id("transfer-dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("5")                    # typing in the dialog fires no shortcut
    page.get_by_test_id("transfer-window").select_option("13")
    page.get_by_test_id("transfer-reason").fill("需公安专区办理")
    page.get_by_test_id("transfer-submit").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("current-number")).to_have_text("—")
    moved = api.ticket(second["id"])
    assert (moved["status"], moved["target_window"], moved["transfers"]) == ("waiting", 13, 1)
    history = api.http.get(f"/api/v1/tickets/{second['id']}/history").json()
    assert history[-1]["data"]["reason"] == "需公安专区办理"
    expect(page.get_by_test_id("history-row").first).to_have_attribute("data-outcome", "transferred")
    expect(page.get_by_test_id("history-row").first).to_contain_text("13号窗口")
    expect(page.get_by_test_id("history-row").nth(1)).to_have_attribute("data-outcome", "no_show")


def test_pause_with_a_reason_and_resume(page, api):
    log_in(page)
    page.keyboard.press("7")
    expect(page.get_by_test_id("pause-dialog")).to_be_visible()
    page.get_by_test_id("pause-reason-other").check()
    page.get_by_test_id("pause-other").fill("系统维护")
    page.get_by_test_id("pause-submit").click()
    expect(page.get_by_test_id("window-state")).to_have_attribute("data-state", "paused")
    w = api.window()
    assert (w["state"], w["reason"]) == ("paused", "其他：系统维护")
    expect(page.get_by_test_id("window-reason")).to_have_text("其他：系统维护")
    expect(page.get_by_test_id("action-call-next")).to_be_disabled()
    page.keyboard.press("8")
    expect(page.get_by_test_id("window-state")).to_have_attribute("data-state", "open")
    assert api.window()["state"] == "open"

    page.get_by_test_id("action-pause").click()                           # the button, and a set reason
    page.get_by_test_id("pause-reason-meeting").check()
    page.get_by_test_id("pause-submit").click()
    expect(page.get_by_test_id("window-state")).to_have_attribute("data-state", "paused")
    assert api.window()["reason"] == "会议"
    page.get_by_test_id("action-resume").click()
    expect(page.get_by_test_id("window-state")).to_have_attribute("data-state", "open")


def test_close_and_open_again(page, api):
    log_in(page)
    page.keyboard.press("0")
    expect(page.get_by_test_id("window-state")).to_have_attribute("data-state", "closed")
    assert api.window()["state"] == "closed"
    page.keyboard.press("9")                    # a close logs the clerk out of the window: open takes it back
    expect(page.get_by_test_id("window-state")).to_have_attribute("data-state", "open")
    w = api.window()
    assert (w["state"], w["clerk"]) == ("open", CLERK)


# -- live, reload, refusals -----------------------------------------------------------------------
def test_the_page_follows_changes_made_elsewhere(page, api):
    log_in(page)
    expect(page.get_by_test_id("waiting-total")).to_have_text("0")
    api.issue("SH-001")
    api.issue("WJ-001", priority="disabled")
    expect(page.get_by_test_id("waiting-total")).to_have_text("2")
    expect(page.get_by_test_id("waiting-priority")).to_have_text("1")
    expect(page.get_by_test_id("queue-social")).to_have_attribute("data-count", "1")
    api.act("pause", reason="督查")                                  # a supervisor pauses the window
    expect(page.get_by_test_id("window-state")).to_have_attribute("data-state", "paused")
    expect(page.get_by_test_id("window-reason")).to_have_text("督查")
    expect(page.get_by_test_id("action-resume")).to_be_enabled()
    api.act("resume")
    expect(page.get_by_test_id("action-call-next")).to_be_enabled()


def test_a_reload_keeps_the_session_and_the_current_ticket(page, api):
    log_in(page)
    ticket = api.issue("SH-001")
    page.keyboard.press("1")
    expect(page.get_by_test_id("current-number")).to_have_text(ticket["number"])
    page.reload()
    expect(page.get_by_test_id("desk")).to_be_visible()
    expect(page.get_by_test_id("current-number")).to_have_text(ticket["number"])
    expect(page.get_by_test_id("checklist").locator("li")).to_have_count(len(SH001_MATERIALS))
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
    page.keyboard.press("5")
    expect(page.get_by_test_id("current-number")).to_have_text("—")
    assert api.ticket(ticket["id"])["status"] == "done"
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-form")).to_be_visible()
    assert api.window()["clerk"] is None
    page.reload()
    expect(page.get_by_test_id("login-form")).to_be_visible()


def test_the_page_reconnects_after_the_server_was_away(page, api, server):
    log_in(page)
    ticket = api.issue("SH-001")
    page.keyboard.press("1")
    expect(page.get_by_test_id("current-number")).to_have_text(ticket["number"])
    page.allowed = re.compile(r"status of 409|WebSocket connection to .* failed|net::ERR_")
    server.kill()
    expect(page.get_by_test_id("connection")).to_be_visible()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "reconnecting")
    server.start()
    stale, api.http = api.http, server.client(headers=api.http.headers)     # the same token, a new connection
    stale.close()
    api.issue("WJ-001")                                         # while the page is still away, most likely
    api.act("finish")                                           # and another hand finishes the ticket
    expect(page.get_by_test_id("connection")).to_be_hidden()
    expect(page.get_by_test_id("current-number")).to_have_text("—")
    expect(page.get_by_test_id("waiting-total")).to_have_text("1")
    expect(page.get_by_test_id("history-row").first).to_have_attribute("data-outcome", "done")


def test_a_409_from_the_api_is_shown_as_it_is(page, api):
    log_in(page)
    expect(page.get_by_test_id("action-recall")).to_be_disabled()    # nothing called: the page knows…
    # …but a button can be stale for a moment (another hand, a slow network): what the API says is shown
    page.evaluate("document.querySelector('[data-test-id=action-recall]').disabled = false")
    page.get_by_test_id("action-recall").click()
    expect(page.get_by_test_id("error")).to_be_visible()
    expect(page.get_by_test_id("error-zh")).to_have_text(f"{WINDOW} 号窗口当前没有票")
    expect(page.get_by_test_id("error-en")).to_contain_text(f"window {WINDOW} has no current ticket to recall")
    page.get_by_test_id("error-close").click()
    expect(page.get_by_test_id("error")).to_be_hidden()


def test_the_logged_in_page_is_accessible(page, api):
    log_in(page)
    api.issue("SH-001")
    page.keyboard.press("1")
    expect(page.get_by_test_id("checklist").locator("li")).to_have_count(len(SH001_MATERIALS))
    assert serious_axe_problems(page) == []
    page.keyboard.press("6")
    expect(page.get_by_test_id("transfer-dialog")).to_be_visible()
    assert serious_axe_problems(page) == []
    page.get_by_test_id("transfer-cancel").click()
    page.keyboard.press("5")
    expect(page.get_by_test_id("current-number")).to_have_text("—")


FITS = """() => {
    const out = [], el = document.documentElement;
    if (el.scrollHeight > innerHeight || el.scrollWidth > innerWidth) out.push('the page scrolls');
    for (const e of document.querySelectorAll('[data-action]:not([hidden]), [data-test-id="current-number"],'
                                              + '[data-test-id="waiting-total"], [data-test-id="checklist"]')) {
        const r = e.getBoundingClientRect();
        if (r.top < 0 || r.left < 0 || r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5)
            out.push((e.dataset.testId || e.dataset.action) + ' is off the screen');
        if (e.dataset.action && r.height < 44) out.push(e.dataset.action + ' is too small to hit');
    }
    return out; }"""


def test_the_desk_fits_1080p_and_768p_without_scrolling(page, api):
    log_in(page)
    api.issue("SH-001")
    page.keyboard.press("1")
    expect(page.get_by_test_id("checklist").locator("li")).to_have_count(len(SH001_MATERIALS))
    for width, height in [(1920, 1080), (1366, 768)]:
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate(FITS) == [], (width, height)
    page.keyboard.press("5")
    expect(page.get_by_test_id("current-number")).to_have_text("—")


# -- screenshot -----------------------------------------------------------------------------------
@pytest.mark.skipif(not os.environ.get("ONEWINDOW_SCREENSHOTS"), reason="set ONEWINDOW_SCREENSHOTS=1 to write it")
def test_write_screenshot(page, api):
    log_in(page)
    for matter, prio in [("SH-001", "normal"), ("WJ-001", "normal"), ("SH-002", "normal")]:
        api.issue(matter, priority=prio)
    for key in ("1", "3", "5", "1", "4", "1", "6"):         # a finished, a no-show and a transfer today
        page.keyboard.press(key)
        if key == "6":
            page.get_by_test_id("transfer-window").select_option("13")
            page.get_by_test_id("transfer-reason").fill("需公安专区办理")
            page.get_by_test_id("transfer-submit").click()
        page.wait_for_timeout(300)
    for matter, prio in [("SH-001", "elderly"), ("WJ-001", "normal"), ("YB-001", "normal"), ("QY-001", "normal"),
                         ("WJ-002", "normal"), ("SH-003", "normal")]:
        api.issue(matter, priority=prio)
    page.keyboard.press("1")
    expect(page.get_by_test_id("current-priority-class")).to_contain_text("老年人优先")
    page.keyboard.press("2")
    expect(page.get_by_test_id("current-times")).to_contain_text("重呼 1 次")
    page.get_by_test_id("material-0").check()
    page.get_by_test_id("material-1").check()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "terminal-1920x1080.png")
