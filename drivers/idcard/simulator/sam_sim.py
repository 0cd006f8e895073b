"""A GA 467 SAM ID-card reader on a pseudo-terminal: the real driver opens `.port` through pyserial.

A thread serves the protocol on the pty's master side. Cards are placed with `present()` and lifted with
`remove()` (or automatically once read); faults a technician meets in a hall are injected with
`set_fault()`: an empty reader, a card lifted mid-read, line noise, a failed SAM self-test, a dead reader.
"""
from __future__ import annotations

import logging
import os
import pty
import random
import select
import threading
import tty

from ..base import CitizenCard
from ..sam_frames import (
    FIND,
    HEADER_LEN,
    MAX_RF_BYTES,
    READ,
    READ_ADDRESS,
    READ_FINGERPRINT,
    RESET,
    SAM_ID,
    SELECT,
    SET_BAUD,
    STATUS,
    SW3,
    CommandFrame,
    FrameReader,
    SamProtocolError,
    encode_response,
    parse_command,
)
from ..text_block import encode_text_block

logger = logging.getLogger(__name__)

FAULTS = ("none", "no-card", "removed", "checksum", "checksum-always", "garbled", "selftest", "timeout")
ONCE = frozenset({"checksum", "garbled"})     # these hit the next answer only, then the fault clears itself
SAM_ID_BYTES = bytes.fromhex("0501000020261124000000000000a001")   # a made-up SAM serial number
PHOTO_LEN = 1024
_POLL_S = 0.05


def _synthetic_photo() -> bytes:
    """Stands in for a WLT-compressed photo: the driver must throw it away unread."""
    return (b"WLT" + bytes(range(256)) * 4)[:PHOTO_LEN]


