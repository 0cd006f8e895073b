"""Evidence snapshots of a seat: the seat region sharp and outlined, everything else blurred beyond
recognition (people outside the seat — citizens, colleagues — must not be identifiable)."""
from __future__ import annotations

import cv2
import numpy as np

from .presence import Roi

OUTLINE = (0, 200, 255)     # BGR: amber
SHRINK = 16                 # the outside is averaged down by this factor before blurring back up


def _pixels(image: np.ndarray, roi: Roi | tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    if isinstance(roi, Roi):
        return roi.to_pixels(image.shape[1], image.shape[0])
    return tuple(int(v) for v in roi)


def blur_outside(image: np.ndarray, roi: Roi | tuple[int, int, int, int], *, ksize: int = 9,
                 shrink: int = SHRINK) -> np.ndarray:
    """A copy of `image` with everything outside `roi` (fractions, or (x, y, w, h) pixels) destroyed:
    averaged down `shrink` times (INTER_AREA), blurred with a `ksize` Gaussian there, scaled back up.
    At 640x360 a face of 50 px becomes ~3x4 samples. The ROI's pixels are copied unchanged."""
    h, w = image.shape[:2]
    x, y, rw, rh = _pixels(image, roi)
    small = cv2.resize(image, (max(1, w // shrink), max(1, h // shrink)), interpolation=cv2.INTER_AREA)
    k = ksize | 1
    small = cv2.GaussianBlur(small, (k, k), 0) if min(small.shape[:2]) >= 3 else small
    out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    out[y:y + rh, x:x + rw] = image[y:y + rh, x:x + rw]
    return out


def evidence_jpeg(image: np.ndarray, roi: Roi | tuple[int, int, int, int], *, quality: int = 80) -> bytes:
    """`blur_outside(image, roi)` with the ROI outlined just outside its edge, as JPEG bytes."""
    out = blur_outside(image, roi)
    x, y, rw, rh = _pixels(image, roi)
    cv2.rectangle(out, (x - 2, y - 2), (x + rw + 1, y + rh + 1), OUTLINE, 2)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()
