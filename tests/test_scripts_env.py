"""Scripts from any shell (issue 14, item 6): every scripts/* started by a Python that is not the project's
(`python3 scripts/x` or `./scripts/x` from a plain shell) re-executes itself under ROOT/.venv; without that
.venv it says to run `make setup` and exits 2."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
SCRIPTS = sorted(p for p in (ROOT / "scripts").iterdir() if p.is_file() and not p.name.endswith(".py"))


def plain_env() -> dict[str, str]:
    """The environment of a shell where no venv is activated: .venv/bin off PATH, no VIRTUAL_ENV."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "ONEWINDOW_SCRIPT_REEXEC")}
    env["PATH"] = os.pathsep.join(d for d in env.get("PATH", "").split(os.pathsep)
                                  if d and not Path(d).resolve().is_relative_to(VENV.resolve()))
    return env


def prefix_of(python: str) -> Path:
    out = subprocess.run([python, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True,
                         timeout=30, env=plain_env())
    return Path(out.stdout.strip()).resolve()


def find_system_python() -> str | None:
    """A python3 that is not the project's venv: the one a plain shell finds, else the venv's base."""
    for candidate in (shutil.which("python3", path=plain_env()["PATH"]), Path(sys.base_prefix) / "bin" / "python3"):
        if candidate and os.access(candidate, os.X_OK) and prefix_of(str(candidate)) != VENV.resolve():
            return str(candidate)
    return None


SYSTEM_PYTHON = find_system_python()
needs_system_python = pytest.mark.skipif(SYSTEM_PYTHON is None, reason="no python3 outside .venv on this machine")


def run(argv: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=cwd, env=plain_env())


# a phrase of each script's --help (its description)
HELP = {"camera-check": "Check a seat camera", "card-read": "Read one ID card", "dev-hall": "one kiosk program",
        "diagnose": "every device of a hall", "district": "a private PostgreSQL cluster",
        "make-clips": "Make the Chinese calling clips",
        "ports": "List the serial ports and USB devices", "printer-test": "Print a test receipt"}


def test_every_script_is_covered():
    assert {p.name for p in SCRIPTS} == set(HELP)
    for script in SCRIPTS:
        assert "from _venv import use_project_venv" in script.read_text(encoding="utf-8"), script.name


@needs_system_python
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_help_under_the_system_python(script):
    r = run([SYSTEM_PYTHON, str(script), "--help"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: {script.name}")
    assert HELP[script.name] in " ".join(r.stdout.split())


@needs_system_python
@pytest.mark.parametrize("name", ["diagnose", "dev-hall"])
def test_run_directly_from_a_plain_shell(name):
    """`./scripts/x`: the shebang's `env python3` finds a python3 outside .venv, and the script still runs."""
    r = run([f"./scripts/{name}", "--help"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: {name}")


@needs_system_python
def test_the_system_python_ends_up_in_the_venv():
    """scripts/ports imports pyserial and pyusb, which only .venv has: its listing works from a plain shell."""
    r = run([SYSTEM_PYTHON, "scripts/ports", "--json"])
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert set(report) == {"serial_ports", "usb_devices", "usb_error"}
    assert "not installed" not in r.stdout


def copy_scripts(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "scripts"


@needs_system_python
@pytest.mark.parametrize("how", ["python3 scripts/diagnose", "./scripts/diagnose"])
def test_without_a_venv_it_says_to_run_make_setup(tmp_path, how):
    scripts = copy_scripts(tmp_path)
    argv = [SYSTEM_PYTHON, str(scripts / "diagnose")] if how.startswith("python3") else ["./scripts/diagnose"]
    r = run(argv, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "make setup" in r.stderr and str(tmp_path) in r.stderr
    assert "项目环境" in r.stderr and "missing" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


@needs_system_python
def test_a_venv_that_does_not_start_the_environment_is_no_loop(tmp_path):
    """A .venv/bin/python that is not a venv's (no pyvenv.cfg): one re-exec, then a message, not a loop."""
    scripts = copy_scripts(tmp_path)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(Path(SYSTEM_PYTHON).resolve())
    r = run([SYSTEM_PYTHON, str(scripts / "ports"), "--json"], cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "not in the project's environment" in r.stderr and "make setup" in r.stderr


def test_imported_by_a_test_the_script_is_left_where_it_is():
    """Loaded as a module (tests/test_ports_script.py does), a script does not re-execute pytest."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import _venv
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert _venv.use_project_venv(str(ROOT / "scripts" / "ports")) == ROOT
    assert str(ROOT) in sys.path
