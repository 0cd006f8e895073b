"""Seat cameras: a grabber thread per camera keeps the newest frame; health comes from the frame's age.

`open()` starts the camera's worker thread and returns at once; the worker connects to the source
(`_connect`, a driver's business), reads it at the source's own pace for live sources (a USB camera, an RTSP
or HTTP stream: grabbing continuously keeps OpenCV's buffer from filling with old frames; only the frames
handed out are converted to BGR) or one frame per
1/`rate` for a file played frame by frame, and keeps only the newest frame, handing one out at most `rate`
times a second. When the source fails it reconnects with back-off (1 s doubling to 30 s). `close()` stops
the worker. Frames carry `at`, seconds on the camera's clock (a file's position, a stream's wall clock),
while health always uses the wall-clock age of the newest frame:

    ok        the newest frame is younger than max(3 / rate, 2 s) and the rate achieved is near `rate`
    degraded  frames come late or far below `rate`, or the picture has not changed for `stale_s` (frozen)
    offline   no frame for longer than `stale_s`, with the reason and the reconnection interval
"""
from __future__ import annotations

import abc
import hashlib
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..base import Device, DeviceError
from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL

BACKOFF_START_S, BACKOFF_MAX_S = 1.0, 30.0
_PASSWORD = re.compile(r"(\w[\w+.-]*://[^/@:?#\s]*):[^@/?#\s]*@")


def redact_url(text: str) -> str:
    """`rtsp://user:pass@host/…` → `rtsp://user:***@host/…`, anywhere in `text` (nested URLs too)."""
    return _PASSWORD.sub(r"\1:***@", text)


class CameraError(DeviceError):
    """A camera could not do what was asked; the message says what to check."""


class SourceError(CameraError):
    """The source failed (cannot be opened, stopped sending); the message is the reason. The worker reconnects."""


class SourceEnded(SourceError):
    """A video file ended and does not loop: the worker stops reading (no reconnection)."""


@dataclass(frozen=True)
class Frame:
    image: np.ndarray   # BGR, uint8, height × width × 3
    at: float           # seconds on the camera's clock (a file's position; a stream's wall clock)
    seq: int            # 1, 2, … per frame handed out since open()


class Source(Protocol):
    """One connection to a camera, made by `Camera._connect`; used by the worker thread only."""
    live: bool          # True: grab continuously (the source paces itself); False: grab one frame per 1/rate

    def grab(self) -> float:
        """Wait for the next frame and return its `at`; raise SourceError (reconnect) or SourceEnded (stop)."""

    def retrieve(self) -> np.ndarray:
        """The frame grabbed last, as BGR (decoded only for the frames handed out)."""

    def close(self) -> None: ...


