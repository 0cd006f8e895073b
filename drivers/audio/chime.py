"""The 叮咚 before a call, synthesised: E5 (659 Hz, 0.35 s) then C5 (523 Hz, 0.6 s), as a struck bell.

Each note has a soft attack, an exponential decay and two overtones that die away faster than the
fundamental — the difference between a bell and a beep. The first note rings on under the second.
"""
from __future__ import annotations

import functools
import math
from array import array

from .base import SAMPLE_RATE
from .wav import FULL_SCALE, from_samples

DING = (659.25, 0.35)      # E5, seconds until the next note
DONG = (523.25, 0.60)      # C5, seconds until the end
# (frequency multiple, relative level, decay time constant as a fraction of the fundamental's)
PARTIALS = ((1.0, 1.0, 1.0), (2.0, 0.35, 0.45), (3.0, 0.12, 0.25))
ATTACK_S = 0.006
PEAK = 0.7                 # of full scale: headroom for the volume scaling that follows


def note(freq_hz: float, seconds: float, tau_s: float, partials=PARTIALS) -> list[float]:
    """One struck note, -1..1: `tau_s` is the fundamental's decay time constant."""
    n = round(seconds * SAMPLE_RATE)
    attack = max(1, round(ATTACK_S * SAMPLE_RATE))
    out = [0.0] * n
    for multiple, level, tau_part in partials:
        w = 2 * math.pi * freq_hz * multiple / SAMPLE_RATE
        decay = math.exp(-1 / (tau_s * tau_part * SAMPLE_RATE))
        amp = level
        for i in range(n):
            out[i] += amp * math.sin(w * i)
            amp *= decay
    for i in range(min(attack, n)):          # raised-cosine attack: no click at the strike
        out[i] *= 0.5 - 0.5 * math.cos(math.pi * i / attack)
    return out


@functools.lru_cache(maxsize=1)
def chime() -> bytes:
    """叮咚 as a pipeline WAV (mono, 16-bit, SAMPLE_RATE), 0.95 s."""
    ding_f, ding_s = DING
    dong_f, dong_s = DONG
    total = ding_s + dong_s
    mix = note(ding_f, total, tau_s=0.30)                 # rings on, fading, under the 咚
    dong = note(dong_f, dong_s, tau_s=0.22)
    offset = round(ding_s * SAMPLE_RATE)
    for i, v in enumerate(dong):
        if offset + i < len(mix):
            mix[offset + i] += v
    fade = round(0.03 * SAMPLE_RATE)                      # end at exactly zero, no click
    for i in range(fade):
        mix[-1 - i] *= i / fade
    peak = max(abs(v) for v in mix) or 1.0
    gain = PEAK * (FULL_SCALE - 1) / peak
    return from_samples(array("h", (round(v * gain) for v in mix)))


def tone(freq_hz: float, seconds: float, volume: float = 0.5) -> bytes:
    """A plain sine with 5 ms fades, as a pipeline WAV: test material and a stand-in clip."""
    n = round(seconds * SAMPLE_RATE)
    fade = min(n // 2, round(0.005 * SAMPLE_RATE))
    w = 2 * math.pi * freq_hz / SAMPLE_RATE
    peak = volume * (FULL_SCALE - 1)
    values = array("h", bytes(2 * n))
    for i in range(n):
        edge = min(1.0, i / fade, (n - 1 - i) / fade) if fade else 1.0
        values[i] = round(peak * edge * math.sin(w * i))
    return from_samples(values)
