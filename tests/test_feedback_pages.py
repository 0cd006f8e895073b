"""好差评's pages in headless Chromium (issue 17): the rating tablet /evaluate/window/1, the 差评 ledger /feedback
and the dashboard's satisfaction panel.

One hall for the module, in this process (uvicorn in a thread) on a FakeClock that stands still, so no prompt
times out while a test looks at it. A clerk at window 1 finishes tickets through the API; the tablet (logged in
through its own form as window 1's evaluator account) prompts and speaks in the hall's voice; the citizen taps
不满意 and a reason; a supervisor walks the 差评 through 核实 → 整改 → 反馈 → 复核 in the ledger page and exports
the CSV; the dashboard's figures (rated, bad, 好评率, open 差评) follow. A second handling already rated by the
time the citizen taps gets the 409 in plain words on the tablet; an upheld 申诉 closes a record from the ledger and
leaves the figures; the tablet takes no staff account. axe-core finds nothing serious on the three pages.
"""
from __future__ import annotations

import os
import re
import threading
import time
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from pages import chromium, expect, serious_axe_problems
from serverproc import ADMIN_PASSWORD, free_port

from hall_server.app import create_app
from hall_server.clock import FakeClock
from hall_server.runtime import Hall

pytestmark = pytest.mark.slow
TZ = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=TZ)          # a Tuesday
MATTER = "WJ-001"                                           # served by windows 1-5
PROMPT = "请您对本次服务进行评价"
API_ERROR = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


class InProcessHall:
    """The hall server in this process, served by uvicorn from a thread."""

    def __init__(self, data_dir, cfg, clock: FakeClock):
        self.clock = clock
        os.environ["ONEWINDOW_ADMIN_PASSWORD"] = ADMIN_PASSWORD
        try:
            self.hall = Hall(cfg, data_dir, clock)
            self.hall.ensure_admin()
        finally:
            os.environ.pop("ONEWINDOW_ADMIN_PASSWORD", None)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(self.hall), host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, name="feedback-hall", daemon=True)

    def start(self) -> InProcessHall:
        self.thread.start()
        end = time.monotonic() + 60
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < end, "the in-process hall did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)
        if self.thread.is_alive():              # a page's WebSocket still open: do not wait for it
            self.server.force_exit = True
            self.thread.join(15)


class Desk:
    """What the tests do through the API: as admin, the clerk at window 1, its evaluator, the supervisor."""

    def __init__(self, srv: InProcessHall):
        self.srv = srv
        self.http = httpx.Client(base_url=srv.url, timeout=30, verify=False)     # plain HTTP: no CA bundle to load
        self.tokens: dict[str, dict] = {}

    def as_(self, user: str) -> dict:
        if user not in self.tokens:
            password = ADMIN_PASSWORD if user == "admin" else f"{user}-password"
            r = self.http.post("/api/v1/auth/login", json={"username": user, "password": password})
            assert r.status_code == 200, r.text
            self.tokens[user] = {"Authorization": f"Bearer {r.json()['token']}"}
        return self.tokens[user]

    def make(self, username: str, role: str, **extra) -> None:
        r = self.http.post("/api/v1/users", json={"username": username, "password": f"{username}-password",
                                                  "role": role, **extra}, headers=self.as_("admin"))
        assert r.status_code == 201, r.text

    def post(self, path: str, user: str, **body) -> dict:
        r = self.http.post(path, json=body or None, headers=self.as_(user))
        assert r.status_code in (200, 201), (path, r.status_code, r.text)
        return r.json()

    def finish_one(self) -> dict:
        """A citizen takes a ticket, the clerk at window 1 calls and finishes it: window 1's prompt opens."""
        t = self.post("/api/v1/tickets", "admin", matter=MATTER)
        self.srv.clock.advance(seconds=5)                   # past the call debounce of the one before
        called = self.post("/api/v1/windows/1/call-next", "fbclerk")
        assert called["id"] == t["id"], called
        self.post("/api/v1/windows/1/finish", "fbclerk")
        return t

    def summary(self) -> dict:
        r = self.http.get("/api/v1/feedback/summary?period=today", headers=self.as_("fbsup"))
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="module")
def desk(tmp_path_factory, district_cfg):
    clock = FakeClock(MORNING)
    cfg = district_cfg.model_copy(update={"devices": (), "seats": ()})
    srv = InProcessHall(tmp_path_factory.mktemp("feedback") / "data", cfg, clock).start()
    d = Desk(srv)
    d.make("fbclerk", "clerk")
    d.make("fbsup", "supervisor")
    d.make("fbeval1", "evaluator", window=1)
    d.post("/api/v1/windows/1/login", "fbclerk")
    d.post("/api/v1/windows/1/open", "fbclerk")
    yield d
    d.http.close()
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def pages(browser, desk):
    """The three pages, each logged in through its own form; none logs an error or asks another host."""
    opened = []
    host = urlsplit(desk.srv.url).netloc

    def open_(path: str, user: str, ready: str, viewport=(1920, 1080)):
        ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        pg = ctx.new_page()
        pg.errors, pg.foreign = [], []
        pg.on("console", lambda m: m.type == "error" and not API_ERROR.search(m.text) and pg.errors.append(m.text))
        pg.on("pageerror", lambda exc: pg.errors.append(f"page error: {exc}"))
        pg.on("request", lambda req: urlsplit(req.url).netloc not in (host, "") and pg.foreign.append(req.url))
        opened.append((ctx, pg))
        pg.goto(desk.srv.url + path)
        pg.get_by_test_id("login-username").fill(user)
        pg.get_by_test_id("login-password").fill(f"{user}-password")
        pg.get_by_test_id("login-submit").click()
        expect(pg.get_by_test_id(ready)).to_be_visible()
        return pg

    class Pages:
        tablet = open_("/evaluate/window/1", "fbeval1", "screen-wait", viewport=(1280, 800))
        ledger = open_("/feedback", "fbsup", "ledger")
        dash = open_("/dashboard", "fbsup", "board")

    yield Pages
    for ctx, pg in opened:
        ctx.close()
        assert not pg.errors, f"the page logged errors: {pg.errors}"
        assert not pg.foreign, f"the page asked other hosts: {pg.foreign}"


