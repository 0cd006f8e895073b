"""The calling pipeline's WAV tools and the chime: conversion, join, scale, trim, from tables and properties."""
from __future__ import annotations

import itertools
import math
import struct
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.audio import wav
from drivers.audio.base import SAMPLE_RATE, AudioError
from drivers.audio.chime import chime, tone


def pcm(values, rate=SAMPLE_RATE, channels=1, width=2) -> bytes:
    """A WAV of raw sample values in any format (8-bit unsigned, 16/24/32-bit signed little-endian)."""
    if width == 1:
        frames = bytes(v + 128 for v in values)
    else:
        frames = b"".join(struct.pack("<i", v << (8 * (width - 2)))[:width] for v in values)
    return wav.write_wav(frames, rate, channels, width)


def frames_of(data: bytes) -> int:
    frames, _, channels, width = wav.read_wav(data)
    return len(frames) // (channels * width)


# -- reading and conversion ------------------------------------------------------------------------
def test_read_wav_gives_frames_and_format():
    data = pcm([0, 100, -100], rate=16000)
    frames, rate, channels, width = wav.read_wav(data)
    assert (rate, channels, width) == (16000, 1, 2)
    assert array("h", frames).tolist() == [0, 100, -100]


@pytest.mark.parametrize("junk", [b"", b"RIFF", b"not a wav at all" * 10])
def test_read_wav_rejects_non_wav_with_advice(junk):
    with pytest.raises(AudioError, match=r"not a PCM WAV.*sox"):
        wav.read_wav(junk)


@pytest.mark.parametrize("width,values,expected", [
    (1, [0, 127, -128], [0, 127 << 8, -128 << 8]),            # 8-bit is unsigned around 128
    (2, [0, 1000, -32768], [0, 1000, -32768]),
    (3, [0, 1000, -32768], [0, 1000, -32768]),                # top 16 bits of 24-bit
    (4, [0, 1000, -32768], [0, 1000, -32768]),
])
def test_to_pipeline_converts_sample_widths(width, values, expected):
    out = wav.to_pipeline(pcm(values, width=width))
    assert wav.samples(out).tolist() == expected


def test_to_pipeline_mixes_stereo_to_mono():
    stereo = pcm([1000, 3000, -2000, -4000], channels=2)      # two frames: (1000, 3000), (-2000, -4000)
    assert wav.samples(wav.to_pipeline(stereo)).tolist() == [2000, -3000]


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 44100, 48000])
def test_to_pipeline_resamples_keeping_duration_and_pitch(rate):
    seconds, freq = 0.5, 440.0
    values = [round(10000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(round(seconds * rate))]
    out = wav.to_pipeline(pcm(values, rate=rate))
    assert wav.duration_s(out) == pytest.approx(seconds, abs=1 / rate)
    s = wav.samples(out)
    crossings = sum(1 for a, b in itertools.pairwise(s) if a < 0 <= b)
    assert crossings == pytest.approx(freq * seconds, abs=2)  # still 440 Hz


def test_samples_refuses_other_formats_and_says_how():
    with pytest.raises(AudioError, match=r"44100 Hz mono 16-bit.*to_pipeline"):
        wav.samples(pcm([0, 1], rate=44100))


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.integers(-32768, 32767), min_size=1, max_size=300),
       src=st.sampled_from([8000, 16000, 22050, 44100, 48000]), dst=st.sampled_from([8000, 22050, 48000]))
def test_resample_length_and_range(values, src, dst):
    out = wav.resample(array("h", values), src, dst)
    assert len(out) == max(1, round(len(values) * dst / src))
    assert min(values) <= min(out) and max(out) <= max(values)    # linear interpolation never overshoots


@given(level=st.integers(-32768, 32767), n=st.integers(2, 200))
def test_resample_keeps_a_constant_constant(level, n):
    assert set(wav.resample(array("h", [level] * n), 48000, 22050)) == {level}


# -- silence, join, scale, duration ----------------------------------------------------------------
@pytest.mark.parametrize("seconds,frames", [(0, 0), (0.1, 2205), (1, 22050), (0.00001, 0)])
def test_silence(seconds, frames):
    s = wav.silence(seconds)
    assert frames_of(s) == frames and wav.rms(s) == 0


