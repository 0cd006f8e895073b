"""scripts/printer-test against the simulator: prints a test receipt and reports status; faults and bad
URLs give a non-zero exit with the reason."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "printer-test"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)


def test_prints_a_test_receipt_on_the_simulator(tmp_path):
    r = run("--url", f"sim://printer?width=58&out={tmp_path}", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["health"]["state"] == "ok" and report["printed"] is True
    png = Path(report["receipt"])
    assert png.exists() and png.parent == tmp_path
    assert "T001" in png.with_suffix(".txt").read_text(encoding="utf-8")


def test_reports_a_fault_and_exits_non_zero(tmp_path):
    r = run("--url", f"sim://printer?paper=out&out={tmp_path}")
    assert r.returncode == 1
    assert "fault" in r.stdout and "paper out" in r.stdout
    assert not list(tmp_path.glob("*.png"))


def test_a_configured_device_by_name_and_bad_input(tmp_path):
    r = run("--config", "config/district-centre.toml", "--device", "kiosk1-printer", "--status-only")
    assert r.returncode == 0 and "ok" in r.stdout
    r = run("--config", "config/district-centre.toml", "--device", "nope")
    assert r.returncode != 0 and "kiosk1-printer" in r.stderr
    r = run("--url", "sim://printer?papr=out")
    assert r.returncode == 2 and "unknown option 'papr'" in r.stderr
