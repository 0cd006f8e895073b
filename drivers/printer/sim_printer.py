"""`sim://printer`: a simulated receipt printer on a loopback port, driven like a real one.

    sim://printer?width=80&paper=ok&cover=closed&offline=false&slow=0&out=var/sim/printer&timeout=3

Opening starts a PrinterSimulator (with the URL's faults, paper width and output directory) and connects
an EscposPrinter to it over escpos+tcp, so every byte goes through python-escpos as it would to real
hardware. `.simulator` stays reachable for technicians and tests: `printer.simulator.set_fault(paper="out")`.
The simulator writes its receipts into `out=` (default var/sim/printer, relative to the working directory;
the hall server points it into its own data directory).
"""
from __future__ import annotations

import logging
from typing import Any

from ..base import DeviceError
from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, DeviceURLError, boolean, choice, parse_url
from .base import Printer
from .escpos_printer import COMMON_DEFAULTS, COMMON_OPTIONS, from_url
from .notice import Notice
from .receipt import Receipt

logger = logging.getLogger(__name__)

DEFAULT_OUT = "var/sim/printer"


def seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ValueError("must be 0 or more seconds")
    return value


OPTIONS = {**COMMON_OPTIONS, "paper": choice("ok", "near-end", "out"), "cover": choice("open", "closed"),
           "offline": boolean, "slow": seconds, "out": str}
DEFAULTS = {**COMMON_DEFAULTS, "paper": "ok", "cover": "closed", "offline": False, "slow": 0.0,
            "out": DEFAULT_OUT}


def sim_from_url(raw: str) -> SimPrinter:
    """The registry factory for sim:// (nothing is started until open())."""
    url = parse_url(raw, OPTIONS, DEFAULTS)
    if url.host != "printer" or url.path not in ("", "/"):
        raise DeviceURLError(f"{raw}: the printer simulator is sim://printer (options after '?'), "
                             f"not sim://{url.host}{url.path}")
    return SimPrinter(url)


class SimPrinter(Printer):
    """A PrinterSimulator plus the EscposPrinter that talks to it; health and printing go over the wire."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self.simulator: Any = None        # a PrinterSimulator while open
        self._printer: Printer | None = None

    def _open(self) -> None:
        from .simulator import PrinterSimulator  # the simulator is only loaded when a sim is opened

        o = self.url.options
        sim = PrinterSimulator(o["out"], width=o["width"], paper=o["paper"], cover=o["cover"],
                               offline=o["offline"], slow_s=o["slow"], name=self.url.host or "printer")
        port = sim.start()
        printer = from_url(f"escpos+tcp://127.0.0.1:{port}?width={o['width']}&timeout={o['timeout']:g}")
        try:
            printer.open()
        except DeviceError as exc:     # an offline simulator may refuse us: it is open, the printer is not
            logger.info("simulated printer %s started offline: %s", self.url.raw, exc)
            printer.is_open = True     # reconnects on the next health check or print
        self.simulator, self._printer = sim, printer

    def _close(self) -> None:
        printer, sim, self._printer, self.simulator = self._printer, self.simulator, None, None
        if printer is not None:
            printer.close()
        if sim is not None:
            sim.stop()

    def health(self) -> DeviceHealth:
        if self._printer is None:
            return DeviceHealth(DeviceState.OFFLINE, "the simulated printer is not started")
        health = self._printer.health()
        self.last_status = self._printer.last_status
        return health

    def _print(self, document: Receipt | Notice) -> None:
        assert self._printer is not None
        try:
            self._printer.print_document(document)
        finally:
            self.last_status, self.last_error = self._printer.last_status, self._printer.last_error

    def _diagnostics(self) -> dict[str, Any]:
        link = getattr(self._printer, "url", None)
        faults = {k: self.url.options[k] for k in ("paper", "cover", "offline", "slow")}
        return {**super()._diagnostics(), "simulator_port": link.port if link else None,
                "out": str(getattr(self.simulator, "dir", self.url.options["out"])), "faults": faults}
