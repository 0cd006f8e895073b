"""Smart lockers: lock-control boards on one RS-485 line, through pyserial's `serial_for_url` (frames.py).

    lockerbus+serial:///dev/ttyUSB2?boards=2&locks=24&feedback=closed-short     a device path (three slashes)
    lockerbus+serial://?port=socket://192.168.10.43:4001&boards=2               any pyserial port name or URL

Options: boards = how many boards, at DIP addresses 1..boards (1); locks = locks per board (24); feedback =
closed-short | open-short, how the doors' feedback switches are wired (closed-short: 11 means closed); baudrate
(9600); timeout = seconds to wait for each answer (0.5); retries = more tries after silence or a garbled answer
(2: re-sending "open" to a door that did open only pulses its lock again). In `port=`, everything up to the next
`&` is pyserial's; write a `&` inside it as %26.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..display.led_serial import BAUDRATES
from ..health import DeviceHealth, DeviceState
from ..serial_port import LINK_ERRORS, close_port, open_port, parse_serial_url, reason
from ..url import DeviceURL, choice, positive
from .base import Codec, DoorState, Locker, LockerError
from .frames import FEEDBACKS, LOCKERBUS, MAX_BOARDS, MAX_LOCKS

logger = logging.getLogger(__name__)

POLL_S = 0.02            # pyserial's read timeout: how often an answer's deadline is looked at


def _within(low: int, high: int):
    def convert(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"use {low} to {high}")
        return value
    return convert


OPTIONS = {"baudrate": lambda text: int(choice(*BAUDRATES)(text)), "timeout": positive(float), "port": str,
           "retries": _within(0, 5), "boards": _within(1, MAX_BOARDS), "locks": _within(1, MAX_LOCKS),
           "feedback": choice(*FEEDBACKS)}
DEFAULTS = {"baudrate": 9600, "timeout": 0.5, "retries": 2, "boards": 1, "locks": MAX_LOCKS,
            "feedback": "closed-short"}


def from_url(raw: str) -> SerialLocker:
    """The registry factory for lockerbus+serial:// (nothing is opened)."""
    return SerialLocker(parse_serial_url(raw, "lockerbus+serial", OPTIONS, DEFAULTS, "/dev/ttyUSB2"), LOCKERBUS)


@dataclass(frozen=True)
class BoardOutcome:
    """How the last exchange with one board went."""
    ok: bool
    en: str
    zh: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _where(board: int | None, lock: int | None) -> tuple[str, str]:
    if board is None:
        return "the locker line", "锁控总线"
    if lock is None:
        return f"locker board {board}", f"{board}号锁控板"
    if lock == 0:
        return f"locker board {board} (every lock)", f"{board}号锁控板（全部锁）"
    return f"door {lock} of locker board {board}", f"{board}号锁控板{lock}号门"


