"""Incremental ESC/POS parser: bytes in, small immutable ops out.

Pure and chunk-independent: feeding a stream whole or split anywhere yields the same ops (text is
held until a control byte or `flush()` ends it). Malformed or unknown input never raises; it becomes
an `Unknown` op and parsing resumes after it. Turning ops into receipts is `render.ReceiptBuilder`'s job.
"""

from __future__ import annotations

import codecs
import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR, HT = 0x0A, 0x0D, 0x09

# Code pages by ESC t n (subset; anything else falls back to cp437).
CODE_PAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252", 17: "cp866",
              18: "cp852", 19: "cp858", 255: "cp437"}
MAX_RASTER_WIDTH_BYTES = 256  # 2048 dots; wider is treated as garbage
MAX_RASTER_HEIGHT = 4096
MAX_FORM_A_BARCODE = 255
QR_FN_MODEL, QR_FN_SIZE, QR_FN_EC, QR_FN_STORE, QR_FN_PRINT = 65, 67, 69, 80, 81


@dataclass(frozen=True)
class Init:
    pass


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class LineFeed:
    pass


@dataclass(frozen=True)
class Feed:
    lines: int


@dataclass(frozen=True)
class PrintMode:
    """ESC ! n: bit0 font B, bit3 bold, bit4 double height, bit5 double width, bit7 underline."""
    n: int


@dataclass(frozen=True)
class Bold:
    on: bool


@dataclass(frozen=True)
class Underline:
    n: int


@dataclass(frozen=True)
class Align:
    n: int  # 0 left, 1 center, 2 right


@dataclass(frozen=True)
class CharSize:
    width: int  # multipliers 1..8
    height: int


@dataclass(frozen=True)
class Cut:
    mode: int
    feed: int = 0


@dataclass(frozen=True)
class QrCode:
    data: bytes
    size: int  # module size in dots
    ec: int  # 0 L, 1 M, 2 Q, 3 H
    model: int


@dataclass(frozen=True)
class Barcode:
    system: int  # the GS k m byte
    data: bytes
    height: int
    width: int
    hri: int  # 0 none, 1 above, 2 below, 3 both


@dataclass(frozen=True)
class Raster:
    mode: int  # 0 normal, 1 double width, 2 double height, 3 quadruple
    width_bytes: int
    height: int
    data: bytes


@dataclass(frozen=True)
class ChineseMode:
    on: bool


@dataclass(frozen=True)
class CodePage:
    n: int


@dataclass(frozen=True)
class StatusQuery:
    n: int


@dataclass(frozen=True)
class Buzzer:
    times: int
    duration: int


@dataclass(frozen=True)
class Ignored:
    """A command understood well enough to skip, with no effect on the simulated paper."""
    command: bytes


@dataclass(frozen=True)
class Unknown:
    data: bytes


Op = (Init | Text | LineFeed | Feed | PrintMode | Bold | Underline | Align | CharSize | Cut | QrCode | Barcode
      | Raster | ChineseMode | CodePage | StatusQuery | Buzzer | Ignored | Unknown)

# Commands with a fixed number of parameter bytes after ESC x / GS x (no visible effect here).
_ESC_FIXED = {ord(c): n for c, n in {" ": 1, "%": 1, "2": 0, "3": 1, "=": 1, "?": 2, "G": 1, "J": 1, "K": 1,
                                     "L": 0, "M": 1, "R": 1, "S": 0, "U": 1, "V": 1, "e": 1, "i": 0, "m": 0,
                                     "r": 1, "{": 1, "p": 3, "$": 2, "\\": 2, "c": 2, "A": 1, "+": 1}.items()}
_GS_FIXED = {ord(c): n for c, n in {"B": 1, "b": 1, "L": 2, "W": 2, "|": 1, "a": 1, "r": 1, "I": 1, "P": 2,
                                    "E": 1, "$": 2, "\\": 2, "^": 3}.items()}
