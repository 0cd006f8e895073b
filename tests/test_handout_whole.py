"""Issue 16, "Done when": one hall server process takes three decided cases to `delivered` — at the 出件 window, by
mail and from a locker — each SMS received once by the simulated modem (on a pty of the test process), and a kill
-9 in the middle of all three.

Before the kill (the hall open): the window's case is ready and the citizen has taken its 出件 ticket at the kiosk (a
real browser); the mail case is ready with its address; the locker case is being loaded (its door stands open). The
hall comes back at 22:00 (opening hours that make it closed now, as test_locker_pickup_page does): the clerk calls the
出件 ticket in the terminal (real browser), hands the result out and the 领取回执 comes out of window 6's ESC/POS
simulator; the mail case goes with its waybill, shown on the public status page; the load finishes (the restarted
board reads the door shut), the applicant types the SMS's pickup code at the kiosk, the door opens, the test shuts it
and the case is delivered. Each message reached the modem once; no pickup code is in a log, an event or diagnostics.

The window's and the kiosk's own steps in detail are in test_handout_pages.py and test_locker_pickup_page.py; this
test reuses their helpers and fixtures.
"""
from __future__ import annotations

import json
import re
import sqlite3

import pytest
from kiosk_helpers import KioskProcess, closed_now, devices_file, hall_config, receipts
from pages import expect
from serverproc import HTTP, ServerProcess
from test_handout_pages import ADULT, CLERK, browser, decided, handout_config, modem, pages, printed, texts_to  # noqa: F401 (browser, modem and pages are fixtures)
from test_locker_pickup_page import LOCKER, open_doors, simulate, status_of, type_code, until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hall(tmp_path_factory, modem):  # noqa: F811
    """test_handout_pages' hall (window 6's printer, the lockers, the modem on a pty of this process), and the same
    hall closed now for after the restart."""
    tmp = tmp_path_factory.mktemp("handout-whole")
    plain = len(hall_config(tmp).read_text(encoding="utf-8"))
    open_cfg = handout_config(tmp, modem.port)
    closed_cfg = hall_config(tmp, opening=closed_now())
    closed_cfg.write_text(closed_cfg.read_text(encoding="utf-8") + open_cfg.read_text(encoding="utf-8")[plain:],
                          encoding="utf-8")
    srv = ServerProcess(tmp / "data", config=open_cfg, keep_port=True)     # the kiosk finds it after the restart
    srv.start()
    srv.tmp, srv.window_printer, srv.closed_config = tmp, tmp / "printer-w6", closed_cfg
    srv.http = srv.admin_http = srv.client(headers=srv.admin())
    srv.make_user(CLERK, "clerk")
    token = srv.make_user("kioskwhole", "kiosk")["Authorization"].removeprefix("Bearer ")
    srv.kiosk = KioskProcess(srv.url, token, devices_file(tmp, idle_s=120), tmp)
    yield srv
    srv.kiosk.stop()
    srv.kill()


def messages_of(hall, modem, case: dict) -> list[str]:  # noqa: F811
    """The outbox's messages of `case` (its kinds, in order), each as many times as the phones received its text."""
    with sqlite3.connect(f"file:{hall.db_path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT kind, phone, text FROM outbox WHERE case_id=? ORDER BY id", (case["id"],)).fetchall()
    # a sent message's pickup code is masked in the store: compare it so
    received = [(m.number[-11:], re.sub(r"取件码\d{6}", "取件码******", m.text)) for m in modem.sent]
    return [kind for kind, phone, text in rows for _ in range(received.count((phone[-11:], text)))]


def leaks(code: str, text: str) -> bool:
    """Whether `code` stands in `text` as a number of its own (times and decimals, whose digits may match, aside)."""
    text = re.sub(r"\d{4}-\d\d-\d\d[T ][\d:.]+|\d+\.\d+", " ", text)
    return re.search(rf"(?<!\d){code}(?!\d)", text) is not None


