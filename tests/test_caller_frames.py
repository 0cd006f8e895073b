"""Caller keypad frames from tables, and fuzzed: decoders raise only FrameError, and resync after noise."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.caller.frames import (
    KEYS,
    LABELS,
    MAX_TEXT_BYTES,
    FrameError,
    FrameReader,
    KeyFrame,
    TextFrame,
    encode_ack,
    encode_key,
    encode_text,
    parse_host_frame,
    parse_key_frame,
    text_bytes,
)

H = bytes.fromhex


@pytest.mark.parametrize(("address", "key", "frame"), [
    (1, "call", "02 01 31 30 03"),
    (3, "recall", "02 03 32 31 03"),
    (2, "pause", "02 02 33 31 03"),         # an address equal to STX is still unambiguous
    (22, "transfer", "02 16 34 22 03"),
    (254, "skip", "02 fe 35 cb 03"),
    (7, "evaluate", "02 07 36 31 03"),
])
def test_key_frames(address, key, frame):
    assert encode_key(address, key) == H(frame)
    assert parse_key_frame(H(frame)) == (KeyFrame(address, key), 5)
    assert encode_ack(address, key) == H("06" + frame[2:])
    assert parse_host_frame(H("06" + frame[2:])) == (KeyFrame(address, key), 5)


def test_every_key_has_a_code_and_a_label():
    assert set(KEYS) == set(LABELS) == {"call", "recall", "pause", "transfer", "skip", "evaluate"}
    assert len(set(KEYS.values())) == len(KEYS)


@pytest.mark.parametrize(("frame", "problem"), [
    ("02 03 31 30 03", "wrong check byte"),
    ("02 03 31 32 04", "does not end in 03"),
    ("02 00 31 31 03", "reserved address"),
    ("02 ff 31 ce 03", "reserved address"),
    ("02 03 39 3a 03", "names no key"),
])
def test_bad_key_frames(frame, problem):
    with pytest.raises(FrameError, match=problem) as err:
        parse_key_frame(H(frame))
    assert err.value.consumed == 1


@pytest.mark.parametrize(("buf", "result"), [
    ("", (None, 0)),
    ("ff 00 55", (None, 3)),                 # garbage, no start byte: drop it
    ("ff 02 03 31", (None, 1)),              # garbage, then half a frame: keep the frame's start
    ("ff 02 03 31 32 03 02", (KeyFrame(3, "call"), 6)),
])
def test_stream_parsing(buf, result):
    assert parse_key_frame(H(buf)) == result


@pytest.mark.parametrize(("address", "text", "frame"), [
    (3, "A001", "1b 03 04 41 30 30 31 77 03"),
    (1, "", "1b 01 00 01 03"),
    # GB2312: 请 C7EB
    (2, "请", "1b 02 02 c7 eb 2c 03"),
])
def test_text_frames(address, text, frame):
    assert encode_text(address, text) == H(frame)
    assert parse_host_frame(H(frame)) == (TextFrame(address, text), len(H(frame)))


def test_text_is_cut_to_fit_without_half_characters():
    assert len(text_bytes("请" * 40)) == MAX_TEXT_BYTES
    assert text_bytes("A" + "请" * 20).decode("gb2312") == "A" + "请" * 15
    assert text_bytes("a\x02b\x03c") == b"abc"
    assert text_bytes("😀") == b"?"


@pytest.mark.parametrize("bad", [0, 255, -1, 300, "3"])
def test_encoders_refuse_bad_addresses(bad):
    with pytest.raises(ValueError, match="address"):
        encode_key(bad, "call")


def test_encoders_refuse_unknown_keys():
    with pytest.raises(ValueError, match="unknown keypad key"):
        encode_ack(1, "finish")


def test_a_reader_skips_a_bad_frame_once_and_finds_the_next():
    reader = FrameReader()
    reader.feed(H("02 03 31 00 03") + encode_key(4, "skip"))
    with pytest.raises(FrameError):
        reader.next()
    assert reader.next() == KeyFrame(4, "skip")
    assert reader.next() is None


presses = st.tuples(st.integers(1, 254), st.sampled_from(sorted(KEYS)))


@given(st.binary(max_size=64))
def test_any_bytes_raise_only_frame_errors(data):
    for parse in (parse_key_frame, parse_host_frame):
        try:
            frame, consumed = parse(data)
        except FrameError as exc:
            assert 0 < exc.consumed <= len(data)
        else:
            assert 0 <= consumed <= len(data)
            assert frame is None or isinstance(frame, (KeyFrame, TextFrame))


@given(st.lists(st.tuples(st.binary(max_size=8).filter(lambda b: 0x02 not in b), presses), max_size=6))
def test_presses_after_noise_all_come_through(items):
    reader, stream = FrameReader(), b""
    for noise, (address, key) in items:
        stream += noise + encode_key(address, key)
    got = []
    for i in range(0, len(stream), 3):            # bytes arrive in small pieces
        reader.feed(stream[i:i + 3])
        while True:
            try:
                frame = reader.next()
            except FrameError:
                continue
            if frame is None:
                break
            got.append((frame.address, frame.key))
    assert got == [p for _, p in items]


@given(st.lists(st.one_of(presses.map(lambda p: encode_ack(*p)),
                          st.tuples(st.integers(1, 254), st.text(max_size=20)).map(lambda a: encode_text(*a))),
                max_size=6))
def test_host_frames_round_trip(frames):
    reader = FrameReader(parse_host_frame)
    reader.feed(b"".join(frames))
    got = []
    while (frame := reader.next()) is not None:
        got.append(frame)
    assert len(got) == len(frames)
    for raw, frame in zip(frames, got, strict=True):
        assert (encode_ack(frame.address, frame.key) if isinstance(frame, KeyFrame)
                else encode_text(frame.address, frame.text)) == raw
