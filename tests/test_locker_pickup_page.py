"""The kiosk at 22:00 (issue 16, items 3 and 6, "Done when"): outside opening hours a citizen collects a result
from the simulated lockers with the SMS's pickup code on the kiosk's keypad, in headless Chromium — the door
opens, the test shuts it, the case is delivered — and prints a 受理通知书 again on the kiosk's own printer.

A hall server process whose opening hours make it closed now (kiosk_helpers.closed_now), with the district
centre's [lockers] on a simulated board (the real serial driver on a pty), and the real `onewindow-kiosk`
program with its simulated printer."""
from __future__ import annotations

import sqlite3
import time

import httpx
import pytest
from kiosk_helpers import KioskProcess, closed_now, devices_file, hall_config, receipts
from pages import chromium, expect, serious_axe_problems
from serverproc import ServerProcess
from test_kiosk_pages import small_targets

pytestmark = pytest.mark.slow
LOCKER = "result-lockers"
INSTANT = {"matter": "WJ-001", "applicant": {"name": "王五", "phone": "13900000000"},
           "materials": [{"name": m, "state": "original"} for m in ("夫妻双方居民身份证", "结婚证", "户口簿")]}


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("locker-pickup")
    config = tmp / "hall-closed-lockers.toml"
    config.write_text(hall_config(tmp, opening=closed_now()).read_text(encoding="utf-8") + f"""
[[devices]]
name = "{LOCKER}"
kind = "locker"
url = "sim://locker?boards=2&locks=24&timeout=0.2&retries=1"
poll_s = 30
""", encoding="utf-8")
    srv = ServerProcess(tmp / "data", config=config, keep_port=True)       # the kiosk finds it after a restart
    srv.start()
    srv.admin_http = srv.client(headers=srv.admin())
    token = srv.make_user("kioskpickup", "kiosk")["Authorization"].removeprefix("Bearer ")
    srv.kiosk = KioskProcess(srv.url, token, devices_file(tmp, idcard=None), tmp)
    srv.tmp = tmp
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
    errors: list[str] = []
    p = ctx.new_page()
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.goto(hall.kiosk.url + "/")
    expect(p.get_by_test_id("screen-closed")).to_be_visible()          # 22:00: the hall is closed
    yield p
    ctx.close()
    assert errors == []


def accepted(hall) -> dict:
    admin = hall.admin_http
    case = admin.post("/api/v1/cases", json=INSTANT).raise_for_status().json()
    return admin.post(f"/api/v1/cases/{case['id']}/accept").raise_for_status().json()


def until(check, timeout: float = 20.0, what: str = "it"):
    end = time.monotonic() + timeout
    while not (got := check()):
        assert time.monotonic() < end, f"{what} did not come within {timeout} s"
        time.sleep(0.05)
    return got


def simulate(hall, **body) -> dict:
    return hall.admin_http.post(f"/api/v1/devices/{LOCKER}/simulate", json=body).raise_for_status().json()


def open_doors(hall) -> list[str]:
    return hall.admin_http.get(f"/api/v1/devices/{LOCKER}").json()["diagnostics"]["simulator"]["open_doors"]


def pickup_code(hall, case_id: int) -> str:
    """The code as the applicant reads it in the SMS (this hall has no modem: it waits in the outbox)."""
    with sqlite3.connect(f"file:{hall.db_path}?mode=ro", uri=True) as db:
        text = db.execute("SELECT text FROM outbox WHERE case_id=? AND kind='ready_locker'", (case_id,)).fetchone()[0]
    return text.split("取件码")[1][:6]


def in_a_locker(hall) -> tuple[dict, dict]:
    """A decided case loaded into a compartment whose door stands open: (the case, the answer's locker)."""
    admin = hall.admin_http
    case = accepted(hall)
    admin.post(f"/api/v1/cases/{case['id']}/decide", json={"outcome": "approved"}).raise_for_status()
    return case, admin.post(f"/api/v1/cases/{case['id']}/locker").raise_for_status().json()["locker"]


def status_of(hall, case_id: int) -> str:
    return hall.admin_http.get(f"/api/v1/cases/{case_id}").json()["status"]


def type_code(page, code: str) -> None:
    expect(page.get_by_test_id("locker-form")).to_be_visible()
    for digit in code:                                                          # the on-screen keypad
        page.get_by_test_id(f"locker-key-{digit}").click()
    expect(page.get_by_test_id("locker-code")).to_have_value(code)
    page.get_by_test_id("locker-submit").click()


