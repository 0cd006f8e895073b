"""Result lockers through the API (issue 16, items 3 and 6) on the simulated lock-control boards (sim://locker:
the real serial driver on a pseudo-terminal): a decided case loaded, its door shut by the simulator, ready with
the compartment and the pickup code's SMS queued; a stuck door out of service with an alert and the next one
used; pickups by code and by swipe delivered when the door is shut again; wrong codes paused after 5; a board
unplugged mid-pickup leaving the case ready; overdue results taken back; a restart in the middle losing
nothing; the code in no event, no log line, and masked in the outbox once sent. And the kiosk's 24-hour reprint
of a 受理通知书."""
from __future__ import annotations

import contextlib
import json
import logging
import time

import pytest
from api_helpers import assert_error, clerk_at
from conftest import ADMIN_PASSWORD, _login, _make_user, _settle
from fastapi.testclient import TestClient
from test_cases_api import ID, act, take_in

from hall_server.app import create_app
from hall_server.hardware.config import DeviceConfig
from hall_server.lockers import codes
from hall_server.lockers.config import CompartmentRange, LockerPolicy
from hall_server.notify.config import SmsPolicy
from hall_server.runtime import Hall

LOCKER = "test-lockers"
INSTANT = ("WJ-001", ["夫妻双方居民身份证", "结婚证", "户口簿"])        # 即办: decided by the clerk at window 1
CODE = "918273"                     # the code drawn in the tests that look for it where it must not be


def locker_config(district_cfg, **policy):
    locker = DeviceConfig(name=LOCKER, kind="locker", url="sim://locker?boards=2&locks=4&timeout=0.1&retries=1",
                          poll_s=300)
    compartments = (CompartmentRange(board=1, locks="1-2", size="small"),
                    CompartmentRange(board=1, locks="3-4", size="large"),
                    CompartmentRange(board=2, locks="1-4", size="small"))
    lockers = LockerPolicy(device=LOCKER, compartments=compartments, poll_s=0.05, **policy)
    devices = (*(d for d in district_cfg.devices if d.kiosk), locker)
    return district_cfg.model_copy(update={"devices": devices, "seats": (), "lockers": lockers})


@contextlib.contextmanager
def running(data_dir, cfg, clock):
    """The hall on `data_dir` with the simulated lockers; leaving it stops the hall (a restart is another)."""
    h = Hall(cfg, data_dir, clock)
    h.ensure_admin()
    with TestClient(create_app(h)) as c:
        c.hall = h
        c.admin = c.tech = _login(c, "admin", ADMIN_PASSWORD)
        c.headers_for = lambda user, password: _login(c, user, password)
        c.make_user = lambda username, role: _make_user(c, username, role)
        _settle(h)
        yield c


@pytest.fixture
def hall_cfg(district_cfg):
    return locker_config(district_cfg)