def test_three_cases_from_decided_to_delivered_with_a_kill_in_the_middle(hall, pages, modem):  # noqa: F811
    api = hall.http
    desk = pages.desk()                         # window 6 open, nobody waiting (it cancels waiting tickets)

    # -- before: the hall open -----------------------------------------------------------------------------
    window, mail, locker = decided(api), decided(api), decided(api)
    api.post(f"/api/v1/cases/{window['id']}/ready", json={"via": "window"}).raise_for_status()
    api.post(f"/api/v1/cases/{mail['id']}/ready",
             json={"via": "mail", "address": "湖北省黄石市下陆区新下陆街道 8 号"}).raise_for_status()
    loaded = api.post(f"/api/v1/cases/{locker['id']}/locker").raise_for_status().json()["locker"]
    assert f"{loaded['board']}/{loaded['lock']}" in open_doors(hall)          # the clerk has not shut it yet

    kiosk = pages.kiosk()                                                       # the citizen's 出件 ticket
    kiosk.get_by_test_id("open-cases").click()
    kiosk.get_by_test_id("case-input").fill(window["number"])
    kiosk.get_by_test_id("case-input").press("Enter")
    expect(kiosk.get_by_test_id("case-state")).to_contain_text("待取件")
    before = len(receipts(hall.tmp, 0))
    kiosk.get_by_test_id("case-take-ticket").click()
    expect(kiosk.get_by_test_id("screen-ticket")).to_be_visible()
    ticket_number = kiosk.get_by_test_id("ticket-number").inner_text()
    assert ticket_number in receipts(hall.tmp, before + 1)[-1].with_suffix(".txt").read_text(errors="replace")
    kiosk.close()

    # the messages so far have gone (a kill mid-send would leave one "uncertain", deliberately never sent twice)
    until(lambda: messages_of(hall, modem, window) == ["accepted", "decided", "ready"]
          and messages_of(hall, modem, mail) == ["accepted", "decided", "ready"]
          and messages_of(hall, modem, locker) == ["accepted", "decided"], timeout=60, what="the SMS before the kill")

    # -- kill -9, and back at 22:00 ------------------------------------------------------------------------
    hall.kill()
    hall.config = hall.closed_config
    hall.start()
    assert api.get("/api/v1/hall").json()["tickets_open"] is False
    ticket = api.get(f"/api/v1/tickets/by-number/{ticket_number}").json()
    assert ticket["status"] == "waiting" and ticket["case"]["id"] == window["id"] and ticket["priority"] == "handout"
    assert status_of(hall, window["id"]) == status_of(hall, mail["id"]) == "ready"

    # (a) the window: the clerk calls the 出件 ticket, the case opens, the applicant collects it, the 领取回执
    expect(desk.get_by_test_id("connection")).to_have_attribute("data-state", "connected", timeout=30_000)
    desk.keyboard.press("1")
    expect(desk.get_by_test_id("current-number")).to_have_text(ticket_number)
    expect(desk.get_by_test_id("handout-number")).to_have_text(window["number"])
    expect(desk.get_by_test_id("handout-name")).to_have_value(ADULT.name)
    desk.get_by_test_id("handout-id").fill(ADULT.id_number)
    desk.get_by_test_id("handout-collect-submit").click()
    expect(desk.get_by_test_id("handout-status")).to_have_attribute("data-status", "delivered")
    desk.get_by_test_id("handout-print-window").click()
    expect(desk.get_by_test_id("handout-print-result")).to_have_attribute("data-state", "ok")
    slip = re.sub(r"\s+", "", printed(hall.window_printer, window["number"], "领取回执"))
    assert f"领取人：{ADULT.name}" in slip and ADULT.id_number not in slip and f"经办人：{CLERK}" in slip

    # (b) mail: sent with its waybill, which the public status page shows
    api.post(f"/api/v1/cases/{mail['id']}/deliver", json={"waybill": "EMS1234567890"}).raise_for_status()
    public = HTTP.get(f"{hall.url}/c/{mail['query_code']}", timeout=30).text
    assert "EMS1234567890" in public and ADULT.name not in public and "新下陆街道" not in public

    # (c) the locker: the load finished after the restart; the pickup code from the SMS opens the door at 22:00
    until(lambda: status_of(hall, locker["id"]) == "ready", what="the load finished after the restart")
    until(lambda: "ready_locker" in messages_of(hall, modem, locker), timeout=60, what="the pickup code's SMS")
    sms = next(t for t in texts_to(modem, locker["number"]) if "取件码" in t)
    code = re.search(r"取件码\s*(\d{6})", sms).group(1)
    booth = desk.context.browser.new_context(viewport={"width": 1920, "height": 1080}, has_touch=True)
    stand = booth.new_page()
    stand.goto(hall.kiosk.url + "/")
    expect(stand.get_by_test_id("screen-closed")).to_be_visible(timeout=30_000)   # 22:00: the hall is closed
    stand.get_by_test_id("closed-lockers").click()
    type_code(stand, code)
    door = stand.get_by_test_id(f"locker-door-{loaded['compartment']}")
    expect(door).to_have_attribute("data-state", "open")
    assert status_of(hall, locker["id"]) == "ready"                                   # not taken yet
    simulate(hall, shut=True, board=loaded["board"], lock=loaded["lock"])             # the citizen shuts it
    expect(door).to_have_attribute("data-state", "delivered")
    booth.close()

    # -- all three delivered, each message once, no pickup code anywhere it must not be -----------------------
    for case in (window, mail, locker):
        assert status_of(hall, case["id"]) == "delivered"
    until(lambda: messages_of(hall, modem, locker) == ["accepted", "decided", "ready_locker"], what="the locker's SMS")
    assert messages_of(hall, modem, window) == messages_of(hall, modem, mail) == ["accepted", "decided", "ready"]
    events = HTTP.get(hall.url + "/api/v1/events", params={"since": 0, "limit": 5000}).json()["events"]
    diagnostics = api.get(f"/api/v1/devices/{LOCKER}").text + api.get("/api/v1/devices/sms-modem").text
    for where, text in (("events", json.dumps(events, ensure_ascii=False)), ("diagnostics", diagnostics),
                        ("server log", hall.stdout() + hall.stderr()),
                        ("kiosk log", hall.kiosk.log.read_text(errors="replace"))):
        assert not leaks(code, text), f"the pickup code is in the {where}"