def step(ledger, name: str, **fields) -> None:
    for field, value in fields.items():
        ledger.get_by_test_id(f"step-{name}-{field}").fill(value)
    ledger.get_by_test_id(f"step-{name}-submit").click()


def test_a_bad_rating_at_the_tablet_is_walked_to_closure_in_the_ledger_and_counted_on_the_dashboard(desk, pages):
    tablet, ledger, dash = pages.tablet, pages.ledger, pages.dash
    expect(dash.get_by_test_id("fb-rated")).to_have_text("0")
    expect(dash.get_by_test_id("fb-good-rate")).to_have_text("—")
    expect(tablet.get_by_test_id("screen-rate")).to_be_hidden()

    with tablet.expect_response(lambda r: r.url.endswith("/evaluate/speech/prompt.wav")) as spoken:
        t = desk.finish_one()
    # the tablet prompts by itself: the words, spoken in the hall's voice, and five large levels, Chinese first
    assert spoken.value.status in (200, 206) and spoken.value.headers["content-type"] == "audio/wav"   # 206: ranges
    expect(tablet.get_by_test_id("screen-rate")).to_be_visible()
    expect(tablet.get_by_test_id("prompt")).to_contain_text(PROMPT)
    expect(tablet.locator("body")).to_have_attribute("data-spoken", PROMPT)
    levels = tablet.get_by_test_id("levels").locator("button")
    expect(levels).to_have_count(5)
    assert [b.split()[0] for b in levels.all_inner_texts()] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    normal = tablet.get_by_test_id("level-2").bounding_box()
    assert normal["height"] >= 120 and normal["width"] >= 150
    tablet.get_by_test_id("elder-toggle").click()                               # 长者 mode: larger still
    expect(tablet.get_by_test_id("elder-toggle")).to_have_attribute("aria-pressed", "true")
    expect(tablet.locator("html")).to_have_class(re.compile("elder"))
    assert tablet.get_by_test_id("level-2").bounding_box()["height"] > normal["height"]
    tablet.get_by_test_id("elder-toggle").click()
    assert serious_axe_problems(tablet) == []
    # nothing personal on the tablet: the ticket number and the matter, never a name, phone or ID
    expect(tablet.get_by_test_id("handling")).to_contain_text(t["number"])

    tablet.get_by_test_id("level-2").click()                                     # 不满意
    expect(tablet.get_by_test_id("screen-reasons")).to_be_visible()
    expect(tablet.get_by_test_id("reasons").locator("button")).to_have_count(5)
    tablet.locator('[data-reason="态度"]').click()
    expect(tablet.locator('[data-reason="态度"]')).to_have_attribute("aria-pressed", "true")
    tablet.get_by_test_id("reasons-submit").click()
    expect(tablet.get_by_test_id("screen-thanks")).to_be_visible()
    expect(tablet.get_by_test_id("thanks-level")).to_contain_text("不满意")

    s = desk.summary()
    assert (s["totals"]["rated"], s["totals"]["bad"], s["totals"]["good_rate"]) == (1, 1, 0)
    [record] = s["badratings"]["items"]
    rid = record["id"]
    # the dashboard follows: one rated, one bad, 好评率 0%, one open 差评 at 核实 with its due day
    expect(dash.get_by_test_id("fb-rated")).to_have_text("1")
    expect(dash.get_by_test_id("fb-bad")).to_have_text("1")
    expect(dash.get_by_test_id("fb-good-rate")).to_have_text("0%")
    expect(dash.get_by_test_id("fb-rate-window-1")).to_have_text("0%")
    expect(dash.get_by_test_id("fb-open")).to_have_text("1")
    expect(dash.get_by_test_id(f"fb-badrating-{rid}")).to_contain_text(record["due"])
    dash.get_by_test_id("fb-dim-clerk").click()
    expect(dash.get_by_test_id("fb-rate-clerk-fbclerk")).to_have_text("0%")

    # the ledger: the record at 核实 with its due day and colour; its rating; the supervisor's steps
    expect(ledger.get_by_test_id(f"row-state-{rid}")).to_have_attribute("data-state", "verify")
    expect(ledger.get_by_test_id(f"row-due-{rid}")).to_have_text(record["due"])
    expect(ledger.get_by_test_id(f"row-deadline-{rid}")).to_have_attribute("data-deadline", record["deadline"])
    ledger.get_by_test_id(f"open-{rid}").click()
    expect(ledger.get_by_test_id("detail-window")).to_have_text("1 号窗口")
    expect(ledger.get_by_test_id("detail-clerk")).to_have_text("fbclerk")
    expect(ledger.get_by_test_id("detail-level")).to_have_attribute("data-level", "2")
    expect(ledger.get_by_test_id("detail-reasons")).to_have_text("态度")
    step(ledger, "verify", finding="窗口人员语气生硬，属实", window="1")
    expect(ledger.get_by_test_id("detail-state")).to_have_attribute("data-state", "rectify")
    step(ledger, "rectify", measures="已对窗口人员谈话提醒，规范服务用语")
    expect(ledger.get_by_test_id("detail-state")).to_have_attribute("data-state", "callback")
    step(ledger, "callback", result="已电话回访，群众表示理解")
    expect(ledger.get_by_test_id("detail-state")).to_have_attribute("data-state", "recheck")
    assert serious_axe_problems(ledger) == []
    step(ledger, "recheck", note="整改到位，同意办结")
    expect(ledger.get_by_test_id("detail-state")).to_have_attribute("data-state", "closed")
    walked = desk.http.get(f"/api/v1/badratings/{rid}", headers=desk.as_("fbsup")).json()["steps"]
    loop = ("verify", "rectify", "callback", "recheck")
    assert [s["step"] for s in walked if s["step"] in loop] == list(loop)
    expect(ledger.get_by_test_id(f"row-{rid}")).to_have_count(0)                # no longer open
    ledger.get_by_test_id("filter-closed").click()
    expect(ledger.get_by_test_id(f"row-state-{rid}")).to_have_attribute("data-state", "closed")
    with ledger.expect_download() as got:
        ledger.get_by_test_id("export-csv").click()
    csv = open(got.value.path(), encoding="utf-8-sig").read()
    assert record["number"] in csv
    expect(dash.get_by_test_id("fb-open")).to_have_text("0")
    assert serious_axe_problems(dash) == []

    expect(tablet.get_by_test_id("screen-wait")).to_be_visible()                # the thank-you goes by itself