class Camera(Device):
    kind = "camera"

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self.rate: float = float(url.options.get("rate", 2.0))
        self.stale_s: float = float(url.options.get("stale_s", 5.0))
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._reset()

    def _reset(self) -> None:
        self._latest: Frame | None = None
        self._read_seq = 0
        self._received = 0.0             # monotonic time of the newest frame
        self._opened = time.monotonic()
        self._times: deque[float] = deque()
        self._digest, self._changed = b"", 0.0
        self._frames = self._reconnects = self._failures = 0
        self._last_error = ""
        self._retry_s: float | None = None   # the present reconnection interval, while failing
        self._ended = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact_url(self.url.raw)!r}, open={self.is_open})"

    # -- what a driver provides ----------------------------------------------------------------
    @abc.abstractmethod
    def _connect(self) -> Source:
        """Open the source (in the worker thread); raise SourceError saying why it could not."""

    def describe(self) -> str:
        """The source as a person names it in a message (passwords redacted)."""
        return redact_url(self.url.raw)

    # -- lifecycle -----------------------------------------------------------------------------
    def _open(self) -> None:
        with self._cond:
            self._reset()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,), daemon=True,
                                        name=f"camera {self.describe()}")
        self._thread.start()

    def _close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=15)

    # -- frames --------------------------------------------------------------------------------
    def latest(self) -> Frame | None:
        """The newest frame, or None before the first."""
        with self._cond:
            return self._latest

    def read(self, timeout: float) -> Frame | None:
        """The newest frame newer than the one this method last returned; None after `timeout` seconds."""
        if not self.is_open:
            raise CameraError(f"{self.describe()} is not open")
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._latest is None or self._latest.seq <= self._read_seq:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.is_open:
                    return None
                self._cond.wait(remaining)
            self._read_seq = self._latest.seq
            return self._latest

    @property
    def resolution(self) -> tuple[int, int] | None:
        """(width, height) of the newest frame."""
        frame = self.latest()
        return None if frame is None else (frame.image.shape[1], frame.image.shape[0])

    @property
    def fps(self) -> float:
        """Frames handed out per second over the last few seconds."""
        with self._cond:
            return self._fps()

    def _window(self) -> float:
        return max(5.0, 5.0 / self.rate)

    def _fps(self) -> float:
        if len(self._times) < 2 or self._times[-1] <= self._times[0]:
            return 0.0
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])

    # -- the worker ----------------------------------------------------------------------------
    def _run(self, stop: threading.Event) -> None:
        backoff, attempts = BACKOFF_START_S, 0
        while not stop.is_set():
            if attempts:
                with self._cond:
                    self._reconnects += 1
            attempts += 1
            frames_before = self._frames
            try:
                source = self._connect()
            except Exception as exc:
                self._failed(exc, backoff)
            else:
                try:
                    with self._cond:
                        self._last_error, self._retry_s = "", None
                    self._pump(source, stop)
                except SourceEnded as exc:
                    self._failed(exc, None)
                    with self._cond:
                        self._ended = True
                    return
                except Exception as exc:
                    self._failed(exc, backoff)
                finally:
                    source.close()
            if self._frames > frames_before:
                backoff = BACKOFF_START_S
                with self._cond:
                    self._retry_s = backoff
            if stop.wait(backoff):
                return
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _failed(self, exc: Exception, retry_s: float | None) -> None:
        with self._cond:
            self._failures += 1
            self._last_error = redact_url(str(exc) or type(exc).__name__)
            self._retry_s = retry_s

    def _pump(self, source: Source, stop: threading.Event) -> None:
        period = 1.0 / self.rate
        due = time.monotonic()
        while not stop.is_set():
            if not source.live and stop.wait(max(0.0, due - time.monotonic())):
                return
            at = source.grab()
            now = time.monotonic()
            if now + 0.01 >= due:
                self._publish(source.retrieve(), at, now)
                due = due + period if due + period > now else now + period

    def _publish(self, image: np.ndarray, at: float, now: float) -> None:
        digest = hashlib.blake2b(np.ascontiguousarray(image[::4, ::4]).tobytes(), digest_size=16).digest()
        with self._cond:
            if self._times and now - self._times[-1] > max(3.0 / self.rate, 2.0):
                self._times.clear()          # after a gap the rate is measured afresh
            self._times.append(now)
            while now - self._times[0] > self._window():
                self._times.popleft()
            if digest != self._digest:
                self._digest, self._changed = digest, now
            self._frames += 1
            self._latest = Frame(image, at, self._frames)
            self._received = now
            self._cond.notify_all()

    # -- state ---------------------------------------------------------------------------------
    def health(self) -> DeviceHealth:
        if not self.is_open:
            return DeviceHealth(DeviceState.OFFLINE, f"{self.describe()} is not open")
        now = time.monotonic()
        with self._cond:
            age = now - self._received if self._latest is not None else None
            silent = age if age is not None else now - self._opened
            if age is None or age > self.stale_s:
                if silent <= self.stale_s:
                    why = f": {self._reason()}" if self._last_error else ""
                    return DeviceHealth(DeviceState.DEGRADED,
                                        f"waiting for the first frame from {self.describe()}{why}")
                return DeviceHealth(DeviceState.OFFLINE, f"no frame for {silent:.0f} s: {self._reason()}")
            fresh = max(3.0 / self.rate, 2.0)
            if age > fresh:
                return DeviceHealth(DeviceState.DEGRADED, f"the newest frame is {age:.1f} s old "
                                    f"(one is expected every {1 / self.rate:g} s)")
            fps = self._fps()
            if self._times and self._times[-1] - self._times[0] >= self._window() - 1 and fps < 0.5 * self.rate:
                return DeviceHealth(DeviceState.DEGRADED, f"only {fps:.1f} frames/s of the {self.rate:g} configured: "
                                    "the camera or its network is too slow")
            if now - self._changed > self.stale_s:
                return DeviceHealth(DeviceState.DEGRADED, f"the picture has not changed for {now - self._changed:.1f}"
                                    " s: the camera may be frozen (frames still arrive)")
            w, h = self._latest.image.shape[1], self._latest.image.shape[0]
            return DeviceHealth(DeviceState.OK, f"{w}×{h}, {fps:.1f} frames/s, newest frame {age:.1f} s old")

    def _reason(self) -> str:
        if self._ended:
            return f"{self._last_error} (restart the camera to play it again)"
        reason = self._last_error or self._quiet_reason()
        if self._retry_s is not None:
            reason += f"; reconnecting every {self._retry_s:g} s"
        return reason

    def _quiet_reason(self) -> str:
        """Why no frame comes while the source is connected and reports no error."""
        return f"{self.describe()} is connected but sends nothing"

    def diagnostics(self) -> dict[str, Any]:
        data = super().diagnostics()
        data["url"] = redact_url(self.url.raw)
        return data

    def _diagnostics(self) -> dict[str, Any]:
        now = time.monotonic()
        res = self.resolution
        with self._cond:
            return {"resolution": list(res) if res else None, "rate": self.rate, "fps": round(self._fps(), 2),
                    "frames": self._frames, "frame_age_s": round(now - self._received, 2) if self._latest else None,
                    "unchanged_s": round(now - self._changed, 1) if self._latest else None,
                    "reconnects": self._reconnects, "failures": self._failures, "retry_s": self._retry_s,
                    "ended": self._ended, "last_error": self._last_error or None, "stale_s": self.stale_s}
