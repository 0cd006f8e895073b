"""The SMS modem driver (drivers/sms/): pyserial on a pseudo-terminal against the AT simulator. Texts sent are read
back from the simulator (decoded and joined as a phone would), each fault gives its SmsError, unsolicited lines are
skipped wherever they come, health follows SIM, signal and registration, nothing personal reaches a log, a wire dump
or diagnostics, and scripts/diagnose checks the modem (--active --sms-to sends a test message)."""
from __future__ import annotations

import json
import logging

import pytest
from conftest import MORNING

from drivers.base import DeviceError, checked_health
from drivers.health import DeviceState
from drivers.registry import drivers_of
from drivers.sms import SmsError
from drivers.sms.at_modem import from_url
from drivers.sms.simulator import ModemSimulator
from drivers.url import DeviceURLError
from hall_server.diagnose import FAIL, OK, WARN
from hall_server.diagnose.devices import check_device
from hall_server.diagnose.targets import Options, Target

FAST = "timeout=0.3&send_timeout=1"
TO = "13800000000"
SHORT = "【下陆区政务服务中心】您申请的临时救助已受理，办件编号XL-20261203-0001。"
LONG = ("【下陆区政务服务中心】您申请的临时救助已受理，办件编号XL-20261203-0001，承诺2026-12-17前办结。"
        "查询码K7Q2M9，进度可查：大厅自助机，或扫描受理通知书上的二维码。咨询电话0714-6351234，"
        "工作日上午九时至下午五时，我们将竭诚为您服务。")


@pytest.fixture
def modem():
    dev = drivers_of("sms").create(f"sim://sms?{FAST}")
    dev.open()
    yield dev
    dev.close()


def sent(dev):
    return dev.simulator.sent


# -- sending ------------------------------------------------------------------------------------------------------
def test_a_short_chinese_text_goes_in_one_part(modem):
    refs = modem.send(TO, SHORT)
    [msg] = sent(modem)
    assert len(refs) == 1 and msg.refs == tuple(refs)
    assert (msg.number, msg.text, msg.parts) == ("+8613800000000", SHORT, 1)
    assert modem.simulator.submits[0].concat is None and modem.simulator.submits[0].dcs == 0x08


def test_a_long_text_goes_in_joined_parts_each_long_text_with_its_own_reference(modem):
    assert 134 < len(LONG) <= 199              # three parts, with two characters more too
    refs = modem.send("+86 139-1234-5678", LONG)
    again = modem.send(TO, LONG + "谢谢")
    first, second = sent(modem)
    assert (first.number, first.text, first.parts, list(first.refs)) == ("+8613912345678", LONG, 3, refs)
    assert second.text == LONG + "谢谢" and len(again) == 3
    concat = [s.concat for s in modem.simulator.submits]
    assert [c[1:] for c in concat] == [(3, 1), (3, 2), (3, 3)] * 2
    assert concat[0][0] == concat[2][0] != concat[3][0]          # one 8-bit reference per long text


def test_characters_outside_the_bmp_arrive_whole(modem):
    text = "字" * 66 + "😀𠀀" + "完"
    modem.send(TO, text)
    [msg] = sent(modem)
    assert msg.text == text and msg.parts == 2


def test_the_real_url_form_on_the_pseudo_terminal():
    with ModemSimulator() as sim:
        dev = from_url(f"sms+serial://{sim.port}?baudrate=115200&smsc=%2B8613800270500&{FAST}")
        with dev:
            dev.send(TO, "测试")
        assert sim.submits[0].smsc == "+8613800270500"
        assert sim.sent[0].text == "测试"


def test_a_modem_that_restarted_is_put_back_in_pdu_mode(modem):
    modem.send(TO, "一")
    modem.simulator.restart()           # echo on and text mode again, with its start-up lines
    modem.send(TO, "二")
    assert [m.text for m in sent(modem)] == ["一", "二"]
    assert modem.simulator.faults()["pdu_mode"] is True


