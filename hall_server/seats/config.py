"""Seat monitoring (座席监控) in a hall's config: which camera sees which window's seat, and the rules.

    [seat_monitoring]
    away_alert_min = 5          # an open window's clerk away this long: a 离岗 alert
    evidence_days = 7           # evidence snapshots are deleted after this many days

    [[seats]]
    window = 3
    camera = "seat-cam-2"       # a device of kind "camera"
    roi = [0.52, 0.18, 0.4, 0.78]   # the seat region: x, y, width, height as fractions of the frame
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeatMonitoring(_Strict):
    away_alert_min: float = Field(default=5, gt=0, le=240, description="an open window's clerk away this many "
                                  "minutes raises a 离岗 alert (a paused window is exempt)")
    evidence_days: int = Field(default=7, ge=1, le=365, description="evidence snapshots are deleted after this long")
    debounce_s: float = Field(default=2.5, ge=0.5, le=30, description="a seat's state must hold this long to count")
    use_faces: bool = Field(default=False, description="also look for a face in the seat region (OpenCV Haar)")


class Seat(_Strict):
    window: int = Field(ge=1)
    camera: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="the name of a device of kind camera")
    roi: tuple[float, float, float, float] = Field(description="x, y, width, height as fractions of the frame "
                                                   "(scripts/camera-check draws it on a snapshot)")
    reference: str = Field(default="", description="an empty-seat snapshot (PNG/JPEG) to start from; empty: "
                           "learnt while nobody is logged in at the window")

    @field_validator("roi")
    @classmethod
    def _inside(cls, v: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        x, y, w, h = v
        if not (0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 and 0 < h <= 1):
            raise ValueError(f"roi {list(v)}: x and y are fractions from 0 to 1, width and height above 0")
        if x + w > 1.0001 or y + h > 1.0001:
            raise ValueError(f"roi {list(v)} reaches outside the frame: x + width and y + height are at most 1")
        return v


def check_seats(seats: tuple[Seat, ...], windows: set[int], cameras: set[str]) -> None:
    """Cross-references: each seat's window exists and has one seat; its camera is a configured camera."""
    seen: set[int] = set()
    for s in seats:
        if s.window not in windows:
            raise ValueError(f"seats: window {s.window} is not a window of this hall")
        if s.window in seen:
            raise ValueError(f"seats: window {s.window} has two seats; give each window one seat region")
        seen.add(s.window)
        if s.camera not in cameras:
            known = ", ".join(sorted(cameras)) or "none configured"
            raise ValueError(f"seats: window {s.window} names camera {s.camera!r}, which is not a device of kind "
                             f"camera ({known})")