def test_a_handling_rated_meanwhile_answers_the_citizens_tap_in_plain_words(desk, pages):
    tablet, dash = pages.tablet, pages.dash
    expect(tablet.get_by_test_id("screen-wait")).to_be_visible()
    t = desk.finish_one()
    expect(tablet.get_by_test_id("screen-rate")).to_be_visible()
    tablet.get_by_test_id("level-1").click()                                     # 非常不满意: the reasons
    expect(tablet.get_by_test_id("screen-reasons")).to_be_visible()
    # meanwhile the handling is rated (the window's key box, or a second tap that got there first)
    desk.post("/api/v1/evaluations", "fbeval1", ticket=t["id"], level=5)
    tablet.get_by_test_id("reasons-skip").click()
    expect(tablet.get_by_test_id("screen-message")).to_be_visible()
    expect(tablet.get_by_test_id("message")).to_have_attribute("data-code", "already_rated")
    expect(tablet.get_by_test_id("message-zh")).to_have_text("本次服务已经评价过了，谢谢您！")
    tablet.get_by_test_id("message-ok").click()
    expect(tablet.get_by_test_id("screen-wait")).to_be_visible()
    # the dashboard: two rated, one good, 好评率 50%
    expect(dash.get_by_test_id("fb-rated")).to_have_text("2")
    expect(dash.get_by_test_id("fb-good-rate")).to_have_text("50%")
    assert desk.summary()["totals"]["good_rate"] == 0.5


