"""A virtual social-security card for vsmartcard's vpcd: the card side of its TCP protocol, in Python.

vpcd (a pcscd reader driver) listens on 35963 + slot; the card connects as a TCP client, and that link is
what pcscd sees as the card: connect = inserted, close = removed. Each message is a 2-byte big-endian
length and a payload; a 1-byte payload is control (00 power off, 01 power on, 02 reset, 04 "send your ATR"),
anything longer is a C-APDU to answer with an R-APDU. `SsCardApplet` is the card's command interpreter
(usable without any socket); `VirtualSsCard` carries it over the link, in a thread.
"""
from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from typing import Any

from ..base import CitizenCard
from ..sscard import EF05, EF06, SSSE_AID, records_from_card

logger = logging.getLogger(__name__)

VPCD_PORT = 35963                                    # slot n listens on VPCD_PORT + n
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4
# T=0 only (T0 = 6x: TB1, TC1 present), historical bytes in compact-TLV ending in the made-up "SSCARD".
_HISTORICAL = bytes.fromhex("8031C073D631C0") + b"SSCARD"
ATR = bytes([0x3B, 0x60 | len(_HISTORICAL), 0x00, 0x00]) + _HISTORICAL
# mute: the ATR still comes but no APDU is answered, so vpcd (which has no timeout) blocks until remove();
# wrong-app: SELECT of the SSSE application answers 6A 82, as a card of another kind would.
FAULTS = ("none", "mute", "wrong-app")
RECONNECT_S = 0.2
# A card stays out at least this long, over pcscd's 400 ms presence poll: a remove() + insert() is always
# two events, even when vpcd itself dropped the link (a transmit that failed) and would accept the new one
# on its very next poll without ever reporting the slot empty.
MIN_OUT_S = 0.5
# vpcd writes a message's length and its payload separately: with Nagle on its side and our delayed ACK,
# every APDU would wait 40 ms for the ACK. Acknowledging at once (Linux) makes an APDU take well under 1 ms.
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


class SsCardApplet:
    """The card's file system (SSSE → EF05/EF06 records) and command interpreter, answering like a T=0 card.

    SELECT answers 61 xx and leaves its FCI for GET RESPONSE; READ RECORD with the wrong Le answers 6C xx.
    """

    def __init__(self, card: CitizenCard, fault: str = "none"):
        self.card, self.fault = card, fault
        self._records = records_from_card(card)
        self.reset()

    def reset(self) -> None:
        """Power off/on or reset: nothing selected, no response pending."""
        self.selected, self.pending = False, b""

    def respond(self, capdu: bytes) -> bytes | None:
        """The R-APDU for `capdu`, or None when the card is mute."""
        if self.fault == "mute":
            return None
        if len(capdu) < 4:
            return _sw(0x6700)
        cla, ins, p1, p2 = capdu[:4]
        body = capdu[4:]
        if cla != 0x00:
            return _sw(0x6E00)
        if ins == 0xA4:
            return self._select(p1, body)
        if ins == 0xC0:
            return self._get_response(body)
        if ins == 0xB2:
            return self._read_record(p1, p2, body)
        return _sw(0x6D00)

    def _select(self, p1: int, body: bytes) -> bytes:
        if not body or len(body) < 1 + body[0]:
            return _sw(0x6700)
        name = body[1:1 + body[0]]
        if p1 == 0x00 and name == b"\x3f\x00":              # the MF
            self.selected = False
            return _sw(0x9000)
        if p1 != 0x04 or name != SSSE_AID or self.fault == "wrong-app":
            return _sw(0x6A82)
        self.selected = True
        self.pending = bytes([0x6F, 2 + len(SSSE_AID), 0x84, len(SSSE_AID)]) + SSSE_AID
        return _sw(0x6100 | len(self.pending))

    def _get_response(self, body: bytes) -> bytes:
        if not self.pending:
            return _sw(0x6985)
        return self._with_le(self.pending, body, clear=True)

    def _read_record(self, number: int, p2: int, body: bytes) -> bytes:
        if p2 & 0x07 != 0x04:
            return _sw(0x6A86)
        sfi = p2 >> 3
        if not self.selected or sfi not in (EF05, EF06):
            return _sw(0x6A82)
        record = self._records[sfi].get(number)
        if record is None:
            return _sw(0x6A83)
        return self._with_le(record, body)

    def _with_le(self, data: bytes, body: bytes, clear: bool = False) -> bytes:
        le = (body[0] or 256) if body else 256
        if le != len(data):
            return _sw(0x6C00 | len(data))
        if clear:
            self.pending = b""
        return data + _sw(0x9000)


