"""scripts/diagnose covers the evaluator key boxes (issue 17): passive, the box answers its status query; with
--active its lamp lights and the first key is reported (a simulator presses 5 itself); a box that does not answer,
no key within the wait, and a bad URL each fail or warn with their advice; --wire dumps its line."""
from __future__ import annotations

import json
from pathlib import Path

from serverproc import DISTRICT, without_devices

from hall_server.diagnose import FAIL, OK, WARN, devices
from hall_server.diagnose.cli import main as diagnose_main


def check(tmp: Path, url: str, active: bool = False, wait: float = 3.0, window: int | None = 1):
    opts = devices.Options(sim_dir=tmp, active=active, wait=wait)
    return devices.check_device(devices.Target("evaluator-1", "evaluator", url, window=window), opts)


def test_passive_the_box_answers_and_names_its_window(tmp_path):
    c = check(tmp_path, "sim://evaluator")
    assert c.state == OK, c.detail
    assert "answers" in c.detail and "window 1" in c.detail and "--active" in c.detail
    assert c.data["kind"] == "evaluator" and c.data["simulator"]["lamp_ons"] == 0     # passive: the lamp stays out
    assert "(bound to no window: set window = N)" in check(tmp_path, "sim://evaluator", window=None).detail


def test_active_lights_the_lamp_and_reports_the_key(tmp_path):
    c = check(tmp_path, "sim://evaluator", active=True)
    assert c.state == OK, c.detail
    assert c.data["key"] == {"level": 5, "name": "非常满意"}
    assert "the lamp lit and key 5 (非常满意) was pressed" in c.detail
    assert c.data["simulator"]["lamp_ons"] == 1 and not c.data["simulator"]["lamp"]


def test_faults_are_named_with_their_advice(tmp_path):
    c = check(tmp_path, "sim://evaluator?fault=disconnect")
    assert c.state == FAIL and "did not answer a status query" in c.detail
    assert "address=" in c.advice and "cable" in c.advice
    c = check(tmp_path, "sim://evaluator?fault=silent", active=True, wait=0.5)
    assert c.state == WARN and "no key was pressed within 0.5 s" in c.detail and "--wait" in c.advice
    c = check(tmp_path, "sim://evaluator?lamp=on")
    assert c.state == FAIL and "unknown option 'lamp'" in c.detail
    c = check(tmp_path, "evalbox+serial:///dev/ttyONEWINDOW-NONE")
    assert c.state == FAIL and "/dev/ttyONEWINDOW-NONE" in c.detail and "scripts/ports" in c.advice


def test_the_cli_checks_a_configured_key_box_and_dumps_its_wire(tmp_path):
    text = without_devices(DISTRICT.read_text(encoding="utf-8"))
    text += '\n[[devices]]\nname = "evaluator-2"\nkind = "evaluator"\nurl = "sim://evaluator"\nwindow = 2\n'
    config = tmp_path / "hall.toml"
    config.write_text(text, encoding="utf-8")
    report = tmp_path / "report.json"
    code = diagnose_main(["--config", str(config), "--data-dir", str(tmp_path / "data"), "--json", str(report),
                          "--device", "evaluator-2", "--active", "--wait", "3", "--wire"])
    doc = json.loads(report.read_text(encoding="utf-8"))
    (row,) = doc["checks"]
    assert code == 0 and row["state"] == OK, row
    assert "key 5" in row["detail"] and "window 2" in row["detail"]
    dump = Path(row["wire"]).read_text(encoding="utf-8")
    assert "AA 02 10 00 12" not in dump and "AA 01 10 00 11" in dump     # the lamp on, at the box's address 1
