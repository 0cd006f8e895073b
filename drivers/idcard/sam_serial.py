"""GA 467 SAM resident-ID card readers on a serial line, through pyserial's `serial_for_url`.

    sam+serial:///dev/ttyUSB0?baudrate=115200&timeout=1&retries=2   a device path (note the three slashes)
    sam+serial://?port=COM3                                         any pyserial port name or URL, e.g.
    sam+serial://?port=socket://192.168.10.40:4001                  a serial-over-TCP server
    sam+serial://?port=spy:///dev/ttyUSB0?file=/tmp/sam-wire.txt    the same reader, its wire dumped to a file
    sam+serial://?port=loop://                                      pyserial's loopback (no SAM: nothing works)

Options: baudrate=115200|57600|38400|19200|9600 (must match the reader; 115200 by default), timeout=SECONDS
to wait for each answer (1), retries=N more tries of a step whose answer arrives garbled (2).
In `port=`, everything up to the next `&` is pyserial's; write a `&` inside it as %26.
A spy:// dump holds every byte on the wire except the card's data (select and read answers), masked as xx.
"""
from __future__ import annotations

import logging
import struct
import threading
import time
from typing import Any

from ..base import DeviceError
from ..health import DeviceHealth, DeviceState
from ..serial_port import LINK_ERRORS, close_port, open_port, parse_serial_url, reason
from ..url import DeviceURL, choice, positive
from .base import CardProtocolError, CardReadError, CitizenCard, IdCardReader
from .sam_frames import (
    FIND,
    READ,
    READER_FAULTS,
    RESET,
    RETRYABLE,
    SAM_ID,
    SELECT,
    STATUS,
    SW3,
    Command,
    FrameReader,
    Response,
    SamProtocolError,
    sw3_meaning,
)
from .sam_wire import redact_spy
from .text_block import TEXT_BLOCK_LEN, decode_text_block

logger = logging.getLogger(__name__)

BAUDRATES = ("115200", "57600", "38400", "19200", "9600")
POLL_S = 0.05            # pyserial's read timeout: how often the answer deadline is looked at
FIND_INTERVAL_S = 0.1    # between two "is a card there?" questions while waiting for a card
MOVED_AWAY = "the card was moved away during reading: place it on the reader again and hold it still"


