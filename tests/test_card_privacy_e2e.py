"""End to end (issue 4, "Done when"): the real hall server with the district's simulated kiosk reader.
A simulated 70-year-old swipes, the kiosk's ticket carries the elderly priority, and afterwards no full ID
number, name or address is anywhere in the database files, the server's logs or its data directory — the
test searches the bytes, in every encoding the data could have been written in."""
from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from serverproc import ADMIN_PASSWORD, HTTP, ServerProcess

from drivers.idcard import gb11643
from drivers.idcard.simulator import CARDS

pytestmark = pytest.mark.slow


def age_today(card) -> int:
    """The card's holder's age in the hall's zone today (the server runs on the real clock)."""
    return gb11643.age_on(card.birth_date, datetime.now(ZoneInfo("Asia/Shanghai")).date())


def wait_event(base, headers, type_, since, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        page = HTTP.get(f"{base}/api/v1/events", params={"since": since}, headers=headers).json()
        for e in page["events"]:
            if e["type"] == type_:
                return e
        time.sleep(0.05)
    raise AssertionError(f"no {type_} event within {timeout} s")


def test_a_simulated_elder_swipes_and_no_personal_data_is_kept(tmp_path):
    data = tmp_path / "data"
    with ServerProcess(data, extra_args=("--log-level", "debug")) as srv:
        base = srv.url
        admin = {"Authorization": "Bearer " + HTTP.post(f"{base}/api/v1/auth/login", json={
            "username": "admin", "password": ADMIN_PASSWORD}).json()["token"]}
        end = time.monotonic() + 10
        while HTTP.get(f"{base}/api/v1/devices/kiosk1-idcard", headers=admin).json()["state"] != "ok":
            assert time.monotonic() < end, "the simulated reader did not come up"
            time.sleep(0.05)
        since = HTTP.get(f"{base}/api/v1/events", headers=admin).json()["latest_seq"]

        r = HTTP.post(f"{base}/api/v1/devices/kiosk1-idcard/simulate", json={"card": "elder"}, headers=admin)
        assert r.status_code == 200, r.text
        swiped = wait_event(base, admin, "card.swiped", since)
        assert swiped["data"]["kiosk"] == "kiosk1"
        s = HTTP.get(f"{base}/api/v1/swipes/{swiped['data']['swipe']}", headers=admin).json()
        assert (s["age"], s["priority"], s["greeting_zh"], s["name_masked"]) == (age_today(CARDS["elder"]), "elderly",
                                                                                 "李女士，您好！", "李**")
        assert s["age"] >= 70
        body = {"matter": "LN-001", "kiosk": "kiosk1", "swipe": s["id"]}
        t = HTTP.post(f"{base}/api/v1/tickets", json=body, headers=admin).json()
        assert t["priority"] == "elderly" and t["print"]["ok"], t

        # a card moved away mid-read: the kiosk is told, nothing is kept
        since = swiped["seq"]
        HTTP.post(f"{base}/api/v1/devices/kiosk1-idcard/simulate", json={"fault": "removed", "card": "adult"},
                   headers=admin)
        failed = wait_event(base, admin, "card.read_failed", since)
        assert "again" in failed["data"]["reason"]
        diag = HTTP.get(f"{base}/api/v1/devices/kiosk1-idcard", headers=admin).text
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name == "hall.db" for p in files) and any(p.name == "server.stderr" for p in files)
    assert "card read at kiosk1" in srv.stderr()            # the logs did see the swipe, redacted
    blob = b"".join(p.read_bytes() for p in files) + diag.encode()
    for card in (CARDS["elder"], CARDS["adult"]):
        for secret in (card.id_number, card.name, card.address, card.id_number[6:14]):
            for enc in ("utf-8", "utf-16-le", "gb18030"):
                assert secret.encode(enc) not in blob, (card.kind, enc)
