"""AT commands over a pyserial port: one command, its information lines and its final result code.

A modem answers a command with lines (`\\r\\n+CSQ: 20,99\\r\\n`) and ends with a final result: OK, ERROR,
`+CMS ERROR: <n>`, `+CME ERROR: <n>`, or a vendor's own (FINAL_ERRORS). `AT+CMGS=<n>` answers with the prompt `> `
(no line end) instead, then takes the PDU and Ctrl-Z. Lines the modem sends of its own accord (RING, +CMTI, ^RSSI,
a single-field +CREG …) can arrive before, inside or after any answer: they are skipped wherever they come, and
counted by their keyword only (a +CLIP line would hold a caller's number). The command's echo (before ATE0, or
after the modem restarted) is skipped too.
"""
from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

POLL_S = 0.05               # pyserial's read timeout: how often a deadline is looked at
CTRL_Z, ESC = b"\x1a", b"\x1b"
PROMPT = ">"
FINAL_OK = ("OK",)
FINAL_ERRORS = ("ERROR", "+CMS ERROR:", "+CME ERROR:", "COMMAND NOT SUPPORT", "TOO MANY PARAMETERS", "NO CARRIER")
# what modems say unasked: calls, new messages, Huawei's ^ reports, network registration changes, start-up lines
UNSOLICITED = re.compile(r"RING$|\+CRING:|\+CLIP:|\+CMTI:|\+CMT:|\+CDSI:|\+CDS:|\+CBM:|\^|\+C(?:E|G)?REG: \d$"
                         r"|\+QIND:|\+PACSP|\+CFUN:|RDY$|Call Ready$|SMS Ready$|\+STIN:|\+CUSD:")
MAX_LINE = 4096


class AtTimeout(TimeoutError):
    """The final result did not come in time; `heard` says whether anything at all came since the command."""

    def __init__(self, message: str, heard: bool):
        super().__init__(message)
        self.heard = heard


@dataclass(frozen=True)
class AtReply:
    lines: list[str]            # the information lines, without echo or unsolicited lines
    final: str                  # the final result code as sent: OK, ERROR, +CMS ERROR: 500 …

    @property
    def ok(self) -> bool:
        return self.final in FINAL_OK

    @property
    def error_number(self) -> int | None:
        """The <n> of +CMS ERROR: <n> or +CME ERROR: <n> (None for a plain ERROR or a verbose text)."""
        _, _, value = self.final.partition(":")
        value = value.strip()
        return int(value) if value.isdigit() else None

    @property
    def cms(self) -> bool:
        return self.final.startswith("+CMS ERROR:")

    def value(self, prefix: str) -> str | None:
        """The text after `prefix` in the last information line that starts with it."""
        for line in reversed(self.lines):
            if line.startswith(prefix):
                return line[len(prefix):].strip()
        return None


@dataclass
class AtLink:
    """One modem line. Not thread-safe: its driver holds a lock around each exchange."""
    port: Any
    unsolicited: Counter = field(default_factory=Counter)   # keyword → how many were skipped
    _buf: bytearray = field(default_factory=bytearray)
    _heard: bool = False

    def command(self, cmd: str, timeout: float, expect: str | None = None) -> AtReply:
        """Send `cmd` and collect its answer: lines starting with `expect` (any non-unsolicited line if None)."""
        self._start(cmd)
        reply = self._collect(cmd, time.monotonic() + timeout, expect, prompt=False)
        assert reply is not None
        return reply

    def prompt(self, cmd: str, timeout: float) -> AtReply | None:
        """Send `cmd` (AT+CMGS=<n>) and wait for the `> ` prompt: None when it came, else the error that did."""
        self._start(cmd)
        return self._collect(cmd, time.monotonic() + timeout, None, prompt=True)

    def submit(self, pdu_hex: str, timeout: float) -> AtReply:
        """After the prompt: the PDU and Ctrl-Z, then the answer (`+CMGS: <mr>` and OK, or an error)."""
        self._heard = False
        self.port.write(pdu_hex.encode("ascii") + CTRL_Z)
        reply = self._collect(pdu_hex, time.monotonic() + timeout, "+CMGS:", prompt=False)
        assert reply is not None
        return reply

    def cancel(self) -> None:
        """ESC: leave a prompt the modem may still be waiting at, without sending."""
        self.port.write(ESC)

    # -- reading -------------------------------------------------------------------------------------------------
    def _start(self, cmd: str) -> None:
        self.port.reset_input_buffer()      # a late answer to an earlier, timed-out command is no answer to this
        self._buf.clear()
        self._heard = False
        self.port.write(cmd.encode("ascii") + b"\r")

    def _collect(self, echo: str, deadline: float, expect: str | None, prompt: bool) -> AtReply | None:
        lines: list[str] = []
        while True:
            line = self._line(deadline, prompt)
            if line == PROMPT and prompt:
                return None
            if line == echo:
                continue
            if line in FINAL_OK or line.startswith(FINAL_ERRORS):
                return AtReply(lines, line)
            if UNSOLICITED.match(line):
                self.unsolicited[re.split(r"[:\s]", line, maxsplit=1)[0][:16]] += 1
                continue
            if expect is not None and not line.startswith(expect):
                self.unsolicited["other"] += 1      # an echo of the PDU, noise: never kept, it may be personal
                continue
            lines.append(line)

    def _line(self, deadline: float, prompt: bool) -> str:
        """The next non-empty line (or PROMPT, when `prompt` and a `>` starts the buffer); AtTimeout at `deadline`."""
        while True:
            start = 0
            while start < len(self._buf) and self._buf[start] in b"\r\n\x00":
                start += 1
            del self._buf[:start]
            if prompt and self._buf[:1] == b">":
                del self._buf[:2 if self._buf[1:2] == b" " else 1]
                return PROMPT
            end = next((i for i, b in enumerate(self._buf) if b in b"\r\n"), -1)
            if end >= 0:
                line = bytes(self._buf[:end]).decode("ascii", errors="replace").strip(" \t\x1a\x1b")
                del self._buf[:end + 1]
                return line
            if len(self._buf) > MAX_LINE:
                self._buf.clear()
            if time.monotonic() >= deadline:
                what = "an incomplete answer" if self._heard else "nothing"
                raise AtTimeout(f"{what} came back", self._heard)
            chunk = self.port.read(max(1, self.port.in_waiting))
            if chunk:
                self._heard = True
                self._buf += chunk
