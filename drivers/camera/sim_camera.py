"""`sim://camera`: a simulated seat camera, simulated at the wire — a rendered video read through OpenCV.

    sim://camera?script=day&seats=2&rate=2&seed=1&width=640&height=360&speed=1&stale_s=5&fault=none&cache=DIR

Opening renders the scripted office scene (simulator.Scene over a simulator.timeline script: a built-in name
such as day, still, leave, dropout, lights, or the path of a script file) into an MJPG .avi under `cache=` —
one frame per 1/rate seconds of the script — unless that video is already there: videos are cached by script,
seed, size, rate, seats and the renderer's own source, so a second open (another camera of the hall, another
hall, the next test) starts at once. The default cache is $XDG_CACHE_HOME/onewindow/camera (~/.cache/…): the
videos are derived data, the same wherever they are rendered; `make setup` renders the ones the configs name
(`python -m drivers.camera.simulator.prerender config/*.toml`). `out=` (which the hall server adds to every
simulator) is accepted and unused. (The day script at 640×360 takes some 5 s of one core to render.)
A video is rendered once however many cameras, threads and processes open it at the same time: each video has
its own lock (a lock in the process and an flock on `<video>.lock` across processes), so a cached video opens at
once and two uncached ones render side by side; while a camera waits for its video, health says so ("waiting
for the first frame …: rendering the simulated video, 40 %"). The video is then read back by the real cv:// code
(CvCamera on the file, looping, paced in real time × `speed`), so OpenCV's decoding runs in tests and in demos.

Frames carry `at` = the script's time in seconds (it restarts when the video loops), so `simulator.truth(at)`
says whether each clerk was seated at that frame; health uses the wall-clock age of frames as for any camera.
The script's own `camera dropout` spans deliver no frames. Runtime faults (`simulate(fault=...)`, or `fault=`
in the URL): `dropout` — no frames until `restore`: offline after stale_s; `freeze` — the same picture repeats
while `at` goes on, so frames stay fresh: health notices only that the picture has not changed for stale_s
(degraded, "may be frozen"), the presence model sees a still scene; `restore` — back to normal.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import inspect
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, DeviceURLError, choice, parse_url, positive
from .base import CameraError, Source, SourceError
from .cv_camera import CvCamera, Target

logger = logging.getLogger(__name__)

def default_cache() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "onewindow" / "camera")


_VIDEO_LOCKS: dict[Path, threading.Lock] = {}     # per video: one thread of this process renders it, the rest wait
_VIDEO_LOCKS_GUARD = threading.Lock()
POLL_S = 0.1            # how often a camera waiting for its video looks whether it is closing
FAULTS = ("none", "dropout", "freeze", "restore")
OPTIONS = {"script": str, "seats": positive(int), "rate": positive(float), "seed": int, "width": positive(int),
           "height": positive(int), "speed": positive(float), "stale_s": positive(float), "out": str, "cache": str,
           "fault": choice("none", "dropout", "freeze")}
DEFAULTS = {"script": "day", "rate": 2.0, "seed": 1, "width": 640, "height": 360, "speed": 1.0, "stale_s": 5.0,
            "out": "", "cache": "", "fault": "none"}


def sim_from_url(raw: str) -> SimCamera:
    """The registry factory for sim://camera (the script is checked; nothing is rendered until open())."""
    url = parse_url(raw, OPTIONS, DEFAULTS)
    if url.host != "camera" or url.path not in ("", "/"):
        raise DeviceURLError(f"{raw}: the camera simulator is sim://camera (options after '?'), "
                             f"not sim://{url.host}{url.path}")
    from .simulator import SCRIPTS, TimelineError, parse_timeline
    script = url.options["script"]
    try:
        if script in SCRIPTS:
            text = SCRIPTS[script]
        elif "/" in script or script.endswith(".txt"):
            text = Path(script).read_text(encoding="utf-8")
        else:
            raise DeviceURLError(f"{raw}: unknown script {script!r} for option 'script' (built-in: "
                                 f"{', '.join(SCRIPTS)}; or the path of a script file)")
        timeline = parse_timeline(text, name=Path(script).stem)
    except (OSError, TimelineError) as exc:
        raise DeviceURLError(f"{raw}: bad value {script!r} for option 'script': {exc}") from None
    seats = url.options.get("seats", timeline.seat_count)
    if seats < timeline.seat_count:
        raise DeviceURLError(f"{raw}: option 'seats' is {seats}, but script {script!r} has "
                             f"{timeline.seat_count} seats")
    return SimCamera(url, CameraSimulator(script, text, timeline, seats, url.options))