def test_at_22_00_a_result_is_collected_with_the_pickup_code(hall, page):
    admin = hall.admin_http
    case, loaded = in_a_locker(hall)
    where = loaded["compartment"]
    simulate(hall, shut=True, board=loaded["board"], lock=loaded["lock"])          # the clerk shuts it
    until(lambda: status_of(hall, case["id"]) == "ready", what="ready")
    code = pickup_code(hall, case["id"])

    expect(page.locator(".closed-self")).to_contain_text("智能柜取件")               # the landing says so
    assert serious_axe_problems(page) == [] and small_targets(page) == []
    page.get_by_test_id("closed-lockers").click()
    expect(page.get_by_test_id("locker-form")).to_be_visible()
    assert serious_axe_problems(page) == [] and small_targets(page) == []
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    page.get_by_test_id("locker-code").fill(wrong)
    page.get_by_test_id("locker-submit").click()
    expect(page.get_by_test_id("error")).to_contain_text("还可输入 4 次")
    page.get_by_test_id("error-close").click()
    type_code(page, code)
    door = page.get_by_test_id(f"locker-door-{where}")
    expect(door).to_have_attribute("data-state", "open")
    expect(door.get_by_test_id("locker-state")).to_contain_text("关好柜门")
    assert f"{loaded['board']}/{loaded['lock']}" in open_doors(hall)           # the simulated door is open
    assert admin.get(f"/api/v1/cases/{case['id']}").json()["status"] == "ready"
    assert serious_axe_problems(page) == [] and small_targets(page) == []
    simulate(hall, shut=True, board=loaded["board"], lock=loaded["lock"])      # the citizen shuts it
    expect(door).to_have_attribute("data-state", "delivered")
    expect(door.get_by_test_id("locker-state")).to_contain_text("取件完成")
    got = admin.get(f"/api/v1/cases/{case['id']}").json()
    assert got["status"] == "delivered" and got["handout"]["collector"]["name"] == "自助柜取件"
    page.get_by_test_id("locker-done").click()
    expect(page.get_by_test_id("screen-closed")).to_be_visible()


def test_at_22_00_an_acceptance_notice_is_printed_again_at_the_kiosk(hall, page):
    case = accepted(hall)
    before = len(receipts(hall.tmp, 0))
    page.get_by_test_id("closed-reprint").click()
    expect(page.get_by_test_id("reprint-form")).to_be_visible()
    assert serious_axe_problems(page) == [] and small_targets(page) == []
    page.get_by_test_id("reprint-number").fill(case["number"].lower())                # typed loosely
    page.get_by_test_id("reprint-code").fill("wrongcode" + "x" * 8)
    page.get_by_test_id("reprint-submit").click()
    expect(page.get_by_test_id("error")).to_contain_text("没有找到")
    page.get_by_test_id("error-close").click()
    page.get_by_test_id("reprint-code").fill(case["query_code"])
    page.get_by_test_id("reprint-submit").click()
    expect(page.get_by_test_id("reprint-printed")).to_contain_text("已打印")
    printed = receipts(hall.tmp, before + 1)[-1].with_suffix(".txt").read_text(encoding="utf-8")
    assert "受理通知书" in printed and case["number"] in printed and case["query_code"] in printed
    events = httpx.get(hall.url + "/api/v1/events", params={"since": 0, "limit": 1000}).json()["events"]
    assert [e["data"]["number"] for e in events if e["type"] == "notice.reprinted"] == [case["number"]]


def test_a_hall_killed_while_a_door_stands_open_loses_nothing(hall, page):
    """kill -9 while a result is being loaded, and again while it is being collected: the restarted hall reads the
    doors (its simulated board starts with every door shut, as if shut meanwhile) and finishes each, once."""
    case, loaded = in_a_locker(hall)
    hall.kill()
    hall.start()
    until(lambda: status_of(hall, case["id"]) == "ready", what="the load finished after the restart")
    code = pickup_code(hall, case["id"])
    page.get_by_test_id("closed-lockers").click()
    type_code(page, code)
    door = page.get_by_test_id(f"locker-door-{loaded['compartment']}")
    expect(door).to_have_attribute("data-state", "open")
    hall.kill()
    expect(door).to_have_attribute("data-door", "unknown")                     # the page says it cannot tell
    expect(door.get_by_test_id("locker-state")).to_contain_text("暂时无法确认")
    assert status_of_offline(hall, case["id"]) == "ready"                     # not delivered while unseen
    hall.start()
    expect(door).to_have_attribute("data-state", "delivered")
    events = httpx.get(hall.url + "/api/v1/events", params={"since": 0, "limit": 5000}).json()["events"]
    mine = [e["type"] for e in events if e["data"].get("case") == case["id"] and e["type"] in
            ("case.ready", "case.delivered", "locker.loaded", "locker.collected")]
    assert mine == ["case.ready", "locker.loaded", "case.delivered", "locker.collected"]
    with sqlite3.connect(f"file:{hall.db_path}?mode=ro", uri=True) as db:
        kinds = [k for (k,) in db.execute("SELECT kind FROM outbox WHERE case_id=? ORDER BY id", (case["id"],))]
    assert kinds.count("ready_locker") == 1


def status_of_offline(hall, case_id: int) -> str:
    """The case's status read from the database of a hall that is down."""
    with sqlite3.connect(f"file:{hall.db_path}?mode=ro", uri=True) as db:
        return db.execute("SELECT status FROM cases WHERE id=?", (case_id,)).fetchone()[0]
