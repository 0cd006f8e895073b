"""`sim://audio`: a loudspeaker that writes what it plays, and takes as long to play it as a real one.

    sim://audio?speed=1&out=var/sim/audio&offline=false

Each play writes `out/NNNN.wav` and appends to `out/timeline.jsonl` a line {"n", "label", "file",
"duration_s", "start", "end", "waited_s"} (wall-clock ISO times with ms). It sleeps duration/speed, so a
burst of calls takes real (scaled) time; plays from several threads are serialised by a lock, and
`waited_s` records how long a play waited for the one before it. `offline=true` injects a dead speaker.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, DeviceURLError, boolean, parse_url, positive
from .base import AudioError, AudioSink
from .wav import duration_s

logger = logging.getLogger(__name__)

DEFAULT_OUT = "var/sim/audio"
OPTIONS = {"speed": positive(float), "out": str, "offline": boolean}
DEFAULTS = {"speed": 1.0, "out": DEFAULT_OUT, "offline": False}


def sim_from_url(raw: str) -> SimSink:
    """The registry factory for sim:// of kind audio."""
    url = parse_url(raw, OPTIONS, DEFAULTS)
    if url.host != "audio" or url.path not in ("", "/"):
        raise DeviceURLError(f"{raw}: the loudspeaker simulator is sim://audio (options after '?'), "
                             f"not sim://{url.host}{url.path}")
    return SimSink(url)


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


class SimSink(AudioSink):
    """Plays into files and a timeline, one WAV at a time."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self.dir = Path(url.options["out"])
        self.speed: float = url.options["speed"]
        self.offline: bool = url.options["offline"]
        self._lock = threading.Lock()
        self._n = 0

    def _open(self) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AudioError(f"the audio simulator cannot write to {self.dir}: {exc}; set out= to a writable "
                             "directory") from None
        self._n = len(self.timeline())      # continue the numbering of an earlier run

    def _close(self) -> None:
        pass

    def health(self) -> DeviceHealth:
        if self.offline:
            return DeviceHealth(DeviceState.OFFLINE, "simulated loudspeaker is offline (offline=true in its URL)")
        if not self.is_open:
            return DeviceHealth(DeviceState.OFFLINE, "the simulated loudspeaker is not open")
        return DeviceHealth(DeviceState.OK, f"simulated loudspeaker writing to {self.dir} at speed {self.speed:g}")

    def play(self, wav: bytes, label: str = "") -> None:
        if not self.is_open:
            raise AudioError("the simulated loudspeaker is not open: open() it first")
        if self.offline:
            raise AudioError("simulated loudspeaker is offline (offline=true in its URL)")
        seconds = duration_s(wav)            # an AudioError for anything that is not a PCM WAV
        asked = time.monotonic()
        with self._lock:
            waited = time.monotonic() - asked
            self._n += 1
            name = f"{self._n:04d}.wav"
            (self.dir / name).write_bytes(wav)
            start = _now()
            time.sleep(seconds / self.speed)
            entry = {"n": self._n, "label": label, "file": name, "duration_s": round(seconds, 3),
                     "start": start, "end": _now(), "waited_s": round(waited, 3)}
            with (self.dir / "timeline.jsonl").open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        logger.debug("simulated play %s: %r (%.2f s)", name, label, seconds)

    def timeline(self) -> list[dict[str, Any]]:
        """Every play recorded in out/timeline.jsonl, in order."""
        path = self.dir / "timeline.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def _diagnostics(self) -> dict[str, Any]:
        return {"out": str(self.dir), "speed": self.speed, "played": self._n, "offline": self.offline}
