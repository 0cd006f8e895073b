"""WAV tools for the calling pipeline's format (mono 16-bit PCM at SAMPLE_RATE), standard library only.

`audioop` is deprecated in 3.11 and gone in 3.13, so conversion is plain `array` arithmetic: fast enough
for announcements (seconds of audio, not hours). Every function takes and returns whole WAV files as bytes.
"""
from __future__ import annotations

import io
import math
import sys
import wave
from array import array
from collections.abc import Sequence

from .base import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH, AudioError

FULL_SCALE = 32768
_BIG_ENDIAN = sys.byteorder == "big"


def read_wav(data: bytes) -> tuple[bytes, int, int, int]:
    """(frames, rate, channels, sample width in bytes) of a PCM WAV; AudioError if `data` is not one."""
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            return w.readframes(w.getnframes()), w.getframerate(), w.getnchannels(), w.getsampwidth()
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"not a PCM WAV file ({exc}); save it as uncompressed PCM, e.g. with "
                         "`sox in.wav -b 16 -c 1 -r 22050 out.wav`") from None


def write_wav(frames: bytes, rate: int = SAMPLE_RATE, channels: int = CHANNELS, width: int = SAMPLE_WIDTH) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(frames)
    return buf.getvalue()


def samples(wav: bytes) -> array:
    """The 16-bit samples of a pipeline WAV; AudioError if it is in another format (see `to_pipeline`)."""
    frames, rate, channels, width = read_wav(wav)
    if (rate, channels, width) != (SAMPLE_RATE, CHANNELS, SAMPLE_WIDTH):
        raise AudioError(f"WAV is {_describe(rate, channels, width)}, the calling pipeline needs "
                         f"{_describe(SAMPLE_RATE, CHANNELS, SAMPLE_WIDTH)}: convert it with to_pipeline()")
    return _int16(frames)


def from_samples(values: array | Sequence[int]) -> bytes:
    """A pipeline WAV from 16-bit sample values (clipped to the 16-bit range)."""
    out = values if isinstance(values, array) and values.typecode == "h" else array("h", (_clip(v) for v in values))
    if _BIG_ENDIAN:
        out = array("h", out)
        out.byteswap()
    return write_wav(out.tobytes())


def to_pipeline(data: bytes) -> bytes:
    """Any PCM WAV (8/16/24/32-bit, any channels, any rate) as mono 16-bit at SAMPLE_RATE."""
    frames, rate, channels, width = read_wav(data)
    if (rate, channels, width) == (SAMPLE_RATE, CHANNELS, SAMPLE_WIDTH):
        return write_wav(frames)
    values = _to_int16(frames, width)
    if channels > 1:
        values = _mix_down(values, channels)
    if rate != SAMPLE_RATE:
        values = resample(values, rate, SAMPLE_RATE)
    return from_samples(values)


def resample(values: array, src_rate: int, dst_rate: int) -> array:
    """Linear interpolation from `src_rate` to `dst_rate` (no anti-alias filter: fine for speech and chimes)."""
    if src_rate <= 0 or dst_rate <= 0:
        raise ValueError("sample rates must be positive")
    n = len(values)
    if src_rate == dst_rate or n == 0:
        return array("h", values)
    count = max(1, round(n * dst_rate / src_rate))
    step = src_rate / dst_rate
    last = n - 1
    out = array("h", bytes(2 * count))
    for i in range(count):
        pos = i * step
        j = int(pos)
        if j >= last:
            out[i] = values[last]
        else:
            frac = pos - j
            out[i] = round(values[j] + (values[j + 1] - values[j]) * frac)
    return out


def silence(seconds: float) -> bytes:
    if seconds < 0:
        raise ValueError("silence cannot last less than 0 s")
    return write_wav(bytes(SAMPLE_WIDTH * round(seconds * SAMPLE_RATE)))


