"""scripts/diagnose (onewindow diagnose) on a hall of simulators: all green, then one fault at a time.

The hall is the district centre trimmed for speed: a printer, a SAM reader, an LED bus, an audio sink and the
voice, one camera on a short script of its own (small frames, a private cache) and a keypad bus. The tool is
run as a technician runs it, `scripts/diagnose …`, and its JSON report is read back.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from serverproc import DISTRICT, ROOT, without_devices

from drivers.registry import drivers_of
from hall_server.diagnose import FAIL, OK, WARN, Check, advice, devices, system
from hall_server.diagnose.cli import main as diagnose_main

SCRIPT = ROOT / "scripts" / "diagnose"
CAMERA_SCRIPT = "0 seat1 work\n0 seat2 empty\n30 end\n"
LED = "sim://display?protocol=led&encoding=gb2312&widths=99:64&gap_ms=10"


_camera_dir: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def camera_dir(tmp_path_factory):
    """The camera's script and its video, rendered once for the module (a busy machine renders slowly, and a
    camera whose first frame is later than stale_s is rightly reported as failed)."""
    folder = tmp_path_factory.mktemp("camera")
    (folder / "seats.txt").write_text(CAMERA_SCRIPT, encoding="utf-8")
    _camera_dir[:] = [folder]
    drivers_of("camera").create(camera_url()).simulator.render()
    return folder


def camera_url(extra: str = "") -> str:
    folder = _camera_dir[0]
    return (f"sim://camera?script={folder / 'seats.txt'}&cache={folder / 'cache'}&width=160&height=90&rate=4"
            f"&stale_s=2{extra}")


def device_block(name: str, kind: str, url: str, extra: str = "") -> str:
    return f'\n[[devices]]\nname = "{name}"\nkind = "{kind}"\nurl = "{url}"\n{extra}'


def hall_config(tmp: Path, **urls: str) -> Path:
    """The trimmed district hall; `urls` replaces a device's URL, or (URL, extra lines), by its name with _ for -."""
    camera = camera_url()
    devs = {"kiosk1_printer": ("printer", "sim://printer?width=80", ""),
            "kiosk1_idcard": ("idcard", "sim://idcard?card=adult&reads=stay", ""),
            "hall_speakers": ("audio", "sim://audio?speed=20", ""),
            "led_screens": ("display", LED, "screens = { hall = 99 }\n"),
            "window_keypads": ("caller", "sim://caller", ""),
            "seat_cam_01": ("camera", camera, "")}
    text = without_devices(DISTRICT.read_text(encoding="utf-8"))
    for key, (kind, url, extra) in devs.items():
        given = urls.get(key, url)
        url, extra = given if isinstance(given, tuple) else (given, extra)
        text += device_block(key.replace("_", "-"), kind, url, extra)
    path = tmp / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return path


def make_db(data: Path) -> Path:
    import sqlite3
    data.mkdir(parents=True, exist_ok=True)
    db = data / "hall.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE events(seq INTEGER PRIMARY KEY, type TEXT)")
    conn.execute("INSERT INTO events(type) VALUES ('hall.opened')")
    conn.execute("PRAGMA user_version=7")
    conn.commit()
    conn.close()
    return db


