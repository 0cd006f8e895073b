"""Simulated ID-card hardware. `SamSimulator` (sim://idcard) is a GA 467 SAM reader on a pseudo-terminal,
with the scripted citizens of `CARDS` and the faults of `FAULTS`."""

from .cards import CARDS, synthetic_id
from .sam_sim import FAULTS, SamSimulator

__all__ = ["CARDS", "FAULTS", "SamSimulator", "synthetic_id"]
