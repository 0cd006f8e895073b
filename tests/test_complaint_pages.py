"""The “办不成事” complaints pages in real Chromium (issue 17, item 4), against one server process.

/complaints: the clerk signed in at window 7 (the 办不成事 window) registers a complaint with a mobile number; a
supervisor classifies it (complex) and assigns it to 区民政局; a 区医保局 account opening it gets the 403 message; the
区民政局 account answers; the supervisor records the feedback, checks and files — each through the page's forms —
and the complaint ends `filed`, with the SMS of the registration and of the answer in the outbox. A wrong-order
step shows the 409 message. A case's status page /c/{code}: “办不成事？反映问题” registers one linked to the case
and shows its number; past the day's limit for the case the 429 message, and what was typed stays.
"""
from __future__ import annotations

import re

import pytest

PHONE = "13700001111"
APPLICANT = {"name": "张三", "phone": "13800000000", "id_number": "11010519491231002X"}


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    from kiosk_helpers import hall_config
    from serverproc import ServerProcess

    tmp = tmp_path_factory.mktemp("complaint-pages")
    srv = ServerProcess(tmp / "data", config=hall_config(tmp))
    srv.start()
    srv.http = srv.client(headers=srv.admin())
    for username, role, deps in (("clerk7", "clerk", []), ("sup1", "supervisor", []),
                                 ("mz1", "department", ["区民政局"]), ("yb1", "department", ["区医保局"])):
        body = {"username": username, "password": f"{username}-password", "role": role}
        if deps:
            body["departments"] = deps
        r = srv.http.post("/api/v1/users", json=body)
        assert r.status_code == 201, r.text
    r = srv.http.post("/api/v1/windows/7/login", headers=srv.login("clerk7", "clerk7-password"))
    assert r.status_code == 200, r.text
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def browser():
    from pages import chromium

    with chromium() as b:
        yield b


@pytest.fixture
def ctx(browser):
    c = browser.new_context(viewport={"width": 1600, "height": 1000})
    yield c
    c.close()


def staff_page(ctx, hall, username: str, errors: list[str]):
    from pages import expect

    p = ctx.new_page()                      # a tab of its own: its own sessionStorage, its own token
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.goto(f"{hall.url}/complaints")
    p.get_by_test_id("login-username").fill(username)
    p.get_by_test_id("login-password").fill(f"{username}-password")
    p.get_by_test_id("login-submit").click()
    expect(p.get_by_test_id("desk")).to_be_visible()
    expect(p.get_by_test_id("user")).to_contain_text(username)
    return p


def step(p, name: str, text: str | None = None, **selects: str) -> None:
    from pages import expect

    form = p.get_by_test_id(f"step-{name}")
    expect(form).to_be_visible()
    for test_id, value in selects.items():
        form.get_by_test_id(test_id).select_option(value)
    if text is not None:
        form.get_by_test_id(f"step-{name}-text").fill(text)
    form.get_by_test_id(f"step-{name}-submit").click()
    expect(p.get_by_test_id("notice")).to_be_visible()


