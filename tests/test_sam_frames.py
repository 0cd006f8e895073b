"""GA 467 SAM frames and the ID card's text block: the byte examples of hardware.md, tables, and fuzzing."""
from __future__ import annotations

from datetime import date
from functools import reduce

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.idcard import gb11643
from drivers.idcard.base import RESIDENT_ID, CardProtocolError, CardReadError, CitizenCard
from drivers.idcard.sam_frames import (
    FIND,
    MAX_RF_BYTES,
    READ,
    READ_ADDRESS,
    READ_FINGERPRINT,
    RESET,
    SAM_ID,
    SELECT,
    SET_BAUD,
    STATUS,
    SW3,
    SW3_MEANINGS,
    FrameReader,
    Response,
    SamProtocolError,
    command_name,
    encode_command,
    encode_response,
    parse_command,
    parse_response,
    sw3_meaning,
)
from drivers.idcard.simulator import CARDS, synthetic_id
from drivers.idcard.text_block import NATIONS, decode_text_block, encode_text_block

PRE = "AA AA AA 96 69"


def hx(text: str) -> bytes:
    return bytes.fromhex(text.replace("…", PRE))


def xor(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0)


# -- commands: every example of hardware.md ---------------------------------------------------------
@pytest.mark.parametrize("command,frame", [
    (RESET, "AA AA AA 96 69 00 03 10 FF EC"),
    (FIND, "… 00 03 20 01 22"),
    (SELECT, "… 00 03 20 02 21"),
    (READ, "… 00 03 30 01 32"),
])
def test_documented_command_frames(command, frame):
    assert command.frame() == hx(frame)
    assert encode_command(command.cmd, command.para) == hx(frame)


@pytest.mark.parametrize("command,cmd_para", [
    (RESET, (0x10, 0xFF)), (STATUS, (0x11, 0xFF)), (SAM_ID, (0x12, 0xFF)), (FIND, (0x20, 0x01)),
    (SELECT, (0x20, 0x02)), (READ, (0x30, 0x01)), (READ_ADDRESS, (0x30, 0x03)), (READ_FINGERPRINT, (0x30, 0x10)),
    (SET_BAUD, (0x60, 0x00)), (MAX_RF_BYTES, (0x61, 0xFF)),
])
def test_command_constants(command, cmd_para):
    assert (command.cmd, command.para) == cmd_para
    frame = command.frame()
    assert frame[:7] == hx("… 00 03") and frame[7:9] == bytes(cmd_para) and frame[-1] == xor(frame[5:-1])


def test_command_with_data_counts_it_in_len():
    frame = encode_command(MAX_RF_BYTES.cmd, MAX_RF_BYTES.para, b"\x50")
    assert frame == hx(f"… 00 04 61 FF 50 {0x04 ^ 0x61 ^ 0xFF ^ 0x50:02X}")
    assert encode_command(0x60, 0x04) == hx(f"… 00 03 60 04 {0x03 ^ 0x60 ^ 0x04:02X}")


@pytest.mark.parametrize("bad", [(-1, 0), (256, 0), (0x20, 300)])
def test_command_bytes_must_be_bytes(bad):
    with pytest.raises(ValueError, match="must be a byte"):
        encode_command(*bad)


@pytest.mark.parametrize("cmd,para,name", [(0x20, 0x01, "find"), (0x30, 0x01, "read"), (0x60, 0x03, "set-baud"),
                                           (0x77, 0x01, "77 01")])
def test_command_names(cmd, para, name):
    assert command_name(cmd, para) == name


def test_parse_command_is_the_simulators_side():
    frame, consumed = parse_command(hx("00 11 … 00 04 61 FF 50 CA"))
    assert consumed == 13 and (frame.cmd, frame.para, frame.data, frame.name) == (0x61, 0xFF, b"\x50", "max-rf-bytes")


# -- answers: every example of hardware.md -----------------------------------------------------------
SELECT_DATA = bytes(range(1, 9))
SELECT_OK = hx("… 00 0C 00 00 90") + SELECT_DATA + bytes([xor(hx("00 0C 00 00 90") + SELECT_DATA)])


