"""Voices: espeak-ng's Mandarin through pyttsx3 (and its command fallback), and recorded clips joined."""
from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import drivers.audio  # noqa: F401 — registers the voices
from drivers.audio import wav
from drivers.audio.base import AudioError, Utterance
from drivers.audio.chime import tone
from drivers.audio.clips_voice import ZH_CALL_TOKENS
from drivers.audio.espeak_voice import EspeakVoice, phonemes, spell_letters
from drivers.audio.espeak_voice import from_url as tts_from_url
from drivers.health import DeviceState
from drivers.registry import registry
from drivers.url import DeviceURLError

ROOT = Path(__file__).resolve().parent.parent
CALL = "请A零零一号到三号窗口办理"
voices = registry("voice")


@pytest.fixture(scope="module")
def espeak():
    v = voices.create("tts://espeak?voice=cmn-latn-pinyin&rate=150&pitch=50")
    v.open()
    yield v
    v.close()


def zh(text: str, tokens: tuple[str, ...] = ()) -> Utterance:
    return Utterance(text, tokens, "zh")


# -- URLs ------------------------------------------------------------------------------------------
def test_voice_schemes_are_registered():
    assert {"tts", "clips"} <= set(voices.schemes)


@pytest.mark.parametrize("raw,match", [
    ("tts://espeak?speed=1", "unknown option 'speed'"),
    ("tts://espeak?rate=20", "option 'rate'.*80..450"),
    ("tts://espeak?pitch=120", "option 'pitch'.*0..100"),
    ("tts://espeak?engine=festival", "option 'engine'.*pyttsx3, espeak-ng"),
    ("tts://espeak?timeout=0", "option 'timeout'"),
    ("tts://festival", "tts://espeak"),
    ("clips://zh?gap=30", "unknown option 'gap'; did you mean 'gap_ms'"),
    ("clips://zh?gap_ms=-1", "option 'gap_ms'"),
    ("clips://", "clips://zh"),
])
def test_voice_url_errors_name_the_part(raw, match):
    with pytest.raises(DeviceURLError, match=match):
        voices.create(raw)


