"""Simulated LED screens. `DisplayBusSimulator` (sim://display) is a wall of text boards or 7-segment Modbus
screens on a pseudo-terminal, with the faults of `FAULTS`, drawn as a PNG by `render_png`."""

from .bus_sim import FAULTS, PROTOCOLS, DisplayBusSimulator

__all__ = ["FAULTS", "PROTOCOLS", "DisplayBusSimulator"]