@pytest.mark.parametrize("frame,sw3,data", [
    (hx("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"), 0x9F, bytes(4)),    # find OK
    (hx("… 00 04 00 00 80 84"), 0x80, b""),                                   # find failed
    (SELECT_OK, 0x90, SELECT_DATA),                                           # select OK
])
def test_documented_answers(frame, sw3, data):
    assert encode_response(0, 0, sw3, data) == frame
    assert parse_response(frame) == (Response(0, 0, sw3, data), len(frame))


def test_read_answer_layout():
    text, photo = bytes(range(256)), bytes(i % 251 for i in range(1024))
    frame = encode_response(0, 0, 0x90, b"\x01\x00\x04\x00" + text + photo)
    assert len(frame) == 1295
    assert frame[:14] == hx("AA AA AA 96 69 05 08 00 00 90 01 00 04 00")
    assert frame[14:270] == text and frame[270:1294] == photo and frame[1294] == xor(frame[5:-1])
    response, consumed = parse_response(frame)
    assert consumed == 1295 and response.data[4:260] == text
    assert "bytes" in repr(response) and str(text[:8]) not in repr(response)    # the data is never shown


def test_garbage_before_the_preamble_is_skipped():
    frame = hx("… 00 04 00 00 80 84")
    assert parse_response(b"\x00\x13\xaa\x96" + frame) == (Response(0, 0, 0x80), 4 + len(frame))


@pytest.mark.parametrize("buf,result", [
    (b"", (None, 0)),
    (b"\x01\x02\x03", (None, 3)),                     # garbage only: droppable
    (b"\x01\x02\xaa\xaa", (None, 2)),                 # the tail may be a preamble's beginning
    (hx("00 … 00"), (None, 1)),                       # a header in progress
    (hx("… 00 08 00 00 9F 00"), (None, 0)),            # a body in progress
])
def test_incomplete_input_waits(buf, result):
    assert parse_response(buf) == result


@pytest.mark.parametrize("frame,reason", [
    ("… 00 04 00 00 80 85", "checksum"),
    ("… 00 03 00 00 03", "length"),       # a command-sized frame is too short to be an answer
    ("… 00 00 00", "length"),
    ("… FF FF 00", "length"),
])
def test_broken_answers_raise_protocol_errors(frame, reason):
    with pytest.raises(SamProtocolError) as caught:
        parse_response(hx(frame))
    assert isinstance(caught.value, CardProtocolError) and caught.value.reason == reason


def test_frame_reader_drops_a_bad_frame_and_reads_the_next():
    good, bad = hx("… 00 04 00 00 80 84"), hx("… 00 04 00 00 80 85")
    frames = FrameReader()
    frames.feed(b"\x00" + bad + good[:6])
    with pytest.raises(CardProtocolError, match="checksum"):
        frames.next()
    assert frames.next() is None and frames.pending == 6
    frames.feed(good[6:])
    assert frames.next() == Response(0, 0, 0x80) and frames.pending == 0


# -- status words ------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", [0x90, 0x9F, 0x91, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x40, 0x41,
                                  0x47, 0x60, 0x66, 0x80, 0x81])
def test_every_documented_status_word_has_an_actionable_meaning(code):
    assert SW3(code) in SW3_MEANINGS
    meaning = sw3_meaning(code)
    assert meaning == Response(0, 0, code).meaning and len(meaning) > 20
    if code not in (0x90, 0x9F):
        assert ":" in meaning       # what happened: what to do


def test_unknown_status_word_is_named():
    assert "0x5A" in sw3_meaning(0x5A)


# -- the text block ----------------------------------------------------------------------------------
OFFSETS = {"name": (0, 30), "gender": (30, 2), "nation": (32, 4), "birth": (36, 16), "address": (52, 70),
           "id": (122, 36), "authority": (158, 30), "from": (188, 16), "to": (204, 16), "reserved": (220, 36)}
ADULT_ID = synthetic_id(date(1990, 7, 15), "031")


