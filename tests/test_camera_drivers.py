"""Camera drivers: cv:// on MJPG files written here (frames of known grey levels), the grabber thread's
rate, read-once semantics, end of file, reconnection with back-off, redaction; sim://camera end to end."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

import drivers.camera  # noqa: F401 — registers cv:// and sim://
from drivers.camera.base import Camera, Frame, SourceError
from drivers.camera.cv_camera import parse_target
from drivers.health import DeviceState
from drivers.registry import registry
from drivers.url import DeviceURL, DeviceURLError, parse_url

SIZE = (160, 120)


def write_video(path: Path, frames: int, fps: float = 10.0) -> Path:
    """An MJPG .avi whose frame i is a solid grey of level 5 * i (i < 52) (readable back within JPEG error)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, SIZE)
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((SIZE[1], SIZE[0], 3), 5 * i, np.uint8))
    writer.release()
    return path


def level(frame: Frame) -> int:
    """The frame number drawn into a frame by write_video."""
    return round(float(frame.image.mean()) / 5)


def camera(url: str) -> Camera:
    return registry("camera").create(url)


def wait_for(predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.fixture(autouse=True)
def no_camera_threads_left():
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith("camera ")]
    assert not left, f"grabber threads still running after close(): {left}"


# -- URLs ------------------------------------------------------------------------------------------------
def test_url_forms():
    assert parse_target("cv://0") == parse_target("cv://usb/0")
    assert parse_target("cv://usb/2").where == 2 and parse_target("cv://usb/2").kind == "usb"
    stream = parse_target("cv://rtsp://192.168.10.50/stream1?rate=1")
    assert (stream.kind, stream.where) == ("stream", "rtsp://192.168.10.50/stream1")
    assert parse_target("cv://http://host/mjpg").kind == "stream"
    assert parse_target("cv://rtsp://h/cam/realmonitor%3Fchannel=1%26subtype=0?rate=2").where == \
        "rtsp://h/cam/realmonitor?channel=1&subtype=0"
    assert parse_target("cv:///var/video/seat3.avi?loop=true") .where == "/var/video/seat3.avi"
    cam = camera("cv:///var/video/seat3.avi?rate=4&loop=true&realtime=true&stale_s=3")
    assert (cam.rate, cam.stale_s, cam.url.options["loop"], cam.is_open) == (4.0, 3.0, True, False)
    assert camera("cv://0?width=1280&height=720").url.options["width"] == 1280


@pytest.mark.parametrize(("url", "named"), [
    ("cv://0?rat=2", "unknown option 'rat'"),
    ("cv:///v.avi?fps=3", "unknown option 'fps'"),
    ("cv://usb/x", "bad USB camera index 'x'"),
    ("cv://-1", "bad USB camera index '-1'"),
    ("cv://0?loop=true", "'loop' is for video files"),
    ("cv:///v.avi?width=640", "'width' is for USB cameras"),
    ("cv://0?rate=0", "'rate'"),
    ("cv://camera3", "not a camera OpenCV can open"),
    ("cv://rtsp://u:p@h/s?channel=1", "percent-encoded"),
])
def test_bad_urls_name_the_part(url, named):
    with pytest.raises(DeviceURLError, match=named.replace("?", r"\?")):
        camera(url)


# -- frames ----------------------------------------------------------------------------------------------
def test_frames_arrive_at_the_rate_in_order_and_read_returns_each_once(tmp_path):
    video = write_video(tmp_path / "count.avi", 40)
    with camera(f"cv://{video}?rate=10") as cam:
        assert cam.read(timeout=3) is not None
        got = [cam.read(timeout=1) for _ in range(8)]
        assert all(f is not None for f in got)
        seqs = [f.seq for f in got]
        assert seqs == sorted(set(seqs))                        # each frame once, in order
        assert [level(f) for f in got] == [f.seq - 1 for f in got]   # frame by frame through the file
        assert got[-1].at == pytest.approx((got[-1].seq - 1) / 10)   # `at`: the position in the file
        assert wait_for(lambda: cam.latest().seq >= got[-1].seq + 3, 5)     # several frames go by unread
        newest = cam.read(timeout=1)
        assert newest is not None and newest.seq >= got[-1].seq + 3 and newest.seq >= cam.latest().seq - 1
        assert cam.read(timeout=0) is None or cam.latest().seq > newest.seq
        assert cam.resolution == SIZE and 5 <= cam.fps <= 15
        assert cam.health().state == DeviceState.OK


