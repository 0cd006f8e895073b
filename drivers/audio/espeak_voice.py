"""`tts://espeak`: calls spoken by espeak-ng's Mandarin voice through pyttsx3, off-line.

    tts://espeak?voice=cmn-latn-pinyin&voice_en=en&rate=150&pitch=50&timeout=5&engine=pyttsx3

espeak-ng's plain `cmn` voice reads Chinese with English rules; `cmn-latn-pinyin` (file sit/cmn-Latn-pinyin,
pyttsx3 id "sit/cmn-latn-pinyin") is the one that speaks Mandarin. Latin letters are spaced out so that
the A of A001 is said as the letter. pyttsx3 2.99 can hang in runAndWait (#126), returns from its first
runAndWait before the file is written, and breaks when an engine is collected while another lives (#219),
so it runs in one worker thread per voice with a timeout per render, on one engine kept for the life of
the process (pyttsx3_worker.py). If it fails or hangs, the voice speaks through the `espeak-ng` command
instead — same library, same voice, same WAV, but a process per render (~0.035 s here, against ~0.02 s)
— and says so once in the log. `engine=espeak-ng` uses the command from the start.
"""
from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, DeviceURLError, choice, parse_url, positive
from .base import AudioError, Utterance, Voice
from .pyttsx3_worker import Pyttsx3Session, RenderWorker, shared_session
from .wav import read_wav, to_pipeline, trim_silence

logger = logging.getLogger(__name__)

INSTALL = "espeak-ng is not installed: sudo apt-get install espeak-ng"
ENGLISH_RULES_VOICES = frozenset({"sit/cmn"})   # espeak-ng 1.51 reads Chinese text with English rules in it


