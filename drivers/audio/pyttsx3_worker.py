"""pyttsx3, tamed: one engine per process behind a lock, driven from one worker thread per voice.

pyttsx3 2.99's espeak driver wraps libespeak-ng, which is one synthesizer per process, initialised once,
and asynchronous: property changes and speech go through its command queue. Two traps follow, both seen
here: runAndWait calls espeak_Cancel when that queue is still busy, dropping the rate/voice just set (a
call came out at the default 200 words a minute); and the first runAndWait returns before the file is
written. So a render waits for the queue to drain before runAndWait and for "finished-utterance" after
it. A collected engine unsets the synth callback of a live one (#219), so the engine is created once and
kept; runAndWait can hang (#126), so it runs in a thread the voice can give up on.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from .base import AudioError


class Pyttsx3Session:
    """A pyttsx3 engine, the lock that serialises it, and `is_busy` (espeak_IsPlaying: its queue is busy)."""

    def __init__(self, engine: Any, is_busy: Callable[[], Any] = lambda: False):
        self.engine = engine
        self.lock = threading.Lock()
        self._is_busy = is_busy
        self._errors: list[BaseException] = []
        self._finished = threading.Event()
        engine.connect("error", self._on_error)
        engine.connect("finished-utterance", self._on_finished)
        with self.lock:                  # drain the driver's start-up settings, then one empty run: from
            self._settle(5.0)            # now on pyttsx3 applies properties at once instead of queueing them
            if engine.isBusy():          # (a new engine; an empty run of a used one would hang, #126)
                engine.runAndWait()
                self._settle(5.0)

    def _on_error(self, exception: BaseException | None = None, **_: Any) -> None:
        self._errors.append(exception or RuntimeError("unknown pyttsx3 error"))

    def _on_finished(self, **_: Any) -> None:
        self._finished.set()

    def _settle(self, timeout: float) -> None:
        """Wait until libespeak-ng has run every queued command, so runAndWait has nothing to cancel."""
        deadline = time.monotonic() + timeout
        while self._is_busy():
            if time.monotonic() > deadline:
                raise AudioError(f"libespeak-ng stayed busy for {timeout:g} s")
            time.sleep(0.002)

    def render(self, text: str, voice_id: str, rate: int, pitch: int, path: Path, timeout: float = 5.0) -> bytes:
        """Speak `text` into `path` and return its bytes (the file is removed)."""
        with self.lock:
            self._errors.clear()
            self._finished.clear()
            e = self.engine
            e.setProperty("voice", voice_id)
            e.setProperty("rate", rate)
            e.setProperty("pitch", pitch)
            self._settle(timeout)
            e.save_to_file(text, str(path))
            e.runAndWait()
            if not self._finished.wait(timeout):
                raise AudioError(f"pyttsx3 did not finish speaking within {timeout:g} s")
            if self._errors:
                raise AudioError(f"pyttsx3 failed: {self._errors[0]}")
            if e.getProperty("voice") != voice_id:
                raise AudioError(f"pyttsx3 did not select voice {voice_id!r} (it has {e.getProperty('voice')!r})")
            self._settle(timeout)        # the callback's tail (setBusy, endLoop) is done before the next render
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise AudioError("pyttsx3 wrote no WAV file") from None
        finally:
            path.unlink(missing_ok=True)


_shared: dict[str, Pyttsx3Session] = {}
_shared_lock = threading.Lock()


def shared_session() -> Pyttsx3Session:
    """The process's one pyttsx3 espeak session, created on first use and never dropped (#219)."""
    with _shared_lock:
        if "espeak" not in _shared:
            import pyttsx3
            import pyttsx3.drivers._espeak as libespeak
            import pyttsx3.drivers.espeak as driver

            driver.print = lambda *args, **kwargs: None   # 2.99 prints "Audio saved to …" for every file
            _shared["espeak"] = Pyttsx3Session(pyttsx3.init("espeak"), is_busy=libespeak.IsPlaying)
        return _shared["espeak"]


class RenderWorker:
    """The voice's one pyttsx3 thread: makes the session, then renders queued jobs one at a time."""

    def __init__(self, make_session: Callable[[], Pyttsx3Session], name: str):
        self._make_session = make_session
        self._jobs: list[tuple[Future, tuple]] = []
        self._wake = threading.Condition()
        self._stopping = False
        self.ready: Future = Future()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, *args: Any) -> Future:
        fut: Future = Future()
        with self._wake:
            self._jobs.append((fut, args))
            self._wake.notify()
        return fut

    def stop(self, wait_s: float = 2.0) -> bool:
        """Ask the thread to end; False if it is stuck in pyttsx3 (a daemon thread, left behind)."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(wait_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            session = self._make_session()
        except BaseException as exc:     # ImportError, RuntimeError("could not initialize espeak"), …
            self.ready.set_exception(exc)
            return
        self.ready.set_result(session)
        while True:
            with self._wake:
                while not self._jobs and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    for fut, _ in self._jobs:
                        fut.cancel()
                    return
                fut, args = self._jobs.pop(0)
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(session.render(*args))
            except BaseException as exc:
                fut.set_exception(exc)
