"""`sim://sms`: a simulated SMS modem on a pseudo-terminal, driven by the real AT driver (sms+serial://).

    sim://sms?signal=20&fault=none&timeout=0.5&send_timeout=5&smsc=&network_ms=0

Opening starts a ModemSimulator and opens an AtModem on its pty through pyserial, so every byte goes through the
driver as it would with a real modem. `signal=` is the AT+CSQ it reports (0-31, 99 unknown; under 10 is weak),
`fault=` one of simulator.FAULTS to start with, `network_ms=` how long the network takes each PDU before the
modem answers +CMGS (a slow modem: real ones take seconds). What it sent is in `.simulator.sent` (number, text,
parts, at, refs), for tests to read; never in a file. At runtime (POST /api/v1/devices/{name}/simulate):
`{"fault": "no-sim" | "no-signal" | "not-registered" | "no-answer" | "chatty" | "none"}`, `{"cms_error": 500,
"times": 2}` (the next sends refused), `{"signal": 5}`, `{"unsolicited": "RING"}` (inside the next answer). A
fault stays until "none" clears it, also while the hall closes and reopens the modem (a re-plugged modem keeps its
SIM and state).
`out=` is accepted and unused; `wire=PATH` opens the modem through spy:// on the pty, dumping the wire to PATH.
"""
from __future__ import annotations

import logging
from typing import Any

from ..base import DeviceError
from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, DeviceURLError, choice, parse_url, positive
from ..wire import wired_port
from .at_modem import AtModem, from_url, smsc_option
from .base import ModemStatus, SmsError, SmsModem
from .simulator import FAULTS, ModemSimulator


def signal_option(text: str) -> int:
    value = int(text)
    if not (0 <= value <= 31 or value == 99):
        raise ValueError("use 0-31 (AT+CSQ), or 99 for unknown")
    return value


logger = logging.getLogger(__name__)
OPTIONS = {"signal": signal_option, "fault": choice(*FAULTS), "timeout": positive(float),
           "send_timeout": positive(float), "smsc": smsc_option, "out": str, "wire": str,
           "network_ms": float}
DEFAULTS = {"signal": 20, "fault": "none", "timeout": 0.5, "send_timeout": 5.0, "smsc": "", "network_ms": 0.0}


def sim_from_url(raw: str) -> SimSmsModem:
    """The registry factory for sim://sms (nothing is started until open())."""
    url = parse_url(raw, OPTIONS, DEFAULTS)
    if url.host != "sms" or url.path not in ("", "/"):
        raise DeviceURLError(f"{raw}: the SMS modem simulator is sim://sms (options after '?'), "
                             f"not sim://{url.host}{url.path}")
    return SimSmsModem(url)


class SimSmsModem(SmsModem):
    """A ModemSimulator plus the AtModem that talks to it. The simulator (and what it sent) outlives a close."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self.simulator = ModemSimulator(signal=url.options["signal"])     # no pty, no thread until open()
        self.simulator.set_fault(url.options["fault"])
        self.simulator.network_s = max(0.0, url.options["network_ms"]) / 1000
        self._modem: AtModem | None = None

    def __repr__(self) -> str:
        return f"SimSmsModem({self.url.raw!r}, open={self.is_open})"

    def _open(self) -> None:
        o = self.url.options
        port = self.simulator.start()
        try:
            modem = from_url(f"sms+serial://{wired_port(port, o.get('wire'))}timeout={o['timeout']:g}"
                             f"&send_timeout={o['send_timeout']:g}&smsc={o['smsc'].replace('+', '%2B')}")
        except Exception:
            self.simulator.stop()
            raise
        self._modem = modem
        try:
            modem.open()
        except DeviceError as exc:   # e.g. fault=no-answer: the simulator runs, the modem opens once it answers
            logger.info("simulated SMS modem %s started but does not answer: %s", self.url.raw, exc)

    def _close(self) -> None:
        modem, self._modem = self._modem, None
        if modem is not None:
            modem.close()
        self.simulator.stop()

    def _ready(self) -> AtModem:
        """The open AtModem, opened again first if the simulated modem did not answer before."""
        if self._modem is None:
            raise SmsError("not_open", "模拟短信猫未启动", "the simulated SMS modem is not started: open it first")
        if not self._modem.is_open:
            try:
                self._modem.open()
            except DeviceError as exc:
                raise SmsError("timeout", "短信猫无应答", str(exc)) from exc
        return self._modem

    def send(self, number: str, text: str) -> list[int]:
        return self._ready().send(number, text)

    def status(self) -> ModemStatus:
        return self._ready().status()

    def health(self) -> DeviceHealth:
        if self._modem is None:
            return DeviceHealth(DeviceState.OFFLINE, "the simulated SMS modem is not started · 模拟短信猫未启动")
        if not self._modem.is_open:
            try:
                self._modem.open()
            except DeviceError as exc:
                return DeviceHealth(DeviceState.OFFLINE, str(exc))
        return self._modem.health()

    def simulate(self, *, fault: str | None = None, cms_error: int | None = None, times: int | None = None,
                 signal: int | None = None, unsolicited: str | None = None) -> None:
        """What a technician or test changes at runtime: a fault, refusals of the next sends, the signal, an
        unsolicited line inside the next answer."""
        if times is not None and cms_error is None:
            raise ValueError("times goes with cms_error: the number of sends to refuse")
        if fault is not None:
            self.simulator.set_fault(fault)
        if cms_error is not None:
            self.simulator.fail_sends(cms_error, times or 1)
        if signal is not None:
            self.simulator.set_signal(signal)
        if unsolicited is not None:
            self.simulator.inject(unsolicited)

    def faults(self) -> dict[str, Any]:
        return self.simulator.faults()

    def _diagnostics(self) -> dict[str, Any]:
        inner = self._modem._diagnostics() if self._modem is not None else {}
        return {**inner, "simulator": self.faults()}
