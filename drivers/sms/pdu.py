"""GSM 03.40 (3GPP TS 23.040) SMS-SUBMIT PDUs in UCS-2, as `AT+CMGS` takes them in PDU mode: plain functions.

    submit_pdus("+8613800000000", "您的办件已受理", reference=7)  ->  [Pdu(hex="0011000D91…", length=…)]

A text of up to 70 UTF-16 code units goes in one PDU; a longer one in parts of up to 67 units, each with the
concatenation header `05 00 03 <ref> <total> <part>` (TP-UDHI set), so the phone joins them. A character outside
the BMP (an emoji, a rare 汉字 of CJK Ext. B) is a surrogate pair: two units, never split across parts. Each Pdu's
hex starts with the SMSC address (`00`: the one stored on the SIM, AT+CSCA) and its `length` is the TPDU's octets
without it, which is what AT+CMGS=<length> must say. `decode_submit` reads one back (the simulator's side).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

SINGLE_UNITS = 70           # UCS-2 code units in one message: 140 octets of user data
PART_UNITS = 67             # per part of a concatenated message: 140 - 6 octets of header, halved
MAX_PARTS = 255             # the header's part counter is one octet
MTI_SUBMIT = 0x01
VPF_RELATIVE = 0x10         # TP-VPF = 10: a one-octet relative validity period follows TP-DCS
UDHI = 0x40                 # TP-UDHI: the user data starts with a header
DCS_UCS2 = 0x08
TOA_INTERNATIONAL = 0x91    # type of number: international, numbering plan ISDN/E.164 (+86…)
TOA_UNKNOWN = 0x81          # type of number unknown (national digits as dialled), ISDN plan
VP_4_DAYS = 0xAA            # relative validity 170: (170 - 166) days for the SMSC to keep trying
IEI_CONCAT_8BIT = 0x00
IEI_CONCAT_16BIT = 0x08


class PduError(ValueError):
    """A number or text that cannot be put in a PDU, or a PDU that cannot be read; the message says which."""


class Pdu(NamedTuple):
    hex: str            # what follows the `> ` prompt, before Ctrl-Z: SMSC address + TPDU, upper-case hex
    length: int         # the TPDU's octets (without the SMSC address): AT+CMGS=<length>


@dataclass(frozen=True)
class Submit:
    """An SMS-SUBMIT read back from its hex. `concat` is (ref, total, part) of a concatenated message's part."""
    number: str                 # "+8613800000000" for an international address, else the digits as sent
    ucs2: bytes                 # the user data without its header (UTF-16-BE)
    concat: tuple[int, int, int] | None
    smsc: str                   # "" when the SIM's own SMSC is meant
    dcs: int
    validity: int | None        # the relative validity octet, None when absent
    tpdu_length: int

    @property
    def text(self) -> str:
        return self.ucs2.decode("utf-16-be", errors="replace")


# -- numbers ----------------------------------------------------------------------------------------------------
def semi_octets(digits: str) -> bytes:
    """`8613800000000` → 68 31 08 00 00 00 F0: two digits an octet, low nibble first, F filling an odd count."""
    if not digits.isdigit() or not digits.isascii():
        raise PduError(f"an address holds digits only, not {len(digits)} characters with others among them")
    padded = digits + "F" * (len(digits) % 2)
    return bytes.fromhex("".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2)))


def digits_of(octets: bytes, count: int) -> str:
    """The inverse of `semi_octets`: the first `count` digits."""
    text = "".join(f"{b & 0x0F:X}{b >> 4:X}" for b in octets)
    return text[:count]


def address(number: str) -> bytes:
    """TP-DA: digit count, type of number, digits. `+86…` is international (0x91), bare digits unknown (0x81)."""
    toa = TOA_INTERNATIONAL if number.startswith("+") else TOA_UNKNOWN
    digits = number.removeprefix("+")
    if not 1 <= len(digits) <= 20:
        raise PduError(f"an address has 1 to 20 digits, not {len(digits)}")
    return bytes([len(digits), toa]) + semi_octets(digits)


def smsc_field(smsc: str) -> bytes:
    """The SMSC address before the TPDU: `00` for the SIM's own, else length in octets, type, digits."""
    if not smsc:
        return b"\x00"
    if not smsc.startswith("+"):
        raise PduError("write the service centre's number in international form, e.g. +8613800270500")
    body = bytes([TOA_INTERNATIONAL]) + semi_octets(smsc[1:])
    return bytes([len(body)]) + body


# -- text -------------------------------------------------------------------------------------------------------
def units(text: str) -> int:
    """UTF-16 code units: what UCS-2 messages are counted in (a character beyond U+FFFF counts 2)."""
    return len(text.encode("utf-16-be")) // 2