def test_drivers_load_lazily_and_pyttsx3_only_when_a_speech_voice_opens():
    code = ("import sys, drivers.audio; from drivers.registry import registry\n"
            "registry('voice').create('tts://espeak'); registry('voice').create('clips://zh')\n"
            "registry('audio').create('sim://audio')\n"
            "print('pyttsx3' in sys.modules, 'drivers.audio.alsa_sink' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert out.stdout.split() == ["False", "False"], out.stderr


# -- espeak-ng through pyttsx3 ---------------------------------------------------------------------
@pytest.mark.parametrize("text,spoken", [
    ("请A零零一号到三号窗口办理", "请 A 零零一号到三号窗口办理"),
    ("请AB零零一号", "请 A B 零零一号"),            # "AB" alone would be read as pinyin
    ("请a零零一号", "请 A 零零一号"),
    ("请到VIP窗口", "请到 V I P 窗口"),
    ("三号窗口", "三号窗口"),
])
def test_latin_letters_are_spelled_out(text, spoken):
    assert spell_letters(text) == spoken


def test_the_mandarin_voice_reads_chinese_and_the_letter():
    ipa = phonemes(spell_letters(CALL), "cmn-latn-pinyin")
    assert "(en)" not in ipa                              # no switch to English rules
    assert ipa.split()[:3] == ["tɕhˈi2ŋ", "ˈei5", "lˈiɜŋ"]   # qǐng, the letter A, líng
    assert "(en)" in phonemes(CALL, "cmn")                # the trap: cmn reads Chinese with English rules


def test_espeak_renders_a_call_of_plausible_length(espeak):
    out = espeak.render(zh(CALL))
    assert wav.samples(out)                               # pipeline format (or samples() raises)
    assert 2.0 < wav.duration_s(out) < 6.0
    assert wav.rms(out) > 0.05
    head = wav.samples(out)[: round(0.03 * 22050)]
    assert max(abs(v) for v in head) > 300                # trimmed: speech starts within 30 ms


def test_espeak_same_text_twice_gives_the_same_length(espeak):
    a, b = espeak.render(zh(CALL)), espeak.render(zh(CALL))
    assert wav.duration_s(a) == pytest.approx(wav.duration_s(b), rel=0.02)


def test_espeak_speaks_english_with_an_english_voice(espeak):
    out = espeak.render(Utterance("Number A 0 0 1, please go to window 3", (), "en"))
    assert 1.5 < wav.duration_s(out) < 6.0 and wav.rms(out) > 0.05
    assert espeak.diagnostics()["voices"] == {"zh": "sit/cmn-latn-pinyin", "en": "gmw/en"}


def test_pyttsx3_speaks_exactly_what_the_espeak_ng_command_says(espeak):
    """The voice pyttsx3 selected is really cmn-latn-pinyin: same length as the command's, not cmn's."""
    ours = wav.duration_s(espeak.render(zh(CALL)))
    assert espeak.diagnostics()["by_command"] == 0 and "via pyttsx3" in espeak.health().detail
    with voices.create("tts://espeak?engine=espeak-ng") as command:
        assert wav.duration_s(command.render(zh(CALL))) == pytest.approx(ours, rel=0.01)
        assert "espeak-ng command" in command.health().detail
    with voices.create("tts://espeak?voice=cmn") as english_rules:
        assert abs(wav.duration_s(english_rules.render(zh(CALL))) - ours) > 0.1 * ours
        assert english_rules.health().state is DeviceState.DEGRADED


def test_pyttsx3_applies_voice_and_rate_on_every_render(espeak):
    """pyttsx3 cancels libespeak-ng's busy queue in runAndWait; a lost rate or voice changes the length."""
    lines = [zh(CALL), Utterance("Number A 0 0 1, please go to window 3", (), "en")]
    with voices.create("tts://espeak?engine=espeak-ng&rate=120") as command_slow, \
            voices.create("tts://espeak?engine=espeak-ng") as command:
        expected = {(rate, u.lang): wav.duration_s(v.render(u)) for rate, v in ((120, command_slow), (150, command))
                    for u in lines}
    with voices.create("tts://espeak?rate=120") as slow:
        threading.Event().wait(0.2)                         # idle first: the case that used to lose the rate
        for v, rate in ((slow, 120), (espeak, 150), (slow, 120), (espeak, 150)):
            for u in lines:
                assert wav.duration_s(v.render(u)) == pytest.approx(expected[rate, u.lang], abs=0.02), (rate, u)
        assert slow.diagnostics()["by_command"] == 0


def test_espeak_refuses_empty_text_and_an_unopened_voice(espeak):
    with pytest.raises(AudioError, match=r"nothing to say"):
        espeak.render(zh("  "))
    with pytest.raises(AudioError, match=r"not open"):
        voices.create("tts://espeak").render(zh(CALL))


def test_espeak_unknown_voice_is_named():
    with pytest.raises(AudioError, match=r"no voice 'no-such-voice'.*espeak-ng --voices"):
        voices.create("tts://espeak?voice=no-such-voice").open()


def test_missing_espeak_ng_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AudioError, match=r"espeak-ng is not installed: sudo apt-get install espeak-ng"):
        voices.create("tts://espeak").open()


class StuckSession:
    """A pyttsx3 session that hangs until released (like runAndWait #126), then renders a tone."""

    def __init__(self):
        self.release = threading.Event()
        self.calls = 0

    def render(self, text, voice_id, rate, pitch, path, timeout):
        self.calls += 1
        self.release.wait(10)
        return tone(440, 0.5)


def test_a_hung_pyttsx3_falls_back_to_the_command_logs_once_and_recovers(caplog):
    session = StuckSession()
    # the timeout bounds the espeak-ng command too: 0.5 s was too short for it on a loaded machine
    voice = EspeakVoice(tts_from_url("tts://espeak?timeout=3").url, session_factory=lambda: session)
    with voice, caplog.at_level(logging.WARNING, logger="drivers.audio.espeak_voice"):
        first = voice.render(zh(CALL))                      # pyttsx3 hangs 3 s, then the command speaks
        second = voice.render(zh("请B零零二号到四号窗口办理"))  # straight to the command: pyttsx3 is still stuck
        assert 2.0 < wav.duration_s(first) < 6.0 and 2.0 < wav.duration_s(second) < 6.0
        assert session.calls == 1
        assert voice.health().state is DeviceState.DEGRADED
        assert "did not finish" in voice.health().detail
        warnings = [r for r in caplog.records if "espeak-ng command" in r.getMessage()]
        assert len(warnings) == 1
        session.release.set()                               # the stuck render ends: pyttsx3 is used again
        for _ in range(50):
            if voice.health().state is DeviceState.OK:
                break
            threading.Event().wait(0.02)
        assert wav.duration_s(voice.render(zh(CALL))) == pytest.approx(0.5, abs=0.02)
        assert voice.diagnostics()["by_command"] == 2


