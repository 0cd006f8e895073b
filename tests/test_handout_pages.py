"""统一出件 in headless Chromium (issue 16, Done when — the window path and mail; 存入智能柜 at the window) against a
real hall server process and the real `onewindow-kiosk` program.

A decided 即办件 is made ready at window 6 (综合出件) from the terminal's 办件 tab; the citizen finds it at the kiosk
by its number and takes an 出件 ticket (printed on the kiosk's simulated printer); the hall server is killed and
started again — the ticket, its link to the case and the case's ready state are all there —; the clerk calls the
ticket (ahead of an earlier 跨域 ticket), the case opens by itself, the proxy collector is entered with the
authorisation checked, the result is handed out and the 领取回执 comes out of window 6's simulated printer. A result
sent by mail: made ready with the address, sent with its waybill, which the public status page shows (the three
paths with one kill in the middle of all three: test_handout_whole.py). A result loaded into the simulated lockers
from the terminal (存入智能柜): the compartment chosen (a stuck one out of service, the next used), the door waited
for, ready once shut; one taken back to the window; a load given up.

The applicant's SMS go through the real AT driver to a modem simulator on a pty of this test process (it outlives
the hall's kill -9, as a USB modem does): each path's messages reach it once.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from kiosk_helpers import KioskProcess, devices_file, hall_config, receipts
from pages import chromium, expect, serious_axe_problems
from serverproc import ServerProcess
from test_kiosk_pages import small_targets

from drivers.idcard import gb11643
from drivers.idcard.simulator import CARDS
from drivers.sms.simulator import ModemSimulator

pytestmark = pytest.mark.slow
CLERK = "handout6"
ADULT = CARDS["adult"]                                   # 张伟, fictitious
WJ001 = ["夫妻双方居民身份证", "结婚证", "户口簿"]           # 生育登记, 即办
PROXY_NAME, PROXY_ID = "王芳", "11010519491231002X"      # a valid GB 11643 number (the standard's example)
FULL_ID = re.compile(r"\d{17}[\dXx]")
PHONE = "13900001111"
LOCKER = "result-lockers"


def handout_config(tmp: Path, modem_port: str) -> Path:
    """The kiosk tests' hall (no devices of its own, always open, no call debounce) with window 6's printer, the
    district's result lockers on a simulated board, and the SMS modem on `modem_port`."""
    path = hall_config(tmp)
    path.write_text(path.read_text(encoding="utf-8") + f"""
[[devices]]
name = "window6-printer"
kind = "printer"
window = 6
url = "sim://printer?width=80&out={tmp / "printer-w6"}"

[[devices]]
name = "{LOCKER}"
kind = "locker"
url = "sim://locker?boards=2&locks=24&timeout=0.2&retries=1"
poll_s = 30

[[devices]]
name = "sms-modem"
kind = "sms"
url = "sms+serial://{modem_port}?timeout=0.5&send_timeout=5"
poll_s = 30
""", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def modem():
    with ModemSimulator() as sim:
        yield sim


def texts_to(modem, number: str) -> list[str]:
    """What the simulated modem sent about case `number`, oldest first."""
    return [m.text for m in modem.sent if number in m.text]


def sms_about(modem, number: str, count: int) -> list[str]:
    """The messages about case `number` once there are `count` (each sent once: never more)."""
    end = time.monotonic() + 20
    while len(got := texts_to(modem, number)) < count:
        assert time.monotonic() < end, f"{count} SMS about {number} did not come: {got}"
        time.sleep(0.05)
    assert all(m.number == "+86" + PHONE for m in modem.sent if number in m.text)
    return got


@pytest.fixture(scope="module")
def hall(tmp_path_factory, modem):
    tmp = tmp_path_factory.mktemp("handout")
    srv = ServerProcess(tmp / "data", config=handout_config(tmp, modem.port), keep_port=True)
    srv.start()
    srv.tmp, srv.window_printer = tmp, tmp / "printer-w6"
    srv.http = srv.client(headers=srv.admin())
    srv.make_user(CLERK, "clerk")
    token = srv.make_user("kioskhandout", "kiosk")["Authorization"].removeprefix("Bearer ")
    srv.kiosk = KioskProcess(srv.url, token, devices_file(tmp, idle_s=120), tmp)
    yield srv
    srv.kiosk.stop()
    srv.kill()          # stop() would wait for the terminal's WebSocket to end


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def pages(browser, hall):
    """pages.desk(): window 6's terminal logged in as its clerk; pages.kiosk(): the kiosk's page."""
    contexts, errors, foreign = [], [], []
    hosts = {urlsplit(hall.url).netloc, urlsplit(hall.kiosk.url).netloc}

    def new(width=1920, height=1080):
        ctx = browser.new_context(viewport={"width": width, "height": height}, has_touch=True)
        ctx.add_init_script("window.print = () => { window.printCalls = (window.printCalls || 0) + 1; };")
        contexts.append(ctx)
        pg = ctx.new_page()
        # what the tests make the API answer, and the restart's dropped connections
        allowed = re.compile(r"status of (409|422|404)|ERR_CONNECTION_REFUSED|WebSocket")
        pg.on("console", lambda m: m.type == "error" and not allowed.search(m.text) and errors.append(m.text))
        pg.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        pg.on("request", lambda r: urlsplit(r.url).netloc not in hosts and not r.url.startswith("data:")
              and foreign.append(r.url))
        return pg

    class Pages:
        @staticmethod
        def desk():
            reset(hall.http)
            pg = new()
            pg.goto(f"{hall.url}/window/6")
            pg.get_by_test_id("login-username").fill(CLERK)
            pg.get_by_test_id("login-password").fill(f"{CLERK}-password")
            pg.get_by_test_id("login-submit").click()
            expect(pg.get_by_test_id("desk")).to_be_visible()
            expect(pg.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
            return pg

        @staticmethod
        def kiosk():
            pg = new()
            pg.goto(hall.kiosk.url + "/")
            expect(pg.get_by_test_id("screen-home")).to_be_visible()
            return pg

    yield Pages
    for ctx in contexts:
        ctx.close()
    assert not errors, f"the pages logged errors: {errors}"
    assert not foreign, f"the pages asked other hosts: {foreign}"


def reset(api) -> None:
    """Window 6 open with nothing current, and nobody waiting."""
    w = api.get("/api/v1/windows/6").json()
    if w["current"]:
        api.post("/api/v1/windows/6/finish").raise_for_status()
    if w["state"] == "closed":
        api.post("/api/v1/windows/6/open").raise_for_status()
    for t in api.get("/api/v1/tickets", params={"status": "waiting"}).json():
        api.post(f"/api/v1/tickets/{t['id']}/cancel", json={"reason": "test reset"}).raise_for_status()


def decided(api, card=ADULT) -> dict:
    """A 即办件 of the card's holder, taken in, accepted and approved through the API."""
    body = {"matter": "WJ-001", "applicant": {"name": card.name, "phone": PHONE, "id_number": card.id_number},
            "materials": [{"name": m, "state": "original"} for m in WJ001]}
    case = api.post("/api/v1/cases", json=body).raise_for_status().json()
    api.post(f"/api/v1/cases/{case['id']}/accept").raise_for_status()
    return api.post(f"/api/v1/cases/{case['id']}/decide", json={"outcome": "approved", "opinion": "符合条件"}
                    ).raise_for_status().json()


def open_from_list(page, list_id: str, number: str) -> None:
    page.get_by_test_id("tab-cases").click()
    row = page.get_by_test_id(list_id).locator(f'[data-number="{number}"]')
    expect(row).to_be_visible()
    row.click()
    expect(page.get_by_test_id("handout-dialog")).to_be_visible()
    expect(page.get_by_test_id("handout-number")).to_have_text(number)


def printed(out: Path, number: str, title: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        for txt in sorted(out.glob("*.txt")) if out.exists() else []:
            text = txt.read_text(errors="replace")
            if number in text and title in text:
                return text
        assert time.monotonic() < deadline, f"no {title} of {number} printed in {out}"
        time.sleep(0.05)


def test_a_result_collected_through_the_kiosks_ticket_with_a_restart_in_the_middle(pages, hall, modem):
    api = hall.http
    case = decided(api)
    desk = pages.desk()

    # 1. the 出件 window makes the decided result ready to collect at the window
    open_from_list(desk, "handout-decided", case["number"])
    expect(desk.get_by_test_id("handout-status")).to_have_attribute("data-status", "decided")
    expect(desk.get_by_test_id("handout-outcome")).to_contain_text("准予")
    expect(desk.get_by_test_id("handout-via-window")).to_be_checked()
    assert serious_axe_problems(desk) == []
    desk.get_by_test_id("handout-ready-submit").click()
    expect(desk.get_by_test_id("handout-status")).to_have_attribute("data-status", "ready")
    expect(desk.get_by_test_id("handout-collect")).to_be_visible()
    desk.get_by_test_id("handout-done").click()
    expect(desk.get_by_test_id("handout-dialog")).to_be_hidden()
    expect(desk.get_by_test_id("handout-ready").locator(f'[data-number="{case["number"]}"]')).to_be_visible()

    # 2. someone came earlier for 跨域 business; the citizen takes an 出件 ticket at the kiosk by the case number
    earlier = api.post("/api/v1/tickets", json={"matter": "KY-001"}).raise_for_status().json()
    kiosk = pages.kiosk()
    kiosk.get_by_test_id("open-cases").click()
    kiosk.get_by_test_id("case-input").fill(case["number"])
    kiosk.get_by_test_id("case-input").press("Enter")
    expect(kiosk.get_by_test_id("case-state")).to_contain_text("待取件")
    expect(kiosk.get_by_test_id("case-take-ticket")).to_be_visible()
    assert serious_axe_problems(kiosk) == [] and small_targets(kiosk) == []
    before = len(receipts(hall.tmp, 0))
    kiosk.get_by_test_id("case-take-ticket").click()
    expect(kiosk.get_by_test_id("screen-ticket")).to_be_visible()
    number = kiosk.get_by_test_id("ticket-number").inner_text()
    assert re.fullmatch(r"C\d{3}", number)
    expect(kiosk.get_by_test_id("ticket-matter")).to_contain_text("办件结果领取")
    expect(kiosk.get_by_test_id("print-state")).to_have_attribute("data-state", "ok")
    receipt = receipts(hall.tmp, before + 1)[-1].with_suffix(".txt").read_text(errors="replace")
    assert number in receipt and "办件结果领取" in receipt and ADULT.name not in receipt
    ticket = api.get(f"/api/v1/tickets/by-number/{number}").json()
    assert ticket["case"] == {"id": case["id"], "number": case["number"]} and ticket["priority"] == "handout"
    # the applicant was told at each step (killed once they are out: one being sent would be left `uncertain`)
    accepted, told_decided, ready = sms_about(modem, case["number"], 3)
    assert "已受理" in accepted and case["query_code"] in accepted and "已办结（准予）" in told_decided
    assert "请到综合出件窗口领取" in ready

    # 3. the server is killed and started again: nothing is lost
    hall.restart(hard=True)
    again = api.get(f"/api/v1/tickets/{ticket['id']}").json()
    assert again["status"] == "waiting" and again["case"] == ticket["case"] and again["priority"] == "handout"
    assert api.get(f"/api/v1/cases/{case['id']}").json()["status"] == "ready"
    expect(desk.get_by_test_id("connection")).to_have_attribute("data-state", "connected", timeout=30_000)

    # 4. the clerk calls the next ticket: the 出件 ticket before the earlier 跨域 one, and its case opens
    desk.keyboard.press("1")
    expect(desk.get_by_test_id("current-number")).to_have_text(number)
    expect(desk.get_by_test_id("current-priority-class")).to_contain_text("出件优先")
    expect(desk.get_by_test_id("handout-dialog")).to_be_visible()
    expect(desk.get_by_test_id("handout-ticket")).to_contain_text(number)
    expect(desk.get_by_test_id("handout-number")).to_have_text(case["number"])
    expect(desk.get_by_test_id("handout-name")).to_have_value(ADULT.name)
    assert api.get(f"/api/v1/tickets/{earlier['id']}").json()["status"] == "waiting"

    # 5. a proxy collects it: the authorisation must be checked first
    desk.get_by_test_id("handout-proxy").check()
    expect(desk.get_by_test_id("handout-name")).to_have_value("")
    desk.get_by_test_id("handout-name").fill(PROXY_NAME)
    desk.get_by_test_id("handout-id").fill(PROXY_ID)
    desk.get_by_test_id("handout-collect-submit").click()
    expect(desk.get_by_test_id("handout-error")).to_contain_text("授权委托书")
    desk.get_by_test_id("handout-authorised").check()
    assert serious_axe_problems(desk) == []
    desk.get_by_test_id("handout-collect-submit").click()
    expect(desk.get_by_test_id("handout-status")).to_have_attribute("data-status", "delivered")
    masked = gb11643.mask(PROXY_ID)
    expect(desk.get_by_test_id("handout-done-note")).to_contain_text(masked)
    expect(desk.get_by_test_id("handout-done-note")).to_contain_text("代领")
    assert PROXY_ID not in desk.content()

    # 6. the 领取回执 on window 6's printer, and on A4
    desk.get_by_test_id("handout-print-window").click()
    expect(desk.get_by_test_id("handout-print-result")).to_have_attribute("data-state", "ok")
    text = printed(hall.window_printer, case["number"], "领取回执")
    flat = re.sub(r"\s+", "", text)
    for words in ("生育登记", "准予", f"领取人：{PROXY_NAME}", masked, "代领", "6号窗口", f"经办人：{CLERK}",
                  "领取人签名"):
        assert words in flat, (words, text)
    assert not FULL_ID.search(text)
    with desk.context.expect_page() as popup_info:
        desk.get_by_test_id("handout-print-a4").click()
    popup = popup_info.value
    expect(popup.get_by_test_id("notice-title")).to_have_text("领取回执")
    popup.close()

    done = api.get(f"/api/v1/cases/{case['id']}").json()
    assert done["status"] == "delivered" and done["handout"]["collector"] == {
        "name": PROXY_NAME, "phone": None, "id_masked": masked, "proxy": True,
        "authorisation": "授权委托书及委托人身份证复印件已核验 / authorisation and ID copy checked"}
    assert done["handout"]["window"] == 6
    assert done["handout"]["delivered_by"] == CLERK and PROXY_ID not in str(done)
    desk.get_by_test_id("handout-done").click()
    desk.keyboard.press("1")                        # then the 跨域 ticket
    expect(desk.get_by_test_id("current-number")).to_have_text(earlier["number"])
    expect(desk.get_by_test_id("handout-open")).to_be_hidden()
    assert len(texts_to(modem, case["number"])) == 3            # nothing sent twice across the restart


def test_a_result_sent_by_mail_with_its_waybill_on_the_public_page(pages, hall, modem):
    api = hall.http
    case = decided(api)
    desk = pages.desk()
    open_from_list(desk, "handout-decided", case["number"])
    desk.get_by_test_id("handout-via-mail").check()
    desk.get_by_test_id("handout-ready-submit").click()
    expect(desk.get_by_test_id("handout-error")).to_contain_text("收件地址")
    desk.get_by_test_id("handout-address").fill("湖北省黄石市下陆区新下陆街道 8 号")
    desk.get_by_test_id("handout-ready-submit").click()
    expect(desk.get_by_test_id("handout-status")).to_have_attribute("data-status", "ready")
    assert "已安排邮寄" in sms_about(modem, case["number"], 3)[2]
    desk.get_by_test_id("handout-waybill").fill("SF1234567890")
    desk.get_by_test_id("handout-mail-submit").click()
    expect(desk.get_by_test_id("handout-status")).to_have_attribute("data-status", "delivered")
    expect(desk.get_by_test_id("handout-done-note")).to_contain_text("SF1234567890")
    public = desk.context.new_page()
    public.goto(f"{hall.url}/c/{case['query_code']}")
    expect(public.get_by_test_id("case-waybill")).to_contain_text("SF1234567890")
    assert ADULT.name not in public.content() and "新下陆街道" not in public.content()
    public.close()
    assert len(texts_to(modem, case["number"])) == 3            # accepted, decided, ready by mail: once each


def simulate(hall, **body) -> None:
    hall.http.post(f"/api/v1/devices/{LOCKER}/simulate", json=body).raise_for_status()


def door_open(hall, board: int, lock: int) -> bool:
    got = hall.http.get(f"/api/v1/devices/{LOCKER}").json()["diagnostics"]["simulator"]["open_doors"]
    return f"{board}/{lock}" in got


def test_a_result_loaded_into_a_locker_from_the_terminal(pages, hall, modem):
    """存入智能柜: the compartment the hall chose, the stuck one it put out of service on the way, the door waited for
    until shut — then ready with the code sent by SMS (never shown to the clerk) —; taken back to the window; a
    load of a large compartment given up."""
    api = hall.http
    simulate(hall, fault="stuck", board=1, lock=1)                  # the first small compartment will not open
    case = decided(api)
    desk = pages.desk()
    open_from_list(desk, "handout-decided", case["number"])
    expect(desk.get_by_test_id("handout-locker")).to_be_visible()
    desk.get_by_test_id("handout-locker").click()
    box = desk.get_by_test_id("handout-locker-state")
    expect(box).to_have_attribute("data-state", "loading")
    expect(box).to_have_attribute("data-compartment", "1-02")
    expect(desk.get_by_test_id("handout-locker-compartment")).to_contain_text("1-02 号格口（小格）已打开")
    expect(desk.get_by_test_id("handout-locker-tried")).to_contain_text("1-01 号格口柜门打不开，已停用并报修")
    expect(desk.get_by_test_id("handout-locker-wait")).to_contain_text("正在等待柜门关好")
    expect(desk.get_by_test_id("handout-error")).to_contain_text("1-02 号格口")
    expect(desk.get_by_test_id("handout-ready-submit")).to_have_count(0)      # no other way out while it stands open
    assert door_open(hall, 1, 2) and api.get(f"/api/v1/cases/{case['id']}").json()["status"] == "decided"
    assert serious_axe_problems(desk) == []
    listing = {c["compartment"]: c["state"] for c in api.get("/api/v1/lockers").json()["compartments"]}
    assert (listing["1-01"], listing["1-02"]) == ("out_of_service", "loading")

    simulate(hall, shut=True, board=1, lock=2)                      # the clerk shuts the door
    expect(desk.get_by_test_id("handout-status")).to_have_attribute("data-status", "ready")
    expect(desk.get_by_test_id("handout-locker-note")).to_contain_text("已存入智能柜 1-02 号格口")
    expect(desk.get_by_test_id("handout-error")).to_contain_text("柜门已关好")
    told = sms_about(modem, case["number"], 3)[2]
    assert "取件码" in told and told.split("取件码")[1][:6] not in desk.content()
    assert serious_axe_problems(desk) == []
    desk.get_by_test_id("handout-done").click()
    row = desk.get_by_test_id("handout-ready").locator(f'[data-number="{case["number"]}"]')
    expect(row).to_contain_text("柜中待取 1-02")

    # taken back: the door opens, and the result is collected at the window
    row.click()
    desk.get_by_test_id("handout-locker-take-back").click()
    expect(desk.get_by_test_id("handout-collect")).to_be_visible()
    expect(desk.get_by_test_id("handout-error")).to_contain_text("1-02 号格口已打开")
    assert door_open(hall, 1, 2)
    simulate(hall, shut=True, board=1, lock=2)

    # a large compartment, the load given up: the case stays decided, the door to be shut empty
    other = decided(api)
    desk.get_by_test_id("handout-done").click()
    open_from_list(desk, "handout-decided", other["number"])
    desk.get_by_test_id("handout-locker-size").select_option("large")
    desk.get_by_test_id("handout-locker").click()
    expect(box).to_have_attribute("data-compartment", "1-17")
    expect(desk.get_by_test_id("handout-locker-compartment")).to_contain_text("大格")
    desk.get_by_test_id("handout-locker-cancel").click()
    expect(desk.get_by_test_id("handout-error")).to_contain_text("已取消装柜")
    expect(desk.get_by_test_id("handout-ready-submit")).to_be_visible()
    assert api.get(f"/api/v1/cases/{other['id']}").json()["status"] == "decided"
    simulate(hall, shut=True, board=1, lock=17)
    simulate(hall, fault="none")


def test_the_kiosk_program_takes_the_ticket_by_swipe_or_falls_back_to_the_number(hall):
    api = hall.http
    case = decided(api)
    r = hall.kiosk.post("/api/cases/handout-ticket", json={"number": case["number"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "case_not_ready"      # decided, not ready yet
    api.post(f"/api/v1/cases/{case['id']}/ready", json={"via": "window"}).raise_for_status()
    r = hall.kiosk.post("/api/cases/handout-ticket", json={"number": case["number"], "swipe": "run-out-swipe"})
    assert r.status_code == 201, r.text
    assert r.json()["ticket"]["case"]["number"] == case["number"] and r.json()["qr_svg"].startswith("<svg")
    r = hall.kiosk.post("/api/cases/handout-ticket", json={})
    assert r.status_code == 422 and r.json()["error"]["code"] == "case_lookup_empty"