def split_text(text: str) -> list[str]:
    """The parts `text` is sent in: itself when it fits one message, else runs of at most PART_UNITS units that
    never cut a surrogate pair."""
    if not text:
        raise PduError("an empty text is no message")
    if units(text) <= SINGLE_UNITS:
        return [text]
    parts, current, used = [], [], 0
    for char in text:
        size = 2 if ord(char) > 0xFFFF else 1
        if used + size > PART_UNITS:
            parts.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += size
    parts.append("".join(current))
    if len(parts) > MAX_PARTS:
        raise PduError(f"a text of {units(text)} characters needs {len(parts)} parts; at most {MAX_PARTS} can be "
                       "joined")
    return parts


def concat_header(reference: int, total: int, part: int) -> bytes:
    """The user data header of a part: UDHL 05, IEI 00 (8-bit reference), IEDL 03, ref, total, part (1-based)."""
    if not (0 <= reference <= 255 and 1 <= part <= total <= MAX_PARTS):
        raise PduError(f"a concatenation header needs ref 0-255 and 1 <= part <= total <= {MAX_PARTS}")
    return bytes([0x05, IEI_CONCAT_8BIT, 0x03, reference, total, part])


def tpdu(number: str, ucs2: bytes, header: bytes = b"", validity: int | None = VP_4_DAYS) -> bytes:
    """One SMS-SUBMIT TPDU: first octet, TP-MR 00 (the modem numbers it), TP-DA, TP-PID 00, TP-DCS 08, TP-VP,
    TP-UDL (octets, header included) and TP-UD."""
    data = header + ucs2
    if len(data) > 140:
        raise PduError(f"user data of {len(data)} octets; a message holds 140")
    first = MTI_SUBMIT | (VPF_RELATIVE if validity is not None else 0) | (UDHI if header else 0)
    vp = b"" if validity is None else bytes([validity])
    return bytes([first, 0x00]) + address(number) + bytes([0x00, DCS_UCS2]) + vp + bytes([len(data)]) + data


def submit_pdus(number: str, text: str, reference: int = 0, smsc: str = "",
                validity: int | None = VP_4_DAYS) -> list[Pdu]:
    """The PDUs that send `text` to `number`; `reference` (0-255) ties a long text's parts together."""
    parts = split_text(text)
    prefix = smsc_field(smsc)
    out = []
    for i, part in enumerate(parts, 1):
        header = concat_header(reference, len(parts), i) if len(parts) > 1 else b""
        body = tpdu(number, part.encode("utf-16-be"), header, validity)
        out.append(Pdu((prefix + body).hex().upper(), len(body)))
    return out


# -- reading one back ---------------------------------------------------------------------------------------------
def decode_submit(hex_text: str) -> Submit:
    """An SMS-SUBMIT (SMSC address first, as AT+CMGS takes it) read back; PduError says what is wrong."""
    try:
        raw = bytes.fromhex(hex_text.strip())
    except ValueError:
        raise PduError("the PDU is not hexadecimal") from None
    try:
        return _decode(raw)
    except IndexError:
        raise PduError(f"the PDU ends early ({len(raw)} octets)") from None


def _decode(raw: bytes) -> Submit:
    smsc_len = raw[0]
    smsc = ""
    if smsc_len:
        smsc = ("+" if raw[1] == TOA_INTERNATIONAL else "") + digits_of(raw[2:1 + smsc_len], 2 * (smsc_len - 1))
        smsc = smsc.rstrip("F")
    pos = 1 + smsc_len
    tpdu_length = len(raw) - pos
    first = raw[pos]
    if first & 0x03 != MTI_SUBMIT:
        raise PduError(f"first octet {first:02X}: not an SMS-SUBMIT")
    count, toa = raw[pos + 2], raw[pos + 3]
    pos += 4
    number = ("+" if toa == TOA_INTERNATIONAL else "") + digits_of(raw[pos:pos + (count + 1) // 2], count)
    pos += (count + 1) // 2
    dcs = raw[pos + 1]
    pos += 2
    vpf = first & 0x18
    validity = raw[pos] if vpf == VPF_RELATIVE else None
    pos += {0x00: 0, VPF_RELATIVE: 1}.get(vpf, 7)       # enhanced and absolute periods take 7 octets
    udl = raw[pos]
    data = raw[pos + 1:]
    if dcs & 0x0C != DCS_UCS2:
        raise PduError(f"TP-DCS {dcs:02X}: not UCS-2 (only UCS-2 is read back)")
    if len(data) != udl:
        raise PduError(f"TP-UDL says {udl} octets of user data, {len(data)} follow")
    concat = None
    if first & UDHI:
        udhl = data[0]
        concat = _concat_of(data[1:1 + udhl])
        data = data[1 + udhl:]
    return Submit(number, bytes(data), concat, smsc, dcs, validity, tpdu_length)


def _concat_of(header: bytes) -> tuple[int, int, int] | None:
    pos = 0
    while pos + 1 < len(header):
        iei, length = header[pos], header[pos + 1]
        value = header[pos + 2:pos + 2 + length]
        if iei == IEI_CONCAT_8BIT and length == 3:
            return value[0], value[1], value[2]
        if iei == IEI_CONCAT_16BIT and length == 4:
            return (value[0] << 8) | value[1], value[2], value[3]
        pos += 2 + length
    return None
