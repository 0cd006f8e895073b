"""scripts/camera-check against the camera simulator: frames, rates and a snapshot with the seat regions drawn;
bad URLs and cameras that give no frames exit non-zero with the reason and what to do."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from drivers.camera.snapshot import OUTLINE

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "camera-check"
TIMELINE = """
    0   noise 3
    0   seat1 work
    0   seat2 empty
    30  end
"""


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)


def test_checks_the_simulated_camera_and_draws_the_seat_regions(tmp_path):
    (tmp_path / "t.txt").write_text(TIMELINE, encoding="utf-8")
    png = tmp_path / "check.png"
    url = f"sim://camera?script={tmp_path / 't.txt'}&seats=2&width=320&height=180&rate=4&cache={tmp_path}"
    r = run("--url", url, "--roi", "0.1,0.2,0.3,0.5", "--roi", "0.55,0.2,0.3,0.5", "--seconds", "2",
            "--out", str(png), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["resolution"] == [320, 180] and report["rate"] == 4
    assert report["frames"] >= 4 and 2 <= report["fps"] <= 6 and report["frame_age_s"] < 2
    assert report["health"]["state"] == "ok" and report["diagnostics"]["script"].endswith("t.txt")
    assert [r["roi"] for r in report["rois"]] == [[0.1, 0.2, 0.3, 0.5], [0.55, 0.2, 0.3, 0.5]]
    assert Path(report["snapshot"]) == png
    image = cv2.imread(str(png))
    assert image.shape == (180, 320, 3)
    x, y = round(0.1 * 320), round(0.2 * 180)                  # the first region's top-left corner
    assert np.array_equal(image[y, x + 20], OUTLINE) and np.array_equal(image[y + 30, x], OUTLINE)
    outline = np.all(image == OUTLINE, axis=2).sum()
    assert outline > 2 * (0.3 * 320 + 0.5 * 180)                # both rectangles' outlines are there
    r = run("--url", url, "--seconds", "1", "--out", str(png))  # plain text; the simulator's seats drawn
    assert r.returncode == 0 and "frames/s measured (4 configured)" in r.stdout and "seat 1, seat 2" in r.stdout


def test_a_bad_url_or_roi_is_bad_usage():
    r = run("--url", "cv://0?rat=2")
    assert r.returncode == 2 and "unknown option 'rat'" in r.stderr
    r = run("--url", "cv://usb/x")
    assert r.returncode == 2 and "bad USB camera index 'x'" in r.stderr
    r = run("--url", "cv://0", "--roi", "0.5,0.5,0.9,0.2")
    assert r.returncode == 2 and "--roi" in r.stderr and "extends past the frame" in r.stderr
    r = run()
    assert r.returncode == 2 and "give --url" in r.stderr


def test_a_camera_without_frames_exits_1_with_advice(tmp_path):
    r = run("--url", "cv:///nonexistent.avi", "--seconds", "1", "--out", str(tmp_path / "x.png"))
    assert r.returncode == 1
    assert "no frame came in 1 s" in r.stdout and "does not exist" in r.stdout
    assert "what to do: check the path of the video file" in r.stdout
    assert not (tmp_path / "x.png").exists()
    r = run("--url", "cv://rtsp://admin:s3cret@127.0.0.1:9/stream1?timeout=1", "--seconds", "1", "--json")
    assert r.returncode == 1 and "s3cret" not in r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["frames"] == 0 and "VLC" in report["advice"] and report["url"].startswith("cv://rtsp://admin:***@")


def test_a_configured_camera_by_name():
    r = run("--config", "config/district-centre.toml", "--device", "no-such-camera", "--seconds", "1")
    assert r.returncode != 0 and "no camera 'no-such-camera'" in r.stderr
