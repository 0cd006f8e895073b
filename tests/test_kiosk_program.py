"""The kiosk program (issue 6, item 1) against a real hall server process, with its own simulated devices.

The kiosk's app runs in-process (TestClient: its lifespan starts the kiosk, its devices and its loops) and
reaches the hall server only over HTTP with a kiosk token: tickets are issued on the hall and printed on the
kiosk's own simulated printer; a card on its simulated reader becomes a swipe on the hall; its devices'
health shows on the hall's /health; a failed print raises a hall alert and keeps the ticket.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kiosk_helpers import KIOSK, closed_now, devices_file, hall_config, receipts
from serverproc import HTTP, ServerProcess, free_port

from kiosk.app import create_app
from kiosk.cli import main as kiosk_main
from kiosk.hall_client import HallClient, HallUnreachable
from kiosk.runtime import Kiosk
from kiosk.search import keys
from kiosk.settings import SettingsError, load_settings

pytestmark = pytest.mark.slow
MATTER = "WJ-001"          # 卫健, prefix W


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kiosk-hall")
    with ServerProcess(tmp / "data", config=hall_config(tmp)) as srv:
        srv.kiosk_headers = srv.make_user("kioskprog", "kiosk")
        yield srv


def _kiosk(server: ServerProcess, tmp: Path, **devices) -> TestClient:
    settings = load_settings(devices_file(tmp, **devices))
    token = server.kiosk_headers["Authorization"].removeprefix("Bearer ")
    kiosk = Kiosk(KIOSK, settings, HallClient(server.url, token))
    return TestClient(create_app(kiosk))


def _settled(c: TestClient, timeout: float = 15) -> None:
    end = time.monotonic() + timeout
    while not c.app.state.kiosk.devices.settled():
        assert time.monotonic() < end, "the kiosk's devices did not report their first health"
        time.sleep(0.02)


@pytest.fixture
def kiosk(server, tmp_path):
    with _kiosk(server, tmp_path) as c:
        _settled(c)
        c.tmp = tmp_path
        yield c


def _next_event(c: TestClient, q, kind: str, timeout: float = 10) -> dict:
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        assert left > 0, f"no {kind} event"
        event, data = c.portal.call(asyncio.wait_for, q.get(), left)
        if event == kind:
            return data


# -- the state the page starts from ----------------------------------------------------------------
def test_state_has_the_halls_matters_with_pinyin_keys_and_the_kiosks_devices(kiosk):
    # the kiosk's devices open in the background: "degraded" (still opening) until they have (seen under load)
    deadline = time.monotonic() + 20
    s = kiosk.get("/api/state").json()
    while {s["devices"]["printer"]["state"], s["devices"]["idcard"]["state"]} != {"ok"} and time.monotonic() < deadline:
        time.sleep(0.1)
        s = kiosk.get("/api/state").json()
    assert s["kiosk"] == KIOSK and s["server"]["ok"] is True
    assert s["hall"]["name"] == "下陆区政务服务中心" and s["hall"]["tickets_open"] is True
    assert len(s["groups"]) == 19 and len(s["matters"]) == 80
    ga = next(m for m in s["matters"] if m["code"] == "GA-003")
    assert ga["initials"] == keys(ga["name"])[1] and ga["pinyin"].startswith(ga["initials"][0])
    assert ga["materials"] and ga["kind"] in ("即办", "承诺", "上报", "联办")
    assert s["devices"]["printer"]["state"] == "ok" and s["devices"]["idcard"]["state"] == "ok"
    assert s["idle_s"] == 60 and isinstance(s["speech"], bool)


@pytest.mark.parametrize(("name", "full", "initials"), [
    ("居民身份证补换领", "juminshenfenzhengbuhuanling", "jmsfzbhl"),
    ("银行卡", "yinhangka", "yhk"),                  # a phrase picks the reading: hang, not xing
    ("ICP备案", "icpbeian", "icpba"),                 # Latin letters stay; the brackets and marks drop
    ("企业开办（一照通行）", "qiyekaibanyizhaotongxing", "qykbyztx"),
])
def test_search_keys(name, full, initials):
    assert keys(name) == (full, initials)


# -- tickets --------------------------------------------------------------------------------------
def test_a_ticket_is_issued_on_the_hall_and_printed_on_the_kiosks_printer(kiosk, server):
    r = kiosk.post("/api/tickets", json={"matter": MATTER})
    assert r.status_code == 201, r.text
    body = r.json()
    t = body["ticket"]
    assert t["number"].startswith("W") and t["status"] == "waiting"
    assert body["print"] == {"ok": True, "device": f"{KIOSK}-printer"}
    assert body["status_url"] == f"{server.url}/t/{t['id']}?k={t['status_key']}"
    assert body["qr_svg"].startswith("<svg role=\"img\"") and "width=" not in body["qr_svg"][:200]
    pngs = receipts(kiosk.tmp)
    assert len(pngs) == 1 and pngs[0].stat().st_size > 1000
    texts = sorted((kiosk.tmp / "printer").glob("*.txt"))
    assert t["number"] in texts[0].read_text(encoding="utf-8")
    on_hall = server.client().get(f"/api/v1/tickets/{t['id']}").json()
    assert on_hall["channel"] == "kiosk" and on_hall["number"] == t["number"]


def test_a_failed_print_keeps_the_ticket_says_what_to_do_and_alerts_the_hall(kiosk, server):
    kiosk.app.state.kiosk.devices.devices["printer"].device.simulator.set_fault(paper="out")
    r = kiosk.post("/api/tickets", json={"matter": MATTER})
    assert r.status_code == 201, r.text
    body = r.json()
    number = body["ticket"]["number"]
    assert body["print"]["ok"] is False
    assert number in body["print"]["message_zh"] and "有效" in body["print"]["message_zh"]
    assert number in body["print"]["message_en"]
    assert server.client().get(f"/api/v1/tickets/{body['ticket']['id']}").json()["status"] == "waiting"
    end = time.monotonic() + 10
    while True:
        alerts = server.client().get("/api/v1/alerts").json()["alerts"]
        if any(a["kind"] == "print_failed" and number in a["detail"] for a in alerts):
            break
        assert time.monotonic() < end, alerts
        time.sleep(0.1)


def test_a_ticket_issued_while_the_halls_details_cannot_be_read_is_still_given_and_printed(kiosk, monkeypatch):
    """The ticket is committed on the hall first: what fails after that may not cost the citizen the ticket."""
    k = kiosk.app.state.kiosk

    async def unreachable():
        raise HallUnreachable("the hall's details: connection reset")
    monkeypatch.setattr(k.client, "hall", unreachable)
    k.hall = None
    r = kiosk.post("/api/tickets", json={"matter": MATTER})
    assert r.status_code == 201, r.text
    assert r.json()["print"]["ok"] is True and r.json()["ticket"]["number"].startswith("W")


def test_the_hall_refusal_comes_through_unchanged(kiosk):
    r = kiosk.post("/api/tickets", json={"matter": "NO-SUCH"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "matter_not_found"
    r = kiosk.post("/api/tickets", json={"matter": MATTER, "surprise": 1})
    assert r.status_code == 422


def test_lookup_by_number_by_scanned_url_and_by_id(kiosk, server):
    t = kiosk.post("/api/tickets", json={"matter": MATTER}).json()
    number, tid = t["ticket"]["number"], t["ticket"]["id"]
    for q in (number, number.lower(), t["status_url"], str(tid)):
        r = kiosk.get("/api/tickets/lookup", params={"q": q})
        assert r.status_code == 200, (q, r.text)
        assert r.json()["ticket"]["number"] == number
    r = kiosk.get("/api/tickets/lookup", params={"q": "Z999"})
    assert r.status_code == 404 and r.json()["error"]["message_zh"]


# -- cards ----------------------------------------------------------------------------------------
def test_a_card_on_the_reader_becomes_a_swipe_whose_ticket_has_priority(kiosk, server):
    k = kiosk.app.state.kiosk
    q = kiosk.portal.call(k.subscribe)
    r = kiosk.post("/api/devices/idcard/simulate", json={"card": "elder"})
    assert r.status_code == 204, r.text
    swipe = _next_event(kiosk, q, "swipe")
    assert swipe["priority"] == "elderly" and swipe["greeting_zh"] == "李女士，您好！"
    assert swipe["name_masked"] == "李**" and "id_number" not in swipe
    t = kiosk.post("/api/tickets", json={"matter": MATTER, "swipe": swipe["id"]}).json()["ticket"]
    assert t["priority"] == "elderly"


def test_a_failed_card_read_tells_the_page(kiosk):
    k = kiosk.app.state.kiosk
    q = kiosk.portal.call(k.subscribe)
    kiosk.post("/api/devices/idcard/simulate", json={"fault": "checksum-always", "card": "adult"})
    err = _next_event(kiosk, q, "card_error")
    assert "读卡失败" in err["message_zh"] and err["message_en"]


def test_the_kiosks_devices_show_on_the_halls_health(kiosk, server):
    end = time.monotonic() + 10
    while True:
        devices = {d["name"]: d for d in server.client().get("/api/v1/health").json()["devices"]}
        if f"{KIOSK}-printer" in devices and f"{KIOSK}-idcard" in devices:
            break
        assert time.monotonic() < end, devices
        time.sleep(0.1)
    assert devices[f"{KIOSK}-printer"]["kiosk"] == KIOSK and devices[f"{KIOSK}-printer"]["state"] == "ok"


def test_spoken_prompts(kiosk):
    r = kiosk.get("/api/speech.wav", params={"text": "请选择您要办理的事项"})
    assert r.status_code == 200, r.text
    assert r.content[:4] == b"RIFF" and len(r.content) > 8000
    assert kiosk.get("/api/speech.wav", params={"text": "长" * 150}).status_code == 422


# -- when things are wrong ------------------------------------------------------------------------
def test_after_hours_the_hall_refuses_and_the_state_says_closed(tmp_path):
    closed = closed_now()
    with ServerProcess(tmp_path / "data", config=hall_config(tmp_path, opening=closed)) as srv:
        token = srv.make_user("kioskclosed", "kiosk")["Authorization"].removeprefix("Bearer ")
        settings = load_settings(devices_file(tmp_path, printer="", idcard=None))
        with TestClient(create_app(Kiosk(KIOSK, settings, HallClient(srv.url, token)))) as c:
            s = c.get("/api/state").json()
            assert s["hall"]["tickets_open"] is False and s["hall"]["next_opening"]
            r = c.post("/api/tickets", json={"matter": MATTER})
            assert r.status_code == 409 and r.json()["error"]["code"] == "hall_closed"


def test_an_unreachable_hall_is_said_plainly(tmp_path):
    settings = load_settings(devices_file(tmp_path, printer="", idcard=None))
    with TestClient(create_app(Kiosk(KIOSK, settings, HallClient(f"http://127.0.0.1:{free_port()}", "x")))) as c:
        assert c.get("/api/state").json()["server"]["ok"] is False
        r = c.post("/api/tickets", json={"matter": MATTER})
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "server_unreachable" and "服务台" in r.json()["error"]["message_zh"]


def test_a_bad_devices_file_names_the_key(tmp_path):
    path = tmp_path / "k.toml"
    path.write_text('[kiosk]\nname = "k"\n[printr]\nurl = "sim://printer"\n')
    with pytest.raises(SettingsError, match=r"k.toml: unknown key 'printr'"):
        load_settings(path)


def test_the_cli_refuses_a_token_that_is_not_a_kiosks(server, tmp_path, capsys):
    clerk = server.make_user("kioskcliclerk", "clerk")["Authorization"].removeprefix("Bearer ")
    args = ["--server", server.url, "--devices", str(devices_file(tmp_path)), "--port", str(free_port())]
    assert kiosk_main([*args, "--token", clerk]) == 2
    assert "use a kiosk account" in capsys.readouterr().err
    assert kiosk_main([*args, "--token", "not-a-token"]) == 2
    assert "refused the token" in capsys.readouterr().err
    assert HTTP.get(server.url + "/api/v1/health").status_code == 200