def raw_block(**fields: str) -> bytes:
    """A text block built straight from the offsets of hardware.md (independent of text_block.py)."""
    values = {"name": "张伟", "gender": "1", "nation": "01", "birth": "19900715", "address": "湖北省武汉市江岸区",
              "id": ADULT_ID, "authority": "武汉市公安局江岸分局", "from": "20150101", "to": "20350101",
              "reserved": ""}
    values.update(fields)
    block = bytearray()
    for key, (offset, length) in OFFSETS.items():
        assert len(block) == offset
        raw = values[key].encode("utf-16-le")
        block += (raw + " ".encode("utf-16-le") * length)[:length]
    return bytes(block)


def test_a_block_decodes_to_its_card():
    card = decode_text_block(raw_block())
    assert card == CitizenCard(kind=RESIDENT_ID, name="张伟", id_number=ADULT_ID, gender="男", nation="汉",
                               birth_date=date(1990, 7, 15), address="湖北省武汉市江岸区",
                               authority="武汉市公安局江岸分局", valid_from=date(2015, 1, 1),
                               valid_to=date(2035, 1, 1), long_term=False)


def test_long_term_card():
    card = decode_text_block(raw_block(to="长期"))
    assert card.long_term and card.valid_to is None and not card.expired_on(date(2099, 1, 1))


@pytest.mark.parametrize("code,gender", [("0", "未知"), ("1", "男"), ("2", "女"), ("9", "未说明")])
def test_gender_codes(code, gender):
    assert decode_text_block(raw_block(gender=code)).gender == gender


@pytest.mark.parametrize("code,nation", [("01", "汉"), ("02", "蒙古"), ("03", "回"), ("05", "维吾尔"),
                                         ("15", "土家"), ("29", "柯尔克孜"), ("56", "基诺"), ("97", "其他"),
                                         ("98", "外国血统中国籍人士")])
def test_nation_codes(code, nation):
    assert decode_text_block(raw_block(nation=code)).nation == nation


def test_the_nation_table_is_complete():
    assert sorted(NATIONS) == [f"{n:02d}" for n in range(1, 57)] + ["97", "98"]


def test_id_number_lower_case_x_is_normalised():
    number = "11010519491231002X"       # the example of hardware.md
    card = decode_text_block(raw_block(id=number.lower(), birth="19491231"))
    assert card.id_number == number


@pytest.mark.parametrize("fields,error,message", [
    ({"gender": "3"}, CardProtocolError, "gender code"),
    ({"nation": "60"}, CardProtocolError, "nation code"),
    ({"birth": "19901315"}, CardProtocolError, "birth date field is not a date"),
    ({"birth": "1990071"}, CardProtocolError, "birth date field is not a date"),
    ({"from": "2015-1-1"}, CardProtocolError, "valid-from field"),
    ({"to": "永久"}, CardProtocolError, "valid-to field"),
    ({"id": ADULT_ID[:17] + ("0" if ADULT_ID[17] != "0" else "1")}, CardReadError,
     "^the card's ID number fails its check digit: ask the citizen to place the card again$"),
    ({"id": ADULT_ID[:16]}, CardReadError, "ID number is malformed"),
    ({"id": "４２０１０２１９９００７１５０３１X"}, CardReadError, "other than digits"),
])
def test_bad_content_is_named_without_card_data(fields, error, message):
    with pytest.raises(error, match=message) as caught:
        decode_text_block(raw_block(**fields))
    assert (type(caught.value) is CardReadError) == (error is CardReadError)   # a bad number is not a bad frame
    text = str(caught.value)
    for secret in ("张伟", ADULT_ID, ADULT_ID[6:14], "湖北", *fields.values()):
        assert secret not in text


def test_undecodable_text_and_wrong_length():
    block = bytearray(raw_block())
    block[0:2] = b"\x00\xd8"        # a lone high surrogate
    with pytest.raises(CardProtocolError, match="name field is not UCS-2"):
        decode_text_block(bytes(block))
    with pytest.raises(CardProtocolError, match="255 bytes instead of 256"):
        decode_text_block(raw_block()[:255])


