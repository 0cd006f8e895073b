"""Opening each device the way the hall server does, in a thread of its own, with a deadline.

A device that hangs (a driver stuck in a read, a port that never answers) is reported as failed after its
timeout and left behind in its daemon thread: the tool finishes regardless. Devices a late check still holds
are closed before the tool returns (each close waited for up to CLOSE_S): a camera's worker thread still in
OpenCV when the interpreter exits aborts the process ("terminate called without an active exception").
A simulated camera still rendering its video is waited for (up to RENDER_S) rather than failed.
"""
from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from pathlib import Path

from drivers.health import DeviceState
from drivers.redact import redact
from drivers.registry import drivers_of

from ..hardware.supervisor import hall_url
from . import FAIL, OK, WARN, Check
from .advice import advise
from .checks import KINDS, screen_addresses
from .targets import Options, Target

INITIAL = re.compile(r"not open|not started|waiting for the first frame")   # health right after open()
SETTLE_S = 3.0
RENDER_S = 60.0     # a sim:// camera's first render of its video (none after make setup: it renders them ahead)
CLOSE_S = 5.0       # closing the devices of checks that did not finish
STATE = {DeviceState.OK: OK, DeviceState.DEGRADED: WARN, DeviceState.OFFLINE: FAIL, DeviceState.FAULT: FAIL}


def redact_url(url: str) -> str:
    from drivers.camera.base import redact_url as redact_passwords
    return redact_passwords(url)


def deadline(target: Target, opts: Options) -> float:
    """How long this device's check may take."""
    extra = 0.0
    if opts.active:
        extra = opts.wait if target.kind in ("idcard", "caller", "evaluator") else 0.0
        if target.kind == "sms" and opts.sms_to:
            extra = 60.0                                    # the network's time to take the test SMS
        if target.kind == "display":
            extra = 1.0 * len(screen_addresses(target))     # a frame's gap, or a silent screen's timeout
        if target.kind in ("audio", "voice"):
            extra = 15.0                                    # the first speech render, then playing it
    if target.kind == "camera" and target.url.startswith("sim://"):
        extra += RENDER_S                                   # settle() waits for a render, if there is one
    return opts.timeout + extra


def check_all(targets: list[Target], opts: Options) -> list[Check]:
    """Every target checked side by side; the results in the targets' order."""
    results: list[Check | None] = [None] * len(targets)
    threads = []
    for i, target in enumerate(targets):
        def work(i: int = i, target: Target = target) -> None:
            results[i] = check_device(target, opts)
        t = threading.Thread(target=work, daemon=True, name=f"diagnose {target.name}")
        t.start()
        threads.append((t, time.monotonic() + deadline(target, opts), target))
    for t, until, _ in threads:
        t.join(max(0.0, until - time.monotonic()))
    close_left_open(opts)
    out = []
    for i, (t, _, target) in enumerate(threads):
        if t.is_alive() or results[i] is None:
            limit = deadline(target, opts)
            c = Check(target.name, target.kind, FAIL, f"did not answer within {limit:g} s", url=redact_url(target.url),
                      seconds=limit)
            c.advice = advise(c.kind, c.detail)
            out.append(c)
        else:
            out.append(results[i])
    return out


def check_device(target: Target, opts: Options) -> Check:
    started = time.monotonic()
    check = Check(target.name, target.kind, url=redact_url(target.url))
    if target.source != "hall":
        check.data["source"] = target.source
    url = wired(target, opts, check) if opts.wire_dir is not None else target.url
    dev = None
    try:
        held = held_ports(target.url)
        if held:
            raise PortHeld(held)
        dev = create(target.kind, url, opts.sim_dir)
        opts.open_devices.add(dev)
        dev.open()
        health = settle(dev, target.kind)
        check.state, check.detail = STATE[health.state], health.detail
        KINDS[target.kind](dev, target, opts, check)
        check.data.update(redact(dev.diagnostics()))
    except Exception as exc:        # whatever a driver raises is this device's result, never the tool's end
        from drivers.url import DeviceURLError
        prefix = "bad device URL: " if isinstance(exc, DeviceURLError) else (
            f"no {target.kind} drivers here: " if isinstance(exc, ImportError) else "")
        check.worse(FAIL, prefix + (str(exc) or type(exc).__name__))
        if dev is not None and not check.data.get("kind"):
            with contextlib.suppress(Exception):
                check.data.update(redact(dev.diagnostics()))
    finally:
        if dev is not None:
            with contextlib.suppress(Exception):
                dev.close()
            opts.open_devices.discard(dev)
    check.detail = redact_url(check.detail)
    if check.state != OK:
        check.advice = advise(check.kind, check.detail)
    check.seconds = time.monotonic() - started
    return check


