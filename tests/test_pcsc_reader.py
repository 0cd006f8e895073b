"""pcsc:// and sim://sscard: pyscard reads the virtual social-security card through the real pcscd and vpcd.

These tests use vpcd's slot 1 (port 35964, 'Virtual PCD 00 01') so that a hall running `make run` on the
default slot 0 does not disturb them. pcscd must be running: `make test` starts it.
"""
from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from smartcard import scard

from drivers.base import DeviceError
from drivers.health import DeviceState
from drivers.idcard import CardProtocolError, CardReadError
from drivers.idcard.pcsc_reader import from_url, list_reader_names
from drivers.idcard.sim_sscard import CARDS, sim_from_url
from drivers.idcard.simulator.vicc import ATR, VirtualSsCard
from drivers.registry import registry
from drivers.url import DeviceURLError

ROOT = Path(__file__).resolve().parent.parent
PORT, READER = 35964, "Virtual PCD 00 01"
ELDER, ADULT = CARDS["elder"], CARDS["adult"]
PERSONAL = [ELDER.id_number, ELDER.name, ELDER.card_number, ADULT.id_number, ADULT.name, ADULT.card_number]


# -- fixtures ---------------------------------------------------------------------------------------
def slot_state() -> int:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hresult == scard.SCARD_S_SUCCESS, "pcscd went away during the test"
    try:
        hresult, states = scard.SCardGetStatusChange(context, 0, [(READER, scard.SCARD_STATE_UNAWARE)])
        return states[0][1]
    finally:
        scard.SCardReleaseContext(context)


def slot_events() -> int:
    """How many insertions and removals pcscd has seen in the slot (the upper 16 bits of its state)."""
    return slot_state() >> 16


def wait_slot(present: bool, timeout: float = 3.0, after_events: int | None = None) -> None:
    """Wait until pcscd sees vpcd's slot 1 with (or without) a card, and more events than `after_events`."""
    deadline = time.monotonic() + timeout
    while (bool(slot_state() & scard.SCARD_STATE_PRESENT) != present
           or (after_events is not None and slot_events() <= after_events)):
        if time.monotonic() > deadline:
            pytest.fail(f"pcscd still sees {READER!r} {'empty' if present else 'with a card'} after {timeout} s")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def pcscd(vpcd_slot_1):
    """Fails (never skips) without pcscd and its vpcd readers: `make test` starts pcscd. Holds vpcd's slot 1
    for the module (tests/conftest.py: other workers wait for it)."""
    try:
        names, problem = list_reader_names(), ""
    except DeviceError as exc:
        names, problem = [], str(exc)
    if problem:
        pytest.fail(f"{problem}. `make test` starts pcscd for these tests (make target `pcscd`).")
    if READER not in names:
        pytest.fail(f"pcscd has no reader {READER!r} (it has: {', '.join(names) or 'none'}): install "
                    "vsmartcard-vpcd (`make setup`) and restart pcscd; `make test` starts it")
    if slot_state() & scard.SCARD_STATE_PRESENT:
        pytest.fail(f"another virtual card holds vpcd slot 1 (port {PORT}); stop it before running the tests")


@pytest.fixture
def vcard(pcscd):
    card = VirtualSsCard(None, port=PORT)
    card.start()
    yield card
    card.stop()
    wait_slot(present=False)            # the next test starts with an empty slot


@pytest.fixture
def reader(pcscd):
    r = from_url(f"pcsc://?reader={quote(READER)}&timeout=1")
    r.open()
    yield r
    r.close()


def no_card_data(text: str) -> None:
    for value in PERSONAL:
        assert value not in text


# -- reading through pcscd --------------------------------------------------------------------------
def test_an_inserted_card_is_read_once(vcard, reader):
    vcard.insert(ELDER)
    card = reader.read_card(3)
    assert card == ELDER
    assert (card.kind, card.name, card.id_number, card.gender, card.nation, card.birth_date, card.card_number) == (
        "social-security", "李秀兰", ELDER.id_number, "女", "汉", ELDER.birth_date, "E42010224")
    assert reader.read_card(0.5) is None                     # the same insertion is not returned twice
    assert reader.health().detail == "card present"
    assert reader.diagnostics()["last_atr"] == ATR.hex(" ").upper()


