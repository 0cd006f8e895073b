"""Camera simulator: synthetic office video from a scripted timeline (`Scene`, `parse_timeline`, `SCRIPTS`)."""

from .scene import Scene, default_rois
from .timeline import SCRIPTS, SEAT_STATES, SeatSpan, Timeline, TimelineError, builtin, parse_timeline

__all__ = ["SCRIPTS", "SEAT_STATES", "Scene", "SeatSpan", "Timeline", "TimelineError", "builtin", "default_rois",
           "parse_timeline"]