class CameraSimulator:
    """The scene, its script and the rendered video; `truth(t)` per seat; the runtime fault."""

    def __init__(self, script: str, text: str, timeline, seats: int, options: dict[str, Any]):
        self.script, self.text, self.timeline, self.seats = script, text, timeline, seats
        self.rate, self.seed = options["rate"], options["seed"]
        self.size = (options["width"], options["height"])
        self.fault = options["fault"]
        self.cached: bool | None = None      # after render(): whether the video was already there
        from .simulator import avi, scene
        from .simulator import timeline as timeline_module
        digest = hashlib.sha1(repr((text, seats, self.seed, self.size, self.rate)).encode())
        for module in (scene, timeline_module, avi):
            digest.update(inspect.getsource(module).encode())
        name = Path(script).stem if "/" in script or script.endswith(".txt") else script
        folder = Path(options["cache"] or default_cache())
        self.video = (folder / f"{name}-{self.size[0]}x{self.size[1]}-{self.rate:g}fps-seed{self.seed}-{seats}seats-"
                      f"{digest.hexdigest()[:10]}.avi").absolute()
        self._empty = None
        self._lock = threading.Lock()            # guards the render's progress, read by health()
        self._busy, self._since, self._progress = "", 0.0, (0, 1)

    def _scene_now(self):
        """A Scene for the moment (it holds ~40 MB of precomputed layers): built to render or to draw the empty
        seat, then let go, so a hall of simulated cameras keeps only their videos' decoders in memory."""
        from .simulator import Scene, default_rois
        return Scene(*self.size, seats=default_rois(self.seats), seed=self.seed, timeline=self.timeline)

    @property
    def rois(self) -> list:
        """The seats' regions (presence.Roi, fractions of the frame), seat 1 first."""
        from .simulator import default_rois
        return default_rois(self.seats)

    @property
    def duration(self) -> float:
        return self.timeline.duration

    def truth(self, t: float) -> list[bool | None]:
        """Per seat: whether the clerk is seated at script time t (None during the script's dropouts)."""
        truth = list(self.timeline.truth(t))
        return truth + [None if None in truth else False] * (self.seats - len(truth))

    def empty_frame(self):
        """The scene with nobody in it (what a technician's empty-seat snapshot would be): drawn once, kept as a
        PNG beside the video, so a camera of the hall reads 0.7 MB rather than building a scene of its own."""
        if self._empty is None:
            png = self.video.with_suffix(".empty.png")
            image = cv2.imread(str(png)) if png.is_file() else None
            self._empty = image if image is not None else self._write_empty(self._scene_now())
        return self._empty

    def _write_empty(self, scene):
        image = scene.empty_frame()
        png = self.video.with_suffix(".empty.png")
        png.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._temp(f"{threading.get_ident()}.png")
        try:
            cv2.imwrite(str(tmp), image)
            os.replace(tmp, png)
        finally:
            tmp.unlink(missing_ok=True)
        return image

    def _temp(self, tail: str) -> Path:
        """A temporary file of this process beside the video: `.<video stem>.<pid>.<tail>`."""
        return self.video.with_name(f".{self.video.stem}.{os.getpid()}.{tail}")

    # -- rendering -----------------------------------------------------------------------------------
    def busy(self) -> str:
        """What keeps the video from being read ("" once it is there): rendering it, or waiting for a render."""
        with self._lock:
            if self._busy == "rendering":
                done, total = self._progress
                return (f"rendering the simulated video, {100 * done // total} % "
                        f"({time.monotonic() - self._since:.0f} s so far)")
            if self._busy:
                return f"{self._busy} ({time.monotonic() - self._since:.0f} s so far)"
            return ""

    def _set_busy(self, what: str) -> None:
        with self._lock:
            if not self._busy:
                self._since = time.monotonic()
            self._busy = what

    def render(self, stop: threading.Event | None = None) -> Path:
        """The video of the whole script, rendered unless cached; written to a temporary name, then renamed.

        Only the video's own locks are taken, and only when it is not there yet. `stop` set (the camera
        closing) ends the wait or the render with SourceError, leaving no temporary file behind.
        """
        stop = stop or threading.Event()
        if self.video.is_file():
            self.cached = True
            return self.video
        try:
            with self._locked(stop):
                if self.video.is_file():               # rendered by another camera or process meanwhile
                    self.cached = True
                    return self.video
                self._remove_stale()
                return self._render(stop)
        finally:
            with self._lock:
                self._busy = ""

    @contextlib.contextmanager
    def _locked(self, stop: threading.Event):
        with _VIDEO_LOCKS_GUARD:
            lock = _VIDEO_LOCKS.setdefault(self.video, threading.Lock())
        if not lock.acquire(blocking=False):
            self._set_busy("waiting for the simulated video another camera is rendering")
            while not lock.acquire(timeout=POLL_S):
                if stop.is_set():
                    raise SourceError("the camera closed while waiting for its simulated video")
        try:
            self.video.parent.mkdir(parents=True, exist_ok=True)
            with open(self.video.with_name(self.video.name + ".lock"), "a") as held:
                while True:
                    try:
                        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        self._set_busy("waiting for the simulated video another process is rendering")
                        if stop.wait(POLL_S):
                            raise SourceError("the camera closed while waiting for its simulated video") from None
                try:
                    yield
                finally:
                    fcntl.flock(held, fcntl.LOCK_UN)
        finally:
            lock.release()

    def _remove_stale(self) -> None:
        """Temporary files of this video left by a process that died while rendering (or by this one)."""
        prefix = f".{self.video.stem}."
        for tmp in self.video.parent.glob(prefix + "*"):
            pid = tmp.name[len(prefix):].split(".", 1)[0]
            if pid.isdigit() and (int(pid) == os.getpid() or not _alive(int(pid))):
                tmp.unlink(missing_ok=True)
                logger.info("removed %s, left by a render that did not finish", tmp)

    def _render(self, stop: threading.Event) -> Path:
        total = max(1, int(self.duration * self.rate))
        with self._lock:
            self._progress = (0, total)
        self._set_busy("rendering")
        tmp = self._temp("avi")
        try:
            from .simulator.avi import MjpgAviWriter
            scene = self._scene_now()
            try:
                writer = MjpgAviWriter(tmp, self.rate, self.size)
            except OSError as exc:
                raise CameraError(f"cannot write the simulated video {tmp}: {exc.strerror}; check that "
                                  f"{self.video.parent} is writable (or give the URL another cache=)") from None
            with writer:
                for i in range(total):
                    if stop.is_set():
                        raise SourceError("the camera closed while its simulated video was being rendered")
                    writer.write(scene.frame(i / self.rate))
                    with self._lock:
                        self._progress = (i + 1, total)
            if not self.video.with_suffix(".empty.png").is_file():
                self._empty = self._write_empty(scene)
            os.replace(tmp, self.video)
        finally:
            tmp.unlink(missing_ok=True)
        self.cached = False
        logger.info("rendered the simulated camera video %s", self.video)
        return self.video

    def faults(self) -> dict[str, str]:
        """The runtime fault now in force (what the hall's devices API reports after a simulate)."""
        return {"fault": self.fault}

    def set_fault(self, fault: str) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown camera fault {fault!r}; faults: {', '.join(FAULTS)}")
        self.fault = "none" if fault == "restore" else fault