def test_remove_and_insert_reads_again(vcard, reader):
    vcard.insert(ELDER)
    assert reader.read_card(3) == ELDER
    vcard.remove()
    assert reader.read_card(0.8) is None
    vcard.insert(ADULT)
    assert reader.read_card(3) == ADULT


def test_a_quick_reinsertion_between_two_reads_is_a_new_insertion(vcard, reader):
    vcard.insert(ELDER)
    assert reader.read_card(3) == ELDER
    seen = slot_events()
    vcard.remove()
    vcard.insert(ELDER)                                      # out and back in before anyone asks
    wait_slot(present=True, after_events=seen)               # pcscd has seen it
    assert reader.read_card(3) == ELDER
    assert reader.read_card(0.3) is None


def test_no_card_gives_none_within_the_timeout(vcard, reader):
    start = time.monotonic()
    assert reader.read_card(0.5) is None
    assert 0.45 <= time.monotonic() - start < 2.5         # it waited, and then gave up
    start = time.monotonic()
    assert reader.read_card(0) is None
    assert time.monotonic() - start < 0.8                  # not the reader's 1 s timeout
    assert reader.health().state == DeviceState.OK and reader.health().detail == "ready, no card"


def test_close_ends_a_waiting_read_at_once(pcscd):
    import threading
    r = from_url(f"pcsc://?reader={quote(READER)}")
    r.open()
    result = {}
    waiting = threading.Thread(target=lambda: result.update(card=r.read_card(10)))
    waiting.start()
    time.sleep(0.3)
    r.close()
    waiting.join(2)
    assert not waiting.is_alive() and result == {"card": None}
    with pytest.raises(DeviceError, match="not open"):
        r.read_card(0)


def test_a_card_already_in_the_reader_at_open_is_read(vcard, pcscd):
    vcard.insert(ADULT)
    wait_slot(present=True)
    with from_url(f"pcsc://?reader={quote('pcd 00 01')}") as r:       # substring, any case
        assert r.reader_name == READER
        assert r.read_card(0) == ADULT


def test_wrong_application_is_not_a_social_security_card(vcard, reader):
    vcard.set_fault("wrong-app")
    vcard.insert(ELDER)
    with pytest.raises(CardReadError, match="not a social-security card") as info:
        reader.read_card(3)
    assert not isinstance(info.value, CardProtocolError)
    no_card_data(str(info.value))
    assert reader.read_card(0.3) is None                     # the failed insertion is not retried
    assert reader.diagnostics()["counters"]["reads_failed"] == 1


def test_a_mute_card_is_an_error_not_a_hang(vcard, reader):
    vcard.set_fault("mute")
    vcard.insert(ELDER)
    wait_slot(present=True)
    start = time.monotonic()
    with pytest.raises(CardReadError, match="did not answer within 1 s"):
        reader.read_card(3)
    assert time.monotonic() - start < 2.5
    assert reader.diagnostics()["counters"]["timeouts"] == 1
    seen = slot_events()
    vcard.remove()                                           # vpcd gives up waiting when the card goes
    vcard.set_fault("none")
    vcard.insert(ADULT)
    # pcscd has seen the new card: under load it could still report the mute one (present, no ATR) for a while
    wait_slot(present=True, after_events=seen, timeout=10)
    assert reader.read_card(3) == ADULT


def test_a_card_with_a_bad_id_number_is_refused_without_its_data(vcard, reader):
    from dataclasses import replace
    bad = replace(ELDER, id_number=ELDER.id_number[:17] + ("1" if ELDER.id_number[17] == "0" else "0"))
    vcard.insert(bad)
    with pytest.raises(CardReadError, match="check digit") as info:
        reader.read_card(3)
    no_card_data(str(info.value))
    assert bad.id_number not in str(info.value)