def _pitch(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 100:
        raise ValueError("use 0..100 (50 is the voice's normal pitch)")
    return value


def _rate(text: str) -> int:
    value = int(text)
    if not 80 <= value <= 450:
        raise ValueError("use 80..450 words per minute (150 is calm and clear)")
    return value


OPTIONS = {"voice": str, "voice_en": str, "rate": _rate, "pitch": _pitch, "timeout": positive(float),
           "engine": choice("pyttsx3", "espeak-ng")}
DEFAULTS = {"voice": "cmn-latn-pinyin", "voice_en": "en", "rate": 150, "pitch": 50, "timeout": 5.0,
            "engine": "pyttsx3"}


def from_url(raw: str) -> EspeakVoice:
    """The registry factory for tts:// (nothing runs until open())."""
    url = parse_url(raw, OPTIONS, DEFAULTS)
    if url.host != "espeak" or url.path not in ("", "/"):
        raise DeviceURLError(f"{raw}: the speech voice is tts://espeak (options after '?'), "
                             f"not tts://{url.host}{url.path}")
    return EspeakVoice(url)


def spell_letters(text: str) -> str:
    """Space out Latin letters, upper-cased: 请A零零一号 → 请 A 零零一号 (AB or VIP would be read as pinyin)."""
    return re.sub(r"\s+", " ", re.sub(r"[A-Za-z]", lambda m: f" {m.group().upper()} ", text)).strip()


def espeak_voices() -> dict[str, str]:
    """espeak-ng's voices: every name a voice goes by (language, file, file's last part, name) → file id."""
    out = _run(["espeak-ng", "--voices"], timeout=10).stdout.decode("utf-8", "replace")
    names: dict[str, str] = {}
    for line in out.splitlines()[1:]:
        cols = line.split()
        if len(cols) < 5:
            continue
        language, voice_name, file_id = cols[1].lower(), cols[3].lower(), cols[4].lower()
        for key in (file_id, language, file_id.rsplit("/", 1)[-1], voice_name):
            names.setdefault(key, file_id)
    return names


def phonemes(text: str, voice: str = "cmn-latn-pinyin") -> str:
    """How espeak-ng reads `text` (IPA); "(en)" in it means English rules were used."""
    return _run(["espeak-ng", "-q", "--ipa", "-b", "1", "-v", voice, "--stdin"], text.encode(), 10).stdout.decode()


class EspeakVoice(Voice):
    """espeak-ng through pyttsx3 (or its command): renders an utterance's text to a trimmed pipeline WAV."""

    def __init__(self, url: DeviceURL, session_factory: Callable[[], Pyttsx3Session] | None = None):
        super().__init__(url)
        self._session_factory = session_factory or shared_session
        self._voice_ids: dict[str, str] = {}
        self._worker: RenderWorker | None = None
        self._stuck: Future | None = None          # a pyttsx3 render that outlived its timeout
        self._fallback_reason = ""
        self._tmp: Path | None = None
        self._stats = {"renders": 0, "by_command": 0, "last_render_s": None}

    # -- lifecycle -------------------------------------------------------------------------------
    def _open(self) -> None:
        if shutil.which("espeak-ng") is None:
            raise AudioError(INSTALL)
        known = espeak_voices()
        o = self.url.options
        for lang, name in (("zh", o["voice"]), ("en", o["voice_en"])):
            voice_id = known.get(name.lower())
            if voice_id is None:
                near = [k for k in known if name.lower() in k][:5]
                raise AudioError(f"espeak-ng has no voice {name!r}{f' (similar: {near})' if near else ''}; "
                                 "list them with `espeak-ng --voices`")
            self._voice_ids[lang] = voice_id
        if self._voice_ids["zh"] in ENGLISH_RULES_VOICES:
            logger.warning("%s: voice %s reads Chinese with English rules; use voice=cmn-latn-pinyin",
                           self.url.raw, self._voice_ids["zh"])
        self._tmp = Path(tempfile.mkdtemp(prefix="onewindow-tts-"))
        if o["engine"] == "pyttsx3":
            self._worker = RenderWorker(self._session_factory, name=f"pyttsx3 {self.url.raw}")
            try:
                self._worker.ready.result(timeout=o["timeout"])
            except FutureTimeout:
                self._use_command(f"pyttsx3 did not start within {o['timeout']:g} s")
            except Exception as exc:
                self._use_command(f"pyttsx3 could not start: {type(exc).__name__}: {exc}")

    def _close(self) -> None:
        worker, self._worker, self._stuck = self._worker, None, None
        if worker is not None and not worker.stop():
            logger.warning("%s: the pyttsx3 thread is stuck and is left behind (a daemon thread)", self.url.raw)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def health(self) -> DeviceHealth:
        if not self.is_open:
            return DeviceHealth(DeviceState.OFFLINE, f"the voice {self.url.raw} is not open")
        if shutil.which("espeak-ng") is None:
            return DeviceHealth(DeviceState.OFFLINE, INSTALL)
        if self._voice_ids["zh"] in ENGLISH_RULES_VOICES:
            return DeviceHealth(DeviceState.DEGRADED, f"voice {self._voice_ids['zh']} reads Chinese with English "
                                "rules: use voice=cmn-latn-pinyin")
        if self.url.options["engine"] == "pyttsx3" and not self._pyttsx3_usable():
            return DeviceHealth(DeviceState.DEGRADED, f"{self._fallback_reason}; speaking through the espeak-ng "
                                "command meanwhile")
        return DeviceHealth(DeviceState.OK, f"espeak-ng voice {self._voice_ids['zh']} via {self._engine_now()}")

    # -- rendering -------------------------------------------------------------------------------
    def render(self, utterance: Utterance) -> bytes:
        """The utterance spoken, as a trimmed pipeline WAV; AudioError if neither pyttsx3 nor the command can."""
        if not self.is_open or self._tmp is None:
            raise AudioError(f"the voice {self.url.raw} is not open: open() it first")
        lang = "en" if utterance.lang == "en" else "zh"
        text = utterance.text.strip() if lang == "en" else spell_letters(utterance.text)
        if not text:
            raise AudioError("nothing to say: the utterance's text is empty")
        voice_id = self._voice_ids[lang]
        started = time.perf_counter()
        raw = None
        if self._pyttsx3_usable():
            try:
                raw = self._render_pyttsx3(text, voice_id)
            except AudioError as exc:
                self._use_command(str(exc))
        if raw is None:
            raw = self._render_command(text, voice_id)
            self._stats["by_command"] += 1
        out = trim_silence(to_pipeline(raw))
        if not read_wav(out)[0]:
            raise AudioError(f"espeak-ng voice {voice_id} said nothing for {text!r}: check the text and the voice")
        self._stats["renders"] += 1
        self._stats["last_render_s"] = round(time.perf_counter() - started, 3)
        return out

    def _render_pyttsx3(self, text: str, voice_id: str) -> bytes:
        assert self._worker is not None and self._tmp is not None
        o = self.url.options
        fut = self._worker.submit(text, voice_id, o["rate"], o["pitch"], self._tmp / f"{uuid.uuid4().hex}.wav",
                                  o["timeout"])
        try:
            return fut.result(timeout=o["timeout"])
        except FutureTimeout:
            if not fut.cancel():
                self._stuck = fut
            raise AudioError(f"pyttsx3 did not finish a render within {o['timeout']:g} s") from None
        except AudioError:
            raise
        except Exception as exc:
            raise AudioError(f"pyttsx3 failed: {type(exc).__name__}: {exc}") from exc

    def _render_command(self, text: str, voice_id: str) -> bytes:
        assert self._tmp is not None
        o = self.url.options
        path = self._tmp / f"{uuid.uuid4().hex}.wav"
        try:
            _run(["espeak-ng", "-b", "1", "-v", voice_id, "-s", str(o["rate"]), "-p", str(o["pitch"]),
                  "-w", str(path), "--stdin"], text.encode(), o["timeout"])
            return path.read_bytes()
        except FileNotFoundError:
            raise AudioError("espeak-ng wrote no WAV file") from None
        finally:
            path.unlink(missing_ok=True)

    def _pyttsx3_usable(self) -> bool:
        w = self._worker
        if w is None or not w.ready.done() or w.ready.exception() is not None:
            return False
        if self._stuck is not None:
            if not self._stuck.done():
                return False
            self._stuck = None
            logger.info("%s: pyttsx3 finished its late render; speaking through it again", self.url.raw)
        return True

    def _use_command(self, reason: str) -> None:
        if not self._fallback_reason:
            logger.warning("%s: %s; speaking through the espeak-ng command instead", self.url.raw, reason)
        self._fallback_reason = reason

    def _engine_now(self) -> str:
        return "pyttsx3" if self._pyttsx3_usable() else "the espeak-ng command"

    def _diagnostics(self) -> dict[str, Any]:
        return {"voices": dict(self._voice_ids), "engine": self._engine_now() if self.is_open else None,
                "fallback_reason": self._fallback_reason or None, **self._stats}


def _run(cmd: list[str], stdin: bytes | None = None, timeout: float = 10) -> subprocess.CompletedProcess:
    """Run an espeak-ng command; AudioError saying what went wrong (missing, stuck, refused)."""
    try:
        proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise AudioError(INSTALL) from None
    except subprocess.TimeoutExpired:
        raise AudioError(f"{cmd[0]} did not finish within {timeout:g} s") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AudioError(f"{' '.join(cmd[:1] + cmd[1:5])} … failed (exit {proc.returncode}): "
                         f"{err[-1] if err else 'no message'}")
    return proc