class SimSource:
    """The cv:// file source with the simulator's faults and the script's dropouts applied."""

    def __init__(self, inner: Source, simulator: CameraSimulator):
        self.inner, self.simulator, self.live = inner, simulator, inner.live
        self._frozen: np.ndarray | None = None

    def grab(self) -> float:
        while True:
            at = self.inner.grab()                      # paced in real time: the script goes on meanwhile
            if self.simulator.fault != "dropout" and not self.simulator.timeline.dropped(at):
                return at

    def retrieve(self) -> np.ndarray:
        if self.simulator.fault != "freeze":
            self._frozen = None
            return self.inner.retrieve()
        if self._frozen is None:
            self._frozen = self.inner.retrieve()
        return self._frozen

    def close(self) -> None:
        self.inner.close()


class SimCamera(CvCamera):
    """CvCamera on the simulator's rendered video (looping, real time × speed), with the faults injected."""

    def __init__(self, url: DeviceURL, simulator: CameraSimulator):
        super().__init__(url, Target("file", str(simulator.video)))
        self.simulator = simulator
        self.loop, self.realtime, self.speed = True, True, url.options["speed"]

    def describe(self) -> str:
        return f"the simulated camera (script {self.simulator.script})"

    def _connect(self) -> Source:
        # in the camera's own worker: a first render takes seconds and must not hold up whoever opened it
        waited = not self.simulator.video.is_file()
        self.simulator.render(self._stop)
        if waited:
            with self._cond:
                self._opened = time.monotonic()     # "no frame for N s" counts from when the video was there
        return SimSource(super()._connect(), self.simulator)

    def health(self) -> DeviceHealth:
        busy = self.simulator.busy()
        if busy and self.is_open and self.latest() is None:
            return DeviceHealth(DeviceState.DEGRADED, f"waiting for the first frame from {self.describe()}: {busy}")
        return super().health()

    def _quiet_reason(self) -> str:
        if self.simulator.fault == "dropout":
            return "the simulated camera drops out (fault dropout; simulate(fault='restore') ends it)"
        return f"{self.describe()} sends nothing (a camera dropout in the script?)"

    def reference_frame(self):
        """The scene with every seat empty: what a technician's empty-seat snapshot would be (BGR)."""
        return self.simulator.empty_frame()

    def simulate(self, fault: str | None = None) -> None:
        """A runtime fault: dropout (no frames), freeze (the picture stops changing) or restore."""
        if fault is not None:
            self.simulator.set_fault(fault)

    def _diagnostics(self) -> dict[str, Any]:
        s = self.simulator
        return {**super()._diagnostics(), "script": s.script, "seats": s.seats, "speed": self.speed,
                "video": str(s.video), "cached": s.cached, "rendering": s.busy() or None, "fault": s.fault}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