def test_nothing_personal_in_diagnostics_or_repr(vcard, reader):
    vcard.insert(ELDER)
    card = reader.read_card(3)
    for text in (repr(card), str(card), str(reader.diagnostics()), str(card.redacted()), repr(reader.health())):
        no_card_data(text)
    assert set(reader.diagnostics()) >= {"reader", "last_atr", "counters", "url", "open"}


# -- what a technician meets ------------------------------------------------------------------------
def test_an_unknown_reader_lists_the_readers_there_are(pcscd):
    with pytest.raises(DeviceError) as info:
        from_url("pcsc://?reader=ACS%20ACR38").open()
    assert "no PC/SC reader's name contains 'ACS ACR38'" in str(info.value)
    assert "Virtual PCD 00 00" in str(info.value) and READER in str(info.value)


OPEN_SCRIPT = """
import os, sys
from drivers.base import DeviceError
from drivers.registry import registry
import drivers.idcard
reader = registry("idcard").create(sys.argv[1])
try:
    reader.open()
except DeviceError as exc:
    print("DeviceError:", exc)
    sys.exit(0)
print("opened:", reader.health().detail)
if len(sys.argv) > 2:
    os.unlink(sys.argv[2])                  # pcscd vanishes for this process's new contexts
    health = reader.health()
    print("after:", health.state.value, health.detail)
reader.close()
"""


