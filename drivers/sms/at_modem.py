"""SMS modems (短信猫) on a serial line, in PDU mode with UCS-2, through pyserial's `serial_for_url`.

    sms+serial:///dev/ttyUSB3?baudrate=115200&smsc=         a device path (note the three slashes)
    sms+serial://?port=socket://192.168.10.45:4001          any pyserial port name or URL (spy://, loop://, …)
    sms+serial://?port=spy:///dev/ttyUSB3?file=/tmp/sms-wire.txt    its wire dumped (numbers and texts masked)

Options: baudrate=115200 (a USB modem ignores it), smsc= the service centre as +86… (empty: the one stored on the
SIM, AT+CSCA), timeout= seconds an ordinary command may take (2), send_timeout= seconds the network may take to
take one part of a message (60). In `port=`, everything up to the next `&` is pyserial's; write a `&` as %26.

Opening says AT, ATE0, AT+CMEE=1, AT+CMGF=0 and AT+CNMI=2,1 (incoming messages stay on the SIM, announced by their
index only) and reads the modem's maker and model. Each send says AT+CMGF=0 again (a modem that restarted is back
in text mode, where AT+CMGS=<n> would mean "send to the number n") and checks SIM, signal and registration first.
"""
from __future__ import annotations

import logging
import random
import threading
from datetime import UTC, datetime
from typing import Any

from ..base import DeviceError
from ..health import DeviceHealth, DeviceState
from ..serial_port import LINK_ERRORS, close_port, open_port, parse_serial_url, reason
from ..url import DeviceURL, choice, positive
from . import cms
from .at_codec import POLL_S, AtLink, AtReply, AtTimeout
from .at_wire import redact_spy
from .base import REGISTRATION, ModemStatus, SmsError, SmsModem, health_of
from .numbers import BadNumber, international, mask
from .pdu import Pdu, PduError, submit_pdus

logger = logging.getLogger(__name__)

BAUDRATES = ("115200", "9600", "19200", "38400", "57600", "230400", "460800", "921600")
SIM_STATES = {"READY": "ready", "SIM PIN": "pin", "SIM PUK": "puk"}
CME_SIM = {10: "absent", 11: "pin", 12: "puk", 13: "error", 14: "error", 15: "error"}
GONE = ("check that it is powered, plugged in and that the port is its AT port (a USB modem has several: "
        "scripts/ports lists them)")


def smsc_option(text: str) -> str:
    """`+8613800270500` (a URL's query reads an unescaped + as a space: that is taken as the +, too)."""
    number = text.strip().replace(" ", "").replace("-", "")
    if number.startswith(("00", "86")) and not number.startswith("+"):
        number = "+" + number.removeprefix("00")
    if number and not (number.startswith("+") and number[1:].isdigit() and 3 <= len(number) <= 21):
        raise ValueError("write the service centre as +86 and its digits (e.g. +8613800270500), or leave it empty "
                         "for the SIM's own")
    return number


OPTIONS = {"baudrate": lambda text: int(choice(*BAUDRATES)(text)), "smsc": smsc_option, "timeout": positive(float),
           "send_timeout": positive(float), "port": str}
DEFAULTS = {"baudrate": 115200, "smsc": "", "timeout": 2.0, "send_timeout": 60.0}


def from_url(raw: str) -> AtModem:
    """The registry factory for sms+serial:// (nothing is opened)."""
    return AtModem(parse_serial_url(raw, "sms+serial", OPTIONS, DEFAULTS, "/dev/ttyUSB3"))


