"""What every smart locker (智能柜) bus offers: open a compartment's door, read whether doors are open or shut.

A `Locker` is one RS-485 line with lock-control boards on it (DIP addresses 1..boards), each with `locks` locks.
Doors are opened by command and shut by hand, so "was it shut again?" is learnt by polling `door_state`. Which
compartment holds what, pickup codes and the rest are the hall server's business. Every call does blocking I/O
on the line: the hall makes them from a thread (asyncio.to_thread), through its device supervisor.

A vendor's frames are a `Codec` (frames.py is the lock-control board of hardware.md); the driver is one shape.
"""
from __future__ import annotations

import abc
import enum
from typing import Any, ClassVar, Protocol

from ..base import Device, DeviceError


class DoorState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class LockerError(DeviceError):
    """A locker command failed. `code` says how (CODES), `board` and `lock` where (lock None: the whole board,
    board None: the line); `zh` and `en` say it for a person (str() is `en`)."""

    CODES: ClassVar[dict[str, str]] = {
        "no_answer": "the board did not answer (unplugged, switched off, wrong DIP address, A/B wires)",
        "garbled": "the board's answers were garbled (bad BCC, another board's answer, line noise)",
        "not_opened": "the board answered but the door stayed closed (jammed lock, something against the door)",
        "port": "the serial port itself failed (the RS-485 adapter unplugged)",
        "no_such_door": "the board or lock is outside this locker's boards= and locks=",
        "not_open": "the driver is not open",
    }

    def __init__(self, code: str, zh: str, en: str, board: int | None = None, lock: int | None = None):
        super().__init__(en)
        self.code, self.zh, self.en, self.board, self.lock = code, zh, en, board, lock

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "board": self.board, "lock": self.lock, "message_zh": self.zh,
                "message_en": self.en}


class Codec(Protocol):
    """A vendor's frames, as plain data in and out (frames.LockerBusCodec is one)."""
    name: str
    max_boards: int
    max_locks: int
    feedbacks: tuple[str, ...]
    errors: tuple[type[Exception], ...]         # what parse_answer raises for a broken answer

    def request(self, command: str, board: int, lock: int) -> tuple[Any, bytes]:
        """("open" | "read", board, lock) → (the request, its bytes)."""

    def parse_answer(self, buf: bytes, request: Any) -> tuple[Any | None, int]:
        """(the answer to `request` in `buf`, bytes it took), or (None, garbage bytes to skip) while incomplete."""

    def state(self, answer: Any, feedback: str) -> DoorState:
        """What the answer says of the door, with this feedback wiring."""


class Locker(Device):
    kind = "locker"

    @abc.abstractmethod
    def open_door(self, board: int, lock: int) -> DoorState:
        """Open one door; DoorState.OPEN, or LockerError (no answer, garbled, the door stayed closed)."""

    @abc.abstractmethod
    def door_state(self, board: int, lock: int) -> DoorState:
        """Whether the door is open or closed now; LockerError if the board does not tell."""

    @abc.abstractmethod
    def open_all(self, board: int) -> dict[int, DoorState]:
        """Open every door of a board (lock 00), then each door's state."""

    @abc.abstractmethod
    def states(self, board: int) -> dict[int, DoorState]:
        """Every door of a board: lock → state (one read per lock)."""

    @property
    @abc.abstractmethod
    def boards(self) -> tuple[int, ...]:
        """The boards' addresses on this line."""

    @property
    @abc.abstractmethod
    def locks(self) -> int:
        """Locks per board, numbered 1..locks."""