def test_a_complaint_from_the_window_to_filed_through_the_page(ctx, hall):
    from pages import expect

    errors: list[str] = []
    # the terminal of window 7 links to the page; another window's does not
    assert 'data-test-id="complaints-link"' in hall.http.get("/window/7").text
    assert 'data-test-id="complaints-link"' not in hall.http.get("/window/3").text
    assert 'href="/complaints"' in hall.http.get("/office").text

    clerk = staff_page(ctx, hall, "clerk7", errors)
    expect(clerk.get_by_test_id("csv-link")).to_be_hidden()            # the 台账 is the supervisors'
    clerk.get_by_test_id("reg-text").fill("社保转移接续材料反复被要求补交，跑了三次没办成")
    clerk.get_by_test_id("reg-department").select_option("区人社局")
    clerk.get_by_test_id("reg-window").select_option("3")
    clerk.get_by_test_id("reg-name").fill("王五")
    clerk.get_by_test_id("reg-phone").fill(PHONE)
    clerk.get_by_test_id("reg-submit").click()
    number = clerk.get_by_test_id("reg-number")
    expect(number).to_have_text(re.compile(r"^BC\d{8}-\d{3}$"))
    number = number.text_content()
    expect(clerk.get_by_test_id("detail-number")).to_have_text(number)
    expect(clerk.get_by_test_id("detail-status")).to_contain_text("已登记")
    expect(clerk.get_by_test_id(f"row-{number}")).to_have_attribute("data-status", "registered")
    cid = next(c["id"] for c in hall.http.get("/api/v1/complaints").json()["complaints"] if c["number"] == number)

    sup = staff_page(ctx, hall, "sup1", errors)
    expect(sup.get_by_test_id("csv-link")).to_be_visible()
    sup.get_by_test_id(f"open-{number}").click()
    expect(sup.get_by_test_id("detail-number")).to_have_text(number)
    step(sup, "classify", "涉及跨部门材料", **{"step-class": "complex"})
    expect(sup.get_by_test_id("detail-class")).to_contain_text("复杂")
    step(sup, "assign", **{"step-department": "区民政局"})
    expect(sup.get_by_test_id("detail-assigned")).to_have_text("区民政局")
    expect(sup.get_by_test_id(f"row-{number}")).to_have_attribute("data-status", "assigned")

    # a department it was not passed to: the bilingual 403 on the page
    other = staff_page(ctx, hall, "yb1", errors)
    other.goto(f"{hall.url}/complaints#{cid}")
    other.reload()
    expect(other.get_by_test_id("error")).to_be_visible()
    expect(other.get_by_test_id("error-code")).to_have_text("not_your_department")
    expect(other.get_by_test_id("error-zh")).to_contain_text("无权")
    expect(other.get_by_test_id("error-en")).to_contain_text("may not")
    expect(other.get_by_test_id("detail")).to_be_hidden()

    dept = staff_page(ctx, hall, "mz1", errors)
    dept.get_by_test_id(f"open-{number}").click()
    expect(dept.get_by_test_id("step-classify")).to_have_count(0)      # only its own step is offered
    step(dept, "answer", "已协调区人社局当场办结转移接续")
    expect(dept.get_by_test_id("detail-status")).to_contain_text("已办结")

    # the supervisor's page still shows the old state: a stale step is the 409 message, then the fresh state
    step_form = sup.get_by_test_id("step-assign")
    step_form.get_by_test_id("step-department").select_option("区医保局")
    step_form.get_by_test_id("step-assign-submit").click()
    expect(sup.get_by_test_id("error-code")).to_have_text("complaint_state")
    expect(sup.get_by_test_id("error-en")).to_contain_text("moved on")
    expect(sup.get_by_test_id("detail-status")).to_contain_text("已办结")

    step(sup, "feedback", "已电话告知王五办理结果")
    step(sup, "check", "回访属实")
    step(sup, "file")
    expect(sup.get_by_test_id("detail-number")).to_have_attribute("data-status", "filed")
    expect(sup.get_by_test_id("detail-steps").locator("li")).to_have_count(7)
    sup.get_by_test_id("filter-status").select_option("filed")
    expect(sup.get_by_test_id(f"row-{number}")).to_have_attribute("data-status", "filed")

    c = hall.http.get(f"/api/v1/complaints/{cid}").json()
    assert c["status"] == "filed" and c["class"] == "complex" and c["assigned_department"] == "区民政局"
    assert [s["step"] for s in c["steps"]] == ["register", "classify", "assign", "answer", "feedback", "check", "file"]
    kinds = [m["kind"] for m in hall.http.get("/api/v1/outbox").json()["messages"]]
    assert "complaint_registered" in kinds and "complaint_answered" in kinds

    # the 台账 downloads from the page
    with sup.expect_download() as dl:
        sup.get_by_test_id("csv-link").click()
    assert number in open(dl.value.path(), encoding="utf-8-sig").read()
    assert errors == []


