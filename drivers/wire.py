"""`--wire`: a device URL rewritten so that its serial line is dumped through pyserial's `spy://`.

    with_wire("sam+serial:///dev/ttyUSB0?baudrate=115200", Path("/tmp/sam.txt"))
        -> "sam+serial://?port=spy:///dev/ttyUSB0?file=/tmp/sam.txt&baudrate=115200"
    with_wire("sim://idcard?card=elder", Path("/tmp/sam.txt"))  ->  "sim://idcard?card=elder&wire=/tmp/sam.txt"

The dump is pyserial's hex dump, one line per chunk read or written, e.g.
`000000.004 TX   0000  AA AA AA 96 69 00 03 10  FF EC  ...` — what a technician sends to the device's vendor.
Simulators take `wire=` and open their real driver through `spy://` on their pseudo-terminal. A SAM reader's
dump has the card's text and photo masked as `xx` (see idcard/sam_wire.py). A driver that reopens its port (after
a failure) adds to the dump below a `---------- … opened again` line (serial_port.open_port): delete the file for a
fresh one. URLs without a serial line are a ValueError saying how to capture them instead.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, unquote_plus, urlsplit

# URL schemes whose port is a serial line, given as the path (scheme:///dev/ttyX) or as ?port=.
SERIAL_SCHEMES = ("escpos+serial", "sam+serial", "led+serial", "modbus7+serial", "caller+serial", "lockerbus+serial",
                  "sms+serial", "evalbox+serial")
# Simulators that run the real serial driver on a pseudo-terminal, and take wire=PATH.
WIRED_SIMULATORS = ("idcard", "display", "caller", "locker", "sms", "evaluator")

NO_WIRE = {
    "escpos+tcp": "escpos+tcp:// talks TCP, not a serial line: capture it with tcpdump -w dump.pcap port 9100 instead",
    "escpos+usb": "escpos+usb:// talks USB, not a serial line: capture it with usbmon (Wireshark) instead",
    "escpos+file": "escpos+file:// writes a device file and reads nothing back: there is no serial line to dump",
    "pcsc": "pcsc:// talks to pcscd, not a serial line: log its APDUs with pcscd --foreground --apdu instead",
    "cv": "cv:// is a camera (OpenCV video), not a serial line: record its video with scripts/camera-check instead",
    "tts": "tts:// is a speech voice, not a serial line: there is no wire to dump",
    "clips": "clips:// is a recorded-clip voice, not a serial line: there is no wire to dump",
    "alsa": "alsa:// is a sound card, not a serial line: there is no wire to dump",
    "screen": "screen:// plays sound on the calling screens' browsers, not over a serial line: no wire to dump",
}
NO_WIRE_SIMULATORS = {
    "printer": "sim://printer talks TCP to its simulator, not a serial line: its receipts are in its out= folder; "
               "to see the bytes use escpos+serial:// or tcpdump",
    "sscard": "sim://sscard talks PC/SC through pcscd, not a serial line: log its APDUs with pcscd --apdu instead",
    "camera": "sim://camera is a simulated camera, not a serial line: there is no wire to dump",
    "audio": "sim://audio is a simulated loudspeaker, not a serial line: there is no wire to dump",
}
# Characters of a query value that must be escaped so that parse_qsl (and spy's parse_qs) give them back.
_QUERY_SAFE = ":/?="


def spy_url(port: str, dump: str | os.PathLike) -> str:
    """The pyserial URL `spy://PORT?file=DUMP`, the dump path escaped for spy's own query parsing."""
    return f"spy://{port}?file={quote(os.fspath(dump), safe='/')}"


def spy_port_option(port: str, dump: str | os.PathLike) -> str:
    """`spy_url(port, dump)` escaped to be the value of a device URL's `port=` option."""
    return quote(spy_url(port, dump), safe=_QUERY_SAFE)


def wired_port(port: str, dump: str | None) -> str:
    """What follows `scheme://` in a simulator's inner serial URL, up to its first option: `PORT?`, or with a
    dump `?port=spy://PORT?file=DUMP&`."""
    return f"?port={spy_port_option(port, dump)}&" if dump else f"{port}?"


def with_wire(url: str, dump: Path) -> str:
    """`url` rewritten so its serial traffic is written to `dump` as a hex dump; ValueError if it has no
    serial line (the message says how to capture that device instead)."""
    if "://" not in url:
        raise ValueError(f"{url!r} is not a device URL; write it as scheme://address")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in NO_WIRE:
        raise ValueError(NO_WIRE[scheme])
    if scheme == "sim":
        return _sim_with_wire(url, parts.hostname or "", parts.query, dump)
    if scheme not in SERIAL_SCHEMES:
        raise ValueError(f"{url}: {scheme}:// is not a device on a serial line, so --wire cannot dump it "
                         f"(serial schemes: {', '.join(s + '://' for s in SERIAL_SCHEMES)})")
    items = [item for item in parts.query.split("&") if item]
    ports = [unquote_plus(item.partition("=")[2]) for item in items if item.partition("=")[0] == "port"]
    if parts.netloc:
        raise ValueError(f"{url}: {parts.netloc!r} reads as a host name; a device path takes three slashes "
                         f"({scheme}:///dev/ttyUSB0)")
    port = parts.path or (ports[0] if ports else "")
    if not port or (parts.path and ports):
        raise ValueError(f"{url}: give the serial port once, as {scheme}:///dev/ttyUSB0 or {scheme}://?port=COM3")
    if port.lower().startswith("spy://"):
        raise ValueError(f"{url}: its port is a spy:// port already, dumping to the file in its URL")
    if "://" in port:
        raise ValueError(f"{url}: spy:// can only wrap a local serial port, not {port.split('://')[0]}://; "
                         "capture a serial-over-TCP line with tcpdump on its TCP port instead")
    rest = [item for item in items if item.partition("=")[0] != "port"]
    return f"{scheme}://?" + "&".join([f"port={spy_port_option(port, dump)}", *rest])


def _sim_with_wire(url: str, host: str, query: str, dump: Path) -> str:
    if host in NO_WIRE_SIMULATORS:
        raise ValueError(NO_WIRE_SIMULATORS[host])
    if host not in WIRED_SIMULATORS:
        raise ValueError(f"{url}: sim://{host} has no serial line to dump (simulators with one: "
                         f"{', '.join('sim://' + h for h in WIRED_SIMULATORS)})")
    items = [item for item in query.split("&") if item and item.partition("=")[0] != "wire"]
    items.append(f"wire={quote(os.fspath(dump), safe='/')}")
    return f"sim://{host}?" + "&".join(items)
