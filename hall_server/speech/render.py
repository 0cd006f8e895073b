"""Rendering a call to WAV, in a worker process of its own at a lower CPU priority.

Speech synthesis (espeak-ng through pyttsx3, or joining clips) is the one CPU-heavy thing a call sets
off; in a worker process it never holds the server's interpreter lock or memory, so a burst of calls
cannot slow call-next for the clerks. The worker keeps its voice open and the last phrases it spoke.
"""
from __future__ import annotations

import contextlib
import os
from collections import OrderedDict
from pathlib import Path

SPEECH_CACHE = 16               # rendered phrases kept in the worker
GAP_S = 0.35                    # between the chime and the phrase, and between repetitions

_voice = None
_voice_url = ""
_speech: OrderedDict[str, bytes] = OrderedDict()


def init_worker() -> None:
    """The worker yields the CPU to the server: calls are heard a moment later, never clerks kept waiting."""
    with contextlib.suppress(OSError):
        os.nice(10)


def warm_up(voice_url: str) -> None:
    """Open the voice before the first call, so the morning's first announcement is not the slow one."""
    from drivers.audio.base import Utterance
    _speak(voice_url, Utterance("请", ("请",), "zh"))


def render_call(voice_url: str, lines: list[tuple[str, tuple[str, ...], str]], repeat: int, chime_on: bool,
                volume: float, path: str) -> None:
    """Write the WAV of one call (chime, then the lines `repeat` times) to `path`, atomically."""
    from drivers.audio import chime, wav
    from drivers.audio.base import Utterance

    speech = [_speak(voice_url, Utterance(text, tuple(tokens), lang)) for text, tokens, lang in lines]
    parts = ([chime.chime()] if chime_on else []) + speech * repeat
    out = wav.scale(wav.join(parts, gap_s=GAP_S), volume)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(out)
    tmp.replace(target)             # never a half-written WAV under the final name


def _speak(voice_url: str, utterance) -> bytes:
    global _voice, _voice_url
    if _voice is None or _voice_url != voice_url:
        import drivers.audio  # noqa: F401 — registers the voices
        from drivers.registry import registry

        if _voice is not None:
            _voice.close()
        _voice, _voice_url = None, voice_url
        voice = registry("voice").create(voice_url)
        voice.open()
        _voice = voice
        _speech.clear()
    key = f"{utterance.lang}|{utterance.text}"
    hit = _speech.get(key)
    if hit is None:
        hit = _speech[key] = _voice.render(utterance)
        while len(_speech) > SPEECH_CACHE:
            _speech.popitem(last=False)
    return hit