def test_a_window_the_hall_lacks_has_no_tablet_and_only_the_tablets_phrases_are_spoken(desk):
    r = desk.http.get("/evaluate/window/99")
    assert r.status_code == 404 and "没有 99 号窗口" in r.text
    r = desk.http.get("/evaluate/speech/thanks.wav")
    assert r.status_code == 200 and r.content[:4] == b"RIFF"
    r = desk.http.get("/evaluate/speech/anything.wav")
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_phrase"


def test_an_upheld_appeal_closes_the_record_in_the_ledger_and_leaves_the_figures(desk, pages):
    ledger, dash = pages.ledger, pages.dash
    t = desk.finish_one()
    desk.post("/api/v1/evaluations", "fbeval1", ticket=t["id"], level=1, reasons=["其他"])
    expect(dash.get_by_test_id("fb-rated")).to_have_text("3")
    expect(dash.get_by_test_id("fb-bad")).to_have_text("2")
    [record] = desk.summary()["badratings"]["items"]
    rid = record["id"]
    ledger.get_by_test_id("filter-open").click()
    ledger.get_by_test_id(f"open-{rid}").click()
    expect(ledger.get_by_test_id("detail-level")).to_have_attribute("data-level", "1")
    ledger.get_by_test_id("step-appeal-submit").click()                          # no reason: the form says so
    expect(ledger.get_by_test_id("detail-appeal")).to_have_count(0)
    step(ledger, "appeal", reason="评价人误触，现场已表示满意")
    expect(ledger.get_by_test_id("detail-appeal")).to_contain_text("申诉中")
    expect(ledger.get_by_test_id(f"row-state-{rid}")).to_contain_text("申诉中")
    ledger.get_by_test_id("step-appeal-decision-upheld").check()
    step(ledger, "appeal-decision", note="经调取录像核实，申诉成立")
    expect(ledger.get_by_test_id("detail-state")).to_have_attribute("data-state", "closed")
    expect(ledger.get_by_test_id("detail-appeal")).to_contain_text("申诉成立")
    # the upheld rating leaves the statistics: two rated, one bad, 好评率 50% again
    expect(dash.get_by_test_id("fb-rated")).to_have_text("2")
    expect(dash.get_by_test_id("fb-bad")).to_have_text("1")
    expect(dash.get_by_test_id("fb-good-rate")).to_have_text("50%")
    expect(dash.get_by_test_id("fb-open")).to_have_text("0")


def test_the_tablet_takes_only_its_windows_evaluator_account(desk, browser):
    ctx = browser.new_context()
    try:
        pg = ctx.new_page()
        pg.goto(desk.srv.url + "/evaluate/window/1")
        expect(pg.get_by_test_id("login-username")).to_have_value("eval1")
        for user in ("fbclerk", "fbsup"):                   # staff never rate: the tablet says whose it is
            pg.get_by_test_id("login-username").fill(user)
            pg.get_by_test_id("login-password").fill(f"{user}-password")
            pg.get_by_test_id("login-submit").click()
            expect(pg.get_by_test_id("login-error")).to_have_attribute("data-code", "wrong_account")
            expect(pg.get_by_test_id("login-error")).to_contain_text(f"{user} 不是 1 号窗口的评价器账号")
            expect(pg.get_by_test_id("screen-wait")).to_be_hidden()
        assert pg.evaluate("sessionStorage.getItem('onewindow.evaluate.1')") is None
    finally:
        ctx.close()
