"""The seat worker seen from the server: start it, read what it says, restart it when it dies, stop it.

The worker (`python -m hall_server.seats.worker`) is a child process with pipes on its stdin and stdout
(wire.py); its stderr is the server's. Everything it says except heartbeats and replies is handed, in
order, to `on_message`; when it dies — it exited, was killed, or missed heartbeats for
`heartbeat_timeout_s` (then it is killed here) — `on_message` gets `{"type": "down", "reason", "retry_s"}`
and it is started again after a back-off (1 s doubling to 30 s, back to 1 s after a run of STABLE_S). A
line that is not a message is logged once per kind of garbage and dropped; the worker is kept.
Starting it never blocks the event loop: the process starts in the background, after `start_after_s`.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .wire import MAX_LINE, WireError, decode, encode

log = logging.getLogger(__name__)
BACKOFF_START_S, BACKOFF_MAX_S = 1.0, 30.0
STABLE_S = 60.0                 # a worker that ran this long starts its next back-off afresh
HEARTBEAT_TIMEOUT_S = 5.0       # no line from the worker this long: it hangs, and is killed and restarted
REQUEST_TIMEOUT_S = 5.0
COMMAND = (sys.executable, "-m", "hall_server.seats.worker")


class WorkerUnavailable(RuntimeError):
    """The seat worker is not running (starting, restarting) or did not answer in time."""


class WorkerError(RuntimeError):
    """The seat worker answered a request with an error (its message says what)."""


class SeatWorkerProcess:
    def __init__(self, start_message: Callable[[], dict[str, Any]], on_message: Callable[[dict[str, Any]], None],
                 *, command: Sequence[str] = COMMAND, heartbeat_timeout_s: float = HEARTBEAT_TIMEOUT_S,
                 start_after_s: float = 0.0):
        self._start_message = start_message   # called at each start: the worker gets the hall as it is now
        self._on_message = on_message
        self.command = tuple(command)
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.start_after_s = start_after_s
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._garbage_seen: set[str] = set()
        self.dropped = 0                      # garbage lines dropped, over all the worker's runs
        self.starts = 0

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._supervise(), name="seat-worker")

    async def stop(self) -> None:
        """Ask the worker to stop (a stop message, stdin closed), then terminate it, then kill it."""
        self._stopping = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            self.send({"type": "stop"})
            with contextlib.suppress(Exception):
                proc.stdin.close()
            for ask in (None, proc.terminate, proc.kill):
                if ask is not None:
                    with contextlib.suppress(ProcessLookupError):
                        ask()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), 4.0 if ask is None else 2.0)
                    break
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def send(self, msg: dict[str, Any]) -> bool:
        """One message to the worker; False when it is not running (it gets the state afresh when it starts)."""
        proc = self._proc
        if proc is None or proc.returncode is not None or proc.stdin is None or proc.stdin.is_closing():
            return False
        proc.stdin.write(encode(msg))
        return True

    async def request(self, op: str, timeout: float = REQUEST_TIMEOUT_S, **fields: Any) -> Any:
        """Ask the worker (`op`: snapshot, simulate, diagnostics) and wait for its answer."""
        rid = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[rid] = future
        try:
            if not self.send({"type": "request", "id": rid, "op": op, **fields}):
                raise WorkerUnavailable("the seat worker is not running")
            try:
                reply = await asyncio.wait_for(future, timeout)
            except TimeoutError:
                raise WorkerUnavailable(f"the seat worker did not answer within {timeout:g} s") from None
        finally:
            self._waiting.pop(rid, None)
        if not reply.get("ok"):
            raise WorkerError(str(reply.get("error") or "failed"))
        return reply.get("data")

    def drop(self, kind: str, detail: str) -> None:
        """A message that makes no sense: logged once per kind, then only counted."""
        self.dropped += 1
        if kind not in self._garbage_seen:
            self._garbage_seen.add(kind)
            log.warning("the seat worker sent garbage (%s): %s; dropped (further lines of this kind are dropped "
                        "silently)", kind, detail)

    # -- the worker's life -------------------------------------------------------------------------
    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = BACKOFF_START_S
        await asyncio.sleep(self.start_after_s)
        while not self._stopping:
            started = loop.time()
            reason = await self._run_once()
            if self._stopping:
                return
            if loop.time() - started >= STABLE_S:
                backoff = BACKOFF_START_S
            self._on_message({"type": "down", "reason": reason, "retry_s": backoff})
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    async def _run_once(self) -> str:
        """Run the worker until it ends; returns why it ended."""
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                limit=MAX_LINE + 1)
        except OSError as exc:
            return f"it could not be started: {exc}"
        self._proc, self.starts = proc, self.starts + 1
        reason = ""
        try:
            self.send({"type": "start", **self._start_message()})
            self._beat = asyncio.get_running_loop().time()
            reader = asyncio.create_task(self._read(proc), name="seat-worker:read")
            while not reader.done():
                await asyncio.wait([reader], timeout=1.0)
                silent = asyncio.get_running_loop().time() - self._beat
                if not reader.done() and silent > self.heartbeat_timeout_s and not self._stopping:
                    reason = f"it sent no heartbeat for {silent:.0f} s and was killed"
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    break
            await reader
        except Exception as exc:        # the pipe broke under us: the same as the worker dying
            reason = reason or f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        finally:
            with contextlib.suppress(ProcessLookupError):
                if proc.returncode is None and not self._stopping:
                    proc.kill()
            if not self._stopping:
                await proc.wait()
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(WorkerUnavailable("the seat worker stopped"))
        code = proc.returncode
        how = f"it was killed by signal {-code}" if code is not None and code < 0 else f"it exited with {code}"
        return reason or how

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                line = await proc.stdout.readline()
            except ValueError:          # longer than MAX_LINE: the stream skipped it
                self._beat = loop.time()
                self.drop("line too long", f"over {MAX_LINE} bytes")
                continue
            if not line:
                return
            self._beat = loop.time()
            try:
                msg = decode(line)
            except WireError as exc:
                self.drop(exc.kind, exc.detail)
                continue
            if msg["type"] == "heartbeat":
                continue
            if msg["type"] == "reply":
                future = self._waiting.get(msg["id"])
                if future is not None and not future.done():
                    future.set_result(msg)
                continue
            self._on_message(msg)