class VirtualSsCard:
    """A social-security card in vpcd's slot at host:port. `insert`/`remove` open and close the TCP link.

    `start()` runs the link in a thread that reconnects while the card is inserted (vpcd may drop a card or
    pcscd restart); `set_fault("mute" | "wrong-app" | "none")` changes its behaviour at once.
    """

    def __init__(self, card: CitizenCard | None = None, host: str = "127.0.0.1", port: int = VPCD_PORT,
                 fault: str = "none", atr: bytes = ATR):
        self.host, self.port, self.atr = host, port, atr
        self.applet: SsCardApplet | None = None
        self.fault = "none"
        self.set_fault(fault)
        self._card = card
        self._inserted = False
        self._generation = 0                      # one per insertion: the link thread drops an older socket
        self._removed_at = -MIN_OUT_S             # monotonic time of the last removal
        self._sock: socket.socket | None = None
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.polled = threading.Event()           # vpcd has talked to us on the current link
        self.stats = {"insertions": 0, "connects": 0, "apdus": 0, "unanswered": 0}
        self._refused_logged = False

    # -- control ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the link thread; a card given to the constructor is inserted."""
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"vicc-{self.port}", daemon=True)
        self._thread.start()
        if self._card is not None:
            self.insert()

    def stop(self) -> None:
        """Remove the card and end the thread."""
        with self._wake:
            self._stopping, self._inserted = True, False
            self._wake.notify_all()
        self._drop_link()
        if self._thread is not None:
            self._thread.join(timeout=3)
            self._thread = None

    def insert(self, card: CitizenCard | None = None) -> None:
        """Put `card` (or the last card) in the slot: the link thread connects to vpcd."""
        card = card or self._card
        if card is None:
            raise ValueError("no card to insert: pass a CitizenCard")
        with self._wake:
            self._card = card
            self.applet = SsCardApplet(card, self.fault)
            if self._inserted:                    # a new card replaces the old: remove, then insert
                self._removed_at = time.monotonic()
                self._drop_link()
            self._inserted = True
            self._generation += 1
            self.stats["insertions"] += 1
            self._wake.notify_all()

    def remove(self) -> None:
        """Take the card out: the link closes and pcscd reports the slot empty at its next poll (≤ 0.4 s)."""
        with self._wake:
            self._inserted = False
            self._generation += 1
            self._removed_at = time.monotonic()
            self._wake.notify_all()
        self._drop_link()

    def set_fault(self, fault: str) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown card fault {fault!r}: use one of {', '.join(FAULTS)}")
        self.fault = fault
        if self.applet is not None:
            self.applet.fault = fault

    @property
    def inserted(self) -> bool:
        return self._inserted

    def status(self) -> dict[str, Any]:
        """For diagnostics: no card data, only the link's state."""
        return {"port": self.port, "inserted": self._inserted, "connected": self._sock is not None,
                "polled_by_vpcd": self.polled.is_set(), "fault": self.fault, "atr": self.atr.hex(" ").upper(),
                **self.stats}

    # -- the link ---------------------------------------------------------------------------------
    def _drop_link(self) -> None:
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)   # wakes the thread's blocked recv
            except OSError:
                pass

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and not self._inserted:
                    self._wake.wait()
                if self._stopping:
                    return
                generation = self._generation
                out_for = time.monotonic() - self._removed_at
                if out_for < MIN_OUT_S:
                    self._wake.wait(MIN_OUT_S - out_for)
                    continue
            sock = self._connect()
            if sock is None:
                with self._wake:
                    self._wake.wait(RECONNECT_S * 2)
                continue
            try:
                self._serve(sock, generation)
            finally:
                self._sock = None
                self.polled.clear()
                sock.close()
            if self._inserted and self._generation == generation and not self._stopping:
                logger.info("vpcd at %s:%d closed the virtual card's link; reconnecting", self.host, self.port)
                time.sleep(RECONNECT_S)

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=2)
        except OSError as exc:
            if not self._refused_logged:
                logger.warning("virtual card cannot reach vpcd at %s:%d (%s): is pcscd running with "
                               "vsmartcard-vpcd installed? retrying", self.host, self.port, exc)
                self._refused_logged = True
            return None
        self._refused_logged = False
        sock.settimeout(None)
        self._sock = sock
        self.stats["connects"] += 1
        return sock

    def _serve(self, sock: socket.socket, generation: int) -> None:
        while self._generation == generation and not self._stopping:
            header = _recv_exact(sock, 2)
            if header is None:
                return
            (size,) = struct.unpack("!H", header)
            payload = _recv_exact(sock, size) if size else b""
            if payload is None:
                return
            self.polled.set()
            reply = self._handle(payload)
            if reply is not None:
                try:
                    sock.sendall(struct.pack("!H", len(reply)) + reply)
                except OSError:
                    return

    def _handle(self, payload: bytes) -> bytes | None:
        applet = self.applet
        if len(payload) == 1:
            if payload[0] == CTRL_ATR:
                return self.atr
            if payload[0] in (CTRL_OFF, CTRL_ON, CTRL_RESET):
                if applet is not None:
                    applet.reset()
            else:
                logger.warning("vpcd sent unknown control byte %02X; ignored", payload[0])
            return None
        if not payload or applet is None:
            return None
        self.stats["apdus"] += 1
        reply = applet.respond(payload)
        if reply is None:
            self.stats["unanswered"] += 1
        return reply


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    """`size` bytes, or None once the link is closed."""
    data = b""
    while len(data) < size:
        try:
            if _QUICKACK is not None:
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            chunk = sock.recv(size - len(data))
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data