def test_without_loop_the_end_of_the_file_makes_it_offline(tmp_path):
    video = write_video(tmp_path / "short.avi", 5)
    with camera(f"cv://{video}?rate=10&stale_s=1") as cam:
        assert wait_for(lambda: cam.health().state == DeviceState.OFFLINE, 4)
        assert "the file has ended" in cam.health().detail
        diag = cam.diagnostics()
        assert diag["frames"] == 5 and diag["ended"] is True and diag["reconnects"] == 0


def test_loop_restarts_the_file_and_realtime_keeps_its_pace(tmp_path):
    video = write_video(tmp_path / "loop.avi", 5)
    with camera(f"cv://{video}?rate=10&loop=true&stale_s=1") as cam:
        assert wait_for(lambda: (cam.latest() or Frame(None, 0, 0)).seq > 8, 4)
        assert cam.health().state == DeviceState.OK
        assert cam.latest().at < 0.5                            # the position started again
    video = write_video(tmp_path / "real.avi", 50)
    with camera(f"cv://{video}?rate=2&realtime=true") as cam:
        assert wait_for(lambda: (cam.latest() or Frame(None, 0, 0)).at >= 1.0, 10)
        frame = cam.latest()                                    # the file plays at its own 10 frames/s ...
        assert frame.seq <= 2 * frame.at + 2                    # ... and only 2 a second are handed out


def test_a_missing_file_is_offline_and_picked_up_when_it_appears(tmp_path):
    video = tmp_path / "later.avi"
    with camera(f"cv://{video}?rate=5&stale_s=1") as cam:
        assert wait_for(lambda: cam.health().state == DeviceState.OFFLINE, 3)
        detail = cam.health().detail
        assert "does not exist" in detail and "reconnecting every" in detail
        assert wait_for(lambda: cam.diagnostics()["reconnects"] >= 1, 2)
        diag = cam.diagnostics()
        assert diag["retry_s"] >= 2 and "does not exist" in diag["last_error"]   # the back-off doubles
        write_video(video, 30)
        assert wait_for(lambda: cam.health().state == DeviceState.OK, 6)
        assert cam.diagnostics()["last_error"] is None


def test_passwords_never_leave_the_driver():
    with camera("cv://rtsp://admin:s3cret@127.0.0.1:9/stream1?timeout=1&stale_s=1") as cam:
        assert wait_for(lambda: cam.diagnostics()["failures"] >= 1, 3)
        shown = f"{cam!r} {cam.diagnostics()} {cam.health().detail}"
    assert "s3cret" not in shown and "admin:***@127.0.0.1" in shown
    with pytest.raises(DeviceURLError) as err:
        camera("cv://rtsp://admin:s3cret@h/s?rat=1")
    assert "s3cret" not in str(err.value)


class _Stalling:
    """A live source that gives one frame and then nothing, until released."""
    live = True

    def __init__(self, stop: threading.Event):
        self.stop, self.given = stop, False

    def grab(self):
        if self.given:
            self.stop.wait()
            raise SourceError("closing")
        self.given = True
        return time.time()

    def retrieve(self):
        return np.zeros((48, 64, 3), np.uint8)

    def close(self):
        pass


class _StallingCamera(Camera):
    def _connect(self):
        return _Stalling(self._stop)


def test_late_frames_are_degraded_before_offline():
    cam = _StallingCamera(parse_url("fake://x", {"rate": float, "stale_s": float}, {"rate": 4.0, "stale_s": 3.0}))
    with cam:
        assert wait_for(lambda: cam.health().state == DeviceState.OK, 2)
        assert wait_for(lambda: cam.health().state == DeviceState.DEGRADED, 3)
        assert "old" in cam.health().detail
        assert wait_for(lambda: cam.health().state == DeviceState.OFFLINE, 3)
    assert cam.health().state == DeviceState.OFFLINE and "not open" in cam.health().detail
    assert isinstance(cam.url, DeviceURL)


# -- sim://camera ----------------------------------------------------------------------------------------
SCRIPT = """
    0   noise 3
    0   seat1 empty
    0   seat2 work
    1   seat1 work
    3   camera dropout   # the script's own drop-out: no frames for 2 s of script time
    5   camera restore
    60  end
"""