def close_left_open(opts: Options) -> None:
    """Close, side by side, the devices that checks past their deadline still hold (a hung close is left)."""
    def close(dev) -> None:
        with contextlib.suppress(Exception):
            dev.close()
    closing = [threading.Thread(target=close, args=(dev,), daemon=True, name=f"diagnose close {dev!r}")
               for dev in list(opts.open_devices)]
    for t in closing:
        t.start()
    until = time.monotonic() + CLOSE_S
    for t in closing:
        t.join(max(0.0, until - time.monotonic()))


class PortHeld(RuntimeError):
    """Another process has the device's port open: opening it too would steal the other's bytes."""


def held_ports(url: str) -> str:
    """Which other processes hold a serial port the URL names (/dev/...), as a sentence, or "" if none.

    Serial ports are not opened exclusively, so a running hall server does not make opening fail; a second
    reader on the line would take bytes meant for the server, and its answers would confuse both.
    """
    from urllib.parse import unquote
    ports = {os.path.realpath(p) for p in re.findall(r"(/dev/[^?&#\s]+)", unquote(url))}
    if not ports:
        return ""
    found = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        pid = int(fd_dir.parent.name)
        if pid == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if any(os.path.realpath(fd) in ports for fd in fd_dir.iterdir()):
                cmd = (fd_dir.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{pid} ({cmd.strip()[:80]})")
    if not found:
        return ""
    return f"the port {', '.join(sorted(ports))} is in use by process {', '.join(found)}"


def create(kind: str, url: str, sim_dir: Path):
    if kind == "voice":
        import drivers.audio  # noqa: F401 — registers the voices
        from drivers.registry import registry
        return registry("voice").create(url)
    if url.startswith("sim://"):        # a simulator writes under diagnose-sim, whatever out= its URL names
        url = re.sub(r"([?&])out=[^&]*&?", r"\1", url).rstrip("?&")
    return drivers_of(kind).create(hall_url(url, sim_dir, kind))


def settle(dev, kind: str, render_s: float = RENDER_S):
    """The device's health once it has left its first moments (a simulator starting, a camera's first frame;
    a simulated camera rendering its video: for up to render_s, then its first frame as after opening)."""
    limit = getattr(dev, "stale_s", 0.0) + 1.5 if kind == "camera" else SETTLE_S
    until = time.monotonic() + limit
    renders_until = time.monotonic() + render_s
    health = dev.health()
    while INITIAL.search(health.detail) and time.monotonic() < until:
        time.sleep(0.2)
        if time.monotonic() < renders_until and rendering(dev):
            until = max(until, time.monotonic() + limit)
        health = dev.health()
    return health


def rendering(dev) -> bool:
    """Whether a simulated camera says it is still rendering (or waiting for) its video."""
    with contextlib.suppress(Exception):
        return bool(dev.diagnostics().get("rendering"))
    return False


def wired(target: Target, opts: Options, check: Check) -> str:
    """--wire: the URL that dumps this device's serial line, or the URL as it is (and why not)."""
    dump = opts.wire_dir / f"{target.name}-{opts.stamp}.log"
    try:
        from drivers.wire import with_wire
    except ImportError as exc:
        check.wire_note = f"no wire dump: {exc}"
        return target.url
    try:
        opts.wire_dir.mkdir(parents=True, exist_ok=True)
        url = with_wire(target.url, dump)
    except ValueError as exc:
        check.wire_note = f"no wire dump: {exc}"
        return target.url
    check.wire = str(dump)
    return url
