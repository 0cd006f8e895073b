"""The back office /office (issue 15, item 8) and the dashboard's cases in headless Chromium.

The hall runs in this process (uvicorn in a thread) on a FakeClock, so a case can be accepted weeks ago and be
overdue today: the module's hall first takes in two cases in early November, then the clock stands at Tuesday
2026-11-24 09:00 for every test. Cases are taken in and accepted through the API (a clerk at window 3); the
officers work them in the page: a whole 承诺件 (claim, suspend, resume, decide), a 联办件 two departments
decide in their own pages while the other two answer through the API, a supervisor's reassign and extend,
an officer of another department who never sees the case, and the overdue cases in red on the page and in
the dashboard's overdue list. axe-core finds nothing serious.
"""
from __future__ import annotations

import asyncio
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
EARLY, LATER = datetime(2026, 11, 2, 10, 0, tzinfo=TZ), datetime(2026, 11, 5, 10, 0, tzinfo=TZ)   # Mon, Thu
TODAY = datetime(2026, 11, 24, 9, 0, tzinfo=TZ)                                              # a Tuesday
ID = "11010519491231002X"
SH003 = ["居民身份证原件", "临时救助申请书", "遭遇困难的相关证明"]
LB001 = ["出生医学证明", "父母双方居民身份证", "户口簿", "结婚证"]
SH001 = ["居民身份证原件", "户口簿", "家庭收入及财产申报表", "家庭经济状况核对授权书"]
JOINT = ["区卫健局", "下陆公安分局", "区医保局", "区人社局"]
OFFICERS = {"mz1": "区民政局", "mz2": "区民政局", "ws1": "区卫健局", "ga1": "下陆公安分局", "yb1": "区医保局",
            "rs1": "区人社局"}
API_ERROR = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


class InProcessHall:
    """The hall server in this process on a clock the test moves: uvicorn serves it from a thread, and
    `call` runs a coroutine (the deadline watch) on its event loop."""

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
        self.thread = threading.Thread(target=self.server.run, name="office-hall", daemon=True)

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

    def call(self, coro_fn):
        return asyncio.run_coroutine_threadsafe(coro_fn(), self.hall.loop).result(30)


class Desk:
    """What the tests do through the API: as admin, the clerk at window 3, the officers and the supervisor."""

    def __init__(self, srv: InProcessHall):
        self.srv = srv
        self.http = httpx.Client(base_url=srv.url, timeout=30, verify=False)     # plain HTTP: no CA bundle to load
        self.tokens: dict[str, dict] = {}

    def login(self, user: str) -> dict:
        password = ADMIN_PASSWORD if user == "admin" else f"{user}-password"
        r = self.http.post("/api/v1/auth/login", json={"username": user, "password": password})
        assert r.status_code == 200, r.text
        self.tokens[user] = {"Authorization": f"Bearer {r.json()['token']}"}
        return self.tokens[user]

    def as_(self, user: str) -> dict:
        return self.tokens.get(user) or self.login(user)

    def relogin_all(self) -> None:
        """After the clock moved: every token is taken again."""
        for user in list(self.tokens):
            self.login(user)

    def make(self, username: str, role: str, departments: tuple[str, ...] = ()) -> None:
        body = {"username": username, "password": f"{username}-password", "role": role}
        if departments:
            body["departments"] = list(departments)
        r = self.http.post("/api/v1/users", json=body, headers=self.as_("admin"))
        assert r.status_code == 201, r.text

    def clerk_at_3(self) -> dict:
        h = self.as_("offclerk")
        r = self.http.post("/api/v1/windows/3/login", headers=h)
        assert r.status_code == 200, r.text
        return h

    def accepted(self, matter: str = "SH-003", materials: list[str] = SH003) -> dict:
        clerk = self.clerk_at_3()
        r = self.http.post("/api/v1/cases", headers=clerk, json={
            "matter": matter, "applicant": {"name": "张三", "phone": "13800000000", "id_number": ID},
            "materials": [{"name": n, "state": "original"} for n in materials]})
        assert r.status_code == 201, r.text
        return self.act("offclerk", r.json()["id"], "accept")

    def act(self, user: str, case_id: int, action: str, body: dict | None = None) -> dict:
        r = self.http.post(f"/api/v1/cases/{case_id}/{action}", json=body, headers=self.as_(user))
        assert r.status_code == 200, (action, r.text)
        return r.json()

    def case(self, case_id: int, user: str = "admin") -> httpx.Response:
        return self.http.get(f"/api/v1/cases/{case_id}", headers=self.as_(user))


