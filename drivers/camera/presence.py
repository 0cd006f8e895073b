"""Is the clerk at the seat? A pure per-seat model: frames in, "present" / "away" / "unknown" out.

Method (hardware.md, "Seat monitoring"): the seat's region of interest (ROI) is compared with an
**empty-seat reference** of the same region by absolute difference — grayscale, shrunk to
`WORK_WIDTH` px wide and blurred, so that sensor noise and JPEG artefacts average out. Not a MOG2
background model: MOG2 learns whatever does not move, so it absorbs a clerk who sits still.

- **Lighting**: before differencing, the frame is divided by the lighting gain `g`, the median of
  frame / reference over the ROI. A global brightness change scales every pixel alike, so an empty
  seat stays empty; a seated clerk changes most pixels by different factors, so no single gain makes
  the difference vanish.
- **Where**: the decision uses the ROI's *core* (`CORE`: the middle of the chair back, where a seated
  clerk's torso always is). A person standing beside the seat overlaps only the ROI's edge.
- **Score** = fraction of core pixels that differ by more than `DIFF_LEVEL` grey levels (in the
  reference's brightness), plus `MOTION_WEIGHT` × the fraction of core pixels that changed since the
  previous frame (motion counts toward present), plus `FACE_BONUS` while a frontal face was seen in
  the ROI within the last `FACE_HOLD_S` seconds (`use_faces`; the Haar cascade runs at most once per
  `face_interval_s`). Raw decision: present above `ENTER`, away below `EXIT`, else the previous raw
  decision (hysteresis). A seated clerk scores 0.6-1.0; an empty seat 0.00-0.02.
- **Debounce**: the reported state follows the raw decision once it has held for `debounce_s`
  (2.5 s: a passer-by crosses the core in ~1-2 s; leaving is reported within 2.5 s + one frame).
- **Learning**: the reference is a slow running average, updated only while the seat is known to be
  empty: `expect_empty=True` (nobody logged in at the window; `ALPHA_EXPECT`), or debounced away
  with a low score and no motion (`ALPHA_AWAY`: follows slow daylight drift). Never while present.
  While `expect_empty` and yet something is in the seat, it learns very slowly (`ALPHA_STUCK`), so a
  chair moved overnight is absorbed within minutes when nobody is logged in.
- **Unknown**: without a reference (until `expect_empty` frames or `set_reference`), and immediately
  for a missing frame (`None`), a frame older than `stale_s`, or a gap of more than `stale_s` between
  frames. A broken camera is never "away". Missing frames teach nothing; the next good frame is
  judged against the reference at once (no debounce after unknown).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PRESENT, AWAY, UNKNOWN = "present", "away", "unknown"

WORK_WIDTH = 64            # px: the ROI is shrunk to this width (INTER_AREA) before comparing
BLUR = (5, 5)              # Gaussian blur on the shrunk ROI: noise sigma drops ~10x overall
DIFF_LEVEL = 18.0          # grey levels (reference brightness) a pixel must differ by to count as changed
MOTION_LEVEL = 12.0        # grey levels between consecutive frames to count as motion
CORE = (0.30, 0.70, 0.30, 1.00)   # x0, x1, y0, y1 as fractions of the ROI: the seated torso's place
ENTER, EXIT = 0.30, 0.15   # hysteresis on the score
MOTION_WEIGHT = 0.5
FACE_BONUS, FACE_HOLD_S = 0.3, 2.0
FACE_ROI_HEIGHT = 150       # px: the ROI is shrunk to this height for the Haar cascade
ALPHA_EXPECT, ALPHA_AWAY, ALPHA_STUCK = 0.05, 0.02, 0.002   # per frame (at 2 fps: ~10 s, ~25 s, ~4 min)
QUIET_MOTION = 0.02        # motion fraction below which an away seat may be learnt
GAIN_RANGE = (0.25, 4.0)


@dataclass(frozen=True)
class Roi:
    """A region of the frame as fractions of its width and height (0..1)."""

    x: float
    y: float
    w: float
    h: float

    def __post_init__(self) -> None:
        if not (0 <= self.x < 1 and 0 <= self.y < 1 and self.w > 0 and self.h > 0):
            raise ValueError(f"Roi out of range: {self}")
        if self.x + self.w > 1 + 1e-9 or self.y + self.h > 1 + 1e-9:
            raise ValueError(f"Roi extends past the frame: {self}")

    def to_pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(x, y, w, h) in pixels, at least 1x1, inside a width x height frame."""
        x, y = round(self.x * width), round(self.y * height)
        w = max(1, min(width - x, round(self.w * width)))
        h = max(1, min(height - y, round(self.h * height)))
        return x, y, w, h


