"""The kiosk at 22:00 (issue 16, items 3 and 6, "Done when" — the locker path): outside opening hours a citizen
collects a result from the simulated lockers with the pickup code of the SMS the simulated modem took, on the
kiosk's keypad, in headless Chromium — the door opens, the test shuts it, the case is delivered —, the hall killed
mid-load and mid-pickup losing nothing and sending nothing twice; and a 受理通知书 printed again on the kiosk's own
printer.

A hall server process with the district's opening hours whose clock reads 22:00 today (--clock-offset-s), the
district centre's [lockers] on a simulated board (the real serial driver on a pty), its SMS through the real AT
driver to a modem simulator on a pty of this test process (it outlives the hall's restarts, as a USB modem does,
and tells what it sent), and the real `onewindow-kiosk` program with its simulated printer."""
from __future__ import annotations

import sqlite3
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from kiosk_helpers import KioskProcess, devices_file, hall_config, receipts
from pages import chromium, expect, serious_axe_problems
from serverproc import DISTRICT, HTTP, ServerProcess
from test_kiosk_pages import small_targets

from drivers.sms.simulator import ModemSimulator
from hall_server.config import load_config

pytestmark = pytest.mark.slow
LOCKER = "result-lockers"
INSTANT = {"matter": "WJ-001", "applicant": {"name": "王五", "phone": "13900000000"},
           "materials": [{"name": m, "state": "original"} for m in ("夫妻双方居民身份证", "结婚证", "户口簿")]}
TZ = ZoneInfo("Asia/Shanghai")


def seconds_to_22_00() -> float:
    """The clock offset that makes the hall's clock read 22:00 today (in the hall's zone) now."""
    now = datetime.now(TZ)
    return (now.replace(hour=22, minute=0, second=0, microsecond=0) - now).total_seconds()


@pytest.fixture(scope="module")
def modem():
    with ModemSimulator() as sim:
        yield sim


@pytest.fixture(scope="module")
def hall(tmp_path_factory, modem):
    tmp = tmp_path_factory.mktemp("locker-pickup")
    opening = "\n".join(f'{day} = "{span}"' for day, span in load_config(DISTRICT).hall.opening.items())
    config = tmp / "hall-22-00-lockers.toml"
    config.write_text(hall_config(tmp, opening=opening).read_text(encoding="utf-8") + f"""
[[devices]]
name = "{LOCKER}"
kind = "locker"
url = "sim://locker?boards=2&locks=24&timeout=0.2&retries=1"
poll_s = 30

[[devices]]
name = "sms-modem"
kind = "sms"
url = "sms+serial://{modem.port}?timeout=0.5&send_timeout=5"
poll_s = 30
""", encoding="utf-8")
    # the kiosk finds it after a restart; its clock at 22:00, the same offset at each start (time runs on)
    srv = ServerProcess(tmp / "data", config=config, keep_port=True,
                        extra_args=("--clock-offset-s", f"{seconds_to_22_00():.3f}"))
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


def texts_to(modem, number: str) -> list[str]:
    """What the simulated modem sent about case `number`, oldest first."""
    return [m.text for m in modem.sent if number in m.text]


def pickup_code(modem, number: str) -> str:
    """The code as the applicant reads it in the SMS the simulated modem sent (the hall keeps only its hash, and
    masks it in the outbox once sent)."""
    text = until(lambda: [t for t in texts_to(modem, number) if "取件码" in t], what="the pickup code's SMS")[0]
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


def test_at_22_00_a_result_is_collected_with_the_pickup_code(hall, page, modem):
    admin = hall.admin_http
    case, loaded = in_a_locker(hall)
    assert datetime.fromisoformat(case["received_at"]).astimezone(TZ).hour == 22      # the hall's clock
    where = loaded["compartment"]
    simulate(hall, shut=True, board=loaded["board"], lock=loaded["lock"])          # the clerk shuts it
    until(lambda: status_of(hall, case["id"]) == "ready", what="ready")
    code = pickup_code(modem, case["number"])
    # the applicant's phone had each message once: accepted (with the query code), decided, in the locker (the code)
    sent = until(lambda: len(texts_to(modem, case["number"])) >= 3 and texts_to(modem, case["number"]), what="3 SMS")
    assert [("已受理" in t, "已办结" in t, "取件码" in t) for t in sent] == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    assert case["query_code"] in sent[0] and code in sent[2]
    assert all(m.number == "+8613900000000" for m in modem.sent if case["number"] in m.text)

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
    events = HTTP.get(hall.url + "/api/v1/events", params={"since": 0, "limit": 1000}).json()["events"]
    assert [e["data"]["number"] for e in events if e["type"] == "notice.reprinted"] == [case["number"]]


def test_a_hall_killed_while_a_door_stands_open_loses_nothing(hall, page, modem):
    """kill -9 while a result is being loaded, and again while it is being collected: the restarted hall reads the
    doors (its simulated board starts with every door shut, as if shut meanwhile) and finishes each, once; the
    modem (which outlives the hall) has each message of the case once."""
    case, loaded = in_a_locker(hall)
    # killed once the modem has the messages so far (one being sent at the kill would be `uncertain`, never resent)
    until(lambda: len(texts_to(modem, case["number"])) == 2, what="the accepted and decided SMS")
    hall.kill()
    hall.start()
    until(lambda: status_of(hall, case["id"]) == "ready", what="the load finished after the restart")
    code = pickup_code(modem, case["number"])
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
    events = HTTP.get(hall.url + "/api/v1/events", params={"since": 0, "limit": 5000}).json()["events"]
    mine = [e["type"] for e in events if e["data"].get("case") == case["id"] and e["type"] in
            ("case.ready", "case.delivered", "locker.loaded", "locker.collected")]
    assert mine == ["case.ready", "locker.loaded", "case.delivered", "locker.collected"]
    with sqlite3.connect(f"file:{hall.db_path}?mode=ro", uri=True) as db:
        kinds = [k for (k,) in db.execute("SELECT kind FROM outbox WHERE case_id=? ORDER BY id", (case["id"],))]
    assert kinds.count("ready_locker") == 1
    sent = texts_to(modem, case["number"])
    assert len(sent) == 3 and sum("取件码" in t for t in sent) == 1 and code in sent[-1]


def status_of_offline(hall, case_id: int) -> str:
    """The case's status read from the database of a hall that is down."""
    with sqlite3.connect(f"file:{hall.db_path}?mode=ro", uri=True) as db:
        return db.execute("SELECT status FROM cases WHERE id=?", (case_id,)).fetchone()[0]
