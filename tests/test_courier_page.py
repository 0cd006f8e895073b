"""快递签收 at the window terminal /window/{n} (issue 16, item 5) in headless Chromium against a real server process.

A clerk at window 3 signs a parcel in from the Parcels tab, opens a case from it (channel courier, the sender as
applicant) and sorts it to the case's department; the case shows in the 办件 tab and has the arrival in its
history. A parcel signed in elsewhere appears in the list by itself; a second sign-in of its waybill is refused
in the dialog; it is attached to an existing case found by its number. No serious accessibility faults.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pages import chromium, expect, serious_axe_problems
from serverproc import DISTRICT, ServerProcess, without_devices

pytestmark = pytest.mark.slow
CLERK = "parcel3"
SH003 = ["居民身份证原件", "临时救助申请书", "遭遇困难的相关证明"]


def hall_config(tmp: Path) -> Path:
    path = tmp / "courier-hall.toml"
    path.write_text(without_devices(DISTRICT.read_text()))
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("courier")
    srv = ServerProcess(tmp / "data", config=hall_config(tmp))
    srv.start()
    srv.make_user(CLERK, "clerk")
    yield srv
    srv.kill()      # stop() would wait for the page's WebSocket to end


@pytest.fixture(scope="module")
def api(server):
    return server.client(headers=server.admin())


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server):
    """/window/3 logged in as the clerk, the Parcels tab open; fails the test if the page logged errors."""
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = ctx.new_page()
    errors, foreign = [], []
    host = urlsplit(server.url).netloc
    allowed = re.compile(r"status of (409|422)")                # what the tests make the API answer
    pg.on("console", lambda m: m.type == "error" and not allowed.search(m.text) and errors.append(m.text))
    pg.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    pg.on("request", lambda req: urlsplit(req.url).netloc not in (host, "") and foreign.append(req.url))
    pg.goto(f"{server.url}/window/3")
    pg.get_by_test_id("login-username").fill(CLERK)
    pg.get_by_test_id("login-password").fill(f"{CLERK}-password")
    pg.get_by_test_id("login-submit").click()
    expect(pg.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
    pg.get_by_test_id("tab-parcels").click()
    expect(pg.get_by_test_id("parcels-panel")).to_be_visible()
    expect(pg.get_by_test_id("tab-parcels")).to_have_attribute("aria-selected", "true")
    yield pg
    ctx.close()
    assert not errors, f"the page logged errors: {errors}"
    assert not foreign, f"the page asked other hosts: {foreign}"


def row(page, waybill: str):
    return page.get_by_test_id("parcel-row").and_(page.locator(f'[data-waybill="{waybill}"]'))


def test_a_parcel_signed_in_opened_as_a_case_and_sorted(page, api):
    page.get_by_test_id("parcel-new").click()
    expect(page.get_by_test_id("parcel-dialog")).to_be_visible()
    page.get_by_test_id("parcel-register").click()                   # nothing filled: every field named
    expect(page.get_by_test_id("parcel-error-zh")).to_contain_text("请填写运单号")
    expect(page.get_by_test_id("parcel-courier")).to_be_focused()
    page.get_by_test_id("parcel-courier").fill("顺丰")
    page.get_by_test_id("parcel-waybill").fill("sf 1001 2002 30")
    page.get_by_test_id("parcel-contents").fill("临时救助申请材料")
    page.get_by_test_id("parcel-sender-name").fill("李寄件")
    page.get_by_test_id("parcel-sender-phone").fill("13967051842")
    page.get_by_test_id("parcel-matter").select_option("SH-003")
    page.get_by_test_id("parcel-register").click()
    expect(page.get_by_test_id("parcel-error-zh")).to_have_text(re.compile(r"已签收 SF1001200230"))
    expect(page.get_by_test_id("parcel-facts")).to_contain_text("139****1842")
    page.get_by_test_id("parcel-done-close").click()
    parcel = row(page, "SF1001200230")
    expect(parcel).to_contain_text("顺丰速运")
    expect(parcel).not_to_contain_text("13967051842")
    expect(page.get_by_test_id("parcels-count")).to_have_text("1")

    parcel.get_by_test_id("parcel-open-case").click()
    expect(page.get_by_test_id("parcel-open-matter")).to_have_value("SH-003")   # the matter it was signed in for
    expect(page.get_by_test_id("parcel-open-items").locator("fieldset.item")).to_have_count(len(SH003))
    page.get_by_test_id("parcel-open-all-original").click()
    page.get_by_test_id("parcel-open-submit").click()
    number = page.get_by_test_id("parcel-opened-number")
    expect(number).to_have_text(re.compile(r"^XL-\d{8}-\d{4}$"))
    expect(page.get_by_test_id("parcel-error-zh")).to_contain_text("邮寄收件")
    case_number = number.text_content()
    found = api.get("/api/v1/cases", params={"q": case_number}).json()["cases"]
    case = api.get(f"/api/v1/cases/{found[0]['id']}").json()
    assert (case["channel"], case["applicant"]["name"], case["missing"]) == ("courier", "李寄件", [])
    assert [h["action"] for h in case["history"]] == ["received", "parcel_received"]

    page.get_by_test_id("parcel-next-sort").click()
    expect(page.get_by_test_id("parcel-sort-department")).to_have_value("区民政局")      # the case's department
    page.get_by_test_id("parcel-sort-submit").click()
    expect(page.get_by_test_id("parcel-department")).to_have_text("区民政局")
    page.get_by_test_id("parcel-done-close").click()
    expect(page.get_by_test_id("parcels-unattached")).to_contain_text("没有未关联办件的快递")
    expect(page.get_by_test_id("parcels-unsorted")).not_to_contain_text("SF1001200230")
    expect(page.get_by_test_id("parcels-count")).to_have_text("")
    assert api.get("/api/v1/parcels", params={"case": case["id"]}).json()["parcels"][0]["status"] == "sorted"


def test_a_parcel_from_elsewhere_is_listed_refused_twice_and_attached(page, api):
    clerk = api.post("/api/v1/cases", json={"matter": "SH-003", "applicant": {"name": "张三"},
                                            "materials": [{"name": "居民身份证原件", "state": "original"}]}).json()
    api.post("/api/v1/parcels", json={"courier": "中通快递", "waybill": "ZT7700000001", "sender_name": "张三",
                                      "sender_phone": "027-88886666", "contents": "补正材料"}).raise_for_status()
    parcel = row(page, "ZT7700000001")
    expect(parcel).to_contain_text("027****6666")                  # read again on its parcel.registered event

    page.get_by_test_id("parcel-new").click()
    page.get_by_test_id("parcel-courier").fill("中通")
    page.get_by_test_id("parcel-waybill").fill("zt7700000001")
    page.get_by_test_id("parcel-contents").fill("补正材料")
    page.get_by_test_id("parcel-sender-name").fill("张三")
    page.get_by_test_id("parcel-sender-phone").fill("02788886666")
    page.get_by_test_id("parcel-register").click()
    expect(page.get_by_test_id("parcel-error-zh")).to_contain_text("已登记")
    expect(page.get_by_test_id("parcel-error-en")).to_contain_text("do not sign it in twice")
    assert serious_axe_problems(page) == []                          # the dialog open, with its message
    page.get_by_test_id("parcel-cancel").click()
    expect(page.get_by_test_id("parcel-dialog")).to_be_hidden()

    parcel.get_by_test_id("parcel-attach").click()
    page.get_by_test_id("parcel-attach-q").fill(clerk["number"])
    page.get_by_test_id("parcel-attach-find").click()
    page.get_by_test_id("parcel-attach-to").and_(page.locator(f'[data-number="{clerk["number"]}"]')).click()
    expect(page.get_by_test_id("parcel-case-number")).to_contain_text(clerk["number"])
    page.get_by_test_id("parcel-done-close").click()
    expect(row(page, "ZT7700000001")).to_contain_text(f"办件 {clerk['number']}")   # now attached, to be sorted
    history = api.get(f"/api/v1/cases/{clerk['id']}").json()["history"]
    assert history[-1]["action"] == "parcel_received"
    assert serious_axe_problems(page) == []                          # the tab with both lists