# -- faults ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fault,code", [("no-sim", "no_sim"), ("no-signal", "no_signal"),
                                        ("not-registered", "not_registered"), ("no-answer", "timeout")])
def test_each_fault_is_its_smserror(modem, fault, code):
    modem.simulate(fault=fault)
    with pytest.raises(SmsError) as caught:
        modem.send(TO, SHORT)
    assert caught.value.code == code and caught.value.zh and "13800000000" not in str(caught.value)
    assert sent(modem) == [] and modem.simulator.submits == []
    modem.simulate(fault="none")
    assert modem.send(TO, SHORT) and len(sent(modem)) == 1      # back at once, on the same port


def test_cms_errors_refuse_the_next_sends_with_their_number(modem):
    modem.simulate(cms_error=500, times=2)
    for _ in range(2):
        with pytest.raises(SmsError) as caught:
            modem.send(TO, SHORT)
        assert (caught.value.code, caught.value.cms) == ("cms_error", 500)
        assert "+CMS ERROR: 500" in caught.value.en and "unknown error" in caught.value.en
    modem.send(TO, SHORT)
    modem.simulate(cms_error=310)                  # "SIM not inserted" from the network side: the modem is not ready
    with pytest.raises(SmsError) as caught:
        modem.send(TO, SHORT)
    assert (caught.value.code, caught.value.cms) == ("no_sim", 310)


def test_a_long_text_refused_halfway_says_which_parts_went(modem):
    modem.simulator.fail_sends(42, after=1)       # part 2 refused: congestion
    with pytest.raises(SmsError) as caught:
        modem.send(TO, LONG)
    err = caught.value
    assert err.code == "cms_error" and err.cms == 42 and len(err.refs) == 1 and not err.uncertain
    assert "part 2 of 3" in err.en and sent(modem) == [] and modem.simulator.faults()["incomplete"] == 1


def test_bad_numbers_and_texts_are_refused_before_any_io(modem):
    before = len(modem.simulator.traffic)
    for number in ("0714-6351234", "12345678901", "", "+1 415 555 0100"):
        with pytest.raises(SmsError) as caught:
            modem.send(number, SHORT)
        assert caught.value.code == "bad_number"
    with pytest.raises(SmsError) as caught:
        modem.send(TO, "")
    assert caught.value.code == "bad_text"
    assert len(modem.simulator.traffic) == before


def test_a_modem_gone_mid_send_times_out_and_may_have_sent(modem):
    modem.simulate(fault="silent-send")         # it takes the PDU, then says nothing
    with pytest.raises(SmsError) as caught:
        modem.send(TO, SHORT)
    err = caught.value
    assert err.code == "timeout" and err.uncertain and "may or may not have gone out" in err.en and "不明" in err.zh
    modem.simulate(fault="no-answer")
    with pytest.raises(SmsError) as caught:
        modem.status()
    assert caught.value.code == "timeout" and not caught.value.uncertain
    assert "no answer from the SMS modem" in caught.value.en


# -- unsolicited lines ------------------------------------------------------------------------------------------------
def test_unsolicited_lines_are_skipped_wherever_they_arrive(modem):
    modem.simulate(fault="chatty")               # RING, +CMTI, ^RSSI and +CREG inside every answer and before prompts
    modem.simulator.inject('+CMTI: "SM",9', "+CREG: 5")
    status = modem.status()
    assert (status.sim, status.signal, status.registration) == ("ready", 20, "home")
    modem.simulator.unsolicited("RING")          # between two commands
    assert len(modem.send(TO, LONG)) == 3
    assert sent(modem)[0].text == LONG
    skipped = modem.diagnostics()["unsolicited_skipped"]
    assert skipped["RING"] >= 4 and skipped["+CMTI"] >= 4 and skipped["^RSSI"] >= 4 and skipped["+CREG"] >= 4


