"""Evidence snapshots: the seat region sharp and outlined, everything else unrecognisable."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from drivers.camera.presence import Roi
from drivers.camera.simulator import Scene
from drivers.camera.snapshot import blur_outside, evidence_jpeg

CASCADE = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"


@pytest.fixture(scope="module")
def frame_and_roi():
    scene = Scene(timeline="day", seed=0)
    return scene.frame(200), scene.rois[0], scene.roi_pixels(0)      # both clerks working, faces visible


def outside_mask(shape, xywh, margin=4):
    x, y, w, h = xywh
    mask = np.ones(shape[:2], bool)
    mask[max(0, y - margin):y + h + margin, max(0, x - margin):x + w + margin] = False
    return mask


def detail(image: np.ndarray, mask: np.ndarray) -> float:
    lap = cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F)
    return float(lap[mask].var())


def faces_outside(image: np.ndarray, xywh) -> list:
    x, y, w, h = xywh
    found = cv2.CascadeClassifier(CASCADE).detectMultiScale(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), 1.1, 4)
    return [f for f in found if not (x <= f[0] + f[2] / 2 <= x + w and y <= f[1] + f[3] / 2 <= y + h)]


def test_outside_loses_detail_and_roi_is_unchanged(frame_and_roi):
    frame, roi, (x, y, w, h) = frame_and_roi
    out = blur_outside(frame, roi)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert np.array_equal(out[y:y + h, x:x + w], frame[y:y + h, x:x + w])
    mask = outside_mask(frame.shape, (x, y, w, h))
    assert detail(out, mask) < 0.1 * detail(frame, mask)


def test_a_face_outside_the_roi_is_no_longer_detected(frame_and_roi):
    frame, roi, xywh = frame_and_roi
    assert faces_outside(frame, xywh), "the other clerk's face should be detectable in the original"
    assert faces_outside(blur_outside(frame, roi), xywh) == []
    decoded = cv2.imdecode(np.frombuffer(evidence_jpeg(frame, roi), np.uint8), cv2.IMREAD_COLOR)
    assert faces_outside(decoded, xywh) == []


def test_evidence_is_a_jpeg_of_the_same_size_with_a_sharp_outlined_roi(frame_and_roi):
    frame, roi, (x, y, w, h) = frame_and_roi
    data = evidence_jpeg(frame, roi, quality=80)
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == frame.shape
    inner = (slice(y + 2, y + h - 2), slice(x + 2, x + w - 2))         # away from the outline's JPEG ringing
    assert cv2.PSNR(img[inner], frame[inner]) > 30
    assert detail(img, np.pad(np.ones((h - 4, w - 4), bool), ((y + 2, frame.shape[0] - y - h + 2),
                                                              (x + 2, frame.shape[1] - x - w + 2)))) > 0
    edge = img[y - 2, x + w // 2].astype(int)                           # the outline: amber, just outside
    assert edge[2] > 200 and edge[1] > 150 and edge[0] < 100


@pytest.mark.parametrize("roi", [Roi(0.0, 0.0, 1.0, 1.0), Roi(0.0, 0.0, 0.01, 0.01), (10, 20, 30, 40)])
def test_edge_cases(frame_and_roi, roi):
    frame = frame_and_roi[0]
    out = blur_outside(frame, roi)
    assert out.shape == frame.shape
    if roi == Roi(0.0, 0.0, 1.0, 1.0):
        assert np.array_equal(out, frame)
    assert cv2.imdecode(np.frombuffer(evidence_jpeg(frame, roi), np.uint8), cv2.IMREAD_COLOR).shape == frame.shape
