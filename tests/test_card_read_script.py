"""scripts/card-read (issue 4, item 7): reads one card from the simulator or a configured reader and prints
only the redacted result and the reader's health; no card, a fault or a bad URL exits non-zero."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from drivers.idcard import gb11643
from drivers.idcard.simulator import CARDS

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "card-read"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_reads_the_simulated_elder_and_prints_only_the_redacted_card():
    r = run("--url", "sim://idcard?card=elder", "--json", "--wait", "5")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    card = CARDS["elder"]
    assert report["card"]["id_masked"] == card.id_number[:3] + "*" * 11 + card.id_number[-4:]
    age = gb11643.age_on(card.birth_date, date.today())          # the script judges by the machine's clock
    assert (report["card"]["name_masked"], report["card"]["age"], report["card"]["valid_to"]) == ("李**", age, "长期")
    assert report["card"]["check_digit_ok"] is True and report["health"]["state"] == "ok"
    for secret in (card.id_number, card.name, card.address, card.id_number[6:14]):
        assert secret not in r.stdout + r.stderr


def test_the_human_readable_report_says_what_was_read():
    r = run("--url", "sim://idcard?card=expired", "--wait", "5")
    assert r.returncode == 0, r.stderr
    assert "EXPIRED" in r.stdout and "reader health: ok" in r.stdout and CARDS["expired"].id_number not in r.stdout


def test_no_card_within_the_wait_exits_1():
    r = run("--url", "sim://idcard", "--wait", "0.5", "--json")
    assert r.returncode == 1
    assert "no card was presented" in json.loads(r.stdout)["error"]


def test_a_reader_fault_is_reported():
    r = run("--url", "sim://idcard?card=adult&fault=selftest", "--json", "--wait", "1")
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert report["health"]["state"] == "fault" and report["error"]


def test_a_configured_reader_by_name_and_bad_urls():
    r = run("--config", "config/district-centre.toml", "--device", "kiosk1-idcard", "--wait", "0.3", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["url"] == "sim://idcard"
    r = run("--url", "sim://idcard?crad=elder")
    assert r.returncode == 2 and "did you mean 'card'" in r.stderr
    r = run("--config", "config/district-centre.toml", "--device", "nope")
    assert r.returncode == 1 and "readers there: kiosk1-idcard" in r.stderr
