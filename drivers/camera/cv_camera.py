"""`cv://`: a camera read through OpenCV's `cv2.VideoCapture` — a USB camera, a network stream or a video file.

    cv://0                      USB camera index 0 (also cv://usb/0); width=, height= are requested from it
    cv://rtsp://host/stream1    an RTSP stream (user:password@host allowed; the password is never shown)
    cv://http://host/mjpg       an HTTP (MJPEG) stream; also rtsps://, https://
    cv:///var/video/seat3.avi   a video file, by its absolute path (three slashes, as in file:///)

Options: rate=2 (frames handed out per second), stale_s=5 (no frame for that long: offline), width=/height=
(USB cameras), timeout=10 (network streams: seconds to open and per read), loop=false (files: start again at
the end), realtime=false (files: play at the file's own fps × speed=1, handing out the newest frame `rate` times a
second, like a camera; without it every frame of the file is handed out in order, one per 1/rate seconds).
A stream's own query goes percent-encoded, so that the options after '?' are cv://'s alone:
`cv://rtsp://host/cam/realmonitor%3Fchannel=1%26subtype=0?rate=2`.

OpenCV traps handled here: `read()` on a stream blocks, so the grabber thread grabs continuously and keeps the
newest frame, converting it to BGR (`retrieve()`) only when one is handed out; the buffer is set to 1 frame
where the backend allows; network streams open with CAP_PROP_OPEN_TIMEOUT_MSEC / CAP_PROP_READ_TIMEOUT_MSEC,
so that a dead camera cannot hang the thread.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import cv2
import numpy as np

from ..url import DeviceURL, DeviceURLError, boolean, parse_url, positive
from .base import Camera, SourceEnded, SourceError, redact_url

# Each camera already works in threads of its own (a grabber; the hall's seat worker). OpenCV's thread pool on top
# of those would fan every resize, blur and decode out across the cores and spin there, taking them from the
# hall server's event loop: one OpenCV thread per caller (bench/cameras.py measures the same way).
cv2.setNumThreads(1)

NETWORK = ("rtsp://", "rtsps://", "http://", "https://")
FILE_ONLY, USB_ONLY = ("loop", "realtime", "speed"), ("width", "height")
OPTIONS = {"rate": positive(float), "stale_s": positive(float), "width": positive(int), "height": positive(int),
           "timeout": positive(float), "loop": boolean, "realtime": boolean, "speed": positive(float)}
DEFAULTS = {"rate": 2.0, "stale_s": 5.0, "timeout": 10.0, "loop": False, "realtime": False, "speed": 1.0}
FORMS = "cv://0 or cv://usb/0 (USB camera), cv://rtsp://host/stream1, cv://http://host/mjpg, cv:///path/video.avi"


@dataclass(frozen=True)
class Target:
    kind: str               # "usb", "stream" or "file"
    where: str | int        # the index, the stream URL or the file path

    def __str__(self) -> str:
        return {"usb": "USB camera {}", "stream": "{}", "file": "{}"}[self.kind].format(redact_url(str(self.where)))


def parse_target(raw: str) -> Target:
    """What a cv:// URL points at; the error names the part that is wrong and shows the accepted forms."""
    rest = raw.split("://", 1)[1].split("?", 1)[0] if "://" in raw else ""
    if re.fullmatch(r"(usb/)?\d{1,3}", rest):
        return Target("usb", int(rest.rsplit("/", 1)[-1]))
    if rest.startswith("usb/") or re.fullmatch(r"-?\d+", rest):
        raise DeviceURLError(f"{redact_url(raw)}: bad USB camera index {rest.rsplit('/', 1)[-1]!r}: write a number "
                             "0..999, e.g. cv://0 or cv://usb/0")
    if rest.lower().startswith(NETWORK):
        if len(rest.split("://", 1)[1].strip("/")) == 0:
            raise DeviceURLError(f"{redact_url(raw)}: the stream URL names no host")
        return Target("stream", unquote(rest))
    if rest.startswith("/") and len(rest) > 1:
        return Target("file", unquote(rest))
    raise DeviceURLError(f"{redact_url(raw)}: {rest!r} is not a camera OpenCV can open; write {FORMS}")


