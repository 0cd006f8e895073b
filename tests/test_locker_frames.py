"""The lock-control board's frames (drivers/locker/frames.py): hardware.md's examples, BCC, polarity, bad frames."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.locker.base import DoorState
from drivers.locker.frames import (
    LOCKERBUS,
    MAX_BOARDS,
    MAX_LOCKS,
    Answer,
    FrameError,
    Request,
    bcc,
    door_state,
    encode_answer,
    encode_open,
    encode_read,
    feedback_of,
    parse_answer,
    parse_request,
)

H = bytes.fromhex


@pytest.mark.parametrize("frame,expected", [
    (encode_open(1, 1), "8A 01 01 11 9B"),      # hardware.md: open lock 1 of board 1
    (encode_open(1, 0), "8A 01 00 11 9A"),      # lock 00: every lock of the board
    (encode_read(1, 1), "80 01 01 33 B3"),      # read lock 1 of board 1
    (encode_open(2, 24), "8A 02 18 11 81"),
    (encode_read(32, 24), "80 20 18 33 8B"),
])
def test_hardware_examples(frame, expected):
    assert frame == H(expected)


def test_bcc_is_the_xor_of_the_first_four_bytes():
    assert bcc(H("8A 01 01 11")) == 0x9B
    assert bcc(H("80 01 01 33")) == 0xB3
    assert bcc(b"") == 0


@given(st.integers(1, MAX_BOARDS), st.integers(0, MAX_LOCKS), st.sampled_from(["open", "read"]),
       st.sampled_from([0x00, 0x11]), st.binary(max_size=6).filter(lambda b: 0x8A not in b and 0x80 not in b))
def test_requests_and_answers_round_trip_after_garbage(board, lock, command, feedback, garbage):
    if command == "read" and lock == 0:
        lock = 1
    request, frame = LOCKERBUS.request(command, board, lock)
    assert frame[4] == bcc(frame[:4]) and len(frame) == 5
    assert parse_request(garbage + frame) == (request, len(garbage) + 5)
    answer = encode_answer(request, feedback)
    assert answer[4] == bcc(answer[:4])
    assert parse_answer(garbage + answer + b"\x8a", request) == (Answer(command, board, lock, feedback),
                                                                 len(garbage) + 5)


@pytest.mark.parametrize("byte,wiring,state", [
    (0x11, "closed-short", DoorState.CLOSED), (0x00, "closed-short", DoorState.OPEN),
    (0x11, "open-short", DoorState.OPEN), (0x00, "open-short", DoorState.CLOSED),
])
def test_polarity_of_the_feedback_switch(byte, wiring, state):
    assert door_state(byte, wiring) is state
    assert feedback_of(state, wiring) == byte
    answer, _ = parse_answer(H(f"80 01 01 {byte:02X}") + bytes([bcc(H(f"80 01 01 {byte:02X}"))]),
                             Request("read", 1, 1))
    assert LOCKERBUS.state(answer, wiring) is state


def test_a_state_byte_that_is_neither_00_nor_11_and_an_unknown_wiring_are_refused():
    with pytest.raises(FrameError, match="0x05"):
        door_state(0x05, "closed-short")
    with pytest.raises(ValueError, match="closed-short, open-short"):
        door_state(0x11, "normally-closed")


def test_incomplete_frames_wait_and_garbage_is_skipped():
    assert parse_answer(b"", Request("open", 1, 1)) == (None, 0)
    assert parse_answer(H("00 FF 8A 01"), Request("open", 1, 1)) == (None, 2)      # keep the header
    assert parse_answer(H("00 FF 33"), Request("open", 1, 1)) == (None, 3)         # no header: all garbage
    assert parse_request(H("55 80 01")) == (None, 1)


@pytest.mark.parametrize("answer,request_,match", [
    ("8A 01 01 00 00", Request("open", 1, 1), "wrong BCC"),
    ("8A 02 01 00 89", Request("open", 1, 1), "for board 2 lock 1, not board 1 lock 1"),
    ("8A 01 02 00 89", Request("open", 1, 1), "for board 1 lock 2"),
    ("8A 01 01 05 8F", Request("open", 1, 1), "state byte 0x05"),
    ("80 01 01 11 91", Request("open", 1, 1), None),                # a read answer is not the open's: skipped
])
def test_bad_answers(answer, request_, match):
    if match is None:
        assert parse_answer(H(answer), request_) == (None, 5)
        return
    with pytest.raises(FrameError, match=match) as caught:
        parse_answer(H("00") + H(answer), request_)
    assert caught.value.consumed == 6          # the garbage and the broken frame are dropped


@pytest.mark.parametrize("frame,match", [
    ("8A 01 01 11 00", "wrong BCC"),
    ("8A 01 01 33 B9", "function 0x33"),
    ("80 01 00 33 B2", "lock is 1..24"),          # reading "every lock" is no request of this protocol
    ("8A 00 01 11 9A", "1..32"),
    ("8A 01 19 11 83", "0..24"),
])
def test_bad_requests_are_refused_by_the_boards(frame, match):
    with pytest.raises(FrameError, match=match) as caught:
        parse_request(H(frame))
    assert caught.value.consumed == 5


@pytest.mark.parametrize("call", [lambda: encode_open(0, 1), lambda: encode_open(33, 1), lambda: encode_open(1, 25),
                                  lambda: encode_read(1, 0), lambda: encode_open(True, 1),
                                  lambda: encode_answer(Request("read", 1, 1), 0x22)])
def test_encoders_refuse_what_a_board_cannot_take(call):
    with pytest.raises(ValueError):
        call()
