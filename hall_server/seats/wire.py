"""What the hall server and its seat worker say to each other: newline-delimited JSON, one message a line.

Server → worker (the worker's stdin): first `start` (everything the worker needs, as plain data), then
`expect_empty` {window, empty} when a window's login changes, `request` {id, op, ...} (op: `snapshot`
{window, path}, `simulate` {camera, faults}, `diagnostics` {camera}) and `stop`. The worker exits when its
stdin ends.

Worker → server (its stdout): `ready` once its cameras are opening; `presence` {window, state} on each
change; `camera` {camera, state, detail} on each change of a camera's health (and now and then with a
fresher detail); `heartbeat` every HEARTBEAT_S; `reply` {id, ok, data | error} to a request.

Plain functions over plain data, importing nothing heavy: both processes use it.
"""
from __future__ import annotations

import json
from typing import Any

HEARTBEAT_S = 1.0             # the worker says it is alive this often
MAX_LINE = 256 * 1024         # a longer line is garbage (diagnostics are a few hundred bytes)
PRESENCE = ("present", "away", "unknown")
HEALTH = ("ok", "degraded", "offline", "fault")

# worker → server: per type, the fields and their types
FROM_WORKER: dict[str, dict[str, type | tuple[type, ...]]] = {
    "ready": {},
    "heartbeat": {},
    "presence": {"window": int, "state": str},
    "camera": {"camera": str, "state": str, "detail": str},
    "reply": {"id": int, "ok": bool},
}


class WireError(ValueError):
    """A line that is not a message; `kind` names the sort of garbage (logged once per kind)."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail


def encode(msg: dict[str, Any]) -> bytes:
    return json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """One of the worker's lines as a message; WireError when it is not one."""
    if len(line) > MAX_LINE:
        raise WireError("line too long", f"{len(line)} bytes")
    try:
        msg = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError("not JSON", f"{exc}: {line[:80]!r}") from None
    if not isinstance(msg, dict):
        raise WireError("not an object", repr(msg)[:80])
    kind = msg.get("type")
    fields = FROM_WORKER.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise WireError("unknown type", repr(kind)[:80])
    for name, typ in fields.items():
        value = msg.get(name)
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            raise WireError(f"bad {kind}", f"field {name!r} is {value!r:.80}")
    if kind == "presence" and msg["state"] not in PRESENCE:
        raise WireError("bad presence", f"state {msg['state']!r:.40}")
    if kind == "camera" and msg["state"] not in HEALTH:
        raise WireError("bad camera", f"state {msg['state']!r:.40}")
    return msg
