"""`onewindow diagnose` (scripts/diagnose): check a hall's devices and its server's footing, for technicians.

Every configured device is opened through the same driver registry the hall server uses (simulators write
under `<data-dir>/diagnose-sim`, never into the hall's own folders), each in a thread of its own with a
timeout; its health, its redacted diagnostics and, with `--active`, one real action (a test print, a card
read, a test pattern, a spoken phrase, a key press) are reported. The system checks look at the database,
the clock and time zone, and whether every networked device's host answers on its port.

Each result is a `Check`: ok, warn (working, but someone should look) or fail, with what a failure likely
means and what to do (advice.py). report.py prints the table and writes the JSON report; cli.py is the
command line. Exit status: 0 nothing failed (warnings allowed), 1 something failed, 2 bad usage.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OK, WARN, FAIL = "ok", "warn", "fail"
STATES = (OK, WARN, FAIL)


@dataclass
class Check:
    name: str                   # the device's name, or "database", "clock", "network <host:port>"
    kind: str                   # printer, idcard, …, database, clock, network
    state: str = OK             # ok | warn | fail
    detail: str = ""            # what was found, one or two sentences
    advice: str = ""            # for a warning or failure: what it likely means and what to do
    url: str = ""               # the device's URL, passwords redacted
    data: dict[str, Any] = field(default_factory=dict)   # redacted diagnostics, measurements
    wire: str | None = None     # the wire dump's path (--wire), or None
    wire_note: str = ""         # why there is no wire dump
    seconds: float = 0.0        # how long the check took

    def worse(self, state: str, detail: str) -> None:
        """Lower the state to `state` (never raise it) and add `detail`."""
        if STATES.index(state) > STATES.index(self.state):
            self.state = state
        self.detail = f"{self.detail}; {detail}" if self.detail else detail

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "state": self.state, "detail": self.detail,
                "advice": self.advice, "url": self.url, "wire": self.wire, "wire_note": self.wire_note,
                "seconds": round(self.seconds, 2), "data": self.data}
