"""What is checked on an open device, per kind: its health, then (with --active) one real action.

Each function gets the open device, its Target, the Options and the Check to fill in. Passive checks never
print, speak, show or wait for a person; the active ones do exactly one thing a technician can see or hear.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from drivers.redact import redact

from . import FAIL, OK, WARN, Check
from .modem import sms

if TYPE_CHECKING:
    from .targets import Options, Target

TEST_PHRASE = "设备检测，这是测试语音"


def printer(dev: Any, target: Target, opts: Options, check: Check) -> None:
    if not opts.active:
        return
    if check.state == FAIL:
        check.worse(FAIL, "no test print: the printer is not ready")
        return
    from drivers.printer.receipt import Receipt
    receipt = Receipt(hall_name="onewindow 设备检测 / diagnose", number="T000", matter_name="测试小票 test receipt",
                      waiting_ahead=0, estimated_wait_s=0, issued_at=datetime.now().strftime("%Y-%m-%d %H:%M"),
                      status_url="http://onewindow.invalid/t/0", materials=["中文 GB18030 与 ASCII"], header=[],
                      footer=["如能读到本行，中文打印正常。", "If you can read this, printing works."],
                      width=getattr(dev, "width", 80))
    dev.print_receipt(receipt)
    check.detail += "; a test receipt was printed"
    sim = getattr(dev, "simulator", None)
    if sim is not None:
        printed = sim.wait_receipts(1, timeout=10)
        if printed:
            check.data["receipt_png"] = str(printed[-1]["png"])


def idcard(dev: Any, target: Target, opts: Options, check: Check) -> None:
    if not opts.active or check.state == FAIL:
        return
    from drivers.base import DeviceError
    try:
        card = dev.read_card(opts.wait)
    except DeviceError as exc:          # CardReadError too: its message never holds card data
        check.worse(FAIL, f"the card read failed: {exc}")
        return
    if card is None:
        check.worse(WARN, f"no card was presented within {opts.wait:g} s")
        return
    out = redact(card.redacted(), {"name", "id_number", "address", "photo", "birth_date"})
    del card
    check.data["card"] = out
    check.detail += f"; a card was read ({out.get('kind', 'card')} {out.get('id_masked', '')})"


def screen_addresses(target: Target) -> list[int]:
    """The addresses the hall writes on this bus (as hall_server/hardware/screens.py chooses them)."""
    screens = dict(target.screens)
    if not any(k.isdigit() for k in screens):       # no window named: each window's screen at its own number
        screens.update({str(w): w for w in target.windows})
    return sorted(set(screens.values()))


def display(dev: Any, target: Target, opts: Options, check: Check) -> None:
    addresses = screen_addresses(target)
    check.data["addresses"] = addresses
    if not opts.active:
        check.detail += f"; screens at {_span(addresses)} (--active writes a test pattern on each)"
        return
    from drivers.display.base import DisplayError
    digits = dev.diagnostics().get("digits")
    failed: dict[int, str] = {}
    for address in addresses:
        text = "8" * int(digits) if digits else f"设备检测{address}"
        try:
            dev.show(address, text)
        except DisplayError as exc:
            failed[address] = str(exc)
    sim = getattr(dev, "simulator", None)
    if sim is not None and addresses and addresses[-1] not in failed:     # one-way frames: let the last arrive
        sim.wait_for(addresses[-1], text, 2.0)
    health = dev.health()
    if failed:
        first = next(iter(failed.values()))
        what = health.detail if "no screen answers" in health.detail else first
        check.state, check.detail = FAIL, (f"{len(addresses) - len(failed)} of {len(addresses)} screens took the test "
                                           f"pattern; {what}")
    else:
        check.detail = (f"{health.detail}; a test pattern went to the screens at {_span(addresses)} (they keep it "
                        "until the hall server writes them again)")


def camera(dev: Any, target: Target, opts: Options, check: Check) -> None:
    """A frame, its age and the rate achieved: frames are read for a moment, so the rate means something."""
    frame, until = None, time.monotonic() + min(2.0, opts.timeout / 4)
    while time.monotonic() < until:
        frame = dev.read(timeout=max(0.05, until - time.monotonic())) or frame
    frame = frame or dev.latest()
    if frame is None:
        if check.state == OK:
            check.worse(FAIL, "no frame came")
        return
    age = dev.diagnostics().get("frame_age_s")
    w, h = frame.image.shape[1], frame.image.shape[0]
    check.data.update({"frame": {"seq": frame.seq, "at": round(frame.at, 2), "width": w, "height": h},
                       "fps": round(dev.fps, 2), "frame_age_s": age})
    if check.state == OK:
        check.detail = f"{w}×{h}, {dev.fps:.1f} frames/s, newest frame {age if age is not None else '?'} s old"


def caller(dev: Any, target: Target, opts: Options, check: Check) -> None:
    if not opts.active or check.state == FAIL:
        return
    press = dev.read_key(opts.wait)
    if press is None:
        check.worse(WARN, f"no key was pressed within {opts.wait:g} s")
        return
    windows = [w for w, a in target.keypads.items() if a == press.address] or (
        [str(press.address)] if not target.keypads else [])
    check.data["press"] = {"address": press.address, "key": press.key, "windows": windows}
    check.detail += (f"; key {press.key!r} was pressed on the keypad at address {press.address}"
                     + (f" (window {', '.join(windows)})" if windows else " (no window has that address)"))


def evaluator(dev: Any, target: Target, opts: Options, check: Check) -> None:
    """Passive: the box answers a status query (its health). Active: the lamp lights for --wait seconds and the
    first key is reported (a simulator presses 5 非常满意 itself), then the lamp goes out."""
    window = f" of window {target.window}" if target.window is not None else " (bound to no window: set window = N)"
    if not opts.active or check.state == FAIL:
        if check.state != FAIL:
            check.detail += f"; the key box{window} (--active lights its lamp and waits for a key)"
        return
    from drivers.evaluator.base import LEVELS, EvaluatorError
    sim = getattr(dev, "simulator", None)
    if sim is not None:
        def press() -> None:
            if sim.wait_until(lambda: sim.faults()["lamp"], opts.wait):
                sim.press(5)
        threading.Thread(target=press, daemon=True, name="diagnose evaluator press").start()
    try:
        level = dev.prompt(opts.wait)
    except EvaluatorError as exc:
        check.worse(FAIL, f"the key box stopped answering while its lamp was lit: {exc}")
        return
    if level is None:
        check.worse(WARN, f"the lamp was lit but no key was pressed within {opts.wait:g} s")
        return
    check.data["key"] = {"level": level, "name": LEVELS[level]}
    check.detail += f"; the lamp lit and key {level} ({LEVELS[level]}) was pressed on the key box{window}"


def locker(dev: Any, target: Target, opts: Options, check: Check) -> None:
    """Every board answered in the health check; --active opens one door a technician names as empty."""
    boards = list(dev.boards)
    check.data["board_addresses"] = boards       # "boards" and "locks" (their counts) come with the diagnostics
    if not opts.active:
        check.detail += f"; {len(boards)} board(s) of {dev.locks} locks (--active --locker-door B:L opens a door)"
        return
    if check.state == FAIL:
        check.worse(FAIL, "no test door was opened: the boards do not answer")
        return
    door = opts.locker_door or ((1, 1) if getattr(dev, "simulator", None) is not None else None)
    if door is None:
        check.worse(WARN, "no door was opened: name an empty compartment with --locker-door BOARD:LOCK")
        return
    from drivers.locker.base import DoorState, LockerError
    board, lock = door
    try:
        before = dev.door_state(board, lock)
        after = dev.open_door(board, lock)
    except LockerError as exc:
        check.data["door"] = exc.as_dict()
        check.worse(FAIL, f"the test door did not open: {exc.en}")
        return
    check.data["door"] = {"board": board, "lock": lock, "before": str(before), "after": str(after)}
    if before is DoorState.OPEN:
        check.worse(WARN, f"door {lock} of board {board} was already open before the test (it opened again): "
                          "look inside before you shut it")
    else:
        check.detail += f"; door {lock} of board {board} opened: shut it by hand (门已打开，请手动关门)"


_speech_lock = threading.Lock()
_speech: dict[str, bytes] = {}


def speech(voice_url: str) -> bytes:
    """The test phrase as WAV, through the hall's voice (rendered once per run)."""
    with _speech_lock:
        if voice_url not in _speech:
            import drivers.audio  # noqa: F401 — registers the voices
            from drivers.audio.base import Utterance
            from drivers.registry import registry

            from ..speech.text import _tokens_of
            voice = registry("voice").create(voice_url)
            with voice:
                _speech[voice_url] = voice.render(Utterance(TEST_PHRASE, tuple(_tokens_of(TEST_PHRASE)), "zh"))
        return _speech[voice_url]


