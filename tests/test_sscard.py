"""The social-security card as data: APDUs, TLV records, status words, BCD dates, GBK names, the card itself."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.idcard import SOCIAL_SECURITY, CardProtocolError, CardReadError, CitizenCard, gb11643, sscard
from drivers.idcard.sim_sscard import CARDS
from drivers.idcard.simulator.vicc import SsCardApplet

ELDER = CARDS["elder"]


def hexb(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# -- APDUs ------------------------------------------------------------------------------------------
def test_select_is_the_ssse_application():
    assert sscard.select_ssse() == hexb("00 A4 04 00 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF")
    assert sscard.SSSE_AID == b"sx1.sh." + "社会保障".encode("gbk")


@pytest.mark.parametrize("sfi,record,le,apdu", [
    (5, 0x07, 0, "00 B2 07 2C 00"),     # EF05 card number
    (5, 0x06, 0, "00 B2 06 2C 00"),     # EF05 expiry date
    (6, 0x08, 0, "00 B2 08 34 00"),     # EF06 ID number
    (6, 0x09, 30 + 2, "00 B2 09 34 20"),
    (6, 0x0D, 6, "00 B2 0D 34 06"),     # EF06 birth date
])
def test_read_record_apdus(sfi, record, le, apdu):
    assert sscard.read_record(sfi, record, le) == hexb(apdu)


@pytest.mark.parametrize("sfi,record,le", [(0, 1, 0), (31, 1, 0), (5, 0, 0), (5, 255, 0), (5, 1, 256)])
def test_read_record_rejects_impossible_arguments(sfi, record, le):
    with pytest.raises(ValueError):
        sscard.read_record(sfi, record, le)


def test_record_numbers_are_the_tags():
    assert set(sscard.EF05_RECORDS) == {0x05, 0x06, 0x07} and sscard.EF05_RECORDS[0x07]
    assert set(sscard.EF06_RECORDS) == {0x08, 0x09, 0x0A, 0x0B, 0x0D}
    assert [t for t, mandatory in sscard.EF06_RECORDS.items() if mandatory] == [0x08, 0x09]


# -- status words -----------------------------------------------------------------------------------
class Script:
    """A card answering from a list of R-APDUs, recording the C-APDUs."""

    def __init__(self, *answers: str):
        self.answers, self.sent = [hexb(a) for a in answers], []

    def __call__(self, apdu: bytes) -> bytes:
        self.sent.append(apdu.hex(" ").upper())
        return self.answers.pop(0)


@pytest.mark.parametrize("answers,sent,data,sw", [
    (["90 00"], ["00 B2 07 2C 00"], "", 0x9000),
    (["07 01 41 90 00"], ["00 B2 07 2C 00"], "07 01 41", 0x9000),
    (["6C 03", "07 01 41 90 00"], ["00 B2 07 2C 00", "00 B2 07 2C 03"], "07 01 41", 0x9000),
    (["61 03", "07 01 41 90 00"], ["00 B2 07 2C 00", "00 C0 00 00 03"], "07 01 41", 0x9000),
    (["61 03", "6C 02", "07 00 90 00"], ["00 B2 07 2C 00", "00 C0 00 00 03", "00 C0 00 00 02"], "07 00", 0x9000),
    (["6A 83"], ["00 B2 07 2C 00"], "", 0x6A83),
])
def test_exchange_follows_t0_status_words(answers, sent, data, sw):
    script = Script(*answers)
    assert sscard.exchange(script, sscard.read_record(5, 7)) == (hexb(data), sw)
    assert script.sent == sent


def test_exchange_gives_up_on_an_endless_chain():
    with pytest.raises(CardProtocolError, match="more than 8 times"):
        sscard.exchange(Script(*["61 02"] * 9), sscard.read_record(5, 7))


@pytest.mark.parametrize("answer", ["", "90"])
def test_exchange_rejects_an_answer_without_status_word(answer):
    with pytest.raises(CardProtocolError, match="less than a status word"):
        sscard.exchange(Script(answer), sscard.select_ssse())


@pytest.mark.parametrize("sw,kind,text", [
    (0x6A82, CardReadError, "not a social-security card"),
    (0x6982, CardReadError, "security module (PSAM)"),
    (0x6985, CardReadError, "security module (PSAM)"),
    (0x6D00, CardProtocolError, "6D 00 (instruction not supported)"),
    (0x6F00, CardProtocolError, "6F 00 (no precise diagnosis)"),
    (0x6C10, CardProtocolError, "6C 10 (wrong length)"),
    (0x9123, CardProtocolError, "91 23;"),
])
def test_status_errors(sw, kind, text):
    error = sscard.status_error("reading", sw)
    assert type(error) is kind and text in str(error)


def test_select_refused_means_not_a_social_security_card():
    with pytest.raises(CardReadError, match="not a social-security card") as info:
        sscard.read_records(Script("6A 82"))
    assert not isinstance(info.value, CardProtocolError)


def test_optional_records_may_be_missing_but_not_mandatory_ones():
    select, ef05_found = ["61 02", "6F 00 90 00"], ["6A 83", "6A 83", "07 01 41 90 00"]     # records 05, 06, 07
    ef05, ef06 = sscard.read_records(Script(*select, *ef05_found, "08 01 31 90 00", "09 01 41 90 00",
                                            "6A 83", "6A 83", "6A 83"))
    assert ef05 == {0x07: b"A"} and ef06 == {0x08: b"1", 0x09: b"A"}
    with pytest.raises(CardProtocolError, match="record 08 of EF06: the card answered 6A 83"):
        sscard.read_records(Script("61 02", "6F 00 90 00", "6A 83", "6A 83", "07 01 41 90 00", "6A 83"))


# -- TLV --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("record,values", [
    ("", {}),
    ("07 00", {7: b""}),
    ("07 03 41 42 43", {7: b"ABC"}),
    ("0A 01 31 0B 01 01", {0x0A: b"1", 0x0B: b"\x01"}),
    ("00 FF 08 02 31 32 FF FF 00", {8: b"12"}),          # 00/FF padding around TLVs
    ("09 81 02 41 42", {9: b"AB"}),                    # long-form length
])
def test_parse_tlv(record, values):
    assert sscard.parse_tlv(hexb(record)) == values


@pytest.mark.parametrize("record,message", [
    ("07", "without its length"),
    ("07 81", "cut short"),
    ("07 82 00 01 41", "not a length this card uses"),
    ("07 03 41 42", "says 3 bytes but only 2 follow"),
    ("07 01 41 07 01 42", "appears twice"),
])
def test_parse_tlv_rejects_malformed_records(record, message):
    with pytest.raises(CardProtocolError, match=message):
        sscard.parse_tlv(hexb(record))


@pytest.mark.parametrize("tag,value", [(7, b""), (9, b"A" * 30), (0x4E, b"B" * 0x80), (0x0D, b"\x19\x90\x07\x15")])
def test_encode_tlv_round_trips(tag, value):
    assert sscard.parse_tlv(sscard.encode_tlv(tag, value)) == {tag: value}


# -- values -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value,day", [
    ("19560308", date(1956, 3, 8)), ("20000229", date(2000, 2, 29)), ("19900715", date(1990, 7, 15)),
])
def test_bcd_dates(value, day):
    assert sscard.decode_bcd_date(hexb(value)) == day and sscard.encode_bcd_date(day) == hexb(value)


@pytest.mark.parametrize("value,message", [
    ("199007", "not 4 BCD bytes"), ("1990071A", "not 4 BCD bytes"), ("0000000000", "not 4 BCD bytes"),
    ("", "not 4 BCD bytes"), ("19900230", "not a real day"), ("19901301", "not a real day"),
    ("00000000", "not a real day"),
])
def test_bad_bcd_dates(value, message):
    with pytest.raises(CardProtocolError, match=message):
        sscard.decode_bcd_date(bytes.fromhex(value))


@pytest.mark.parametrize("raw,name", [
    ("李秀兰".encode("gbk").ljust(30, b" "), "李秀兰"),
    ("张伟".encode("gbk").ljust(30, b"\x00"), "张伟"),
    ("阿依古丽·买买提".encode("gbk"), "阿依古丽·买买提"),
    (b"Li Xiulan" + b" " * 21, "Li Xiulan"),
])
def test_gbk_names(raw, name):
    assert sscard.decode_name(raw) == name


def test_names_are_encoded_as_30_gbk_bytes():
    assert sscard.encode_name("张伟") == "张伟".encode("gbk") + b" " * 26
    with pytest.raises(ValueError, match="at most 30 GBK bytes"):
        sscard.encode_name("长" * 16)


@pytest.mark.parametrize("raw", [b"", b" " * 30, b"\x00" * 30, b"\xc9", b"\x81\x20", b"A" * 31, b"\x01\x02"])
def test_bad_names(raw):
    with pytest.raises(CardProtocolError, match="not GBK text"):
        sscard.decode_name(raw)


@pytest.mark.parametrize("value,gender", [(b"1", "男"), (b"2", "女"), (b"\x01", "男"), (b"\x02", "女"),
                                          (b"0", "未知"), (b"9", "未说明"), (b"5", None), (b"\xff", None)])
def test_gender_codes(value, gender):
    assert sscard.decode_gender(value) == gender


@pytest.mark.parametrize("value,nation", [(b"\x01", "汉"), (b"\x05", "维吾尔"), (b"\x56", "基诺"), (b"01", "汉"),
                                          (b"\x97", "其他"), (b"\x60", "")])
def test_nation_codes(value, nation):
    assert sscard.decode_nation(value) == nation


@pytest.mark.parametrize("value", [b"", b"\x1a", b"\x01\x02\x03", b"1A"])
def test_bad_nation_codes(value):
    with pytest.raises(CardProtocolError):
        sscard.decode_nation(value)


# -- the card ---------------------------------------------------------------------------------------
def ef_values(card: CitizenCard) -> tuple[dict[int, bytes], dict[int, bytes]]:
    records = sscard.records_from_card(card)
    return tuple({t: v for r in records[sfi].values() for t, v in sscard.parse_tlv(r).items()} for sfi in (5, 6))


@pytest.mark.parametrize("name", sorted(CARDS))
def test_named_cards_round_trip(name):
    card = CARDS[name]
    assert card.kind == SOCIAL_SECURITY and gb11643.validate(card.id_number) == card.id_number
    assert sscard.card_from_records(*ef_values(card)) == card


def test_named_cards_are_who_they_say():
    assert (ELDER.birth_date, ELDER.gender, gb11643.gender(ELDER.id_number)) == (date(1956, 3, 8), "女", "女")
    adult = CARDS["adult"]
    assert (adult.birth_date, adult.gender, gb11643.gender(adult.id_number)) == (date(1990, 7, 15), "男", "男")


def test_birth_date_and_gender_fall_back_to_the_id_number():
    ef05, ef06 = ef_values(ELDER)
    del ef06[0x0D], ef06[0x0A], ef06[0x0B]
    card = sscard.card_from_records(ef05, ef06)
    assert (card.birth_date, card.gender, card.nation) == (date(1956, 3, 8), "女", "")


def test_birth_date_on_the_card_wins():
    ef05, ef06 = ef_values(ELDER)
    ef06[0x0D] = hexb("19560309")
    assert sscard.card_from_records(ef05, ef06).birth_date == date(1956, 3, 9)


@pytest.mark.parametrize("tag", [0x08, 0x09])
def test_missing_mandatory_tags(tag):
    ef05, ef06 = ef_values(ELDER)
    del ef06[tag]
    with pytest.raises(CardProtocolError, match=f"tag {tag:02X}"):
        sscard.card_from_records(ef05, ef06)


@pytest.mark.parametrize("bad_id", [
    ELDER.id_number[:17] + ("0" if ELDER.id_number[17] != "0" else "1"),    # check digit
    "42010219560230024" + gb11643.check_digit("42010219560230024"),            # 30 February
    "42010219560308024",                                                     # 17 characters
])
def test_invalid_id_number_is_a_read_error_without_card_data(bad_id):
    ef05, ef06 = ef_values(ELDER)
    ef06[0x08] = bad_id.encode()
    with pytest.raises(CardReadError) as info:
        sscard.card_from_records(ef05, ef06)
    assert not isinstance(info.value, CardProtocolError)
    assert bad_id not in str(info.value) and ELDER.name not in str(info.value) and "resident ID card" in str(info.value)


def test_read_records_against_the_virtual_cards_interpreter():
    applet = SsCardApplet(ELDER)
    sent = []

    def transmit(apdu: bytes) -> bytes:
        sent.append(apdu)
        return applet.respond(apdu)

    assert sscard.card_from_records(*sscard.read_records(transmit)) == ELDER
    assert sent[1] == hexb("00 C0 00 00 13")                                   # T=0: FCI by GET RESPONSE
    assert sent[2:4] == [hexb("00 B2 05 2C 00"), hexb("00 B2 05 2C 06")]     # 6C 06 → re-sent with Le


@pytest.mark.parametrize("apdu,answer", [
    ("00 B2 08 34 00", "6A 82"),                     # nothing selected yet
    ("80 A4 04 00 02 3F 00", "6E 00"),
    ("00 84 00 00 08", "6D 00"),
    ("00 A4", "67 00"),
    ("00 A4 04 00 05 A0 00 00 00 03", "6A 82"),     # some other application
    ("00 A4 00 00 02 3F 00", "90 00"),
    ("00 C0 00 00 10", "69 85"),                     # nothing to get
])
def test_virtual_card_errors(apdu, answer):
    assert SsCardApplet(ELDER).respond(hexb(apdu)) == hexb(answer)


def test_virtual_card_faults():
    assert SsCardApplet(ELDER, fault="wrong-app").respond(sscard.select_ssse()) == hexb("6A 82")
    assert SsCardApplet(ELDER, fault="mute").respond(sscard.select_ssse()) is None


# -- properties -------------------------------------------------------------------------------------
@given(st.binary(max_size=300))
def test_any_record_parses_or_raises_protocol_error(raw):
    try:
        values = sscard.parse_tlv(raw)
    except CardProtocolError:
        return
    for tag, value in values.items():
        assert tag not in (0x00, 0xFF) and sscard.parse_tlv(sscard.encode_tlv(tag, value)) == {tag: value}


VALUE = st.one_of(st.binary(max_size=40), st.sampled_from([
    b"1", b"\x01", b"19900715", hexb("19900715"), ELDER.id_number.encode(), "张伟".encode("gbk"), b"E42010224"]))


@given(st.dictionaries(st.sampled_from([5, 6, 7, 0x20]), VALUE), st.dictionaries(
    st.sampled_from([8, 9, 0x0A, 0x0B, 0x0D, 0x20]), VALUE))
def test_any_values_give_a_card_or_a_read_error(ef05, ef06):
    for raw in (ef05.get(0x05), ef05.get(0x06), ef06.get(0x0D)):     # decoders on their own, too
        if raw is not None:
            try:
                sscard.decode_bcd_date(raw)
            except CardProtocolError:
                pass
    try:
        card = sscard.card_from_records(ef05, ef06)
    except CardReadError:
        return
    assert gb11643.validate(card.id_number) == card.id_number


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_card_answers_give_a_card_or_a_read_error(data):
    def transmit(apdu: bytes) -> bytes:
        return data.draw(st.one_of(st.binary(max_size=40), st.sampled_from([b"\x90\x00", b"\x61\x02", b"\x6c\x05",
                                                                             b"\x6a\x83", b"\x07\x01A\x90\x00"])))
    try:
        sscard.card_from_records(*sscard.read_records(transmit))
    except CardReadError:
        pass


GBK_NAME = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=15)


@st.composite
def social_security_cards(draw) -> CitizenCard:
    born = draw(st.dates(date(1900, 1, 1), date(2025, 12, 31)))
    first17 = f"{draw(st.integers(110000, 659999))}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    id_number = first17 + gb11643.check_digit(first17)
    issued = draw(st.none() | st.dates(date(2000, 1, 1), date(2030, 12, 31)))
    return CitizenCard(kind=SOCIAL_SECURITY, name=draw(GBK_NAME), id_number=id_number,
                       gender=draw(st.sampled_from(["男", "女", "未知", "未说明"])),
                       nation=draw(st.sampled_from(["", *sscard.NATION_CODES])), birth_date=born,
                       valid_from=issued, valid_to=draw(st.none() | st.dates(date(2000, 1, 1), date(2050, 1, 1))),
                       card_number=draw(st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=9)))


@given(social_security_cards())
def test_every_card_survives_the_virtual_card(card):
    applet = SsCardApplet(card)
    assert sscard.card_from_records(*sscard.read_records(applet.respond)) == card
