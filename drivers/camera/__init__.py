"""Seat cameras: OpenCV's VideoCapture for USB cameras, network streams and video files, and a simulator.

Importing this package registers its URL schemes in `registry("camera")`; the drivers load on first use:

    cv://0   cv://usb/0   cv://rtsp://user:pass@192.168.10.50/stream1   cv://http://host/mjpg
    cv:///var/video/seat3.avi?loop=true&realtime=true
    sim://camera?script=day&seats=2&rate=2&seed=1&width=640&height=360&speed=1&out=var/sim/camera

Options of cv://: rate, stale_s, width, height, timeout, loop, realtime, speed (see cv_camera.py); sim://camera
adds script, seats, seed, fault and out (see sim_camera.py). A `Camera` hands out `Frame`s (latest(), read())
from its grabber thread; see base.py.
"""
from __future__ import annotations

from ..registry import lazy, registry
from .base import Camera, CameraError, Frame, redact_url

__all__ = ["Camera", "CameraError", "Frame", "redact_url"]


_cameras = registry("camera")
for _scheme, _factory in (("cv", lazy(__name__, "cv_camera")), ("sim", lazy(__name__, "sim_camera", "sim_from_url"))):
    if _scheme not in _cameras.schemes:
        _cameras.register(_scheme, _factory)
