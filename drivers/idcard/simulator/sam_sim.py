"""A GA 467 SAM ID-card reader on a pseudo-terminal: the real driver opens `.port` through pyserial.

A SerialSimulator's thread serves the protocol on the pty's master side. Cards are placed with `present()`
and lifted with `remove()` (or automatically once read); faults a technician meets in a hall are injected
with `set_fault()`: an empty reader, a card lifted mid-read, line noise, a failed SAM self-test, a dead reader.
"""
from __future__ import annotations

import logging
import random

from ...serial_simulator import SerialSimulator, corrupt_check, flip_byte
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


def _synthetic_photo() -> bytes:
    """Stands in for a WLT-compressed photo: the driver must throw it away unread."""
    return (b"WLT" + bytes(range(256)) * 4)[:PHOTO_LEN]


class SamSimulator(SerialSimulator):
    """One simulated reader. Thread-safe; `log` lists the (command, SW3) pairs it answered."""

    kind = "SAM simulator"
    thread_name = "sam-sim"
    FAULTS = FAULTS
    ONCE_FAULTS = ONCE
    frame_errors = (SamProtocolError,)

    def __init__(self, *, seed: int | None = None):
        super().__init__()
        self._card: CitizenCard | None = None
        self._reads_left: int | None = None
        self._log: list[tuple[str, int | None]] = []
        self._rng = random.Random(seed)

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
    def parse_frame(self, buffer: bytes) -> tuple[CommandFrame | None, int]:
        return parse_command(buffer)

    def handle_bad_frame(self, error: Exception) -> bytes:
        sw3 = SW3.LENGTH if getattr(error, "reason", "") == "length" else SW3.CHECKSUM
        return self._logged("bad-frame", sw3, encode_response(0, 0, sw3))

    def handle(self, command: CommandFrame, at: float) -> bytes | None:
        with self._lock:
            fault = self.take_fault()
            if fault == "timeout":
                self._log.append((command.name, None))
                return None
            corrupt = fault in ("checksum", "checksum-always", "garbled")
            sw3, data = self._respond(command, fault, delivered=not corrupt)
            frame = encode_response(0, 0, sw3, data)
            if fault in ("checksum", "checksum-always"):
                frame = corrupt_check(frame)
            elif fault == "garbled":
                noise = bytes(self._rng.choice([b for b in range(256) if b != 0xAA]) for _ in range(7))
                frame = noise + flip_byte(frame, HEADER_LEN + (len(frame) - HEADER_LEN) // 2)
        return self._logged(command.name, sw3, frame)

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

    def _logged(self, name: str, sw3: int, frame: bytes) -> bytes:
        with self._lock:
            self._log.append((name, sw3))
        return frame
