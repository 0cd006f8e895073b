"""Receipts from parser ops, and their PNG and plain-text renderings.

`ReceiptBuilder` plays the printer's print buffer: it applies style ops and collects lines and
QR/barcode/image blocks until a cut. `render_png` draws a receipt at the paper's dot width with a CJK
font (fonts-wqy-zenhei); QR codes are rebuilt from their stored data so a scanner can read the PNG.
"""

from __future__ import annotations

import logging
import math
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont, ImageOps

from . import parser as ops

logger = logging.getLogger(__name__)

FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
DOTS = {58: 384, 80: 576}  # printable dots per paper width in mm (203 dpi)
BASE_PX = 24  # font A cell height; a CJK glyph is 24x24, a Latin one 12x24
MAX_ROWS = 2000  # cap on rendered rows, against endless garbage text
QR_EC = {0: qrcode.constants.ERROR_CORRECT_L, 1: qrcode.constants.ERROR_CORRECT_M,
         2: qrcode.constants.ERROR_CORRECT_Q, 3: qrcode.constants.ERROR_CORRECT_H}
BARCODE_NAMES = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "NW7", 65: "UPC-A",
                 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF", 71: "NW7", 72: "CODE93",
                 73: "CODE128", 74: "GS1-128"}


@dataclass(frozen=True)
class Span:
    text: str
    bold: bool = False
    underline: bool = False
    width: int = 1
    height: int = 1


@dataclass
class Line:
    align: int = 0
    spans: list[Span] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)


@dataclass(frozen=True)
class QrBlock:
    data: str
    size: int
    ec: int
    align: int


@dataclass(frozen=True)
class BarcodeBlock:
    kind: str
    data: str
    height: int
    width: int
    hri: int
    align: int


@dataclass(frozen=True)
class ImageBlock:
    image: Image.Image
    align: int


Block = Line | QrBlock | BarcodeBlock | ImageBlock


@dataclass
class Receipt:
    blocks: list[Block] = field(default_factory=list)

    @property
    def qr(self) -> list[str]:
        return [b.data for b in self.blocks if isinstance(b, QrBlock)]

    @property
    def barcodes(self) -> list[str]:
        return [b.data for b in self.blocks if isinstance(b, BarcodeBlock)]


class ReceiptBuilder:
    """Applies ops like a printer's print buffer; `apply()` returns a receipt at each cut."""

    def __init__(self) -> None:
        self._receipt = Receipt()
        self._line = Line()
        self._reset_style()

    def _reset_style(self) -> None:
        self.align, self.bold, self.underline, self.width, self.height = 0, False, False, 1, 1

    def apply(self, op: ops.Op) -> Receipt | None:
        match op:
            case ops.Text(text):
                if not self._line.spans:
                    self._line.align = self.align
                self._line.spans.append(Span(text, self.bold, self.underline, self.width, self.height))
            case ops.LineFeed():
                self._end_line(force=True)
            case ops.Feed(lines):
                had_text = bool(self._line.spans)
                self._end_line(force=False)
                for _ in range(max(0, lines - (1 if had_text else 0))):
                    self._receipt.blocks.append(Line())
            case ops.Init():
                self._line = Line()
                self._reset_style()
            case ops.PrintMode(n):
                self.bold, self.underline = bool(n & 0x08), bool(n & 0x80)
                self.height, self.width = (2 if n & 0x10 else 1), (2 if n & 0x20 else 1)
            case ops.Bold(on):
                self.bold = on
            case ops.Underline(n):
                self.underline = n > 0
            case ops.Align(n):
                self.align = n
            case ops.CharSize(width, height):
                self.width, self.height = width, height
            case ops.QrCode(data, size, ec, _model):
                self._block(QrBlock(data.decode("utf-8", errors="replace"), size, ec, self.align))
            case ops.Barcode(system, data, height, width, hri):
                kind = BARCODE_NAMES.get(system, f"type {system}")
                text = data.decode("ascii", errors="replace")
                if kind in ("CODE128", "GS1-128") and text[:1] == "{":  # "{B": code set, not data
                    text = text[2:]
                self._block(BarcodeBlock(kind, text, max(1, height), max(1, min(6, width)), hri, self.align))
            case ops.Raster(mode, width_bytes, height, data):
                self._block(ImageBlock(_raster_image(mode, width_bytes, height, data), self.align))
            case ops.Cut():
                self._end_line(force=False)
                receipt, self._receipt = self._receipt, Receipt()
                if any(not (isinstance(b, Line) and not b.text.strip()) for b in receipt.blocks):
                    return receipt
                logger.debug("cut with nothing printed: no receipt")
        return None

    def _end_line(self, *, force: bool) -> None:
        if self._line.spans or force:
            self._receipt.blocks.append(self._line)
        self._line = Line()

    def _block(self, block: Block) -> None:
        self._end_line(force=False)
        self._receipt.blocks.append(block)