@pytest.fixture
def client(tmp_path, hall_cfg, clock, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
    with running(tmp_path, hall_cfg, clock) as c:
        c.kiosk = c.make_user("kiosk7", "kiosk")
        c.tech = c.make_user("tech", "technician")
        yield c


def until(check, timeout: float = 10.0, what: str = "the condition"):
    end = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < end, f"{what} did not come within {timeout} s"
        time.sleep(0.02)


def decided(client, clerk) -> dict:
    case = take_in(client, clerk, *INSTANT)
    act(client, clerk, case["id"], "accept")
    return act(client, clerk, case["id"], "decide", {"outcome": "approved"})


def door(client, board: int, lock: int) -> str:
    return client.hall.devices.devices[LOCKER].device.simulator.door(board, lock).value


def shut(client, board: int, lock: int) -> None:
    r = client.post(f"/api/v1/devices/{LOCKER}/simulate", json={"shut": True, "board": board, "lock": lock},
                    headers=client.tech)
    assert r.status_code == 200, r.text


def fault(client, name: str, **where) -> None:
    r = client.post(f"/api/v1/devices/{LOCKER}/simulate", json={"fault": name, **where}, headers=client.tech)
    assert r.status_code == 200, r.text


def case_of(client, case_id: int) -> dict:
    return client.get(f"/api/v1/cases/{case_id}", headers=client.admin).json()


def compartment(client, label: str) -> dict:
    got = client.get("/api/v1/lockers", headers=client.tech).json()["compartments"]
    return next(c for c in got if c["compartment"] == label)


def outbox(client) -> list[dict]:
    return [dict(r) for r in client.hall.store.read.execute("SELECT * FROM outbox ORDER BY id")]


def events(client, prefix: str = "") -> list[dict]:
    got = client.get("/api/v1/events", params={"since": 0, "limit": 1000}).json()["events"]
    return [e for e in got if e["type"].startswith(prefix)]


def load(client, clerk, case_id: int, **body) -> dict:
    r = client.post(f"/api/v1/cases/{case_id}/locker", json=body or None, headers=clerk)
    assert r.status_code == 200, r.text
    return r.json()


def loaded(client, clerk, **body) -> tuple[dict, str]:
    """A decided case loaded and its door shut: (the ready case, its pickup code from the SMS)."""
    case = decided(client, clerk)
    got = load(client, clerk, case["id"], **body)
    board, lock = got["locker"]["board"], got["locker"]["lock"]
    shut(client, board, lock)
    ready = until(lambda: (c := case_of(client, case["id"]))["status"] == "ready" and c, what="ready")
    return ready, code_of(client, case["id"])


def code_of(client, case_id: int) -> str:
    """The pickup code, as the applicant reads it in the SMS."""
    text = next(m["text"] for m in outbox(client) if m["case_id"] == case_id and m["kind"] == "ready_locker")
    return text.split("取件码")[1][:6]


def pickup(client, status: int = 200, **body) -> dict:
    r = client.post("/api/v1/lockers/pickup", json={"kiosk": "kiosk7", **body}, headers=client.kiosk)
    assert r.status_code == status, r.text
    return r.json()


# -- load, then pickup -----------------------------------------------------------------------------------------
def test_a_result_loaded_then_collected_by_code(client, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(codes, "new_code", lambda: CODE)
    clerk = clerk_at(client, 1)
    case = decided(client, clerk)
    got = load(client, clerk, case["id"])
    assert got["status"] == "decided" and got["locker"]["compartment"] == "1-01"
    assert got["locker"]["size"] == "small" and got["locker"]["state"] == "loading"
    assert door(client, 1, 1) == "open" and compartment(client, "1-01")["state"] == "loading"
    assert outbox(client) == [] or all(m["kind"] != "ready_locker" for m in outbox(client))
    shut(client, 1, 1)
    ready = until(lambda: (c := case_of(client, case["id"]))["status"] == "ready" and c, what="ready")
    assert ready["handout"]["via"] == "locker" and ready["handout"]["compartment"] == "1-01"
    assert ready["history"][-1]["action"] == "ready" and ready["history"][-1]["via"] == "locker"
    sms = [m for m in outbox(client) if m["case_id"] == case["id"] and m["kind"].startswith("ready")]
    assert [(m["kind"], m["status"]) for m in sms] == [("ready_locker", "queued")]      # one SMS, with the code
    assert CODE in sms[0]["text"] and sms[0]["phone"] == "13800000000"
    held = compartment(client, "1-01")
    assert held["state"] == "occupied" and held["case"]["number"] == case["number"]
    public = client.get(f"/api/v1/case-status/{case['query_code']}").json()
    assert public["status"] == "ready" and public["via"] == "locker"

    opened = pickup(client, code=CODE)
    p = opened["pickups"][0]
    assert (p["compartment"], p["state"], p["number"]) == ("1-01", "open", case["number"])
    assert door(client, 1, 1) == "open" and "1-01" in opened["message_zh"]
    status = client.get(f"/api/v1/lockers/pickups/{p['token']}", headers=client.kiosk).json()
    assert status["state"] == "open" and status["door"] == "open"
    assert case_of(client, case["id"])["status"] == "ready"          # not delivered while the door stands open
    shut(client, 1, 1)
    done = until(lambda: (c := case_of(client, case["id"]))["status"] == "delivered" and c, what="delivered")
    assert done["handout"]["collector"]["name"] == "自助柜取件" and done["handout"]["via"] == "locker"
    assert done["history"][-1]["by"] == "kiosk7"
    assert client.get(f"/api/v1/lockers/pickups/{p['token']}", headers=client.kiosk).json()["state"] == "delivered"
    assert compartment(client, "1-01")["state"] == "free"
    assert_error(client.post("/api/v1/lockers/pickup", json={"code": CODE}, headers=client.kiosk), 404, "wrong_code")

    kinds = [e["type"] for e in events(client, "locker.")]
    assert kinds[:5] == ["locker.loading", "locker.loaded", "locker.opened", "locker.collected", "locker.wrong_code"]
    everything = json.dumps(events(client), ensure_ascii=False)
    assert CODE not in everything and CODE not in caplog.text          # never in an event or a log line
    assert "张三" not in json.dumps(events(client, "locker."), ensure_ascii=False)
    # once the SMS has gone, the outbox keeps its text with the code masked
    msg_id = sms[0]["id"]
    client.hall.store.write_sync(lambda conn: _mark_sent(conn, msg_id))
    text = until(lambda: (t := next(m["text"] for m in outbox(client) if m["id"] == msg_id)) and CODE not in t and t,
                 what="the code masked")
    assert codes.MASK in text and case["number"] in text


def _mark_sent(conn, msg_id):
    from hall_server.store.database import Change
    conn.execute("UPDATE outbox SET status='sent' WHERE id=?", (msg_id,))
    return Change()


def test_the_code_reaches_the_simulated_modem_then_is_masked_in_the_outbox(tmp_path, district_cfg, clock,
                                                                          monkeypatch, caplog):
    """The code goes to the applicant's phone and nowhere else: not in a log line, an event, the devices' and the
    outbox's API, nor the modem's --wire dump (as text, as the PDU's UCS-2 hex, or in the dump's hex columns)."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
    monkeypatch.setattr(codes, "new_code", lambda: CODE)
    cfg = locker_config(district_cfg)
    wire = tmp_path / "sms-wire.txt"
    modem = DeviceConfig(name="sms-modem", kind="sms", url=f"sim://sms?wire={wire}", poll_s=300)
    cfg = cfg.model_copy(update={"devices": (*cfg.devices, modem), "sms": SmsPolicy(device="sms-modem")})
    with running(tmp_path, cfg, clock) as c:
        clerk = clerk_at(c, 1)
        case = decided(c, clerk)
        load(c, clerk, case["id"])
        shut(c, 1, 1)
        sim = c.hall.devices.devices["sms-modem"].device.simulator
        sent = until(lambda: [m for m in sim.sent if CODE in m.text], what="the SMS with the code")
        assert sent[0].number.endswith("13800000000") and case["number"] in sent[0].text
        text = until(lambda: (m := [m for m in outbox(c) if m["kind"] == "ready_locker"]) and m[0]["status"] == "sent"
                     and CODE not in m[0]["text"] and m[0]["text"], what="the outbox text masked")
        assert codes.MASK in text

        def body(path: str) -> str:
            r = c.get(path, headers=c.admin)
            assert r.status_code == 200, r.text
            return r.text
        seen = {"events": json.dumps(events(c), ensure_ascii=False), "lockers": body("/api/v1/lockers"),
                "devices": body("/api/v1/health") + body("/api/v1/devices/sms-modem") + body("/api/v1/alerts"),
                "outbox": body("/api/v1/outbox")}
    dump = wire.read_text(errors="replace")
    assert "AT+CMGS=" in dump                           # the dump is there, and shows the exchange
    seen["wire dump"] = dump
    seen["wire bytes"] = b"".join(bytes.fromhex(line[22:70]) for line in dump.splitlines()
                                  if line[11:13] in ("TX", "RX")).decode("ascii", errors="replace")
    seen["log"] = caplog.text
    ucs2 = CODE.encode("utf-16-be").hex().upper()       # the code as the PDU carries it
    for where, text in seen.items():
        assert CODE not in text and ucs2 not in text and ucs2.lower() not in text, f"the pickup code in the {where}"


def test_a_stuck_door_goes_out_of_service_with_an_alert_and_the_next_is_used(client):
    clerk = clerk_at(client, 1)
    fault(client, "stuck", board=1, lock=1)
    got = load(client, clerk, decided(client, clerk)["id"])
    assert got["locker"]["compartment"] == "1-02" and [t["compartment"] for t in got["locker"]["tried"]] == ["1-01"]
    assert compartment(client, "1-01")["state"] == "out_of_service" and door(client, 1, 2) == "open"
    alerts = client.get("/api/v1/alerts").json()["alerts"]
    assert any(a["kind"] == "locker_door" and "1-01" in a["detail"] for a in alerts)
    assert_error(client.post("/api/v1/lockers/compartments/1-01/in-service", headers=clerk), 403)
    r = client.post("/api/v1/lockers/compartments/1-01/in-service", headers=client.tech)
    assert r.status_code == 200 and r.json()["state"] == "free"


def test_a_door_stuck_at_pickup_keeps_the_result_until_staff_take_it_back(client):
    clerk = clerk_at(client, 1)
    ready, code = loaded(client, clerk)
    fault(client, "stuck", board=1, lock=1)
    err = assert_error(client.post("/api/v1/lockers/pickup", json={"code": code}, headers=client.kiosk), 409,
                       "compartment_fault")
    assert "仍在柜内" in err["message_zh"]
    held = compartment(client, "1-01")
    assert held["state"] == "out_of_service" and held["case"]["id"] == ready["id"]
    assert case_of(client, ready["id"])["status"] == "ready"
    assert_error(client.post("/api/v1/lockers/pickup", json={"code": code}, headers=client.kiosk), 409,
                 "compartment_fault")                                   # told again, without trying the door
    assert_error(client.post("/api/v1/lockers/compartments/1-01/in-service", headers=client.tech), 409)
    fault(client, "none")                                               # mended
    r = client.post("/api/v1/lockers/compartments/1-01/take-back", headers=clerk)
    assert r.status_code == 200 and r.json()["state"] == "emptying"
    assert case_of(client, ready["id"])["handout"]["via"] == "window"


def test_sizes_and_what_cannot_be_loaded(client):
    clerk = clerk_at(client, 1)
    case = take_in(client, clerk, *INSTANT)
    assert_error(client.post(f"/api/v1/cases/{case['id']}/locker", headers=clerk), 409, "case_state")
    for _ in range(2):
        assert load(client, clerk, decided(client, clerk)["id"], size="large")["locker"]["size"] == "large"
    big = decided(client, clerk)
    err = assert_error(client.post(f"/api/v1/cases/{big['id']}/locker", json={"size": "large"}, headers=clerk), 409,
                       "no_free_compartment")
    assert err["sizes"]["large"]["free"] == 0
    first = load(client, clerk, big["id"])
    assert_error(client.post(f"/api/v1/cases/{big['id']}/locker", headers=clerk), 409, "already_in_locker")
    r = client.post(f"/api/v1/lockers/compartments/{first['locker']['compartment']}/cancel", headers=clerk)
    assert r.status_code == 200 and r.json()["state"] == "emptying"
    assert case_of(client, big["id"])["status"] == "decided"
    kiosk = client.post(f"/api/v1/cases/{big['id']}/locker", headers=client.kiosk)
    assert_error(kiosk, 403, "role_forbidden")


def test_pickup_by_swiping_the_applicants_card(client):
    clerk = clerk_at(client, 1)
    ready, _code = loaded(client, clerk)
    swipe = client.post("/api/v1/swipes", headers=client.kiosk, json={
        "kiosk": "kiosk7", "card": {"id_number": ID, "name": "张三", "long_term": True}}).json()
    assert_error(client.post("/api/v1/lockers/pickup", json={"swipe": swipe["id"], "kiosk": "kiosk8"},
                             headers=client.kiosk), 404, "swipe_not_found")     # a swipe of another kiosk
    got = pickup(client, swipe=swipe["id"])
    assert [p["compartment"] for p in got["pickups"]] == [ready["handout"]["compartment"]]
    shut(client, 1, 1)
    until(lambda: case_of(client, ready["id"])["status"] == "delivered", what="delivered")
    assert_error(client.post("/api/v1/lockers/pickup", json={"swipe": swipe["id"], "kiosk": "kiosk7"},
                             headers=client.kiosk), 404, "no_locker_result")


def test_wrong_codes_pause_the_kiosk_after_five(client, clock):
    clerk = clerk_at(client, 1)
    _ready, code = loaded(client, clerk)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        assert pickup(client, 404, code=wrong)["error"]["tries_left"] == left
    r = client.post("/api/v1/lockers/pickup", json={"code": wrong}, headers=client.kiosk)
    err = assert_error(r, 429, "too_many_tries")
    assert int(r.headers["retry-after"]) == err["retry_after_s"] > 0 and err["retry_at"]
    assert "后再试" in err["message_zh"] and "again after" in err["message_en"]
    assert_error(client.post("/api/v1/lockers/pickup", json={"code": code}, headers=client.kiosk), 429)
    alerts = client.get("/api/v1/alerts").json()["alerts"]
    assert any(a["kind"] == "locker_tries" for a in alerts)
    other = client.make_user("kiosk9", "kiosk")                      # another kiosk is not paused
    assert client.post("/api/v1/lockers/pickup", json={"code": wrong}, headers=other).status_code == 404
    assert_error(client.post("/api/v1/lockers/pickup", json={"code": "12ab"}, headers=other), 422, "bad_code")
    clock.advance(minutes=6)
    client.kiosk = client.headers_for("kiosk7", "kiosk7-password")
    assert pickup(client, 404, code=wrong)["error"]["tries_left"] == 4
    assert pickup(client, code=code)["pickups"][0]["state"] == "open"


def test_a_board_unplugged_mid_pickup_leaves_the_case_ready(client):
    clerk = clerk_at(client, 1)
    ready, code = loaded(client, clerk)
    fault(client, "unplugged", board=1)
    err = assert_error(client.post("/api/v1/lockers/pickup", json={"code": code}, headers=client.kiosk), 503,
                       "lockers_unavailable")
    assert "仍在柜内" in err["message_zh"] and "still inside" in err["message_en"]
    assert case_of(client, ready["id"])["status"] == "ready" and compartment(client, "1-01")["state"] == "occupied"
    assert door(client, 1, 1) == "closed"
    fault(client, "none")
    token = pickup(client, code=code)["pickups"][0]["token"]
    fault(client, "unplugged", board=1)                               # the board goes while the door stands open
    until(lambda: client.get(f"/api/v1/lockers/pickups/{token}", headers=client.kiosk).json()["door"] == "unknown",
          what="the door unknown")
    shut(client, 1, 1)
    time.sleep(0.5)                                                    # ten rounds of the watch: nothing to read
    assert case_of(client, ready["id"])["status"] == "ready"          # nothing is delivered that was not seen
    fault(client, "none")
    until(lambda: case_of(client, ready["id"])["status"] == "delivered", what="delivered once the board answers")


def test_results_left_too_long_are_listed_and_taken_back(client, clock):
    clerk = clerk_at(client, 1)
    ready, code = loaded(client, clerk)
    assert client.get("/api/v1/lockers/overdue", headers=clerk).json()["compartments"] == []
    clock.advance(days=8)
    clerk = client.headers_for("clerk1", "clerk1-password")        # the clock passed the day's tokens
    client.admin = client.headers_for("admin", ADMIN_PASSWORD)
    client.tech = client.headers_for("tech", "tech-password")
    got = client.get("/api/v1/lockers/overdue", headers=clerk).json()
    assert got["days"] == 7 and [(c["compartment"], c["days"], c["case"]["number"]) for c in got["compartments"]] \
        == [("1-01", 8, ready["number"])]
    r = client.post("/api/v1/lockers/compartments/1-01/take-back", headers=clerk)
    assert r.status_code == 200 and r.json()["state"] == "emptying" and door(client, 1, 1) == "open"
    back = case_of(client, ready["id"])
    assert back["status"] == "ready" and back["handout"]["via"] == "window"
    assert back["handout"]["from_locker"] == "1-01"
    assert outbox(client)[-1]["kind"] == "ready" and "出件窗口" in outbox(client)[-1]["text"]
    shut(client, 1, 1)
    until(lambda: compartment(client, "1-01")["state"] == "free", what="free")
    client.kiosk = client.headers_for("kiosk7", "kiosk7-password")
    assert_error(client.post("/api/v1/lockers/pickup", json={"code": code}, headers=client.kiosk), 404, "wrong_code")


def test_a_restart_in_the_middle_loses_nothing(tmp_path, hall_cfg, clock, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
    with running(tmp_path, hall_cfg, clock) as c:
        clerk = clerk_at(c, 1)
        kiosk = c.make_user("kiosk7", "kiosk")
        loading = decided(c, clerk)
        load(c, clerk, loading["id"])                                  # 1-01 open, the hall stops
        ready = decided(c, clerk)
        load(c, clerk, ready["id"])
        shut(c, 1, 2)
        until(lambda: case_of(c, ready["id"])["status"] == "ready")
        r = c.post("/api/v1/lockers/pickup", json={"code": code_of(c, ready["id"])}, headers=kiosk)
        assert r.status_code == 200                                    # 1-02 open for its pickup, the hall stops
        third = decided(c, clerk)
        third_at = load(c, clerk, third["id"])["locker"]
        assert third_at["compartment"] == "2-01"
        shut(c, 2, 1)
        until(lambda: case_of(c, third["id"])["status"] == "ready")
        # a stop between "opening" and the door command's answer (as a kill -9 would leave it)
        c.hall.store.write_sync(lambda conn: _forge(conn, "UPDATE compartments SET state='opening' WHERE label='2-01'"))
    with running(tmp_path, hall_cfg, clock) as c:                      # the new simulator's doors are all shut
        until(lambda: case_of(c, loading["id"])["status"] == "ready", what="the load finished after the restart")
        assert any(m["case_id"] == loading["id"] and m["kind"] == "ready_locker" for m in outbox(c))
        until(lambda: case_of(c, ready["id"])["status"] == "delivered", what="the pickup finished after the restart")
        until(lambda: compartment(c, "2-01")["state"] == "occupied", what="the interrupted pickup settled")
        assert case_of(c, third["id"])["status"] == "ready"           # its door never opened: not delivered
        assert [e["data"]["now"] for e in events(c, "locker.recovered")] == ["occupied"]


def _forge(conn, sql):
    from hall_server.store.database import Change
    conn.execute(sql)
    return Change()


# -- 24-hour mode: the 受理通知书 printed again at a kiosk ------------------------------------------------------------
def test_an_acceptance_notice_printed_again_at_the_kiosk(client):
    clerk = clerk_at(client, 1)
    case = act(client, clerk, take_in(client, clerk, *INSTANT)["id"], "accept")
    body = {"number": case["number"], "query_code": case["query_code"], "kiosk": "kiosk7"}
    r = client.post("/api/v1/kiosk/acceptance-notice", json=body, headers=client.kiosk)
    assert r.status_code == 200, r.text
    document = r.json()["document"]                      # no hall printer for kiosk7: the kiosk prints it
    assert document["title"] == "受理通知书" and case["number"] in document["reference"]
    assert {"label": "查询码", "value": case["query_code"], "sep": "："} in document["lines"]
    assert document["qr_url"].endswith(f"/c/{case['query_code']}")
    wrong = {**body, "query_code": "x" * 16}
    assert_error(client.post("/api/v1/kiosk/acceptance-notice", json=wrong, headers=client.kiosk), 404,
                 "case_not_matched")
    on_hall = client.post("/api/v1/kiosk/acceptance-notice", json={**body, "kiosk": "kiosk1"}, headers=client.kiosk)
    assert on_hall.status_code == 200 and on_hall.json()["printed"]["device"] == "kiosk1-printer"
    assert [e["data"]["kiosk"] for e in events(client, "notice.reprinted")] == ["kiosk7", "kiosk1"]
    fresh = take_in(client, clerk, *INSTANT)
    assert_error(client.post("/api/v1/kiosk/acceptance-notice", headers=client.kiosk, json={
        "number": fresh["number"], "query_code": fresh["query_code"]}), 409, "notice_not_available")


def test_lockers_are_refused_where_none_are_configured(tmp_path, district_cfg, clock, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
    cfg = district_cfg.model_copy(update={"devices": (), "seats": (), "lockers": LockerPolicy()})
    with running(tmp_path, cfg, clock) as c:
        assert c.get("/api/v1/lockers/info").json() == {"enabled": False, "working": False}
        clerk = clerk_at(c, 1)
        assert_error(c.post(f"/api/v1/cases/{decided(c, clerk)['id']}/locker", headers=clerk), 409, "no_lockers")
