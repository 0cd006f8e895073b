"""Audio sinks: the simulated loudspeaker's timeline, ALSA through aplay (without a sound card), the screens."""
from __future__ import annotations

import itertools
import shutil
import subprocess
import threading
import time
from datetime import datetime

import pytest

import drivers.audio  # noqa: F401 — registers the sinks
from drivers.audio import wav
from drivers.audio.alsa_sink import find_device, parse_cards, parse_names
from drivers.audio.base import AudioError
from drivers.audio.chime import tone
from drivers.health import DeviceState
from drivers.registry import registry
from drivers.url import DeviceURLError

sinks = registry("audio")

APLAY_L = """null
    Discard all samples (playback) or generate zero samples (capture)
default
    Playback/recording through the PulseAudio sound server
sysdefault:CARD=PCH
    HDA Intel PCH, ALC892 Analog
hw:CARD=PCH,DEV=0
    HDA Intel PCH, ALC892 Analog
"""
APLAY_SMALL_L = """**** List of PLAYBACK Hardware Devices ****
card 0: PCH [HDA Intel PCH], device 0: ALC892 Analog [ALC892 Analog]
  Subdevices: 1/1
  Subdevice #0: subdevice #0
card 0: PCH [HDA Intel PCH], device 3: HDMI 0 [HDMI 0]
card 1: Device [USB Audio Device], device 0: USB Audio [USB Audio]
"""


def test_sink_schemes_are_registered():
    assert {"alsa", "screen", "sim"} <= set(sinks.schemes)


@pytest.mark.parametrize("raw,match", [
    ("sim://audio?speed=0", "option 'speed'.*greater than 0"),
    ("sim://audio?sped=2", "unknown option 'sped'; did you mean 'speed'"),
    ("sim://audio?offline=maybe", "option 'offline'.*true or false"),
    ("sim://speaker", "sim://audio"),
    ("alsa://hw:0,0?slak=1", r"alsa://hw:0,0\?slak=1: unknown option 'slak'; did you mean 'slack'"),
    ("alsa://default?slack=-1", "option 'slack'"),
    ("screen://?volume=1", "unknown option 'volume'"),
])
def test_sink_url_errors_name_the_option(raw, match):
    with pytest.raises(DeviceURLError, match=match):
        sinks.create(raw)


# -- ALSA ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw,device,slack", [
    ("alsa://default", "default", 5.0),
    ("alsa://", "default", 5.0),
    ("alsa://hw:0,0", "hw:0,0", 5.0),
    ("alsa://plughw:CARD=PCH,DEV=0?slack=2", "plughw:CARD=PCH,DEV=0", 2.0),   # case kept
    ("alsa://null", "null", 5.0),
])
def test_alsa_urls_keep_the_device_name(raw, device, slack):
    sink = sinks.create(raw)
    assert sink.device == device and sink.url.options["slack"] == slack and not sink.is_open


def test_aplay_listings_parse():
    assert parse_names(APLAY_L) == ["null", "default", "sysdefault:CARD=PCH", "hw:CARD=PCH,DEV=0"]
    assert [c[:3] for c in parse_cards(APLAY_SMALL_L)] == [(0, "PCH", 0), (0, "PCH", 3), (1, "Device", 0)]


@pytest.mark.parametrize("device,names,found", [
    ("default", [], "card 0: HDA Intel PCH, device 0: ALC892 Analog [ALC892 Analog]"),
    ("default", ["null", "default"], "default"),
    ("hw:0,0", [], "card 0: HDA Intel PCH, device 0: ALC892 Analog [ALC892 Analog]"),
    ("hw:0,3", [], "card 0: HDA Intel PCH, device 3: HDMI 0 [HDMI 0]"),
    ("plughw:1", [], "card 1: USB Audio Device, device 0: USB Audio [USB Audio]"),
    ("hw:CARD=Device,DEV=0", [], "card 1: USB Audio Device, device 0: USB Audio [USB Audio]"),
    ("hw:2,0", [], None),
    ("hw:0,1", [], None),
    ("dmix:CARD=X", [], None),
])
def test_find_device_from_listings(device, names, found):
    assert find_device(device, names, parse_cards(APLAY_SMALL_L)) == found


def test_no_sound_card_means_default_is_offline_with_advice():
    assert shutil.which("aplay"), "alsa-utils is part of the set-up"
    if subprocess.run(["aplay", "-l"], capture_output=True, text=True).stdout.strip():
        pytest.skip("this machine has a sound card")
    sink = sinks.create("alsa://default")
    health = sink.health()
    assert health.state is DeviceState.OFFLINE
    assert health.detail.startswith("no ALSA device 'default': check `aplay -l`, the speaker cable and the volume")
    with pytest.raises(AudioError, match=r"no ALSA device 'default'"):
        sink.open()


