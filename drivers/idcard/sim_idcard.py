"""`sim://idcard`: a simulated GA 467 SAM reader on a pseudo-terminal, driven by the real SamReader.

    sim://idcard?card=elder&fault=none&reads=1&timeout=1&retries=2

Opening starts a SamSimulator and opens a SamReader on its pty through pyserial, so every byte goes through
the driver as it would with a real reader. `card=` is a name of simulator.CARDS or none (an empty reader);
`fault=` one of simulator.FAULTS; `reads=` how many reads before the card is lifted, or `stay`.
`.simulator` stays reachable for tests and technicians: `reader.simulator.present(CARDS["adult"])`,
`reader.simulator.set_fault("removed")`. `out=` is accepted and unused: the hall server adds it to every
simulator's URL. `wire=PATH` opens the reader through spy:// on the pty, dumping the wire (card data masked) to PATH.
"""
from __future__ import annotations

import logging
from typing import Any

from ..base import DeviceError
from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, DeviceURLError, choice, parse_url, positive
from ..wire import wired_port
from .base import CitizenCard, IdCardReader
from .sam_serial import SamReader, from_url, retry_count
from .simulator import CARDS, FAULTS, SamSimulator

logger = logging.getLogger(__name__)


def reads_option(text: str) -> int | None:
    if text == "stay":
        return None
    value = int(text)
    if value < 1:
        raise ValueError("use 1 or more, or stay")
    return value


OPTIONS = {"card": choice("none", *CARDS), "fault": choice(*FAULTS), "reads": reads_option,
           "timeout": positive(float), "retries": retry_count, "out": str, "wire": str}
DEFAULTS = {"card": "none", "fault": "none", "reads": 1, "timeout": 1.0, "retries": 2}


def sim_from_url(raw: str) -> SimIdCardReader:
    """The registry factory for sim://idcard (nothing is started until open())."""
    url = parse_url(raw, OPTIONS, DEFAULTS)
    if url.host != "idcard" or url.path not in ("", "/"):
        raise DeviceURLError(f"{raw}: the SAM reader simulator is sim://idcard (options after '?'), "
                             f"not sim://{url.host}{url.path}")
    return SimIdCardReader(url)


class SimIdCardReader(IdCardReader):
    """A SamSimulator plus the SamReader that talks to it; reads and health go over the pty."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self.simulator: SamSimulator | None = None
        self._reader: SamReader | None = None

    def __repr__(self) -> str:
        return f"SimIdCardReader({self.url.raw!r}, open={self.is_open})"

    def _open(self) -> None:
        o = self.url.options
        sim = SamSimulator()
        sim.set_fault(o["fault"])
        if o["card"] != "none":
            sim.present(CARDS[o["card"]], o["reads"])
        port = sim.start()
        try:
            reader = from_url(f"sam+serial://{wired_port(port, o.get('wire'))}timeout={o['timeout']:g}"
                              f"&retries={o['retries']}")
        except Exception:
            sim.stop()
            raise
        self.simulator, self._reader = sim, reader
        try:
            reader.open()
        except DeviceError as exc:   # e.g. fault=timeout: the simulator runs, the reader opens once it answers
            logger.info("simulated ID-card reader %s started but its SAM does not answer: %s", self.url.raw, exc)

    def _close(self) -> None:
        reader, sim, self._reader, self.simulator = self._reader, self.simulator, None, None
        if reader is not None:
            reader.close()
        if sim is not None:
            sim.stop()

    def _ready(self) -> SamReader:
        """The open SamReader, opened again first if its SAM did not answer before (DeviceError if it still
        does not)."""
        if self._reader is None:
            raise DeviceError("the simulated ID-card reader is not started: open it first")
        if not self._reader.is_open:
            self._reader.open()
        return self._reader

    def health(self) -> DeviceHealth:
        try:
            reader = self._ready()
        except DeviceError as exc:
            return DeviceHealth(DeviceState.OFFLINE, str(exc))
        return reader.health()

    def read_card(self, timeout: float = 0.0) -> CitizenCard | None:
        return self._ready().read_card(timeout)

    def simulate(self, *, card: str | None = None, remove_card: bool | None = None,
                 fault: str | None = None) -> None:
        """What a technician or test changes at runtime: place a named card, lift it, set a fault."""
        if self.simulator is None:
            raise DeviceError("the simulated ID-card reader is not started")
        if fault is not None:
            self.simulator.set_fault(fault)
        if remove_card:
            self.simulator.remove()
        if card is not None:
            if card not in CARDS:
                raise ValueError(f"unknown simulated card {card!r}; cards: {', '.join(CARDS)}")
            self.simulator.present(CARDS[card], self.url.options["reads"])

    def _diagnostics(self) -> dict[str, Any]:
        inner = self._reader._diagnostics() if self._reader is not None else {}
        return {**inner, "simulator": self.simulator.faults() if self.simulator is not None else None}