def join(parts: Sequence[bytes], gap_s: float = 0.0) -> bytes:
    """Pipeline WAVs one after another, with `gap_s` of silence between two parts (none at the ends)."""
    if gap_s < 0:
        raise ValueError("the gap cannot be negative")
    gap = bytes(SAMPLE_WIDTH * round(gap_s * SAMPLE_RATE))
    chunks: list[bytes] = []
    for i, part in enumerate(parts):
        frames, rate, channels, width = read_wav(part)
        if (rate, channels, width) != (SAMPLE_RATE, CHANNELS, SAMPLE_WIDTH):
            raise AudioError(f"part {i} of the join is {_describe(rate, channels, width)}, not the pipeline's "
                             f"{_describe(SAMPLE_RATE, CHANNELS, SAMPLE_WIDTH)}: convert it with to_pipeline()")
        if i and gap:
            chunks.append(gap)
        chunks.append(frames)
    return write_wav(b"".join(chunks))


def scale(wav: bytes, volume: float) -> bytes:
    """A pipeline WAV at `volume` (0 silent … 1 unchanged)."""
    if not 0 <= volume <= 1:
        raise ValueError(f"volume {volume} is outside 0..1")
    if volume == 1:
        return wav
    values = samples(wav)
    return from_samples(array("h", (round(v * volume) for v in values)))


def duration_s(wav: bytes) -> float:
    """Length in seconds of any PCM WAV."""
    frames, rate, channels, width = read_wav(wav)
    return len(frames) / (rate * channels * width)


def rms(wav: bytes) -> float:
    """Root-mean-square level of a pipeline WAV, 0 (silence) … 1 (full scale)."""
    values = samples(wav)
    if not values:
        return 0.0
    return math.sqrt(sum(v * v for v in values) / len(values)) / FULL_SCALE


def trim_silence(wav: bytes, threshold: float = 0.01, keep_s: float = 0.01) -> bytes:
    """Cut leading and trailing samples below `threshold` (of full scale), keeping `keep_s` of each edge.

    Speech engines and recorders pad with silence; joined untrimmed, the words of a call fall apart.
    All silent → an empty WAV.
    """
    values = samples(wav)
    limit = threshold * FULL_SCALE
    loud = [i for i in (_first_loud(values, limit), _first_loud(values[::-1], limit)) if i is not None]
    if len(loud) < 2:
        return write_wav(b"")
    keep = round(keep_s * SAMPLE_RATE)
    start, end = max(0, loud[0] - keep), min(len(values), len(values) - loud[1] + keep)
    return from_samples(values[start:end])


# -- helpers ---------------------------------------------------------------------------------------
def _first_loud(values: array, limit: float) -> int | None:
    return next((i for i, v in enumerate(values) if abs(v) > limit), None)


def _describe(rate: int, channels: int, width: int) -> str:
    return f"{rate} Hz {'mono' if channels == 1 else f'{channels}-channel'} {8 * width}-bit"


def _clip(v: float) -> int:
    return max(-FULL_SCALE, min(FULL_SCALE - 1, round(v)))


def _int16(frames: bytes) -> array:
    values = array("h", frames)
    if _BIG_ENDIAN:
        values.byteswap()
    return values


def _to_int16(frames: bytes, width: int) -> array:
    """Little-endian PCM of `width` bytes as 16-bit values (8-bit WAV is unsigned; wider keeps its top 16 bits)."""
    if width == 1:
        return array("h", ((b - 128) << 8 for b in frames))
    if width == 2:
        return _int16(frames)
    if width in (3, 4):
        top = bytearray(2 * (len(frames) // width))
        top[0::2] = frames[width - 2::width]
        top[1::2] = frames[width - 1::width]
        return _int16(bytes(top))
    raise AudioError(f"{8 * width}-bit WAV samples are not supported; save it as 16-bit PCM")


def _mix_down(values: array, channels: int) -> array:
    columns = [values[c::channels] for c in range(channels)]
    return array("h", (round(sum(frame) / channels) for frame in zip(*columns, strict=False)))
