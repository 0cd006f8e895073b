"""drivers.serial_simulator.SerialSimulator itself, through real pyserial on its pty: a line protocol (AT-style)
and a binary one (lock-board-style, BCC), faults, silence, a protocol bug, and a stop that leaves nothing behind."""
from __future__ import annotations

import os
import threading
import time
from functools import reduce

import pytest
import serial

from drivers.serial_simulator import (
    FrameTooLong,
    SerialSimulator,
    Traffic,
    corrupt_check,
    flip_byte,
    split_line,
)

NOISE = b"\x00\xff\x55"


class LineModem(SerialSimulator):
    """A trivial AT modem: `AT` -> OK, `AT+CSQ` -> its signal, `BUG` breaks the handler, the rest -> ERROR."""

    kind = "test modem simulator"
    thread_name = "test-line-sim"
    FAULTS = ("none", "silent", "garbage", "slow")
    ONCE_FAULTS = frozenset({"silent", "garbage"})
    SLOW_S = 0.15

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def parse_frame(self, buffer):
        line, consumed = split_line(buffer, b"\r", max_len=64)
        return (None if line is None else line.decode("ascii", "replace").strip()), consumed

    def handle(self, line, at):
        with self._lock:
            self.lines.append(line)
        if line == "BUG":
            raise RuntimeError("a bug in the protocol")
        answer = {"AT": b"OK\r\n", "AT+CSQ": b"+CSQ: 20,0\r\n\r\nOK\r\n"}.get(line, b"ERROR\r\n")
        fault = self.take_fault()
        if fault == "silent":
            return None
        if fault == "garbage":
            return NOISE + answer
        if fault == "slow":
            self.send(answer, delay_s=self.SLOW_S)
            return None
        return answer


def bcc(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0)


def lock_frame(head: int, board: int, lock: int, function: int) -> bytes:
    body = bytes([head, board, lock, function])
    return body + bytes([bcc(body)])


class BoardFrameError(ValueError):
    def __init__(self, message: str, consumed: int):
        super().__init__(message)
        self.consumed = consumed


class LockBoard(SerialSimulator):
    """A trivial lock board: 5-byte frames `8A|80 board lock function BCC`; open answers 00, a read its state."""

    kind = "test lock board simulator"
    thread_name = "test-binary-sim"
    FAULTS = ("none", "checksum")
    ONCE_FAULTS = frozenset({"checksum"})
    frame_errors = (BoardFrameError,)
    silence_s = 0.05

    def __init__(self):
        super().__init__()
        self.opened: set[int] = set()
        self.bad = self.dropped = 0

    def parse_frame(self, buffer):
        if buffer[0] not in (0x8A, 0x80):
            raise BoardFrameError(f"noise: {buffer[:1].hex()}", consumed=1)
        if len(buffer) < 5:
            return None, 0
        if bcc(buffer[:4]) != buffer[4]:
            raise BoardFrameError(f"a wrong BCC: {buffer[:5].hex(' ')}", consumed=5)
        return tuple(buffer[:4]), 5

    def handle(self, frame, at):
        head, board, lock, function = frame
        with self._lock:
            if head == 0x8A and function == 0x11:
                self.opened.add(lock)
            state = 0x00 if lock in self.opened else 0x11
        answer = lock_frame(head, board, lock, state)
        return corrupt_check(answer) if self.take_fault() == "checksum" else answer

    def handle_bad_frame(self, error):
        with self._lock:
            self.bad += 1

    def handle_silence(self, partial):
        with self._lock:
            self.dropped += len(partial)


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def sim_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("test-") and t.name.endswith("-sim")]


@pytest.fixture(autouse=True)
def nothing_left_behind():
    before = fd_count()
    yield
    assert sim_threads() == []
    assert fd_count() <= before


@pytest.fixture
def modem():
    with LineModem() as sim, serial.serial_for_url(sim.port, timeout=2) as port:
        yield sim, port


