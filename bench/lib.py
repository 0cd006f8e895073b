"""Bench helpers: a lean keep-alive HTTP/1.1 client, the server subprocess, RSS sampling, statistics,
the raw SQLite commit rate and the 1 M old-ticket filler.

The client is deliberately minimal (asyncio streams, no header parsing beyond Content-Length), so that
on a 2-core machine the load generator costs far less CPU than the server it measures.
"""
from __future__ import annotations

import asyncio
import http.client
import json
import math
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psutil

from hall_server.config import without_opening_hours

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


# -- statistics ------------------------------------------------------------------------------------
def pct(xs: list[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no samples."""
    if not xs:
        return math.nan
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def ms(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x * 1000:.1f}"


# -- HTTP ------------------------------------------------------------------------------------------
class HttpConn:
    """One keep-alive HTTP/1.1 connection. `await c.request("POST", path, obj)` → (status, body bytes)."""

    IDLE_S = 3.0   # uvicorn closes idle keep-alive connections after 5 s: reopen before that

    def __init__(self, port: int, token: str | None = None):
        self.port = port
        self.token = token
        self._r: asyncio.StreamReader | None = None
        self._w: asyncio.StreamWriter | None = None
        self._used = 0.0

    async def _open(self) -> None:
        await self.close()
        self._r, self._w = await asyncio.open_connection(HOST, self.port)

    async def close(self) -> None:
        if self._w is not None:
            self._w.close()
            self._r = self._w = None

    async def request(self, method: str, path: str, obj=None) -> tuple[int, bytes]:
        if self._w is None or time.monotonic() - self._used > self.IDLE_S:
            await self._open()
        body = b"" if obj is None else json.dumps(obj).encode()
        head = f"{method} {path} HTTP/1.1\r\nhost: {HOST}:{self.port}\r\ncontent-length: {len(body)}\r\n"
        if obj is not None:
            head += "content-type: application/json\r\n"
        if self.token:
            head += f"authorization: Bearer {self.token}\r\n"
        self._w.write(head.encode() + b"\r\n" + body)
        raw = await self._r.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, chunked = 0, False
        for line in lines[1:]:
            k, _, v = line.partition(":")
            k = k.strip().lower()
            if k == "content-length":
                length = int(v)
            elif k == "transfer-encoding" and "chunked" in v.lower():
                chunked = True
        if chunked:
            data = b""
            while True:
                size = int((await self._r.readuntil(b"\r\n")).strip(), 16)
                data += await self._r.readexactly(size + 2)
                if size == 0:
                    break
            payload = data
        else:
            payload = await self._r.readexactly(length) if length else b""
        self._used = time.monotonic()
        return status, payload

    async def json(self, method: str, path: str, obj=None, expect: tuple[int, ...] = (200, 201)):
        status, body = await self.request(method, path, obj)
        if status not in expect:
            raise RuntimeError(f"{method} {path} → {status}: {body[:300]!r}")
        return json.loads(body) if body else None


def get_health(port: int, timeout: float = 0.5) -> tuple[int, dict | None]:
    c = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        c.request("GET", "/api/v1/health")
        r = c.getresponse()
        body = r.read()
        return r.status, (json.loads(body) if r.status == 200 else None)
    finally:
        c.close()


# -- the server process ----------------------------------------------------------------------------
class RssMonitor(threading.Thread):
    """Samples the server's RSS every 50 ms; `peak` is the highest seen, `mark()` starts a window.

    The server's child processes (the announcer's render worker, the seat worker, multiprocessing's
    resource tracker) are sampled every 0.5 s: `children` maps each pid to its peak RSS and the whole
    window's peak, and `child_label` to what it is (named by `label_child` while it runs)."""

    CHILD_EVERY = 10        # samples of the server per sample of its children

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.window_peak = 0
        self.children: dict[int, dict] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        n = 0
        while not self._halt.is_set():
            try:
                rss = self.proc.memory_info().rss
                kids = self.proc.children(recursive=True) if n % self.CHILD_EVERY == 0 else []
            except psutil.Error:
                return
            n += 1
            self.peak = max(self.peak, rss)
            self.window_peak = max(self.window_peak, rss)
            for k in kids:
                try:
                    k_rss = k.memory_info().rss
                except psutil.Error:
                    continue
                c = self.children.setdefault(k.pid, {"pid": k.pid, "label": label_child(k), "peak": 0,
                                                     "window_peak": 0})
                if c["label"] not in FINAL_LABELS:      # a worker just spawned has not loaded much yet
                    c["label"] = label_child(k)
                c["peak"] = max(c["peak"], k_rss)
                c["window_peak"] = max(c["window_peak"], k_rss)
            self._halt.wait(0.05)

    def mark(self) -> None:
        self.window_peak = 0
        for c in self.children.values():
            c["window_peak"] = 0

    def stop(self) -> None:
        self._halt.set()


FINAL_LABELS = ("seat worker", "announcer's render worker", "multiprocessing resource tracker")


def label_child(p: psutil.Process) -> str:
    """What a child process of the server is: by its command line, and for multiprocessing workers by
    what they have loaded (OpenCV: the seat worker; the speech voices or a lowered priority: the
    announcer's render worker)."""
    try:
        if "python" not in p.name():
            return p.name()             # a program a worker runs (e.g. espeak-ng)
        cmd = " ".join(p.cmdline())
        if "resource_tracker" in cmd:
            return "multiprocessing resource tracker"
        maps = Path(f"/proc/{p.pid}/maps").read_text(errors="replace") if "spawn_main" in cmd or "forkserver" \
            in cmd else ""
        if "/cv2/" in maps or "seat" in cmd:
            return "seat worker"
        if "espeak" in maps or p.nice() > 0:
            return "announcer's render worker"
        return cmd[:60] or p.name()
    except (psutil.Error, OSError):
        return "?"


def always_open(config: str | Path, directory: Path) -> str:
    """`config` (relative to the work tree) without its opening hours, written into `directory`."""
    src = ROOT / config
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{src.stem}-always-open.toml"
    path.write_text(without_opening_hours(src.read_text(encoding="utf-8")), encoding="utf-8")
    return str(path)


class Server:
    """`python -m hall_server serve` as a subprocess (uvicorn, one worker) on its own data dir."""

    def __init__(self, data_dir: Path, port: int, admin_password: str,
                 config: str = "config/district-centre.toml", prelude: str = "",
                 python: str = ""):
        self.data_dir, self.port, self.prelude = data_dir, port, prelude
        self.config = always_open(config, data_dir)   # kiosks issue tickets whatever the hour the bench runs at
        self.python = python or sys.executable
        self.env = {**os.environ, "ONEWINDOW_ADMIN_PASSWORD": admin_password, "PYTHONUNBUFFERED": "1"}
        if python:          # another interpreter (experiments): let it find hall_server in the work tree
            self.env["PYTHONPATH"] = str(ROOT)
        self.proc: subprocess.Popen | None = None
        self.rss: RssMonitor | None = None
        self.peak_rss = 0
        self.peaks: list[int] = []      # peak RSS of each run of the process
        self.children: dict[int, dict] = {}   # the server's child processes of the last run (RssMonitor)
        self.ok_s: float | None = None  # spawn → the first answer of /api/v1/health whose status is "ok"
        self.log = data_dir / "server.log"

    @property
    def cmd(self) -> list[str]:
        args = ["serve", "--config", self.config, "--port", str(self.port), "--data-dir", str(self.data_dir)]
        if self.prelude:   # for experiments only: Python run in the server before it starts
            return [self.python, "-c", f"{self.prelude}\nimport sys\nfrom hall_server.cli import main\n"
                    "sys.exit(main(sys.argv[1:]))", *args]
        return [self.python, "-m", "hall_server", *args]

    def start(self, timeout: float = 30.0, ok_timeout: float = 0.0) -> float:
        """Spawn and wait for the first 200 from /api/v1/health; returns seconds from spawn to that answer.

        `ok_timeout` > 0: then go on polling (every 2 ms) until the health answer says `"status": "ok"`
        (every device opened and working), for at most that long since spawn; `ok_s` is when, or None."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        logf = open(self.log, "ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        self.rss = RssMonitor(self.proc.pid)
        self.rss.start()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log}")
            try:
                status, _ = get_health(self.port)
                if status == 200:
                    first = time.perf_counter() - t0
                    break
            except OSError:
                pass
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"server did not answer within {timeout} s; see {self.log}")
            time.sleep(0.002)
        self.ok_s = None
        while ok_timeout > 0 and time.perf_counter() - t0 < ok_timeout:
            try:
                status, body = get_health(self.port)
                if status == 200 and body and body.get("status") == "ok":
                    self.ok_s = time.perf_counter() - t0
                    break
            except OSError:
                pass
            time.sleep(0.002)
        return first

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.rss:
            self.rss.stop()
            self.rss.join()
            self.peak_rss = max(self.peak_rss, self.rss.peak)
            self.peaks.append(self.rss.peak)
            self.children = self.rss.children
        self.proc = None


class BareServer(Server):
    """bench/bare.py (FastAPI, one durable commit per request) as a subprocess, started and stopped like
    the hall (same uvicorn settings, one worker)."""

    def __init__(self, data_dir: Path, port: int):
        super().__init__(data_dir, port, "")

    @property
    def cmd(self) -> list[str]:
        return [self.python, str(ROOT / "bench" / "bare.py"), "--port", str(self.port), "--data-dir",
                str(self.data_dir)]


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# -- raw SQLite limit ------------------------------------------------------------------------------
def raw_commit_rate(dir_: Path, seconds: float = 3.0) -> dict:
    """Durable single-row commits: WAL, synchronous=FULL, one INSERT per transaction, for `seconds`.

    Returns the overall rate, the rate of each whole second (the disk is shared and noisy) and the
    latency of single commits."""
    path = fresh_dir(dir_) / "raw.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    payload = "x" * 200
    lat: list[float] = []
    per_s: list[int] = [0] * max(1, int(seconds))
    t0 = time.perf_counter()
    while (el := time.perf_counter() - t0) < seconds:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v) VALUES (?)", (payload,))
        conn.execute("COMMIT")
        t1 = time.perf_counter()
        lat.append(t1 - t0 - el)
        sec = int(t1 - t0)
        if sec < len(per_s):
            per_s[sec] += 1
    conn.close()
    return {"rate": len(lat) / el, "per_second": per_s, "commits": len(lat), "seconds": seconds,
            "p50": pct(lat, 50), "p99": pct(lat, 99)}


# -- 1 M old tickets -------------------------------------------------------------------------------
def populate_old_tickets(db: Path, matters: list[tuple[str, str, list[int]]], n: int = 1_000_000,
                         per_day: int = 1500) -> float:
    """Insert `n` finished tickets over past service days (before today) in one transaction; returns seconds.

    `matters` is [(code, prefix, windows serving it)]. Numbers follow the per-prefix daily sequence, so
    the unique index (service_day, number) holds; the per-day counters are written too. Times are UTC
    like the server's (08:30 Shanghai = 00:30 UTC opening), formatted as the server formats them.
    """
    t0 = time.perf_counter()
    rnd = random.Random(7)
    days = math.ceil(n / per_day)
    first = date.today() - timedelta(days=days + 2)
    statuses = ["done"] * 90 + ["no_show"] * 6 + ["expired"] * 2 + ["cancelled"] * 2
    priorities = ["normal"] * 90 + ["elderly"] * 6 + ["disabled"] * 2 + ["veteran"] * 2
    kiosks = [f"kiosk{k}" for k in range(1, 5)]
    day_counters: list[tuple[str, dict[str, int]]] = []

    hms = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
    # random draws come from pools, indexed with a cheap generator: the per-row Python work is what
    # makes a million rows slow
    pool = 1 << 16
    p_matter = [matters[rnd.randrange(len(matters))] for _ in range(pool)]
    p_wait = [rnd.randrange(60_000, 1_800_000) for _ in range(pool)]
    p_walk = [rnd.randrange(10_000, 90_000) for _ in range(pool)]
    p_serve = [rnd.randrange(120_000, 1_500_000) for _ in range(pool)]
    p_status = [statuses[rnd.randrange(100)] for _ in range(pool)]
    p_prio = [priorities[rnd.randrange(100)] for _ in range(pool)]
    p_kiosk = [kiosks[rnd.randrange(len(kiosks))] for _ in range(pool)]
    p_win = [rnd.randrange(1 << 20) for _ in range(pool)]
    p_jitter = [rnd.randrange(10_000) for _ in range(pool)]

    def rows():
        left = n
        r = 12345
        for d in range(days):
            day = first + timedelta(days=d)
            day_s = day.isoformat()
            pre = f"{day_s}T"
            midnight_us = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000
            counters: dict[str, int] = {}
            for i in range(min(per_day, left)):
                r = (r * 1103515245 + 12345) & 0x7FFFFFFF
                a, b = r & 0xFFFF, (r >> 15) & 0xFFFF
                code, prefix, serving = p_matter[a]
                seq = counters[prefix] = counters.get(prefix, 0) + 1
                issued = 1_800_000 + i * 19_000 + p_jitter[b]          # ms since midnight UTC (08:30 Shanghai)
                called = issued + p_wait[b]
                started = called + p_walk[a]
                finished = started + p_serve[b ^ a]
                status = p_status[b]
                c_s = f"{pre}{hms[called // 1000]}.{called % 1000:03d}+00:00"
                yield (day_s, prefix, seq, f"{prefix}{seq:03d}", code, "kiosk", p_prio[a ^ 0x5555], None, status,
                       midnight_us + issued * 1000, f"{pre}{hms[issued // 1000]}.{issued % 1000:03d}+00:00", c_s,
                       c_s, f"{pre}{hms[started // 1000]}.{started % 1000:03d}+00:00" if status == "done" else None,
                       f"{pre}{hms[finished // 1000]}.{finished % 1000:03d}+00:00",
                       serving[p_win[a] % len(serving)], 0, 0, p_kiosk[b])
            left -= min(per_day, left)
            day_counters.append((day_s, counters))

    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA cache_size = -262144")    # 256 MB: the indexes stay in memory while filling
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO tickets (service_day, prefix, seq, number, matter, channel, priority, citizen_ref, status,"
        " queue_key, issued_at, called_at, last_called_at, started_at, finished_at, window, transfers, recalls,"
        " kiosk) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows())
    conn.executemany("INSERT OR IGNORE INTO counters (service_day, prefix, last) VALUES (?,?,?)",
                     [(d, p, last) for d, c in day_counters for p, last in c.items()])
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - t0
