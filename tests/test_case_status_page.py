"""A case's public status page `/c/{query_code}` (the QR code on every notice, opened on a citizen's phone).

In process: the page through every step of a 承诺件 (收件 → 一次性告知补正 with the missing items → 受理 →
部门审查 → 暂停计时 → 办结 → 待取件 → 已出件), the working days left on the hall's calendar, and never a name,
phone, ID number, address or staff user name in its HTML; an unknown code is a 404 page in both languages.
In real Chromium on a phone-sized screen: the page follows a case taken in through the API while it goes through
补正 → accepted → claimed → decided, without reloading, asks no other host, and passes axe-core.
"""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from api_helpers import clerk_at

TZ = ZoneInfo("Asia/Shanghai")
ID = "11010519491231002X"
APPLICANT = {"name": "张三", "phone": "13800000000", "id_number": ID}
MATERIALS = ["居民身份证原件", "临时救助申请书", "遭遇困难的相关证明"]          # SH-003 临时救助申请, 区民政局
ADDRESS = "下陆区团结路88号"


def officer(client, username: str, *departments: str) -> dict:
    password = f"{username}-password"
    r = client.post("/api/v1/users", json={"username": username, "password": password, "role": "department",
                                           "departments": list(departments)}, headers=client.admin)
    assert r.status_code == 201, r.text
    return client.headers_for(username, password)