@pytest.fixture
def script(tmp_path) -> Path:
    path = tmp_path / "short.txt"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def sim_url(script: Path, out: Path, **extra) -> str:
    options = {"script": script, "seats": 2, "width": 160, "height": 90, "rate": 4, "speed": 2, "stale_s": 1,
               "cache": out, **extra}
    return "sim://camera?" + "&".join(f"{k}={v}" for k, v in options.items())


def test_sim_camera_frames_follow_the_script_through_opencv(tmp_path, script):
    with camera(sim_url(script, tmp_path / "sim")) as cam:
        video = cam.simulator.video
        assert cam.read(timeout=5) is not None          # rendered in the camera's worker first
        assert video.suffix == ".avi" and video.parent == tmp_path / "sim" and cam.simulator.cached is False
        assert cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FOURCC) == cv2.VideoWriter_fourcc(*"MJPG")
        start, frames = time.monotonic(), []
        while time.monotonic() - start < 3.2:
            frame = cam.read(timeout=1.5)
            assert frame is not None
            frames.append((time.monotonic() - start, frame))
        assert len(frames) >= 8 and frames[-1][1].image.shape == (90, 160, 3)
        ats = [f.at for _, f in frames]
        assert ats == sorted(ats) and ats[-1] >= 4.5                 # script time, at twice the wall's pace
        assert all(abs(f.at - 2 * wall) < 1.5 for wall, f in frames[1:])
        assert not [a for a in ats if 3 <= a < 5]                    # the script's drop-out gives no frames
        assert cam.simulator.truth(2.0) == [True, True] and cam.simulator.truth(0.5) == [False, True]
        assert cam.simulator.truth(4.0) == [None, None]
        assert cam.simulator.script == str(script) and len(cam.simulator.rois) == 2
        diag = cam.diagnostics()
        assert diag["script"] == str(script) and diag["fault"] == "none" and diag["resolution"] == [160, 90]


def test_sim_camera_faults_dropout_freeze_restore(tmp_path, script):
    with camera(sim_url(script, tmp_path, speed=1)) as cam:
        assert cam.read(timeout=3) is not None
        assert wait_for(lambda: cam.health().state == DeviceState.OK, 2)
        cam.simulate(fault="dropout")
        assert wait_for(lambda: cam.health().state == DeviceState.OFFLINE, 3)
        assert "dropout" in cam.health().detail and "no frame for" in cam.health().detail
        cam.simulate(fault="restore")
        assert wait_for(lambda: cam.health().state == DeviceState.OK, 2)
        cam.simulate(fault="freeze")
        cam.read(timeout=1)                                     # perhaps grabbed before the freeze
        first, second = cam.read(timeout=1), cam.read(timeout=1)
        assert first is not None and second is not None and second.at > first.at     # fresh frames ...
        assert np.array_equal(first.image, second.image)                             # ... of one picture
        assert wait_for(lambda: "frozen" in cam.health().detail, 3)
        assert cam.health().state == DeviceState.DEGRADED
        cam.simulate(fault="restore")
        assert wait_for(lambda: cam.health().state == DeviceState.OK, 2)
        with pytest.raises(ValueError, match="unknown camera fault"):
            cam.simulate(fault="smoke")


def test_sim_camera_reuses_its_rendered_video(tmp_path, script):
    with camera(sim_url(script, tmp_path)) as cam:
        assert cam.read(timeout=5) is not None            # rendered in the camera's worker, then read
        video, first = cam.simulator.video, cam.simulator.cached
        stamp = video.stat().st_mtime_ns
    with camera(sim_url(script, tmp_path)) as cam:
        assert cam.read(timeout=3) is not None
        assert (first, cam.simulator.cached, cam.simulator.video) == (False, True, video)
    assert video.stat().st_mtime_ns == stamp and len(list(tmp_path.glob("*.avi"))) == 1
    with camera(sim_url(script, tmp_path, seed=2)) as cam:      # another seed: another video
        assert cam.read(timeout=5) is not None
        assert cam.simulator.cached is False
    assert len(list(tmp_path.glob("*.avi"))) == 2


@pytest.mark.parametrize(("url", "named"), [
    ("sim://camera?script=night", "unknown script 'night'"),
    ("sim://camera?script=day&seats=1", "option 'seats' is 1"),
    ("sim://camera?fault=fire", "'fault'"),
    ("sim://camera?fps=2", "unknown option 'fps'"),
    ("sim://cam", "sim://camera"),
])
def test_bad_sim_urls_name_the_part(url, named):
    with pytest.raises(DeviceURLError, match=named):
        camera(url)
