"""The common Chinese lock-control board (锁控板) on RS-485: 5-byte frames, BCC = XOR of the first four bytes.

    open one lock   host → board  8A <board> <lock> 11 <bcc>     e.g. 8A 01 01 11 9B
                    board → host  8A <board> <lock> <state> <bcc>
    read one lock   host → board  80 <board> <lock> 33 <bcc>     e.g. 80 01 01 33 B3
                    board → host  80 <board> <lock> <state> <bcc>
    lock 00 opens every lock of the board (8A 01 00 11 9A).

<board> is the board's DIP address 1..32, <lock> 1..24. <state> is 00 or 11; which of them means "open" depends
on how the lock's feedback switch is wired, a per-installation setting (`FEEDBACKS`):
    closed-short   the switch is shorted while the door is shut: 11 = closed, 00 = open (the usual wiring)
    open-short     the switch is shorted while the door stands open: 11 = open, 00 = closed
Plain functions over bytes, shared by the driver and the simulator; `LOCKERBUS` groups them as the codec the
driver talks through (base.Codec), so another vendor's frames are another module with the same shape. Every
malformed frame given to a decoder raises `FrameError` (a ValueError) and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass

from .base import DoorState

OPEN_HEADER, READ_HEADER = 0x8A, 0x80
OPEN_FUNCTION, READ_FUNCTION = 0x11, 0x33
SHORT, LOOSE = 0x11, 0x00                # the feedback input shorted, or not
FRAME_LEN = 5
MAX_BOARDS, MAX_LOCKS = 32, 24
ALL_LOCKS = 0
FEEDBACKS = ("closed-short", "open-short")
COMMANDS = {OPEN_HEADER: "open", READ_HEADER: "read"}
FUNCTIONS = {"open": OPEN_FUNCTION, "read": READ_FUNCTION}
HEADERS = {name: header for header, name in COMMANDS.items()}


class FrameError(ValueError):
    """A frame broke the protocol; `consumed` bytes of a stream may be dropped before resyncing."""

    def __init__(self, message: str, consumed: int = 0):
        super().__init__(message)
        self.consumed = consumed


@dataclass(frozen=True)
class Request:
    """What the host asks: "open" or "read" the lock at (board, lock); lock 0 is every lock of the board."""
    command: str
    board: int
    lock: int


@dataclass(frozen=True)
class Answer:
    """What a board answered: the raw feedback byte of (board, lock), before polarity gives it a meaning."""
    command: str
    board: int
    lock: int
    feedback: int


def bcc(data: bytes) -> int:
    """The block check character: XOR of `data`."""
    check = 0
    for byte in data:
        check ^= byte
    return check


def _frame(header: int, board: int, lock: int, fourth: int) -> bytes:
    body = bytes([header, board, lock, fourth])
    return body + bytes([bcc(body)])


def _board(board: int) -> int:
    if not isinstance(board, int) or isinstance(board, bool) or not 1 <= board <= MAX_BOARDS:
        raise ValueError(f"a lock board's address is 1..{MAX_BOARDS} (its DIP switches), not {board!r}")
    return board


def _lock(lock: int, allow_all: bool) -> int:
    low = ALL_LOCKS if allow_all else 1
    if not isinstance(lock, int) or isinstance(lock, bool) or not low <= lock <= MAX_LOCKS:
        raise ValueError(f"a lock is {low}..{MAX_LOCKS}{' (0: every lock of the board)' if allow_all else ''}, "
                         f"not {lock!r}")
    return lock


def encode_open(board: int, lock: int) -> bytes:
    """Open `lock` of `board` (lock 0: every lock of the board)."""
    return _frame(OPEN_HEADER, _board(board), _lock(lock, True), OPEN_FUNCTION)


def encode_read(board: int, lock: int) -> bytes:
    """Ask for the feedback switch of `lock` of `board`."""
    return _frame(READ_HEADER, _board(board), _lock(lock, False), READ_FUNCTION)


def encode_answer(request: Request, feedback: int) -> bytes:
    """A board's answer to `request` (the simulator's side)."""
    if feedback not in (SHORT, LOOSE):
        raise ValueError(f"a feedback byte is 0x{SHORT:02X} or 0x{LOOSE:02X}, not {feedback!r}")
    return _frame(HEADERS[request.command], request.board, request.lock, feedback)


def feedback_of(state: DoorState | str, feedback: str) -> int:
    """The byte a board with this wiring reports for a door in `state`."""
    _wiring(feedback)
    shorted = (DoorState(state) is DoorState.CLOSED) == (feedback == "closed-short")
    return SHORT if shorted else LOOSE


def door_state(byte: int, feedback: str) -> DoorState:
    """What a feedback byte means with this wiring; FrameError for a byte that is neither 00 nor 11."""
    _wiring(feedback)
    if byte not in (SHORT, LOOSE):
        raise FrameError(f"the state byte 0x{byte:02X} is neither 00 nor 11")
    closed = (byte == SHORT) == (feedback == "closed-short")
    return DoorState.CLOSED if closed else DoorState.OPEN


def _wiring(feedback: str) -> None:
    if feedback not in FEEDBACKS:
        raise ValueError(f"feedback is one of {', '.join(FEEDBACKS)}, not {feedback!r}")


def _checked(frame: bytes, what: str) -> None:
    if bcc(frame[:4]) != frame[4]:
        raise FrameError(f"{what} {frame.hex(' ').upper()} has a wrong BCC (0x{frame[4]:02X}, expected "
                         f"0x{bcc(frame[:4]):02X})", consumed=FRAME_LEN)


def parse_request(buf: bytes) -> tuple[Request | None, int]:
    """The first request in a host → board stream (the simulator's side) and the bytes it, and garbage before
    it, took; (None, n) while incomplete, the first n bytes garbage. FrameError for a broken frame."""
    buf = bytes(buf)
    start = next((i for i, b in enumerate(buf) if b in COMMANDS), -1)
    if start < 0:
        return None, len(buf)
    frame = buf[start:start + FRAME_LEN]
    if len(frame) < FRAME_LEN:
        return None, start
    command = COMMANDS[frame[0]]
    try:
        _checked(frame, "a request")
        if frame[3] != FUNCTIONS[command]:
            raise FrameError(f"a request {frame.hex(' ').upper()} has the function 0x{frame[3]:02X}, not "
                             f"0x{FUNCTIONS[command]:02X}", consumed=FRAME_LEN)
        _board(frame[1])
        _lock(frame[2], allow_all=command == "open")
    except FrameError as exc:
        exc.consumed = start + FRAME_LEN
        raise
    except ValueError as exc:
        raise FrameError(f"a request {frame.hex(' ').upper()}: {exc}", consumed=start + FRAME_LEN) from None
    return Request(command, frame[1], frame[2]), start + FRAME_LEN


def parse_answer(buf: bytes, request: Request) -> tuple[Answer | None, int]:
    """The answer to `request` in a board → host stream, as `parse_request`: bytes before its header are skipped;
    a wrong BCC, an answer for another board or lock, or a state byte other than 00/11 is a FrameError."""
    buf = bytes(buf)
    header = HEADERS[request.command]
    start = buf.find(bytes([header]))
    if start < 0:
        return None, len(buf)
    frame = buf[start:start + FRAME_LEN]
    if len(frame) < FRAME_LEN:
        return None, start
    try:
        _checked(frame, "the answer")
    except FrameError as exc:
        exc.consumed = start + FRAME_LEN
        raise
    if (frame[1], frame[2]) != (request.board, request.lock):
        raise FrameError(f"the answer {frame.hex(' ').upper()} is for board {frame[1]} lock {frame[2]}, not board "
                         f"{request.board} lock {request.lock}", consumed=start + FRAME_LEN)
    if frame[3] not in (SHORT, LOOSE):
        raise FrameError(f"the answer {frame.hex(' ').upper()} has the state byte 0x{frame[3]:02X}, neither 00 "
                         "nor 11", consumed=start + FRAME_LEN)
    return Answer(request.command, frame[1], frame[2], frame[3]), start + FRAME_LEN


class LockerBusCodec:
    """The lock-control board's frames as the driver uses them (base.Codec)."""

    name = "lockerbus"
    max_boards, max_locks = MAX_BOARDS, MAX_LOCKS
    feedbacks = FEEDBACKS
    errors = (FrameError,)

    def request(self, command: str, board: int, lock: int) -> tuple[Request, bytes]:
        encode = encode_open if command == "open" else encode_read
        return Request(command, board, lock), encode(board, lock)

    def parse_answer(self, buf: bytes, request: Request) -> tuple[Answer | None, int]:
        return parse_answer(buf, request)

    def state(self, answer: Answer, feedback: str) -> DoorState:
        return door_state(answer.feedback, feedback)


LOCKERBUS = LockerBusCodec()
