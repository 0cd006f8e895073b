"""What the seat tests share: a hall config with one simulated seat camera over window 3."""
from __future__ import annotations

import re
from pathlib import Path

from serverproc import DISTRICT, without_devices

from hall_server.config import without_opening_hours


def one_camera_config(folder: Path, script: str, *, base: str | None = None, camera: str = "",
                      seat_monitoring: str = "", name: str = "one-camera.toml") -> Path:
    """`base` (TOML text; default: the district hall, always open, without its devices) with one simulated seat
    camera, "seat-cam", over window 3 playing `script` (a scene timeline, written to folder/seat.txt), written to
    folder/`name`. `camera`: more of the camera URL's options ("&width=320&height=180"); `seat_monitoring`: a
    `[seat_monitoring]` body that replaces the base's."""
    from drivers.camera.simulator import default_rois  # imports OpenCV: only when a test builds a config

    if base is None:
        base = without_opening_hours(without_devices(DISTRICT.read_text(encoding="utf-8")))
    if seat_monitoring:
        base = re.sub(r"(?ms)^\[seat_monitoring\]\n.*?(?=^\[|\Z)", "", base) + f"""
[seat_monitoring]
{seat_monitoring.strip()}
"""
    (folder / "seat.txt").write_text(script, encoding="utf-8")
    roi = default_rois(1)[0]
    url = f"sim://camera?script={folder / 'seat.txt'}&seats=1&rate=4&stale_s=2{camera}&cache={folder / 'videos'}"
    text = base + f"""
[[devices]]
name = "seat-cam"
kind = "camera"
url = "{url}"
poll_s = 1

[[seats]]
window = 3
camera = "seat-cam"
roi = [{roi.x}, {roi.y}, {roi.w}, {roi.h}]
"""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
