"""A synthetic office view with clerks at their seats, rendered from a `Timeline`.

The camera faces the clerks from across the counter: a textured wall, a chair per seat, a desk in
the foreground with a monitor beside each seat. A clerk is a torso, arms and a head with a simple
face (skin, hair, eyes, brows, mouth) drawn with OpenCV primitives; the hands rest on the desk in
front. Everything static is drawn once; a frame is the background plus the people, the desk pasted
over them, the lighting gain and Gaussian sensor noise (from a pre-drawn bank of noise, picked by t).
A frame depends only on (seed, t): rendering is deterministic.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from ..presence import Roi
from .timeline import SEATED, Timeline, builtin, parse_timeline

DESK_TOP = 0.70        # fraction of height: where the desk's top surface begins
DESK_FRONT = 0.76      # ... and its front panel
SHOULDER = 0.40
SKIN = [(160, 185, 225), (120, 150, 200), (95, 125, 175), (140, 170, 215)]      # BGR
HAIR = [(25, 25, 30), (30, 40, 60), (20, 20, 20), (60, 70, 90)]
SHIRT = [(150, 90, 40), (200, 200, 205), (60, 60, 140), (90, 120, 70), (120, 110, 100)]
WALK_S = 4.0           # a passer-by crosses the seat's neighbourhood in this many seconds


def default_rois(n: int) -> list[Roi]:
    """ROIs for n seats side by side: chair plus a seated clerk's torso and head."""
    w = min(0.34, 0.9 / n)
    return [Roi(round((i + 0.5) / n - w / 2, 4), 0.15, w, 0.63) for i in range(n)]


