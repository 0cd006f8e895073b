"""LED screen frames from tables: QSystem-style text frames (GB2312/ASCII) and Modbus RTU for LED-485 screens."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.display.frames import (
    EXCEPTIONS,
    SEGMENTS,
    FrameError,
    ModbusRequest,
    TextFrame,
    TextFrameReader,
    board_text,
    crc16_modbus,
    decode_request,
    decode_response,
    decode_segments,
    decode_text_frame,
    encode_exception,
    encode_response,
    encode_segments,
    encode_text_frame,
    numeric_value,
    parse_request,
    segment_text,
    write_register,
    write_registers,
)

H = bytes.fromhex


# -- text frames -----------------------------------------------------------------------------------
# GB2312 codes from the standard's table: 请 C7EB 到 B5BD 号 BAC5 窗 B4B0 口 BFDA 暂 D4DD 停 CDA3 服 B7FE 务 CEF1
@pytest.mark.parametrize(("address", "text", "encoding", "width", "frame"), [
    (1, "A001", "ascii", None, "01 01 41 30 30 31 07"),
    (3, "请A001到3号窗口", "gb2312", None, "01 03 c7eb 41303031 b5bd 33 bac5 b4b0 bfda 07"),
    (12, "暂停服务", "gb2312", 16, "01 0c d4dd cda3 b7fe cef1 07"),
    (0x07, "X", "ascii", None, "01 07 58 07"),                  # the address is positional: 07 is fine there
    (0x01, "", "gb2312", None, "01 01 07"),                      # clearing a screen
    (255, "1", "ascii", None, "01 ff 31 07"),
    (2, "请A001", "ascii", None, "01 02 3f 41 30 30 31 07"),     # an ASCII board draws '?' for Chinese
    (2, "Ａ００１", "ascii", None, "01 02 41 30 30 31 07"),      # full-width letters become ASCII
    (2, "A\x07B\x01C\n\x00\x7f", "ascii", None, "01 02 41 42 43 07"),   # control bytes never end a frame early
    (2, "堃😀", "gb2312", None, "01 02 3f 3f 07"),               # outside GB2312: '?'
    (4, "请A001", "gb2312", 5, "01 04 c7eb 413030 07"),          # cut at the board's width in bytes
    (4, "A请", "gb2312", 2, "01 04 41 07"),                      # never half a Chinese character
    (4, "ABCDEF", "ascii", 3, "01 04 414243 07"),
])
def test_text_frames(address, text, encoding, width, frame):
    encoded = encode_text_frame(address, text, encoding, width)
    assert encoded == H(frame)
    assert decode_text_frame(encoded, encoding) == TextFrame(address, board_text(text, encoding, width))


@pytest.mark.parametrize(("text", "encoding", "width", "shown"), [
    ("请A001到3号窗口", "gb2312", 16, "请A001到3号窗口"),
    ("请A001号到3号窗口办理", "gb2312", 16, "请A001号到3号窗"),
    ("暂停服务", "ascii", None, "????"),
    ("\t请\r\n", "gb2312", None, "请"),
])
def test_board_text(text, encoding, width, shown):
    assert board_text(text, encoding, width) == shown


@pytest.mark.parametrize(("frame", "error"), [
    ("", "not a text frame"),
    ("01", "not a text frame"),
    ("01 02", "not a text frame"),
    ("02 01 41 07", "not a text frame"),
    ("01 01 41 00 42 07", "cut short"),
    ("01 01 41 01 07", "cut short"),
    ("01 01 80 07", "not gb2312"),
    ("01 01 c7 07", "not gb2312"),                 # half a Chinese character
    ("01 01 41 07 07", "not exactly one"),            # something after the end byte
])
def test_malformed_text_frames(frame, error):
    with pytest.raises(FrameError, match=error):
        decode_text_frame(H(frame), "gb2312")


def test_text_stream_resyncs_after_garbage_and_a_cut_frame():
    frames, errors = [], 0
    reader = TextFrameReader("gb2312")
    reader.feed(H("ff 41 01 05 41 42") + H("01 06 c7eb 07") + H("01 07 41 0d") + H("01 08 42"))
    for _ in range(10):
        try:
            frame = reader.next()
        except FrameError:
            errors += 1
            continue
        if frame is None:
            break
        frames.append(frame)
    assert frames == [TextFrame(6, "请")] and errors == 2
    reader.feed(H("43 07"))
    assert reader.next() == TextFrame(8, "BC")


def test_encoder_rejects_what_is_not_a_board_address():
    with pytest.raises(ValueError, match=r"0\.\.255"):
        encode_text_frame(256, "A")
    with pytest.raises(ValueError, match="encoding"):
        encode_text_frame(1, "A", "big5")


# -- Modbus RTU ------------------------------------------------------------------------------------
def crc16_table(data: bytes) -> int:
    """A second, table-driven CRC-16/MODBUS (the way most slave firmware computes it)."""
    table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


@pytest.mark.parametrize(("data", "crc_bytes"), [
    (H("01 06 00 00 00 01"), "48 0a"),
    (H("01 05 00 00 ff 00"), "8c 3a"),          # relay boards' manuals (e.g. IO-Box README): 01 05 … 8C 3A
    (H("01 01 00 00 00 08"), "3d cc"),
    (b"123456789", "37 4b"),                    # the CRC catalogue's check value for CRC-16/MODBUS: 0x4B37
    (b"", "ff ff"),
])
def test_crc16_modbus(data, crc_bytes):
    assert crc16_modbus(data).to_bytes(2, "little") == H(crc_bytes)
    assert crc16_table(data) == crc16_modbus(data)


@given(st.binary(max_size=64))
def test_crc_agrees_with_the_table_driven_one(data):
    assert crc16_modbus(data) == crc16_table(data)


@pytest.mark.parametrize(("frame", "expected"), [
    (write_register(1, 0, 1), "01 06 0000 0001 480a"),
    (write_register(1, 0, -1), "01 06 0000 ffff 887a"),
    (write_register(0x11, 4, 2), "11 06 0004 0002 " + (crc16_modbus(H("11 06 0004 0002")).to_bytes(2, "little")
                                                        .hex())),
    (write_registers(1, 0x80, [0x3F06, 0x5B4F]), "01 10 0080 0002 04 3f06 5b4f "
     + crc16_modbus(H("01 10 0080 0002 04 3f06 5b4f")).to_bytes(2, "little").hex()),
])
def test_modbus_write_frames(frame, expected):
    assert frame == H(expected)


def test_modbus_requests_round_trip_and_are_answered():
    fc06, fc16 = write_register(7, 0, 123), write_registers(7, 0x80, [0x0077, 0x3F06])
    assert decode_request(fc06) == ModbusRequest(7, 6, 0, (123,))
    assert decode_request(fc16) == ModbusRequest(7, 16, 0x80, (0x0077, 0x3F06))
    assert encode_response(decode_request(fc06)) == fc06                 # FC06's answer is the echo
    answer16 = encode_response(decode_request(fc16))
    assert answer16[:6] == H("07 10 0080 0002") and len(answer16) == 8
    assert decode_response(answer16, decode_request(fc16)).value == 2
    assert decode_response(fc06, decode_request(fc06)).value == 123


def test_modbus_exception_answers():
    answer = encode_exception(3, 16, 2)
    assert answer[:3] == H("03 90 02") and crc16_modbus(answer[:3]).to_bytes(2, "little") == answer[3:]
    response = decode_response(answer, decode_request(write_registers(3, 0x80, [0])))
    assert response.exception == 2 and response.meaning == EXCEPTIONS[2]


@pytest.mark.parametrize(("answer", "error"), [
    (write_register(1, 0, 2), "does not match"),            # another value echoed
    (write_register(2, 0, 1), "does not match"),            # another slave
    (H("01 06 0000 0001 480b"), "wrong CRC"),
    (H("01 06 0000 0001"), "neither 8"),
    (H("01 86 02"), "neither 8"),
    (b"", "neither 8"),
])
def test_bad_modbus_answers(answer, error):
    with pytest.raises(FrameError, match=error):
        decode_response(answer, decode_request(write_register(1, 0, 1)))


def test_request_stream_slides_past_noise():
    frame = write_register(5, 0, 42)
    buf = bytearray(H("ff 06") + frame)
    with pytest.raises(FrameError) as caught:
        parse_request(buf)
    del buf[:caught.value.consumed]
    with pytest.raises(FrameError) as caught:
        parse_request(buf)
    del buf[:caught.value.consumed]
    assert parse_request(buf) == (ModbusRequest(5, 6, 0, (42,)), 8)
    assert parse_request(frame[:5]) == (None, 0)                       # not all there yet
    fc16 = write_registers(5, 0x80, [0x3F06])
    with pytest.raises(FrameError) as caught:
        parse_request(H("07 41") + fc16)
    assert caught.value.consumed == 2
    unknown = H("01 03 0000 0001 840a")                                  # FC03: found by its CRC
    assert parse_request(unknown) == (ModbusRequest(1, 3, 0, ()), 8)


# -- 7-segment text --------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "digits", "shown"), [
    ("12", 4, "  12"),
    ("A012", 4, "A012"),
    ("a1023", 4, "1023"),          # the rightmost characters
    ("请A001", 4, "A001"),
    ("3号窗口", 4, "   3"),
    ("", 4, "    "),
    (" 7 ", 3, "  7"),
    ("-5", 4, "  -5"),
    ("１２", 4, "  12"),           # full-width digits
])
def test_segment_text(text, digits, shown):
    assert segment_text(text, digits) == shown


def test_segment_registers_follow_the_led485_table():
    assert encode_segments("0123") == [0x3F06, 0x5B4F]
    assert encode_segments("A") == [0x7700]                  # odd length: a blank after
    assert encode_segments(" A12") == [0x0077, 0x065B]
    assert decode_segments([0x3F06, 0x5B4F]) == "0123"
    assert decode_segments([0x8006 | 0x0100]) == "?1"        # bit 7 is ignored; 0x01 is not in the table
    with pytest.raises(FrameError):
        decode_segments([0x10000])


@pytest.mark.parametrize(("text", "digits", "value"), [
    ("12", 4, 12), ("0", 4, 0), ("9999", 4, 9999), ("12345", 4, 2345), ("007", 4, None), ("A1", 4, None),
    ("", 4, None), ("40000", 5, None), ("32767", 5, 32767), ("-5", 4, None), ("1 2", 4, None),
])
def test_numeric_value(text, digits, value):
    assert numeric_value(text, digits) == value


# -- properties ------------------------------------------------------------------------------------
def only_frame_errors(call, *args):
    try:
        call(*args)
    except FrameError:
        pass


@given(st.binary(max_size=80), st.sampled_from(["gb2312", "ascii"]))
def test_text_decoder_raises_only_frame_errors(data, encoding):
    only_frame_errors(decode_text_frame, data, encoding)
    reader = TextFrameReader(encoding)
    reader.feed(data)
    for _ in range(len(data) + 2):
        try:
            if reader.next() is None:
                break
        except FrameError:
            pass
    else:
        pytest.fail("the reader did not come to rest")


@given(st.binary(max_size=300))
def test_modbus_decoders_raise_only_frame_errors(data):
    only_frame_errors(decode_request, data)
    only_frame_errors(parse_request, data)
    only_frame_errors(decode_response, data)
    only_frame_errors(decode_response, data, ModbusRequest(1, 16, 0x80, (1, 2)))


@given(st.lists(st.integers(min_value=-(2 ** 20), max_value=2 ** 20), max_size=8))
def test_segment_decoder_raises_only_frame_errors(values):
    only_frame_errors(decode_segments, values)


@given(st.integers(0, 255), st.text(max_size=40), st.sampled_from(["gb2312", "ascii"]),
       st.one_of(st.none(), st.integers(1, 40)))
def test_text_frames_round_trip(address, text, encoding, width):
    frame = encode_text_frame(address, text, encoding, width)
    decoded = decode_text_frame(frame, encoding)
    assert decoded == TextFrame(address, board_text(text, encoding, width))
    assert width is None or len(frame) - 3 <= width


@given(st.integers(1, 247), st.integers(0, 0xFFFF), st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=123))
def test_modbus_frames_round_trip(slave, register, values):
    request = decode_request(write_registers(slave, register, values))
    assert request == ModbusRequest(slave, 16, register, tuple(values))
    assert decode_response(encode_response(request), request).value == len(values)


@given(st.text(alphabet="".join(SEGMENTS) + "abcxyz", max_size=12), st.integers(1, 12))
def test_segments_round_trip(text, digits):
    shown = segment_text(text, digits)
    assert decode_segments(encode_segments(shown))[:digits] == shown
