"""Simulated evaluator key boxes: `KeyBoxSimulator` (sim://evaluator) is one key box on a pseudo-terminal."""

from .keybox_sim import FAULTS, KeyBoxSimulator

__all__ = ["FAULTS", "KeyBoxSimulator"]
