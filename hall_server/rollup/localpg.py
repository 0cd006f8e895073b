"""A private PostgreSQL cluster in a directory of ours: `make district` (var/pg) and the tests' throw-away ones.

No root, no system service: initdb and postgres run as the calling user, or — when that is root, which
PostgreSQL refuses — as the unprivileged `postgres` user (or `nobody`) through runuser, owning the cluster's
directory. initdb runs once per PostgreSQL version into a cached template (var/cache/pg-template-<major>);
every cluster is a copy of it (a copy costs milliseconds, initdb ~1.5 s of CPU).

Local connections (the Unix socket in <dir>/run) are trusted; TCP on 127.0.0.1 (when a port is given for it)
asks for a password (scram-sha-256), so a wrong password can be tested for real.
"""
from __future__ import annotations

import fcntl
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pg_bindir() -> Path:
    """The newest installed PostgreSQL's bin directory (Debian's /usr/lib/postgresql/<major>/bin)."""
    env = os.environ.get("ONEWINDOW_PG_BINDIR")
    if env:
        return Path(env)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    exe = shutil.which("postgres") or shutil.which("pg_ctl")
    if exe:
        return Path(exe).resolve().parent
    raise FileNotFoundError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres); "
                            "run `make setup` (apt-get install postgresql)")


def pg_major(bindir: Path | None = None) -> str:
    out = subprocess.run([str((bindir or pg_bindir()) / "postgres"), "--version"],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"(\d+)(?:\.\d+)?", out)
    return m.group(1) if m else "unknown"


def run_as_user() -> str | None:
    """The unprivileged user to run PostgreSQL as, or None to run it as ourselves (we are not root)."""
    if os.geteuid() != 0:
        return None
    for name in (os.environ.get("ONEWINDOW_PG_USER"), "postgres", "nobody"):
        if not name:
            continue
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL")


def _as_user(cmd: list[str]) -> list[str]:
    user = run_as_user()
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


def _chown_tree(path: Path) -> None:
    user = run_as_user()
    if user:
        subprocess.run(["chown", "-R", f"{user}:", str(path)], check=True)


def superuser_name() -> str:
    """The cluster's superuser: initdb names it after the OS user that ran it."""
    return run_as_user() or pwd.getpwuid(os.geteuid()).pw_name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def template_dir(cache: Path | None = None) -> Path:
    """var/cache/pg-template-<major>: an initdb'd data directory, made once (under a lock: xdist workers)."""
    bindir = pg_bindir()
    cache = cache or ROOT / "var" / "cache"
    target = cache / f"pg-template-{pg_major(bindir)}"
    if (target / "PG_VERSION").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".pg-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "PG_VERSION").exists():
            return target
        work = Path(tempfile.mkdtemp(prefix="pginit-"))
        try:
            _chown_tree(work)
            data = work / "data"
            subprocess.run(_as_user([str(bindir / "initdb"), "-D", str(data), "-E", "UTF8", "--locale=C.UTF-8",
                                     "--auth-local=trust", "--auth-host=scram-sha-256", "--no-instructions"]),
                           check=True, capture_output=True, text=True)
            partial = cache / f".{target.name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            shutil.copytree(data, partial, symlinks=True)
            os.replace(partial, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


class PgCluster:
    """A PostgreSQL cluster in `dir` (data in dir/data, its Unix socket in dir/run, its log in dir/postgres.log).

    `tcp_port`: also listen on 127.0.0.1:<port> with password authentication (0 picks a free port).
    `fast=True` turns fsync off — for throw-away test clusters only.
    """

    def __init__(self, dir: os.PathLike | str, *, port: int = 5432, tcp_port: int | None = None,
                 fast: bool = False, settings: dict | None = None):
        self.dir = Path(dir).resolve()
        self.data = self.dir / "data"
        self.socket_dir = self.dir / "run"
        self.log = self.dir / "postgres.log"
        self.port = port
        self.tcp_port = free_port() if tcp_port == 0 else tcp_port
        self.fast = fast
        self.settings = dict(settings or {})
        self.bindir = pg_bindir()
        self.user = superuser_name()
        if len(str(self.socket_dir)) + 20 > 107:
            raise ValueError(f"{self.socket_dir} is too long for a Unix socket path; use a shorter directory")

    # -- addresses ----------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{self.user}@/{dbname}?host={self.socket_dir}&port={self.port}"

    def tcp_url(self, user: str, password: str, dbname: str = "postgres") -> str:
        if not self.tcp_port:
            raise ValueError("this cluster does not listen on TCP (tcp_port=None)")
        return f"postgresql://{user}:{password}@127.0.0.1:{self.tcp_port}/{dbname}"

    # -- life ---------------------------------------------------------------------------------------------
    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(_as_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), *args]),
                              capture_output=True, text=True, check=check)

    def _options(self) -> str:
        opts = {"port": str(self.port), "unix_socket_directories": f"'{self.socket_dir}'",
                "listen_addresses": "'127.0.0.1'" if self.tcp_port else "''",
                "max_connections": "200"}
        if self.tcp_port:
            opts["port"] = str(self.tcp_port)
        if self.fast:
            opts.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        opts.update({k: str(v) for k, v in self.settings.items()})
        return " ".join(f"-c {k}={v}" for k, v in opts.items())

    def start(self, timeout: float = 60) -> PgCluster:
        if self.tcp_port:
            # One port for both: the socket file is named after the port.
            self.port = self.tcp_port
        self.dir.mkdir(parents=True, exist_ok=True)
        if not (self.data / "PG_VERSION").exists():
            shutil.rmtree(self.data, ignore_errors=True)
            shutil.copytree(template_dir(), self.data, symlinks=True)
            os.chmod(self.data, 0o700)
        self.socket_dir.mkdir(exist_ok=True)
        _chown_tree(self.dir)
        pidfile = self.data / "postmaster.pid"
        if pidfile.exists() and self.is_running():
            return self
        r = self._pg_ctl("start", "-w", "-t", str(int(timeout)), "-l", str(self.log), "-o", self._options(),
                         check=False)
        if r.returncode != 0:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start in {self.dir}: {r.stdout}{r.stderr}\n{tail}")
        return self

    def is_running(self) -> bool:
        return self._pg_ctl("status", check=False).returncode == 0

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop -m <mode> (smart | fast | immediate); nothing if it is not running."""
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-w", "-m", mode, check=False)

    def restart(self, mode: str = "fast") -> PgCluster:
        self.stop(mode)
        return self.start()

    def wait_ready(self, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while True:
            r = subprocess.run([str(self.bindir / "pg_isready"), "-h", str(self.socket_dir), "-p", str(self.port)],
                               capture_output=True)
            if r.returncode == 0:
                return
            if time.monotonic() > end:
                raise TimeoutError(f"PostgreSQL in {self.dir} is not ready")
            time.sleep(0.05)

    # -- conveniences -------------------------------------------------------------------------------------
    def connect(self, dbname: str = "postgres", **kw):
        import psycopg
        return psycopg.connect(self.url_for(dbname), **kw)

    def create_database(self, name: str) -> str:
        """CREATE DATABASE <name> (dropped first if it exists); returns its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"not a plain database name: {name!r}")
        with self.connect(autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def ensure_database(self, name: str) -> str:
        """CREATE DATABASE <name> unless it exists (its data kept); returns its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"not a plain database name: {name!r}")
        with self.connect(autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def create_role(self, name: str, password: str) -> None:
        """A login role with a password (for TCP connections) that owns nothing but may use every database."""
        from psycopg import sql
        with self.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(password)))
