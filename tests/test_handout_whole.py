"""Issue 16, "Done when": one hall server process takes three decided cases to `delivered` — at the 出件 window, by
mail and from a locker — with every SMS in the simulated modem's inbox and a kill -9 in the middle of all three.

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
from pathlib import Path

import httpx
import pytest
from kiosk_helpers import KioskProcess, closed_now, devices_file, hall_config, receipts
from pages import expect
from serverproc import ServerProcess
from test_handout_pages import ADULT, CLERK, browser, decided, pages, printed  # noqa: F401 (fixtures)
from test_locker_pickup_page import LOCKER, open_doors, simulate, status_of, type_code, until

pytestmark = pytest.mark.slow
PHONE = "13900001111"                                   # test_handout_pages.decided's applicant


def devices(tmp: Path) -> str:
    """Window 6's printer, the result lockers on a simulated board and the modem, its inbox in a file."""
    return (f'\n[[devices]]\nname = "window6-printer"\nkind = "printer"\nwindow = 6\n'
            f'url = "sim://printer?width=80&out={tmp / "printer-w6"}"\n'
            f'\n[[devices]]\nname = "{LOCKER}"\nkind = "locker"\n'
            f'url = "sim://locker?boards=2&locks=24&timeout=0.2&retries=1"\npoll_s = 30\n'
            f'\n[[devices]]\nname = "sms-modem"\nkind = "sms"\nurl = "sim://sms?out={tmp / "inbox.jsonl"}"\n'
            'poll_s = 1\n')


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("handout-whole")
    open_cfg = hall_config(tmp)
    open_cfg.write_text(open_cfg.read_text(encoding="utf-8") + devices(tmp), encoding="utf-8")
    closed_cfg = hall_config(tmp, opening=closed_now())
    closed_cfg.write_text(closed_cfg.read_text(encoding="utf-8") + devices(tmp), encoding="utf-8")
    srv = ServerProcess(tmp / "data", config=open_cfg, keep_port=True)     # the kiosk finds it after the restart
    srv.start()
    srv.tmp, srv.window_printer, srv.inbox, srv.closed_config = tmp, tmp / "printer-w6", tmp / "inbox.jsonl", closed_cfg
    srv.http = srv.admin_http = srv.client(headers=srv.admin())
    srv.make_user(CLERK, "clerk")
    token = srv.make_user("kioskwhole", "kiosk")["Authorization"].removeprefix("Bearer ")
    srv.kiosk = KioskProcess(srv.url, token, devices_file(tmp, idle_s=120), tmp)
    yield srv
    srv.kiosk.stop()
    srv.kill()


def inbox(hall) -> list[dict]:
    """What the applicants' phones received, in order."""
    if not hall.inbox.exists():
        return []
    return [json.loads(line) for line in hall.inbox.read_text(encoding="utf-8").splitlines() if line]


def messages_of(hall, case: dict) -> list[str]:
    """The outbox's messages of `case` (its kinds, in order), each as many times as the phones received its text."""
    with sqlite3.connect(f"file:{hall.db_path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT kind, phone, text FROM outbox WHERE case_id=? ORDER BY id", (case["id"],)).fetchall()
    # a sent message's pickup code is masked in the store: compare it so
    received = [(m["number"][-11:], re.sub(r"取件码\d{6}", "取件码******", m["text"])) for m in inbox(hall)]
    return [kind for kind, phone, text in rows for _ in range(received.count((phone[-11:], text)))]


def leaks(code: str, text: str) -> bool:
    """Whether `code` stands in `text` as a number of its own (times and decimals, whose digits may match, aside)."""
    text = re.sub(r"\d{4}-\d\d-\d\d[T ][\d:.]+|\d+\.\d+", " ", text)
    return re.search(rf"(?<!\d){code}(?!\d)", text) is not None


def test_three_cases_from_decided_to_delivered_with_a_kill_in_the_middle(hall, pages):  # noqa: F811
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
    until(lambda: messages_of(hall, window) == ["accepted", "decided", "ready"]
          and messages_of(hall, mail) == ["accepted", "decided", "ready"]
          and messages_of(hall, locker) == ["accepted", "decided"], timeout=60, what="the SMS before the kill")

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
    public = httpx.get(f"{hall.url}/c/{mail['query_code']}", timeout=30).text
    assert "EMS1234567890" in public and ADULT.name not in public and "新下陆街道" not in public

    # (c) the locker: the load finished after the restart; the pickup code from the SMS opens the door at 22:00
    until(lambda: status_of(hall, locker["id"]) == "ready", what="the load finished after the restart")
    until(lambda: "ready_locker" in messages_of(hall, locker), timeout=60, what="the pickup code's SMS")
    sms = next(m["text"] for m in inbox(hall) if locker["number"] in m["text"] and "取件码" in m["text"])
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
    until(lambda: messages_of(hall, locker) == ["accepted", "decided", "ready_locker"], what="the locker's SMS")
    assert messages_of(hall, window) == messages_of(hall, mail) == ["accepted", "decided", "ready"]
    events = httpx.get(hall.url + "/api/v1/events", params={"since": 0, "limit": 5000}).json()["events"]
    diagnostics = api.get(f"/api/v1/devices/{LOCKER}").text + api.get("/api/v1/devices/sms-modem").text
    for where, text in (("events", json.dumps(events, ensure_ascii=False)), ("diagnostics", diagnostics),
                        ("server log", hall.stdout() + hall.stderr()),
                        ("kiosk log", hall.kiosk.log.read_text(errors="replace"))):
        assert not leaks(code, text), f"the pickup code is in the {where}"