@pytest.mark.parametrize("name", sorted(CARDS))
def test_simulator_cards_round_trip(name):
    card = CARDS[name]
    assert gb11643.validate(card.id_number) == card.id_number
    assert gb11643.birth_date(card.id_number) == card.birth_date and gb11643.gender(card.id_number) == card.gender
    block = encode_text_block(card)
    assert len(block) == 256 and block[220:] == " ".encode("utf-16-le") * 18
    assert decode_text_block(block) == card


def test_the_scripted_cards():
    assert CARDS["elder"].long_term and CARDS["elder"].birth_date == date(1956, 3, 8)
    assert gb11643.age_on(CARDS["elder"].birth_date, date(2026, 11, 24)) == 70
    assert CARDS["adult"].gender == "男" and CARDS["adult"].valid_to == date(2035, 1, 1)
    assert CARDS["young"].birth_date == date(2008, 2, 29)
    assert CARDS["expired"].expired_on(date(2026, 11, 24))
    assert all(c.id_number.startswith("420102") and "江岸分局" in c.authority for c in CARDS.values())


def test_encoding_refuses_what_does_not_fit():
    card = CARDS["adult"]
    with pytest.raises(ValueError, match="name field holds 15"):
        encode_text_block(CitizenCard(**{**card.__dict__, "name": "张" * 16}))
    with pytest.raises(ValueError, match="nation"):
        encode_text_block(CitizenCard(**{**card.__dict__, "nation": "火星"}))


# -- fuzzing: nothing but CardProtocolError comes out of the parser ---------------------------------
def drain(buf: bytes) -> list[Response]:
    """Every answer in `buf`, parsed the way the driver does (errors collected, not raised)."""
    frames, out = FrameReader(), []
    frames.feed(buf)
    for _ in range(len(buf) + 1):
        try:
            response = frames.next()
        except CardProtocolError:
            continue
        if response is None:
            break
        out.append(response)
    return out


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_protocol_errors(buf):
    try:
        response, consumed = parse_response(buf)
    except CardProtocolError:
        return
    assert 0 <= consumed <= len(buf)
    assert response is None or consumed >= 11


@given(st.binary(max_size=600).map(lambda b: b"\xaa\xaa\xaa\x96\x69" + b))
def test_arbitrary_bytes_after_a_preamble(buf):
    try:
        parse_response(buf)
        parse_command(buf)
    except CardProtocolError:
        pass


answers = st.builds(lambda sw, data: encode_response(0, 0, sw, data), st.integers(0, 255), st.binary(max_size=300))


@given(answers, st.data())
def test_mutated_frames_raise_only_protocol_errors(frame, data):
    buf = bytearray(frame)
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, len(buf)))
        action = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if action == "flip" and where < len(buf):
            buf[where] ^= data.draw(st.integers(1, 255))
        elif action == "insert":
            buf[where:where] = data.draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del buf[where:where + data.draw(st.integers(1, 8))]
        else:
            del buf[where:]
    drain(bytes(buf))


garbage = st.binary(max_size=20).map(lambda b: b.replace(b"\xaa", b""))


@given(st.lists(st.tuples(garbage, st.integers(0, 255), st.binary(max_size=300)), max_size=5), st.data())
def test_arbitrary_splits_give_the_same_answers(parts, data):
    stream = b"".join(g + encode_response(1, 2, sw, d) for g, sw, d in parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    frames, got = FrameReader(), []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        frames.feed(stream[start:end])
        while (response := frames.next()) is not None:
            got.append(response)
    assert got == [Response(1, 2, sw, d) for _, sw, d in parts]


@given(st.binary(min_size=256, max_size=256))
def test_arbitrary_text_blocks_raise_only_card_read_errors(block):
    try:
        decode_text_block(block)
    except CardReadError:
        pass


@given(st.sampled_from(sorted(CARDS)), st.integers(0, 255), st.integers(1, 255))
def test_a_flipped_text_byte_never_escapes_as_another_error(name, where, mask):
    block = bytearray(encode_text_block(CARDS[name]))
    block[where] ^= mask
    try:
        decode_text_block(bytes(block))
    except CardReadError:
        pass
