"""The hall server's footing: its database, the clock and time zone, and whether networked devices answer."""
from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from . import FAIL, OK, WARN, Check
from .advice import advise

FREE_WARN, FREE_FAIL = 1 << 30, 200 << 20          # bytes free on the data dir's disk
FULL_CHECK_BELOW = 512 << 20                        # integrity_check below this size, quick_check above
DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443, "escpos+tcp": 9100}
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*)://")
_AUTHORITY = re.compile(r"(?:[^@/?#&\s]*@)?(\[[^\]]+\]|[^:/?#&\s]+)(?::(\d+))?")


def _finish(check: Check, issues: list[str]) -> Check:
    if check.state != OK:
        check.advice = " · ".join(dict.fromkeys(advise(check.kind, i) for i in issues or [check.detail]))
    return check


# -- database ---------------------------------------------------------------------------------------------
def database(data_dir: Path) -> Check:
    path = data_dir / "hall.db"
    check = Check("database", "database", data={"path": str(path)})
    issues: list[str] = []

    def problem(state: str, text: str) -> None:
        check.worse(state, text)
        issues.append(text)

    if not path.is_file():
        # a new hall (none has been served from this data dir yet): fine, if the server can make it there
        where = next(p for p in (data_dir, *data_dir.parents) if p.exists())
        if path.with_name(path.name + "-wal").exists():
            problem(WARN, f"no database at {path}, but its write-ahead log is there: was hall.db deleted or moved?")
        elif not os.access(where, os.W_OK | os.X_OK):
            problem(FAIL, f"the server cannot make its database {path}: {where} is not writable for this user")
        else:
            check.detail = f"no database at {path} yet: a new hall, the server makes it at its first start"
        _disk(where, check, problem)
        return _finish(check, issues)
    check.data["size_bytes"] = path.stat().st_size
    _disk(data_dir, check, problem)
    why = _write_probe(path)
    if why is not None:
        state = WARN if "locked" in why or "busy" in why else FAIL
        problem(state, f"the database {path} is read-only ({why})" if state == FAIL else f"the database was {why}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            pragma = "integrity_check" if check.data["size_bytes"] < FULL_CHECK_BELOW else "quick_check"
            rows = [r[0] for r in conn.execute(f"PRAGMA {pragma}(20)")]
            check.data["schema_version"] = conn.execute("PRAGMA user_version").fetchone()[0]
            check.data["journal_mode"] = conn.execute("PRAGMA journal_mode").fetchone()[0]
        finally:
            conn.close()
        check.data[pragma] = rows
        if rows != ["ok"]:
            problem(FAIL, f"{pragma} found damage: {'; '.join(rows[:3])}")
    except sqlite3.Error as exc:
        problem(FAIL, f"the database cannot be read: {exc}")
    if check.state == OK:
        check.detail = (f"{check.data['size_bytes'] / 1e6:.1f} MB, schema v{check.data.get('schema_version')}, "
                        f"integrity ok, writable, {check.data['free_bytes'] / 1e9:.1f} GB free")
    return _finish(check, issues)


def _disk(where: Path, check: Check, problem) -> None:
    free = shutil.disk_usage(where).free
    check.data["free_bytes"] = free
    if free < FREE_FAIL:
        problem(FAIL, f"only {free / 1e6:.0f} MB free on the data dir's disk")
    elif free < FREE_WARN:
        problem(WARN, f"only {free / 1e6:.0f} MB free on the data dir's disk")


def _write_probe(path: Path) -> str | None:
    """None if a write transaction can begin (then rolled back), else why not. Root ignores file modes, so
    os.access alone cannot tell; the attempt does (an immutable file, a read-only mount)."""
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        return "no write permission for this user on the file or its directory"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=2, isolation_level=None)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("CREATE TABLE diagnose_write_probe(x)")
        conn.execute("ROLLBACK")
        return None
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        conn.close()


# -- clock --------------------------------------------------------------------------------------------------
def clock(hall_zone: str) -> Check:
    now = datetime.now(UTC)
    check = Check("clock", "clock")
    issues: list[str] = []
    system = system_zone()
    local_offset = datetime.now().astimezone().utcoffset()
    hall_offset = now.astimezone(ZoneInfo(hall_zone)).utcoffset()
    check.data = {"utc": now.isoformat(timespec="seconds"), "system_zone": system, "hall_zone": hall_zone,
                  "hall_time": now.astimezone(ZoneInfo(hall_zone)).isoformat(timespec="seconds")}
    check.detail = f"{check.data['hall_time']} in the hall's zone {hall_zone}"
    if now.year < 2025:
        issues.append(f"the clock reads {now:%Y-%m-%d %H:%M} UTC")
        check.worse(FAIL, issues[-1])
    if local_offset != hall_offset:
        issues.append(f"the system's time zone is {system} (UTC{_offset(local_offset)}) but the hall's time zone is "
                      f"{hall_zone} (UTC{_offset(hall_offset)})")
        check.worse(WARN, issues[-1])
    ntp, source = synchronised()
    check.data["ntp_synchronised"] = ntp
    if ntp == "yes":
        check.detail += "; synchronised (NTP)"
    elif ntp == "no":
        issues.append(f"the clock is not synchronised ({source})")
        check.worse(WARN, issues[-1])
    else:
        issues.append(f"clock synchronisation is unknown ({ntp})")
        check.worse(WARN, issues[-1])
    return _finish(check, issues)


