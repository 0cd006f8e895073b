"""The ticket receipt: what is on it (`Receipt`) and the ESC/POS that prints it (`write_receipt`).

Layout choices per paper width are data (`LAYOUTS`). Text goes to the printer as bytes we encode
ourselves: ASCII as is, anything else as GB18030 inside the printer's Chinese mode (FS & … FS .),
bypassing python-escpos's magic encoder, which mangles Chinese.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from escpos.constants import QR_ECLEVEL_M

FS_CHINESE_ON = b"\x1c&"
FS_CHINESE_OFF = b"\x1c."
CLOSING_PUNCTUATION = frozenset("，。、；：？！）》」』】,.;:?!)")


@dataclass(frozen=True)
class Layout:
    columns: int            # characters of the normal font per line (CJK characters take 2)
    number_size: int        # GS ! magnification of the ticket number (both ways), at most
    title_height: int       # height magnification of the hall name and the matter
    qr_size: int            # QR module size in dots
    material_lines: int     # lines each materials item may take before it is shortened


LAYOUTS: dict[int, Layout] = {
    58: Layout(columns=32, number_size=3, title_height=2, qr_size=6, material_lines=2),
    80: Layout(columns=48, number_size=4, title_height=2, qr_size=8, material_lines=2),
}


@dataclass(frozen=True)
class Receipt:
    hall_name: str
    number: str
    matter_name: str
    waiting_ahead: int
    estimated_wait_s: int
    issued_at: str                  # local time, already formatted ("2026-11-24 09:05")
    status_url: str = ""
    materials: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)     # lines under the hall name, from the hall's config
    footer: list[str] = field(default_factory=list)     # hours, "过号请到服务台重新取号", … from config
    width: int = 80

    def __post_init__(self) -> None:
        if self.width not in LAYOUTS:
            raise ValueError(f"receipt width {self.width} mm is not supported; use "
                             f"{' or '.join(str(w) for w in LAYOUTS)}")


# -- text ----------------------------------------------------------------------------------------
def char_width(ch: str) -> int:
    """Columns `ch` takes in the printer's Chinese mode: ASCII 1, anything else (double-byte) 2."""
    return 1 if ch.isascii() else 2


def display_width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


def clean(text: str) -> str:
    """`text` without control characters, so config or matter names can never smuggle in commands."""
    return "".join(" " if ord(ch) < 0x20 or ord(ch) == 0x7F else ch for ch in str(text))


def _tokens(text: str) -> list[str]:
    """Words of ASCII letters, single spaces, and single non-ASCII characters: the units of wrapping."""
    out: list[str] = []
    for ch in text:
        if ch.isascii() and ch != " " and out and out[-1].isascii() and out[-1][-1] != " ":
            out[-1] += ch
        else:
            out.append(ch)
    return out


def wrap(text: str, columns: int) -> list[str]:
    """`text` broken into lines of at most `columns` display columns (CJK counted as 2).

    Breaks between CJK characters or at spaces; an ASCII word longer than a line is split; closing
    punctuation never starts a line (the character before it moves down with it).
    """
    lines: list[list[str]] = [[]]
    used = 0
    for token in _tokens(clean(text)):
        if display_width(token) > columns:                      # an overlong word: split it
            for ch in token:
                if used + 1 > columns:
                    lines.append([])
                    used = 0
                lines[-1].append(ch)
                used += 1
            continue
        width = display_width(token)
        if used + width <= columns:
            if token != " " or used:
                lines[-1].append(token)
                used += width
            continue
        carry: list[str] = []
        if token in CLOSING_PUNCTUATION:       # take the character it closes down with it
            while len(lines[-1]) > 1 and (not carry or carry[0] in CLOSING_PUNCTUATION):
                carry.insert(0, lines[-1].pop())
        if token == " ":
            lines.append(carry)
        else:
            lines.append([*carry, token])
        used = display_width("".join(lines[-1]))
    return ["".join(line).rstrip() for line in lines if "".join(line).strip()] or [""]


def shorten(text: str, columns: int, max_lines: int) -> list[str]:
    """`wrap`, keeping at most `max_lines` lines; a cut ends with "…"."""
    lines = wrap(text, columns)
    if len(lines) <= max_lines:
        return lines
    last = lines[max_lines - 1]
    while last and display_width(last) + 2 > columns:
        last = last[:-1]
    return [*lines[:max_lines - 1], last + "…"]


def encode_text(text: str) -> bytes:
    """Bytes for one run of text: ASCII plain, otherwise GB18030 inside FS & … FS . (Chinese mode)."""
    text = clean(text)
    if text.isascii():
        return text.encode("ascii")
    return FS_CHINESE_ON + text.encode("gb18030") + FS_CHINESE_OFF


# -- the receipt -------------------------------------------------------------------------------------
def wait_lines(receipt: Receipt, columns: int) -> list[str]:
    """"前面还有 N 人，预计等候约 M 分钟" on one line, or broken after the comma when it does not fit."""
    minutes = math.ceil(max(receipt.estimated_wait_s, 0) / 60)
    parts = [f"前面还有 {receipt.waiting_ahead} 人，", f"预计等候约 {minutes} 分钟"]
    if display_width("".join(parts)) <= columns:
        return ["".join(parts)]
    return [line for part in parts for line in wrap(part, columns)]


def number_size(number: str, layout: Layout) -> int:
    """The largest magnification (up to the layout's) at which `number` fits on one line."""
    size = layout.number_size
    while size > 1 and display_width(number) * size > layout.columns:
        size -= 1
    return size


def write_lines(p: Any, texts: Iterable[str]) -> None:
    """Each text as one line in the printer's Chinese mode (receipts and notices alike)."""
    for text in texts:
        p._raw(encode_text(text) + b"\n")


def set_size(p: Any, w: int, h: int, **style: Any) -> None:
    """Character magnification (and alignment, bold …) for the lines that follow."""
    p.set(custom_size=True, width=w, height=h, **style)


def write_receipt(p: Any, receipt: Receipt) -> None:
    """Send `receipt` to `p` (a python-escpos printer object, already open) and cut."""
    lay = LAYOUTS[receipt.width]

    lines, size = partial(write_lines, p), partial(set_size, p)

    p.hw("INIT")
    size(1, lay.title_height, align="center", bold=True)
    lines(wrap(receipt.hall_name, lay.columns))
    size(1, 1, bold=False)
    for text in receipt.header:
        lines(wrap(text, lay.columns))
    p._raw(b"\n")

    n = number_size(receipt.number, lay)
    size(n, n, bold=True)
    lines([receipt.number])
    size(1, lay.title_height, bold=True)
    lines(wrap(receipt.matter_name, lay.columns))
    size(1, 1, bold=False)
    lines(wait_lines(receipt, lay.columns))
    lines(wrap(f"取号时间：{receipt.issued_at}", lay.columns))

    if receipt.status_url:
        p._raw(b"\n")
        p.qr(receipt.status_url, native=True, size=lay.qr_size, ec=QR_ECLEVEL_M)
        lines(["扫码查看叫号进度"])

    if receipt.materials:
        p.set(align="left")
        p._raw(b"\n")
        lines(["请备齐以下材料："])
        bullet, indent = "□ ", "   "
        for item in receipt.materials:
            item_lines = shorten(item, lay.columns - display_width(bullet), lay.material_lines)
            lines([bullet + item_lines[0], *(indent + rest for rest in item_lines[1:])])

    if receipt.footer:
        p.set(align="center")
        p._raw(b"\n")
        for text in receipt.footer:
            lines(wrap(text, lay.columns))
    p.cut()
