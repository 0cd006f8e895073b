"""ESC/POS receipt printers through python-escpos; each transport only builds the connection.

    escpos+tcp://HOST[:PORT]                    Ethernet printer (PORT defaults to 9100)
    escpos+usb://0xVID:0xPID                    USB printer, through pyusb
    escpos+serial:///dev/ttyS0?baudrate=9600    serial printer, through pyserial's serial_for_url
    escpos+serial://?port=spy:///dev/ttyS0?file=/tmp/printer-wire.txt   the same, its wire dumped to a file
    escpos+file:///dev/usb/lp0                  a printer device file (write-only: no status answers)
    options of all: width=58|80 (paper, default 80), timeout=SECONDS (default 3)

python-escpos opens a connection as a side effect of reading `.device` and re-opens after close; so
the escpos object is built and opened here explicitly, and thrown away (never reused) once closed.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import serial
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import File, Network, Serial, Usb

from ..base import DeviceError
from ..health import DeviceHealth, DeviceState
from ..serial_port import check_pyserial_url, close_port, open_port
from ..url import DeviceURL, DeviceURLError, choice, parse_url, positive
from .base import DEFAULT_WIDTH, OFFLINE_CAUSE, ONLINE, PAPER, Printer, PrintError, status_health
from .notice import Notice, write_notice
from .receipt import Receipt, write_receipt

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 3.0
SLOW_ANSWER_S = 1.0       # a status round trip slower than this makes the printer "degraded"
LINK_ERRORS = (OSError, EscposError, ValueError)   # socket/serial/USB errors are all OSError subclasses
WRITERS: dict[type, Callable[[Escpos, Any], None]] = {Receipt: write_receipt, Notice: write_notice}


def paper_width(text: str) -> int:
    return int(choice("58", "80")(text))


COMMON_OPTIONS: dict[str, Callable[[str], Any]] = {"width": paper_width, "timeout": positive(float)}
COMMON_DEFAULTS: dict[str, Any] = {"width": DEFAULT_WIDTH, "timeout": DEFAULT_TIMEOUT_S}


def usb_ids(raw: str, address: str) -> tuple[int, int]:
    """(vendor, product) from `0xVID:0xPID` (hex, the 0x optional)."""
    try:
        vid, pid = (int(part, 16) for part in address.split(":"))
    except ValueError:
        raise DeviceURLError(f"{raw}: the USB address {address!r} is not VID:PID in hex, e.g. "
                             "escpos+usb://0x0416:0x5011") from None
    return vid, pid


# -- transports: build and open a python-escpos object --------------------------------------------
def _tcp(url: DeviceURL) -> Escpos:
    p = Network(url.host, url.port or 9100, timeout=url.options["timeout"])
    p.open()
    return p


def _usb(url: DeviceURL) -> Escpos:
    vid, pid = usb_ids(url.raw, url.path)
    p = Usb(vid, pid, timeout=int(url.options["timeout"] * 1000))
    p.open()
    return p


def _serial(url: DeviceURL) -> Escpos:
    baud, timeout = url.options["baudrate"], url.options["timeout"]
    p = Serial(devfile=url.path, baudrate=baud, timeout=timeout)
    p.device = open_port(url.path, baudrate=baud, timeout=timeout, write_timeout=timeout)
    return p


def _file(url: DeviceURL) -> Escpos:
    p = File(devfile=url.path)
    p.open()
    return p


@dataclass(frozen=True)
class Transport:
    connect: Callable[[DeviceURL], Escpos]
    options: dict[str, Callable[[str], Any]]
    defaults: dict[str, Any]
    needs: str          # "host" or "path": which part of the URL is the address


TRANSPORTS: dict[str, Transport] = {
    "escpos+tcp": Transport(_tcp, COMMON_OPTIONS, COMMON_DEFAULTS, "host"),
    "escpos+usb": Transport(_usb, COMMON_OPTIONS, COMMON_DEFAULTS, "usb"),
    "escpos+serial": Transport(_serial, {**COMMON_OPTIONS, "baudrate": positive(int), "port": str},
                               {**COMMON_DEFAULTS, "baudrate": 9600}, "path"),
    "escpos+file": Transport(_file, COMMON_OPTIONS, COMMON_DEFAULTS, "path"),
}


def parse_printer_url(raw: str) -> DeviceURL:
    """The DeviceURL of an escpos+* printer, its options checked; errors name the part at fault."""
    scheme = urlsplit(raw).scheme if "://" in raw else ""
    transport = TRANSPORTS.get(scheme)
    if transport is None:
        raise DeviceURLError(f"{raw}: not an ESC/POS printer URL (schemes: {', '.join(TRANSPORTS)})")
    if transport.needs == "usb":             # VID:PID is not host:port; parse the options apart
        parts = urlsplit(raw)
        stand_in = parts._replace(netloc="usb").geturl()
        try:
            url = parse_url(stand_in, transport.options, transport.defaults)
        except DeviceURLError as exc:
            raise DeviceURLError(str(exc).replace(stand_in, raw, 1)) from None
        usb_ids(raw, parts.netloc)
        return replace(url, raw=raw, host="", port=None, path=parts.netloc)
    url = parse_url(raw, transport.options, transport.defaults)
    if transport.needs == "host" and not url.host:
        raise DeviceURLError(f"{raw}: no printer host; write {scheme}://HOST[:PORT], e.g. "
                             f"{scheme}://192.168.10.31:9100")
    if url.options.get("port"):           # escpos+serial://?port=<any pyserial port or URL>, e.g. spy://
        if url.path:
            raise DeviceURLError(f"{raw}: the port is given twice (path {url.path!r} and port="
                                 f"{url.options['port']!r}); keep one")
        check_pyserial_url(raw, url.options["port"])
        url = replace(url, path=url.options["port"])
    if transport.needs == "path" and not url.path:
        raise DeviceURLError(f"{raw}: no device path; write {scheme}:///dev/…, e.g. {scheme}:///dev/ttyS0")
    return url


def from_url(raw: str) -> EscposPrinter:
    """The registry factory for every escpos+* scheme (nothing is opened)."""
    url = parse_printer_url(raw)
    return EscposPrinter(url, TRANSPORTS[url.scheme].connect)


def _reason(exc: BaseException) -> str:
    """An exception as one line for a technician (python-escpos messages span lines)."""
    return " ".join(str(exc).split()) or type(exc).__name__


class EscposPrinter(Printer):
    """A printer driven through python-escpos over whatever `connect` builds.

    One lock serialises status queries and printing, so a health poll never interleaves with a ticket.
    A link that fails is dropped and rebuilt on the next health check or print.
    """

    def __init__(self, url: DeviceURL, connect: Callable[[DeviceURL], Escpos]):
        super().__init__(url)
        self.timeout: float = url.options.get("timeout", DEFAULT_TIMEOUT_S)
        self._connect_to = connect
        self._escpos: Escpos | None = None
        self._lock = threading.RLock()

    # -- lifecycle -------------------------------------------------------------------------------
    def _open(self) -> None:
        with self._lock:
            self._escpos = self._connect()

    def _close(self) -> None:
        with self._lock:
            self._drop()

    def _connect(self) -> Escpos:
        try:
            return self._connect_to(self.url)
        except LINK_ERRORS as exc:
            reason = _reason(exc)
            self.last_error = reason
            raise DeviceError(f"cannot connect to the printer at {self.url.address} ({reason}): check that it "
                              "is switched on and its cable or network is connected") from exc

    def _drop(self) -> None:
        p, self._escpos = self._escpos, None
        if p is not None:
            port = vars(p).get("_device")      # escpos+serial's pyserial port (reading .device would reopen)
            try:
                p.close()
            except LINK_ERRORS:
                logger.debug("closing %s failed", self.url.address, exc_info=True)
            if isinstance(port, serial.SerialBase):
                close_port(port)                # a spy:// port's dump file too

    # -- status ----------------------------------------------------------------------------------
    def health(self) -> DeviceHealth:
        with self._lock:
            return self._health()

    def _health(self) -> DeviceHealth:
        if not self.is_open:
            return DeviceHealth(DeviceState.OFFLINE, f"the printer {self.url.address} is not open")
        if self._escpos is None:
            try:
                self._escpos = self._connect()
            except DeviceError as exc:
                return DeviceHealth(DeviceState.OFFLINE, str(exc))
        if type(self._escpos)._read is Escpos._read:      # a write-only transport (escpos+file)
            return DeviceHealth(DeviceState.OK, f"{self.url.scheme} cannot read the printer's status; "
                                                "assuming it is ready")
        started = time.monotonic()
        answers: dict[int, int | None] = {}
        n = ONLINE
        try:
            for n in (ONLINE, OFFLINE_CAUSE, PAPER):
                answers[n] = self._query(n)
                if answers[n] is None:
                    break
        except LINK_ERRORS as exc:
            self.last_error = _reason(exc)
            answers[n] = None
        self.last_status = answers
        if None in answers.values():
            self._drop()
            return DeviceHealth(DeviceState.OFFLINE, f"no answer from the printer at {self.url.address} within "
                                                     f"{self.timeout:g} s: check power, cable and network")
        health = status_health(answers[ONLINE], answers[OFFLINE_CAUSE], answers[PAPER], self.width)
        elapsed = time.monotonic() - started
        if health.state is DeviceState.OK and elapsed > SLOW_ANSWER_S:
            return DeviceHealth(DeviceState.DEGRADED, f"the printer answers slowly ({elapsed:.1f} s for its "
                                                      "status): check the cable or network")
        return health

    def _query(self, n: int) -> int | None:
        """The printer's answer to DLE EOT n, or None if it said nothing in time."""
        assert self._escpos is not None
        self._escpos._raw(b"\x10\x04" + bytes([n]))
        answer = self._escpos._read()
        return answer[-1] if answer else None

    # -- printing --------------------------------------------------------------------------------
    def _print(self, document: Receipt | Notice) -> None:
        write = WRITERS[type(document)]
        with self._lock:
            health = self._health()
            if not health.working:
                self.last_error = health.detail
                raise PrintError(f"cannot print: {health.detail}")
            assert self._escpos is not None
            try:
                write(self._escpos, document)
            except LINK_ERRORS as exc:
                self._drop()
                self.last_error = _reason(exc)
                logger.warning("printing on %s failed: %s", self.url.address, self.last_error)
                raise PrintError(f"printing stopped: the printer at {self.url.address} went away "
                                 f"({self.last_error}); check it and print again") from exc

    def _diagnostics(self) -> dict[str, Any]:
        return {**super()._diagnostics(), "timeout_s": self.timeout, "connected": self._escpos is not None}
