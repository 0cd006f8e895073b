"""Rendering sim://camera videos under concurrency: one render per video across processes, a cached video
never waits behind another's render, temporary files cleaned; the prerender command; diagnose waiting for a
render and closing what late checks hold. Small frames and short scripts: each render takes a fraction of a second."""
from __future__ import annotations

import fcntl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import drivers.camera  # noqa: F401 — registers sim://
from drivers.camera.base import SourceError
from drivers.camera.simulator.avi import MjpgAviWriter
from drivers.health import DeviceState
from drivers.registry import registry
from hall_server.diagnose import FAIL, devices

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "0 noise 3\n0 seat1 empty\n2 seat1 work\n{end} end\n"


def sim_url(tmp_path: Path, seconds: int = 60, **extra) -> str:
    script = tmp_path / f"s{seconds}.txt"
    script.write_text(SCRIPT.format(end=seconds), encoding="utf-8")
    options = {"script": script, "width": 160, "height": 90, "rate": 4, "stale_s": 1, "cache": tmp_path / "cache",
               **extra}
    return "sim://camera?" + "&".join(f"{k}={v}" for k, v in options.items())


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".*"))


OPEN_AND_READ = """
import sys
import drivers.camera
from drivers.registry import registry
cam = registry("camera").create(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()                      # both processes open the camera at once
with cam:
    frame = cam.read(timeout=20)
    print(frame is not None, cam.simulator.cached, flush=True)
"""


def test_two_processes_opening_one_uncached_video_render_it_once(tmp_path):
    url = sim_url(tmp_path, seconds=300)           # 1200 frames: long enough for the two opens to meet
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_AND_READ, url], cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(2)]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = sorted(p.communicate(timeout=60)[0].split() for p in procs)
    finally:
        for p in procs:
            p.kill()
    assert results == [["True", "False"], ["True", "True"]]         # both read frames; one rendered, one waited
    cache = tmp_path / "cache"
    assert len(list(cache.glob("*.avi"))) == 1 and leftovers(cache) == []


def test_a_cached_video_opens_while_another_renders(tmp_path):
    with registry("camera").create(sim_url(tmp_path)) as cam:      # video A, rendered first
        assert cam.read(timeout=10) is not None
    long = registry("camera").create(sim_url(tmp_path, seconds=1800)).simulator      # video B: 7200 frames
    stop, failed = threading.Event(), []

    def render_b() -> None:
        try:
            long.render(stop)
        except SourceError as exc:
            failed.append(exc)
    renderer = threading.Thread(target=render_b)
    renderer.start()
    try:
        assert wait_for(lambda: long.busy().startswith("rendering"), 10)
        started = time.monotonic()
        with registry("camera").create(sim_url(tmp_path)) as cam:  # A again: not held up by B's render
            assert cam.read(timeout=5) is not None and cam.simulator.cached is True
            assert long.busy().startswith("rendering"), "B finished first: the test proves nothing"
        assert time.monotonic() - started < 3
    finally:
        stop.set()                                                 # B stopped mid-render ...
        renderer.join(10)
    assert failed and not long.video.exists()
    assert leftovers(tmp_path / "cache") == []                     # ... leaves no temporary file


def test_a_dead_renders_temporary_file_is_removed(tmp_path):
    sim = registry("camera").create(sim_url(tmp_path)).simulator
    sim.video.parent.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    stale = sim.video.with_name(f".{sim.video.stem}.{dead}.avi")
    stale.write_bytes(b"half a video")
    sim.render()
    assert sim.video.is_file() and not stale.exists() and sim.cached is False


def test_a_render_elsewhere_is_waited_for_and_said(tmp_path):
    """Another process holds the video's lock (rendering it): health says so, diagnose's settle waits past
    the first frame's usual wait, and the camera opens once the lock is let go."""
    url = sim_url(tmp_path)                       # stale_s=1: settle's usual wait is 1 + 1.5 s
    cam = registry("camera").create(url)
    lock_file = cam.simulator.video.with_name(cam.simulator.video.name + ".lock")
    lock_file.parent.mkdir(parents=True)
    with open(lock_file, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        release = threading.Timer(3.0, fcntl.flock, (held, fcntl.LOCK_UN))
        with cam:
            assert wait_for(lambda: "another process" in cam.health().detail, 5)
            assert cam.health().state == DeviceState.DEGRADED and cam.diagnostics()["rendering"]
            release.start()
            health = devices.settle(cam, "camera")
            assert health.state == DeviceState.OK, health.detail
            assert cam.simulator.cached is False and cam.diagnostics()["rendering"] is None
        release.cancel()


def test_diagnose_closes_devices_its_late_checks_hold(monkeypatch, tmp_path):
    closed = threading.Event()

    class Held:
        def close(self) -> None:
            closed.set()

    def hung(target, opts):
        opts.open_devices.add(Held())
        time.sleep(3)
    monkeypatch.setattr(devices, "check_device", hung)
    started = time.monotonic()
    [c] = devices.check_all([devices.Target("stuck", "camera", "cv://0")],
                            devices.Options(sim_dir=tmp_path, timeout=0.3))
    assert c.state == FAIL and closed.is_set() and time.monotonic() - started < 2


def test_the_avi_writer_gives_what_opencv_reads(tmp_path):
    import cv2
    import numpy as np
    with MjpgAviWriter(tmp_path / "v.avi", 2.5, (64, 48)) as w:
        for i in range(5):
            w.write(np.full((48, 64, 3), 40 * i, np.uint8))
    cap = cv2.VideoCapture(str(tmp_path / "v.avi"), cv2.CAP_FFMPEG)
    assert cap.get(cv2.CAP_PROP_FOURCC) == cv2.VideoWriter_fourcc(*"MJPG")
    assert (cap.get(cv2.CAP_PROP_FPS), cap.get(cv2.CAP_PROP_FRAME_COUNT)) == (2.5, 5)
    levels = [int(cap.read()[1].mean()) for _ in range(5)]
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)                      # a looping camera seeks back to the start
    assert levels == pytest.approx([0, 40, 80, 120, 160], abs=2) and int(cap.read()[1].mean()) == levels[0]


def test_prerender_renders_each_configured_video_once_then_is_quiet(tmp_path):
    url, other = sim_url(tmp_path), sim_url(tmp_path, seed=2)
    config = tmp_path / "hall.toml"
    config.write_text("".join(f'[[devices]]\nname = "d{i}"\nkind = "{kind}"\nurl = "{u}"\n\n' for i, (kind, u) in
                              enumerate([("camera", url), ("camera", url), ("camera", other),
                                         ("printer", "sim://printer")])), encoding="utf-8")
    command = [sys.executable, "-m", "drivers.camera.simulator.prerender", str(config)]
    first = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("rendering 2 simulated camera videos") and first.stdout.count(".avi:") == 2
    assert len(list((tmp_path / "cache").glob("*.avi"))) == 2
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