def _raster_image(mode: int, width_bytes: int, height: int, data: bytes) -> Image.Image:
    """GS v 0 bits (1 = black dot) as a grayscale image, scaled for double-width/height modes."""
    img = ImageOps.invert(Image.frombytes("1", (width_bytes * 8, height), data).convert("L"))
    sx, sy = (2 if mode & 1 else 1), (2 if mode & 2 else 1)
    return img.resize((img.width * sx, img.height * sy), Image.NEAREST) if sx * sy > 1 else img


def _printable(ch: str) -> bool:
    """What takes room on paper: Python calls the ideographic space (U+3000, GB18030 A1A1) unprintable, a
    printer prints it as a full-width blank."""
    return ch.isprintable() or unicodedata.category(ch) == "Zs"


def _char_cells(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def render_text(receipt: Receipt, width_mm: int) -> str:
    """Plain text: one line per printed line, aligned within the paper's font-A columns."""
    columns = DOTS.get(width_mm, 576) // 12
    out: list[str] = []
    for block in receipt.blocks:
        match block:
            case Line():
                text = block.text.replace("\t", "    ")
                cells = sum(sum(_char_cells(c) for c in s.text) * s.width for s in block.spans)
                pad = max(0, columns - cells)
                out.append(" " * ({1: pad // 2, 2: pad}.get(block.align, 0)) + text if text else "")
            case QrBlock():
                out.append(f"[QR {block.data}]")
            case BarcodeBlock():
                out.append(f"[BARCODE {block.kind} {block.data}]")
            case ImageBlock():
                out.append(f"[IMAGE {block.image.width}x{block.image.height}]")
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n"


class PngRenderer:
    """Draws receipts on a white strip `DOTS[width_mm]` wide; the font is loaded once."""

    def __init__(self, width_mm: int, font_path: Path = FONT_PATH) -> None:
        self.dots = DOTS.get(width_mm, 576)
        try:
            self.font = ImageFont.truetype(str(font_path), BASE_PX)
        except OSError:
            logger.warning("CJK font %s missing (install fonts-wqy-zenhei); Chinese will not show", font_path)
            self.font = ImageFont.load_default(size=BASE_PX)

    def render(self, receipt: Receipt) -> Image.Image:
        tiles: list[tuple[Image.Image, int]] = []
        for block in receipt.blocks:
            match block:
                case Line():
                    tiles.extend((tile, block.align) for tile in self._line_tiles(block))
                case QrBlock():
                    tiles.append((self._qr_tile(block), block.align))
                case BarcodeBlock():
                    tiles.append((self._barcode_tile(block), block.align))
                case ImageBlock():
                    tiles.append((self._fit(block.image), block.align))
            if len(tiles) > MAX_ROWS:
                logger.warning("receipt longer than %d rows; the rest is not drawn", MAX_ROWS)
                break
        while tiles and tiles[-1][0].getextrema()[0] == 255:  # blank feed lines at the end
            tiles.pop()
        margin = BASE_PX
        page = Image.new("L", (self.dots, margin * 2 + sum(t.height for t, _ in tiles)), 255)
        y = margin
        for tile, align in tiles:
            x = {1: (self.dots - tile.width) // 2, 2: self.dots - tile.width}.get(align, 0)
            page.paste(tile, (max(0, x), y))
            y += tile.height
        return page

    def _fit(self, img: Image.Image) -> Image.Image:
        return img.crop((0, 0, self.dots, img.height)) if img.width > self.dots else img

    def _line_tiles(self, line: Line) -> list[Image.Image]:
        """One tile per printed row; text wider than the paper wraps like on the printer."""
        rows: list[list[tuple[Span, str]]] = [[]]
        used = 0
        for span in line.spans:
            for ch in span.text.replace("\t", "    "):
                w = self._glyph_width(ch) * span.width
                if used + w > self.dots and used:
                    rows.append([])
                    used = 0
                row = rows[-1]
                if row and row[-1][0] is span:
                    row[-1] = (span, row[-1][1] + ch)
                else:
                    row.append((span, ch))
                used += w
        return [self._row_tile(row) for row in rows]

    def _glyph_width(self, ch: str) -> int:
        return max(1, round(self.font.getlength(ch))) if _printable(ch) else 0

    def _row_tile(self, row: list[tuple[Span, str]]) -> Image.Image:
        if not row:
            return Image.new("L", (1, BASE_PX + 6), 255)
        pieces = [self._span_image(span, text) for span, text in row]
        height = max(p.height for p in pieces)
        tile = Image.new("L", (min(self.dots, sum(p.width for p in pieces)) or 1, height + 6), 255)
        x = 0
        for piece in pieces:
            tile.paste(piece, (x, height - piece.height + 3))
            x += piece.width
        return tile

    def _span_image(self, span: Span, text: str) -> Image.Image:
        text = "".join(c for c in text if _printable(c))
        # the whole run can be wider than its glyphs one by one (rounding, stroke): never clip its end
        width = max(sum(self._glyph_width(c) for c in text), math.ceil(self.font.getlength(text))) or 1
        img = Image.new("L", (width + 2, BASE_PX + 2), 255)
        draw = ImageDraw.Draw(img)
        draw.text((0, 0), text, font=self.font, fill=0, stroke_width=1 if span.bold else 0, stroke_fill=0)
        if span.underline:
            draw.line((0, BASE_PX, width, BASE_PX), fill=0, width=2)
        if span.width > 1 or span.height > 1:  # the printer multiplies dots; so do we
            img = img.resize((img.width * span.width, img.height * span.height), Image.NEAREST)
        return img

    def _qr_tile(self, block: QrBlock) -> Image.Image:
        code = qrcode.QRCode(version=None, error_correction=QR_EC.get(block.ec, QR_EC[0]), box_size=1, border=0)
        code.add_data(block.data.encode("utf-8"))
        code.make(fit=True)
        matrix = code.get_matrix()
        n = len(matrix)
        size = block.size
        if (n + 8) * size > self.dots:  # a real printer would print nothing; keep it legible instead
            size = max(1, self.dots // (n + 8))
            logger.warning("QR of %d modules at %d dots does not fit %d dots; drawn at %d", n, block.size,
                           self.dots, size)
        img = Image.new("L", ((n + 8) * size, (n + 8) * size), 255)
        draw = ImageDraw.Draw(img)
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    x, y = (c + 4) * size, (r + 4) * size
                    draw.rectangle((x, y, x + size - 1, y + size - 1), fill=0)
        return img

    def _barcode_tile(self, block: BarcodeBlock) -> Image.Image:
        bars = _barcode_modules(block)
        height = min(block.height, 255)
        img = Image.new("L", (min(self.dots, len(bars) * block.width + 20), height + BASE_PX + 8), 255)
        draw = ImageDraw.Draw(img)
        top = BASE_PX + 4 if block.hri in (1, 3) else 4
        for i, dark in enumerate(bars):
            if dark:
                x = 10 + i * block.width
                draw.rectangle((x, top, x + block.width - 1, top + height - 1), fill=0)
        if block.hri:
            y = 0 if block.hri == 1 else top + height
            draw.text((img.width // 2, y), block.data, font=self.font, fill=0, anchor="ma")
        return img if block.hri in (0, 1, 2) else _with_hri_below(img, block, self.font, top + height)


def _with_hri_below(img: Image.Image, block: BarcodeBlock, font, y: int) -> Image.Image:
    out = Image.new("L", (img.width, y + BASE_PX + 4), 255)
    out.paste(img.crop((0, 0, img.width, y)), (0, 0))
    ImageDraw.Draw(out).text((img.width // 2, y), block.data, font=font, fill=0, anchor="ma")
    return out


def _barcode_modules(block: BarcodeBlock) -> list[bool]:
    """Module pattern from python-barcode when it knows the symbology, else a stand-in pattern."""
    name = {"CODE128": "code128", "GS1-128": "gs1_128", "EAN13": "ean13", "EAN8": "ean8", "CODE39": "code39",
            "UPC-A": "upca", "ITF": "itf"}.get(block.kind)
    data = block.data
    if name:
        try:
            import barcode  # python-barcode, a python-escpos dependency

            kwargs = {"add_checksum": False} if name == "code39" else {}
            code = barcode.get(name, data, **kwargs)
            return [m == "1" for m in "".join(code.build())]
        except Exception as exc:  # bad data for the symbology: a real printer prints nothing useful either
            logger.debug("barcode %s %r not encodable: %s", block.kind, data, exc)
    bits: list[bool] = [True, False, True]
    for byte in data.encode("ascii", errors="replace"):
        bits += [bool(byte >> i & 1) for i in range(7)] + [False]
    return [*bits, True, False, True]