def system_zone() -> str:
    if os.environ.get("TZ"):
        return os.environ["TZ"]
    link = Path("/etc/localtime")
    if link.is_symlink() and "zoneinfo/" in os.readlink(link):
        return os.readlink(link).split("zoneinfo/", 1)[1]
    with_name = Path("/etc/timezone")
    if with_name.is_file():
        return with_name.read_text().strip() or "unknown"
    return datetime.now().astimezone().tzname() or "unknown"


def synchronised() -> tuple[str, str]:
    """("yes" | "no", how that was told), or ("unknown", why not): timedatectl's answer, else the kernel's own
    (adjtimex, what timedated reads too), which needs no system bus — a machine or container without systemd."""
    why = _timedatectl()
    if why in ("yes", "no"):
        return why, "timedatectl: NTPSynchronized=" + why
    maxerror = _kernel_maxerror()
    if maxerror is None:
        return "unknown", why
    # as systemd's ntp_synced(): an NTP client keeps the error low; without one it grows to 16 s and stays
    synced = maxerror < 16_000_000
    return ("yes" if synced else "no"), (f"adjtimex: the kernel's maximum error is {maxerror / 1e6:g} s"
                                         + ("" if synced else ", no NTP client keeps it"))


def _timedatectl() -> str:
    if shutil.which("timedatectl") is None:
        return "no timedatectl on this machine"
    try:
        out = subprocess.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"], capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"timedatectl failed: {exc}"
    value = out.stdout.strip()
    if out.returncode == 0 and value in ("yes", "no"):
        return value
    return f"timedatectl: {(out.stderr.strip().splitlines() or ['no answer'])[-1]}"


def _kernel_maxerror() -> int | None:
    """adjtimex(2)'s maximum error of the system clock in µs, or None where it cannot be asked (not Linux)."""
    import ctypes

    class Timex(ctypes.Structure):      # struct timex up to maxerror; the kernel writes the rest into `rest`
        _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                    ("maxerror", ctypes.c_long), ("rest", ctypes.c_byte * 256)]

    try:
        adjtimex = ctypes.CDLL(None, use_errno=True).adjtimex
    except (OSError, AttributeError):
        return None
    tx = Timex()                        # modes 0: read only
    if adjtimex(ctypes.byref(tx)) < 0:
        return None
    return tx.maxerror


def _offset(delta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# -- network ------------------------------------------------------------------------------------------------
def endpoints(url: str) -> list[tuple[str, int]]:
    """The (host, port) pairs a device URL connects to over TCP: escpos+tcp://h:9100, cv://rtsp://h/…,
    led+serial://?port=socket://h:4001, http://…; none for serial, USB, files and simulators."""
    text, found = unquote(url), []
    for m in _SCHEME.finditer(text):
        scheme = m.group(1)
        if scheme not in DEFAULT_PORTS and scheme not in ("socket", "rfc2217") and not scheme.endswith("+tcp"):
            continue
        a = _AUTHORITY.match(text, m.end())
        if not a or not a.group(1):
            continue
        port = int(a.group(2)) if a.group(2) else DEFAULT_PORTS.get(scheme)
        if port:
            found.append((a.group(1).strip("[]"), port))
    return found


def reachability(devices: dict[str, str], timeout: float = 2.0) -> list[Check]:
    """One check per host:port the devices (name → URL) connect to, each a TCP connect with `timeout`."""
    users: dict[tuple[str, int], list[str]] = {}
    for name, url in devices.items():
        for ep in endpoints(url):
            users.setdefault(ep, []).append(name)
    if not users:
        return []
    with ThreadPoolExecutor(min(16, len(users))) as pool:
        return list(pool.map(lambda ep: _connect(ep, users[ep], timeout), users))


def _connect(ep: tuple[str, int], names: list[str], timeout: float) -> Check:
    host, port = ep
    where = f"{host}:{port}"
    check = Check(f"network {where}", "network", data={"host": host, "port": port, "devices": names})
    started = datetime.now(UTC)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            ms = (datetime.now(UTC) - started).total_seconds() * 1000
            check.detail = f"{where} answers ({ms:.0f} ms); used by {', '.join(names)}"
            check.data["connect_ms"] = round(ms, 1)
    except ConnectionRefusedError:
        check.worse(FAIL, f"{where} refused the connection; used by {', '.join(names)}")
    except socket.gaierror as exc:
        check.worse(FAIL, f"cannot resolve {host} ({exc}); used by {', '.join(names)}")
    except OSError as exc:
        why = f"did not answer within {timeout:g} s" if isinstance(exc, TimeoutError) else str(exc)
        check.worse(FAIL, f"{where} {why}; used by {', '.join(names)}")
    return _finish(check, [])