def run(config: Path, data: Path, *args: str, timeout: float = 60) -> tuple[int, dict, str]:
    report = data / "report.json"
    with contextlib.suppress(FileNotFoundError):
        report.unlink()
    proc = subprocess.run([sys.executable, str(SCRIPT), "--config", str(config), "--data-dir", str(data),
                           "--json", str(report), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)
    doc = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return proc.returncode, doc, proc.stdout + proc.stderr


def rows(doc: dict) -> dict[str, dict]:
    return {c["name"]: c for c in doc["checks"]}


DEVICES = ["kiosk1-printer", "kiosk1-idcard", "hall-speakers", "led-screens", "window-keypads", "seat-cam-01",
           "calling-voice"]


@pytest.fixture
def hall(tmp_path):
    data = tmp_path / "data"
    make_db(data)
    return tmp_path, data


def test_all_green(hall):
    tmp, data = hall
    code, doc, out = run(hall_config(tmp), data)
    assert code == 0, out
    r = rows(doc)
    assert set(r) == {*DEVICES, "database", "clock"}, out
    for name in [*DEVICES, "database"]:
        assert r[name]["state"] == OK, (name, r[name])
    assert r["clock"]["state"] in (OK, WARN)            # no NTP answer on a test machine is a warning only
    assert r["seat-cam-01"]["data"]["frame"]["width"] == 160
    assert r["database"]["data"]["schema_version"] == 7
    assert doc["summary"]["fail"] == 0 and doc["summary"]["exit"] == 0
    assert "kiosk1-printer" in out and "ok" in out                  # the table
    assert (data / "diagnose-sim" / "audio").is_dir()


# timeout=2 for the screens: a live one answers late on a loaded machine (0.5 s, the default, was missed)
FAULTS = [
    ("kiosk1-printer", {"kiosk1_printer": "sim://printer?width=80&paper=out"}, (), "paper out: load an 80 mm roll"),
    ("kiosk1-idcard", {"kiosk1_idcard": "sim://idcard?fault=selftest"}, (),
     "the SAM module reports a fault: power-cycle the reader; if it persists, the SAM needs replacing"),
    ("led-screens", {"led_screens": ("sim://display?protocol=modbus7&addresses=1-2&timeout=2",
                                     'screens = { "1" = 1, "2" = 2, "3" = 7 }\n')}, ("--active", "--wait", "0.3"),
     "display at address 7 does not answer: check the RS-485 A/B wiring and the screen's address DIP switches"),
    ("seat-cam-01", {}, (), "camera has sent no frame for"),
]


@pytest.mark.parametrize("name,urls,args,expected", FAULTS, ids=[f[0] for f in FAULTS])
def test_a_fault_is_named_with_its_advice(hall, name, urls, args, expected):
    tmp, data = hall
    if name == "seat-cam-01":
        urls = {"seat_cam_01": camera_url("&fault=dropout")}
    code, doc, out = run(hall_config(tmp, **urls), data, *args)
    assert code == 1, out
    r = rows(doc)
    assert r[name]["state"] == FAIL, r[name]
    assert expected in r[name]["advice"], r[name]
    assert expected.split(":")[0] in out                # the advice is in the table too
    for other in [*DEVICES, "database"]:
        if other != name:
            assert r[other]["state"] != FAIL, (other, r[other])
            if not args:
                assert r[other]["state"] == OK, (other, r[other])
    if args:        # --active: the screens that answer show the test pattern
        assert r["led-screens"]["data"]["simulator"]["screens"] == {"1": "8888", "2": "8888"}
        assert r["kiosk1-idcard"]["data"]["card"]["id_masked"].count("*") >= 10      # read, and masked
        from drivers.idcard.simulator import CARDS
        text = (data / "report.json").read_text(encoding="utf-8")
        card = CARDS["adult"]
        assert card.id_number not in text and card.name not in text and card.address not in text
        assert r["window-keypads"]["state"] == WARN and "no key was pressed" in r["window-keypads"]["detail"]


def _make_read_only(path: Path) -> contextlib.AbstractContextManager | None:
    """A context in which `path` cannot be written, even by root (chattr +i), or None where that is impossible."""
    @contextlib.contextmanager
    def immutable():
        subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)

    @contextlib.contextmanager
    def modes():
        path.chmod(0o444)
        path.parent.chmod(0o555)
        try:
            yield
        finally:
            path.parent.chmod(0o755)
            path.chmod(0o644)

    if os.geteuid() != 0:
        return modes()
    if shutil.which("chattr") and subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        return immutable()
    return None


