"""Calling audio: voices render an Utterance to a WAV, sinks play WAVs one at a time.

Importing this package registers, each driver module imported on first use (pyttsx3 only loads for tts://):

    registry("voice"):  tts://espeak?voice=cmn-latn-pinyin&rate=150   clips://zh?gap_ms=30
    registry("audio"):  alsa://default   alsa://hw:0,0   screen://   sim://audio?speed=1&out=var/sim/audio

Tools for the pipeline format are in `wav` (join, scale, trim_silence, …) and the 叮咚 in `chime`.
"""
from __future__ import annotations

from ..registry import lazy, registry
from .base import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH, AudioError, AudioSink, Utterance, Voice

__all__ = ["CHANNELS", "SAMPLE_RATE", "SAMPLE_WIDTH", "AudioError", "AudioSink", "Utterance", "Voice"]


for _kind, _scheme, _factory in (("voice", "tts", lazy(__name__, "espeak_voice")),
                                 ("voice", "clips", lazy(__name__, "clips_voice")),
                                 ("audio", "alsa", lazy(__name__, "alsa_sink")),
                                 ("audio", "screen", lazy(__name__, "screen_sink")),
                                 ("audio", "sim", lazy(__name__, "sim_sink", "sim_from_url"))):
    if _scheme not in registry(_kind).schemes:
        registry(_kind).register(_scheme, _factory)
