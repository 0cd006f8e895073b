"""`alsa://`: the hall's loudspeakers through ALSA's `aplay`, one WAV at a time.

    alsa://default     alsa://hw:0,0     alsa://plughw:CARD=PCH,DEV=0     alsa://null?slack=5

The address is an ALSA PCM name as `aplay -D` takes it (empty: default). `play` pipes the WAV into
`aplay -q -D DEVICE -` and waits for it to finish; if it takes longer than the WAV plus `slack` seconds
the device is stuck (held by another program) and play raises AudioError. open() and health() check
that aplay is installed and that `aplay -L` / `aplay -l` list the device.
"""
from __future__ import annotations

import logging
import re
import shutil
import subprocess
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, DeviceURLError, parse_url, positive
from .base import AudioError, AudioSink
from .wav import duration_s

logger = logging.getLogger(__name__)

INSTALL = "aplay is not installed: sudo apt-get install alsa-utils"
OPTIONS = {"slack": positive(float)}
DEFAULTS = {"slack": 5.0}
_CARD = re.compile(r"^card (\d+): (\S+) \[(.*?)\], device (\d+): (.*)$")


def from_url(raw: str) -> AlsaSink:
    """The registry factory for alsa:// (ALSA names like hw:0,0 are no host:port, so the address is kept raw)."""
    parts = urlsplit(raw)
    probe = f"{parts.scheme}://?{parts.query}"
    try:
        opts = parse_url(probe, OPTIONS, DEFAULTS)
    except DeviceURLError as exc:
        raise DeviceURLError(str(exc).replace(probe, raw, 1)) from None
    device = unquote(parts.netloc + parts.path) or "default"
    return AlsaSink(DeviceURL(raw, parts.scheme, device, None, "", opts.options))


def list_devices(timeout: float = 5.0) -> tuple[list[str], list[tuple[int, str, int, str]]]:
    """ALSA's PCM names (`aplay -L`) and playback devices (`aplay -l`)."""
    return parse_names(_aplay("-L", timeout)), parse_cards(_aplay("-l", timeout))


def parse_names(text: str) -> list[str]:
    """The PCM names of `aplay -L` (unindented lines; descriptions are indented)."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line[0].isspace()]


def parse_cards(text: str) -> list[tuple[int, str, int, str]]:
    """(card number, card id, device number, description) of each device line of `aplay -l`."""
    cards = []
    for line in text.splitlines():
        m = _CARD.match(line.strip())
        if m:
            cards.append((int(m[1]), m[2], int(m[4]), f"card {m[1]}: {m[3]}, device {m[4]}: {m[5]}"))
    return cards


def find_device(device: str, names: list[str], cards: list[tuple[int, str, int, str]]) -> str | None:
    """What the device is (a line a technician recognises), or None if ALSA does not list it."""
    if device in names:
        return device
    prefix, _, spec = device.partition(":")
    if prefix in ("default", "sysdefault", "plug", "dmix") and not spec:
        return cards[0][3] if cards else None
    if prefix in ("hw", "plughw") and spec:
        values = [v.split("=", 1)[-1] for v in spec.split(",")]
        card, dev = values[0], int(values[1]) if len(values) > 1 and values[1].isdigit() else 0
        for number, card_id, card_dev, text in cards:
            if card in (str(number), card_id) and dev == card_dev:
                return text
    return None


def _aplay(flag: str, timeout: float) -> str:
    try:
        proc = subprocess.run(["aplay", flag], capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise AudioError(INSTALL) from None
    except subprocess.TimeoutExpired:
        raise AudioError(f"`aplay {flag}` did not answer within {timeout:g} s: ALSA is stuck; reboot the "
                         "calling PC or check `dmesg` for the sound card") from None
    return proc.stdout.decode("utf-8", "replace")


class AlsaSink(AudioSink):
    """aplay to one ALSA device; plays are serialised so two announcements never overlap."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self.device = url.host
        self._lock = threading.Lock()
        self._found = ""

    def _advice(self) -> str:
        return (f"no ALSA device {self.device!r}: check `aplay -l`, the speaker cable and the volume "
                "(`alsamixer`)")

    def _check(self) -> str:
        if shutil.which("aplay") is None:
            raise AudioError(INSTALL)
        found = find_device(self.device, *list_devices())
        if found is None:
            raise AudioError(self._advice())
        return found

    def _open(self) -> None:
        self._found = self._check()

    def _close(self) -> None:
        pass

    def health(self) -> DeviceHealth:
        try:
            self._found = self._check()
        except AudioError as exc:
            return DeviceHealth(DeviceState.OFFLINE, str(exc))
        return DeviceHealth(DeviceState.OK, f"ALSA device {self.device!r} ({self._found})")

    def play(self, wav: bytes, label: str = "") -> None:
        if not self.is_open:
            raise AudioError(f"the loudspeaker {self.url.raw} is not open: open() it first")
        limit = duration_s(wav) + self.url.options["slack"]
        with self._lock:
            try:
                proc = subprocess.run(["aplay", "-q", "-D", self.device, "-"], input=wav, capture_output=True,
                                      timeout=limit)
            except FileNotFoundError:
                raise AudioError(INSTALL) from None
            except subprocess.TimeoutExpired:
                raise AudioError(f"aplay did not finish {label or 'a WAV'!r} on {self.device!r} within {limit:.1f} s: "
                                 "another program may hold the device (`fuser -v /dev/snd/*`)") from None
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise AudioError(f"aplay could not play on {self.device!r} ({err[-1] if err else f'exit {proc.returncode}'}"
                             f"): {self._advice()}")
        logger.debug("played %r on %s", label, self.device)

    def _diagnostics(self) -> dict[str, Any]:
        return {"device": self.device, "found": self._found, "slack_s": self.url.options["slack"]}
