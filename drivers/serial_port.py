"""What every serial-line driver shares: the `scheme:///dev/ttyX` or `scheme://?port=<pyserial URL>` form,
pyserial's URL handlers checked up front, opening a port (a spy:// dump kept across reopening) and closing it
(spy:// included) without leaking its dump file.

Used by the SAM card reader, the LED and 7-segment buses and the caller keypads; each keeps its own
errors for opening and talking, since what to check differs per device.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import pkgutil
import re
import sys
import time
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import serial

from .url import DeviceURL, DeviceURLError, parse_url

try:        # serial.SerialException (and its write timeout) is an OSError; POSIX ports also raise termios.error
    import termios
    LINK_ERRORS: tuple[type[Exception], ...] = (OSError, ValueError, termios.error)
except ImportError:     # Windows: no termios, pyserial raises SerialException only
    LINK_ERRORS = (OSError, ValueError)
BITS_PER_BYTE = 10                       # 8N1: start bit, 8 data bits, stop bit


def check_pyserial_url(raw: str, port: str) -> None:
    """Refuse a `port=` URL whose scheme pyserial has no handler for, listing those it has."""
    if "://" not in port:
        return
    protocol = port.split("://", 1)[0].lower()
    known = re.fullmatch(r"[a-z0-9_]+", protocol) and any(
        importlib.util.find_spec(f"{package}.protocol_{protocol}") for package in serial.protocol_handler_packages)
    if not known:
        handlers = importlib.import_module("serial.urlhandler")
        have = sorted(m.name.removeprefix("protocol_") + "://" for m in pkgutil.iter_modules(handlers.__path__)
                      if m.name.startswith("protocol_"))
        raise DeviceURLError(f"{raw}: pyserial has no {protocol}:// ports (it has {', '.join(have)})")


def parse_serial_url(raw: str, scheme: str, options: dict, defaults: dict, example: str = "/dev/ttyUSB0"
                     ) -> DeviceURL:
    """The DeviceURL of a serial device, its port in `options["port"]` and `path` (so `address` names it);
    errors name the part at fault."""
    url = parse_url(raw, options, defaults)
    port = url.options.get("port", "")
    if url.scheme != scheme:
        raise DeviceURLError(f"{raw}: not a {scheme}:// URL; write {scheme}://{example}")
    if url.host:
        raise DeviceURLError(f"{raw}: {url.host!r} reads as a host name; a device path takes three slashes "
                             f"({scheme}://{example}) and any other port goes in port= "
                             f"({scheme}://?port=socket://HOST:PORT)")
    if url.path and not url.path.startswith("/"):
        raise DeviceURLError(f"{raw}: put a pyserial URL in port=, e.g. {scheme}://?port={url.path}")
    if url.path and port:
        raise DeviceURLError(f"{raw}: the port is given twice (path {url.path!r} and port={port!r}); keep one")
    port = port or url.path
    if not port:
        raise DeviceURLError(f"{raw}: no serial port; write {scheme}://{example} or {scheme}://?port=…")
    check_pyserial_url(raw, port)
    return replace(url, path=port, options={**url.options, "port": port})


def spy_file(port: str) -> str | None:
    """The dump file of a `spy://PORT?file=PATH` port, as pyserial's spy handler reads it; None for others."""
    parts = urlsplit(port)
    if parts.scheme.lower() != "spy":
        return None
    return parse_qs(parts.query, keep_blank_values=True).get("file", [None])[0]


def open_port(port: str, **settings: Any) -> Any:
    """`serial.serial_for_url(port, **settings)`, except that a spy:// dump file is added to, not emptied:
    pyserial's spy opens its file= for writing on every open, and drivers reopen a port after each failure,
    which is just when a technician wants the whole story."""
    dump = spy_file(port)
    before = ""
    if dump:
        with contextlib.suppress(OSError):
            with open(dump, encoding="utf-8", errors="replace") as f:
                before = f.read()
    try:
        opened = serial.serial_for_url(port, **settings)
    except BaseException:
        if before:          # spy emptied the file before the port failed to open: put the story back
            with contextlib.suppress(OSError), open(dump, "w", encoding="utf-8") as f:
                f.write(before)
        raise
    output = getattr(getattr(opened, "formatter", None), "output", None)
    if before and output is not None:
        output.write(f"{before}{'-' * 10} {time.strftime('%Y-%m-%d %H:%M:%S')} {port} opened again; "
                     "times below count from here\n")
        output.flush()
    return opened


def close_port(port: Any) -> None:
    """Close a pyserial port; pyserial 3.5's spy:// opens its ?file= and never closes it, so that too."""
    with contextlib.suppress(*LINK_ERRORS):
        port.close()
    output = getattr(getattr(port, "formatter", None), "output", None)
    if output is not None and output not in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(OSError):
            output.close()


def reason(exc: BaseException) -> str:
    """An exception as one line for a technician's message."""
    return " ".join(str(exc).split()) or type(exc).__name__
