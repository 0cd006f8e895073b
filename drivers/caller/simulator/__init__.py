"""Simulated caller keypads: `KeypadSimulator` (sim://caller) is a line of keypads on a pseudo-terminal."""

from .keypad_sim import FAULTS, KeypadSimulator

__all__ = ["FAULTS", "KeypadSimulator"]
