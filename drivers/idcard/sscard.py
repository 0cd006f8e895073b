"""The social-security card (社会保障卡) as plain data: its APDUs, record TLVs, status words and fields.

Reading goes SELECT the SSSE application ("sx1.sh.社会保障") → READ RECORD by SFI: EF05 holds the card's
own data, EF06 the holder's. On these cards a record's number is the tag of the one data element it holds
(EF05 record 07 = tag 07 card number; EF06 record 08 = tag 08 ID number …), so we read exactly those.
Everything here is a pure function over bytes; `read_records` takes the transmit function as an argument
(pyscard through pcscd, or the virtual card's interpreter directly in tests). The encoders are the inverse,
used by the virtual card.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date

from . import gb11643
from .base import SOCIAL_SECURITY, CardProtocolError, CardReadError, CitizenCard
from .text_block import GENDERS, NATIONS

logger = logging.getLogger(__name__)

SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")   # "sx1.sh." + 社会保障 in GBK
EF05, EF06 = 5, 6                                              # SFIs: card data, holder data
# tag (= record number) → mandatory?  Optional records may be missing (6A 83) on older card generations.
EF05_RECORDS = {0x05: False, 0x06: False, 0x07: True}          # issue date, expiry date, card number
EF06_RECORDS = {0x08: True, 0x09: True, 0x0A: False, 0x0B: False, 0x0D: False}  # ID, name, gender, nation, birth
NAME_BYTES, CARD_NUMBER_BYTES, ID_NUMBER_BYTES = 30, 9, 18
MAX_EXCHANGES = 8                                              # 61xx/6Cxx rounds per command before giving up

Transmit = Callable[[bytes], bytes]                             # C-APDU → R-APDU (data + SW1 SW2)

GENDER_CODES = {v: k for k, v in GENDERS.items()}     # GB/T 2261.1, shared with the resident ID card
NATION_CODES = {v: k for k, v in NATIONS.items()}     # GB 3304: "01" 汉 …

SW_OK = 0x9000
SW_MEANINGS = {
    0x6700: "wrong length", 0x6981: "command incompatible with file structure",
    0x6982: "security status not satisfied", 0x6985: "conditions of use not satisfied",
    0x6A81: "function not supported", 0x6A82: "file or application not found", 0x6A83: "record not found",
    0x6A86: "incorrect P1-P2", 0x6B00: "wrong parameters", 0x6D00: "instruction not supported",
    0x6E00: "class not supported", 0x6F00: "no precise diagnosis", 0x6581: "memory failure",
}


# -- APDUs ------------------------------------------------------------------------------------------
def select_ssse() -> bytes:
    """SELECT by DF name of the SSSE application (case 3, T=0 style: the FCI comes via GET RESPONSE)."""
    return bytes([0x00, 0xA4, 0x04, 0x00, len(SSSE_AID)]) + SSSE_AID


def read_record(sfi: int, record: int, le: int = 0) -> bytes:
    """READ RECORD `record` of the EF with short identifier `sfi` (P2 = SFI<<3 | 4: P1 is a record number)."""
    if not (1 <= sfi <= 30 and 1 <= record <= 254 and 0 <= le <= 255):
        raise ValueError(f"no READ RECORD for SFI {sfi}, record {record}, Le {le}")
    return bytes([0x00, 0xB2, record, (sfi << 3) | 4, le])


def get_response(le: int) -> bytes:
    """T=0 GET RESPONSE for `le` bytes (0 means 256), after the card answered 61 xx."""
    return bytes([0x00, 0xC0, 0x00, 0x00, le])


def sw_text(sw: int) -> str:
    meaning = SW_MEANINGS.get(sw) or ("wrong length" if sw >> 8 == 0x6C else "")
    return f"{sw >> 8:02X} {sw & 0xFF:02X}" + (f" ({meaning})" if meaning else "")


def exchange(transmit: Transmit, apdu: bytes) -> tuple[bytes, int]:
    """Send `apdu`, following T=0 61 xx (GET RESPONSE) and 6C xx (re-send with Le = xx); → (data, final SW)."""
    collected = b""
    for _ in range(MAX_EXCHANGES):
        rapdu = bytes(transmit(apdu))
        if len(rapdu) < 2:
            raise CardProtocolError(f"the card's answer has {len(rapdu)} bytes, less than a status word; "
                                    "remove the card and insert it again")
        data, sw = rapdu[:-2], int.from_bytes(rapdu[-2:], "big")
        if sw >> 8 == 0x61:
            collected += data
            apdu = get_response(sw & 0xFF)
        elif sw >> 8 == 0x6C and len(apdu) == 5:    # case 2 only: P3 is Le
            apdu = apdu[:4] + bytes([sw & 0xFF])
        else:
            return collected + data, sw
    raise CardProtocolError(f"the card asked for GET RESPONSE or a new Le more than {MAX_EXCHANGES} times in a row; "
                            "remove the card and insert it again")


def status_error(what: str, sw: int) -> CardReadError:
    """The error for a status word other than 90 00: what it means for the citizen and the technician."""
    if sw == 0x6A82:
        return CardReadError(f"{what}: the card answered {sw_text(sw)}: it is not a social-security card (no SSSE "
                             "application or file); ask for the citizen's 社保卡 or resident ID card")
    if sw in (0x6982, 0x6985):
        return CardReadError(f"{what}: the card answered {sw_text(sw)}: it will not show this data without a "
                             "security module (PSAM) this reader does not have; use the resident ID card instead")
    return CardProtocolError(f"{what}: the card answered {sw_text(sw)}; remove the card and insert it again, and "
                             "if it happens again the card may be damaged")


# -- TLV --------------------------------------------------------------------------------------------
def parse_tlv(record: bytes) -> dict[int, bytes]:
    """The one-byte-tag TLVs of a record (lengths short form or 81 xx); 00/FF bytes between them are padding."""
    found: dict[int, bytes] = {}
    i, data = 0, bytes(record)
    while i < len(data):
        tag = data[i]
        if tag in (0x00, 0xFF):
            i += 1
            continue
        if i + 1 >= len(data):
            raise CardProtocolError(f"a record ends after tag {tag:02X} without its length; the read was corrupted")
        length, i = data[i + 1], i + 2
        if length == 0x81:
            if i >= len(data):
                raise CardProtocolError(f"tag {tag:02X}: its two-byte length is cut short; the read was corrupted")
            length, i = data[i], i + 1
        elif length > 0x7F:
            raise CardProtocolError(f"tag {tag:02X}: length byte {length:02X} is not a length this card uses")
        if i + length > len(data):
            raise CardProtocolError(f"tag {tag:02X} says {length} bytes but only {len(data) - i} follow; "
                                    "the read was corrupted")
        if tag in found:
            raise CardProtocolError(f"tag {tag:02X} appears twice in one record; the read was corrupted")
        found[tag], i = data[i:i + length], i + length
    return found


def encode_tlv(tag: int, value: bytes) -> bytes:
    if not 0 < tag < 0xFF or len(value) > 0xFF:
        raise ValueError(f"tag {tag:#x} with {len(value)} bytes cannot be encoded")
    return bytes([tag]) + (bytes([0x81]) if len(value) > 0x7F else b"") + bytes([len(value)]) + value


# -- values -----------------------------------------------------------------------------------------
def decode_bcd_date(value: bytes, what: str = "date") -> date:
    """4 BCD bytes YYYYMMDD → date."""
    digits = bytes(value).hex()
    if len(value) != 4 or not digits.isdigit():
        raise CardProtocolError(f"the {what} is not 4 BCD bytes (YYYYMMDD); the read was corrupted")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise CardProtocolError(f"the {what} is not a real day; the card data is damaged") from None


def encode_bcd_date(day: date) -> bytes:
    return bytes.fromhex(f"{day.year:04d}{day.month:02d}{day.day:02d}")


def decode_ascii(value: bytes, what: str, size: int | None = None) -> str:
    """Printable ASCII, space/zero padding stripped."""
    text = bytes(value).rstrip(b"\x00 ")
    if not text or (size is not None and len(value) > size) or not all(0x20 < b < 0x7F for b in text):
        raise CardProtocolError(f"the {what} is not {size or ''} printable ASCII characters; the read was corrupted")
    return text.decode("ascii")


def decode_name(value: bytes) -> str:
    """GBK, up to 30 bytes, padded with spaces or zero bytes."""
    raw = bytes(value).rstrip(b"\x00 ")
    try:
        name = raw.decode("gbk")
    except UnicodeDecodeError:
        name = ""
    if not name or len(value) > NAME_BYTES or not name.isprintable():
        raise CardProtocolError("the name on the card is not GBK text of at most 30 bytes; the read was corrupted")
    return name


def encode_name(name: str) -> bytes:
    raw = name.encode("gbk")
    if len(raw) > NAME_BYTES:
        raise ValueError(f"a name on the card has at most {NAME_BYTES} GBK bytes (this one has {len(raw)})")
    return raw.ljust(NAME_BYTES, b" ")


def decode_gender(value: bytes) -> str | None:
    """'1'/'2' (ASCII or binary) → 男/女, '0' 未知, '9' 未说明; None for a code we do not know."""
    if len(value) != 1:
        raise CardProtocolError("the gender is not 1 byte; the read was corrupted")
    code = value[0] if value[0] >= 0x30 else value[0] + 0x30
    return GENDERS.get(chr(code))


def decode_nation(value: bytes) -> str:
    """1 BCD byte (or 2 ASCII digits) of GB 3304 → 汉, 蒙古 …; '' for an unknown code."""
    digits = bytes(value).decode("ascii") if len(value) == 2 and bytes(value).isdigit() else bytes(value).hex()
    if len(digits) != 2 or not digits.isdigit():
        raise CardProtocolError("the nation code is not 1 BCD byte; the read was corrupted")
    return NATIONS.get(digits, "")


# -- the card ---------------------------------------------------------------------------------------
def read_records(transmit: Transmit) -> tuple[dict[int, bytes], dict[int, bytes]]:
    """SELECT SSSE, then READ RECORD EF05 and EF06 → their tags' raw values (missing optional records skipped)."""
    _, sw = exchange(transmit, select_ssse())
    if sw != SW_OK:
        raise status_error("selecting the social-security application", sw)
    return _read_ef(transmit, EF05, EF05_RECORDS), _read_ef(transmit, EF06, EF06_RECORDS)