def voice(dev: Any, target: Target, opts: Options, check: Check) -> None:
    if not opts.active or check.state == FAIL:
        return
    from drivers.audio.base import Utterance
    from drivers.audio.wav import duration_s

    from ..speech.text import _tokens_of
    wav = dev.render(Utterance(TEST_PHRASE, tuple(_tokens_of(TEST_PHRASE)), "zh"))
    check.data["test_phrase_s"] = round(duration_s(wav), 2)
    check.detail += f"; rendered the test phrase ({duration_s(wav):.1f} s)"


def audio(dev: Any, target: Target, opts: Options, check: Check) -> None:
    if not opts.active or check.state == FAIL:
        return
    if not opts.voice:
        check.worse(WARN, "no test phrase: the hall has no [calling] voice")
        return
    from drivers.audio.wav import duration_s
    wav = speech(opts.voice)
    dev.play(wav, label=TEST_PHRASE)
    check.detail += f"; played the test phrase {TEST_PHRASE!r} ({duration_s(wav):.1f} s)"


KINDS = {"printer": printer, "idcard": idcard, "display": display, "camera": camera, "caller": caller,
         "audio": audio, "voice": voice, "locker": locker, "sms": sms,
         "evaluator": evaluator}


def _span(addresses) -> str:
    """[1, 2, 3, 5, 99] → "1-3, 5, 99"."""
    runs: list[list[int]] = []
    for a in sorted(addresses):
        if runs and a == runs[-1][1] + 1:
            runs[-1][1] = a
        else:
            runs.append([a, a])
    text = ", ".join(f"{lo}-{hi}" if hi > lo + 1 else (f"{lo}, {hi}" if hi > lo else str(lo)) for lo, hi in runs)
    return text or "none"


__all__ = ["KINDS", "OK", "screen_addresses"]