@pytest.mark.parametrize("durations,gap,total", [
    ([0.2], 0.5, 0.2),                          # no gap at the ends
    ([0.2, 0.3], 0.0, 0.5),
    ([0.2, 0.3], 0.1, 0.6),
    ([0.1, 0.1, 0.1, 0.1], 0.05, 0.55),
    ([], 0.3, 0.0),
])
def test_join_adds_durations_and_gaps(durations, gap, total):
    out = wav.join([tone(440, d) for d in durations], gap_s=gap)
    assert wav.duration_s(out) == pytest.approx(total, abs=1e-4)


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(0, 2000), max_size=6), gap_ms=st.integers(0, 100))
def test_join_durations_add_up(lengths, gap_ms):
    parts = [wav.from_samples([7] * n) for n in lengths]
    out = wav.join(parts, gap_s=gap_ms / 1000)
    gap = round(gap_ms / 1000 * SAMPLE_RATE)
    assert frames_of(out) == sum(lengths) + gap * max(0, len(lengths) - 1)
    assert wav.samples(out).count(7) == sum(lengths)          # the parts, in full, and only silence between


def test_join_refuses_a_part_in_another_format():
    with pytest.raises(AudioError, match=r"part 1 .* 44100 Hz"):
        wav.join([tone(440, 0.1), pcm([0] * 10, rate=44100)])


@pytest.mark.parametrize("volume,expected", [(1, [1000, -2000]), (0.5, [500, -1000]), (0, [0, 0])])
def test_scale(volume, expected):
    assert wav.samples(wav.scale(wav.from_samples([1000, -2000]), volume)).tolist() == expected


@pytest.mark.parametrize("volume", [-0.1, 1.5])
def test_scale_refuses_volume_outside_0_1(volume):
    with pytest.raises(ValueError, match=r"outside 0..1"):
        wav.scale(tone(440, 0.1), volume)


@given(volume=st.floats(0, 1))
def test_scale_never_louder(volume):
    base = tone(440, 0.05, volume=0.9)
    assert wav.rms(wav.scale(base, volume)) <= wav.rms(base) + 1e-9


def test_duration_and_rms_of_tones():
    t = tone(440, 0.25, volume=0.5)
    assert wav.duration_s(t) == pytest.approx(0.25, abs=1 / SAMPLE_RATE)
    assert wav.rms(t) == pytest.approx(0.5 / math.sqrt(2), rel=0.05)    # a sine's rms is peak/√2
    assert wav.duration_s(pcm([0] * 4410, rate=44100)) == pytest.approx(0.1)   # any PCM WAV


# -- trimming --------------------------------------------------------------------------------------
@pytest.mark.parametrize("lead,body,tail", [(0.3, 0.2, 0.5), (0, 0.2, 0.4), (0.4, 0.2, 0), (0, 0.3, 0)])
def test_trim_silence_cuts_both_ends(lead, body, tail):
    padded = wav.join([wav.silence(lead), tone(440, body, 0.5), wav.silence(tail)])
    trimmed = wav.trim_silence(padded, keep_s=0)
    assert wav.duration_s(trimmed) == pytest.approx(body, abs=0.002)    # the fades' first samples are quiet


def test_trim_silence_keeps_a_margin_and_treats_faint_noise_as_silence():
    hiss = wav.from_samples([50, -50] * 2205)                 # 0.2 s at -56 dBFS
    trimmed = wav.trim_silence(wav.join([hiss, tone(440, 0.2), hiss]), threshold=0.01, keep_s=0.02)
    assert wav.duration_s(trimmed) == pytest.approx(0.24, abs=0.003)


def test_trim_silence_of_silence_is_empty():
    assert frames_of(wav.trim_silence(wav.silence(0.5))) == 0


# -- chime -----------------------------------------------------------------------------------------
def test_chime_is_a_pipeline_wav_of_two_notes_fading_out():
    c = chime()
    s = wav.samples(c)                                        # pipeline format, or this raises
    assert wav.duration_s(c) == pytest.approx(0.95, abs=0.001)
    assert max(abs(v) for v in s) <= 0.71 * 32768             # headroom for the volume that follows
    assert s[0] == 0 and s[-1] == 0                           # soft attack, faded end: no clicks
    ding, dong = s[: round(0.35 * SAMPLE_RATE)], s[round(0.35 * SAMPLE_RATE):]
    assert _pitch(ding[:4000]) == pytest.approx(659, rel=0.03)
    assert _pitch(dong[500:4500]) == pytest.approx(523, rel=0.08)   # the 叮 still rings faintly under it
    tail = wav.from_samples(s[-2205:])
    assert wav.rms(tail) < wav.rms(wav.from_samples(s[8000:10205])) / 3   # decays


def _pitch(values) -> float:
    """Fundamental by zero crossings (fine for a note whose fundamental dominates)."""
    ups = sum(1 for a, b in itertools.pairwise(values) if a < 0 <= b)
    return ups * SAMPLE_RATE / len(values)
