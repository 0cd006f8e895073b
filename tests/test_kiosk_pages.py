"""The kiosk's touch UI in headless Chromium: the whole path of a ticket, and the kiosk's modes (issue 6).

A hall server process (always open, no devices of its own) and the real `onewindow-kiosk` program with its
simulated printer and ID-card reader. A citizen takes a ticket at the kiosk, with and without a swipe; the
receipt PNG appears; a clerk logs in at /window/3 and calls it; /screen shows it; the dashboard reflects it.
Then: search by pinyin initials, elder mode (bigger, spoken), a failed print, the idle timeout, after-hours
self-service, accessibility (axe-core) and touch targets of at least 15 mm on a 21.5" 1080p screen.
With ONEWINDOW_SCREENSHOTS=1 the screenshots under docs/screenshots/ are written again.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from kiosk_helpers import KIOSK, KioskProcess, closed_now, devices_file, hall_config, receipts
from pages import box_of, chromium, expect, serious_axe_problems
from serverproc import HTTP, ServerProcess

pytestmark = pytest.mark.slow
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
MATTER, GROUP = "SH-001", "social"        # 最低生活保障 at 社会事务: window 3 serves it
MATERIALS = ["居民身份证原件", "户口簿", "家庭收入及财产申报表", "家庭经济状况核对授权书"]
CLERK, SUPERVISOR = ("kclerk", "kclerk-password"), ("ksuper", "ksuper-password")
# 15 mm on a 21.5" 16:9 screen at 1920x1080: 476 mm wide, so 1 mm is 4.03 px and 15 mm is 60.5 px; the
# issue's own figure (57 px) is what the test holds the page to.
MIN_TARGET_PX = 57


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kiosk-pages")
    srv = ServerProcess(tmp / "data", config=hall_config(tmp))
    srv.start()
    srv.admin_http = srv.client(headers=srv.admin())
    srv.make_user(CLERK[0], "clerk")
    srv.make_user(SUPERVISOR[0], "supervisor")
    token = srv.make_user("kioskpages", "kiosk")["Authorization"].removeprefix("Bearer ")
    srv.kiosk = KioskProcess(srv.url, token, devices_file(tmp, idle_s=8), tmp)
    srv.tmp = tmp
    yield srv
    srv.kiosk.stop()
    srv.kill()          # the pages' WebSockets would hold a graceful stop


@pytest.fixture(scope="module")
def browser():
    with chromium("--autoplay-policy=no-user-gesture-required") as b:
        yield b


class Watch:
    """Console errors and requests to any host but the kiosk's and the hall's."""

    def __init__(self, page, hosts: set[str]):
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.allowed = re.compile(r"status of (404|409)")
        page.on("console", lambda m: m.type == "error" and not self.allowed.search(m.text)
                and self.errors.append(m.text))
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("request", lambda r: urlsplit(r.url).netloc not in hosts and not r.url.startswith("data:")
                and self.foreign.append(r.url))


@pytest.fixture
def context(browser, hall):
    for t in hall.admin_http.get("/api/v1/tickets", params={"status": "waiting"}).json():
        hall.admin_http.post(f"/api/v1/tickets/{t['id']}/cancel", json={"reason": "test reset"})
    hall.kiosk.post("/api/devices/printer/simulate", json={"paper": "ok"})
    # the browser in another zone than the hall's: what the kiosk shows must still be the hall's time
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, has_touch=True, timezone_id="America/New_York")
    ctx.watches = []
    yield ctx
    ctx.close()
    errors = [e for w in ctx.watches for e in w.errors]
    foreign = [u for w in ctx.watches for u in w.foreign]
    assert not errors, f"the pages logged errors: {errors}"
    assert not foreign, f"the pages asked other hosts: {foreign}"


def open_page(ctx, hall, url: str, clock: bool = False):
    """`clock`: the page's clock is Playwright's, which a test can move on (it runs on by itself meanwhile)."""
    page = ctx.new_page()
    ctx.watches.append(Watch(page, {urlsplit(hall.url).netloc, urlsplit(hall.kiosk.url).netloc}))
    if clock:
        page.clock.install()
    page.goto(url)
    return page


def kiosk_page(ctx, hall, clock: bool = False):
    """The kiosk's home screen once the hall's state has come and its group tiles are drawn (the screen itself
    is in the HTML, visible before the kiosk knows anything)."""
    page = open_page(ctx, hall, hall.kiosk.url + "/", clock)
    expect(page.get_by_test_id("screen-home")).to_be_visible()
    expect(page.get_by_test_id(f"group-{GROUP}")).to_be_visible()
    return page


def take_ticket(page, group: str = GROUP, matter: str = MATTER) -> str:
    page.get_by_test_id(f"group-{group}").click()
    expect(page.get_by_test_id("screen-group")).to_be_visible()
    page.get_by_test_id(f"matter-{matter}").click()
    expect(page.get_by_test_id("screen-matter")).to_be_visible()
    page.get_by_test_id("take-ticket").click()
    return shown_number(page)


def shown_number(page) -> str:
    expect(page.get_by_test_id("screen-ticket")).to_be_visible()
    expect(page.get_by_test_id("ticket-number")).to_have_text(re.compile(r"^\s*[A-Z]{1,2}\d{3,4}\s*$"))
    return page.get_by_test_id("ticket-number").text_content().strip()




def small_targets(page) -> list[str]:
    """Visible touch targets under MIN_TARGET_PX in either direction."""
    return page.evaluate("""(min) => [...document.querySelectorAll('button, a[href], [role=button], input, select')]
        .filter(e => e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden')
        .map(e => [e, e.getBoundingClientRect()])
        .filter(([e, r]) => r.width > 0 && (r.width < min || r.height < min))
        .map(([e, r]) => `${e.dataset.testId || e.outerHTML.slice(0, 60)}: `
                         + `${Math.round(r.width)}x${Math.round(r.height)}`)
    """, MIN_TARGET_PX)


def ticket_by_number(hall, number: str) -> dict:
    return hall.admin_http.get(f"/api/v1/tickets/by-number/{number}").raise_for_status().json()


# -- the whole path -------------------------------------------------------------------------------
@pytest.mark.parametrize("swipe", [False, True], ids=["no-swipe", "elder-swipe"])
def test_a_ticket_from_the_kiosk_is_printed_called_at_window_3_shown_and_on_the_dashboard(context, hall, swipe):
    page = kiosk_page(context, hall)
    expect(page.get_by_test_id("hall-name")).to_contain_text("下陆区政务服务中心")
    before = len(receipts(hall.tmp, 0))
    if swipe:
        expect(page.locator("body")).to_have_attribute("data-events", "open")     # card reads reach the page
        assert hall.kiosk.post("/api/devices/idcard/simulate", json={"card": "elder"}).status_code == 204
        expect(page.get_by_test_id("swipe-greeting")).to_contain_text("李女士，您好！")
        if not page.get_by_test_id(f"group-{GROUP}").is_visible():     # elder mode: fewer tiles a page
            page.get_by_test_id("open-search").click()
            page.get_by_test_id("search-input").fill("最低生活")
            page.get_by_test_id(f"matter-{MATTER}").click()
        else:
            page.get_by_test_id(f"group-{GROUP}").click()
    else:
        page.get_by_test_id(f"group-{GROUP}").click()
    if not page.get_by_test_id("screen-matter").is_visible():
        page.get_by_test_id(f"matter-{MATTER}").click()
    for item in MATERIALS:
        expect(page.get_by_test_id("materials")).to_contain_text(item)
    page.get_by_test_id("take-ticket").click()
    number = shown_number(page)
    assert re.fullmatch(r"S\d{3}", number), number
    expect(page.get_by_test_id("waiting-ahead")).to_contain_text("0")
    expect(page.get_by_test_id("ticket-qr").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("print-failed")).to_be_hidden()
    ticket = ticket_by_number(hall, number)
    assert ticket["channel"] == "kiosk" and ticket["status"] == "waiting"
    assert ticket["priority"] == ("elderly" if swipe else "normal")
    pngs = receipts(hall.tmp, before + 1)
    assert len(pngs) == before + 1
    assert number in pngs[-1].with_suffix(".txt").read_text(encoding="utf-8")

    # a clerk logs in at window 3 and calls it with the terminal's shortcut
    term = open_page(context, hall, hall.url + "/window/3")
    term.get_by_test_id("login-username").fill(CLERK[0])
    term.get_by_test_id("login-password").fill(CLERK[1])
    term.get_by_test_id("login-submit").click()
    expect(term.get_by_test_id("desk")).to_be_visible()
    if hall.admin_http.get("/api/v1/windows/3").json()["state"] == "closed":
        term.get_by_test_id("action-open").click()
    expect(term.get_by_test_id("window-state")).to_have_attribute("data-state", "open")
    screen = open_page(context, hall, hall.url + "/screen?audio=0")
    expect(screen.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
    board = open_page(context, hall, hall.url + "/dashboard")
    board.get_by_test_id("login-username").fill(SUPERVISOR[0])
    board.get_by_test_id("login-password").fill(SUPERVISOR[1])
    board.get_by_test_id("login-submit").click()
    expect(board.get_by_test_id(f"ticket-row-{ticket['id']}")).to_be_visible()

    term.bring_to_front()
    term.keyboard.press("1")
    expect(term.get_by_test_id("current-number")).to_have_text(number)
    assert ticket_by_number(hall, number)["window"] == 3
    expect(screen.get_by_test_id("latest-number")).to_have_text(number)
    expect(screen.get_by_test_id("latest-window")).to_have_text("3号窗口")
    expect(board.get_by_test_id("window-current-3")).to_contain_text(number)
    expect(board.get_by_test_id(f"ticket-row-{ticket['id']}")).to_have_count(0)
    # the kiosk's own devices are on the dashboard too
    expect(board.get_by_text(f"{KIOSK}-printer").first).to_be_visible()
    hall.admin_http.post("/api/v1/windows/3/finish")


def test_the_clock_is_the_halls_whatever_the_browsers_zone(context, hall):
    page = kiosk_page(context, hall)          # the browser is in New York; the hall is in Asia/Shanghai
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    minutes = [(now + timedelta(minutes=m)).strftime("%H:%M") for m in (-1, 0, 1)]
    # the clock ticks once a second: wait for a tick that shows the hall's minute (New York's never matches)
    expect(page.get_by_test_id("clock")).to_have_text(re.compile(rf"^\s*({'|'.join(minutes)})\s*$"))


def test_a_swipe_greets_gives_priority_and_switches_to_elder_mode(context, hall):
    page = kiosk_page(context, hall)
    expect(page.get_by_test_id("elder-toggle")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("body")).to_have_attribute("data-events", "open")     # card reads reach the page
    r = hall.kiosk.post("/api/devices/idcard/simulate", json={"card": "elder"})
    assert r.status_code == 204, r.text
    expect(page.get_by_test_id("swipe-greeting")).to_contain_text("李女士，您好！")
    expect(page.get_by_test_id("swipe-priority")).to_contain_text("老年人优先")
    expect(page.get_by_test_id("elder-toggle")).to_have_attribute("aria-pressed", "true")
    assert "id_number" not in page.content() and "李秀兰" not in page.content()
    number = take_ticket(page)
    t = ticket_by_number(hall, number)
    assert t["priority"] == "elderly" and t["channel"] == "kiosk"


def test_search_by_pinyin_initials_and_by_chinese(context, hall):
    page = kiosk_page(context, hall)
    page.get_by_test_id("open-search").click()
    for letter in "JMSFZ":
        page.get_by_test_id(f"key-{letter}").click()
    expect(page.get_by_test_id("search-input")).to_have_value(re.compile("jmsfz", re.I))
    results = page.get_by_test_id("search-results")
    expect(results.get_by_text("居民身份证", exact=False).first).to_be_visible()
    page.get_by_test_id("key-clear").click()
    page.get_by_test_id("search-input").fill("qxzqxz")
    expect(page.get_by_test_id("search-empty")).to_be_visible()
    page.get_by_test_id("search-input").fill("最低生活")
    expect(page.get_by_test_id(f"matter-{MATTER}")).to_be_visible()
    page.get_by_test_id(f"matter-{MATTER}").click()
    expect(page.get_by_test_id("screen-matter")).to_be_visible()


def test_elder_mode_is_larger_and_speaks(context, hall):
    page = kiosk_page(context, hall)
    tile = page.get_by_test_id(f"group-{GROUP}")
    before = box_of(tile)
    with page.expect_response(lambda r: "/api/speech.wav" in r.url) as spoken:
        page.get_by_test_id("elder-toggle").click()
    assert spoken.value.status == 200 and spoken.value.headers["content-type"] == "audio/wav"
    expect(page.get_by_test_id("elder-toggle")).to_have_attribute("aria-pressed", "true")
    tile = page.get_by_test_id(f"group-{GROUP}")
    if not tile.is_visible():             # fewer tiles per page: turn the page until it shows
        while not tile.is_visible():
            page.get_by_test_id("page-next").click()
    after = box_of(tile)
    assert after["font_px"] >= 1.35 * before["font_px"]
    assert after["height"] > before["height"]
    assert page.evaluate("document.body.dataset.spoken")
    number = take_ticket(page)
    expect(page.locator("body")).to_have_attribute("data-spoken", re.compile("前面还有"))
    assert number


def test_a_failed_print_says_the_number_is_valid_and_what_to_do(context, hall):
    page = kiosk_page(context, hall)
    hall.kiosk.post("/api/devices/printer/simulate", json={"paper": "out"})
    number = take_ticket(page)
    expect(page.get_by_test_id("print-failed")).to_be_visible()
    expect(page.get_by_test_id("print-failed")).to_contain_text(number)
    expect(page.get_by_test_id("print-failed")).to_contain_text("服务台")
    assert ticket_by_number(hall, number)["status"] == "waiting"


def test_an_idle_kiosk_returns_to_the_start(context, hall):
    page = kiosk_page(context, hall, clock=True)       # the idle time passes on the page's clock, not waited for
    page.get_by_test_id(f"group-{GROUP}").click()
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("screen-group")).to_be_visible()
    page.clock.fast_forward(4_000)
    expect(page.get_by_test_id("idle-warning")).to_be_hidden()          # idle_s = 8 for these tests
    page.clock.fast_forward(5_000)
    expect(page.get_by_test_id("idle-warning")).to_be_visible()
    expect(page.get_by_test_id("screen-group")).to_be_visible()         # warned, not yet reset
    page.clock.fast_forward(10_500)                                     # the warning's 10 s
    expect(page.get_by_test_id("screen-home")).to_be_visible()
    expect(page.get_by_test_id("idle-warning")).to_be_hidden()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_lookup_by_number(context, hall):
    t = hall.admin_http.post("/api/v1/tickets", json={"matter": MATTER}).json()
    page = kiosk_page(context, hall)
    page.get_by_test_id("open-lookup").click()
    page.get_by_test_id("lookup-input").fill(t["number"])
    page.get_by_test_id("lookup-submit").click()
    expect(page.get_by_test_id("lookup-result")).to_contain_text(t["number"])
    expect(page.get_by_test_id("lookup-result")).to_contain_text("等候")


def test_every_screen_is_accessible_with_large_touch_targets(context, hall):
    page = kiosk_page(context, hall)
    problems: dict[str, list] = {}

    def check(name: str) -> None:
        found = serious_axe_problems(page) + small_targets(page)
        if found:
            problems[name] = found

    check("home")
    page.get_by_test_id(f"group-{GROUP}").click()
    check("group")
    page.get_by_test_id(f"matter-{MATTER}").click()
    check("matter")
    page.get_by_test_id("take-ticket").click()
    expect(page.get_by_test_id("screen-ticket")).to_be_visible()
    check("ticket")
    page.get_by_test_id("done").click()
    page.get_by_test_id("open-search").click()
    check("search")
    page.get_by_test_id("back").click()
    page.get_by_test_id("open-lookup").click()
    check("lookup")
    page.get_by_test_id("back").click()
    page.get_by_test_id("elder-toggle").click()
    check("home, elder mode")
    assert problems == {}


# -- after hours ----------------------------------------------------------------------------------
def test_after_hours_only_self_service_is_offered(browser, tmp_path):
    closed = closed_now()
    with ServerProcess(tmp_path / "data", config=hall_config(tmp_path, opening=closed)) as srv:
        admin = srv.client(headers=srv.admin())
        t = admin.post("/api/v1/tickets", json={"matter": MATTER}).json()
        case = admin.post("/api/v1/cases", json={"matter": "WJ-001", "applicant": {"name": "王五"}, "materials": [
            {"name": m, "state": "original"} for m in ("夫妻双方居民身份证", "结婚证", "户口簿")]}).json()
        token = srv.make_user("kioskclosed", "kiosk")["Authorization"].removeprefix("Bearer ")
        kiosk = KioskProcess(srv.url, token, devices_file(tmp_path, idcard=None), tmp_path)
        try:
            ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
            page = ctx.new_page()
            page.goto(kiosk.url + "/")
            expect(page.get_by_test_id("screen-closed")).to_be_visible()
            expect(page.get_by_test_id("screen-home")).to_be_hidden()
            expect(page.get_by_test_id("next-opening")).to_contain_text(re.compile(r"08:30|09:00"))
            expect(page.locator("[data-test-id^=group-]:visible")).to_have_count(0)
            expect(page.get_by_test_id("take-ticket")).to_be_hidden()
            assert serious_axe_problems(page) == [] and small_targets(page) == []
            page.get_by_test_id("closed-lookup").click()
            page.get_by_test_id("lookup-input").fill(t["number"])
            page.get_by_test_id("lookup-input").press("Enter")
            expect(page.get_by_test_id("lookup-result")).to_contain_text(t["number"])
            page.get_by_test_id("back").click()          # the case query is self-service too (办件查询)
            page.get_by_test_id("closed-cases").click()
            expect(page.get_by_test_id("case-form")).to_be_visible()
            page.get_by_test_id("case-input").fill(case["number"])
            page.get_by_test_id("case-input").press("Enter")
            expect(page.get_by_test_id("case-number")).to_have_text(case["number"])
            expect(page.get_by_test_id("case-qr").locator("svg")).to_be_visible()
            if os.environ.get("ONEWINDOW_SCREENSHOTS") == "1":
                page.get_by_test_id("back").click()
                page.screenshot(path=str(SHOTS / "kiosk-after-hours-1920x1080.png"))
            ctx.close()
        finally:
            kiosk.stop()
        assert HTTP.get(srv.url + "/api/v1/health").status_code == 200


@pytest.mark.skipif(os.environ.get("ONEWINDOW_SCREENSHOTS") != "1", reason="writes docs/screenshots only on demand")
def test_screenshots(context, hall):
    page = kiosk_page(context, hall)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "kiosk-1920x1080.png"))
    page.get_by_test_id(f"group-{GROUP}").click()
    page.get_by_test_id(f"matter-{MATTER}").click()
    page.screenshot(path=str(SHOTS / "kiosk-matter-1920x1080.png"))
    page.get_by_test_id("take-ticket").click()
    expect(page.get_by_test_id("screen-ticket")).to_be_visible()
    page.screenshot(path=str(SHOTS / "kiosk-ticket-1920x1080.png"))
    page.get_by_test_id("done").click()
    expect(page.get_by_test_id("screen-home")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-events", "open")
    hall.kiosk.post("/api/devices/idcard/simulate", json={"card": "elder"})      # 70: elder mode by itself
    expect(page.get_by_test_id("swipe-greeting")).to_be_visible()
    expect(page.get_by_test_id("elder-toggle")).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / "kiosk-elder-1920x1080.png"))
    page.get_by_test_id("swipe-end").click()
