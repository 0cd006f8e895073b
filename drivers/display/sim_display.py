"""`sim://display`: a simulated wall of LED screens on a pseudo-terminal, driven by the real bus driver.

    sim://display?protocol=led&encoding=gb2312&addresses=1-22,99&fault=none&out=var/sim/display
    sim://display?protocol=modbus7&digits=4&addresses=1-8

Opening starts a DisplayBusSimulator and opens a LedBus (protocol=led) or Modbus7Bus (protocol=modbus7) on its
pty through pyserial, so every byte goes through the driver as it would on a real line. `addresses=` lists the
screens that exist (`all`: any address); `fault=` one of simulator.FAULTS. The wall is drawn into `out=`/wall.png
(at most every `wall_s=` seconds, 5 by default, by a drawing thread of the simulator: a
drawing costs a quarter of a second of CPU). The drivers' own options pass through: gap_ms, width,
timeout, retries. `wire=PATH` opens the bus through spy:// on the pty, dumping the wire to PATH.
`.simulator` stays reachable: `display.simulator.set_fault("dead")`.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..base import DeviceError
from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, DeviceURLError, choice, parse_url, positive
from ..wire import wired_port
from .base import Display, DisplayError
from .frames import ENCODINGS
from .led_serial import gap_ms, width_option, widths_option
from .modbus7 import digits_option, retries_option
from .simulator import FAULTS, PROTOCOLS, DisplayBusSimulator

logger = logging.getLogger(__name__)

DEFAULT_OUT = "var/sim/display"


def addresses_option(text: str) -> frozenset[int] | None:
    """`1-22,99` → {1, …, 22, 99}; `all` → None (every address has a screen)."""
    if text == "all":
        return None
    addresses: set[int] = set()
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if not 0 <= first <= last <= 255:
            raise ValueError(f"{part!r}: write addresses 0..255 as 1-22,99")
        addresses.update(range(first, last + 1))
    if not addresses:
        raise ValueError("name at least one address, e.g. 1-22,99, or write all")
    return frozenset(addresses)


OPTIONS = {"protocol": choice(*PROTOCOLS), "encoding": choice(*ENCODINGS), "addresses": addresses_option,
           "digits": digits_option, "fault": choice(*FAULTS), "out": str, "gap_ms": gap_ms, "width": width_option,
           "wall_s": positive(float), "wire": str,
           "widths": lambda text: (widths_option(text), text)[1],     # checked here, passed on as written
           "timeout": positive(float), "retries": retries_option}
DEFAULTS = {"protocol": "led", "encoding": "gb2312", "addresses": None, "digits": 4, "fault": "none",
            "out": DEFAULT_OUT, "gap_ms": 300, "width": 16, "retries": 1, "wall_s": 5.0}


def sim_from_url(raw: str) -> SimDisplay:
    """The registry factory for sim://display (nothing is started until open())."""
    url = parse_url(raw, OPTIONS, DEFAULTS)
    if url.host != "display" or url.path not in ("", "/"):
        raise DeviceURLError(f"{raw}: the LED screen simulator is sim://display (options after '?'), "
                             f"not sim://{url.host}{url.path}")
    return SimDisplay(url)


class SimDisplay(Display):
    """A DisplayBusSimulator plus the LedBus or Modbus7Bus that talks to it; `show` and health go over the pty."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self.simulator: DisplayBusSimulator | None = None
        self._bus: Display | None = None

    def __repr__(self) -> str:
        return f"SimDisplay({self.url.raw!r}, open={self.is_open})"

    @property
    def wall(self) -> Path:
        """The PNG of the wall, redrawn after changes."""
        return Path(self.url.options["out"]) / "wall.png"

    def _open(self) -> None:
        o = self.url.options
        sim = DisplayBusSimulator(o["protocol"], o["encoding"], o["addresses"], o["digits"])
        sim.set_fault(o["fault"])
        port = sim.start()
        timeout = f"&timeout={o['timeout']:g}" if "timeout" in o else ""
        widths = f"&widths={o['widths']}" if o.get("widths") else ""
        line = wired_port(port, o.get("wire"))
        try:
            if o["protocol"] == "led":
                from .led_serial import from_url
                bus: Display = from_url(f"led+serial://{line}encoding={o['encoding']}&gap_ms={o['gap_ms']}"
                                        f"&width={o['width']}{widths}{timeout}")
            else:
                from .modbus7 import from_url as modbus_from_url
                bus = modbus_from_url(f"modbus7+serial://{line}digits={o['digits']}&retries={o['retries']}"
                                      f"{timeout}")
            bus.open()
        except Exception:
            sim.stop()
            raise
        sim.render_to(self.wall, self.url.options["wall_s"])
        self.simulator, self._bus = sim, bus
        logger.info("simulated LED screens %s on %s, the wall drawn into %s", o["protocol"], port, self.wall)

    def _close(self) -> None:
        bus, sim, self._bus, self.simulator = self._bus, self.simulator, None, None
        if bus is not None:
            bus.close()
        if sim is not None:
            sim.stop()

    def _ready(self) -> Display:
        if self._bus is None:
            raise DisplayError("the simulated LED screens are not started: open them first")
        return self._bus

    def show(self, address: int, text: str) -> None:
        self._ready().show(address, text)

    def shown(self) -> dict[int, str]:
        return self._ready().shown()        # type: ignore[attr-defined]

    def health(self) -> DeviceHealth:
        if self._bus is None:
            return DeviceHealth(DeviceState.OFFLINE, "the simulated LED screens are not started")
        return self._bus.health()

    def simulate(self, fault: str | None = None) -> None:
        """What a technician or test changes at runtime: a fault of simulator.FAULTS."""
        if self.simulator is None:
            raise DeviceError("the simulated LED screens are not started")
        if fault is not None:
            self.simulator.set_fault(fault)

    def faults(self) -> dict[str, Any]:
        """The present fault and what each screen shows."""
        if self.simulator is None:
            return {"fault": self.url.options["fault"], "screens": {}, "bad_frames": 0}
        return self.simulator.faults()

    def _diagnostics(self) -> dict[str, Any]:
        inner = self._bus._diagnostics() if self._bus is not None else {}
        return {**inner, "wall": str(self.wall), "simulator": self.faults()}
