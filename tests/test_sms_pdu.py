"""SMS-SUBMIT PDUs (drivers/sms/pdu.py) and phone numbers (numbers.py): plain functions, from tables and known
vectors (modem vendors' AT manuals), with round trips through the decoder the simulator uses."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.sms import pdu
from drivers.sms.at_wire import redacted_pdu
from drivers.sms.numbers import BadNumber, international, mask

HAN = "您申请的临时救助已受理办件编号承诺前办结查询码进度可查"


# -- known vectors -----------------------------------------------------------------------------------------------
def test_neoway_hello_vector_with_and_without_smsc():
    # Neoway N11 AT manual, A.1: "hello" in UCS-2 to 13421839693 (type 81), no validity period, AT+CMGS=23
    with_smsc = pdu.submit_pdus("13421839693", "hello", smsc="+8613010888500", validity=None)
    assert with_smsc == [pdu.Pdu("0891683110808805F001000B813124819396F300080A00680065006C006C006F", 23)]
    assert pdu.submit_pdus("13421839693", "hello", validity=None) == [
        pdu.Pdu("0001000B813124819396F300080A00680065006C006C006F", 23)]


def test_huawei_ucs2_vector_decodes():
    # Huawei MU509 AT manual 6.12.4: 华为 to 13901000453, first octet 81 and DCS 18 (UCS-2 with a message class)
    got = pdu.decode_submit("0081000B813109010054F3001804534E4E3A")
    assert (got.number, got.text, got.concat, got.tpdu_length, got.smsc) == ("13901000453", "华为", None, 17, "")


@pytest.mark.parametrize("smsc,field", [("", "00"), ("+8613800270500", "0891683108200705F0"),
                                        ("+8613010888500", "0891683110808805F0")])
def test_smsc_field(smsc, field):
    assert pdu.smsc_field(smsc).hex().upper() == field


@pytest.mark.parametrize("number,encoded", [
    ("+8613800000000", "0D91683108000000F0"),          # 13 digits: odd, F fills the last octet
    ("+8613912345678", "0D91683119325476F8"),
    ("13421839693", "0B813124819396F3"),              # national digits: type of number unknown
    ("+8612345678", "0A916821436587"),                # an even count: no filler
    ("10086", "05810180F6"),                          # 5 digits: 01 80 F6
])
def test_address_semi_octets(number, encoded):
    assert pdu.address(number).hex().upper() == encoded
    count, toa = int(encoded[:2], 16), int(encoded[2:4], 16)
    assert pdu.digits_of(bytes.fromhex(encoded[4:]), count) == number.removeprefix("+")
    assert toa == (0x91 if number.startswith("+") else 0x81)


def test_a_short_chinese_text_is_one_pdu_with_validity_and_no_header():
    [one] = pdu.submit_pdus("+8613800000000", "您好，办件已受理")
    assert one.hex.startswith("00" "11" "00" "0D91683108000000F0" "00" "08" "AA" "10")   # 8 characters, 16 octets
    assert one.hex.endswith("您好，办件已受理".encode("utf-16-be").hex().upper())
    assert one.length == len(bytes.fromhex(one.hex)) - 1


# -- splitting ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,sizes", [
    (HAN[:1] * 70, [70]),                       # a full single message
    (HAN[:1] * 71, [67, 4]),
    (HAN[:1] * 134, [67, 67]),
    (HAN[:1] * 135, [67, 67, 1]),
    ("字" * 68 + "😀", [70]),                   # a surrogate pair counts 2: exactly 70 units
    ("字" * 69 + "😀", [67, 4]),                # 71 units
    ("字" * 66 + "😀" + "字" * 10, [66, 12]),    # the pair would straddle parts 1 and 2: it moves whole
    ("𠀀" * 40, [66, 14]),                      # CJK Ext. B, all pairs: 33 a part
])
def test_parts_in_utf16_units_never_cut_a_pair(text, sizes):
    parts = pdu.split_text(text)
    assert [pdu.units(p) for p in parts] == sizes
    assert "".join(parts) == text
    for p in parts:
        p.encode("utf-16-be").decode("utf-16-be")       # each part is whole characters


def test_concatenated_parts_carry_the_header_and_the_reference():
    text = HAN * 6                                      # 162 characters: 67 + 67 + 28
    pdus = pdu.submit_pdus("+8613800000000", text, reference=0xA7)
    assert len(pdus) == 3
    for i, p in enumerate(pdus, 1):
        raw = bytes.fromhex(p.hex)
        first = raw[1]
        assert first == 0x51                            # SUBMIT, relative validity, UDHI
        udl, data = raw[15], raw[16:]                   # after SMSC 00: fo mr da(9) pid dcs vp, then udl
        assert udl == len(data) <= 140
        assert data[:6] == bytes([0x05, 0x00, 0x03, 0xA7, 3, i])
        assert p.length == len(raw) - 1
    assert [len(bytes.fromhex(p.hex)) - 16 - 6 for p in pdus] == [134, 134, 2 * (len(text) - 134)]
    back = [pdu.decode_submit(p.hex) for p in pdus]
    assert [b.concat for b in back] == [(0xA7, 3, 1), (0xA7, 3, 2), (0xA7, 3, 3)]
    assert b"".join(b.ucs2 for b in back).decode("utf-16-be") == text


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=400), st.integers(0, 255))
def test_any_text_round_trips_and_fits(text, reference):
    pdus = pdu.submit_pdus("+8613800000000", text, reference=reference)
    back = [pdu.decode_submit(p.hex) for p in pdus]
    assert b"".join(b.ucs2 for b in back).decode("utf-16-be", errors="surrogatepass") == text
    assert all(b.number == "+8613800000000" and b.tpdu_length == p.length for b, p in zip(back, pdus, strict=True))
    limit = pdu.SINGLE_UNITS if len(pdus) == 1 else pdu.PART_UNITS
    assert all(len(b.ucs2) // 2 <= limit for b in back)
    assert all(len(bytes.fromhex(p.hex)) - 1 <= 164 for p in pdus)      # 140 octets of user data + headers


def test_what_cannot_be_a_message():
    with pytest.raises(pdu.PduError, match="empty"):
        pdu.split_text("")
    with pytest.raises(pdu.PduError, match="at most 255"):
        pdu.split_text("字" * (67 * 255 + 1))
    with pytest.raises(pdu.PduError, match="digits only"):
        pdu.address("+86138x0000000")
    with pytest.raises(pdu.PduError, match="international form"):
        pdu.smsc_field("13800270500")
    with pytest.raises(pdu.PduError, match="ends early"):
        pdu.decode_submit("0011000D9168")
    with pytest.raises(pdu.PduError, match="not an SMS-SUBMIT"):
        pdu.decode_submit("0004000D91683108000000F00008AA00")
    with pytest.raises(pdu.PduError, match="TP-UDL"):
        pdu.decode_submit("0011000D91683108000000F00008AA044F60")


def test_a_wire_dump_masks_the_number_and_the_text_only():
    text = "您的办件已受理"
    [one] = pdu.submit_pdus("+8613800000000", text)
    masked = redacted_pdu(one.hex)
    assert len(masked) == len(one.hex)
    assert masked.startswith("0011000D91" + "x" * 14 + "0008AA0E")      # structure kept, digits gone
    assert masked.endswith("x" * 28) and "683108" not in masked
    [part, *_] = pdu.submit_pdus("+8613800000000", text * 20, reference=9)
    assert redacted_pdu(part.hex)[24:44] == "0008AA8C050003090301"                  # UDL and header stay
    assert redacted_pdu("zz") == "xx"


# -- numbers -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("given_,expected", [
    ("13800000000", "+8613800000000"), ("138 0000 0000", "+8613800000000"), ("+86 138-0000-0000", "+8613800000000"),
    ("8613800000000", "+8613800000000"), ("008619912345678", "+8619912345678"),
    ("(+86) 166.1234.5678", "+8616612345678"),
])
def test_chinese_mobiles_become_international(given_, expected):
    assert international(given_) == expected


@pytest.mark.parametrize("bad", ["", "1380000000", "138000000000", "12800000000", "0714-6351234", "+1 415 555 0100",
                                 "+85291234567", "１３８００００００００", "1380000000a"])
def test_other_numbers_are_refused_and_shown_masked(bad):
    with pytest.raises(BadNumber, match="not a Chinese mobile") as caught:
        international(bad)
    digits = "".join(c for c in bad if c.isdigit() and c.isascii())
    if len(digits) >= 8:
        assert digits not in str(caught.value)


def test_masks():
    assert mask("13800000000") == mask("+8613800000000") == mask("+86 138 0000 0000") == "138****0000"
    assert mask("10086") == "****"