@pytest.fixture(scope="module")
def office(tmp_path_factory, district_cfg):
    clock = FakeClock(EARLY)
    cfg = district_cfg.model_copy(update={"devices": (), "seats": ()})
    srv = InProcessHall(tmp_path_factory.mktemp("office") / "data", cfg, clock).start()
    desk = Desk(srv)
    desk.make("offclerk", "clerk")
    desk.make("offsup", "supervisor")
    for user, department in OFFICERS.items():
        desk.make(user, "department", (department,))
    desk.old = [desk.accepted()]                                 # Mon 11-02: due Mon 11-16
    clock.set(LATER)
    desk.relogin_all()
    desk.old.append(desk.accepted())                             # Thu 11-05: due Thu 11-19
    clock.set(TODAY)
    desk.relogin_all()
    srv.call(srv.hall.cases.refresh_deadlines)
    yield desk
    desk.http.close()
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def pages(browser, office):
    """Opens logged-in pages (`pages.open(user)`); fails the test if any logged errors or asked other hosts."""
    opened = []

    def open_(user: str, path: str = "/office"):
        ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
        pg = ctx.new_page()
        pg.errors, pg.foreign = [], []
        host = urlsplit(office.srv.url).netloc
        pg.on("console", lambda m: m.type == "error" and not API_ERROR.search(m.text) and pg.errors.append(m.text))
        pg.on("pageerror", lambda exc: pg.errors.append(f"page error: {exc}"))
        pg.on("request", lambda req: urlsplit(req.url).netloc not in (host, "") and pg.foreign.append(req.url))
        opened.append((ctx, pg))
        pg.goto(office.srv.url + path)
        if user:
            login(pg, user, ADMIN_PASSWORD if user == "admin" else f"{user}-password")
            expect(pg.get_by_test_id("desk" if path == "/office" else "board")).to_be_visible()
            expect(pg.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
        return pg

    class Opener:
        open = staticmethod(open_)

    yield Opener()
    for ctx, pg in opened:
        ctx.close()
        assert not pg.errors, f"the page logged errors: {pg.errors}"
        assert not pg.foreign, f"the page asked other hosts: {pg.foreign}"


def login(pg, username: str, password: str) -> None:
    pg.get_by_test_id("login-username").fill(username)
    pg.get_by_test_id("login-password").fill(password)
    pg.get_by_test_id("login-submit").click()


def open_case(pg, case: dict) -> None:
    pg.get_by_test_id(f"case-open-{case['id']}").click()
    expect(pg.get_by_test_id("detail-number")).to_have_text(case["number"])


def act_in_dialog(pg, action: str, **fields) -> None:
    pg.get_by_test_id(f"act-{action}").click()
    expect(pg.get_by_test_id("action-dialog")).to_be_visible()
    for name, value in fields.items():
        if name == "outcome":
            pg.get_by_test_id(f"action-outcome-{value}").check()
        elif name == "officer":
            pg.get_by_test_id("action-officer").select_option(value)
        else:
            pg.get_by_test_id(f"action-{name}").fill(str(value))
    pg.get_by_test_id("action-confirm").click()
    expect(pg.get_by_test_id("action-dialog")).to_be_hidden()


# -- tests ----------------------------------------------------------------------------------------
def test_a_promised_case_is_claimed_suspended_resumed_and_decided_in_the_page(office, pages):
    pg = pages.open("mz1")
    case = office.accepted()                     # accepted while the page is open: it comes in live
    assert (case["due"], case["kind"]) == ("2026-12-08", "承诺")
    row = pg.get_by_test_id(f"case-row-{case['id']}")
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-deadline", "ok")
    expect(pg.get_by_test_id(f"case-due-{case['id']}")).to_have_text("2026-12-08")
    expect(pg.get_by_test_id(f"case-left-{case['id']}")).to_contain_text("正常")
    expect(pg.get_by_test_id(f"case-left-{case['id']}")).to_contain_text("剩 10 个工作日")
    expect(pg.get_by_test_id(f"case-claimed-{case['id']}")).to_contain_text("未认领")

    open_case(pg, case)
    expect(pg.get_by_test_id("detail-applicant")).to_have_text("张三")
    expect(pg.get_by_test_id("detail-phone")).to_have_text("13800000000")
    expect(pg.get_by_test_id("detail-id")).to_contain_text("*")
    expect(pg.get_by_test_id("material-0")).to_have_attribute("data-state", "original")
    expect(pg.get_by_test_id("detail-history")).to_contain_text("受理")
    assert ID not in pg.content()

    pg.get_by_test_id("act-claim").click()
    expect(pg.get_by_test_id("detail-status")).to_have_attribute("data-status", "in_review")
    expect(pg.get_by_test_id(f"case-claimed-{case['id']}")).to_contain_text("mz1")
    assert office.case(case["id"]).json()["claimed_by"] == "mz1"

    pg.get_by_test_id("act-suspend").click()                        # no reason: said in both languages
    pg.get_by_test_id("action-confirm").click()
    expect(pg.get_by_test_id("action-error")).to_contain_text("原因")
    expect(pg.get_by_test_id("action-error")).to_contain_text("reason")
    pg.get_by_test_id("action-reason").fill("现场核查")
    pg.get_by_test_id("action-confirm").click()
    expect(pg.get_by_test_id("detail-status")).to_have_attribute("data-status", "suspended")
    expect(pg.get_by_test_id(f"case-status-{case['id']}")).to_contain_text("暂停计时")
    assert office.case(case["id"]).json()["status"] == "suspended"

    pg.get_by_test_id("act-resume").click()                         # the same day: no working day suspended
    expect(pg.get_by_test_id("detail-status")).to_have_attribute("data-status", "in_review")
    got = office.case(case["id"]).json()
    assert (got["status"], got["due"], got["suspended_days"]) == ("in_review", "2026-12-08", 0)
    expect(pg.get_by_test_id("detail-due")).to_contain_text("2026-12-08")
    expect(pg.get_by_test_id(f"case-due-{case['id']}")).to_have_text("2026-12-08")

    act_in_dialog(pg, "decide", outcome="approved", opinion="符合临时救助条件")
    expect(pg.get_by_test_id("detail-status")).to_have_attribute("data-status", "decided")
    expect(pg.get_by_test_id("detail-outcome")).to_contain_text("符合临时救助条件")
    expect(row).to_have_count(0)                                   # decided: off the worklist
    got = office.case(case["id"]).json()
    assert (got["status"], got["outcome"]) == ("decided", "approved")
    assert [h["action"] for h in got["history"]] == ["received", "accepted", "claimed", "suspended", "resumed",
                                                     "decided"]
    assert all(h["by"] == "mz1" for h in got["history"][2:])


def test_a_joint_case_each_department_decides_its_own_task(office, pages):
    case = office.accepted("LB-001", LB001)
    assert [t["department"] for t in case["departments"]] == JOINT
    health, police = pages.open("ws1"), pages.open("ga1")
    for pg in (health, police):
        expect(pg.get_by_test_id(f"case-row-{case['id']}")).to_be_visible()
        open_case(pg, case)
    health.get_by_test_id("act-claim").click()
    expect(health.get_by_test_id("task-区卫健局")).to_have_attribute("data-state", "claimed")
    expect(police.get_by_test_id("task-区卫健局")).to_have_attribute("data-state", "claimed")  # live, elsewhere
    expect(police.get_by_test_id("task-区卫健局")).to_contain_text("ws1")
    expect(police.get_by_test_id(f"case-claimed-{case['id']}")).to_contain_text("下陆公安分局 未认领")
    expect(police.get_by_test_id("act-claim")).to_have_attribute("data-department", "下陆公安分局")
    police.get_by_test_id("act-claim").click()
    expect(police.get_by_test_id("task-下陆公安分局")).to_have_attribute("data-state", "claimed")
    act_in_dialog(police, "decide", outcome="approved", opinion="同意办理户口登记")
    expect(police.get_by_test_id("task-下陆公安分局")).to_have_attribute("data-state", "decided")
    expect(police.get_by_test_id("detail-status")).to_have_attribute("data-status", "in_review")
    expect(police.get_by_test_id("act-decide")).to_have_count(0)
    act_in_dialog(health, "decide", outcome="approved", opinion="出生医学证明核验无误")
    expect(health.get_by_test_id("task-区卫健局")).to_have_attribute("data-state", "decided")
    expect(health.get_by_test_id("detail-status")).to_have_attribute("data-status", "in_review")
    got = office.case(case["id"]).json()
    assert got["status"] == "in_review"
    assert {t["department"]: t["state"] for t in got["departments"]} == {
        "区卫健局": "decided", "下陆公安分局": "decided", "区医保局": "open", "区人社局": "open"}

    for user in ("yb1", "rs1"):
        office.act(user, case["id"], "claim")
        office.act(user, case["id"], "decide", {"outcome": "approved"})
    for pg in (health, police):
        expect(pg.get_by_test_id("detail-status")).to_have_attribute("data-status", "decided")
        expect(pg.get_by_test_id("task-区人社局")).to_have_attribute("data-state", "decided")
        expect(pg.get_by_test_id(f"case-row-{case['id']}")).to_have_count(0)
    got = office.case(case["id"]).json()
    assert (got["status"], got["outcome"]) == ("decided", "approved")
    assert {t["department"]: t["claimed_by"] for t in got["departments"]} == {
        "区卫健局": "ws1", "下陆公安分局": "ga1", "区医保局": "yb1", "区人社局": "rs1"}


def test_an_officer_of_another_department_does_not_see_the_case(office, pages):
    pg = pages.open("rs1")
    civil = office.accepted()                                          # 区民政局's
    joint = office.accepted("LB-001", LB001)                          # 区人社局 is one of four
    expect(pg.get_by_test_id(f"case-row-{joint['id']}")).to_be_visible()
    expect(pg.get_by_test_id(f"case-claimed-{joint['id']}")).to_contain_text("区人社局")
    for c in (civil, *office.old):
        expect(pg.get_by_test_id(f"case-row-{c['id']}")).to_have_count(0)
    assert office.case(civil["id"], "rs1").status_code == 403
    expect(pg.get_by_test_id("overdue-none")).to_be_visible()            # 区民政局's overdue cases are not its
    mz = pages.open("mz1")
    expect(mz.get_by_test_id(f"case-row-{civil['id']}")).to_be_visible()
    expect(mz.get_by_test_id(f"case-row-{joint['id']}")).to_have_count(0)


def test_overdue_cases_are_red_in_the_office_and_on_the_dashboard(office, pages):
    first, second = office.old
    pg = pages.open("mz1")
    row = pg.get_by_test_id(f"case-row-{first['id']}")
    expect(row).to_have_attribute("data-deadline", "red")
    expect(pg.get_by_test_id(f"case-deadline-{first['id']}")).to_contain_text("已超期")
    expect(pg.get_by_test_id(f"case-left-{first['id']}")).to_contain_text("超期 6 个工作日")   # due 11-16
    expect(pg.get_by_test_id(f"case-left-{second['id']}")).to_contain_text("超期 3 个工作日")  # due 11-19

    fresh = office.accepted()
    expect(pg.get_by_test_id(f"case-row-{fresh['id']}")).to_be_visible()
    colour = "e => getComputedStyle(e).backgroundColor"
    assert pg.get_by_test_id(f"case-deadline-{first['id']}").evaluate(colour) != \
        pg.get_by_test_id(f"case-deadline-{fresh['id']}").evaluate(colour)
    pg.get_by_test_id("filter-overdue").click()
    expect(pg.get_by_test_id("filter-overdue")).to_have_attribute("aria-pressed", "true")
    expect(pg.get_by_test_id(f"case-row-{fresh['id']}")).to_have_count(0)
    expect(row).to_be_visible()

    overdue = pg.get_by_test_id("overdue-dept-区民政局")
    rows = overdue.locator('[data-test-id^="overdue-row-"]')
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-test-id", f"overdue-row-{first['id']}")
    expect(pg.get_by_test_id(f"overdue-due-{first['id']}")).to_have_text("2026-11-16")
    pg.get_by_test_id("overdue-sort").click()                       # latest due first
    expect(rows.nth(0)).to_have_attribute("data-test-id", f"overdue-row-{second['id']}")
    expect(pg.get_by_test_id("overdue-sort")).to_have_attribute("data-order", "desc")

    dash = pages.open("offsup", "/dashboard")
    line = dash.get_by_test_id(f"overdue-case-{first['id']}")
    expect(line).to_contain_text(first["number"])
    expect(line).to_contain_text("临时救助申请")
    expect(dash.get_by_test_id(f"overdue-departments-{first['id']}")).to_have_text("区民政局")
    expect(dash.get_by_test_id(f"overdue-due-{first['id']}")).to_have_text("2026-11-16")
    expect(dash.get_by_test_id(f"overdue-days-{first['id']}")).to_have_text("6 个工作日")
    expect(dash.get_by_test_id("cases-deadline-red")).to_have_text("2")
    alert = dash.locator('[data-kind="case_overdue"]').filter(has_text=first["number"])
    expect(alert).to_contain_text("办件 已超期")
    accepted = int(dash.get_by_test_id("cases-count-accepted").text_content())
    office.accepted()                                                # a case event: the dashboard follows
    expect(dash.get_by_test_id("cases-count-accepted")).to_have_text(str(accepted + 1))
    office.act("mz1", first["id"], "claim")
    office.act("mz1", first["id"], "decide", {"outcome": "approved"})
    expect(line).to_have_count(0)
    expect(row).to_have_count(0)
    expect(dash.get_by_test_id("cases-deadline-red")).to_have_text("1")


def test_a_supervisor_reassigns_and_extends(office, pages):
    case = office.accepted()
    office.act("mz1", case["id"], "claim")
    pg = pages.open("offsup")
    expect(pg.get_by_test_id("filter-department-label")).to_be_visible()     # every department: a choice
    pg.get_by_test_id("filter-department").select_option("区民政局")
    open_case(pg, case)
    expect(pg.get_by_test_id("act-decide")).to_have_count(0)                   # only the claimer decides
    act_in_dialog(pg, "reassign", officer="mz2")
    expect(pg.get_by_test_id(f"case-claimed-{case['id']}")).to_contain_text("mz2")
    assert office.case(case["id"]).json()["claimed_by"] == "mz2"

    pg.get_by_test_id("act-extend").click()
    pg.get_by_test_id("action-days").fill("5")
    pg.get_by_test_id("action-confirm").click()                     # no reason yet
    expect(pg.get_by_test_id("action-error")).to_contain_text("延期原因")
    pg.get_by_test_id("action-reason").fill("需实地核查，经负责人批准")
    pg.get_by_test_id("action-confirm").click()
    expect(pg.get_by_test_id("detail-due")).to_contain_text("2026-12-15")      # 12-08 + 5 working days
    expect(pg.get_by_test_id("detail-extended-days")).to_contain_text("5")
    expect(pg.get_by_test_id(f"case-due-{case['id']}")).to_have_text("2026-12-15")
    got = office.case(case["id"]).json()
    assert (got["due"], got["extended_days"]) == ("2026-12-15", 5)
    assert got["history"][-1]["action"] == "extended" and got["history"][-1]["by"] == "offsup"


def test_a_reported_case_goes_up_with_its_first_opinion_before_the_answer(office, pages):
    case = office.accepted("SH-001", SH001)
    assert case["kind"] == "上报"
    office.act("mz1", case["id"], "claim")
    pg = pages.open("mz1")
    open_case(pg, case)
    expect(pg.get_by_test_id("act-decide")).to_have_count(0)            # the authority answers first
    act_in_dialog(pg, "report", opinion="经入户调查，符合低保条件", authority="市民政局")
    expect(pg.get_by_test_id("detail-report")).to_contain_text("市民政局：经入户调查，符合低保条件")
    pg.get_by_test_id("act-decide").click()
    pg.get_by_test_id("action-outcome-rejected").check()
    pg.get_by_test_id("action-confirm").click()                          # a rejection without its reasons
    expect(pg.get_by_test_id("action-error")).to_contain_text("理由")
    pg.get_by_test_id("action-opinion").fill("市民政局审核：家庭收入超过标准")
    pg.get_by_test_id("action-confirm").click()
    expect(pg.get_by_test_id("detail-status")).to_have_attribute("data-status", "decided")
    got = office.case(case["id"]).json()
    assert (got["outcome"], got["report"]["authority"]) == ("rejected", "市民政局")
    assert [h["action"] for h in got["history"]][-2:] == ["reported", "decided"]


def test_log_in_refusals_and_the_session(office, pages):
    pg = pages.open(None)
    expect(pg.get_by_test_id("login-panel")).to_be_visible()
    login(pg, "mz1", "wrong-password")
    expect(pg.get_by_test_id("error")).to_be_visible()
    assert pg.get_by_test_id("error-zh").text_content().strip() and pg.get_by_test_id("error-en").text_content().strip()
    login(pg, "offclerk", "offclerk-password")                       # a clerk works at the window, not here
    expect(pg.get_by_test_id("error-code")).to_have_text("role_forbidden")
    expect(pg.get_by_test_id("error-en")).to_contain_text("department or supervisor")
    expect(pg.get_by_test_id("desk")).to_be_hidden()
    login(pg, "mz1", "mz1-password")
    expect(pg.get_by_test_id("desk")).to_be_visible()
    expect(pg.get_by_test_id("user")).to_contain_text("区民政局")
    assert pg.evaluate("sessionStorage.getItem('onewindow.office.token')")
    pg.reload()
    expect(pg.get_by_test_id("desk")).to_be_visible()
    pg.get_by_test_id("logout").click()
    expect(pg.get_by_test_id("login-panel")).to_be_visible()
    assert pg.evaluate("sessionStorage.getItem('onewindow.office.token')") is None


def test_no_serious_accessibility_problems(office, pages):
    login_page = pages.open(None)
    expect(login_page.get_by_test_id("login-panel")).to_be_visible()
    assert serious_axe_problems(login_page) == []
    case = office.accepted()
    office.act("mz1", case["id"], "claim")
    pg = pages.open("mz1")
    open_case(pg, case)
    expect(pg.get_by_test_id("act-decide")).to_be_visible()
    assert serious_axe_problems(pg) == []
    pg.get_by_test_id("act-decide").click()
    expect(pg.get_by_test_id("action-dialog")).to_be_visible()
    assert serious_axe_problems(pg) == []
    pg.get_by_test_id("action-cancel").click()
    dash = pages.open("offsup", "/dashboard")
    expect(dash.get_by_test_id("cases-count-accepted")).to_be_visible()
    assert serious_axe_problems(dash) == []
