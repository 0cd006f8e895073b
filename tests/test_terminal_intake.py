"""受理 at the window terminal /window/{n} (issue 15, item 8) in headless Chromium against a real server process.

A whole 承诺件 through the page: a ticket issued through the API, called and started at window 3, SH-003
taken in with every item, accepted with the due date the server computed, its notice printed, then claimed
and decided by a department officer through the API while the page's 办件 tab follows. A case with a
missing item: accept refused (409 naming the item), 补正 asked in the page, the item handed in later from the
tab → accepted. A 联办件 (LB-001) at window 8 with its four departments; a 即办件 decided at the window; a
refusal with its reason; and the API's 422 for a bad ID number shown as it is.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from pages import chromium, expect, serious_axe_problems
from serverproc import DISTRICT, ServerProcess, without_devices

pytestmark = pytest.mark.slow
ID = "11010519491231002X"                   # a valid GB 11643 number (the standard's example)
SH003 = ["居民身份证原件", "临时救助申请书", "遭遇困难的相关证明"]
LB001_DEPARTMENTS = ["区卫健局", "下陆公安分局", "区医保局", "区人社局"]
CLERKS = {3: "intake3", 8: "intake8"}


def intake_config(tmp: Path) -> Path:
    """The district hall without its devices, no call debounce, and a simulated receipt printer at windows 3 and 8."""
    text = without_devices(DISTRICT.read_text())
    text = re.sub(r"(?m)^(recall_cooldown_s|call_debounce_s)\s*=.*$", r"\1 = 0", text)
    for n in CLERKS:
        text += (f'\n[[devices]]\nname = "window{n}-printer"\nkind = "printer"\nwindow = {n}\n'
                 f'url = "sim://printer?width=80&out={tmp / f"printer-w{n}"}"\n')
    path = tmp / "intake-hall.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("intake")
    srv = ServerProcess(tmp / "data", config=intake_config(tmp))
    srv.start()
    srv.printed = {n: tmp / f"printer-w{n}" for n in CLERKS}
    for username in CLERKS.values():
        srv.make_user(username, "clerk")
    yield srv
    srv.kill()      # stop() would wait for the page's WebSocket to end


@pytest.fixture(scope="module")
def api(server):
    http = server.client(headers=server.admin())
    # the notices (受理通知书 …) come from another part of the server: test them where they are served
    probe = http.post("/api/v1/cases/999999/print", json={"notice": "acceptance"})
    http.notice_printing = probe.json()["error"]["code"] == "case_not_found"
    a4 = http.get("/cases/999999/notice/acceptance")
    http.notice_pages = a4.status_code == 404 and a4.json()["error"]["code"] == "case_not_found"
    return http


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def reset(api, n: int) -> None:
    """Window n open with nothing current, and nobody waiting."""
    w = api.get(f"/api/v1/windows/{n}").json()
    if w["current"]:
        api.post(f"/api/v1/windows/{n}/finish").raise_for_status()
    if w["state"] == "closed":
        api.post(f"/api/v1/windows/{n}/open").raise_for_status()
    for t in api.get("/api/v1/tickets", params={"status": "waiting"}).json():
        api.post(f"/api/v1/tickets/{t['id']}/cancel", json={"reason": "test reset"}).raise_for_status()


@pytest.fixture
def desk(browser, server, api):
    """Open a fresh session on /window/n logged in as that window's clerk: desk(n) → page."""
    contexts, errors, foreign = [], [], []
    host = urlsplit(server.url).netloc

    def open_desk(n: int):
        reset(api, n)
        ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
        ctx.add_init_script("window.print = () => { window.printCalls = (window.printCalls || 0) + 1; };")
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.allowed = re.compile(r"status of (409|422|404|503)")         # what the tests make the API answer
        pg.on("console", lambda m: m.type == "error" and not pg.allowed.search(m.text) and errors.append(m.text))
        pg.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        pg.on("request", lambda req: urlsplit(req.url).netloc not in (host, "") and foreign.append(req.url))
        pg.goto(f"{server.url}/window/{n}")
        pg.get_by_test_id("login-username").fill(CLERKS[n])
        pg.get_by_test_id("login-password").fill(f"{CLERKS[n]}-password")
        pg.get_by_test_id("login-submit").click()
        expect(pg.get_by_test_id("desk")).to_be_visible()
        expect(pg.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
        return pg

    yield open_desk
    for ctx in contexts:
        ctx.close()
    assert not errors, f"the page logged errors: {errors}"
    assert not foreign, f"the page asked other hosts: {foreign}"


def serve(page, api, matter: str) -> dict:
    """A ticket issued through the API, called (key 1) and started (key 3) at the page's window."""
    ticket = api.post("/api/v1/tickets", json={"matter": matter}).raise_for_status().json()
    page.keyboard.press("1")
    expect(page.get_by_test_id("current-number")).to_have_text(ticket["number"])
    page.keyboard.press("3")
    expect(page.get_by_test_id("current")).to_have_attribute("data-status", "serving")
    return ticket


def take_in(page, matter: str, states: list[str], name: str = "张三", id_number: str | None = ID) -> None:
    """Open 受理 for the current ticket, check its matter is chosen, mark the items, enter the applicant."""
    page.get_by_test_id("intake-open").click()
    expect(page.get_by_test_id("intake-dialog")).to_be_visible()
    expect(page.get_by_test_id("intake-matter")).to_have_value(matter)
    items = page.get_by_test_id("intake-items").locator("fieldset.item")
    expect(items).to_have_count(len(states))
    for i, state in enumerate(states):
        page.get_by_test_id(f"intake-item-{i}-{state}").check()
    page.get_by_test_id("intake-name").fill(name)
    page.get_by_test_id("intake-phone").fill("13800000000")
    if id_number:
        page.get_by_test_id("intake-id").fill(id_number)


def case_by_number(api, number: str) -> dict:
    found = api.get("/api/v1/cases", params={"q": number}).json()["cases"]
    assert len(found) == 1, found
    return api.get(f"/api/v1/cases/{found[0]['id']}").json()


def officer(server, api, username: str, department: str) -> httpx.Client:
    r = api.post("/api/v1/users", json={"username": username, "password": f"{username}-password",
                                        "role": "department", "departments": [department]})
    assert r.status_code == 201, r.text
    return server.client(headers=server.login(username, f"{username}-password"))


def printed(out: Path, number: str, title: str, timeout: float = 10.0) -> str:
    """The simulated printer's receipt (its .txt, written once the cut arrives) with the case's notice."""
    deadline = time.monotonic() + timeout
    while True:
        for txt in sorted(out.glob("*.txt")) if out.exists() else []:
            text = txt.read_text(errors="replace")
            if number in text and title in text:
                return text
        assert time.monotonic() < deadline, f"no {title} of {number} printed in {out}"
        time.sleep(0.05)


def check_notice_prints(page, api, server, n: int, number: str, title: str) -> None:
    """The window printer prints the case's notice (when the server prints notices); the A4 page opens."""
    page.get_by_test_id("print-window").click()
    result = page.get_by_test_id("print-result")
    if api.notice_printing:
        expect(result).to_have_attribute("data-state", "ok")
        assert printed(server.printed[n], number, title)
    else:
        expect(result).to_have_attribute("data-state", "error")
        expect(result).to_contain_text("A4")
    with page.context.expect_page() as popup_info:
        page.get_by_test_id("print-a4").click()
    popup = popup_info.value
    if api.notice_pages:
        expect(popup.get_by_test_id("notice-title")).to_have_text(title)
        expect(popup.get_by_test_id("notice-number")).to_contain_text(number)
        expect(result).to_have_attribute("data-state", "ok")
        assert popup.evaluate("window.printCalls") == 1
        popup.close()
    else:
        expect(result).to_have_attribute("data-state", "error")
        expect(result).to_contain_text("尚无 A4 通知书页面")


# -- a 承诺件 from the ticket to decided ------------------------------------------------------------------------
def test_a_promised_case_from_the_ticket_to_decided(desk, api, server):
    page = desk(3)
    ticket = serve(page, api, "SH-003")
    take_in(page, "SH-003", ["original", "original", "copy"])
    expect(page.get_by_test_id("intake-facts")).to_contain_text("承诺 10 个工作日")
    expect(page.get_by_test_id("intake-facts")).to_contain_text("区民政局")
    assert serious_axe_problems(page) == []
    page.get_by_test_id("intake-register").click()
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "received")
    number = page.get_by_test_id("case-number").inner_text()
    case = case_by_number(api, number)
    assert case["ticket"] == ticket["id"] and case["window"] == 3 and case["missing"] == []
    assert [m["state"] for m in case["materials"]] == ["original", "original", "copy"]
    expect(page.get_by_test_id("case-applicant")).to_contain_text(case["applicant"]["id_masked"])
    assert ID not in page.content()                     # the number went to the server only

    page.get_by_test_id("case-accept").click()
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "accepted")
    case = case_by_number(api, number)
    assert case["status"] == "accepted" and case["due"] and case["legal_due"] > case["due"]
    expect(page.get_by_test_id("case-due")).to_have_attribute("data-date", case["due"])
    expect(page.get_by_test_id("case-legal-due")).to_have_attribute("data-date", case["legal_due"])
    expect(page.get_by_test_id("intake-error")).to_contain_text(f"承诺 {case['due']} 前办结")
    expect(page.get_by_test_id("case-departments").locator("li")).to_have_attribute("data-department", "区民政局")
    assert serious_axe_problems(page) == []
    check_notice_prints(page, api, server, 3, number, "受理通知书")

    page.get_by_test_id("case-done").click()
    expect(page.get_by_test_id("intake-dialog")).to_be_hidden()
    page.get_by_test_id("tab-cases").click()
    row = page.get_by_test_id("cases-today").locator(f'[data-number="{number}"]')
    expect(row).to_have_attribute("data-status", "accepted")
    expect(page.get_by_test_id("cases-count")).not_to_have_text("")
    assert serious_axe_problems(page) == []

    mz = officer(server, api, "mz-intake", "区民政局")          # the back office, through the API
    assert mz.post(f"/api/v1/cases/{case['id']}/claim").status_code == 200
    expect(row).to_have_attribute("data-status", "in_review")
    r = mz.post(f"/api/v1/cases/{case['id']}/decide", json={"outcome": "approved", "opinion": "符合临时救助条件"})
    assert r.status_code == 200 and r.json()["status"] == "decided"
    expect(row).to_have_attribute("data-status", "decided")
    page.keyboard.press("5")
    expect(page.get_by_test_id("current-number")).to_have_text("—")