def retry_count(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 10:
        raise ValueError("use 0 to 10")
    return value


OPTIONS = {"baudrate": lambda text: int(choice(*BAUDRATES)(text)), "timeout": positive(float),
           "retries": retry_count, "port": str}
DEFAULTS = {"baudrate": 115200, "timeout": 1.0, "retries": 2}


def parse_sam_url(raw: str) -> DeviceURL:
    """The DeviceURL of a sam+serial reader, the port in `options["port"]` (and `address`)."""
    return parse_serial_url(raw, "sam+serial", OPTIONS, DEFAULTS)


def from_url(raw: str) -> SamReader:
    """The registry factory for sam+serial:// (nothing is opened)."""
    return SamReader(parse_sam_url(raw))


class NoAnswerError(DeviceError):
    """The reader said nothing at all within the timeout: unpowered, unplugged, or the wrong port."""


class SamReader(IdCardReader):
    """A GA 467 SAM reader. One lock serialises health polls and reads; card data only leaves as return values.

    Each presentation of a card is returned once: after a read, `read_card` answers None until the reader
    has reported no card (the card was lifted), even if the same card stays on it.
    """

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        o = url.options
        self.port: str = o["port"]
        self.baudrate: int = o["baudrate"]
        self.timeout: float = o["timeout"]
        self.retries: int = o["retries"]
        self.sam_id = ""
        self.last_sw3: int | None = None
        self.counters = {"reads": 0, "failures": 0, "garbled_answers": 0, "no_answers": 0}
        self._serial: Any = None
        self._lock = threading.RLock()
        self._closing = threading.Event()   # ends a wait for a card at once, so close() never waits it out
        self._presented = False      # the card on the reader now has been returned already

    def __repr__(self) -> str:
        return f"SamReader(port={self.port!r}, baudrate={self.baudrate}, open={self.is_open})"

    # -- lifecycle -------------------------------------------------------------------------------
    def _open(self) -> None:
        with self._lock:
            if self.port.lower().startswith("spy://"):
                logger.info("ID-card reader %s: spy:// dumps the wire, the card's text and photo masked as xx",
                            self.port)
            try:
                self._serial = open_port(self.port, baudrate=self.baudrate, timeout=POLL_S,
                                         write_timeout=self.timeout)
            except LINK_ERRORS as exc:
                raise DeviceError(f"cannot open the ID-card reader's port {self.port} ({reason(exc)}): check that "
                                  "the reader is plugged in and the port is the right one") from exc
            redact_spy(self._serial)
            self._presented = False
            try:
                self._exchange(RESET)
                if self._exchange(STATUS).sw3 == SW3.OK:
                    answer = self._exchange(SAM_ID)
                    self.sam_id = answer.data.hex() if answer.sw3 == SW3.OK else ""
            except CardProtocolError as exc:    # no card involved yet: it is the reader (or line) at fault
                self._drop()
                raise DeviceError(str(exc)) from exc
            except DeviceError:
                self._drop()
                raise
            if self.last_sw3 not in (SW3.OK, None):
                logger.warning("ID-card reader %s: %s", self.port, sw3_meaning(self.last_sw3))

    def _close(self) -> None:
        self._closing.set()
        with self._lock:
            self._drop()
            self._presented = False
        self._closing.clear()

    def _drop(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            close_port(port)

    # -- one command, one answer -----------------------------------------------------------------
    def _exchange(self, command: Command, data: bytes = b"") -> Response:
        """The SAM's answer to `command`, retried while it arrives garbled.

        Raises NoAnswerError when nothing arrives, SamProtocolError when every try was garbled, DeviceError
        when the port fails.
        """
        if self._serial is None:
            raise DeviceError(f"the ID-card reader on {self.port} is not open: open it first")
        frame, error = command.frame(data), None
        for attempt in range(self.retries + 1):
            try:
                self._serial.reset_input_buffer()
                self._serial.write(frame)
                response = self._receive(command)
            except SamProtocolError as exc:
                error = exc
            except LINK_ERRORS as exc:
                raise DeviceError(f"lost the connection to the ID-card reader on {self.port} ({reason(exc)}): "
                                  "check its cable and power") from exc
            else:
                self.last_sw3 = response.sw3
                if response.sw3 not in RETRYABLE:
                    return response
                error = SamProtocolError(sw3_meaning(response.sw3))
            self.counters["garbled_answers"] += 1
            logger.debug("ID-card reader %s: %s try %d: %s", self.port, command.name, attempt + 1, error)
        raise SamProtocolError(f"the ID-card reader on {self.port} answered {command.name} garbled "
                               f"{self.retries + 1} times ({error}); check the serial cable and that "
                               f"baudrate={self.baudrate} matches the reader's setting")

    def _receive(self, command: Command) -> Response:
        frames, received = FrameReader(), 0
        deadline = time.monotonic() + self.timeout
        while True:
            response = frames.next()
            if response is not None:
                return response
            if time.monotonic() >= deadline:
                break
            chunk = self._serial.read(max(1, self._serial.in_waiting))
            received += len(chunk)
            frames.feed(chunk)
        if received:
            raise SamProtocolError(f"{received} bytes came back for {command.name} but no complete frame")
        self.counters["no_answers"] += 1
        raise NoAnswerError(f"no answer from the ID-card reader on {self.port} within {self.timeout:g} s: check "
                            "that it is powered, its cable is plugged in and the port is the reader's")

    def _fail(self, response: Response, step: str) -> DeviceError:
        """The error for an unexpected status word: the reader's fault, or the card's."""
        if response.sw3 in READER_FAULTS:
            return DeviceError(f"the ID-card reader on {self.port} cannot {step}: {response.meaning}")
        return CardReadError(response.meaning)

    # -- state -----------------------------------------------------------------------------------
    def health(self) -> DeviceHealth:
        with self._lock:
            if self._serial is None:
                return DeviceHealth(DeviceState.OFFLINE, f"the ID-card reader on {self.port} is not open")
            try:
                response = self._exchange(STATUS)
            except CardProtocolError as exc:
                return DeviceHealth(DeviceState.FAULT, str(exc))
            except DeviceError as exc:
                return DeviceHealth(DeviceState.OFFLINE, str(exc))
        if response.sw3 == SW3.OK:
            return DeviceHealth(DeviceState.OK, f"the ID-card reader on {self.port} is ready")
        return DeviceHealth(DeviceState.FAULT, f"the ID-card reader on {self.port}: {response.meaning}")

    def _diagnostics(self) -> dict[str, Any]:
        return {"port": self.port, "baudrate": self.baudrate, "timeout_s": self.timeout, "retries": self.retries,
                "sam_id": self.sam_id, "last_sw3": None if self.last_sw3 is None else f"0x{self.last_sw3:02X}",
                "last_status": None if self.last_sw3 is None else sw3_meaning(self.last_sw3),
                "card_already_read": self._presented, **self.counters}

    # -- reading ---------------------------------------------------------------------------------
    def read_card(self, timeout: float = 0.0) -> CitizenCard | None:
        with self._lock:
            if self._serial is None:
                raise DeviceError(f"the ID-card reader on {self.port} is not open: open it first")
            try:
                if not self._wait_for_new_card(timeout):
                    return None
                card = self._read_card_on_reader()
            except DeviceError as exc:      # CardReadError included
                self.counters["failures"] += 1
                logger.info("ID-card reader %s: a read failed: %s", self.port, exc)
                raise
            self.counters["reads"] += 1
            self._presented = True
            return card

    def _wait_for_new_card(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            response = self._exchange(FIND)
            if response.sw3 == SW3.FOUND and not self._presented:
                return True
            if response.sw3 == SW3.FIND_FAILED:
                self._presented = False         # lifted: the next card (or the same, again) is new
            elif response.sw3 != SW3.FOUND:
                raise self._fail(response, "look for a card")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self._closing.wait(min(FIND_INTERVAL_S, remaining)):
                return False

    def _read_card_on_reader(self) -> CitizenCard:
        selected = self._exchange(SELECT)
        if selected.sw3 == SW3.SELECT_FAILED:
            raise CardReadError(MOVED_AWAY)
        if selected.sw3 != SW3.OK:
            raise self._fail(selected, "select the card")
        return decode_text_block(self._read_text())

    def _read_text(self) -> bytes:
        """The 256-byte text block of the read answer; the photo goes out of scope with the answer."""
        answer = self._exchange(READ)
        if answer.sw3 == SW3.READ_FAILED:
            raise CardReadError(MOVED_AWAY)
        if answer.sw3 != SW3.OK:
            raise self._fail(answer, "read the card")
        if len(answer.data) < 4:
            raise SamProtocolError(f"the reader's answer to read holds {len(answer.data)} bytes, not a text block")
        text_len, photo_len = struct.unpack(">HH", answer.data[:4])
        if text_len != TEXT_BLOCK_LEN or len(answer.data) != 4 + text_len + photo_len:
            raise SamProtocolError(f"the reader's answer to read declares {text_len} text and {photo_len} photo "
                                   f"bytes but holds {len(answer.data) - 4}: place the card again")
        return answer.data[4:4 + text_len]
