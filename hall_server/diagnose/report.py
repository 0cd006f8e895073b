"""The results as a table for the technician's terminal (rich) and as a JSON report for the record."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from drivers.redact import redact

from . import FAIL, OK, WARN, Check
from .devices import redact_url

STYLE = {OK: "bold green", WARN: "bold yellow", FAIL: "bold red"}
LABEL = {OK: "ok", WARN: "warn", FAIL: "FAIL"}
REPORT_VERSION = 1


def exit_code(checks: list[Check]) -> int:
    """0: nothing failed (warnings allowed); 1: something failed."""
    return 1 if any(c.state == FAIL for c in checks) else 0


def summary(checks: list[Check]) -> dict[str, int]:
    return {state: sum(c.state == state for c in checks) for state in (OK, WARN, FAIL)}


def table(checks: list[Check], title: str, file=None) -> None:
    """The table: device, kind, state (coloured), detail (with the wire dump), advice."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    t = Table(title=title, show_lines=True, expand=True)
    t.add_column("device", no_wrap=True)
    t.add_column("kind", no_wrap=True)
    t.add_column("state", no_wrap=True)
    t.add_column("detail", ratio=3)
    t.add_column("advice", ratio=2)
    for c in checks:
        detail = c.detail
        if c.wire:
            detail += f"\nwire dump: {c.wire}"
        elif c.wire_note:
            detail += f"\n{c.wire_note}"
        if "receipt_png" in c.data:
            detail += f"\nreceipt: {c.data['receipt_png']}"
        t.add_row(c.name, c.kind, Text(LABEL[c.state], style=STYLE[c.state]), Text(detail),
                  Text(c.advice, style="yellow" if c.state == WARN else "red" if c.state == FAIL else ""))
    width = None if os.isatty(getattr(file, "fileno", lambda: -1)() if file else 1) else 160
    console = Console(file=file, width=width, highlight=False, soft_wrap=False)
    console.print(t)
    s = summary(checks)
    line = Text(f"{s[OK]} ok, {s[WARN]} warning(s), {s[FAIL]} failure(s)",
                style=STYLE[FAIL if s[FAIL] else WARN if s[WARN] else OK])
    console.print(line)
    files = [(c.name, label, path) for c in checks
             for label, path in (("wire dump", c.wire), ("test receipt", c.data.get("receipt_png"))) if path]
    for name, label, path in files:     # whole, on lines of their own: to copy, attach or open
        console.print(f"{name} {label}: {path}", soft_wrap=True)


def document(checks: list[Check], meta: dict[str, Any]) -> dict[str, Any]:
    """The JSON report: what was run, the summary and every check (personal data redacted once more)."""
    return {"report": "onewindow diagnose", "version": REPORT_VERSION, **meta,
            "summary": {**summary(checks), "exit": exit_code(checks)},
            "checks": [redact(c.as_dict()) for c in checks]}


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # a password in any URL anywhere in the report becomes user:***@
    tmp.write_text(redact_url(json.dumps(doc, ensure_ascii=False, indent=1, default=str)) + "\n", encoding="utf-8")
    tmp.replace(path)