def test_a_read_only_database_fails_with_its_advice(hall):
    tmp, data = hall
    ctx = _make_read_only(data / "hall.db")
    if ctx is None:
        pytest.skip("running as root without chattr +i: nothing here can make a file read-only for root")
    with ctx:
        code, doc, out = run(hall_config(tmp), data, "--device", "kiosk1-printer", "--system",
                             "--json", str(tmp / "ro.json"))
        doc = json.loads((tmp / "ro.json").read_text(encoding="utf-8"))
    assert code == 1, out
    r = rows(doc)
    assert r["database"]["state"] == FAIL, r["database"]
    assert "database is read-only: check the permissions of" in r["database"]["advice"]
    assert r["kiosk1-printer"]["state"] == OK and r["clock"]["state"] != FAIL


def test_a_port_held_by_another_process_says_the_hall_server_may_hold_it(hall):
    tmp, data = hall
    master, slave = os.openpty()            # this process holds the line, as a running hall server would
    try:
        config = hall_config(tmp, window_keypads=f"caller+serial://{os.ttyname(slave)}?baudrate=9600")
        code, doc, out = run(config, data, "--device", "window-keypads")
    finally:
        os.close(master)
        os.close(slave)
    assert code == 1, out
    row = rows(doc)["window-keypads"]
    assert row["state"] == FAIL and f"in use by process {os.getpid()}" in row["detail"]
    assert row["advice"] == advice.PORT_BUSY and "systemctl stop onewindow" in out


def test_one_device_active_prints_a_receipt_and_skips_the_system(hall):
    tmp, data = hall
    code, doc, out = run(hall_config(tmp), data, "--device", "kiosk1-printer", "--active")
    assert code == 0, out
    r = rows(doc)
    assert list(r) == ["kiosk1-printer"]
    png = Path(r["kiosk1-printer"]["data"]["receipt_png"])
    assert png.is_file() and png.is_relative_to(data / "diagnose-sim" / "printer")
    assert "test receipt was printed" in r["kiosk1-printer"]["detail"]


def test_active_display_shows_the_test_pattern(hall):
    tmp, data = hall
    code, doc, out = run(hall_config(tmp), data, "--device", "led-screens", "--active")
    assert code == 0, out
    row = rows(doc)["led-screens"]
    shown = row["data"]["simulator"]["screens"]
    assert shown.get("99") == "设备检测99" and shown["3"].startswith("设备检测"), row
    assert len(shown) == 23, row                        # the hall bar and the 22 windows' screens
    assert row["data"]["wall"].startswith(str(data / "diagnose-sim" / "display"))     # not the hall's var/sim


def test_unknown_device_is_bad_usage_naming_the_known_ones(hall):
    tmp, data = hall
    code, doc, out = run(hall_config(tmp), data, "--device", "no-such-thing")
    assert code == 2 and not doc
    assert "no-such-thing" in out and "kiosk1-printer" in out and "seat-cam-01" in out
    from hall_server.cli import main as onewindow
    assert onewindow(["diagnose", "--config", str(hall_config(tmp)), "--data-dir", str(data),
                      "--device", "nope"]) == 2


def test_wire_dumps_serial_devices_or_says_why_not(hall):
    tmp, data = hall
    code, doc, out = run(hall_config(tmp), data, "--device", "kiosk1-idcard", "--device", "kiosk1-printer", "--wire")
    r = rows(doc)
    assert code == 0, out
    assert r["kiosk1-printer"]["wire"] is None and r["kiosk1-printer"]["wire_note"].startswith("no wire dump: ")
    reader = r["kiosk1-idcard"]
    if reader["wire"] is None:          # drivers/wire.py not there (yet), or it declined: the device still checked
        assert reader["wire_note"].startswith("no wire dump: ") and reader["state"] == OK
    else:
        dump = Path(reader["wire"])
        assert dump.parent == data / "wire" and dump.name.startswith("kiosk1-idcard-")
        assert f"kiosk1-idcard wire dump: {dump}" in out.splitlines()
        assert dump.is_file() and dump.stat().st_size > 0


