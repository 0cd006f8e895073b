"""`sim://evaluator`: a simulated key box on a pseudo-terminal, read by the real serial driver.

    sim://evaluator?address=1&fault=none&answer=0.5&heartbeat=1

Opening starts a KeyBoxSimulator and opens a SerialKeyBox on its pty through pyserial, so every byte goes through
the driver as it would on a real line. `fault=` is one of simulator.FAULTS from the start. A test or technician
presses a key with `simulate(press=2)` (POST /api/v1/devices/{name}/simulate), pulls the cable with
`simulate(fault="disconnect")`, plugs it back with `simulate(fault="none")`. `wire=PATH` dumps the line through
spy:// on the pty; `out=` is accepted and unused.
"""
from __future__ import annotations

from typing import Any

from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, DeviceURLError, choice, parse_url, positive
from ..wire import wired_port
from .base import Evaluator, EvaluatorError
from .frames import LEVELS
from .serial_keybox import SerialKeyBox, address_option, from_url
from .simulator import FAULTS, KeyBoxSimulator

OPTIONS = {"address": address_option, "fault": choice(*FAULTS), "answer": positive(float),
           "heartbeat": positive(float), "timeout": positive(float), "out": str, "wire": str}
DEFAULTS = {"address": 1, "fault": "none", "answer": 0.5, "heartbeat": 1.0, "timeout": 1.0}


def sim_from_url(raw: str) -> SimEvaluator:
    """The registry factory for sim://evaluator (nothing is started until open())."""
    url = parse_url(raw, OPTIONS, DEFAULTS)
    if url.host != "evaluator" or url.path not in ("", "/"):
        raise DeviceURLError(f"{raw}: the evaluator key box simulator is sim://evaluator (options after '?'), "
                             f"not sim://{url.host}{url.path}")
    return SimEvaluator(url)


class SimEvaluator(Evaluator):
    """A KeyBoxSimulator plus the SerialKeyBox that talks to it; lamp, keys and acks go over the pty."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self.simulator: KeyBoxSimulator | None = None
        self._box: SerialKeyBox | None = None

    def __repr__(self) -> str:
        return f"SimEvaluator({self.url.raw!r}, open={self.is_open})"

    def _open(self) -> None:
        o = self.url.options
        sim = KeyBoxSimulator(o["address"])
        sim.set_fault(o["fault"])
        port = sim.start()
        try:
            box = from_url(f"evalbox+serial://{wired_port(port, o.get('wire'))}address={o['address']}"
                           f"&answer={o['answer']:g}&heartbeat={o['heartbeat']:g}&timeout={o['timeout']:g}")
            box.open()
        except Exception:
            sim.stop()
            raise
        self.simulator, self._box = sim, box

    def _close(self) -> None:
        box, sim, self._box, self.simulator = self._box, self.simulator, None, None
        if box is not None:
            box.close()
        if sim is not None:
            sim.stop()

    def _ready(self) -> SerialKeyBox:
        if self._box is None:
            raise EvaluatorError("not_open", "模拟评价器未启动", "the simulated key box is not started: open it first")
        return self._box

    def prompt(self, timeout: float) -> int | None:
        return self._ready().prompt(timeout)

    def cancel(self) -> None:
        if self._box is not None:
            self._box.cancel()

    def health(self) -> DeviceHealth:
        if self._box is None:
            return DeviceHealth(DeviceState.OFFLINE, "the simulated key box is not started")
        return self._box.health()

    def simulate(self, *, press: int | None = None, fault: str | None = None) -> None:
        """What a technician or test does at runtime: press a key (a level 1..5), set a fault."""
        if self.simulator is None:
            raise EvaluatorError("not_open", "模拟评价器未启动", "the simulated key box is not started")
        if fault is not None:
            self.simulator.set_fault(fault)
        if press is not None:
            level = int(press)
            if level not in LEVELS:
                raise ValueError(f"a key is a level 1..5 (5 非常满意 … 1 非常不满意), not {press!r}")
            self.simulator.press(level)

    def faults(self) -> dict[str, Any]:
        if self.simulator is None:
            return {"fault": self.url.options["fault"]}
        return self.simulator.faults()

    def _diagnostics(self) -> dict[str, Any]:
        inner = self._box._diagnostics() if self._box is not None else {}
        return {**inner, "simulator": self.faults()}