def run_without_pcscd(socket_path: Path, *args: str) -> str:
    """Run OPEN_SCRIPT with libpcsclite pointed at `socket_path` (PCSCLITE_CSOCK_NAME), not the shared pcscd."""
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(socket_path)}
    done = subprocess.run([sys.executable, "-c", OPEN_SCRIPT, *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("url", ["pcsc://", "sim://sscard?port=35964"])
def test_pcscd_not_running_says_so_and_how_to_start_it(tmp_path, url):
    out = run_without_pcscd(tmp_path / "no-pcscd.comm", url)
    assert out.startswith("DeviceError: pcscd is not running")
    assert "sudo systemctl start pcscd.socket" in out and "sudo apt-get install pcscd && sudo pcscd" in out


def test_health_goes_offline_when_pcscd_goes_away(pcscd, tmp_path):
    real = Path(os.environ.get("PCSCLITE_CSOCK_NAME", "/run/pcscd/pcscd.comm"))
    assert real.exists(), f"pcscd's socket is not at {real}"
    link = tmp_path / "pcscd.comm"
    link.symlink_to(real)                   # libpcsclite honours PCSCLITE_CSOCK_NAME: it works through the link…
    out = run_without_pcscd(link, f"pcsc://?reader={quote(READER)}", str(link))
    assert "opened: ready, no card" in out
    assert "after: offline pcscd is not running" in out and "pcscd.socket" in out    # …and not without it


# -- sim://sscard -----------------------------------------------------------------------------------
def test_sim_urls():
    sim = sim_from_url("sim://sscard")
    assert sim.url.options == {"port": 35963, "reader": "Virtual PCD 00 00", "card": "", "fault": "none",
                               "timeout": 3.0}
    assert sim.simulator is None and not sim.is_open                     # nothing starts before open()
    assert sim_from_url("sim://sscard?port=35964&card=elder").url.options["reader"] == READER
    assert registry("idcard").create("sim://sscard?reader=x&fault=mute").url.options["reader"] == "x"
    assert from_url("pcsc://?reader=ACS&timeout=2").url.options == {"reader": "ACS", "timeout": 2.0}
    assert from_url("pcsc://").url.options == {"reader": "", "timeout": 3.0}


@pytest.mark.parametrize("raw,message", [
    ("sim://sscard?card=nobody", "bad value 'nobody' for option 'card': use one of elder, adult, minority"),
    ("sim://sscard?fault=broken", "use one of none, mute, wrong-app"),
    ("sim://sscard?port=0", "must be a TCP port"),
    ("sim://sscard/x", "is sim://sscard"),
    ("pcsc://reader-1", "pcsc:// takes no address"),
    ("pcsc://?raeder=ACS", "unknown option 'raeder'; did you mean 'reader'?"),
    ("pcsc://?timeout=0", "must be greater than 0"),
])
def test_bad_urls(raw, message):
    with pytest.raises(DeviceURLError, match=message.replace("?", r"\?")):
        registry("idcard").create(raw)


def test_sim_reads_through_pcscd(pcscd):
    sim = registry("idcard").create("sim://sscard?port=35964&card=elder&timeout=1")
    try:
        sim.open()
        assert sim.read_card(3) == ELDER
        assert sim.read_card(0.3) is None
        sim.simulator.remove()
        sim.simulator.insert(ADULT)
        assert sim.read_card(3) == ADULT and sim.health().detail == "card present"
        diagnostics = sim.diagnostics()
        assert diagnostics["reader"] == READER and diagnostics["simulator"]["inserted"] is True
        no_card_data(str(diagnostics))
    finally:
        sim.close()
    assert sim.simulator is None and sim.health().state == DeviceState.OFFLINE
    wait_slot(present=False)


# -- the virtual card's side of vpcd's protocol, against a stand-in vpcd ------------------------------
class FakeVpcd:
    """A listening socket speaking vpcd's side: length-prefixed control bytes and APDUs."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(3)
        self.port = self.server.getsockname()[1]
        self.link: socket.socket | None = None

    def accept(self) -> None:
        self.link, _ = self.server.accept()
        self.link.settimeout(3)

    def send(self, payload: bytes) -> None:
        self.link.sendall(struct.pack("!H", len(payload)))       # as vpcd does: length, then payload
        self.link.sendall(payload)

    def ask(self, payload: bytes) -> bytes:
        self.send(payload)
        size = struct.unpack("!H", self.recv(2))[0]
        return self.recv(size)

    def recv(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.link.recv(size - len(data))
            if not chunk:
                raise ConnectionError("the virtual card closed the link")
            data += chunk
        return data

    def close(self) -> None:
        for s in (self.link, self.server):
            if s is not None:
                s.close()


@pytest.fixture
def fake_vpcd():
    vpcd = FakeVpcd()
    yield vpcd
    vpcd.close()


def test_virtual_card_speaks_vpcds_protocol(fake_vpcd):
    card = VirtualSsCard(ELDER, port=fake_vpcd.port)
    card.start()
    try:
        fake_vpcd.accept()                                       # start() inserted the card: it connected
        assert fake_vpcd.ask(b"\x04") == ATR
        fake_vpcd.send(b"\x01")                                   # power on: no answer expected
        assert fake_vpcd.ask(bytes.fromhex("00A404000F7378312E73682EC9E7BBE1B1A3D5CF")) == b"\x61\x13"
        fake_vpcd.send(b"\x02")                                   # reset: the selection is gone
        assert fake_vpcd.ask(bytes.fromhex("00B2072C00")) == b"\x6a\x82"
        assert fake_vpcd.ask(bytes.fromhex("0084000008")) == b"\x6d\x00"
        assert card.polled.is_set() and card.status()["apdus"] == 3

        fake_vpcd.link.close()                                   # vpcd drops the card: it comes back
        fake_vpcd.accept()
        assert fake_vpcd.ask(b"\x04") == ATR

        card.remove()                                            # removal closes the link
        with pytest.raises(ConnectionError):
            fake_vpcd.recv(2)
        card.insert()
        fake_vpcd.accept()
        assert fake_vpcd.ask(b"\x04") == ATR
    finally:
        card.stop()
    assert card.status()["connected"] is False


def test_virtual_card_faults_and_errors():
    card = VirtualSsCard(None)
    with pytest.raises(ValueError, match="no card to insert"):
        card.insert()
    with pytest.raises(ValueError, match="use one of none, mute, wrong-app"):
        card.set_fault("slow")
    card.stop()                                                  # stopping a card never started is fine
