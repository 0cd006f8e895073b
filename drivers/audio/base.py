"""Calling audio: voices that turn an announcement into a WAV, and sinks that play a WAV.

Every WAV in the calling pipeline is mono 16-bit PCM at SAMPLE_RATE, so clips, chime and speech can be
joined with the standard library's `wave`. A voice (`tts://espeak`, `clips://zh`) renders an `Utterance`:
the text for a speech engine, and the same words as tokens for a voice made of recorded clips. A sink
(`alsa://default`, `screen://`, `sim://audio`) plays one WAV at a time; `play` returns when it has been
played, so whoever calls it in order gets announcements that never overlap.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass

from ..base import Device, DeviceError

SAMPLE_RATE = 22050
SAMPLE_WIDTH = 2          # bytes: 16-bit signed PCM
CHANNELS = 1


class AudioError(DeviceError):
    """A voice could not speak or a sink could not play; the message says what to do."""


@dataclass(frozen=True)
class Utterance:
    """What to say: `text` for a speech engine, `tokens` (the same words, one clip each) for recorded clips.

    E.g. text "请A零零一号到三号窗口办理", tokens ("请", "A", "零", "零", "一", "号", "到", "三", "号", "窗口", "办理").
    `lang` is "zh" or "en" (an optional English line uses a different voice).
    """
    text: str
    tokens: tuple[str, ...]
    lang: str = "zh"


class Voice(Device):
    """Renders utterances to WAV bytes (mono, 16-bit, SAMPLE_RATE)."""
    kind = "voice"

    @abc.abstractmethod
    def render(self, utterance: Utterance) -> bytes: ...


class AudioSink(Device):
    """Plays WAV bytes; returns once they have been played (or handed to a player that queues them)."""
    kind = "audio"

    @abc.abstractmethod
    def play(self, wav: bytes, label: str = "") -> None:
        """Play `wav`; `label` (the announcement's text) is for timelines and logs."""
