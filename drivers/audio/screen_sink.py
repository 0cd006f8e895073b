"""`screen://`: the calling screens' browsers play the announcement; this sink only notes it was handed over.

The hall server serves each announcement's WAV (/api/v1/announcements/{seq}.wav) and the screens fetch
and play it, so `play` returns at once.
"""
from __future__ import annotations

import threading
from typing import Any

from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, parse_url
from .base import AudioSink
from .wav import duration_s


def from_url(raw: str) -> ScreenSink:
    return ScreenSink(parse_url(raw))


class ScreenSink(AudioSink):
    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self._lock = threading.Lock()
        self.played = 0
        self.last_label = ""
        self.last_duration_s: float | None = None

    def _open(self) -> None:
        pass

    def _close(self) -> None:
        pass

    def health(self) -> DeviceHealth:
        return DeviceHealth(DeviceState.OK, "played by the calling screens' browsers")

    def play(self, wav: bytes, label: str = "") -> None:
        seconds = duration_s(wav)            # an AudioError for a broken WAV: the browsers could not play it
        with self._lock:
            self.played += 1
            self.last_label, self.last_duration_s = label, round(seconds, 3)

    def _diagnostics(self) -> dict[str, Any]:
        return {"played": self.played, "last_label": self.last_label, "last_duration_s": self.last_duration_s}
