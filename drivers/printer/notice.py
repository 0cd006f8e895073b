"""A printed document other than the ticket: a title, lines of text, fields, a QR code and lines to sign.

The hall's notices (受理通知书, 一次性告知书, 不予受理通知书) are made of these parts; `write_notice` lays
them out for the paper the way `write_receipt` lays out a ticket: text encoded by `receipt.encode_text`
(GB18030 inside FS & … FS .), lines broken by display width, a native QR code, then a cut.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from escpos.constants import QR_ECLEVEL_M

from .receipt import LAYOUTS, display_width, set_size, wrap, write_lines

IDEOGRAPHIC_SPACE = "\u3000"   # two columns wide, so a hanging indent lines up under Chinese text on paper
HANGING_MAX = 0.4      # a field's label wider than this share of a line is not hung under (the value wraps flush)


@dataclass(frozen=True)
class Field:
    """`label：value`; a value longer than the line continues under itself, not under the label."""
    label: str
    value: str
    sep: str = "："


@dataclass(frozen=True)
class SignLine:
    """A line to write on by hand: `label：_______` to the end of the line, with room above it."""
    label: str
    blank: str = ""       # what stands on the line instead of underscores, e.g. "    年   月   日"


NoticeLine = str | Field | SignLine     # a str is a paragraph ("" for an empty line)


@dataclass(frozen=True)
class Notice:
    title: str
    heading: list[str] = field(default_factory=list)     # centred above the title: the issuing organ
    reference: str = ""                                  # centred under the title, e.g. the case number
    lines: list[NoticeLine] = field(default_factory=list)
    qr_url: str = ""
    qr_caption: str = ""
    closing: list[str] = field(default_factory=list)     # right-aligned at the end: organ, date (落款)
    footer: list[str] = field(default_factory=list)      # centred small print under everything
    width: int = 80

    def __post_init__(self) -> None:
        if self.width not in LAYOUTS:
            raise ValueError(f"notice width {self.width} mm is not supported; use "
                             f"{' or '.join(str(w) for w in LAYOUTS)}")


def title_size(title: str, columns: int, largest: int = 2) -> int:
    """The largest magnification (both ways, up to `largest`) at which `title` fits on one line."""
    size = largest
    while size > 1 and display_width(title) * size > columns:
        size -= 1
    return size


def field_lines(item: Field, columns: int) -> list[str]:
    """`label：value` wrapped to `columns`, continuation lines indented to where the value starts."""
    head = item.label + item.sep
    indent = display_width(head)
    if indent > columns * HANGING_MAX:
        return wrap(head + item.value, columns)
    body = wrap(item.value, columns - indent) if item.value else [""]
    pad = IDEOGRAPHIC_SPACE * (indent // 2) + " " * (indent % 2)
    return [head + body[0], *(pad + rest for rest in body[1:])]


def sign_line(item: SignLine, columns: int) -> str:
    head = item.label + "："
    if item.blank:
        return head + item.blank
    return head + "_" * max(columns - display_width(head), 4)


def paragraph_lines(text: str, columns: int) -> list[str]:
    return wrap(text, columns) if text else [""]


def notice_lines(notice: Notice, columns: int) -> list[str]:
    """The body of `notice` as printed lines (what a test or a preview can compare with the paper)."""
    out: list[str] = []
    for item in notice.lines:
        if isinstance(item, Field):
            out.extend(field_lines(item, columns))
        elif isinstance(item, SignLine):
            out.extend(["", sign_line(item, columns)])
        else:
            out.extend(paragraph_lines(item, columns))
    return out


def write_notice(p: Any, notice: Notice) -> None:
    """Send `notice` to `p` (a python-escpos printer object, already open) and cut."""
    lay = LAYOUTS[notice.width]

    lines, size = partial(write_lines, p), partial(set_size, p)

    p.hw("INIT")
    size(1, 1, align="center", bold=True)
    for text in notice.heading:
        lines(wrap(text, lay.columns))
    n = title_size(notice.title, lay.columns)
    size(n, n, bold=True)
    lines(wrap(notice.title, lay.columns // n))
    size(1, 1, bold=False)
    if notice.reference:
        lines(wrap(notice.reference, lay.columns))
    p._raw(b"\n")

    p.set(align="left")
    lines(notice_lines(notice, lay.columns))

    if notice.qr_url:
        p.set(align="center")
        p._raw(b"\n")
        p.qr(notice.qr_url, native=True, size=lay.qr_size, ec=QR_ECLEVEL_M)
        if notice.qr_caption:
            lines(wrap(notice.qr_caption, lay.columns))

    if notice.closing:
        p.set(align="right")
        p._raw(b"\n")
        for text in notice.closing:
            lines(wrap(text, lay.columns))

    if notice.footer:
        p.set(align="center")
        p._raw(b"\n")
        for text in notice.footer:
            lines(wrap(text, lay.columns))
    p.cut()
