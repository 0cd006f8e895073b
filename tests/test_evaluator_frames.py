"""The evaluator key box's frames (drivers/evaluator/frames.py): AA ADDR CMD LEN PAYLOAD… CHK, CHK the sum mod 256."""
from __future__ import annotations

import pytest

from drivers.evaluator import frames as f


def test_the_documented_examples():
    assert f.lamp_on(1) == bytes.fromhex("AA 01 10 00 11")
    assert f.key(1, 2) == bytes.fromhex("AA 01 30 01 02 34")
    assert f.lamp_off(3) == bytes.fromhex("AA 03 11 00 14")
    assert f.status_query(1) == bytes.fromhex("AA 01 20 00 21")
    assert f.ack(1, f.KEY) == bytes.fromhex("AA 01 06 01 30 38")
    assert f.status(1, True, 7) == bytes.fromhex("AA 01 21 02 01 07 2C")
    assert f.checksum(bytes([0xFF, 0xFF, 0x02])) == 0x00       # modulo 256


@pytest.mark.parametrize("frame", [f.lamp_on(254), f.lamp_off(1), f.status_query(9), f.ack(2, f.LAMP_ON)])
def test_host_frames_round_trip(frame):
    got, used = f.parse_host(frame)
    assert used == len(frame) and f.encode(got.address, got.command, got.payload) == frame


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_every_key_round_trips(level):
    got, used = f.parse_box(f.key(7, level))
    assert (got.address, got.name, got.payload[0], used) == (7, "key", level, 6)
    assert f.LEVELS[level] == {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}[level]


def test_incomplete_and_garbage():
    frame = f.key(1, 5)
    assert f.parse_box(frame[:3]) == (None, 0)
    assert f.parse_box(b"\x00\x13" + frame[:5]) == (None, 2)          # garbage before a header may be dropped
    assert f.parse_box(b"\x00\x13") == (None, 2)
    got, used = f.parse_box(b"\x55\x00" + frame)
    assert got.payload == b"\x05" and used == 2 + len(frame)


@pytest.mark.parametrize("raw, words", [
    (f.key(1, 2)[:-1] + b"\x00", "wrong checksum"),
    (bytes.fromhex("AA 01 30 09") + bytes(10), "more than 2"),
    (bytes.fromhex("AA 00 30 01 02 33"), "reserved address"),
    (bytes.fromhex("AA 01 30 01 06 38"), "not a level 1..5"),
    (bytes.fromhex("AA 01 30 00 31"), "carries 0 payload"),
    (f.lamp_on(1), "does not take"),                                # a host command on the box's side
])
def test_broken_frames_are_frame_errors(raw, words):
    with pytest.raises(f.FrameError, match=words) as exc:
        f.parse_box(raw)
    assert exc.value.consumed >= 1


def test_the_reader_resyncs_after_a_bad_frame():
    r = f.FrameReader()
    r.feed(f.key(1, 2)[:-1] + b"\x00" + f.key(1, 4))
    with pytest.raises(f.FrameError):
        r.next()
    got = None
    while got is None:
        try:
            got = r.next()
        except f.FrameError:
            continue
    assert got.payload == b"\x04" and r.next() is None


@pytest.mark.parametrize("call", [lambda: f.key(1, 0), lambda: f.key(1, 6), lambda: f.lamp_on(0),
                                  lambda: f.lamp_on(255), lambda: f.encode(1, 0x99), lambda: f.encode(1, f.KEY, b"")])
def test_encoders_refuse_what_the_protocol_does_not_have(call):
    with pytest.raises(ValueError):
        call()