class SerialLocker(Locker):
    """Lock-control boards on one serial line. One lock: one request on the line at a time, each answer
    checked (BCC, board, lock) and retried; the port is opened again after it failed."""

    def __init__(self, url: DeviceURL, codec: Codec = LOCKERBUS):
        super().__init__(url)
        o = url.options
        self.codec = codec
        self.port: str = o["port"]
        self.baudrate: int = o["baudrate"]
        self.timeout: float = o["timeout"]
        self.retries: int = o["retries"]
        self.feedback: str = o["feedback"]
        self._boards = tuple(range(1, o["boards"] + 1))
        self._locks: int = o["locks"]
        self.counters = {"opens": 0, "reads": 0, "no_answers": 0, "garbled": 0, "retries": 0, "not_opened": 0}
        self.port_error = ""
        self.last_error: dict[str, Any] | None = None
        self._serial: Any = None
        self._outcomes: dict[int, BoardOutcome] = {}
        self._doors: dict[tuple[int, int], DoorState] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SerialLocker(port={self.port!r}, boards={len(self._boards)}, locks={self._locks}, open={self.is_open})"

    @property
    def boards(self) -> tuple[int, ...]:
        return self._boards

    @property
    def locks(self) -> int:
        return self._locks

    # -- lifecycle ---------------------------------------------------------------------------------
    def _open(self) -> None:
        with self._lock:
            self._serial = self._connect()
            self.port_error = ""

    def _close(self) -> None:
        with self._lock:
            port, self._serial = self._serial, None
            if port is not None:
                close_port(port)

    def _connect(self) -> Any:
        try:
            return open_port(self.port, baudrate=self.baudrate, timeout=POLL_S, write_timeout=self.timeout)
        except LINK_ERRORS as exc:
            raise self._error("port", None, None, f"cannot open the lockers' port {self.port} ({reason(exc)}): check "
                              "that the RS-485 adapter is plugged in and the port is the right one",
                              f"无法打开智能柜串口 {self.port}：请检查RS-485转换器是否插好、端口是否正确") from exc

    # -- the doors ---------------------------------------------------------------------------------
    def open_door(self, board: int, lock: int) -> DoorState:
        self._door(board, lock)
        state = self._ask("open", board, lock)
        if state is DoorState.CLOSED:
            self.counters["not_opened"] += 1
            en, zh = _where(board, lock)
            raise self._error("not_opened", board, lock,
                              f"{en} stayed closed after the open command: the lock may be jammed or something "
                              "presses against the door; check it, or use another compartment (if every door says "
                              f"this, feedback={self.feedback} may be the wrong way round for this wiring)",
                              f"{zh}未能打开：锁可能卡住或门被顶住，请检查或改用其他格口")
        logger.info("lockers %s: %s opened", self.port, _where(board, lock)[0])
        return state

    def door_state(self, board: int, lock: int) -> DoorState:
        self._door(board, lock)
        return self._ask("read", board, lock)

    def open_all(self, board: int) -> dict[int, DoorState]:
        self._door(board, 1)
        self._ask("open", board, 0)
        logger.info("lockers %s: every door of board %d was told to open", self.port, board)
        return self.states(board)

    def states(self, board: int) -> dict[int, DoorState]:
        self._door(board, 1)
        return {lock: self._ask("read", board, lock) for lock in range(1, self._locks + 1)}

    def _door(self, board: int, lock: int) -> None:
        if board not in self._boards or not isinstance(lock, int) or not 1 <= lock <= self._locks:
            raise self._error("no_such_door", board, lock,
                              f"there is no door {lock!r} on board {board!r}: this locker has boards 1-"
                              f"{self._boards[-1]} with locks 1-{self._locks} (boards= and locks= in its URL)",
                              f"没有{board}号锁控板{lock}号门：本柜为1-{self._boards[-1]}号板，每板1-{self._locks}号锁")

    def _ask(self, command: str, board: int, lock: int) -> DoorState:
        """One request and its checked answer, retried; the door's state as the answer gives it."""
        request, frame = self.codec.request(command, board, lock)
        with self._lock:
            if not self.is_open:
                raise self._error("not_open", board, lock, f"the lockers on {self.port} are not open: open them first",
                                  f"智能柜（{self.port}）未打开")
            silent, garbled = 0, None
            for attempt in range(self.retries + 1):
                if attempt:
                    self.counters["retries"] += 1
                try:
                    answer = self._exchange(frame, request)
                except self.codec.errors as exc:
                    self.counters["garbled"] += 1
                    garbled = exc
                    logger.debug("lockers %s: board %d try %d: %s", self.port, board, attempt + 1, exc)
                    continue
                if answer is None:
                    self.counters["no_answers"] += 1
                    silent += 1
                    continue
                self.counters["opens" if command == "open" else "reads"] += 1
                state = self.codec.state(answer, self.feedback)
                if lock:
                    self._doors[(board, lock)] = state
                self._outcomes[board] = BoardOutcome(True, f"board {board} answers", f"{board}号锁控板应答正常")
                return state
            raise self._failed(command, board, lock, silent, garbled)

    def _failed(self, command: str, board: int, lock: int, silent: int, garbled: Exception | None) -> LockerError:
        asked = f"{command} lock {lock}" if lock else f"{command} every lock"
        asked_zh = ("开" if command == "open" else "读") + (f"{lock}号锁" if lock else "全部锁")
        tries = self.retries + 1
        if garbled is None or silent == tries:
            error = self._error("no_answer", board, lock,
                                f"locker board {board} does not answer ({asked}: {tries} tries of {self.timeout:g} s "
                                f"on {self.port}): check the board's power, that its DIP address is {board}, the A/B "
                                f"wires and baudrate={self.baudrate}",
                                f"{board}号锁控板无应答（{asked_zh}）：请检查锁控板电源、拨码地址（应为{board}）、"
                                f"A/B线及波特率{self.baudrate}")
        else:
            error = self._error("garbled", board, lock,
                                f"locker board {board} answered garbled ({asked}: {garbled}; {tries} tries): check "
                                f"the A/B wires and the 120 Ω terminator, baudrate={self.baudrate}, and that no other "
                                f"board has DIP address {board}",
                                f"{board}号锁控板应答校验错误（{asked_zh}）：请检查A/B线、终端电阻、波特率"
                                f"{self.baudrate}，以及是否有两块板拨码地址相同")
        self._outcomes[board] = BoardOutcome(False, error.en, error.zh)
        return error

    def _error(self, code: str, board: int | None, lock: int | None, en: str, zh: str) -> LockerError:
        error = LockerError(code, zh, en, board, lock)
        self.last_error = error.as_dict()
        return error

    # -- the line ----------------------------------------------------------------------------------
    def _exchange(self, frame: bytes, request: Any) -> Any | None:
        """Writes one request and returns its answer, None for silence; raises the codec's error for a garbled
        answer and LockerError("port") if the port fails (it is opened again on the next request)."""
        if self._serial is None:
            self._serial = self._connect()
            logger.info("lockers %s: the port is open again", self.port)
            self.port_error = ""
        try:
            self._serial.reset_input_buffer()       # a late answer to an earlier try must not pass for this one
            self._serial.write(frame)
            return self._receive(request)
        except self.codec.errors:           # a garbled answer (a ValueError, as LINK_ERRORS holds): the caller's
            raise
        except LINK_ERRORS as exc:
            port, self._serial = self._serial, None
            close_port(port)
            if not self.port_error:
                logger.warning("lockers %s: the port failed: %s", self.port, reason(exc))
            self.port_error = (f"the lockers' port {self.port} failed ({reason(exc)}): check the RS-485 adapter's "
                               "cable and power; it is opened again on the next command")
            raise self._error("port", None, None, self.port_error,
                              f"智能柜串口 {self.port} 故障：请检查RS-485转换器的连线和电源") from exc

    def _receive(self, request: Any) -> Any | None:
        buf = bytearray()
        deadline = time.monotonic() + self.timeout
        while True:
            answer, consumed = self.codec.parse_answer(bytes(buf), request)
            if answer is not None:
                return answer
            del buf[:consumed]
            if time.monotonic() >= deadline:
                if buf:
                    raise self.codec.errors[0](f"half an answer ({bytes(buf).hex(' ').upper()}) within "
                                               f"{self.timeout:g} s")
                return None
            buf += self._serial.read(max(1, self._serial.in_waiting))

    # -- state -------------------------------------------------------------------------------------
    def health(self) -> DeviceHealth:
        """Each board is asked for its first lock: all answer ok, some degraded, none (or the port) offline."""
        if not self.is_open:
            return DeviceHealth(DeviceState.OFFLINE, f"the lockers on {self.port} are not open · 智能柜未打开")
        failing: dict[int, LockerError] = {}
        for board in self._boards:
            try:
                self._ask("read", board, 1)
            except LockerError as exc:
                if exc.code == "port":
                    return DeviceHealth(DeviceState.OFFLINE, f"{exc.en} · {exc.zh}")
                failing[board] = exc
        span = _span(self._boards)
        with self._lock:
            opened = sorted(d for d, s in self._doors.items() if s is DoorState.OPEN)
        doors = f"{len(opened)} door(s) known open" if opened else "no door known open"
        if not failing:
            which = f"boards {span} answer" if len(self._boards) > 1 else f"board {span} answers"
            return DeviceHealth(DeviceState.OK, f"{which} ({self._locks} locks each; {doors}) · "
                                f"{span}号锁控板应答正常")
        first = failing[min(failing)]
        if len(failing) == len(self._boards):
            return DeviceHealth(DeviceState.OFFLINE, f"no board answers properly on {self.port} (boards {span}): "
                                f"check the RS-485 adapter, the boards' power, the A/B wires and baudrate="
                                f"{self.baudrate}; first: {first.en} · 所有锁控板均无正确应答：请检查RS-485转换器、"
                                "锁控板电源、A/B线及波特率")
        bad = _span(failing)
        return DeviceHealth(DeviceState.DEGRADED, f"board(s) {bad} of {span} fail, the others answer; {first.en} · "
                            f"{bad}号锁控板故障，其余正常：{first.zh}")

    def outcomes(self) -> dict[int, BoardOutcome]:
        with self._lock:
            return dict(self._outcomes)

    def known_doors(self) -> dict[tuple[int, int], DoorState]:
        """(board, lock) → the state its last answer gave: what was learnt, not asked now."""
        with self._lock:
            return dict(self._doors)

    def _diagnostics(self) -> dict[str, Any]:
        boards = {b: {"ok": o.ok, "detail": o.en, "detail_zh": o.zh, "at": o.at.isoformat(timespec="seconds")}
                  for b, o in sorted(self.outcomes().items())}
        opened = [f"{b}/{lock}" for (b, lock), s in sorted(self.known_doors().items()) if s is DoorState.OPEN]
        return {"port": self.port, "codec": self.codec.name, "baudrate": self.baudrate, "timeout_s": self.timeout,
                "retries": self.retries, "boards": len(self._boards), "locks": self._locks, "feedback": self.feedback,
                "port_error": self.port_error, "last_error": self.last_error, "board_outcomes": boards,
                "open_doors": opened, **self.counters}


def _span(numbers) -> str:
    ordered = sorted(numbers)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 1:
        return f"{ordered[0]}-{ordered[-1]}"
    return ",".join(map(str, ordered))