# -- 补正: asked in the page, the missing item handed in later → accepted ---------------------------------------
def test_a_missing_item_is_asked_for_once_then_handed_in(desk, api, server):
    page = desk(3)
    serve(page, api, "SH-003")
    take_in(page, "SH-003", ["original", "original", "missing"], name="李四")
    page.get_by_test_id("intake-register").click()
    expect(page.get_by_test_id("case-missing")).to_contain_text("遭遇困难的相关证明")
    number = page.get_by_test_id("case-number").inner_text()

    page.get_by_test_id("case-accept").click()            # 409 materials_missing, naming the item
    expect(page.get_by_test_id("intake-error")).to_contain_text("尚缺必备材料：遭遇困难的相关证明")
    expect(page.get_by_test_id("intake-error-en")).to_contain_text("still lacks required items")
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "received")

    page.get_by_test_id("case-supplement").click()
    expect(page.get_by_test_id("sup-item-2")).to_be_checked()            # the missing item, pre-selected
    expect(page.get_by_test_id("sup-item-0")).not_to_be_checked()
    assert serious_axe_problems(page) == []
    page.get_by_test_id("sup-note").fill("请补交街道出具的困难证明")
    page.get_by_test_id("sup-submit").click()
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "supplement")
    expect(page.get_by_test_id("intake-error")).to_contain_text("已一次性告知补正：遭遇困难的相关证明")
    case = case_by_number(api, number)
    assert case["status"] == "supplement" and case["missing"] == ["遭遇困难的相关证明"]
    assert case["supplement_note"] == "请补交街道出具的困难证明"
    check_notice_prints(page, api, server, 3, number, "一次性告知书")
    page.get_by_test_id("case-done").click()
    page.keyboard.press("5")                                             # the applicant leaves
    expect(page.get_by_test_id("current-number")).to_have_text("—")

    # … and comes back with it: found in the 待补正 list of the 办件 tab
    page.get_by_test_id("tab-cases").click()
    row = page.get_by_test_id("cases-supplement").locator(f'[data-number="{number}"]')
    row.click()
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "supplement")
    page.get_by_test_id("case-handin").click()
    expect(page.get_by_test_id("handin").locator("fieldset.item")).to_have_count(1)
    page.get_by_test_id("handin-item-0-original").check()
    page.get_by_test_id("handin-submit").click()
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "accepted")
    case = case_by_number(api, number)
    assert case["status"] == "accepted" and case["missing"] == [] and case["due"]
    expect(page.get_by_test_id("case-due")).to_have_attribute("data-date", case["due"])
    assert [h["action"] for h in case["history"]] == ["received", "supplement_requested", "materials_received",
                                                      "accepted"]
    page.get_by_test_id("case-done").click()
    expect(row).to_be_hidden()                                           # no longer waiting
    expect(page.get_by_test_id("cases-today").locator(f'[data-number="{number}"]')).to_have_attribute(
        "data-status", "accepted")


