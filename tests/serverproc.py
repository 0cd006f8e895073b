"""Run the real hall server (`python -m hall_server serve`) as a subprocess for end-to-end tests.

    with ServerProcess(tmp_path / "data") as srv:       # the district hall, without opening hours
        HTTP.get(srv.url + "/api/v1/health")
        srv.kill()            # SIGKILL: no shutdown handlers run
        srv.start()           # same data dir, a new free port

The server's stdout and stderr go to files in the data directory (appended across restarts), so a
test can read what the CLI printed and a failed start shows the server's own complaint.
"""
from __future__ import annotations

import itertools
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hall_server.config import without_opening_hours

ROOT = Path(__file__).resolve().parent.parent
DISTRICT = ROOT / "config" / "district-centre.toml"
ADMIN_PASSWORD = "admin-test-password"
# a deadline, not an expectation: a server that exits is reported at once, and one that is slow to answer
# (a full suite in several workers on 2 cores) is waited for
START_TIMEOUT_S = 60.0


# This test process's block of ports, under the kernel's ephemeral range (32768-60999) from which the
# simulators' bind(port 0) draws: a server restarted on its port (keep_port) can never find it taken by a
# simulator of another xdist worker, nor can a simulator's closed port be answered by another worker's server.
_BLOCK = 20000 + 1000 * (int(re.sub(r"\D", "", os.environ.get("PYTEST_XDIST_WORKER", "")) or 0) % 12)
_NEXT = itertools.count(random.randrange(1000))     # two runs at once most likely start apart


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, from this process's block (see _BLOCK)."""
    for _ in range(1000):
        port = _BLOCK + next(_NEXT) % 1000
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {_BLOCK}-{_BLOCK + 999}")


def without_devices(text: str) -> str:
    """A hall config's TOML without its devices (and the seats their cameras watch): a quicker start."""
    for table in ("devices", "seats"):
        text = re.sub(rf"(?ms)^\[\[{table}\]\]\n.*?(?=^\[|\Z)", "", text)
    return text


def without_cameras(text: str) -> str:
    """A hall config's TOML without its seat cameras and the seats they watch; every other device stays.

    Eleven simulated cameras keep the seat worker decoding and judging frames (over half a core) for as long
    as the server runs: a test of something else need not pay for that."""
    text = re.sub(r'(?ms)^\[\[devices\]\]\n(?:(?!^\[)[^\n]*\n)*?kind = "camera"\n.*?(?=^\[|\Z)', "", text)
    return re.sub(r"(?ms)^\[\[seats\]\]\n.*?(?=^\[|\Z)", "", text)


def always_open_config(directory: str | Path, source: Path = DISTRICT, *, cameras: bool = True,
                       devices: bool = True) -> Path:
    """`source` without its opening hours, written into `directory`: a hall that takes tickets at any hour
    (with `cameras=False` without its seat cameras, with `devices=False` without any device)."""
    kept = "" if devices and cameras else "-no-devices" if not devices else "-no-cameras"
    path = Path(directory) / f"{source.stem}-always-open{kept}.toml"
    text = without_opening_hours(source.read_text(encoding="utf-8"))
    if not devices:
        text = without_devices(text)
    elif not cameras:
        text = without_cameras(text)
    path.write_text(text, encoding="utf-8")
    return path


# The tests' plain requests share this client. `httpx.get()` builds a client per call, and with it a TLS context
# that loads the CA bundle: ~35 ms of CPU each time, for a hall that speaks plain HTTP on 127.0.0.1. A server's
# health polls alone burnt a core's share while it started (a page module made ~100 such clients). No
# keep-alive: each request opens its own connection as `httpx.get()` did, so a killed or restarted server is
# never reached through a stale pooled socket. Thread-safe (httpx's pool locks).
HTTP = httpx.Client(verify=False, limits=httpx.Limits(max_keepalive_connections=0))