class SamSimulator:
    """One simulated reader. Thread-safe; `log` lists the (command, SW3) pairs it answered."""

    def __init__(self, *, seed: int | None = None):
        self._lock = threading.Lock()
        self._card: CitizenCard | None = None
        self._reads_left: int | None = None
        self._fault = "none"
        self._log: list[tuple[str, int | None]] = []
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master = self._slave = -1
        self._wake: tuple[int, int] | None = None      # a pipe that interrupts the serving thread's select()
        self.port = ""

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> str:
        """Opens the pty pair and starts serving; returns the path the driver should open."""
        if self._thread is not None:
            return self.port
        master, slave = pty.openpty()
        tty.setraw(slave)       # no echo, no line editing: bytes pass unchanged
        # the slave stays open here too, so the master never sees EIO between two driver sessions
        self._master, self._slave, self.port = master, slave, os.ttyname(slave)
        self._wake = os.pipe()
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="sam-sim", daemon=True)
        self._thread.start()
        logger.info("SAM simulator serving on %s", self.port)
        return self.port

    def stop(self) -> None:
        self._stop.set()
        if self._wake is not None:
            os.write(self._wake[1], b"x")
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)
        for fd in (self._master, self._slave, *(self._wake or ())):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1
        self._wake = None

    def __enter__(self) -> SamSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what is on the reader -------------------------------------------------------------------
    def present(self, card: CitizenCard, reads: int | None = 1) -> None:
        """Places `card` on the reader; it is lifted after `reads` successful reads (None: until remove())."""
        if reads is not None and reads < 1:
            raise ValueError("SAM simulator: reads must be 1 or more, or None for a card that stays")
        encode_text_block(card)     # a card that does not fit the text block fails here, not mid-read
        with self._lock:
            self._card, self._reads_left = card, reads
        logger.info("SAM simulator: a card is on the reader (%s)", "stays" if reads is None else f"{reads} read(s)")

    def remove(self) -> None:
        with self._lock:
            self._card = self._reads_left = None
        logger.info("SAM simulator: the card was lifted")

    def set_fault(self, name: str) -> None:
        if name not in FAULTS:
            raise ValueError(f"SAM simulator: unknown fault {name!r}; faults: {', '.join(FAULTS)}")
        with self._lock:
            self._fault = name
        logger.info("SAM simulator fault: %s", name)

    def faults(self) -> dict:
        """The present state: the fault, whether a card is on the reader and how many reads it has left."""
        with self._lock:
            return {"fault": self._fault, "card_present": self._card is not None, "reads_left": self._reads_left}

    @property
    def log(self) -> list[tuple[str, int | None]]:
        """(command name, SW3 answered) for every command received; SW3 is None when nothing was answered."""
        with self._lock:
            return list(self._log)

    # -- serving ---------------------------------------------------------------------------------
    def _serve(self) -> None:
        frames = FrameReader(parse_command)
        master, wake = self._master, self._wake[0] if self._wake else -1
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([master, wake], [], [], _POLL_S)
                data = os.read(master, 4096) if master in ready else b""
            except (OSError, ValueError):       # closed under us by stop()
                break
            frames.feed(data)
            while True:
                try:
                    command = frames.next()
                except SamProtocolError as exc:
                    sw3 = SW3.LENGTH if exc.reason == "length" else SW3.CHECKSUM
                    self._send("bad-frame", sw3, encode_response(0, 0, sw3))
                    continue
                if command is None:
                    break
                try:
                    self._answer(command)
                except Exception:      # a bug here must not kill the reader for the next command
                    logger.exception("SAM simulator: error answering %s", command.name)

    def _answer(self, command: CommandFrame) -> None:
        with self._lock:
            fault = self._fault
            if fault == "timeout":
                self._log.append((command.name, None))
                return
            corrupt = fault in ("checksum", "checksum-always", "garbled")
            sw3, data = self._respond(command, fault, delivered=not corrupt)
            frame = encode_response(0, 0, sw3, data)
            if fault in ("checksum", "checksum-always"):
                frame = frame[:-1] + bytes([frame[-1] ^ 0xFF])
            elif fault == "garbled":
                noise = bytes(self._rng.choice([b for b in range(256) if b != 0xAA]) for _ in range(7))
                middle = HEADER_LEN + (len(frame) - HEADER_LEN) // 2
                frame = noise + frame[:middle] + bytes([frame[middle] ^ 0x5A]) + frame[middle + 1:]
            if fault in ONCE:
                self._fault = "none"
        self._send(command.name, sw3, frame)

    def _respond(self, command: CommandFrame, fault: str, delivered: bool) -> tuple[int, bytes]:
        """(SW3, data) for a command; changes the card's state. Called with the lock held."""
        key = (command.cmd, command.para)
        if fault == "selftest":
            return SW3.SELFTEST_FAILED, b""
        if key in ((RESET.cmd, RESET.para), (STATUS.cmd, STATUS.para), (MAX_RF_BYTES.cmd, MAX_RF_BYTES.para)):
            return SW3.OK, b""
        if key == (SAM_ID.cmd, SAM_ID.para):
            return SW3.OK, SAM_ID_BYTES
        if command.cmd == SET_BAUD.cmd and command.para <= 4:
            return SW3.OK, b""
        card = None if fault == "no-card" else self._card
        if key == (FIND.cmd, FIND.para):
            return (SW3.FOUND, bytes(4)) if card else (SW3.FIND_FAILED, b"")
        if key == (SELECT.cmd, SELECT.para):
            return (SW3.OK, bytes(8)) if card else (SW3.SELECT_FAILED, b"")
        if key in ((READ_ADDRESS.cmd, READ_ADDRESS.para), (READ_FINGERPRINT.cmd, READ_FINGERPRINT.para)):
            return (SW3.NO_CONTENT, b"") if card else (SW3.READ_FAILED, b"")
        if key == (READ.cmd, READ.para):
            if card is None:
                return SW3.READ_FAILED, b""
            if fault == "removed":          # lifted while the RF transfer ran
                self._card = self._reads_left = None
                return SW3.READ_FAILED, b""
            text = encode_text_block(card)
            if delivered and self._reads_left is not None:
                self._reads_left -= 1
                if self._reads_left <= 0:   # the citizen takes the card back once it has been read
                    self._card = self._reads_left = None
            return SW3.OK, bytes([0x01, 0x00, 0x04, 0x00]) + text + _synthetic_photo()
        return SW3.COMMAND, b""

    def _send(self, name: str, sw3: int, frame: bytes) -> None:
        with self._lock:
            self._log.append((name, sw3))
        view = memoryview(frame)
        while view and not self._stop.is_set():
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                self._stop.wait(0.001)
                continue
            except OSError:
                logger.debug("SAM simulator: answer to %s not sent: the pty is closed", name)
                return
            view = view[written:]
