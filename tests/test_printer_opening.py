"""A ticket issued in the first moment after start, while its kiosk's printer is still being opened, waits
for the printer and is printed (issue 14, item 3) — it used to answer "kiosk1-printer is offline: not
opened yet". Against the real server process, restarted with the kiosk's token kept from before."""
from __future__ import annotations

from serverproc import DISTRICT, HTTP, ServerProcess, always_open_config, without_devices

PRINTER = """
[[devices]]
name = "kiosk1-printer"
kind = "printer"
url = "sim://printer?width=80"
kiosk = "kiosk1"
poll_s = 5
"""


def _issue_at_once(srv: ServerProcess, kiosk: dict) -> tuple[dict, dict]:
    """Restart, then (the moment /health first answers) read the printer's state and issue a kiosk1 ticket."""
    srv.restart()
    health = HTTP.get(srv.url + "/api/v1/health", timeout=10).json()
    printer = next(d for d in health["devices"] if d["name"] == "kiosk1-printer")
    r = HTTP.post(srv.url + "/api/v1/tickets", json={"matter": "RS-001", "kiosk": "kiosk1"}, headers=kiosk,
                   timeout=30)
    assert r.status_code == 201, r.text
    return printer, r.json()


def test_a_ticket_issued_while_the_printer_opens_waits_for_it_and_prints(tmp_path, monkeypatch):
    """The printer's driver is slow to load (python-escpos left to parse its profiles itself, 0.5 s, as it
    did before hall_server/hardware/escpos_cache.py): still being created when the ticket comes."""
    monkeypatch.setenv("ESCPOS_CAPABILITIES_PICKLE_DIR", str(tmp_path / "no-profiles-cache"))
    (tmp_path / "no-profiles-cache").mkdir()
    data = tmp_path / "data"
    data.mkdir()
    config = data / "one-printer.toml"
    config.write_text(without_devices(always_open_config(data).read_text(encoding="utf-8")) + PRINTER,
                      encoding="utf-8")
    with ServerProcess(data, config=config) as srv:
        kiosk = srv.make_user("kiosk1", "kiosk")
        for pickle in (tmp_path / "no-profiles-cache").iterdir():
            pickle.unlink()                     # the restart parses the profiles again
        printer, t = _issue_at_once(srv, kiosk)
        assert printer["state"] == "offline" and printer["detail"] == "not opened yet"   # it was still opening
        assert t["print"]["ok"] is True, t["print"]
        assert t["print"]["device"] == "kiosk1-printer"
        assert list((data / "sim" / "printer").glob("*.txt")) or _printed_later(data)


def test_the_district_hall_prints_the_first_ticket_after_start(tmp_path):
    """The whole district config (every simulator, the seat worker): the first kiosk1 ticket prints."""
    with ServerProcess(tmp_path / "data", config=always_open_config(tmp_path, DISTRICT)) as srv:
        kiosk = srv.make_user("kiosk1", "kiosk")
        _printer, t = _issue_at_once(srv, kiosk)
        assert t["print"]["ok"] is True, t["print"]


def _printed_later(data, timeout: float = 10.0) -> bool:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if list((data / "sim" / "printer").glob("*.txt")):
            return True
        time.sleep(0.05)
    return False
