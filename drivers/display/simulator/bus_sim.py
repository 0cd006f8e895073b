"""A wall of LED screens on one simulated RS-485 line: a pseudo-terminal whose master side plays the screens.

The real driver opens `.port` through pyserial; the pty and its thread are a SerialSimulator's. This parses
the frames arriving (text boards or Modbus 7-segment slaves), keeps what each address shows in `screens`,
answers Modbus writes like a slave (only at the configured addresses: others stay silent, like an absent
screen) and can draw the wall as a PNG.
Faults: `dead` (nothing shown, no answers), `garbled` (Modbus answers with a bad CRC; text boards draw junk).
"""
from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ...serial_simulator import SerialSimulator, corrupt_check
from ..frames import (
    SEGMENT_REGISTER,
    VALUE_REGISTER,
    WRITE_REGISTER,
    WRITE_REGISTERS,
    FrameError,
    ModbusRequest,
    TextFrame,
    TextFrameReader,
    decode_segments,
    encode_exception,
    encode_response,
    parse_request,
    parse_text_frame,
)

logger = logging.getLogger(__name__)

PROTOCOLS = ("led", "modbus7")
FAULTS = ("none", "dead", "garbled")
SETTINGS_REGISTERS = frozenset({2, 3, 4})       # unit id, baud rate, decimal point: accepted, not simulated
SILENCE_S = 0.02          # a Modbus slave drops a partial frame after this much silence (t3.5, with pty slack)
FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")     # Debian's fonts-wqy-zenhei
FONT_PX, COLUMN_PX, COLUMNS = 28, 15, 6
COLOURS = {"led": (255, 48, 32), "modbus7": (255, 176, 0)}