# -- status and health ------------------------------------------------------------------------------------------------
def test_status_and_health(modem):
    status = modem.status()
    assert status.as_dict() == {"sim": "ready", "signal": 20, "dbm": -73, "registered": True, "registration": "home"}
    h = modem.health()
    assert h.state is DeviceState.OK and "signal 20/31" in h.detail and "短信猫就绪" in h.detail
    modem.simulate(signal=5)
    h = modem.health()
    assert h.state is DeviceState.DEGRADED and "weak" in h.detail and "信号弱" in h.detail
    modem.simulate(signal=99)
    assert modem.health().state is DeviceState.DEGRADED and modem.send(TO, "仍可发送")   # registered: it tries
    modem.simulate(signal=20, fault="no-sim")
    h = modem.health()
    assert h.state is DeviceState.FAULT and "no SIM card" in h.detail and "未检测到SIM卡" in h.detail
    modem.simulate(fault="not-registered")
    assert modem.status().registration == "denied" and "denied" in modem.health().detail
    modem.simulate(fault="no-signal")
    h = modem.health()
    assert h.state is DeviceState.FAULT and "no mobile signal" in h.detail and "无信号" in h.detail


def test_a_modem_gone_is_offline_then_back_with_what_it_sent(modem):
    modem.send(TO, "一")
    modem.simulate(fault="no-answer")
    h = checked_health(modem)                    # as the hall's supervisor polls it: offline closes it
    assert h.state is DeviceState.OFFLINE and "短信猫无应答" in h.detail and not modem.is_open
    assert checked_health(modem).state is DeviceState.OFFLINE         # reopened: still gone, the fault kept
    modem.simulate(fault="none")                 # the simulator outlives the close, for the fault API
    assert checked_health(modem).state is DeviceState.OK and modem.is_open
    modem.send(TO, "二")
    assert [m.text for m in sent(modem)] == ["一", "二"]


def test_open_fails_clearly_without_a_modem():
    with ModemSimulator() as sim:
        sim.set_fault("no-answer")
        dev = from_url(f"sms+serial://{sim.port}?{FAST}")
        with pytest.raises(DeviceError, match=r"no answer from the SMS modem .* AT port"):
            dev.open()
        assert not dev.is_open
    with pytest.raises(DeviceError, match="cannot open the SMS modem's port /dev/ttyNOPE"):
        from_url("sms+serial:///dev/ttyNOPE").open()


# -- URLs -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url,message", [
    ("sim://smss", "sim://sms"),
    ("sim://sms?signall=3", "did you mean 'signal'"),
    ("sim://sms?signal=40", "0-31"),
    ("sim://sms?fault=gone", "use one of"),
    ("sms+serial://dev/ttyUSB3", "three slashes"),
    ("sms+serial:///dev/ttyUSB3?smsc=13800270500", "+86"),
    ("sms+serial:///dev/ttyUSB3?baudrate=1234", "use one of"),
    ("smss+serial:///dev/ttyUSB3", "did you mean sms+serial://"),
])
def test_bad_urls_name_the_part_at_fault(url, message):
    with pytest.raises(DeviceURLError, match=message.replace("+", r"\+")):
        drivers_of("sms").create(url)


def test_url_options():
    dev = drivers_of("sms").create("sms+serial:///dev/ttyUSB3?baudrate=115200&smsc=")
    assert (dev.port, dev.baudrate, dev.smsc, dev.timeout, dev.send_timeout) == ("/dev/ttyUSB3", 115200, "", 2.0, 60.0)
    for smsc in ("+8613800270500", "%2B8613800270500", "8613800270500"):    # an unescaped + reads as a space
        assert drivers_of("sms").create(f"sms+serial:///dev/ttyUSB3?smsc={smsc}").smsc == "+8613800270500"