def from_url(raw: str) -> CvCamera:
    """The registry factory for cv:// (nothing is opened until open())."""
    try:
        url = parse_url(raw, OPTIONS, DEFAULTS)
    except DeviceURLError as exc:
        hint = (" (a stream's own query goes percent-encoded: %3F for '?', %26 for '&')"
                if "unknown option" in str(exc) and raw.lower().startswith(tuple("cv://" + n for n in NETWORK)) else "")
        raise DeviceURLError(redact_url(str(exc)) + hint) from None
    target = parse_target(raw)
    given = {name for name, _ in parse_qsl(urlsplit(raw).query, keep_blank_values=True)}
    for names, kind, what in ((FILE_ONLY, "file", "video files"), (USB_ONLY, "usb", "USB cameras")):
        wrong = sorted(n for n in names if n in given and target.kind != kind)
        if wrong:
            raise DeviceURLError(f"{redact_url(raw)}: option {wrong[0]!r} is for {what} only, "
                                 f"not for a {target.kind} camera")
    return CvCamera(url, target)


class CvCamera(Camera):
    """A camera read through cv2.VideoCapture in the grabber thread."""

    def __init__(self, url: DeviceURL, target: Target):
        super().__init__(url)
        self.target = target
        o = url.options
        self.loop, self.realtime, self.speed = o.get("loop", False), o.get("realtime", False), o.get("speed", 1.0)

    def describe(self) -> str:
        return str(self.target)

    def _connect(self) -> CaptureSource:
        o, t = self.url.options, self.target
        if t.kind == "file":
            path = Path(str(t.where))
            if not path.is_file():
                raise SourceError(f"the video file {path} does not exist")
            cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
            if not cap.isOpened():
                cap.release()
                raise SourceError(f"the video file {path} cannot be decoded (is it a video OpenCV reads?)")
            return FileSource(cap, str(path), self.loop, self.realtime, self.speed, self._stop)
        if t.kind == "stream":
            ms = int(o.get("timeout", 10.0) * 1000)
            cap = cv2.VideoCapture(str(t.where), cv2.CAP_FFMPEG,
                                   [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])
            if not cap.isOpened():
                cap.release()
                raise SourceError(f"{t} does not answer (waited {ms / 1000:g} s)")
        else:
            cap = cv2.VideoCapture(int(t.where))
            if not cap.isOpened():
                cap.release()
                raise SourceError(f"{t} is not there (unplugged, or in use by another program?)")
            if "width" in o:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, o["width"])
            if "height" in o:
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, o["height"])
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)        # ignored where the backend has no such buffer
        return CaptureSource(cap, str(t))


class CaptureSource:
    """A live camera or stream: `grab()` blocks until its next frame; `at` is the wall clock."""
    live = True

    def __init__(self, cap: cv2.VideoCapture, name: str):
        self.cap, self.name = cap, name

    def grab(self) -> float:
        if not self.cap.grab():
            raise SourceError(f"{self.name} stopped sending frames")
        return time.time()

    def retrieve(self) -> np.ndarray:
        ok, image = self.cap.retrieve()
        if not ok or image is None:
            raise SourceError(f"{self.name} sent a frame that cannot be decoded")
        return _bgr(image)

    def close(self) -> None:
        self.cap.release()


class FileSource(CaptureSource):
    """A video file: frame by frame (one per 1/rate) or, with realtime, paced at the file's fps × speed.

    `at` is the frame's position in the file in seconds (frame index / the file's fps), restarting when it loops.
    """

    def __init__(self, cap: cv2.VideoCapture, name: str, loop: bool, realtime: bool, speed: float,
                 stop: threading.Event):
        super().__init__(cap, name)
        self.loop, self.live, self.speed, self.stop = loop, realtime, speed, stop
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.file_fps = fps if fps and 0 < fps < 1000 else 25.0
        self.index = 0                      # the index of the next frame
        self.start = time.monotonic()       # when frame 0 was (or would have been) due

    def grab(self) -> float:
        if self.live:
            due = self.start + self.index / (self.file_fps * self.speed)
            if self.stop.wait(max(0.0, due - time.monotonic())):
                raise SourceError("the camera is closing")
        if not self.cap.grab():
            if not self.loop or self.index == 0:
                raise SourceEnded(f"the file has ended: {self.name} ({self.index} frames)" if self.index else
                                  f"the video file {self.name} has no frames")
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self.index, self.start = 0, time.monotonic()
            if not self.cap.grab():
                raise SourceError(f"{self.name} cannot be read again from its start")
        at = self.index / self.file_fps
        self.index += 1
        return at


def _bgr(image: np.ndarray) -> np.ndarray:
    """OpenCV may hand grey or BGRA frames from some cameras: always BGR uint8."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image