class DisplayBusSimulator(SerialSimulator):
    """Screens at `addresses` (None: every address answers) speaking `protocol`. Thread-safe.

    `log` lists (address, text, time.monotonic() of arrival) for every frame on the wire, shown or not.
    """

    kind = "display simulator"
    thread_name = "display-sim"
    FAULTS = FAULTS
    frame_errors = (FrameError,)

    def __init__(self, protocol: str = "led", encoding: str = "gb2312", addresses: Iterable[int] | None = None,
                 digits: int = 4):
        if protocol not in PROTOCOLS:
            raise ValueError(f"display simulator: unknown protocol {protocol!r}; use one of {', '.join(PROTOCOLS)}")
        super().__init__()
        self.protocol, self.encoding, self.digits = protocol, encoding, digits
        self.addresses = None if addresses is None else frozenset(addresses)
        TextFrameReader(encoding)       # an unknown encoding fails here, not in the thread
        self.silence_s = SILENCE_S if protocol == "modbus7" else None
        self.screens: dict[int, str] = {}
        self.bad_frames = 0
        self._log: list[tuple[int, str, float]] = []
        self._render_path: Path | None = None
        self._render_every = 0.5
        self._rendered_at = 0.0
        self._dirty = False
        self._drawer: threading.Thread | None = None     # redraws the PNG, so drawing never delays a frame

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> str:
        """Opens the pty pair and starts serving (and drawing, after `render_to`); returns the driver's path."""
        port = super().start()
        if self._render_path is not None:
            self._start_drawer()
        return port

    def stop(self) -> None:
        super().stop()
        drawer, self._drawer = self._drawer, None
        if drawer is not None and drawer is not threading.current_thread():
            drawer.join(timeout=2)
        if self._dirty and self._render_path is not None:
            self._render_now()

    # -- faults and state ------------------------------------------------------------------------
    def faults(self) -> dict:
        """The fault, what each screen shows now and how many bad frames arrived."""
        with self._lock:
            return {"fault": self._fault, "screens": dict(sorted(self.screens.items())), "bad_frames": self.bad_frames}

    @property
    def log(self) -> list[tuple[int, str, float]]:
        with self._lock:
            return list(self._log)

    def wait_for(self, address: int, text: str, timeout: float = 2.0) -> bool:
        """Whether the screen at `address` shows `text` (blanks around it ignored) within `timeout` seconds."""
        return self.wait_until(lambda: self.screens.get(address, "").strip() == text.strip(), timeout)

    def render_to(self, path: str | Path, every: float = 0.5) -> None:
        """Keep `path` showing the wall: redrawn by a thread of its own at most once per `every` seconds."""
        with self._lock:
            self._render_path, self._render_every, self._dirty = Path(path), every, True
        if self.running:
            self._start_drawer()

    def _start_drawer(self) -> None:
        if self._drawer is None:
            self._drawer = threading.Thread(target=self._draw, name="display-sim-wall", daemon=True)
            self._drawer.start()

    def _draw(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                wait = self._rendered_at + self._render_every - time.monotonic()
                due = self._dirty and wait <= 0
            if due:
                self._render_now()
            else:
                self._stop.wait(min(max(wait, 0.02), 0.1))

    # -- serving ---------------------------------------------------------------------------------
    def parse_frame(self, buffer: bytes) -> tuple[TextFrame | ModbusRequest | None, int]:
        return parse_text_frame(buffer, self.encoding) if self.protocol == "led" else parse_request(buffer)

    def handle(self, frame: TextFrame | ModbusRequest, at: float) -> bytes | None:
        if isinstance(frame, TextFrame):
            self._show(frame.address, frame.text, at)
            return None
        return self._apply(frame, at)

    def handle_bad_frame(self, error: Exception) -> None:
        self._bad(str(error))

    def handle_silence(self, partial: bytes) -> None:
        self._bad(f"a partial Modbus frame dropped after silence: {partial.hex(' ')}")

    def _bad(self, message: str) -> None:
        with self._lock:
            self.bad_frames += 1
        logger.debug("display simulator: %s", message)

    def _apply(self, request: ModbusRequest, now: float) -> bytes:
        """Shows a Modbus write on its screen(s); the answer to send, or b"" for silence."""
        slave, function = request.slave, request.function
        if function == WRITE_REGISTER and request.register == VALUE_REGISTER:
            value = request.values[0] - 0x10000 if request.values[0] & 0x8000 else request.values[0]
            text = str(value).rjust(self.digits)[-self.digits:]
        elif function == WRITE_REGISTERS and request.register == SEGMENT_REGISTER:
            text = decode_segments(request.values)[:self.digits].ljust(self.digits)
        elif function == WRITE_REGISTER and request.register in SETTINGS_REGISTERS:
            text = None
        else:
            if slave == 0 or not self._present(slave):
                return b""
            code = 2 if function in (WRITE_REGISTER, WRITE_REGISTERS) else 1     # no such register / function
            return self._garble(encode_exception(slave, function, code))
        targets = sorted(self.addresses or self.screens) if slave == 0 else [slave]   # 0: broadcast, no answer
        for address in targets:
            if text is not None:
                self._show(address, text, now)
        if slave == 0 or not self._present(slave):
            return b""
        return self._garble(encode_response(request))

    def _present(self, address: int) -> bool:
        return (self.addresses is None or address in self.addresses) and self._fault != "dead"

    def _garble(self, answer: bytes) -> bytes:
        return corrupt_check(answer) if self._fault == "garbled" else answer

    def _show(self, address: int, text: str, now: float) -> None:
        with self._lock:
            self._log.append((address, text, now))
            if not self._present(address):
                return
            if self._fault == "garbled" and self.protocol == "led":     # one-way: the board draws junk
                text = "".join("?" if i % 2 else c for i, c in enumerate(text))
            self.screens[address] = text
            self._dirty = True
            self._lock.notify_all()

    # -- the wall as a picture -------------------------------------------------------------------
    def _render_now(self) -> None:
        with self._lock:
            path, self._dirty, self._rendered_at = self._render_path, False, time.monotonic()
        try:
            if path is not None:
                self.render_png(path)
        except Exception:       # a full disk must not stop the screens
            logger.exception("display simulator: cannot draw the wall into %s", path)

    def render_png(self, path: str | Path, layout: list[list[int]] | list[int] | None = None) -> list[int]:
        """Draws the wall into `path` (rows of addresses, or a flat list wrapped at 6); returns the addresses."""
        state = self.faults()
        screens = state["screens"]
        if layout is None:
            known = self.addresses if self.addresses is not None and len(self.addresses) <= 64 else screens
            layout = sorted(known)
        rows = ([list(r) for r in layout] if layout and isinstance(layout[0], list | tuple)
                else [list(layout[i:i + COLUMNS]) for i in range(0, len(layout), COLUMNS)]) or [[]]
        columns = max(self.digits if self.protocol == "modbus7" else 8,
                      *(_columns(screens.get(a, "")) for row in rows for a in row), 1)
        cell_w = columns * (FONT_PX if self.protocol == "modbus7" else COLUMN_PX) + 24
        cell_h, label_h, margin = FONT_PX + 24, 22, 16
        width = margin + max(len(r) for r in rows) * (cell_w + margin) if any(rows) else 240
        image = Image.new("RGB", (max(width, 240), margin + len(rows) * (cell_h + label_h + margin)), (48, 48, 52))
        draw, font, small = ImageDraw.Draw(image), _font(FONT_PX), _font(16)
        for r, row in enumerate(rows):
            for c, address in enumerate(row):
                x, y = margin + c * (cell_w + margin), margin + r * (cell_h + label_h + margin)
                draw.rectangle((x, y, x + cell_w, y + cell_h), fill=(10, 10, 10), outline=(90, 90, 90))
                text = screens.get(address, "") if state["fault"] != "dead" else ""
                if self.protocol == "modbus7":      # one cell per digit, as on the real screen
                    for i, char in enumerate(text):
                        draw.text((x + 12 + i * FONT_PX, y + 12), char, font=font, fill=COLOURS[self.protocol])
                else:
                    draw.text((x + 12, y + 12), text, font=font, fill=COLOURS[self.protocol])
                for gx in range(x + 2, x + cell_w, 3):        # the dark gaps between LED dots
                    draw.line((gx, y + 1, gx, y + cell_h - 1), fill=(10, 10, 10))
                draw.text((x, y + cell_h + 3), f"#{address}", font=small, fill=(170, 170, 170))
        if not any(rows):
            draw.text((margin, margin), "no screen written yet", font=small, fill=(170, 170, 170))
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{threading.get_ident()}.partial")
        image.save(partial, format="PNG")
        os.replace(partial, path)        # a page reading the wall never sees half a picture
        return [a for row in rows for a in row]


def _columns(text: str) -> int:
    return sum(2 if ord(c) > 0x7F else 1 for c in text)


@functools.lru_cache(maxsize=4)
def _font(size: int):
    try:
        return ImageFont.truetype(str(FONT_PATH), size)
    except OSError:
        logger.warning("CJK font %s missing (install fonts-wqy-zenhei); Chinese will not show", FONT_PATH)
        return ImageFont.load_default(size=size)