class Scene:
    """Renders frame(t) for a timeline: `Scene(width, height, seats=[Roi...], seed=0, timeline="day")`.

    `timeline` is a `Timeline`, a built-in script name or script text. `seats` defaults to
    `default_rois(<seats in the timeline>)`; each seat's person is drawn at its ROI's centre.
    """

    def __init__(self, width: int = 640, height: int = 360, seats: list[Roi] | None = None, seed: int = 0,
                 timeline: Timeline | str = "day") -> None:
        if isinstance(timeline, str):
            timeline = builtin(timeline) if "\n" not in timeline and " " not in timeline else parse_timeline(timeline)
        self.timeline = timeline
        self.width, self.height, self.seed = width, height, seed
        self.rois = list(seats) if seats is not None else default_rois(timeline.seat_count)
        if len(self.rois) < timeline.seat_count:
            raise ValueError(f"timeline has {timeline.seat_count} seats, only {len(self.rois)} ROIs given")
        rng = np.random.default_rng(seed)
        self._looks = [self._look(rng) for _ in range(len(self.rois) * 2)]
        self._phase = rng.uniform(0, 2 * math.pi, size=(len(self.rois), 8))
        self._bg, self._fg, self._fg_rects = self._static(rng)
        self._noise_rng = np.random.default_rng(seed + 7919)
        self._noise: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    # -- public -----------------------------------------------------------------------------------
    @property
    def duration(self) -> float:
        return self.timeline.duration

    def truth(self, t: float) -> list[bool | None]:
        """Per ROI: True if the clerk is seated, False if not, None during a camera drop-out."""
        if self.timeline.dropped(t):
            return [None] * len(self.rois)
        return [self.timeline.seat(i + 1, t).state in SEATED for i in range(len(self.rois))]

    def render(self, t: float) -> tuple[np.ndarray | None, list[bool | None]]:
        """(frame or None during a camera drop-out, truth per seat)."""
        return (None if self.timeline.dropped(t) else self.frame(t)), self.truth(t)

    def frame(self, t: float) -> np.ndarray:
        """The BGR uint8 frame at second t (drawn even during a drop-out)."""
        img = self._bg.copy()
        later = []
        for i, roi in enumerate(self.rois):
            span = self.timeline.seat(i + 1, t)
            if span.state in ("sit", "work"):
                later.append(self._clerk(img, i, roi, span.state, t))
            elif span.state == "stand":
                self._standing(img, i, roi, t, self._cx(roi) + 0.2 * self.width)
            elif span.state == "pass" and t - span.since < WALK_S:
                p = (t - span.since) / WALK_S
                direction = 1 if int(span.since) % 2 == 0 else -1
                self._standing(img, i, roi, t, self._cx(roi) + direction * (p - 0.5) * 0.9 * self.width)
        for y0, y1, x0, x1 in self._fg_rects:
            img[y0:y1, x0:x1] = self._fg[y0:y1, x0:x1]
        for draw in later:
            draw()
        gain = self.timeline.gain(t)
        if abs(gain - 1.0) > 1e-6:
            img = cv2.convertScaleAbs(img, alpha=gain)
        sigma = self.timeline.noise(t)
        return self._noised(img, sigma, t) if sigma > 0 else img

    def empty_frame(self, t: float = 0.0) -> np.ndarray:
        """The scene with nobody in it (a technician's empty-seat snapshot), lit and noised as at t."""
        img = self._bg.copy()
        for y0, y1, x0, x1 in self._fg_rects:
            img[y0:y1, x0:x1] = self._fg[y0:y1, x0:x1]
        gain = self.timeline.gain(t)
        if abs(gain - 1.0) > 1e-6:
            img = cv2.convertScaleAbs(img, alpha=gain)
        sigma = self.timeline.noise(t)
        return self._noised(img, sigma, t) if sigma > 0 else img

    def roi_pixels(self, seat: int) -> tuple[int, int, int, int]:
        """Seat `seat` (0-based) ROI as (x, y, w, h) pixels."""
        return self.rois[seat].to_pixels(self.width, self.height)

    # -- static parts -----------------------------------------------------------------------------
    def _cx(self, roi: Roi) -> float:
        return (roi.x + roi.w / 2) * self.width

    @staticmethod
    def _look(rng: np.random.Generator) -> dict:
        return {"skin": SKIN[rng.integers(len(SKIN))], "hair": HAIR[rng.integers(len(HAIR))],
                "shirt": SHIRT[rng.integers(len(SHIRT))], "long_hair": bool(rng.integers(2))}

    def _static(self, rng: np.random.Generator):
        W, H = self.width, self.height
        s = H / 360.0
        tex = rng.normal(0, 1, (H // 8 + 1, W // 8 + 1)).astype(np.float32)
        tex = cv2.resize(cv2.GaussianBlur(tex, (3, 3), 0), (W, H), interpolation=cv2.INTER_CUBIC)
        wall = np.empty((H, W, 3), np.float32)
        for c, base in enumerate((150, 158, 165)):
            wall[:, :, c] = base + 6 * tex - 15 * np.linspace(0, 1, H, dtype=np.float32)[:, None]
        bg = np.clip(wall, 0, 255).astype(np.uint8)
        desk_top = int(DESK_TOP * H)
        cv2.rectangle(bg, (0, int(0.50 * H)), (W, int(0.52 * H)), (120, 125, 130), -1)      # chair rail
        cv2.rectangle(bg, (int(0.45 * W), int(0.06 * H)), (int(0.55 * W), int(0.26 * H)), (80, 120, 160), -1)
        cv2.rectangle(bg, (int(0.46 * W), int(0.08 * H)), (int(0.54 * W), int(0.12 * H)), (230, 230, 230), -1)
        for k in range(3):                                                                   # a notice
            y = int((0.15 + 0.03 * k) * H)
            cv2.line(bg, (int(0.465 * W), y), (int(0.535 * W), y), (200, 210, 220), max(1, int(2 * s)))
        for roi in self.rois:                                                                # chairs
            cx = int(self._cx(roi))
            half = int(0.16 * H)
            top = int(0.30 * H)
            cv2.rectangle(bg, (cx - half, top + int(0.04 * H)), (cx + half, desk_top), (55, 50, 50), -1)
            cv2.ellipse(bg, (cx, top + int(0.04 * H)), (half, int(0.04 * H)), 0, 180, 360, (55, 50, 50), -1)
            cv2.rectangle(bg, (cx - half + 6, top + int(0.06 * H)), (cx + half - 6, desk_top), (70, 64, 64), 2)
        fg = bg.copy()
        cv2.rectangle(fg, (0, desk_top), (W, int(DESK_FRONT * H)), (120, 150, 175), -1)          # desk top
        cv2.rectangle(fg, (0, int(DESK_FRONT * H)), (W, H), (70, 95, 120), -1)                   # front panel
        cv2.line(fg, (0, int(DESK_FRONT * H)), (W, int(DESK_FRONT * H)), (50, 70, 90), max(1, int(2 * s)))
        for k in range(0, W, max(8, W // 20)):
            cv2.line(fg, (k, int(DESK_FRONT * H) + 4), (k + 30, H), (78, 103, 128), 1)          # wood grain
        rects = [(desk_top, H, 0, W)]
        for roi in self.rois:                                                                # monitors
            x0 = int(self._cx(roi) + 0.19 * H)
            y0, y1 = int(0.47 * H), desk_top + int(0.02 * H)
            x1 = min(W, x0 + int(0.2 * H))
            if x0 < W:
                cv2.rectangle(fg, (x0, y0), (x1, y1 - int(0.03 * H)), (30, 30, 32), -1)
                cv2.rectangle(fg, (x0 + 4, y0 + 4), (x1 - 4, y1 - int(0.03 * H) - 4), (90, 70, 50), -1)
                cv2.rectangle(fg, ((x0 + x1) // 2 - 5, y1 - int(0.03 * H)), ((x0 + x1) // 2 + 5, y1), (30, 30, 32), -1)
                rects.append((y0, y1, x0, x1))
        return bg, fg, rects

    def _noised(self, img: np.ndarray, sigma: float, t: float) -> np.ndarray:
        """img plus the noise picked by t, saturated to 0..255: the noise is kept as its positive and negative
        parts (uint8), so two saturating uint8 operations give exactly img + noise at a fifth of the cost of a
        mixed uint8 + int16 add."""
        bank = self._noise.get(sigma)
        if bank is None:
            rng = np.random.default_rng([self.seed, int(sigma * 1000)])
            noise = rng.normal(0, sigma, (4, self.height + 32, self.width + 32, 3)).astype(np.int16)
            bank = (np.clip(noise, 0, 255).astype(np.uint8), np.clip(-noise, 0, 255).astype(np.uint8))
            self._noise[sigma] = bank
        k = round(t * 1000) * 2654435761 % (4 * 33 * 33)
        i, rest = divmod(k, 33 * 33)
        dy, dx = divmod(rest, 33)
        up, down = (part[i, dy:dy + self.height, dx:dx + self.width] for part in bank)
        cv2.add(img, up, dst=img)                   # in place: img is this frame's own copy
        return cv2.subtract(img, down, dst=img)

    # -- people -----------------------------------------------------------------------------------
    def _clerk(self, img: np.ndarray, i: int, roi: Roi, state: str, t: float):
        H = self.height
        s = H / 360.0
        ph = self._phase[i]
        look = self._looks[2 * i]
        breath = math.sin(2 * math.pi * 0.25 * t + ph[0])
        if state == "sit":
            lean_x, lean_y = 0.0, 1.0 * breath
            head_dx, head_dy, turn = 1.0 * math.sin(2 * math.pi * 0.05 * t + ph[1]), 0.5 * breath, 0.0
            hands = [(0.0, 0.0), (0.0, 0.0)]
        else:
            lean_x = 8 * math.sin(2 * math.pi * 0.031 * t + ph[2])
            lean_y = 4 * max(0.0, math.sin(2 * math.pi * 0.043 * t + ph[3])) + breath
            turn = math.sin(2 * math.pi * 0.07 * t + ph[4]) ** 3
            head_dx, head_dy = 6 * turn, 3 * math.sin(2 * math.pi * 0.11 * t + ph[5])
            hands = [(30 * math.sin(2 * math.pi * 0.37 * t + ph[6]), 8 * math.sin(2 * math.pi * 0.53 * t + ph[7])),
                     (30 * math.sin(2 * math.pi * 0.29 * t + ph[1]), 8 * math.sin(2 * math.pi * 0.61 * t + ph[0]))]
        cx = self._cx(roi) + lean_x * s
        sy = SHOULDER * H + lean_y * s
        half = 0.18 * H
        desk = int(DESK_TOP * H)
        torso = np.array([[cx - half, sy + 0.03 * H], [cx - half * 0.75, sy], [cx + half * 0.75, sy],
                          [cx + half, sy + 0.03 * H], [cx + half * 0.95, desk + 4], [cx - half * 0.95, desk + 4]],
                         np.int32)
        cv2.fillConvexPoly(img, torso, look["shirt"], cv2.LINE_AA)
        collar = np.array([[cx - 0.04 * H, sy], [cx + 0.04 * H, sy], [cx, sy + 0.07 * H]], np.int32)
        cv2.fillConvexPoly(img, collar, look["skin"], cv2.LINE_AA)
        self._head(img, cx + head_dx * s, sy - 0.11 * H + head_dy * s, look, turn)
        shoulders = [(cx - half * 0.85, sy + 0.03 * H), (cx + half * 0.85, sy + 0.03 * H)]

        def arms() -> None:
            for side, (sx, sy2), (hx, hy) in zip((-1, 1), shoulders, hands, strict=True):
                elbow = (int(sx + side * 0.03 * H), int(desk - 0.02 * H))
                hand = (int(cx + side * 0.10 * H + hx * s), int((DESK_TOP + 0.035) * H + hy * s))
                arm_w = max(2, int(0.065 * H))
                cv2.line(img, (int(sx), int(sy2)), elbow, look["shirt"], arm_w, cv2.LINE_AA)
                cv2.line(img, elbow, hand, look["shirt"], arm_w, cv2.LINE_AA)
                cv2.circle(img, hand, max(2, int(0.028 * H)), look["skin"], -1, cv2.LINE_AA)
        return arms

    def _standing(self, img: np.ndarray, i: int, roi: Roi, t: float, cx: float) -> None:
        H = self.height
        look = self._looks[2 * i + 1]
        cx += 3 * math.sin(2 * math.pi * 0.2 * t + self._phase[i][3]) * H / 360
        sy = 0.25 * H
        half = 0.15 * H
        body = np.array([[cx - half, sy + 0.03 * H], [cx - half * 0.7, sy], [cx + half * 0.7, sy],
                         [cx + half, sy + 0.03 * H], [cx + half * 0.9, H], [cx - half * 0.9, H]], np.int32)
        cv2.fillConvexPoly(img, body, look["shirt"], cv2.LINE_AA)
        for side in (-1, 1):
            top = (int(cx + side * half * 0.9), int(sy + 0.04 * H))
            cv2.line(img, top, (int(cx + side * half * 1.05), int(0.62 * H)), look["shirt"], int(0.055 * H),
                     cv2.LINE_AA)
        self._head(img, cx, sy - 0.105 * H, look, 0.0)

    def _head(self, img: np.ndarray, cx: float, cy: float, look: dict, turn: float) -> None:
        H = self.height
        hw, hh = 0.065 * H, 0.085 * H
        c = (int(cx), int(cy))
        cv2.rectangle(img, (int(cx - 0.025 * H), int(cy + hh * 0.6)), (int(cx + 0.025 * H), int(cy + hh * 1.4)),
                      look["skin"], -1)                                                      # neck
        hair_h = hh * (1.5 if look["long_hair"] else 1.08)
        cv2.ellipse(img, (c[0], int(cy + (hair_h - hh * 1.08) * 0.6)), (int(hw * 1.12), int(hair_h)), 0, 0, 360,
                    look["hair"], -1, cv2.LINE_AA)
        cv2.ellipse(img, c, (int(hw), int(hh)), 0, 0, 360, look["skin"], -1, cv2.LINE_AA)
        cv2.ellipse(img, (c[0], int(cy - hh * 0.55)), (int(hw * 1.02), int(hh * 0.5)), 0, 180, 360, look["hair"], -1,
                    cv2.LINE_AA)                                                             # fringe
        off = turn * hw * 0.45
        eye_y = int(cy - hh * 0.12)
        for side in (-1, 1):
            if turn * side > 0.65:
                continue                                         # this eye turned away from the camera
            ex = int(cx + off + side * hw * 0.42)
            cv2.line(img, (ex - int(hw * 0.22), eye_y - int(hh * 0.2)), (ex + int(hw * 0.22), eye_y - int(hh * 0.2)),
                     look["hair"], max(1, int(0.011 * H)), cv2.LINE_AA)                       # brow
            cv2.ellipse(img, (ex, eye_y), (int(hw * 0.2), int(hh * 0.08)), 0, 0, 360, (235, 235, 235), -1, cv2.LINE_AA)
            cv2.circle(img, (ex, eye_y), max(1, int(hh * 0.075)), (30, 25, 20), -1, cv2.LINE_AA)
        nose = (int(cx + off * 1.2), int(cy + hh * 0.18))
        cv2.line(img, (nose[0], eye_y + 2), nose, tuple(int(v * 0.8) for v in look["skin"]), 2, cv2.LINE_AA)
        cv2.ellipse(img, (int(cx + off), int(cy + hh * 0.5)), (int(hw * 0.33), int(hh * 0.07)), 0, 0, 360,
                    (60, 60, 150), -1, cv2.LINE_AA)                                          # mouth