@dataclass(frozen=True)
class Reading:
    """Diagnostics of the last frame: the undebounced decision and what it came from."""

    raw: str            # "present" / "away" / "unknown", before debounce
    score: float        # the combined score compared with ENTER / EXIT
    diff: float         # fraction of core pixels unlike the reference
    motion: float       # fraction of core pixels that changed since the previous frame
    gain: float         # estimated lighting gain relative to the reference
    face: bool          # a face was seen within FACE_HOLD_S


_NO_READING = Reading(UNKNOWN, 0.0, 0.0, 0.0, 1.0, False)


class SeatPresence:
    """One seat's presence model. Feed it every frame (or `None` when the camera gives none)."""

    def __init__(self, roi: Roi, *, debounce_s: float = 2.5, use_faces: bool = False, stale_s: float = 5.0,
                 face_interval_s: float = 1.0) -> None:
        self.roi = roi
        self.debounce_s = debounce_s
        self.use_faces = use_faces
        self.stale_s = stale_s
        self.face_interval_s = face_interval_s
        self._ref: np.ndarray | None = None
        self._prev: np.ndarray | None = None
        self._last_at: float | None = None
        self._state = UNKNOWN
        self._raw = AWAY
        self._candidate = UNKNOWN
        self._candidate_since = 0.0
        self._reading = _NO_READING
        self._faces: cv2.CascadeClassifier | None = None
        self._face_checked_at = -1e18
        self._face_seen_at = -1e18
        self.learned_frames = 0

    # -- public surface -------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @property
    def reading(self) -> Reading:
        """The last frame's raw (undebounced) decision and score."""
        return self._reading

    @property
    def raw(self) -> str:
        return self._reading.raw

    @property
    def score(self) -> float:
        return self._reading.score

    @property
    def has_reference(self) -> bool:
        return self._ref is not None

    @property
    def reference(self) -> np.ndarray | None:
        """A copy of the empty-seat reference (shrunk, blurred grayscale float32), or None."""
        return None if self._ref is None else self._ref.copy()

    def set_reference(self, image: np.ndarray) -> None:
        """Adopt `image` (a whole frame showing the empty seat) as the reference."""
        self._ref = self._prepare(image)
        self._prev = None

    def clear_reference(self) -> None:
        self._ref = None
        self._state = UNKNOWN

    def current(self, now: float) -> str:
        """The state as of `now`: "unknown" if the last frame is older than `stale_s`."""
        if self._last_at is None or now - self._last_at > self.stale_s:
            return UNKNOWN
        return self._state

    def update(self, image: np.ndarray | None, at: float, expect_empty: bool = False, *,
               now: float | None = None) -> str:
        """Judge one frame taken at `at` (seconds, any monotonic clock). `now`, if given, is the
        current time on that clock, for the staleness check. Returns the debounced state."""
        if image is None or (now is not None and now - at > self.stale_s):
            return self._lose()
        if self._last_at is not None and at - self._last_at > self.stale_s:
            self._lose()                                    # a gap: start afresh from the reference
        self._last_at = at
        small = self._prepare(image)
        if self._ref is None:
            if not expect_empty:
                self._prev = small
                self._reading = _NO_READING
                return UNKNOWN
            self._ref = small.copy()
        reading = self._judge(small, image, at)
        self._prev = small
        self._reading = reading
        self._debounce(reading.raw, at)
        self._learn(small, reading, expect_empty)
        return self._state

    # -- internals ------------------------------------------------------------------------------
    def _lose(self) -> str:
        self._state = UNKNOWN
        self._candidate = UNKNOWN
        self._prev = None
        self._reading = _NO_READING
        return UNKNOWN

    def _prepare(self, image: np.ndarray) -> np.ndarray:
        hgt, wid = image.shape[:2]
        x, y, w, h = self.roi.to_pixels(wid, hgt)
        crop = image[y:y + h, x:x + w]
        gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
        out_w = min(WORK_WIDTH, w)
        out_h = max(1, round(h * out_w / w))
        small = cv2.resize(gray, (out_w, out_h), interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(small, BLUR, 0).astype(np.float32)

    def _core(self, a: np.ndarray) -> np.ndarray:
        h, w = a.shape
        x0, x1, y0, y1 = CORE
        return a[int(y0 * h):max(int(y0 * h) + 1, int(y1 * h)), int(x0 * w):max(int(x0 * w) + 1, int(x1 * w))]

    @staticmethod
    def _gain(cur: np.ndarray, ref: np.ndarray) -> float:
        cur, ref = cur[::2, ::2], ref[::2, ::2]        # every 4th pixel is plenty for a median
        valid = ref > 12
        if not valid.any():
            return 1.0
        g = float(np.median(cur[valid] / ref[valid]))
        return min(max(g, GAIN_RANGE[0]), GAIN_RANGE[1])

    def _judge(self, small: np.ndarray, image: np.ndarray, at: float) -> Reading:
        gain = self._gain(small, self._ref)
        diff = float(np.mean(np.abs(self._core(small) / gain - self._core(self._ref)) > DIFF_LEVEL))
        motion = 0.0
        if self._prev is not None:
            mg = self._gain(small, self._prev)
            motion = float(np.mean(np.abs(self._core(small) / mg - self._core(self._prev)) > MOTION_LEVEL))
        face = self.use_faces and self._face(image, at)
        score = diff + MOTION_WEIGHT * motion + (FACE_BONUS if face else 0.0)
        if score > ENTER:
            raw = PRESENT
        elif score < EXIT:
            raw = AWAY
        else:
            raw = self._raw
        self._raw = raw
        return Reading(raw, score, diff, motion, gain, face)

    def _face(self, image: np.ndarray, at: float) -> bool:
        if at - self._face_checked_at >= self.face_interval_s:
            self._face_checked_at = at
            if self._faces is None:
                self._faces = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
            hgt, wid = image.shape[:2]
            x, y, w, h = self.roi.to_pixels(wid, hgt)
            crop = image[y:y + h, x:x + w]
            gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
            if h > FACE_ROI_HEIGHT:                 # a seated face is ~1/4 of the ROI: shrink, still >= 24 px
                gray = cv2.resize(gray, (max(1, w * FACE_ROI_HEIGHT // h), FACE_ROI_HEIGHT),
                                  interpolation=cv2.INTER_AREA)
            found = self._faces.detectMultiScale(cv2.equalizeHist(gray), scaleFactor=1.15, minNeighbors=3,
                                                 minSize=(20, 20), maxSize=(gray.shape[0] // 2, gray.shape[0] // 2))
            if len(found):
                self._face_seen_at = at
        return at - self._face_seen_at <= FACE_HOLD_S

    def _debounce(self, raw: str, at: float) -> None:
        if self._state == UNKNOWN:                  # first judgement (bootstrap, after a drop-out): adopt
            self._state = raw
            self._candidate, self._candidate_since = raw, at
            return
        if raw != self._candidate:
            self._candidate, self._candidate_since = raw, at
        if raw != self._state and at - self._candidate_since >= self.debounce_s - 1e-9:
            self._state = raw

    def _learn(self, small: np.ndarray, reading: Reading, expect_empty: bool) -> None:
        if expect_empty:
            alpha = ALPHA_EXPECT if reading.score < EXIT else ALPHA_STUCK
        elif self._state == AWAY and reading.raw == AWAY and reading.motion < QUIET_MOTION:
            alpha = ALPHA_AWAY
        else:
            return
        cv2.accumulateWeighted(small, self._ref, alpha)
        self.learned_frames += 1