@pytest.fixture
def board():
    with LockBoard() as sim, serial.serial_for_url(sim.port, timeout=2) as port:
        yield sim, port


def received(sim: SerialSimulator) -> bytes:
    return b"".join(t.data for t in sim.traffic if t.direction == "rx")


def ask(port, command: bytes, until: bytes = b"\n") -> bytes:
    port.write(command)
    return port.read_until(until)


# -- the plain functions ---------------------------------------------------------------------------------
@pytest.mark.parametrize("buffer,expected", [
    (b"", (None, 0)),
    (b"AT", (None, 0)),
    (b"AT\r", (b"AT", 3)),
    (b"AT\rAT+CSQ\r", (b"AT", 3)),
    (b"\r", (b"", 1)),
])
def test_split_line(buffer, expected):
    assert split_line(buffer) == expected


def test_split_line_refuses_a_line_without_end():
    with pytest.raises(FrameTooLong) as caught:
        split_line(b"x" * 9, max_len=8)
    assert caught.value.consumed == 9


@pytest.mark.parametrize("function,frame,expected", [
    (corrupt_check, b"\x8a\x01\x01\x11\x9b", b"\x8a\x01\x01\x11\x64"),
    (corrupt_check, b"", b""),
    (lambda f: flip_byte(f, 1), b"\x01\x02\x03", b"\x01\x58\x03"),
    (lambda f: flip_byte(f, 0, 0xFF), b"\x0f", b"\xf0"),
])
def test_mangling(function, frame, expected):
    assert function(frame) == expected


# -- a line protocol -------------------------------------------------------------------------------------
def test_lines_are_answered_even_when_they_arrive_in_pieces(modem):
    sim, port = modem
    assert ask(port, b"AT\r") == b"OK\r\n"
    port.write(b"AT+")
    assert sim.wait_until(lambda: received(sim).endswith(b"AT+"))
    assert ask(port, b"CSQ\r", b"OK\r\n") == b"+CSQ: 20,0\r\n\r\nOK\r\n"
    assert ask(port, b"ATD112\r") == b"ERROR\r\n"
    assert sim.lines == ["AT", "AT+CSQ", "ATD112"]


def test_traffic_is_recorded_both_ways(modem):
    sim, port = modem
    assert ask(port, b"AT\r") == b"OK\r\n"           # an answer is in the log before it is written
    traffic = sim.traffic
    assert all(isinstance(t, Traffic) for t in traffic)
    assert b"".join(t.data for t in traffic if t.direction == "rx") == b"AT\r"
    assert b"".join(t.data for t in traffic if t.direction == "tx") == b"OK\r\n"
    assert [t.at for t in traffic] == sorted(t.at for t in traffic)


def test_an_unsolicited_line_reaches_the_driver(modem):
    sim, port = modem
    assert sim.send(b"RING\r\n")
    assert port.read_until(b"\n") == b"RING\r\n"


@pytest.mark.parametrize("fault,first_answer", [
    ("none", b"OK\r\n"),
    ("silent", b"+CSQ: 20,0\r\n"),        # AT got no answer: the first line back is AT+CSQ's
    ("garbage", NOISE + b"OK\r\n"),
])
def test_faults_hit_the_next_answer_only(modem, fault, first_answer):
    sim, port = modem
    sim.set_fault(fault)
    port.write(b"AT\r")
    port.write(b"AT+CSQ\r")
    assert port.read_until(b"\n") == first_answer
    assert sim.fault == "none"


def test_a_slow_answer_comes_late(modem):
    sim, port = modem
    sim.set_fault("slow")
    started = time.monotonic()
    assert ask(port, b"AT\r") == b"OK\r\n"
    assert time.monotonic() - started >= LineModem.SLOW_S
    assert sim.fault == "slow"         # it stays until cleared


def test_an_unknown_fault_is_refused_with_the_list(modem):
    sim, _ = modem
    with pytest.raises(ValueError, match="test modem simulator: unknown fault 'fire'; faults: none, silent, garbage"):
        sim.set_fault("fire")


