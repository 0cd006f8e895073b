"""A simulated network receipt printer: ESC/POS over loopback TCP, receipts to PNG and text.

It answers `DLE EOT` status queries from the current faults and writes every cut receipt to
`<out_dir>/<name>-<seq>.png` and `.txt`. Faults follow real hardware: with the paper
out or the cover open it takes the bytes and prints nothing; offline, it refuses connections and
resets open ones so a client fails at once instead of waiting for its timeout.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import struct
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from . import parser as ops
from .parser import EscposParser
from .render import DOTS, PngRenderer, ReceiptBuilder, render_text

logger = logging.getLogger(__name__)

PAPER_STATES = ("ok", "near-end", "out")
COVER_STATES = ("open", "closed")
STATUS_IDLE = 0x12  # bits 1 and 4 are always set in DLE EOT replies
_CONTENT_OPS = (ops.Text, ops.LineFeed, ops.Feed, ops.QrCode, ops.Barcode, ops.Raster, ops.Cut)
_POLL_S = 0.1


class PrinterSimulator:
    """One simulated printer on 127.0.0.1; start() picks a free port. Thread-safe."""

    def __init__(self, out_dir: str | Path, *, width: int = 80, paper: str = "ok", cover: str = "closed",
                 offline: bool = False, slow_s: float = 0.0, name: str = "printer") -> None:
        if width not in DOTS:
            raise ValueError(f"printer simulator: width must be one of {sorted(DOTS)} (mm), not {width!r}")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"printer simulator: name {name!r} must be letters, digits, '_', '.', '-'")
        self.width = width
        self.name = name
        self.dir = Path(out_dir)
        self._paper, self._cover, self._offline, self._slow_s = "ok", "closed", False, 0.0
        self._check_and_set(paper, cover, offline, slow_s)
        self._lock = threading.RLock()  # state, listener, connection set
        self._print_lock = threading.Lock()  # one connection's bytes at a time reach the paper
        self._printed = threading.Condition(self._lock)
        self._receipts: list[dict[str, Any]] = []
        # a receipt is built from one connection's bytes: two clients at once never mix their receipts
        self._builders: dict[socket.socket, ReceiptBuilder] = {}
        self._renderer = PngRenderer(width)
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self.port = 0
        self._seq = 0

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> int:
        """Listens on 127.0.0.1 (a free port the first time) and returns the port."""
        with self._lock:
            if self._threads:
                return self.port
            self.dir.mkdir(parents=True, exist_ok=True)
            self._seq = max((int(m.group(1)) for p in self.dir.glob(f"{self.name}-*.png")
                             if (m := re.fullmatch(rf"{re.escape(self.name)}-(\d+)\.png", p.name))), default=0)
            self._stop.clear()
            self._listen()
            if self._listener is None:
                raise OSError(f"printer simulator {self.name}: cannot listen on 127.0.0.1:{self.port}")
            self.port = self._listener.getsockname()[1]
            if self._offline:
                self._close_listener()
            thread = threading.Thread(target=self._accept_loop, name=f"sim-{self.name}-accept", daemon=True)
            self._threads.append(thread)
            thread.start()
        logger.info("printer simulator %s listening on 127.0.0.1:%d (%d mm)", self.name, self.port, self.width)
        return self.port

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._close_listener()
            self._drop_connections()
            threads, self._threads = self._threads, []
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=2)

    def __enter__(self) -> PrinterSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults --------------------------------------------------------------------------------------------------

    def set_fault(self, paper: str | None = None, cover: str | None = None, offline: bool | None = None,
                  slow_s: float | None = None) -> None:
        """Changes faults at runtime; None leaves one unchanged."""
        with self._lock:
            was_offline = self._offline
            self._check_and_set(paper, cover, offline, slow_s)
            running = bool(self._threads)
            if running and self._offline and not was_offline:
                self._close_listener()
                self._drop_connections()
            elif running and was_offline and not self._offline:
                self._listen()
        logger.info("printer simulator %s faults: %s", self.name, self.faults())

    def faults(self) -> dict[str, Any]:
        with self._lock:
            return {"paper": self._paper, "cover": self._cover, "offline": self._offline, "slow_s": self._slow_s}

    def _check_and_set(self, paper, cover, offline, slow_s) -> None:
        if paper is not None and paper not in PAPER_STATES:
            raise ValueError(f"printer simulator: paper must be one of {PAPER_STATES}, not {paper!r}")
        if cover is not None and cover not in COVER_STATES:
            raise ValueError(f"printer simulator: cover must be one of {COVER_STATES}, not {cover!r}")
        if slow_s is not None and not (isinstance(slow_s, int | float) and 0 <= slow_s <= 60):
            raise ValueError(f"printer simulator: slow_s must be 0..60 seconds, not {slow_s!r}")
        self._paper = paper if paper is not None else self._paper
        self._cover = cover if cover is not None else self._cover
        self._offline = bool(offline) if offline is not None else self._offline
        self._slow_s = float(slow_s) if slow_s is not None else self._slow_s

    def status_byte(self, n: int) -> int:
        """The reply to DLE EOT n, as an Epson-compatible printer would send it."""
        with self._lock:
            out, cover_open = self._paper == "out", self._cover == "open"
            near_end = self._paper in ("near-end", "out")
        status = STATUS_IDLE
        if n == 1 and (out or cover_open):  # printing has stopped: the printer reports itself offline
            status |= 0x08
        elif n == 2:
            status |= (0x04 if cover_open else 0) | (0x20 if out else 0) | (0x40 if out or cover_open else 0)
        elif n == 4:
            status |= (0x0C if near_end else 0) | (0x60 if out else 0)
        return status

    # -- receipts ------------------------------------------------------------------------------------------------

    @property
    def receipts(self) -> list[dict[str, Any]]:
        """Receipts printed so far: {"png", "txt", "text", "qr", "barcodes", "at"}."""
        with self._lock:
            return list(self._receipts)

    def wait_receipts(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Blocks until at least `count` receipts exist (or the timeout passes); returns them all."""
        with self._printed:
            self._printed.wait_for(lambda: len(self._receipts) >= count, timeout=timeout)
            return list(self._receipts)

    # -- network -------------------------------------------------------------------------------------------------

    def _listen(self) -> None:
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
            sock.listen(8)
            sock.settimeout(_POLL_S)
        except OSError as exc:
            logger.error("printer simulator %s cannot listen on port %d: %s; retrying", self.name, self.port, exc)
            return
        self._listener = sock

    def _close_listener(self) -> None:
        if self._listener is not None:
            # shut down first: a close() alone leaves the kernel's socket listening (and completing handshakes)
            # while the accept thread still waits on it, so "offline" would accept connections for a moment
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None

    def _drop_connections(self) -> None:
        for conn in list(self._conns):
            _abort(conn)
        self._conns.clear()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                listener = self._listener
                if listener is None and not self._offline:
                    self._listen()
                    listener = self._listener
            if listener is None:
                self._stop.wait(_POLL_S)
                continue
            try:
                conn, peer = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                self._stop.wait(_POLL_S / 10)
                continue
            with self._lock:
                if self._offline or self._stop.is_set():
                    _abort(conn)
                    continue
                self._conns.add(conn)
            logger.debug("printer simulator %s: connection from %s", self.name, peer)
            thread = threading.Thread(target=self._serve, args=(conn,), name=f"sim-{self.name}-conn", daemon=True)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        parser = EscposParser()
        try:
            try:
                conn.settimeout(_POLL_S)
            except OSError:             # going offline reset the socket before this thread started
                return
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not data:
                    break
                if self._slow_s:
                    self._stop.wait(self._slow_s)
                if self._offline:
                    break
                with self._print_lock:
                    self._apply(parser.feed(data), conn)
            with self._print_lock:
                self._apply(parser.flush(), conn)
            if parser.pending():
                logger.warning("printer simulator %s: connection ended inside a command; %d bytes dropped",
                               self.name, parser.pending())
        except Exception:  # a bug here must not kill the printer for the next connection
            logger.exception("printer simulator %s: error while printing", self.name)
        finally:
            with self._lock:
                self._conns.discard(conn)
            self._builders.pop(conn, None)
            conn.close()

    def _apply(self, new_ops: list[ops.Op], conn: socket.socket) -> None:
        for op in new_ops:
            if isinstance(op, ops.StatusQuery):
                try:
                    conn.sendall(bytes([self.status_byte(op.n)]))
                except OSError:
                    logger.debug("printer simulator %s: status reply to a closed connection", self.name)
                continue
            if isinstance(op, ops.Unknown):
                logger.debug("printer simulator %s: unknown bytes %s", self.name, op.data.hex(" "))
            elif isinstance(op, ops.Buzzer):
                logger.info("printer simulator %s: buzzer x%d", self.name, op.times)
            with self._lock:
                stopped = self._paper == "out" or self._cover == "open"
            if stopped and isinstance(op, _CONTENT_OPS):
                if isinstance(op, ops.Cut):
                    logger.warning("printer simulator %s: paper %s, cover %s: receipt not printed",
                                   self.name, self._paper, self._cover)
                    self._builders[conn] = ReceiptBuilder()
                continue
            receipt = self._builders.setdefault(conn, ReceiptBuilder()).apply(op)
            if receipt is not None:
                self._save(receipt)

    def _save(self, receipt) -> None:
        with self._lock:
            stem = self._claim()
        text = render_text(receipt, self.width)
        png, txt = stem.with_suffix(".png"), stem.with_suffix(".txt")
        self._renderer.render(receipt).save(png)
        partial = stem.with_suffix(".txt.partial")      # the .txt appears whole, once the .png is written
        partial.write_text(text, encoding="utf-8")
        partial.replace(txt)
        entry = {"png": png, "txt": txt, "text": text, "qr": receipt.qr, "barcodes": receipt.barcodes,
                 "at": datetime.now().astimezone().isoformat(timespec="seconds")}
        with self._printed:
            self._receipts.append(entry)
            self._printed.notify_all()
        logger.info("printer simulator %s printed %s", self.name, png.name)

    def _claim(self) -> Path:
        """The next free `<name>-<seq>` in the output directory, created at once: another simulator writing
        into the same directory under the same name never overwrites a receipt."""
        while True:
            self._seq += 1
            stem = self.dir / f"{self.name}-{self._seq:04d}"
            try:
                stem.with_suffix(".png").open("xb").close()
            except FileExistsError:
                continue
            return stem


def _abort(conn: socket.socket) -> None:
    """Closes with a TCP reset, so the peer's next send or recv fails at once."""
    with contextlib.suppress(OSError):      # already closed by the peer: a plain close is all we can do
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()