class ServerProcess:
    def __init__(self, data_dir: str | Path, *, config: str | Path | None = None,
                 admin_password: str | None = ADMIN_PASSWORD, extra_args: tuple[str, ...] = (),
                 keep_port: bool = False, cameras: bool = False):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # by default the district hall, always open: kiosks may take tickets whatever the time of day; its
        # seat cameras only with `cameras` (a test of the seats asks for them)
        self.config = Path(config) if config is not None else always_open_config(self.data_dir, cameras=cameras)
        self.admin_password = admin_password
        self.extra_args = tuple(extra_args)
        self.keep_port = keep_port      # come back on the same port after a restart, as a real hall server does
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.starts = 0
        self._out_pos = 0

    # -- files ----------------------------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.data_dir / "hall.db"

    @property
    def stdout_path(self) -> Path:
        return self.data_dir / "server.stdout"

    @property
    def stderr_path(self) -> Path:
        return self.data_dir / "server.stderr"

    def stdout(self) -> str:
        """Everything the server printed on stdout, over all its starts."""
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stdout_of_last_start(self) -> str:
        return self.stdout()[self._out_pos:]

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    @property
    def url(self) -> str:
        assert self.port is not None, "server not started"
        return f"http://127.0.0.1:{self.port}"

    # -- life cycle -----------------------------------------------------------------------------
    def start(self, timeout: float = START_TIMEOUT_S) -> ServerProcess:
        assert not self.running, "server already running"
        self.port = self.port if self.keep_port and self.port else free_port()
        env = dict(os.environ)
        env.pop("ONEWINDOW_ADMIN_PASSWORD", None)
        if self.admin_password is not None:
            env["ONEWINDOW_ADMIN_PASSWORD"] = self.admin_password
        env["PYTHONUNBUFFERED"] = "1"
        self._out_pos = len(self.stdout())
        cmd = [sys.executable, "-m", "hall_server", "serve", "--config", str(self.config),
               "--port", str(self.port), "--data-dir", str(self.data_dir), *self.extra_args]
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        self.starts += 1
        self._wait_healthy(timeout)
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_exc: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hall server exited with {self.proc.returncode} before answering\n"
                                   f"--- stderr ---\n{self.stderr()[-4000:]}")
            try:
                r = HTTP.get(self.url + "/api/v1/health", timeout=2.0)
                if r.status_code == 200:
                    return
            except httpx.TransportError as exc:
                last_exc = exc
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"hall server did not answer /api/v1/health within {timeout} s ({last_exc})\n"
                           f"--- stderr ---\n{self.stderr()[-4000:]}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process dies at once, mid-transaction if it is in one."""
        self._signal(signal.SIGKILL)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, waiting for a graceful shutdown (SIGKILL if it does not come)."""
        if not self.running:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def _signal(self, sig: int) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(10)

    def restart(self, *, hard: bool = False) -> ServerProcess:
        self.kill() if hard else self.stop()
        return self.start()

    def __enter__(self) -> ServerProcess:
        if not self.running:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- conveniences ---------------------------------------------------------------------------
    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=kw.pop("timeout", 30.0), verify=False, **kw)   # plain HTTP

    def login(self, username: str, password: str) -> dict:
        r = HTTP.post(self.url + "/api/v1/auth/login", json={"username": username, "password": password},
                       timeout=30.0)
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def admin(self) -> dict:
        assert self.admin_password, "started without ONEWINDOW_ADMIN_PASSWORD"
        return self.login("admin", self.admin_password)

    def make_user(self, username: str, role: str, admin_headers: dict | None = None) -> dict:
        """Create a user as admin and return its auth headers."""
        password = f"{username}-password"
        r = HTTP.post(self.url + "/api/v1/users", json={"username": username, "password": password, "role": role},
                       headers=admin_headers or self.admin(), timeout=30.0)
        assert r.status_code == 201, r.text
        return self.login(username, password)