def test_a_bug_in_the_protocol_does_not_stop_the_device(modem):
    sim, port = modem
    port.write(b"BUG\r")
    assert ask(port, b"AT\r") == b"OK\r\n"
    assert sim.lines == ["BUG", "AT"]


def test_an_endless_line_is_dropped(modem):
    sim, port = modem
    port.write(b"x" * 100)
    assert sim.wait_until(lambda: len(received(sim)) == 100)     # read, and past max_len: dropped
    assert ask(port, b"\rAT\r") == b"ERROR\r\n"
    assert port.read_until(b"\n") == b"OK\r\n"
    assert sim.lines == ["", "AT"]


# -- a binary protocol -----------------------------------------------------------------------------------
def test_a_binary_command_is_answered_with_its_bcc(board):
    sim, port = board
    port.write(bytes.fromhex("80 01 01 33 B3"))                   # read lock 1 of board 1
    assert port.read(5) == bytes.fromhex("80 01 01 11 91")        # closed
    port.write(bytes.fromhex("8A 01 01 11 9B"))                   # open it
    assert port.read(5) == bytes.fromhex("8A 01 01 00 8A")        # opened
    assert sim.opened == {1}


def test_noise_and_a_bad_bcc_are_skipped(board):
    sim, port = board
    bad = lock_frame(0x8A, 1, 2, 0x11)[:4] + b"\x00"
    port.write(NOISE + bad + lock_frame(0x80, 1, 2, 0x33))
    assert port.read(5) == lock_frame(0x80, 1, 2, 0x11)           # the bad open did not open the lock
    assert sim.wait_until(lambda: sim.bad == len(NOISE) + 1) and sim.opened == set()


def test_a_corrupt_check_byte_is_injected_once(board):
    sim, port = board
    sim.set_fault("checksum")
    port.write(lock_frame(0x80, 1, 1, 0x33) * 2)
    assert port.read(10) == corrupt_check(lock_frame(0x80, 1, 1, 0x11)) + lock_frame(0x80, 1, 1, 0x11)


def test_a_partial_frame_is_dropped_after_silence(board):
    sim, port = board
    port.write(lock_frame(0x80, 1, 1, 0x33)[:3])
    assert sim.wait_until(lambda: sim.dropped == 3)
    port.write(lock_frame(0x80, 1, 1, 0x33))
    assert port.read(5) == lock_frame(0x80, 1, 1, 0x11)


# -- lifecycle -------------------------------------------------------------------------------------------
def test_stop_leaves_no_thread_and_no_descriptor_and_start_works_again():
    before = fd_count()
    sim = LineModem()
    first = sim.start()
    assert sim.start() == first and sim.running and sim_threads() == ["test-line-sim"]
    sim.stop()
    sim.stop()                                  # twice is harmless
    assert not sim.running and sim_threads() == [] and fd_count() == before
    with sim:
        with serial.serial_for_url(sim.port, timeout=2) as port:
            assert ask(port, b"AT\r") == b"OK\r\n"
    assert sim_threads() == [] and fd_count() == before
    assert not sim.send(b"late\r\n")            # a stopped device sends nothing


def test_two_threads_stopping_at_once_close_each_descriptor_once():
    # a test's watcher thread stops the device while its `finally` does too (seen as EBADF in CI)
    before = fd_count()
    for _ in range(50):
        sim = LineModem()
        sim.start()
        go, errors = threading.Barrier(3), []

        def stop(sim: LineModem = sim, go: threading.Barrier = go, errors: list = errors) -> None:
            go.wait()
            try:
                sim.stop()
            except OSError as error:
                errors.append(error)

        stoppers = [threading.Thread(target=stop) for _ in range(3)]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        assert errors == [] and not sim.running
    assert sim_threads() == [] and fd_count() == before


def test_a_driver_may_close_and_reopen_the_port(modem):
    sim, port = modem
    port.close()
    with serial.serial_for_url(sim.port, timeout=2) as again:
        assert ask(again, b"AT\r") == b"OK\r\n"
