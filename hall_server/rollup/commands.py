"""The command runner (issue 19, cases across levels): this hall's pending rows of PostgreSQL's `commands` — a
district officer's claim, suspend, decide … of one of this hall's cases — taken, applied and settled.

A thread of its own with its own PostgreSQL connection: LISTEN district_commands (a NOTIFY whose payload names
the hall, or none) and, besides, a look every `interval_s`; a hall that was offline (its runner stopped, the
network or PostgreSQL away) finds its pending commands when it is back, oldest first.

Applying is not done here: `apply(cmd) -> {"state", "seq", "result"}` is the hall's (hall_server/cases/remote.py),
which writes the command id to SQLite in the same transaction as the case change. Only then is the PostgreSQL
row settled (applied with the confirming event's seq, or rejected with the hall's reason), and only while it is
still pending. A crash between the SQLite commit and the settle leaves the row pending: the next look applies it
again, SQLite answers "done already" with the first outcome, and the row is settled once — never applied twice.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .config import RollupPolicy, redact_url
from .pgschema import ensure_ingest_schema

log = logging.getLogger(__name__)

CHANNEL = "district_commands"
PAGE = 100
FIELDS = ("id", "case_id", "case_number", "action", "body", "actor", "actor_role", "actor_departments",
          "issued_by_hall")


def settle(conn, command_id: str, outcome: dict) -> bool:
    """Write a command's outcome to PostgreSQL; a row settled already stays as it is (answers False)."""
    cur = conn.execute(
        "UPDATE commands SET state = %s, result = %s::jsonb, applied_seq = %s, settled_at = now()"
        " WHERE id = %s AND state = 'pending'",
        (outcome["state"], json.dumps(outcome["result"], ensure_ascii=False), outcome.get("seq"), command_id))
    return cur.rowcount == 1


class CommandRunner:
    """Takes this hall's pending district commands and has each applied once (see the module's docstring)."""

    def __init__(self, policy: RollupPolicy, hall: str, apply: Callable[[dict], dict]):
        self.policy = policy
        self.hall = hall
        self.apply = apply
        self.url_shown = redact_url(policy.url)
        # what status() reads (plain values written by the runner's thread)
        self.applied = 0
        self.rejected = 0
        self.pending_seen = 0            # pending commands of this hall at the last look
        self.connected = False
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one look --------------------------------------------------------------------------------------
    def drain(self, conn) -> int:
        """Apply and settle every pending command of this hall, oldest first; answers how many were settled."""
        n = 0
        while not self._stop.is_set():
            rows = conn.execute(
                f"SELECT {', '.join('id::text' if f == 'id' else f for f in FIELDS)} FROM commands"
                " WHERE hall = %s AND state = 'pending' ORDER BY created_at, id LIMIT %s",
                (self.hall, PAGE)).fetchall()
            self.pending_seen = len(rows)
            for r in rows:
                if self._stop.is_set():
                    return n
                cmd = dict(zip(FIELDS, r, strict=True))
                outcome = self.apply(cmd)
                if settle(conn, cmd["id"], outcome):
                    n += 1
                    if outcome["state"] == "applied":
                        self.applied += 1
                    else:
                        self.rejected += 1
                log.info("district command %s (%s of case %s by %s@%s): %s", cmd["id"], cmd["action"],
                         cmd["case_number"], cmd["actor"], cmd["issued_by_hall"], outcome["state"])
            if len(rows) < PAGE:
                self.pending_seen = 0
                return n
        return n

    # -- the thread ------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"commands-{self.hall}", daemon=True)
            self._thread.start()

    def stop_sync(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.policy.connect_timeout_s + 5)
            self._thread = None

    async def stop(self) -> None:
        import asyncio

        await asyncio.to_thread(self.stop_sync)

    def _run(self) -> None:
        import psycopg

        wait = self.policy.retry_min_s
        warned = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.policy.url, autocommit=True,
                                     connect_timeout=max(1, int(self.policy.connect_timeout_s)),
                                     application_name=f"onewindow-commands:{self.hall}") as conn:
                    ensure_ingest_schema(conn)
                    conn.execute(f"LISTEN {CHANNEL}")
                    if self.error and warned:
                        log.info("district commands: connected again to %s", self.url_shown)
                    self.error, warned = None, False
                    self.connected = True
                    wait = self.policy.retry_min_s
                    self._follow(conn)
            except Exception as exc:      # PostgreSQL away, a wrong URL or password, the hall's store: retried
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                text = f"{type(exc).__name__}: {first}"
                if text != self.error:
                    # the district unreachable on the shipper's own URL: the shipper's one line an outage says so
                    # (and health shows this error too); anything else is this runner's to tell
                    quiet = isinstance(exc, psycopg.OperationalError)
                    log.log(logging.DEBUG if quiet else logging.WARNING, "district commands: %s (%s); retrying",
                            text, self.url_shown)
                    warned = warned or not quiet
                self.error = text
                self._stop.wait(wait)
                wait = min(wait * 2, self.policy.retry_max_s)
            finally:
                self.connected = False

    def _follow(self, conn) -> None:
        next_look = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= next_look:
                self.drain(conn)
                next_look = time.monotonic() + self.policy.interval_s
            for note in conn.notifies(timeout=min(0.5, self.policy.interval_s), stop_after=1):
                if note.payload in ("", self.hall):
                    next_look = 0.0

    def status(self) -> dict[str, Any]:
        return {"running": self._thread is not None, "connected": self.connected, "applied": self.applied,
                "rejected": self.rejected, "pending_seen": self.pending_seen, "error": self.error}
