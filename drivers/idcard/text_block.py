"""The 256-byte text block of a resident ID card (GA 467): UCS-2LE fields, space padded, at fixed offsets.

`decode_text_block` turns it into a `CitizenCard`; `encode_text_block` is its inverse, for the simulator.
Errors name the field at fault, never its content: the block is personal data.
"""
from __future__ import annotations

import re
from datetime import date

from . import gb11643
from .base import RESIDENT_ID, CardProtocolError, CardReadError, CitizenCard

TEXT_BLOCK_LEN = 256
# field: (byte offset, byte length); UCS-2 so each character takes two bytes
FIELDS: dict[str, tuple[int, int]] = {
    "name": (0, 30), "gender": (30, 2), "nation": (32, 4), "birth": (36, 16), "address": (52, 70),
    "id_number": (122, 36), "authority": (158, 30), "valid_from": (188, 16), "valid_to": (204, 16),
    "reserved": (220, 36),
}
LONG_TERM = "长期"

# GB/T 2261.1 sex codes
GENDERS = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}

# GB 3304 nationality codes
NATIONS = {
    "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝", "08": "壮",
    "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白", "15": "土家", "16": "哈尼",
    "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳", "21": "佤", "22": "畲", "23": "高山", "24": "拉祜",
    "25": "水", "26": "东乡", "27": "纳西", "28": "景颇", "29": "柯尔克孜", "30": "土", "31": "达斡尔",
    "32": "仫佬", "33": "羌", "34": "布朗", "35": "撒拉", "36": "毛南", "37": "仡佬", "38": "锡伯", "39": "阿昌",
    "40": "普米", "41": "塔吉克", "42": "怒", "43": "乌孜别克", "44": "俄罗斯", "45": "鄂温克", "46": "德昂",
    "47": "保安", "48": "裕固", "49": "京", "50": "塔塔尔", "51": "独龙", "52": "鄂伦春", "53": "赫哲",
    "54": "门巴", "55": "珞巴", "56": "基诺", "97": "其他", "98": "外国血统中国籍人士",
}
_NATION_CODES = {name: code for code, name in NATIONS.items()}
_GENDER_CODES = {name: code for code, name in GENDERS.items()}

_AGAIN = "ask the citizen to place the card again"


def _text(block: bytes, field: str) -> str:
    offset, length = FIELDS[field]
    try:
        return block[offset:offset + length].decode("utf-16-le").rstrip(" \x00")
    except UnicodeDecodeError:
        raise CardProtocolError(f"the card's {field} field is not UCS-2 text: {_AGAIN}") from None


def _date(text: str, field: str) -> date:
    try:
        if len(text) != 8 or not text.isascii() or not text.isdigit():
            raise ValueError
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise CardProtocolError(f"the card's {field} field is not a date (YYYYMMDD): {_AGAIN}") from None


def _id_number(text: str) -> str:
    number = gb11643.normalise(text)
    if not number.isascii():
        raise CardReadError(f"the card's ID number holds characters other than digits and X: {_AGAIN}")
    if re.fullmatch(r"[0-9]{17}[0-9X]", number) and gb11643.check_digit(number[:17]) != number[17]:
        raise CardReadError(f"the card's ID number fails its check digit: {_AGAIN}")
    try:
        return gb11643.validate(number)
    except gb11643.InvalidIdNumber as exc:      # its messages never repeat the number
        raise CardReadError(f"the card's ID number is malformed ({exc}): {_AGAIN}") from None


def decode_text_block(block: bytes) -> CitizenCard:
    """The card in a 256-byte text block; CardProtocolError for bad content, CardReadError for a bad number."""
    if len(block) != TEXT_BLOCK_LEN:
        raise CardProtocolError(f"the card's text block has {len(block)} bytes instead of {TEXT_BLOCK_LEN}: "
                                f"{_AGAIN}")
    gender_code, nation_code = _text(block, "gender"), _text(block, "nation")
    if gender_code not in GENDERS:
        raise CardProtocolError(f"the card's gender code is not one of GB/T 2261.1 (0, 1, 2, 9): {_AGAIN}")
    if nation_code not in NATIONS:
        raise CardProtocolError(f"the card's nation code is not one of GB 3304: {_AGAIN}")
    valid_to_text = _text(block, "valid_to")
    long_term = valid_to_text == LONG_TERM
    return CitizenCard(
        kind=RESIDENT_ID,
        name=_text(block, "name"),
        id_number=_id_number(_text(block, "id_number")),
        gender=GENDERS[gender_code],
        nation=NATIONS[nation_code],
        birth_date=_date(_text(block, "birth"), "birth date"),
        address=_text(block, "address"),
        authority=_text(block, "authority"),
        valid_from=_date(_text(block, "valid_from"), "valid-from"),
        valid_to=None if long_term else _date(valid_to_text, "valid-to"),
        long_term=long_term,
    )


def _put(block: bytearray, field: str, text: str) -> None:
    offset, length = FIELDS[field]
    raw = text.encode("utf-16-le")
    if len(raw) > length:
        raise ValueError(f"the {field} field holds {length // 2} characters, not {len(text)}")
    block[offset:offset + length] = raw + " ".encode("utf-16-le") * ((length - len(raw)) // 2)


def encode_text_block(card: CitizenCard) -> bytes:
    """The text block a card with these fields carries (ValueError if a field does not fit)."""
    if card.gender not in _GENDER_CODES:
        raise ValueError(f"gender must be one of {', '.join(_GENDER_CODES)}")
    if card.nation not in _NATION_CODES:
        raise ValueError("nation must be a GB 3304 name such as 汉 or 维吾尔")
    if card.birth_date is None or card.valid_from is None or (card.valid_to is None) != card.long_term:
        raise ValueError("a resident ID card needs a birth date, a valid-from date, and a valid-to date "
                         "unless it is long-term")
    block = bytearray(" ".encode("utf-16-le") * (TEXT_BLOCK_LEN // 2))
    _put(block, "name", card.name)
    _put(block, "gender", _GENDER_CODES[card.gender])
    _put(block, "nation", _NATION_CODES[card.nation])
    _put(block, "birth", card.birth_date.strftime("%Y%m%d"))
    _put(block, "address", card.address)
    _put(block, "id_number", card.id_number)
    _put(block, "authority", card.authority)
    _put(block, "valid_from", card.valid_from.strftime("%Y%m%d"))
    _put(block, "valid_to", LONG_TERM if card.long_term else card.valid_to.strftime("%Y%m%d"))
    return bytes(block)
