"""Spoken prompts of the elder mode (长者版): short sentences rendered to WAV by the kiosk's voice.

The voice is a `drivers/audio` voice URL (espeak-ng's Mandarin by default), opened on first use and
rendered in a worker thread; the last WAVs are kept, since the same prompts come back all day.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict

log = logging.getLogger(__name__)
CACHE = 64
MAX_CHARS = 120


class SpeechUnavailable(RuntimeError):
    """No voice is configured, or it could not be opened."""


class Prompts:
    def __init__(self, voice_url: str):
        self.voice_url = voice_url
        self._voice = None
        self._failed: str | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, bytes] = OrderedDict()

    @property
    def available(self) -> bool:
        return bool(self.voice_url) and self._failed is None

    def wav(self, text: str) -> bytes:
        """The WAV of `text` (blocking: call it in a thread). Raises SpeechUnavailable, ValueError."""
        text = " ".join(text.split())
        if not text or len(text) > MAX_CHARS:
            raise ValueError(f"a prompt has 1 to {MAX_CHARS} characters")
        if not self.available:
            raise SpeechUnavailable(self._failed or "no voice is configured for spoken prompts")
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
            from drivers.audio.base import Utterance

            wav = self._open().render(Utterance(text, tuple(text), "zh"))
            self._cache[text] = wav
            while len(self._cache) > CACHE:
                self._cache.popitem(last=False)
            return wav

    def _open(self):
        if self._voice is None:
            import drivers.audio  # noqa: F401 — registers the voices
            from drivers.registry import registry

            try:
                voice = registry("voice").create(self.voice_url)
                voice.open()
            except Exception as exc:
                self._failed = f"the voice {self.voice_url} could not be opened: {exc}"
                log.warning("spoken prompts are off: %s", self._failed)
                raise SpeechUnavailable(self._failed) from exc
            self._voice = voice
        return self._voice

    def close(self) -> None:
        with self._lock:
            if self._voice is not None:
                self._voice.close()
                self._voice = None