_FS_FIXED = {ord(c): n for c, n in {"!": 1, "-": 1, "S": 2, "W": 1, "p": 2, "C": 1}.items()}
_NEED_MORE = None


class EscposParser:
    """Turns ESC/POS bytes into ops, keeping partial commands across `feed()` calls."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._text = bytearray()
        self._chinese = False
        self._codepage = "cp437"
        self._qr = {"model": 2, "size": 3, "ec": 0, "data": b""}
        self._bc = {"height": 162, "width": 3, "hri": 0}

    def feed(self, data: bytes) -> list[Op]:
        self._buf += data
        ops: list[Op] = []
        pos = 0
        buf = bytes(self._buf)
        while pos < len(buf):
            b = buf[pos]
            if b >= 0x20 or b == HT:
                end = pos
                while end < len(buf) and (buf[end] >= 0x20 or buf[end] == HT):
                    end += 1
                self._text += buf[pos:end]
                pos = end
                continue
            self._flush_text(ops)  # before the command, which may switch the text encoding
            result = self._command(buf, pos)
            if result is _NEED_MORE:
                break
            size, new_ops = result
            ops.extend(new_ops)
            pos += size
        del self._buf[:pos]
        return ops

    def flush(self) -> list[Op]:
        """Ends pending text (call when the stream ends); an incomplete command stays pending."""
        ops: list[Op] = []
        self._flush_text(ops)
        return ops

    def pending(self) -> int:
        """Bytes of an incomplete command still waiting for the rest."""
        return len(self._buf)

    def _flush_text(self, ops: list[Op]) -> None:
        if not self._text:
            return
        codec = "gb18030" if self._chinese else self._codepage
        ops.append(Text(codecs.decode(bytes(self._text), codec, errors="replace")))
        self._text.clear()

    def _command(self, buf: bytes, pos: int) -> tuple[int, list[Op]] | None:
        b = buf[pos]
        if b == LF:
            return 1, [LineFeed()]
        if b == 0:
            return 1, [Ignored(b"\x00")]
        if b in (CR, 0x0C, 0x07):
            return 1, [Ignored(bytes([b]))]
        if b not in (ESC, GS, FS, DLE):
            return 1, [Unknown(bytes([b]))]
        if pos + 1 >= len(buf):
            return _NEED_MORE
        c = buf[pos + 1]
        handler = {ESC: self._esc, GS: self._gs, FS: self._fs, DLE: self._dle}[b]
        return handler(buf, pos, c)

    @staticmethod
    def _args(buf: bytes, pos: int, count: int) -> bytes | None:
        """The `count` bytes after a two-byte command, or None if not all arrived."""
        if pos + 2 + count > len(buf):
            return None
        return buf[pos + 2:pos + 2 + count]

    def _esc(self, buf: bytes, pos: int, c: int) -> tuple[int, list[Op]] | None:
        head = buf[pos:pos + 2]
        if c == ord("@"):
            self._chinese = False
            self._codepage = "cp437"
            return 2, [Init()]
        one = {ord("!"): PrintMode, ord("E"): lambda n: Bold(bool(n & 1)), ord("-"): lambda n: Underline(n % 3),
               ord("a"): lambda n: Align(n % 48 if n >= 48 else n), ord("d"): Feed, ord("t"): CodePage}
        if c in one:
            args = self._args(buf, pos, 1)
            if args is None:
                return _NEED_MORE
            op = one[c](args[0])
            if isinstance(op, Align) and op.n > 2:
                return 3, [Unknown(head + args)]
            if isinstance(op, CodePage):
                self._codepage = CODE_PAGES.get(op.n, "cp437")
            return 3, [op]
        if c == ord("B"):
            args = self._args(buf, pos, 2)
            return _NEED_MORE if args is None else (4, [Buzzer(args[0], args[1])])
        if c == ord("*"):
            args = self._args(buf, pos, 3)
            if args is None:
                return _NEED_MORE
            size = 5 + (args[1] + args[2] * 256) * (3 if args[0] in (32, 33) else 1)
            return _NEED_MORE if pos + size > len(buf) else (size, [Ignored(buf[pos:pos + 5])])
        if c == ord("D"):  # tab stops, NUL-terminated, at most 32
            return self._terminated(buf, pos, 33, Ignored)
        if c in _ESC_FIXED:
            args = self._args(buf, pos, _ESC_FIXED[c])
            return _NEED_MORE if args is None else (2 + len(args), [Ignored(head + args)])
        return 2, [Unknown(head)]

    def _terminated(self, buf: bytes, pos: int, limit: int, make) -> tuple[int, list[Op]] | None:
        """A command whose data ends with NUL within `limit` bytes; longer is garbage."""
        window = buf[pos + 2:pos + 2 + limit]
        nul = window.find(b"\x00")
        if nul < 0:
            return _NEED_MORE if len(window) < limit else (2, [Unknown(buf[pos:pos + 2])])
        return 3 + nul, [make(buf[pos:pos + 3 + nul])]

    def _gs(self, buf: bytes, pos: int, c: int) -> tuple[int, list[Op]] | None:
        head = buf[pos:pos + 2]
        if c == ord("!"):
            args = self._args(buf, pos, 1)
            if args is None:
                return _NEED_MORE
            return 3, [CharSize(((args[0] >> 4) & 7) + 1, (args[0] & 7) + 1)]
        if c == ord("V"):
            return self._cut(buf, pos)
        if c in (ord("h"), ord("w"), ord("H"), ord("f")):
            args = self._args(buf, pos, 1)
            if args is None:
                return _NEED_MORE
            key = {ord("h"): "height", ord("w"): "width", ord("H"): "hri"}.get(c)
            if key:
                self._bc[key] = args[0] % 48 if key == "hri" and args[0] >= 48 else args[0]
            return 3, [Ignored(head + args)]
        if c == ord("k"):
            return self._barcode(buf, pos)
        if c == ord("("):
            return self._gs_paren(buf, pos)
        if c == ord("v"):
            return self._raster(buf, pos)
        if c in _GS_FIXED:
            args = self._args(buf, pos, _GS_FIXED[c])
            return _NEED_MORE if args is None else (2 + len(args), [Ignored(head + args)])
        return 2, [Unknown(head)]

    @staticmethod
    def _cut(buf: bytes, pos: int) -> tuple[int, list[Op]] | None:
        args = EscposParser._args(buf, pos, 1)
        if args is None:
            return _NEED_MORE
        m = args[0]
        if m in (0, 1, 48, 49):
            return 3, [Cut(m % 48)]
        if m in (65, 66, 97, 98, 103, 104):
            args = EscposParser._args(buf, pos, 2)
            return _NEED_MORE if args is None else (4, [Cut(m, args[1])])
        return 3, [Unknown(buf[pos:pos + 3])]

    def _barcode(self, buf: bytes, pos: int) -> tuple[int, list[Op]] | None:
        args = self._args(buf, pos, 1)
        if args is None:
            return _NEED_MORE
        m = args[0]

        def make(data: bytes) -> Barcode:
            return Barcode(m, data, self._bc["height"], self._bc["width"], self._bc["hri"])

        if m <= 6:
            window = buf[pos + 3:pos + 3 + MAX_FORM_A_BARCODE + 1]
            nul = window.find(b"\x00")
            if nul < 0:
                return _NEED_MORE if len(window) <= MAX_FORM_A_BARCODE else (3, [Unknown(buf[pos:pos + 3])])
            return 4 + nul, [make(window[:nul])]
        if 65 <= m <= 78:
            args = self._args(buf, pos, 2)
            if args is None:
                return _NEED_MORE
            size = 4 + args[1]
            return _NEED_MORE if pos + size > len(buf) else (size, [make(buf[pos + 4:pos + size])])
        return 3, [Unknown(buf[pos:pos + 3])]

    def _gs_paren(self, buf: bytes, pos: int) -> tuple[int, list[Op]] | None:
        """GS ( x pL pH payload: QR code functions for GS ( k, skipped otherwise."""
        args = self._args(buf, pos, 3)
        if args is None:
            return _NEED_MORE
        length = args[1] + args[2] * 256
        size = 5 + length
        if pos + size > len(buf):
            return _NEED_MORE
        payload = buf[pos + 5:pos + size]
        if args[0] != ord("k"):
            return size, [Ignored(buf[pos:pos + 5])]
        if length < 2 or payload[0] != 49:  # cn 49 = QR; PDF417 and others are skipped
            return size, [Ignored(buf[pos:pos + 5])] if length >= 2 else [Unknown(buf[pos:pos + 5])]
        fn, rest = payload[1], payload[2:]
        qr = self._qr
        if fn == QR_FN_MODEL and rest:
            qr["model"] = rest[0] - 48 if rest[0] >= 48 else rest[0]
        elif fn == QR_FN_SIZE and rest:
            qr["size"] = max(1, min(16, rest[0]))
        elif fn == QR_FN_EC and rest:
            qr["ec"] = (rest[0] - 48) % 4 if rest[0] >= 48 else rest[0] % 4
        elif fn == QR_FN_STORE:
            qr["data"] = rest[1:]
        elif fn == QR_FN_PRINT:
            if not qr["data"]:
                return size, [Ignored(buf[pos:pos + 7])]
            return size, [QrCode(qr["data"], qr["size"], qr["ec"], qr["model"])]
        return size, [Ignored(buf[pos:pos + 7])]

    @staticmethod
    def _raster(buf: bytes, pos: int) -> tuple[int, list[Op]] | None:
        """GS v 0 m xL xH yL yH data; absurd sizes are garbage, not a reason to wait for gigabytes."""
        args = EscposParser._args(buf, pos, 6)
        if args is None:
            return _NEED_MORE
        if args[0] != ord("0") or args[1] not in (0, 1, 2, 3, 48, 49, 50, 51):
            return 2, [Unknown(buf[pos:pos + 2])]
        x, y = args[2] + args[3] * 256, args[4] + args[5] * 256
        if not (0 < x <= MAX_RASTER_WIDTH_BYTES and 0 < y <= MAX_RASTER_HEIGHT):
            return 8, [Unknown(buf[pos:pos + 8])]
        size = 8 + x * y
        if pos + size > len(buf):
            return _NEED_MORE
        return size, [Raster(args[1] % 48, x, y, buf[pos + 8:pos + size])]

    def _fs(self, buf: bytes, pos: int, c: int) -> tuple[int, list[Op]] | None:
        head = buf[pos:pos + 2]
        if c == ord("&"):
            self._chinese = True
            return 2, [ChineseMode(True)]
        if c == ord("."):
            self._chinese = False
            return 2, [ChineseMode(False)]
        if c in _FS_FIXED:
            args = self._args(buf, pos, _FS_FIXED[c])
            return _NEED_MORE if args is None else (2 + len(args), [Ignored(head + args)])
        return 2, [Unknown(head)]

    @staticmethod
    def _dle(buf: bytes, pos: int, c: int) -> tuple[int, list[Op]] | None:
        if c in (0x04, 0x05):  # DLE EOT n (status), DLE ENQ n (recovery request)
            args = EscposParser._args(buf, pos, 1)
            if args is None:
                return _NEED_MORE
            if c == 0x04 and 1 <= args[0] <= 4:
                return 3, [StatusQuery(args[0])]
            return 3, [Ignored(buf[pos:pos + 3])] if c == 0x05 else [Unknown(buf[pos:pos + 3])]
        return 2, [Unknown(buf[pos:pos + 2])]