def test_a_slow_network_answers_each_part_late_and_the_message_still_goes_once():
    """sim://sms network_ms= (the bench's slow modem): +CMGS answers after the network's time, from the simulator's
    thread; the driver waits for it within send_timeout and the message is taken once, all its parts."""
    dev = drivers_of("sms").create("sim://sms?timeout=0.3&send_timeout=5&network_ms=50")
    with dev:
        assert dev.simulator.network_s == 0.05
        refs = dev.send(TO, LONG)
        assert len(refs) > 1 and [(m.text, m.parts) for m in sent(dev)] == [(LONG, len(refs))]
        assert dev.status().as_dict()                                        # the modem answers after it too


# -- privacy ----------------------------------------------------------------------------------------------------------
def test_no_text_or_full_number_in_logs_diagnostics_or_the_wire(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    wire = tmp_path / "wire.txt"
    dev = drivers_of("sms").create(f"sim://sms?{FAST}&wire={wire}")
    with dev:
        dev.send(TO, SHORT)
        dev.send(TO, LONG)
        dev.simulate(cms_error=500)
        with pytest.raises(SmsError):
            dev.send(TO, SHORT)
        diagnostics = json.dumps(dev.diagnostics(), ensure_ascii=False)
        assert sent(dev)[1].text == LONG and "138****0000" in repr(sent(dev)[0])
    assert dev.diagnostics()["simulator"]["sent"] == 2
    assert "138****0000" in diagnostics and "138****0000" in caplog.text
    tx = bytes.fromhex("".join(line[22:70] for line in wire.read_text().splitlines() if line[11:13] == "TX"))
    for where in (caplog.text, diagnostics, tx.decode("ascii", errors="replace")):
        assert TO not in where and "3108000000F0" not in where
        assert SHORT[:8] not in where and SHORT[11:19].encode("utf-16-be").hex().upper() not in where
    assert b"0011000D91xxxxxxxxxxxxxx0008AA" in tx and b"AT+CMGS=" in tx


def test_a_pdu_echoed_back_is_masked_in_the_wire_dump_too():
    """A modem that echoes (restarted with echo on) sends the PDU back, maybe over several reads: its hex is masked
    until the final result; the answers after it pass as they are."""
    import io

    from serial.urlhandler.protocol_spy import FormatHexdump

    from drivers.sms.at_wire import RedactingFormatter
    from drivers.sms.pdu import submit_pdus

    out = io.StringIO()
    fmt = RedactingFormatter(FormatHexdump(out, color=False))
    code = "918273"                     # a pickup code, as the ready_locker SMS carries it
    [part] = submit_pdus("+86" + TO, f"取件码{code}，请到大厅智能柜取件")
    pdu = part.hex
    fmt.tx(f"AT+CMGS={part.length}\r".encode())
    fmt.rx(b"\r\n> ")
    fmt.tx(pdu.encode() + b"\x1a")
    cut = len(pdu) // 3 + 1
    for chunk in (pdu[:cut], pdu[cut:2 * cut], pdu[2 * cut:] + "\r\n+CMGS: 12\r\n\r\nOK\r\n"):
        fmt.rx(chunk.encode())
    fmt.tx(b"AT+CSQ\r")
    fmt.rx(b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n")
    lines = out.getvalue().splitlines()
    wire = b"".join(bytes.fromhex(line[22:70]) for line in lines if line[11:13] in ("TX", "RX"))
    ucs2 = code.encode("utf-16-be").hex().upper()
    for where in (out.getvalue(), wire.decode("ascii", errors="replace")):
        assert code not in where and ucs2 not in where and TO[3:] not in where
        assert not any(ucs2[i:i + 8] in where for i in range(0, len(ucs2) - 7, 4))     # nor two digits of it
    assert b"+CMGS: 12" in wire and b"+CSQ: 20,99" in wire and b"AT+CMGS=" in wire


# -- diagnose ---------------------------------------------------------------------------------------------------------
def diagnose(tmp_path, url: str, **options):
    return check_device(Target("sms-modem", "sms", url), Options(sim_dir=tmp_path, timeout=5, **options))


def test_diagnose_reports_sim_signal_and_registration(tmp_path):
    check = diagnose(tmp_path, f"sim://sms?{FAST}")
    assert check.state == OK and "SIM ready" in check.detail and "--sms-to" in check.detail
    assert check.data["modem"]["registered"] is True and check.data["model"] == "onewindow SMS modem simulator"


def test_diagnose_active_sends_a_test_sms_to_the_number_given(tmp_path):
    check = diagnose(tmp_path, f"sim://sms?{FAST}", active=True, sms_to="139 1234 5678")
    assert check.state == OK and "a test SMS went to 139****5678" in check.detail
    assert check.data["test_sms"]["parts"] == 1 and check.data["simulator"]["sent"] == 1
    assert "13912345678" not in json.dumps(check.as_dict())
    check = diagnose(tmp_path, f"sim://sms?{FAST}", active=True)
    assert check.state == WARN and "--sms-to" in check.advice


@pytest.mark.parametrize("url,advice", [
    (f"sim://sms?{FAST}&fault=no-sim", "insert the hall's SIM"),
    (f"sim://sms?{FAST}&fault=no-signal", "antenna"),
    (f"sim://sms?{FAST}&fault=not-registered", "operator"),
    ("sim://sms?timeout=0.1&fault=no-answer", "AT port"),
    (f"sim://sms?{FAST}&signal=4", "antenna"),
])
def test_diagnose_names_a_faulty_modem_with_advice(tmp_path, url, advice):
    check = diagnose(tmp_path, url, active=True, sms_to=TO)
    assert check.state == (WARN if "signal=4" in url else FAIL), check.as_dict()
    assert advice in check.advice, check.as_dict()


# -- the hall's runtime fault API -------------------------------------------------------------------------------------
def test_faults_through_the_hall_api(tmp_path, district_cfg, monkeypatch):
    import time

    from fastapi.testclient import TestClient

    from hall_server.app import create_app
    from hall_server.clock import FakeClock
    from hall_server.config import DeviceConfig
    from hall_server.runtime import Hall

    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", "admin-test-password")
    cfg = district_cfg.model_copy(update={"devices": (DeviceConfig(name="sms-modem", kind="sms", url="sim://sms"),),
                                          "seats": ()})
    hall = Hall(cfg, tmp_path, FakeClock(MORNING))
    hall.ensure_admin()
    with TestClient(create_app(hall)) as c:
        token = c.post("/api/v1/auth/login", json={"username": "admin", "password": "admin-test-password"}).json()
        admin = {"Authorization": f"Bearer {token['token']}"}
        s = hall.devices.devices["sms-modem"]
        end = time.monotonic() + 20
        while not s.since:
            assert time.monotonic() < end, "the modem did not report its health"
            time.sleep(0.01)
        r = c.post("/api/v1/devices/sms-modem/simulate", headers=admin,
                   json={"cms_error": 500, "times": 2, "signal": 5, "unsolicited": "RING", "fault": "chatty"})
        assert r.status_code == 200, r.text
        faults = r.json()["faults"]
        assert (faults["fault"], faults["signal"], faults["cms_errors_pending"]) == ("chatty", 5, [500, 500])
        for bad in ({"fault": "gone"}, {"times": 2}, {"signal": 40}, {"unsolicited": "RING\r\nOK"}):
            assert c.post("/api/v1/devices/sms-modem/simulate", headers=admin, json=bad).status_code == 422, bad
        got = c.get("/api/v1/devices/sms-modem", headers=admin).json()
        assert got["kind"] == "sms" and got["diagnostics"]["simulator"]["signal"] == 5
    hall.close()


def test_the_diagnose_command_line_takes_the_test_sms_number(tmp_path, capsys):
    from serverproc import DISTRICT, without_devices

    from hall_server.diagnose.cli import main
    config = tmp_path / "hall.toml"
    device = f'\n[[devices]]\nname = "sms-modem"\nkind = "sms"\nurl = "sim://sms?{FAST}"\n'
    config.write_text(without_devices(DISTRICT.read_text(encoding="utf-8")) + device, encoding="utf-8")
    report = tmp_path / "report.json"
    args = ["--config", str(config), "--data-dir", str(tmp_path / "data"), "--json", str(report), "--device",
            "sms-modem", "--active"]
    assert main([*args, "--sms-to", "+86 139 1234 5678"]) == 0
    doc = json.loads(report.read_text(encoding="utf-8"))
    [row] = doc["checks"]
    assert row["state"] == OK and row["data"]["test_sms"]["to"] == "139****5678"
    assert doc["options"]["sms_to"] == "139****5678" and "13912345678" not in report.read_text(encoding="utf-8")
    with pytest.raises(SystemExit) as bad:
        main([*args, "--sms-to", "0714-6351234"])
    assert bad.value.code == 2 and "not a Chinese mobile number" in capsys.readouterr().err


def test_the_diagnose_wire_dump_of_a_test_sms_shows_neither_the_number_nor_the_text(tmp_path):
    """`scripts/diagnose --device sms-modem --active --sms-to N --wire`: the dump (made to be sent to a vendor) has
    the AT exchange, with the PDU's destination digits and user data masked — neither the number nor the text, as
    the dump's hex columns nor as its text (issue 16: a pickup code never in a wire dump)."""
    from serverproc import DISTRICT, without_devices

    from hall_server.diagnose.cli import main
    from hall_server.diagnose.modem import TEST_TEXT
    config = tmp_path / "hall.toml"
    device = f'\n[[devices]]\nname = "sms-modem"\nkind = "sms"\nurl = "sim://sms?{FAST}"\n'
    config.write_text(without_devices(DISTRICT.read_text(encoding="utf-8")) + device, encoding="utf-8")
    report, data = tmp_path / "report.json", tmp_path / "data"
    assert main(["--config", str(config), "--data-dir", str(data), "--json", str(report), "--device", "sms-modem",
                 "--active", "--sms-to", "13912345678", "--wire"]) == 0
    [row] = json.loads(report.read_text(encoding="utf-8"))["checks"]
    assert row["state"] == OK and row["data"]["test_sms"]["parts"] >= 1 and row["wire"]
    dump = open(row["wire"], encoding="utf-8", errors="replace").read()
    wire_bytes = b"".join(bytes.fromhex(line[22:70]) for line in dump.splitlines()
                          if line[11:13] in ("TX", "RX")).decode("ascii", errors="replace")
    assert "AT+CMGS=" in wire_bytes and "xxxxxxxx\x1a" in wire_bytes    # the exchange is there, the PDU masked
    number = "683119325476F8"                               # +8613912345678 as the PDU's semi-octets
    chinese = TEST_TEXT.split("】")[1]                     # (the tag's "onewindow" is the simulator's model name too)
    words = [chinese[i:i + 4] for i in range(0, len(chinese) - 3, 4)]
    for where, text in (("dump", dump), ("wire bytes", wire_bytes)):
        flat = text.upper()
        assert "13912345678" not in text and number not in flat, f"the number in the {where}"
        for w in words:
            assert w not in text and w.encode("utf-16-be").hex().upper() not in flat, f"{w!r} in the {where}"


def test_wire_rewrites_the_modem_urls(tmp_path):
    from drivers.wire import spy_url, with_wire
    dump = tmp_path / "sms wire.txt"
    wired = with_wire("sms+serial:///dev/ttyUSB3?baudrate=115200&smsc=%2B8613800270500", dump)
    dev = drivers_of("sms").create(wired)
    assert dev.port == spy_url("/dev/ttyUSB3", dump) and dev.smsc == "+8613800270500"
    assert with_wire("sim://sms?signal=5", dump) == f"sim://sms?signal=5&wire={dump}".replace(" ", "%20")