# -- a 联办件 at window 8 -----------------------------------------------------------------------------------------
def test_a_joint_case_at_window_8_shows_its_four_departments(desk, api, server):
    page = desk(8)
    serve(page, api, "LB-001")
    page.get_by_test_id("intake-open").click()
    expect(page.get_by_test_id("intake-matter")).to_have_value("LB-001")
    expect(page.get_by_test_id("intake-facts")).to_contain_text("联办部门：" + "、".join(LB001_DEPARTMENTS))
    page.get_by_test_id("intake-all-original").click()
    page.get_by_test_id("intake-name").fill("王五")
    page.get_by_test_id("intake-has-agent").check()
    page.get_by_test_id("intake-agent-name").fill("王小五")
    page.get_by_test_id("intake-channel").select_option("proxy")
    page.get_by_test_id("intake-register").click()
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "received")
    page.get_by_test_id("case-accept").click()
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "accepted")
    tasks = page.get_by_test_id("case-departments").locator("li")
    expect(tasks).to_have_count(4)
    assert [tasks.nth(i).get_attribute("data-department") for i in range(4)] == LB001_DEPARTMENTS
    expect(tasks.first).to_have_attribute("data-state", "open")
    case = case_by_number(api, page.get_by_test_id("case-number").inner_text())
    assert case["status"] == "accepted" and case["window"] == 8 and case["channel"] == "proxy"
    assert case["agent"]["name"] == "王小五" and all(m["state"] == "original" for m in case["materials"])
    expect(page.get_by_test_id("case-due")).to_have_attribute("data-date", case["due"])
    check_notice_prints(page, api, server, 8, case["number"], "受理通知书")