def test_pyttsx3_that_cannot_start_leaves_the_command():
    def broken():
        raise RuntimeError("could not initialize espeak")
    voice = EspeakVoice(tts_from_url("tts://espeak").url, session_factory=broken)
    with voice:
        assert 2.0 < wav.duration_s(voice.render(zh(CALL))) < 6.0
        health = voice.health()
        assert health.state is DeviceState.DEGRADED and "could not initialize espeak" in health.detail


# -- recorded clips --------------------------------------------------------------------------------
@pytest.fixture
def clip_dir(tmp_path):
    """Tones as clips, in assorted formats, with silence around them as a recorder leaves it."""
    d = tmp_path / "clips"
    d.mkdir()
    lengths = {"请": 0.20, "A": 0.10, "零": 0.15, "一": 0.12, "号": 0.18, "窗口": 0.30}
    for i, (token, seconds) in enumerate(lengths.items()):
        padded = wav.join([wav.silence(0.2), tone(300 + 50 * i, seconds), wav.silence(0.3)])
        (d / f"{token}.wav").write_bytes(padded)
    padded = wav.join([wav.silence(0.1), tone(700, 0.25), wav.silence(0.1)])
    stereo_44k = wav.write_wav(b"".join(v.to_bytes(2, "little", signed=True) * 2     # both channels,
                                        for v in wav.samples(padded) for _ in range(2)),   # each sample twice
                               rate=44100, channels=2)
    (d / "到.wav").write_bytes(stereo_44k)                 # a 44.1 kHz stereo recording
    return d, {**lengths, "到": 0.25}


def test_clips_join_with_gaps(clip_dir):
    d, lengths = clip_dir
    tokens = ("请", "A", "零", "零", "一", "号", "到", "窗口")
    with voices.create(f"clips://zh?dir={d}&gap_ms=40") as voice:
        out = voice.render(zh("".join(tokens), tokens))
    keep = 2 * 0.010                                        # trimming leaves 10 ms before and after a word
    expected = sum(lengths[t] + keep for t in tokens) + 0.040 * (len(tokens) - 1)
    assert wav.duration_s(out) == pytest.approx(expected, abs=0.01)
    assert wav.samples(out)


def test_a_missing_clip_names_the_token_and_the_directory(clip_dir):
    d, _ = clip_dir
    with voices.create(f"clips://zh?dir={d}") as voice:
        assert voice.missing(["请", "B", "三", "B", "a"]) == ["B", "三"]     # a → A.wav
        with pytest.raises(AudioError, match=rf"no clip for 'B' '三' in {d}: record B.wav, 三.wav"):
            voice.render(zh("请B三", ("请", "B", "三")))
        assert voice.health().state is DeviceState.DEGRADED    # a zh set without 十, 二, …


def test_clips_open_errors_say_what_to_do(tmp_path):
    with pytest.raises(AudioError, match=r"no clip directory .*scripts/make-clips"):
        voices.create(f"clips://zh?dir={tmp_path / 'nowhere'}").open()
    with pytest.raises(AudioError, match=r"no clips"):
        voices.create(f"clips://zh?dir={tmp_path}").open()
    (tmp_path / "请.wav").write_bytes(b"RIFF not really")
    with pytest.raises(AudioError, match=r"请.wav cannot be used: not a PCM WAV"):
        voices.create(f"clips://zh?dir={tmp_path}").open()


def test_the_shipped_chinese_clips_cover_a_whole_call():
    tokens = ("请", "Z", "九", "九", "九", "号", "到", "二", "十", "二", "号", "窗口", "办理")
    with voices.create("clips://zh") as voice:          # the default dir: sounds/clips/zh in the project
        assert voice.missing(tokens) == [] and voice.missing(ZH_CALL_TOKENS) == []
        assert voice.health().state is DeviceState.OK
        out = voice.render(zh("".join(tokens), tokens))
    assert 3.0 < wav.duration_s(out) < 8.0 and wav.rms(out) > 0.05


def test_the_shipped_clips_are_small_trimmed_pipeline_wavs():
    clips = sorted((ROOT / "sounds" / "clips" / "zh").glob("*.wav"))
    assert {p.stem for p in clips} == set(ZH_CALL_TOKENS)
    for p in clips:
        data = p.read_bytes()
        s = wav.samples(data)                               # 22050 Hz mono 16-bit, or this raises
        assert len(data) < 80_000, p.name
        assert wav.duration_s(wav.trim_silence(data)) == pytest.approx(wav.duration_s(data), abs=0.03), p.name
        assert max(abs(v) for v in s) > 3000, p.name
    assert (ROOT / "sounds" / "clips" / "zh" / "README.md").is_file()
    assert wav.duration_s((ROOT / "sounds" / "chime.wav").read_bytes()) == pytest.approx(0.95, abs=0.001)
