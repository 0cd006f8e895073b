"""An SMS modem on a pseudo-terminal (a SerialSimulator): the real driver opens `.port` through pyserial.

It speaks AT as a GSM modem does — echo on and text mode after power-up, `\\r\\n`-framed answers, the `> ` prompt
of AT+CMGS, +CME/+CMS errors — and decodes every PDU it takes back into number and text, joining a long text's
parts, so `sent` holds what a phone would show. Faults (`set_fault`): no SIM, no signal, not registered, no answer
at all (the modem gone), silent-send (silent once it has a PDU), chatty (unsolicited lines inside every answer);
`fail_sends(n)` answers the next sends with `+CMS ERROR: <n>`, `inject(line)` puts lines in the middle of the next
answer, `restart()` powers it up again.
What it received stays in memory only, never in a log or a file (numbers are logged masked).
"""
from __future__ import annotations

import logging
import re
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from ...serial_simulator import FrameTooLong, SerialSimulator, split_line
from ..numbers import mask
from ..pdu import PduError, Submit, decode_submit

logger = logging.getLogger(__name__)

FAULTS = ("none", "no-sim", "no-signal", "not-registered", "no-answer", "silent-send", "chatty")
CHATTER = ("RING", '+CMTI: "SM",3', "^RSSI:18", "+CREG: 1")
IDENTITY = {"AT+CGMI": "SIMULATED", "AT+CGMM": "onewindow SMS modem simulator", "AT+CGMR": "1.0",
            "AT+CGSN": "860000000000001"}
CMGS = re.compile(r"AT\+CMGS=(\d+)$")
CTRL_Z, ESC = 0x1A, 0x1B


@dataclass(frozen=True, repr=False)
class SentMessage:
    """A message as the network took it: `parts` PDUs, joined; `refs` the message references the modem gave."""
    number: str             # as addressed: +8613800000000
    text: str
    parts: int
    at: datetime
    refs: tuple[int, ...]

    def __repr__(self) -> str:      # never the text or the whole number, should one be printed
        return f"SentMessage(to={mask(self.number)!r}, parts={self.parts}, refs={self.refs})"


