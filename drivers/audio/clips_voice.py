"""`clips://zh`: calls spoken by joining one recorded clip per word, like most halls' calling systems.

    clips://zh?dir=sounds/clips/zh&gap_ms=30

Clip `<token>.wav` says one token of an Utterance: letters A.wav … Z.wav, digits 零.wav … 九.wav, 十.wav,
and words such as 请.wav, 窗口.wav. `dir` defaults to sounds/clips/<host>; a relative dir is taken from the
project root (the parent of `drivers`), so the same URL works whatever the working directory. Clips may be
any PCM WAV (8/16-bit, mono/stereo, any rate): they are converted and trimmed when the voice opens.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, DeviceURLError, parse_url
from .base import AudioError, Utterance, Voice
from .wav import join, read_wav, to_pipeline, trim_silence

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LETTERS = tuple(chr(c) for c in range(ord("A"), ord("Z") + 1))
DIGITS = tuple("零一二三四五六七八九")
# Every clip a Chinese calling phrase needs: 请A零零一号到三号窗口办理, 请第十五位…, 欢迎光临 …
ZH_WORDS = ("十", "百", "千", "请", "号", "到", "窗口", "办理", "第", "位", "请到", "前往", "取号", "欢迎光临",
            "顾客", "柜台")
ZH_CALL_TOKENS = LETTERS + DIGITS + ZH_WORDS


def _gap_ms(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 2000:
        raise ValueError("use 0..2000 milliseconds")
    return value


OPTIONS = {"dir": str, "gap_ms": _gap_ms}
DEFAULTS = {"gap_ms": 30}


def from_url(raw: str) -> ClipsVoice:
    """The registry factory for clips:// (the directory is read on open())."""
    url = parse_url(raw, OPTIONS, DEFAULTS)
    if not url.host or url.path not in ("", "/"):
        raise DeviceURLError(f"{raw}: write the clip set's language as the host, e.g. clips://zh "
                             "(and dir=… if the clips are not in sounds/clips/zh)")
    return ClipsVoice(url)


def clip_dir(url: DeviceURL) -> Path:
    d = Path(url.options.get("dir") or f"sounds/clips/{url.host}")
    return d if d.is_absolute() else PROJECT_ROOT / d


class ClipsVoice(Voice):
    """Joins the trimmed clip of each token with a small gap; a token without a clip is an AudioError."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self.dir = clip_dir(url)
        self._clips: dict[str, bytes] = {}

    def _open(self) -> None:
        if not self.dir.is_dir():
            raise AudioError(f"no clip directory {self.dir}: run scripts/make-clips, or copy the hall's "
                             "recordings there (one <token>.wav per word)")
        clips: dict[str, bytes] = {}
        for path in sorted(self.dir.glob("*.wav")):
            try:
                clip = trim_silence(to_pipeline(path.read_bytes()))
            except AudioError as exc:
                raise AudioError(f"clip {path} cannot be used: {exc}") from None
            if not read_wav(clip)[0]:
                raise AudioError(f"clip {path} is silent: record it again (or delete it)")
            clips[path.stem] = clip
        if not clips:
            raise AudioError(f"no clips (*.wav) in {self.dir}: run scripts/make-clips, or copy the hall's "
                             "recordings there")
        self._clips = clips
        logger.info("%s: %d clips from %s", self.url.raw, len(clips), self.dir)

    def _close(self) -> None:
        self._clips = {}

    def tokens(self) -> set[str]:
        """The tokens this voice can say (from the loaded clips, or the directory before open())."""
        if self._clips:
            return set(self._clips)
        return {p.stem for p in self.dir.glob("*.wav")} if self.dir.is_dir() else set()

    def missing(self, tokens: Iterable[str]) -> list[str]:
        """The tokens (each once, in order) that have no clip."""
        have = self.tokens()
        out: list[str] = []
        for t in tokens:
            if _name(t) not in have and t not in out:
                out.append(t)
        return out

    def health(self) -> DeviceHealth:
        if not self.is_open:
            return DeviceHealth(DeviceState.OFFLINE, f"the voice {self.url.raw} is not open")
        if not self.dir.is_dir():
            return DeviceHealth(DeviceState.OFFLINE, f"the clip directory {self.dir} has gone: restore it or "
                                "run scripts/make-clips")
        if self.url.host == "zh":
            lacking = self.missing(ZH_CALL_TOKENS)
            if lacking:
                return DeviceHealth(DeviceState.DEGRADED, f"no clips for {' '.join(lacking)} in {self.dir}: "
                                    "calls that need them cannot be spoken; run scripts/make-clips")
        return DeviceHealth(DeviceState.OK, f"{len(self._clips)} clips in {self.dir}")

    def render(self, utterance: Utterance) -> bytes:
        """The clips of `utterance.tokens` joined with gap_ms between them."""
        if not self.is_open:
            raise AudioError(f"the voice {self.url.raw} is not open: open() it first")
        if not utterance.tokens:
            raise AudioError(f"nothing to say: the utterance {utterance.text!r} has no tokens")
        lacking = self.missing(utterance.tokens)
        if lacking:
            names = ", ".join(f"{_name(t)}.wav" for t in lacking)
            raise AudioError(f"no clip for {' '.join(repr(t) for t in lacking)} in {self.dir}: record {names} "
                             "(any PCM WAV) or run scripts/make-clips")
        parts = [self._clips[_name(t)] for t in utterance.tokens]
        return join(parts, gap_s=self.url.options["gap_ms"] / 1000)

    def _diagnostics(self) -> dict[str, Any]:
        return {"dir": str(self.dir), "clips": len(self._clips), "gap_ms": self.url.options["gap_ms"]}


def _name(token: str) -> str:
    """The clip file stem of a token: a Latin letter in either case is its capital."""
    return token.upper() if len(token) == 1 and token.isascii() and token.isalpha() else token