def test_the_status_page_form_registers_one_linked_to_the_case(browser, hall):
    from pages import expect, serious_axe_problems

    case = hall.http.post("/api/v1/cases", json={"matter": "SH-003", "applicant": APPLICANT,
                                                 "materials": [{"name": "居民身份证原件", "state": "original"}]})
    assert case.status_code == 201, case.text
    case = case.json()
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    errors: list[str] = []
    p = ctx.new_page()
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.goto(f"{hall.url}/c/{case['query_code']}")
    expect(p.get_by_test_id("case-number")).to_have_text(case["number"])
    expect(p.get_by_test_id("complaint-form")).to_be_hidden()
    p.get_by_test_id("complaint-open").click()
    assert serious_axe_problems(p) == []
    p.get_by_test_id("complaint-text").fill("窗口说材料不全，但没有告诉我缺什么")
    p.get_by_test_id("complaint-phone").fill(PHONE)
    p.get_by_test_id("complaint-submit").click()
    msg = p.get_by_test_id("complaint-message")
    expect(msg).to_have_attribute("data-kind", "ok")
    expect(msg).to_contain_text("已收到您的反映")
    number = msg.get_attribute("data-number")
    found = [c for c in hall.http.get("/api/v1/complaints").json()["complaints"] if c["number"] == number]
    assert len(found) == 1 and found[0]["case"] == case["id"] and found[0]["case_number"] == case["number"]
    assert found[0]["channel"] == "status_page"
    assert number in msg.text_content()

    # the page's day's limit for this case (3): the fourth is the 429 message, the words kept
    for _ in range(2):
        r = hall.http.post("/api/v1/complaints/public", json={"query_code": case["query_code"], "text": "又一次"})
        assert r.status_code == 201, r.text
    p.reload()
    p.get_by_test_id("complaint-open").click()
    p.get_by_test_id("complaint-text").fill("第四次反映")
    p.get_by_test_id("complaint-submit").click()
    expect(msg).to_have_attribute("data-kind", "error")
    expect(msg).to_contain_text("please come to the 办不成事 window")
    expect(p.get_by_test_id("complaint-text")).to_have_value("第四次反映")
    # a bad phone: the 422 message
    p.get_by_test_id("complaint-phone").fill("12")
    p.get_by_test_id("complaint-submit").click()
    expect(msg).to_contain_text("请检查填写的内容")
    assert errors == []
    ctx.close()


def test_register_by_case_number_and_the_refusals_on_the_page(ctx, hall):
    from pages import expect, serious_axe_problems

    case = hall.http.post("/api/v1/cases", json={"matter": "SH-003", "applicant": APPLICANT,
                                                 "materials": [{"name": "居民身份证原件", "state": "original"}]}).json()
    errors: list[str] = []
    clerk = staff_page(ctx, hall, "clerk7", errors)
    assert serious_axe_problems(clerk) == []
    form = clerk.get_by_test_id("register-form")
    form.get_by_test_id("reg-text").fill("补正告知不清楚")
    form.get_by_test_id("reg-case").fill("SL00000000-999")                  # no such case: said before sending
    form.get_by_test_id("reg-submit").click()
    expect(clerk.get_by_test_id("error-code")).to_have_text("unknown_case")
    expect(clerk.get_by_test_id("error-en")).to_contain_text("Check what was entered")
    form.get_by_test_id("reg-case").fill(case["number"])
    form.get_by_test_id("reg-phone").fill("12")                             # the server's 422, words kept
    form.get_by_test_id("reg-submit").click()
    expect(clerk.get_by_test_id("error")).to_have_attribute("data-status", "422")
    expect(form.get_by_test_id("reg-text")).to_have_value("补正告知不清楚")
    form.get_by_test_id("reg-phone").fill("")
    form.get_by_test_id("reg-submit").click()
    expect(clerk.get_by_test_id("reg-number")).to_be_visible()
    number = clerk.get_by_test_id("reg-number").text_content()
    found = [c for c in hall.http.get("/api/v1/complaints").json()["complaints"] if c["number"] == number]
    assert found[0]["case"] == case["id"] and found[0]["channel"] == "window" and found[0]["contact"] is None
    assert serious_axe_problems(clerk) == []

    # a clerk who is not at window 7 may not register: the 403 in both languages
    r = hall.http.post("/api/v1/users", json={"username": "clerk3", "password": "clerk3-password", "role": "clerk"})
    assert r.status_code == 201, r.text
    other = staff_page(ctx, hall, "clerk3", errors)
    other.get_by_test_id("reg-text").fill("测试")
    other.get_by_test_id("reg-submit").click()
    expect(other.get_by_test_id("error-code")).to_have_text("not_complaint_window")
    expect(other.get_by_test_id("error-en")).to_contain_text("may not do that")
    assert errors == []