def act(client, headers, case_id, action, body=None) -> dict:
    r = client.post(f"/api/v1/cases/{case_id}/{action}", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def personal(case: dict) -> list[str]:
    """What must never be on the public page: the applicant, and who handled the case."""
    return ["张三", "13800000000", ID, case["applicant"]["id_masked"], "clerk3", "mz1", "李四", ADDRESS, "collector",
            "applicant", "id_masked", "claimed_by"]


def page(client, case: dict) -> str:
    r = client.get(f"/c/{case['query_code']}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
    for word in personal(case):
        assert word not in r.text, f"{word!r} is on the public page"
    return r.text


def state_of(html: str) -> str:
    return re.search(r'data-test-id="case-state" data-status="([a-z_]+)"', html).group(1)


def steps_of(html: str) -> list[str]:
    return re.findall(r'<li class="done[^"]*" data-step="([a-z_]+)"', html)


def test_the_page_shows_each_step_and_nothing_personal(client, clock):
    clerk = clerk_at(client, 3)
    r = client.post("/api/v1/cases", headers=clerk, json={
        "matter": "SH-003", "applicant": APPLICANT, "materials": [{"name": MATERIALS[0], "state": "original"}]})
    case = r.json()
    html = page(client, case)
    assert state_of(html) == "received" and steps_of(html) == ["received"]
    assert case["number"] in html and "临时救助申请" in html and "已收件" in html
    assert 'data-live="yes"' in html and "/static/case_status.js" in html and 'data-step="accepted"' in html

    act(client, clerk, case["id"], "request-supplement", {"missing": MATERIALS[1:], "note": "请一次补齐"})
    html = page(client, case)
    assert state_of(html) == "supplement" and steps_of(html) == ["received", "supplement_requested"]
    missing = re.search(r'data-test-id="case-missing">(.*?)</div>', html, re.S).group(1)
    assert all(m in missing for m in MATERIALS[1:]) and MATERIALS[0] not in missing
    assert "一次性告知补正" in html and "请补齐" in html and "Please bring these missing items" in html
    assert 'data-test-id="case-due"' not in html            # no due date before acceptance

    act(client, clerk, case["id"], "materials",
        {"materials": [{"name": m, "state": "original"} for m in MATERIALS[1:]]})
    html = page(client, case)
    assert state_of(html) == "accepted" and steps_of(html)[-2:] == ["materials_received", "accepted"]
    assert 'data-test-id="case-missing"' not in html
    # accepted Tue 2026-11-24: due Tue 12-08, ten working days from Wednesday
    assert 'data-due="2026-12-08"' in html and "2026年12月8日（周二）" in html
    assert re.search(r'data-test-id="days-left" data-tone="ok">还剩 10 个工作日', html)

    mz = officer(client, "mz1", "区民政局")
    act(client, mz, case["id"], "claim")
    html = page(client, case)
    assert state_of(html) == "in_review" and steps_of(html)[-1] == "claimed" and "区民政局" in html
    assert 'aria-current="step"' in html and "部门审查" in html

    act(client, mz, case["id"], "suspend", {"reason": "入户核查"})
    html = page(client, case)
    assert state_of(html) == "suspended" and "暂停计时" in html and 'data-tone="paused"' in html
    assert "入户核查" not in html                              # the reason is the department's, not the page's
    act(client, mz, case["id"], "resume")

    act(client, mz, case["id"], "decide", {"outcome": "approved", "opinion": "经张三家庭走访，符合条件"})
    html = page(client, case)
    assert state_of(html) == "decided" and steps_of(html)[-1] == "decided" and "已办结（准予办理）" in html
    assert 'data-test-id="days-left"' not in html and "走访" not in html

    act(client, clerk, case["id"], "ready", {"via": "window"})
    html = page(client, case)
    assert state_of(html) == "ready" and "待取件" in html and "出件窗口" in html
    act(client, clerk, case["id"], "deliver", {"collector": {"name": "李四", "id_number": ID, "proxy": True,
                                                              "authorisation": "授权委托书"}})
    html = page(client, case)
    assert state_of(html) == "delivered" and steps_of(html)[-1] == "delivered" and 'data-live="no"' in html
    assert steps_of(html) == ["received", "supplement_requested", "materials_received", "accepted", "claimed",
                              "suspended", "resumed", "decided", "ready", "delivered"]
    assert 'class="ahead"' not in html                        # nothing more to come


def test_working_days_left_count_the_halls_calendar(client, clock):
    clock.set(datetime(2026, 9, 29, 10, 0, tzinfo=TZ))       # accepted before National Day: due Mon 10-19
    clerk = clerk_at(client, 3)
    case = client.post("/api/v1/cases", headers=clerk, json={
        "matter": "SH-003", "applicant": APPLICANT,
        "materials": [{"name": m, "state": "original"} for m in MATERIALS]}).json()
    act(client, clerk, case["id"], "accept")
    html = page(client, case)
    assert 'data-due="2026-10-19"' in html and "还剩 10 个工作日" in html
    clock.set(datetime(2026, 10, 8, 10, 0, tzinfo=TZ))       # Thu after the holiday; Sat 10-10 is worked
    html = page(client, case)
    assert "还剩 8 个工作日" in html                          # 10-09, Sat 10-10 (worked), 10-12…16, 10-19
    clock.set(datetime(2026, 10, 19, 10, 0, tzinfo=TZ))
    assert 'data-tone="amber">今天到期' in page(client, case)
    clock.set(datetime(2026, 10, 21, 10, 0, tzinfo=TZ))
    html = page(client, case)
    assert 'data-tone="red">已超过承诺期限 2 个工作日' in html and "2 working days past" in html


def test_an_unknown_code_is_a_friendly_404_page_in_both_languages(client):
    for code in ("x" * 16, "short", "y" * 60):
        r = client.get(f"/c/{code}")
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert "没有找到这个办件" in r.text and "No such case" in r.text and "自助机" in r.text
        assert 'data-test-id="case-not-found"' in r.text and "case_status.js" not in r.text


# -- in real Chromium ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    from kiosk_helpers import hall_config
    from serverproc import ServerProcess

    tmp = tmp_path_factory.mktemp("case-page")
    srv = ServerProcess(tmp / "data", config=hall_config(tmp))
    srv.start()
    srv.http = srv.client(headers=srv.admin())
    r = srv.http.post("/api/v1/users", json={"username": "mz1", "password": "mz1-password", "role": "department",
                                             "departments": ["区民政局"]})
    assert r.status_code == 201, r.text
    srv.officer = srv.client(headers=srv.login("mz1", "mz1-password"))
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def browser():
    from pages import chromium

    with chromium() as b:
        yield b


def test_the_page_follows_a_case_by_itself_on_a_phone(browser, hall):
    from pages import expect, serious_axe_problems

    http, mz = hall.http, hall.officer
    case = http.post("/api/v1/cases", json={"matter": "SH-003", "applicant": APPLICANT,
                                            "materials": [{"name": MATERIALS[0], "state": "original"}]}).json()
    http.post(f"/api/v1/cases/{case['id']}/request-supplement", json={"missing": MATERIALS[1:]}).raise_for_status()
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              timezone_id="Europe/Berlin")
    foreign: list[str] = []
    errors: list[str] = []
    p = ctx.new_page()
    p.on("request", lambda r: urlsplit(r.url).netloc != urlsplit(hall.url).netloc and not r.url.startswith("data:")
         and foreign.append(r.url))
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.goto(f"{hall.url}/c/{case['query_code']}?every=2")
    expect(p.get_by_test_id("case-number")).to_have_text(case["number"])
    expect(p.get_by_test_id("case-state")).to_contain_text("待补正")
    for item in MATERIALS[1:]:
        expect(p.get_by_test_id("case-missing")).to_contain_text(item)
    expect(p.locator('[data-step="supplement_requested"]')).to_contain_text("一次性告知补正")
    assert serious_axe_problems(p) == []
    p.evaluate("window.notReloaded = true")
    # while nothing changes, the page only polls the public status: its fingerprint matches the server's
    pages_fetched: list[str] = []
    p.on("request", lambda r: urlsplit(r.url).path.startswith("/c/") and pages_fetched.append(r.url))
    for _ in range(2):
        with p.expect_request(lambda r: "/api/v1/case-status/" in r.url, timeout=10_000):
            pass
    assert pages_fetched == []

    def shows(state: str, step: str) -> None:
        expect(p.get_by_test_id("case-state")).to_contain_text(state)
        expect(p.locator(f'li.done[data-step="{step}"]')).to_be_visible()
        text, html = p.inner_text("body"), p.content()
        for word in personal(case):
            assert word not in text and word not in html, f"{word!r} is on the public page"

    http.post(f"/api/v1/cases/{case['id']}/materials",
              json={"materials": [{"name": m, "state": "copy"} for m in MATERIALS[1:]]}).raise_for_status()
    shows("已受理", "accepted")
    expect(p.get_by_test_id("case-missing")).to_have_count(0)
    expect(p.get_by_test_id("days-left")).to_contain_text("工作日")
    mz.post(f"/api/v1/cases/{case['id']}/claim").raise_for_status()
    shows("部门审查中", "claimed")
    expect(p.locator('li.done[data-step="claimed"]')).to_contain_text("区民政局")
    assert serious_axe_problems(p) == []
    mz.post(f"/api/v1/cases/{case['id']}/decide", json={"outcome": "approved"}).raise_for_status()
    shows("已办结", "decided")
    assert p.evaluate("window.notReloaded") is True
    # nothing wider than the phone: no sideways scrolling
    assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # a second phone that polls slowly sees the next step at once with the refresh button, still not reloading
    slow = ctx.new_page()
    slow.goto(f"{hall.url}/c/{case['query_code']}")
    expect(slow.get_by_test_id("case-state")).to_contain_text("已办结")
    slow.evaluate("window.notReloaded = true")
    http.post(f"/api/v1/cases/{case['id']}/ready", json={"via": "window"}).raise_for_status()
    slow.get_by_test_id("refresh").click()
    expect(slow.get_by_test_id("case-state")).to_contain_text("待取件")
    assert slow.evaluate("window.notReloaded") is True

    missing = ctx.new_page()
    r = missing.goto(f"{hall.url}/c/NoSuchCaseCode0000")
    assert r.status == 404
    expect(missing.get_by_test_id("case-not-found")).to_contain_text("No such case")
    assert serious_axe_problems(missing) == []
    ctx.close()
    assert foreign == [] and errors == []


def test_a_receipts_link_rates_the_finished_handling_once_on_a_phone(browser, hall):
    """好差评 from the receipt's QR link (/t/{id}?k=…): nothing to rate while in line; once the clerk finished it,
    不满意 asks for reasons, the rating opens a 差评 record, and the page then says it was rated. The id without
    the receipt's key offers no rating."""
    from pages import expect

    http = hall.http
    t = http.post("/api/v1/tickets", json={"matter": "SH-003"}).json()
    assert t["status_key"]
    clerk = hall.client(headers=hall.make_user("rate1", "clerk"))
    for step in ("login", "open"):
        clerk.post(f"/api/v1/windows/1/{step}").raise_for_status()
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    errors: list[str] = []
    p = ctx.new_page()
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.goto(f"{hall.url}/t/{t['id']}?k={t['status_key']}&every=2")
    expect(p.get_by_test_id("ticket-state")).to_contain_text("等候中")
    expect(p.get_by_test_id("rating")).to_be_hidden()
    called = clerk.post("/api/v1/windows/1/call-next").json()
    assert called["id"] == t["id"], called
    clerk.post("/api/v1/windows/1/finish").raise_for_status()
    expect(p.get_by_test_id("ticket-state")).to_contain_text("已办结")
    expect(p.get_by_test_id("rating")).to_contain_text("请您对本次服务进行评价")
    p.get_by_test_id("rate-2").click()
    p.get_by_test_id("reason-效率").check()
    p.get_by_test_id("rating-submit").click()
    expect(p.get_by_test_id("rating-done")).to_contain_text("感谢")
    p.reload()
    expect(p.get_by_test_id("rating-done")).to_contain_text("您已评价")
    rated = [e for e in http.get("/api/v1/evaluations").json()["evaluations"] if e["ticket"] == t["id"]]
    assert [(e["level"], e["reasons"], e["channel"], e["window"]) for e in rated] == [(2, ["效率"], "status_page", 1)]
    assert rated[0]["badrating"] is not None
    # the bare id (or a wrong key) is only the queue status: no rating
    for url in (f"/t/{t['id']}", f"/t/{t['id']}?k=0000000000000000"):
        p.goto(hall.url + url)
        expect(p.get_by_test_id("ticket-state")).to_contain_text("已办结")
        expect(p.get_by_test_id("rating")).to_have_count(0)
    ctx.close()
    assert errors == []
