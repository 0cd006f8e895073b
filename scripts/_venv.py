"""Run every scripts/* in the project's environment (ROOT/.venv) whatever interpreter started it.

Each script begins with

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _venv import use_project_venv

    ROOT = use_project_venv(__file__)

before importing anything third-party. Started by another Python (`python3 scripts/x` or `./scripts/x` from a
plain shell, `#!/usr/bin/env python3` finding the system one), the script is re-executed by
ROOT/.venv/bin/python with the same arguments, in the same directory; without that .venv it says to run
`make setup` and exits 2. The project's root is put first on sys.path, so `drivers`, `hall_server` and
`kiosk` import from this checkout.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
# the pid of a process already re-executed under .venv: os.execv keeps the pid, a child process has its own,
# so this stops a loop without stopping a script that a script starts
MARKER = "ONEWINDOW_SCRIPT_REEXEC"
MISSING_EXIT = 2


def in_project_venv() -> bool:
    try:
        return Path(sys.prefix).resolve() == VENV.resolve()
    except OSError:
        return False


def use_project_venv(script: str) -> Path:
    """Make sure `script` (the caller's __file__) runs under ROOT/.venv; return ROOT, which is put on sys.path.

    Re-executes the process when it is not in .venv (it does not return then); exits 2 with a message when
    .venv is missing or does not start. A script imported as a module (by a test) is left where it is.
    """
    if not in_project_venv() and _is_main(script):
        if os.environ.get(MARKER) == str(os.getpid()):
            _fail(f"{PYTHON} started, but not in the project's environment (sys.prefix is {sys.prefix}): "
                  f"run `make setup` again in {ROOT} (remove .venv first if it is broken).",
                  f"{PYTHON} 启动后不在项目环境中：请在 {ROOT} 中重新运行 `make setup`（.venv 损坏时先删除它）。")
        if not os.access(PYTHON, os.X_OK):
            _fail(f"the project's environment {VENV} is missing: run `make setup` in {ROOT} first.",
                  f"项目环境 {VENV} 不存在：请先在 {ROOT} 中运行 `make setup`。")
        os.environ[MARKER] = str(os.getpid())
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(PYTHON, [str(PYTHON), str(Path(script).resolve()), *sys.argv[1:]])
    if os.environ.get(MARKER) == str(os.getpid()):
        del os.environ[MARKER]          # re-executed: the processes this script starts need not see it
    sys.path.insert(0, str(ROOT))
    return ROOT


def _is_main(script: str) -> bool:
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    try:
        return main is not None and Path(main).resolve() == Path(script).resolve()
    except OSError:
        return False


def _fail(english: str, chinese: str) -> None:
    name = Path(sys.argv[0]).name or "script"
    print(f"{name}: {chinese}\n{name}: {english}", file=sys.stderr)
    sys.exit(MISSING_EXIT)