def test_alsa_null_device_plays():
    if "null" not in parse_names(subprocess.run(["aplay", "-L"], capture_output=True, text=True).stdout):
        pytest.skip("ALSA lists no null device here")
    with sinks.create("alsa://null") as sink:
        assert sink.health().state is DeviceState.OK
        sink.play(tone(440, 0.2), "请A零零一号")


@pytest.fixture
def fake_aplay(tmp_path, monkeypatch):
    """An `aplay` on PATH that lists `null` and then behaves as told: hang, or fail."""
    def install(play: str):
        script = tmp_path / "aplay"
        script.write_text(f'#!/bin/sh\ncase "$1" in -L) echo null;; -l) ;; *) {play};; esac\n')
        script.chmod(0o755)
        monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    return install


def test_alsa_play_that_hangs_is_an_error(fake_aplay):
    fake_aplay("cat >/dev/null; exec sleep 5")
    with sinks.create("alsa://null?slack=0.3") as sink:
        started = time.monotonic()
        with pytest.raises(AudioError, match=r"did not finish '请A零零一号' on 'null' within 0.4 s.*fuser"):
            sink.play(tone(440, 0.1), "请A零零一号")
        assert time.monotonic() - started < 2


def test_alsa_play_failure_says_what_aplay_said(fake_aplay):
    fake_aplay("cat >/dev/null; echo 'aplay: main:831: audio open error: Device or resource busy' >&2; exit 1")
    with sinks.create("alsa://null") as sink, pytest.raises(AudioError, match=r"resource busy.*speaker cable"):
        sink.play(tone(440, 0.1))


def test_alsa_without_aplay_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    sink = sinks.create("alsa://default")
    assert sink.health().detail == "aplay is not installed: sudo apt-get install alsa-utils"
    with pytest.raises(AudioError, match=r"apt-get install alsa-utils"):
        sink.open()


# -- the simulator ---------------------------------------------------------------------------------
def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def test_sim_sink_serialises_concurrent_plays(tmp_path):
    clips = [tone(300 + 20 * i, 0.5) for i in range(20)]
    with sinks.create(f"sim://audio?speed=50&out={tmp_path}") as sink:
        barrier = threading.Barrier(20)

        def play(i):
            barrier.wait()
            sink.play(clips[i], f"call {i}")

        threads = [threading.Thread(target=play, args=(i,)) for i in range(20)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        elapsed = time.monotonic() - started
        timeline = sink.timeline()
    assert [e["n"] for e in timeline] == list(range(1, 21))
    assert sorted(e["label"] for e in timeline) == sorted(f"call {i}" for i in range(20))
    assert elapsed >= 20 * 0.5 / 50 - 0.01                  # one after another, each taking 0.01 s
    for before, after in itertools.pairwise(timeline):
        assert _at(before["end"]) <= _at(after["start"]), (before, after)     # never two at once
    assert max(e["waited_s"] for e in timeline) > 0         # some had to wait for the one before
    for e in timeline:
        i = int(e["label"].split()[1])
        assert e["file"] == f"{e['n']:04d}.wav" and e["duration_s"] == 0.5
        assert (tmp_path / e["file"]).read_bytes() == clips[i]


def test_sim_sink_takes_scaled_real_time_and_continues_numbering(tmp_path):
    with sinks.create(f"sim://audio?speed=10&out={tmp_path}") as sink:
        started = time.monotonic()
        sink.play(tone(440, 1.0), "one second")
        assert time.monotonic() - started >= 0.1
        entry = sink.timeline()[0]
        assert (_at(entry["end"]) - _at(entry["start"])).total_seconds() == pytest.approx(0.1, abs=0.05)
    with sinks.create(f"sim://audio?speed=100&out={tmp_path}") as again:
        again.play(wav.silence(0.1), "after a restart")
        assert [(e["n"], e["label"]) for e in again.timeline()] == [(1, "one second"), (2, "after a restart")]
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == ["0001.wav", "0002.wav"]


def test_sim_sink_faults(tmp_path):
    with sinks.create(f"sim://audio?offline=true&out={tmp_path}") as dead:
        assert dead.health().state is DeviceState.OFFLINE
        with pytest.raises(AudioError, match=r"offline"):
            dead.play(tone(440, 0.1))
    with sinks.create(f"sim://audio?out={tmp_path}") as sink:
        assert sink.health().state is DeviceState.OK
        with pytest.raises(AudioError, match=r"not a PCM WAV"):
            sink.play(b"MP3?", "broken")
    assert sink.health().state is DeviceState.OFFLINE       # closed


# -- the calling screens ---------------------------------------------------------------------------
def test_screen_sink_returns_at_once_and_remembers_the_label():
    with sinks.create("screen://") as sink:
        started = time.monotonic()
        sink.play(tone(440, 2.0), "请A零零一号到三号窗口办理")
        assert time.monotonic() - started < 0.5
        assert sink.health().state is DeviceState.OK
        assert sink.health().detail == "played by the calling screens' browsers"
        assert sink.diagnostics()["last_label"] == "请A零零一号到三号窗口办理"