def test_kiosk_devices_file(hall, tmp_path):
    tmp, data = hall
    code, doc, out = diagnose_run_in_process(hall_config(tmp), data, "--kiosk-devices",
                                             str(ROOT / "config" / "kiosks" / "kiosk-sim.toml"),
                                             "--device", "kiosk2-printer")
    assert code == 0, out
    row = rows(doc)["kiosk2-printer"]
    assert row["state"] == OK and row["data"]["source"].endswith("kiosk-sim.toml")
    assert str(data / "diagnose-sim" / "printer") in row["data"]["out"]       # not the kiosk's var/kiosk2/


def test_the_report_goes_to_the_data_dir_by_default(hall):
    tmp, data = hall
    assert diagnose_main(["--config", str(hall_config(tmp)), "--data-dir", str(data), "--device", "calling-voice"]) == 0
    [report] = data.glob("diagnose-*Z.json")
    doc = json.loads(report.read_text(encoding="utf-8"))
    assert [c["name"] for c in doc["checks"]] == ["calling-voice"] and doc["options"]["system"] is False


def diagnose_run_in_process(config: Path, data: Path, *args: str) -> tuple[int, dict, str]:
    report = data / "in-process.json"
    code = diagnose_main(["--config", str(config), "--data-dir", str(data), "--json", str(report), *args])
    return code, json.loads(report.read_text(encoding="utf-8")), ""


# -- the parts on their own ------------------------------------------------------------------------------
def test_a_hung_device_is_reported_not_waited_for(monkeypatch, tmp_path):
    monkeypatch.setattr(devices, "check_device", lambda target, opts: time.sleep(3))
    started = time.monotonic()
    [c] = devices.check_all([devices.Target("stuck", "printer", "sim://printer")],
                            devices.Options(sim_dir=tmp_path, timeout=0.3))
    assert time.monotonic() - started < 1.5
    assert c.state == FAIL and "did not answer within 0.3 s" in c.detail and "hung" in c.advice


def test_reachability_of_networked_devices():
    assert system.endpoints("escpos+tcp://192.168.10.31:9100?width=80") == [("192.168.10.31", 9100)]
    assert system.endpoints("cv://rtsp://admin:pw@192.168.10.50/stream1") == [("192.168.10.50", 554)]
    assert system.endpoints("led+serial://?port=socket://10.0.0.4:4001") == [("10.0.0.4", 4001)]
    assert system.endpoints("sam+serial:///dev/ttyUSB0?baudrate=115200") == []
    assert system.endpoints("sim://printer?width=80") == []
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]         # bound, not listening: refused
            checks = system.reachability({"printer": f"escpos+tcp://127.0.0.1:{port}",
                                          "cam": f"cv://rtsp://u:p@127.0.0.1:{closed}/s"}, timeout=1)
    by = {c.data["port"]: c for c in checks}
    assert by[port].state == OK and "printer" in by[port].detail
    assert by[closed].state == FAIL and "nothing listens on that port" in by[closed].advice


def test_advice_table():
    assert advice.advise("printer", "cannot connect to the printer at /dev/ttyS0 ([Errno 16] could not open port "
                                    "/dev/ttyS0: Device or resource busy)") == advice.PORT_BUSY
    assert "systemctl stop onewindow" in advice.PORT_BUSY
    assert advice.advise("camera", "no frame for 12 s: x") == ("camera has sent no frame for 12 s: check power/PoE "
                                                              "and the RTSP URL and password")
    assert advice.advise("database", "the database var/hall.db is read-only (x)") .startswith(
        "database is read-only: check the permissions of var/")
    c = Check("x", "printer")
    c.worse(WARN, "a")
    c.worse(OK, "b")
    assert c.state == WARN and c.detail == "a; b"