class ModemSimulator(SerialSimulator):
    """One simulated modem with a SIM. Thread-safe; state lives across stop()/start() (a re-plugged modem)."""

    kind = "SMS modem simulator"
    thread_name = "sms-sim"
    FAULTS = FAULTS
    frame_errors = (FrameTooLong,)

    def __init__(self, signal: int = 20):
        super().__init__()
        self.signal = signal
        self.network_s = 0.0            # the network's time to take a PDU before +CMGS answers (a slow modem)
        self._sent: list[SentMessage] = []
        self._submits: list[Submit] = []
        self._partial: dict[tuple[str, int, int], dict[int, tuple[Submit, int]]] = {}
        self._cms: deque[int | None] = deque()     # None: take this PDU
        self._inject: list[str] = []
        self._mr = 0
        self.restart(announce=False)

    def start(self) -> str:
        """Plugs the modem in: it powers up (echo on, text mode) on a new pseudo-terminal, its SIM and faults kept."""
        if not self.running:
            self.restart(announce=False)
        return super().start()

    # -- what a test or technician does ----------------------------------------------------------------------------
    def restart(self, announce: bool = True) -> None:
        """Power-up state: echo on, text mode; with `announce`, the start-up lines a modem sends."""
        with self._lock:
            self.echo, self.pdu_mode, self._awaiting = True, False, None
        if announce and self.running:
            self.send(b"\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\nSMS Ready\r\n")

    def set_signal(self, signal: int) -> None:
        if not (0 <= signal <= 31 or signal == 99):
            raise ValueError(f"{self.kind}: signal is 0-31 (AT+CSQ), or 99 for unknown; not {signal}")
        with self._lock:
            self.signal = signal

    def fail_sends(self, error: int, times: int = 1, after: int = 0) -> None:
        """The next `times` PDUs, once `after` more have been taken, are answered `+CMS ERROR: <error>` (after=1:
        the second part of a long text is refused)."""
        if not 0 <= error <= 999 or times < 1 or after < 0:
            raise ValueError(f"{self.kind}: a +CMS ERROR is 0-999, for 1 or more sends")
        with self._lock:
            self._cms.extend([None] * after + [error] * times)

    def inject(self, *lines: str) -> None:
        """Unsolicited lines the modem puts in the middle of its next answer (before a prompt, or between an
        information line and OK)."""
        if any(("\r" in line or "\n" in line or not line) for line in lines):
            raise ValueError(f"{self.kind}: an unsolicited line is one non-empty line, e.g. RING")
        with self._lock:
            self._inject.extend(lines)

    def unsolicited(self, line: str) -> None:
        """Send an unsolicited line now."""
        self.send(f"\r\n{line}\r\n".encode("ascii"))

    @property
    def sent(self) -> list[SentMessage]:
        """Every message taken whole, oldest first."""
        with self._lock:
            return list(self._sent)

    @property
    def submits(self) -> list[Submit]:
        """Every PDU taken, each part on its own, oldest first."""
        with self._lock:
            return list(self._submits)

    def wait_sent(self, count: int, timeout: float = 5.0) -> list[SentMessage]:
        """The messages once `count` have been taken (fewer if `timeout` passed first)."""
        self.wait_until(lambda: len(self._sent) >= count, timeout)
        return self.sent

    def faults(self) -> dict:
        with self._lock:
            return {"fault": self._fault, "signal": self.signal, "echo": self.echo, "pdu_mode": self.pdu_mode,
                    "cms_errors_pending": [e for e in self._cms if e is not None],
                    "unsolicited_pending": len(self._inject),
                    "sent": len(self._sent), "parts": len(self._submits),
                    "incomplete": sum(len(p) for p in self._partial.values())}

    # -- the wire ----------------------------------------------------------------------------------------------------
    def parse_frame(self, buffer: bytes) -> tuple[tuple[str, str] | None, int]:
        with self._lock:
            awaiting = self._awaiting is not None
        if awaiting:        # after the prompt: the PDU up to Ctrl-Z (sent) or ESC (cancelled)
            end = next((i for i, b in enumerate(buffer) if b in (CTRL_Z, ESC)), -1)
            if end < 0:
                if len(buffer) > 1024:
                    raise FrameTooLong("a PDU of more than 1024 characters", len(buffer))
                return None, 0
            kind = "pdu" if buffer[end] == CTRL_Z else "cancel"
            return (kind, buffer[:end].decode("ascii", errors="replace")), end + 1
        line, consumed = split_line(buffer, b"\r")
        if line is None:
            return None, 0
        return ("line", line.decode("ascii", errors="replace").strip("\n\x00\x1a\x1b \t")), consumed

    def handle(self, frame: tuple[str, str], at: float) -> bytes | None:
        kind, body = frame
        with self._lock:
            if self.fault == "no-answer":
                self._awaiting = None
                return None
            if kind == "cancel":
                self._awaiting = None
                return None
            if kind == "pdu":
                length, self._awaiting = self._awaiting, None
                if self._fault == "silent-send":     # gone with the PDU taken: did it go out? nobody can tell
                    return None
                answer = self._reply(*self._take_pdu(body, length))
                if self.network_s <= 0:
                    return answer
            else:
                if not body:
                    return None
                echo = f"{body}\r".encode("ascii") if self.echo else b""
                return echo + self._command(body.upper())
        self.send(answer, self.network_s)       # a slow network: answered from this thread, after the delay
        return None

    def _command(self, cmd: str) -> bytes:
        """The answer to one command line (lock held)."""
        fault = self._fault
        if cmd in ("AT", "ATZ", "AT+CMEE=1", "AT+CMEE=0", "AT&F", "AT+CNMI=2,1,0,0,0") or cmd.startswith("AT+CNMI="):
            return self._reply([], "OK")
        if cmd in ("ATE0", "ATE1"):
            self.echo = cmd == "ATE1"
            return self._reply([], "OK")
        if cmd in ("AT+CMGF=0", "AT+CMGF=1"):
            self.pdu_mode = cmd == "AT+CMGF=0"
            return self._reply([], "OK")
        if cmd == "AT+CMGF?":
            return self._reply([f"+CMGF: {0 if self.pdu_mode else 1}"], "OK")
        if cmd in IDENTITY:
            return self._reply([IDENTITY[cmd]], "OK")
        if cmd == "AT+CPIN?":
            return self._reply([], "+CME ERROR: 10") if fault == "no-sim" else self._reply(["+CPIN: READY"], "OK")
        if cmd == "AT+CSQ":
            signal = 99 if fault == "no-signal" else self.signal
            return self._reply([f"+CSQ: {signal},99"], "OK")
        if cmd == "AT+CREG?":
            stat = {"no-sim": 0, "no-signal": 2, "not-registered": 3}.get(fault, 1)
            return self._reply([f"+CREG: 0,{stat}"], "OK")
        found = CMGS.match(cmd)
        if found and self.pdu_mode:
            self._awaiting = int(found.group(1))
            return self._reply([], "> ", prompt=True)
        if found or cmd.startswith("AT+CMGS="):     # text mode: AT+CMGS="<number>" and the text
            return self._reply([], "+CMS ERROR: 302")
        return self._reply([], "ERROR")

    def _take_pdu(self, body: str, length: int | None) -> tuple[list[str], str]:
        """Decode one PDU; (information lines, final result). Lock held."""
        fault = self._fault
        try:
            submit = decode_submit(re.sub(r"\s", "", body))
        except PduError as exc:
            logger.info("%s: a PDU it cannot read: %s", self.kind, exc)
            return [], "+CMS ERROR: 304"
        if submit.tpdu_length != length:
            logger.info("%s: AT+CMGS=%s but the TPDU has %d octets", self.kind, length, submit.tpdu_length)
            return [], "+CMS ERROR: 304"
        if fault == "no-sim":
            return [], "+CMS ERROR: 310"
        if fault in ("no-signal", "not-registered"):
            return [], "+CMS ERROR: 331"
        refusal = self._cms.popleft() if self._cms else None
        if refusal is not None:
            return [], f"+CMS ERROR: {refusal}"
        self._mr = self._mr % 255 + 1
        self._submits.append(submit)
        self._file(submit, self._mr)
        return [f"+CMGS: {self._mr}"], "OK"

    def _file(self, submit: Submit, mr: int) -> None:
        """A part taken: a whole message once all its parts are in (lock held)."""
        now = datetime.now(UTC)
        if submit.concat is None:
            self._sent.append(SentMessage(submit.number, submit.text, 1, now, (mr,)))
        else:
            ref, total, part = submit.concat
            parts = self._partial.setdefault((submit.number, ref, total), {})
            parts[part] = (submit, mr)
            if len(parts) < total:
                return
            del self._partial[(submit.number, ref, total)]
            ordered = [parts[i] for i in sorted(parts)]
            text = b"".join(s.ucs2 for s, _ in ordered).decode("utf-16-be", errors="replace")
            self._sent.append(SentMessage(submit.number, text, total, now, tuple(m for _, m in ordered)))
        logger.info("%s: a message to %s taken (%d part(s))", self.kind, mask(submit.number),
                    self._sent[-1].parts)

    def _reply(self, lines: list[str], final: str, prompt: bool = False) -> bytes:
        """`\\r\\n`-framed lines and the final result (or the prompt), with unsolicited lines inside (lock held)."""
        chatter = list(self._inject) + (list(CHATTER) if self._fault == "chatty" else [])
        self._inject.clear()
        out = [f"\r\n{line}\r\n" for line in lines[:1]] + [f"\r\n{line}\r\n" for line in chatter]
        out += [f"\r\n{line}\r\n" for line in lines[1:]]
        out.append(f"\r\n{final}" if prompt else f"\r\n{final}\r\n")
        return "".join(out).encode("ascii")
