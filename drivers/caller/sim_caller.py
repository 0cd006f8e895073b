"""`sim://caller`: simulated caller keypads on a pseudo-terminal, read by the real serial driver.

    sim://caller?addresses=1-22&fault=none&timeout=1

Opening starts a KeypadSimulator and opens a SerialKeypad on its pty through pyserial, so every byte goes
through the driver as it would on a real line. `addresses=` lists the keypads on the line (`all`: any);
`fault=` one of simulator.FAULTS for the first press. A press is made with
`simulate(press="call", address=3)` (POST /api/v1/devices/{name}/simulate). `out=` is accepted and unused;
`wire=PATH` opens the keypads' line through spy:// on the pty, dumping the wire to PATH.
"""
from __future__ import annotations

import logging
from typing import Any

from ..base import DeviceError
from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, DeviceURLError, choice, parse_url, positive
from ..wire import wired_port
from .base import Keypad, KeyPress
from .frames import KEYS, MAX_ADDRESS, MIN_ADDRESS
from .serial_keypad import SerialKeypad, from_url
from .simulator import FAULTS, KeypadSimulator

logger = logging.getLogger(__name__)


def addresses_option(text: str) -> frozenset[int] | None:
    """`1-22,99` → {1, …, 22, 99}; `all` → None (a keypad at every address)."""
    if text == "all":
        return None
    addresses: set[int] = set()
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if not MIN_ADDRESS <= first <= last <= MAX_ADDRESS:
            raise ValueError(f"{part!r}: write addresses {MIN_ADDRESS}..{MAX_ADDRESS} as 1-22,99")
        addresses.update(range(first, last + 1))
    if not addresses:
        raise ValueError("name at least one address, e.g. 1-22, or write all")
    return frozenset(addresses)


OPTIONS = {"addresses": addresses_option, "fault": choice(*FAULTS), "timeout": positive(float), "out": str, "wire": str}
DEFAULTS = {"addresses": None, "fault": "none", "timeout": 1.0}


def sim_from_url(raw: str) -> SimKeypad:
    """The registry factory for sim://caller (nothing is started until open())."""
    url = parse_url(raw, OPTIONS, DEFAULTS)
    if url.host != "caller" or url.path not in ("", "/"):
        raise DeviceURLError(f"{raw}: the caller keypad simulator is sim://caller (options after '?'), "
                             f"not sim://{url.host}{url.path}")
    return SimKeypad(url)


class SimKeypad(Keypad):
    """A KeypadSimulator plus the SerialKeypad that reads it; presses, ACKs and displays go over the pty."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self.simulator: KeypadSimulator | None = None
        self._keypad: SerialKeypad | None = None

    def __repr__(self) -> str:
        return f"SimKeypad({self.url.raw!r}, open={self.is_open})"

    def _open(self) -> None:
        o = self.url.options
        sim = KeypadSimulator(o["addresses"])
        sim.set_fault(o["fault"])
        port = sim.start()
        try:
            keypad = from_url(f"caller+serial://{wired_port(port, o.get('wire'))}timeout={o['timeout']:g}")
            keypad.open()
        except Exception:
            sim.stop()
            raise
        self.simulator, self._keypad = sim, keypad

    def _close(self) -> None:
        keypad, sim, self._keypad, self.simulator = self._keypad, self.simulator, None, None
        if keypad is not None:
            keypad.close()
        if sim is not None:
            sim.stop()

    def _ready(self) -> SerialKeypad:
        if self._keypad is None:
            raise DeviceError("the simulated caller keypads are not started: open them first")
        return self._keypad

    def read_key(self, timeout: float = 0.0) -> KeyPress | None:
        return self._ready().read_key(timeout)

    def show(self, address: int, text: str) -> None:
        self._ready().show(address, text)

    def health(self) -> DeviceHealth:
        if self._keypad is None:
            return DeviceHealth(DeviceState.OFFLINE, "the simulated caller keypads are not started")
        return self._keypad.health()

    def simulate(self, *, press: str | None = None, address: int | None = None, fault: str | None = None) -> None:
        """What a technician or test does at runtime: press a key on the keypad at `address`, set a fault."""
        if self.simulator is None:
            raise DeviceError("the simulated caller keypads are not started")
        if fault is not None:
            self.simulator.set_fault(fault)
        if press is not None or address is not None:
            if press is None or address is None:
                raise ValueError("a press needs both press (the key) and address (the keypad)")
            if press not in KEYS:
                raise ValueError(f"unknown keypad key {press!r}; keys: {', '.join(KEYS)}")
            self.simulator.press(address, press)

    def faults(self) -> dict[str, Any]:
        if self.simulator is None:
            return {"fault": self.url.options["fault"], "presses": 0, "acks": 0, "shown": {}, "bad_frames": 0}
        return self.simulator.faults()

    def _diagnostics(self) -> dict[str, Any]:
        inner = self._keypad._diagnostics() if self._keypad is not None else {}
        return {**inner, "simulator": self.faults()}