def _read_ef(transmit: Transmit, sfi: int, records: Mapping[int, bool]) -> dict[int, bytes]:
    values: dict[int, bytes] = {}
    for number, mandatory in records.items():
        data, sw = exchange(transmit, read_record(sfi, number))
        if sw == 0x6A83 and not mandatory:
            continue
        if sw != SW_OK:
            raise status_error(f"reading record {number:02X} of EF{sfi:02X}", sw)
        values.update(parse_tlv(data))
    return values


def card_from_records(ef05: Mapping[int, bytes], ef06: Mapping[int, bytes]) -> CitizenCard:
    """The CitizenCard in EF05/EF06 (tag → value); CardProtocolError for malformed data, CardReadError for a bad ID."""
    for ef, tag, what in ((ef05, 0x07, "card number"), (ef06, 0x08, "ID number"), (ef06, 0x09, "name")):
        if tag not in ef:
            raise CardProtocolError(f"the card has no {what} (tag {tag:02X}); it is not a social-security card this "
                                    "reader knows: ask for the resident ID card")
    card_number = decode_ascii(ef05[0x07], "card number", CARD_NUMBER_BYTES)
    raw_id = decode_ascii(ef06[0x08], "ID number", ID_NUMBER_BYTES)
    name = decode_name(ef06[0x09])
    try:
        id_number = gb11643.validate(raw_id)
    except gb11643.InvalidIdNumber as exc:
        raise CardReadError(f"the ID number on the social-security card is not valid ({exc}); the card may be "
                            "damaged or not genuine: ask for the resident ID card") from None
    gender = decode_gender(ef06[0x0A]) if 0x0A in ef06 else None
    born = decode_bcd_date(ef06[0x0D], "birth date") if 0x0D in ef06 else gb11643.birth_date(id_number)
    return CitizenCard(
        kind=SOCIAL_SECURITY, name=name, id_number=id_number, gender=gender or gb11643.gender(id_number),
        nation=decode_nation(ef06[0x0B]) if 0x0B in ef06 else "", birth_date=born,
        valid_from=decode_bcd_date(ef05[0x05], "issue date") if 0x05 in ef05 else None,
        valid_to=decode_bcd_date(ef05[0x06], "expiry date") if 0x06 in ef05 else None,
        card_number=card_number)


def records_from_card(card: CitizenCard) -> dict[int, dict[int, bytes]]:
    """The inverse for the virtual card: SFI → record number → record bytes (one TLV each)."""
    ef05 = {0x07: card.card_number.encode("ascii")}
    if card.valid_from:
        ef05[0x05] = encode_bcd_date(card.valid_from)
    if card.valid_to:
        ef05[0x06] = encode_bcd_date(card.valid_to)
    ef06 = {0x08: card.id_number.encode("ascii"), 0x09: encode_name(card.name)}
    if card.gender in GENDER_CODES:
        ef06[0x0A] = GENDER_CODES[card.gender].encode("ascii")
    if card.nation in NATION_CODES:
        ef06[0x0B] = bytes.fromhex(NATION_CODES[card.nation])
    if card.birth_date:
        ef06[0x0D] = encode_bcd_date(card.birth_date)
    return {sfi: {tag: encode_tlv(tag, value) for tag, value in ef.items()} for sfi, ef in ((EF05, ef05), (EF06, ef06))}
