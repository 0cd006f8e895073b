"""The kiosk's self-service case query (办件查询, issue 15 item 8) in headless Chromium against a hall server
process and the real `onewindow-kiosk` program with its simulated ID-card reader.

A case taken in through the hall's API is found at the kiosk by its number typed on the on-screen keypad (and
by the forms a citizen may type it in, or a notice's scanned QR code), and by a swipe of the applicant's ID
card (sim://idcard); the kiosk shows its state, the missing items of a 补正 case, the promised date, its latest
steps and the QR code of its status page /c/{query_code} — and nothing personal. Elder mode works as for the
rest of the kiosk; the screen passes axe-core with large touch targets.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from kiosk_helpers import KioskProcess, devices_file, hall_config
from pages import chromium, expect, serious_axe_problems
from serverproc import HTTP, ServerProcess
from test_kiosk_pages import small_targets

from drivers.idcard.simulator import CARDS

pytestmark = pytest.mark.slow
ADULT, ELDER = CARDS["adult"], CARDS["elder"]             # 张伟 and 李秀兰, fictitious
SH003 = ["居民身份证原件", "临时救助申请书", "遭遇困难的相关证明"]      # 临时救助申请, 区民政局
WJ001 = ["夫妻双方居民身份证", "结婚证", "户口簿"]                 # 即办


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kiosk-cases")
    srv = ServerProcess(tmp / "data", config=hall_config(tmp))
    srv.start()
    srv.http = srv.client(headers=srv.admin())
    token = srv.make_user("kioskcases", "kiosk")["Authorization"].removeprefix("Bearer ")
    srv.kiosk = KioskProcess(srv.url, token, devices_file(tmp, idle_s=60), tmp)
    yield srv
    srv.kiosk.stop()
    srv.kill()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, hall):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, has_touch=True)
    p = ctx.new_page()
    foreign, errors = [], []
    hosts = {urlsplit(hall.url).netloc, urlsplit(hall.kiosk.url).netloc}
    p.on("request", lambda r: urlsplit(r.url).netloc not in hosts and not r.url.startswith("data:")
         and foreign.append(r.url))
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.goto(hall.kiosk.url + "/")
    expect(p.get_by_test_id("screen-home")).to_be_visible()
    expect(p.locator("body")).to_have_attribute("data-events", "open")       # card reads reach the page
    yield p
    ctx.close()
    assert foreign == [] and errors == []


def take_in(hall, card, matter="SH-003", materials=SH003, supplement=()) -> dict:
    body = {"matter": matter, "applicant": {"name": card.name, "phone": "13900001111", "id_number": card.id_number},
            "materials": [{"name": m, "state": "original"} for m in materials if m not in supplement]}
    case = hall.http.post("/api/v1/cases", json=body).raise_for_status().json()
    if supplement:
        hall.http.post(f"/api/v1/cases/{case['id']}/request-supplement",
                       json={"missing": list(supplement)}).raise_for_status()
    else:
        hall.http.post(f"/api/v1/cases/{case['id']}/accept").raise_for_status()
    return case


def nothing_personal(p, case: dict, card) -> None:
    html, text = p.content(), p.inner_text("body")
    for word in (card.name, card.id_number, case["applicant"]["id_masked"], "13900001111", "admin"):
        assert word not in html, f"{word!r} is on the kiosk's page"
    assert card.name[0] + "先生" not in text and card.name[0] + "女士" not in text      # no greeting by name


def type_on_keypad(p, text: str) -> None:
    for key in text:
        p.get_by_test_id(f"case-key-{key}").click()
    expect(p.get_by_test_id("case-input")).to_have_value(text)


def test_the_kiosk_finds_a_case_by_its_number_typed_on_the_keypad(page, hall):
    case = take_in(hall, ADULT, supplement=SH003[1:])
    page.get_by_test_id("open-cases").click()
    expect(page.get_by_test_id("screen-cases")).to_be_visible()
    expect(page.get_by_test_id("case-swipe-hint")).to_be_visible()
    type_on_keypad(page, case["number"])
    page.get_by_test_id("case-submit").click()
    detail = page.get_by_test_id("case-detail")
    expect(detail).to_be_visible()
    expect(page.get_by_test_id("case-number")).to_have_text(case["number"])
    expect(page.get_by_test_id("case-matter")).to_contain_text("临时救助申请")
    expect(page.get_by_test_id("case-state")).to_contain_text("待补正")
    for item in SH003[1:]:
        expect(page.get_by_test_id("case-missing")).to_contain_text(item)
    expect(page.get_by_test_id("case-steps")).to_contain_text("一次性告知补正")
    expect(page.get_by_test_id("case-qr").locator("svg")).to_be_visible()
    nothing_personal(page, case, ADULT)
    assert serious_axe_problems(page) == [] and small_targets(page) == []

    # accepted meanwhile: a new search shows the promised date; an unknown number says what to do
    hall.http.post(f"/api/v1/cases/{case['id']}/materials",
                   json={"materials": [{"name": m, "state": "copy"} for m in SH003[1:]]}).raise_for_status()
    page.get_by_test_id("case-again").click()
    expect(page.get_by_test_id("case-form")).to_be_visible()
    type_on_keypad(page, "XL-20991231-9999")
    page.get_by_test_id("case-submit").click()
    expect(page.get_by_test_id("error")).to_contain_text("没有找到办件 XL-20991231-9999")
    expect(page.get_by_test_id("error")).to_contain_text("check the number on your notice")
    page.get_by_test_id("case-input").fill(case["number"].lower().replace("-", " "))     # typed loosely
    page.get_by_test_id("case-input").press("Enter")
    expect(page.get_by_test_id("case-state")).to_contain_text("已受理")
    expect(page.get_by_test_id("case-due")).to_contain_text("承诺办结日期")
    expect(page.get_by_test_id("case-missing")).to_have_count(0)
    page.get_by_test_id("case-done").click()
    expect(page.get_by_test_id("screen-home")).to_be_visible()


def test_the_kiosk_backend_reads_numbers_and_scanned_codes_and_gives_the_status_page(hall):
    case = take_in(hall, ADULT, "WJ-001", WJ001)
    url = f"{hall.url}/c/{case['query_code']}"
    seq = int(case["number"][-4:])
    for q in (case["number"], case["number"].replace("-", ""), f" {case['number'][:11].lower()} {seq} ", url,
              url + "?from=notice", case["query_code"]):
        r = hall.kiosk.post("/api/cases/lookup", json={"q": q})
        assert r.status_code == 200, (q, r.text)
        [found] = r.json()["cases"]
        assert found["number"] == case["number"] and found["status_url"] == url, q
        assert found["qr_svg"].startswith('<svg role="img"') and "query_code" not in found
        assert "applicant" not in found and ADULT.name not in r.text and ADULT.id_number not in r.text
    assert hall.kiosk.post("/api/cases/lookup", json={"q": "XL-20991231-0001"}).json() == {"cases": []}
    r = hall.kiosk.post("/api/cases/lookup", json={"q": "  "})
    assert r.status_code == 422 and r.json()["error"]["code"] == "case_lookup_empty"
    r = hall.kiosk.post("/api/cases/lookup", json={"swipe": "no-such-swipe"})
    assert r.status_code == 404 and r.json()["error"]["message_zh"]
    assert HTTP.get(url).status_code == 200                   # the QR code's page is there


def test_a_swipe_of_the_applicants_card_finds_their_cases(page, hall):
    first = take_in(hall, ADULT, "WJ-001", WJ001)
    second = take_in(hall, ADULT, supplement=SH003[2:])
    page.get_by_test_id("open-cases").click()
    expect(page.get_by_test_id("case-swipe-hint")).to_be_visible()
    assert hall.kiosk.post("/api/devices/idcard/simulate", json={"card": "adult"}).status_code == 204
    rows = page.get_by_test_id("case-rows")
    expect(rows).to_be_visible()
    expect(page.get_by_test_id("case-found")).to_contain_text("件办件")
    found = len(hall.http.get("/api/v1/cases", params={"q": ADULT.name, "limit": 200}).json()["cases"])
    expect(page.get_by_test_id("case-found")).to_contain_text(f"找到 {found} 件")
    expect(page.get_by_test_id(f"case-row-{second['number']}")).to_contain_text("待补正")   # newest first
    nothing_personal(page, second, ADULT)
    assert serious_axe_problems(page) == [] and small_targets(page) == []
    page.get_by_test_id(f"case-row-{second['number']}").click()
    expect(page.get_by_test_id("case-number")).to_have_text(second["number"])
    expect(page.get_by_test_id("case-missing")).to_contain_text(SH003[2])
    page.get_by_test_id("back").click()                       # back to the list, not home
    expect(rows).to_be_visible()
    if not page.get_by_test_id(f"case-row-{first['number']}").is_visible():
        page.get_by_test_id("case-next").click()
    page.get_by_test_id(f"case-row-{first['number']}").click()
    expect(page.get_by_test_id("case-state")).to_contain_text("已受理")
    nothing_personal(page, first, ADULT)


def test_elder_mode_swiped_on_the_home_screen_then_case_status(page, hall):
    case = take_in(hall, ELDER, supplement=SH003[1:2])
    before = page.get_by_test_id("open-cases").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert hall.kiosk.post("/api/devices/idcard/simulate", json={"card": "elder"}).status_code == 204
    expect(page.get_by_test_id("elder-toggle")).to_have_attribute("aria-pressed", "true")     # 70: elder mode
    expect(page.get_by_test_id("swipe-greeting")).to_be_visible()
    page.get_by_test_id("open-cases").click()                 # the card already swiped: looked up at once
    expect(page.get_by_test_id("case-number")).to_have_text(case["number"])
    expect(page.get_by_test_id("case-missing")).to_contain_text(SH003[1])
    expect(page.get_by_test_id("swipe-greeting")).to_be_hidden()
    after = page.get_by_test_id("case-state").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert after > before
    expect(page.locator("body")).to_have_attribute("data-spoken", re.compile("临时救助申请"))
    nothing_personal(page, case, ELDER)
    assert serious_axe_problems(page) == [] and small_targets(page) == []
    page.get_by_test_id("case-again").click()
    expect(page.get_by_test_id("case-keypad")).to_be_visible()
    assert small_targets(page) == []
    page.get_by_test_id("back").click()
    expect(page.get_by_test_id("screen-home")).to_be_visible()
