"""Lock-control boards on a pseudo-terminal (a SerialSimulator): the real driver opens `.port` through pyserial.

Every door starts closed; "open" opens it (lock 00: every door of the board) and "read" answers its state, with
the feedback wiring's polarity. Doors are shut by hand: `shut(board, lock)` is a citizen closing one. Faults a
technician meets on a real line are injected with `fault()`, each on one board (or every board), for ever or for
the next `times` frames:
    mute        the board acts on commands (a door opens) but its answers never arrive (a broken transmitter)
    unplugged   the board is gone: it neither acts nor answers until the fault is cleared ("none")
    bad-bcc     the board acts, and its answer arrives with a wrong BCC (noise on the line)
    stuck       a door (or every door of the board) does not open: the board answers "closed"
"""
from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

from ...serial_simulator import SerialSimulator, corrupt_check
from ..base import DoorState
from ..frames import ALL_LOCKS, FEEDBACKS, FrameError, Request, encode_answer, feedback_of, parse_request

logger = logging.getLogger(__name__)

BOARD_FAULTS = ("mute", "unplugged", "bad-bcc")
DOOR_FAULTS = ("stuck",)
FAULTS = ("none", *BOARD_FAULTS, *DOOR_FAULTS)
LOG_KEPT = 1000


class LockerBusSimulator(SerialSimulator):
    """`boards` boards (DIP addresses 1..boards) of `locks` locks each on one simulated line. Thread-safe."""

    kind = "locker simulator"
    thread_name = "locker-sim"
    FAULTS = FAULTS
    frame_errors = (FrameError,)

    def __init__(self, boards: int = 1, locks: int = 24, feedback: str = "closed-short", answer_s: float = 0.0):
        super().__init__()
        if feedback not in FEEDBACKS:
            raise ValueError(f"feedback is one of {', '.join(FEEDBACKS)}, not {feedback!r}")
        self.boards, self.locks, self.feedback, self.answer_s = tuple(range(1, boards + 1)), locks, feedback, answer_s
        self._doors = {(b, lock): DoorState.CLOSED for b in self.boards for lock in range(1, locks + 1)}
        self._board_faults: dict[int, list] = {}            # board → [fault, frames left or None]
        self._stuck: dict[tuple[int, int], int | None] = {}  # door → opens left stuck, or None: for ever
        self._log: deque[dict[str, Any]] = deque(maxlen=LOG_KEPT)
        self._counts = {"opens": 0, "reads": 0, "unanswered": 0, "bad_frames": 0}

    # -- what a test or a technician does ----------------------------------------------------------
    def shut(self, board: int, lock: int) -> None:
        """A citizen (or the clerk) shuts the door by hand."""
        self._check(board, lock)
        with self._lock:
            self._doors[(board, lock)] = DoorState.CLOSED
            self._lock.notify_all()
        logger.info("locker simulator: door %d of board %d was shut by hand", lock, board)

    def fault(self, name: str, board: int | None = None, lock: int | None = None, times: int | None = None) -> None:
        """Injects fault `name` on `board` (None: every board); "stuck" on `lock` (None: every lock of the board).
        "none" clears the faults of that board, or door, or (no board) all of them. `times`: for the next frames
        (board faults) or opens (stuck) only."""
        if name not in FAULTS:
            raise ValueError(f"{self.kind}: unknown fault {name!r}; faults: {', '.join(FAULTS)}")
        if times is not None and times < 1:
            raise ValueError("times is 1 or more (leave it out for a fault that lasts until cleared)")
        if board is not None:
            self._check(board, lock or 1)
        boards = self.boards if board is None else (board,)
        with self._lock:
            for b in boards:
                locks = range(1, self.locks + 1) if lock is None else (lock,)
                if name == "none":
                    if lock is None:
                        self._board_faults.pop(b, None)
                    for each in locks:
                        self._stuck.pop((b, each), None)
                elif name in DOOR_FAULTS:
                    self._stuck.update({(b, each): times for each in locks})
                else:
                    if lock is not None:
                        raise ValueError(f"{name} is a fault of a whole board: leave lock out")
                    self._board_faults[b] = [name, times]
            self._fault = self._summary()
            self._lock.notify_all()
        where = "every board" if board is None else f"board {board}" + (f" lock {lock}" if lock else "")
        logger.info("locker simulator: %s on %s%s", name, where, f" for {times} frame(s)" if times else "")

    def set_fault(self, name: str) -> None:
        """`fault(name)` on every board (every door for "stuck"): the SerialSimulator's one-argument form."""
        self.fault(name)

    def _check(self, board: int, lock: int) -> None:
        if board not in self.boards or not isinstance(lock, int) or not 1 <= lock <= self.locks:
            raise ValueError(f"no simulated door {lock!r} on board {board!r}: boards 1-{self.boards[-1]}, "
                             f"locks 1-{self.locks}")

    def _summary(self) -> str:
        parts = [f"{f}@{b}" for b, (f, _) in sorted(self._board_faults.items())]
        parts += [f"stuck@{b}:{lock}" for b, lock in sorted(self._stuck)]
        return ",".join(parts) or "none"

    # -- what can be seen --------------------------------------------------------------------------
    def door(self, board: int, lock: int) -> DoorState:
        self._check(board, lock)
        with self._lock:
            return self._doors[(board, lock)]

    def doors(self, board: int | None = None) -> dict[tuple[int, int], DoorState]:
        with self._lock:
            return {d: s for d, s in self._doors.items() if board is None or d[0] == board}

    @property
    def log(self) -> list[dict[str, Any]]:
        """Each request decoded with what became of it, oldest first (the last LOG_KEPT)."""
        with self._lock:
            return list(self._log)

    def wire_log(self) -> list[str]:
        """The bytes on the wire, one line per chunk: `  0.012 rx 8A 01 01 11 9B` (seconds from the first)."""
        traffic = self.traffic
        first = traffic[0].at if traffic else 0.0
        return [f"{t.at - first:7.3f} {t.direction} {t.data.hex(' ').upper()}" for t in traffic]

    def faults(self) -> dict[str, Any]:
        with self._lock:
            return {"fault": self._summary(), "boards": {b: f for b, (f, _) in sorted(self._board_faults.items())},
                    "stuck": [f"{b}/{lock}" for b, lock in sorted(self._stuck)],
                    "open_doors": [f"{b}/{lock}" for (b, lock), s in sorted(self._doors.items())
                                   if s is DoorState.OPEN], **self._counts}

    # -- what the host sends -----------------------------------------------------------------------
    def parse_frame(self, buffer: bytes) -> tuple[Request | None, int]:
        return parse_request(buffer)

    def handle(self, frame: Request, at: float) -> bytes | None:
        with self._lock:
            if frame.board not in self.boards or frame.lock > self.locks:
                return None                     # no board (or lock) at that address: silence, as on the line
            fault = self._take_board_fault(frame.board)
            if fault == "unplugged":
                outcome, answer = "unplugged", None
            else:
                byte = self._do(frame)
                answer = encode_answer(frame, byte)
                outcome = {"mute": "mute", "bad-bcc": "bad-bcc"}.get(fault or "", "answered")
                if fault == "mute":
                    answer = None
                elif fault == "bad-bcc":
                    answer = corrupt_check(answer)
            if answer is None:
                self._counts["unanswered"] += 1
            self._log.append({"at": round(time.monotonic(), 3), "request": f"{frame.command} {frame.board}/"
                              f"{frame.lock}", "outcome": outcome, "answer": answer.hex(" ").upper() if answer else ""})
        if answer is not None and self.answer_s > 0:
            self.send(answer, self.answer_s)        # a slow board: answered from this thread, after the delay
            return None
        return answer

    def _take_board_fault(self, board: int) -> str | None:
        held = self._board_faults.get(board)
        if held is None:
            return None
        name, left = held
        if left is not None:
            if left <= 1:
                del self._board_faults[board]
                self._fault = self._summary()
            else:
                held[1] = left - 1
        return name

    def _do(self, frame: Request) -> int:
        """Acts on `frame`; the feedback byte of its answer."""
        if frame.command == "read":
            self._counts["reads"] += 1
            return feedback_of(self._doors[(frame.board, frame.lock)], self.feedback)
        self._counts["opens"] += 1
        locks = range(1, self.locks + 1) if frame.lock == ALL_LOCKS else (frame.lock,)
        opened = [lock for lock in locks if not self._take_stuck(frame.board, lock)]
        for lock in opened:
            self._doors[(frame.board, lock)] = DoorState.OPEN
        state = DoorState.OPEN if opened else DoorState.CLOSED
        return feedback_of(state, self.feedback)

    def _take_stuck(self, board: int, lock: int) -> bool:
        if (board, lock) not in self._stuck:
            return False
        left = self._stuck[(board, lock)]
        if left is not None:
            if left <= 1:
                del self._stuck[(board, lock)]
                self._fault = self._summary()
            else:
                self._stuck[(board, lock)] = left - 1
        return True

    def handle_bad_frame(self, error: Exception) -> None:
        with self._lock:
            self._counts["bad_frames"] += 1
        logger.info("locker simulator: a bad frame from the host: %s", error)