# -- 即办 decided at the window; a refusal; the API's 422 ---------------------------------------------------------
def test_an_instant_case_is_decided_at_the_window(desk, api):
    page = desk(3)
    serve(page, api, "WJ-001")
    page.get_by_test_id("intake-open").click()
    expect(page.get_by_test_id("intake-facts")).to_contain_text("当场办结")
    page.get_by_test_id("intake-all-original").click()
    page.get_by_test_id("intake-name").fill("赵六")
    page.get_by_test_id("intake-register").click()
    page.get_by_test_id("case-accept").click()
    page.get_by_test_id("case-decide").click()
    page.get_by_test_id("decide-approved").check()
    page.get_by_test_id("decide-submit").click()
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "decided")
    expect(page.get_by_test_id("case-outcome")).to_contain_text("准予")
    case = case_by_number(api, page.get_by_test_id("case-number").inner_text())
    assert (case["status"], case["outcome"]) == ("decided", "approved")
    expect(page.get_by_test_id("case-print")).to_have_attribute("data-notice", "acceptance")


def test_a_bad_id_number_is_shown_then_the_case_is_refused_with_its_reason(desk, api, server):
    page = desk(3)
    serve(page, api, "SH-003")
    take_in(page, "SH-003", ["original", "missing", "missing"], id_number="110105194912310021")
    page.get_by_test_id("intake-register").click()           # 422 invalid_id_number, as the API says it
    expect(page.get_by_test_id("intake-error-zh")).to_have_text("申请人的身份证号码无效，请核对后重新输入")
    expect(page.get_by_test_id("intake-id")).to_be_focused()
    expect(page.get_by_test_id("intake-form")).to_be_visible()
    page.get_by_test_id("intake-id").fill(ID)
    page.get_by_test_id("intake-register").click()
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "received")
    number = page.get_by_test_id("case-number").inner_text()
    page.get_by_test_id("case-refuse").click()
    page.get_by_test_id("refuse-submit").click()              # no reason: asked for, nothing sent
    expect(page.get_by_test_id("intake-error")).to_contain_text("请填写不予受理的理由")
    page.get_by_test_id("refuse-reason").fill("不属于本机关职权范围，请向区市场监管局申请")
    page.get_by_test_id("refuse-organ").fill("区市场监管局")
    page.get_by_test_id("refuse-submit").click()
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "refused")
    expect(page.get_by_test_id("case-reason")).to_contain_text("不属于本机关职权范围")
    assert case_by_number(api, number)["status"] == "refused"
    check_notice_prints(page, api, server, 3, number, "不予受理通知书")
    if api.notice_printing:                 # the printer out of paper: said in both languages, the case kept
        api.post("/api/v1/devices/window3-printer/simulate", json={"paper": "out"}).raise_for_status()
        try:
            page.get_by_test_id("print-window").click()
            result = page.get_by_test_id("print-result")
            expect(result).to_have_attribute("data-state", "error")
            expect(result).to_contain_text("未能在 3 号窗口打印")
            expect(result).to_contain_text("was not printed at window 3")
            expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "refused")
            assert case_by_number(api, number)["status"] == "refused"
        finally:
            api.post("/api/v1/devices/window3-printer/simulate", json={"paper": "ok"}).raise_for_status()