class AtModem(SmsModem):
    """One modem. A lock serialises health polls and sends; texts and full numbers are never kept or logged."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        o = url.options
        self.port: str = o["port"]
        self.baudrate: int = o["baudrate"]
        self.smsc: str = o["smsc"]
        self.timeout: float = o["timeout"]
        self.send_timeout: float = o["send_timeout"]
        self.identity: dict[str, str] = {}
        self.last_status: ModemStatus | None = None
        self.last_error = ""
        self.last_message: dict[str, Any] | None = None
        self.counters = {"messages": 0, "parts": 0, "refused": 0, "timeouts": 0}
        self._serial: Any = None
        self._link: AtLink | None = None
        self._lock = threading.RLock()
        self._reference = random.randrange(256)    # a restart must not reuse the last long message's reference

    def __repr__(self) -> str:
        return f"AtModem(port={self.port!r}, open={self.is_open})"

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def _open(self) -> None:
        with self._lock:
            try:
                self._serial = open_port(self.port, baudrate=self.baudrate, timeout=POLL_S,
                                         write_timeout=self.timeout)
            except LINK_ERRORS as exc:
                raise DeviceError(f"cannot open the SMS modem's port {self.port} ({reason(exc)}): {GONE} · "
                                  "无法打开短信猫串口") from exc
            redact_spy(self._serial)
            self._link = AtLink(self._serial)
            try:
                self._start(self._link)
            except (DeviceError, AtTimeout, *LINK_ERRORS) as exc:
                self._drop()
                if isinstance(exc, DeviceError):
                    raise
                raise DeviceError(f"no answer from the SMS modem on {self.port} within {self.timeout:g} s: {GONE} "
                                  "· 短信猫无应答") from exc
            self.last_error = ""

    def _start(self, link: AtLink) -> None:
        link.cancel()                       # a modem left at a `> ` prompt would take our AT as message text
        for attempt in range(3):
            try:
                if link.command("AT", self.timeout).ok:
                    break
            except AtTimeout:
                if attempt == 2:
                    raise
        link.command("ATE0", self.timeout)
        link.command("AT+CMEE=1", self.timeout)        # numbered +CME ERRORs; a modem that refuses keeps ERROR
        if not link.command("AT+CMGF=0", self.timeout).ok:
            raise DeviceError(f"the modem on {self.port} refuses PDU mode (AT+CMGF=0): it cannot send Chinese "
                              "texts; use a GSM/4G modem with PDU mode · 短信猫不支持PDU模式")
        link.command("AT+CNMI=2,1,0,0,0", self.timeout)
        for key, cmd in (("manufacturer", "AT+CGMI"), ("model", "AT+CGMM"), ("revision", "AT+CGMR")):
            reply = link.command(cmd, self.timeout)
            if reply.ok and reply.lines:
                self.identity[key] = reply.lines[-1].removeprefix(cmd[2:] + ":").strip()[:60]

    def _close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        port, self._serial, self._link = self._serial, None, None
        if port is not None:
            close_port(port)

    def _ready(self) -> AtLink:
        if self._link is None:
            raise SmsError("not_open", "短信猫未打开", f"the SMS modem on {self.port} is not open: open it first")
        return self._link

    # -- status ----------------------------------------------------------------------------------------------------
    def status(self) -> ModemStatus:
        with self._lock:
            return self._guarded(lambda link: self._status(link), "asked for its status")

    def _status(self, link: AtLink) -> ModemStatus:
        pin = link.command("AT+CPIN?", self.timeout, "+CPIN:")
        if pin.ok:
            sim = SIM_STATES.get((pin.value("+CPIN:") or "").upper(), "error")
        else:
            sim = CME_SIM.get(pin.error_number, "absent") if pin.error_number is not None else "absent"
        csq = link.command("AT+CSQ", self.timeout, "+CSQ:")
        signal = _int(csq.value("+CSQ:"), 99) if csq.ok else 99
        creg = link.command("AT+CREG?", self.timeout, "+CREG:")
        fields = [line.split(":", 1)[1].split(",") for line in creg.lines if line.count(",") >= 1]
        stat = _int(fields[-1][1], 4) if creg.ok and fields else 4
        self.last_status = ModemStatus(sim, signal if 0 <= signal <= 31 else 99, REGISTRATION.get(stat, "unknown"))
        return self.last_status

    def health(self) -> DeviceHealth:
        with self._lock:
            if self._link is None:
                return DeviceHealth(DeviceState.OFFLINE, f"the SMS modem on {self.port} is not open · 短信猫未打开")
            try:
                status = self.status()
            except SmsError as exc:
                return DeviceHealth(DeviceState.OFFLINE, f"{exc.en} · {exc.zh}")
        return health_of(status, f"on {self.port}")

    def _diagnostics(self) -> dict[str, Any]:
        link = self._link
        return {"port": self.port, "baudrate": self.baudrate, "smsc": self.smsc or "(the SIM's)",
                "timeout_s": self.timeout, "send_timeout_s": self.send_timeout, **self.identity,
                "status": self.last_status.as_dict() if self.last_status else None, "last_error": self.last_error,
                "last_message": self.last_message, **self.counters,
                "unsolicited_skipped": dict(link.unsolicited) if link is not None else {}}

    # -- sending ---------------------------------------------------------------------------------------------------
    def send(self, number: str, text: str) -> list[int]:
        try:
            to = international(number)
        except BadNumber as exc:
            raise SmsError("bad_number", "不是有效的手机号码", str(exc)) from None
        with self._lock:
            reference = self._reference
            try:
                pdus = submit_pdus(to, text, reference=reference, smsc=self.smsc)
            except PduError as exc:
                raise SmsError("bad_text", "短信内容为空或过长", f"cannot send this text: {exc}") from None
            if len(pdus) > 1:
                self._reference = (reference + 1) % 256
            refs = self._guarded(lambda link: self._send(link, to, pdus), "was sending")
        logger.info("SMS to %s sent in %d part(s), references %s", mask(to), len(refs), refs)
        return refs

    def _send(self, link: AtLink, to: str, pdus: list[Pdu]) -> list[int]:
        link.command("AT+CMGF=0", self.timeout)
        problem = self._status(link).problem()
        if problem is not None:
            raise self._refused(problem, to)
        refs: list[int] = []
        for i, pdu in enumerate(pdus, 1):
            try:
                answer = link.prompt(f"AT+CMGS={pdu.length}", self.timeout)
            except AtTimeout as exc:
                link.cancel()
                raise self._silent(f"before part {i} of {len(pdus)}", self.timeout, refs, False) from exc
            if answer is not None:          # an error instead of the prompt: nothing of this part went out
                raise self._refused(self._error_of(answer, i, len(pdus), refs), to)
            try:
                answer = link.submit(pdu.hex, self.send_timeout)
            except AtTimeout as exc:
                raise self._silent(f"after taking part {i} of {len(pdus)}", self.send_timeout, refs, True) from exc
            if not answer.ok:
                raise self._refused(self._error_of(answer, i, len(pdus), refs), to)
            refs.append(_int(answer.value("+CMGS:"), -1))
            self.counters["parts"] += 1
        self.counters["messages"] += 1
        self.last_message = {"to": mask(to), "parts": len(refs), "refs": refs,
                             "at": datetime.now(UTC).isoformat(timespec="seconds")}
        return refs

    def _error_of(self, answer: AtReply, part: int, parts: int, refs: list[int]) -> SmsError:
        number = answer.error_number if answer.cms else None
        code = cms.code_of(number)
        which = f" (part {part} of {parts}; {len(refs)} sent before it)" if parts > 1 else ""
        what = f"{answer.final}: {cms.meaning(number)}" if number is not None else f"{answer.final}"
        return SmsError(code, f"{cms.ZH[code]}（{answer.final}）", f"the modem refused the message{which}: {what}",
                        cms=number, refs=tuple(refs))

    def _refused(self, error: SmsError, to: str) -> SmsError:
        self.counters["refused"] += 1
        self.last_error = error.en
        logger.info("SMS to %s not sent: %s", mask(to), error.en)
        return error

    def _silent(self, when: str, seconds: float, refs: list[int], uncertain: bool) -> SmsError:
        self.counters["timeouts"] += 1
        self.last_error = (f"no answer from the SMS modem on {self.port} within {seconds:g} s {when}: {GONE}"
                           + ("; that part may or may not have gone out" if uncertain else ""))
        return SmsError("timeout", "短信猫无应答" + ("，该条短信是否已发出不明" if uncertain else ""), self.last_error,
                        refs=tuple(refs), uncertain=uncertain)

    def _guarded(self, work, when: str):
        """`work(link)` with a timeout or a failed port turned into SmsError("timeout")."""
        link = self._ready()
        try:
            return work(link)
        except AtTimeout as exc:
            raise self._silent(f"when it {when}", self.timeout, [], False) from exc
        except LINK_ERRORS as exc:
            self.counters["timeouts"] += 1
            self.last_error = (f"the line to the SMS modem on {self.port} failed ({reason(exc)}) when it {when}: "
                               f"{GONE}")
            raise SmsError("timeout", "短信猫串口故障", self.last_error) from exc


def _int(text: str | None, default: int) -> int:
    head = (text or "").split(",")[0].strip()
    return int(head) if head.isdigit() else default
