"""`sim://locker`: simulated smart lockers on a pseudo-terminal, driven by the real serial driver.

    sim://locker?boards=2&locks=24&feedback=closed-short&timeout=0.5&retries=2&fault=unplugged@2,stuck@1:3

Opening starts a LockerBusSimulator and opens a SerialLocker (lockerbus+serial://) on its pty through pyserial,
so every byte goes through the driver as it would on a real line. `fault=` lists faults to start with, each
FAULT@BOARD or stuck@BOARD:LOCK (simulator.FAULTS); `answer_ms=` delays each answer (a slow board). At runtime
(POST /api/v1/devices/{name}/simulate): `{"fault": "mute", "board": 2}`, `{"fault": "stuck", "board": 1,
"lock": 3}`, `{"fault": "none"}` (clears every fault), `{"shut": true, "board": 1, "lock": 3}` (a citizen shuts
a door). `out=` is accepted and unused; `wire=PATH` opens the line through spy:// on the pty, dumping it to PATH.
"""
from __future__ import annotations

import logging
from typing import Any

from ..base import DeviceError
from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, DeviceURLError, choice, parse_url
from ..wire import wired_port
from .base import DoorState, Locker
from .frames import FEEDBACKS, MAX_LOCKS
from .serial_locker import OPTIONS as SERIAL_OPTIONS
from .serial_locker import SerialLocker, from_url
from .simulator import BOARD_FAULTS, DOOR_FAULTS, LockerBusSimulator

logger = logging.getLogger(__name__)


def faults_option(text: str) -> tuple[tuple[str, int, int | None], ...]:
    """`unplugged@2,stuck@1:3` → (("unplugged", 2, None), ("stuck", 1, 3))."""
    faults = []
    for part in filter(None, text.split(",")):
        name, _, where = part.partition("@")
        board, _, lock = where.partition(":")
        if name not in (*BOARD_FAULTS, *DOOR_FAULTS) or not board.isdigit() or (lock and not lock.isdigit()):
            raise ValueError(f"write each fault as FAULT@BOARD or stuck@BOARD:LOCK (faults: "
                             f"{', '.join((*BOARD_FAULTS, *DOOR_FAULTS))}), not {part!r}")
        if lock and name not in DOOR_FAULTS:
            raise ValueError(f"{name} is a fault of a whole board: write {name}@{board}")
        faults.append((name, int(board), int(lock) if lock else None))
    return tuple(faults)


def answer_ms(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 10_000:
        raise ValueError("use 0 to 10000 milliseconds")
    return value


OPTIONS = {key: SERIAL_OPTIONS[key] for key in ("boards", "locks", "timeout", "retries")} | {
    "feedback": choice(*FEEDBACKS), "fault": faults_option, "answer_ms": answer_ms, "out": str, "wire": str}
DEFAULTS = {"boards": 1, "locks": MAX_LOCKS, "feedback": "closed-short", "timeout": 0.5, "retries": 2, "fault": (),
            "answer_ms": 0}


def sim_from_url(raw: str) -> SimLocker:
    """The registry factory for sim://locker (nothing is started until open())."""
    url = parse_url(raw, OPTIONS, DEFAULTS)
    if url.host != "locker" or url.path not in ("", "/"):
        raise DeviceURLError(f"{raw}: the smart locker simulator is sim://locker (options after '?'), "
                             f"not sim://{url.host}{url.path}")
    for name, board, lock in url.options["fault"]:
        if board > url.options["boards"] or (lock or 1) > url.options["locks"]:
            raise DeviceURLError(f"{raw}: fault {name}@{board}{f':{lock}' if lock else ''} names a door that is not "
                                 f"there (boards={url.options['boards']}, locks={url.options['locks']})")
    return SimLocker(url)


class SimLocker(Locker):
    """A LockerBusSimulator plus the SerialLocker that talks to it; every command goes over the pty."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self.simulator: LockerBusSimulator | None = None
        self._locker: SerialLocker | None = None

    def __repr__(self) -> str:
        return f"SimLocker({self.url.raw!r}, open={self.is_open})"

    @property
    def boards(self) -> tuple[int, ...]:
        return tuple(range(1, self.url.options["boards"] + 1))

    @property
    def locks(self) -> int:
        return self.url.options["locks"]

    def _open(self) -> None:
        o = self.url.options
        sim = LockerBusSimulator(o["boards"], o["locks"], o["feedback"], o["answer_ms"] / 1000)
        for name, board, lock in o["fault"]:
            sim.fault(name, board, lock)
        port = sim.start()
        try:
            locker = from_url(f"lockerbus+serial://{wired_port(port, o.get('wire'))}boards={o['boards']}"
                              f"&locks={o['locks']}&feedback={o['feedback']}&timeout={o['timeout']:g}"
                              f"&retries={o['retries']}")
            locker.open()
        except Exception:
            sim.stop()
            raise
        self.simulator, self._locker = sim, locker
        logger.info("simulated lockers: %d board(s) of %d locks on %s", o["boards"], o["locks"], port)

    def _close(self) -> None:
        locker, sim, self._locker, self.simulator = self._locker, self.simulator, None, None
        if locker is not None:
            locker.close()
        if sim is not None:
            sim.stop()

    def _ready(self) -> SerialLocker:
        if self._locker is None:
            raise DeviceError("the simulated lockers are not started: open them first")
        return self._locker

    def open_door(self, board: int, lock: int) -> DoorState:
        return self._ready().open_door(board, lock)

    def door_state(self, board: int, lock: int) -> DoorState:
        return self._ready().door_state(board, lock)

    def open_all(self, board: int) -> dict[int, DoorState]:
        return self._ready().open_all(board)

    def states(self, board: int) -> dict[int, DoorState]:
        return self._ready().states(board)

    def health(self) -> DeviceHealth:
        if self._locker is None:
            return DeviceHealth(DeviceState.OFFLINE, "the simulated lockers are not started · 模拟智能柜未启动")
        return self._locker.health()

    def simulate(self, *, fault: str | None = None, board: int | None = None, lock: int | None = None,
                 shut: bool | None = None, times: int | None = None) -> None:
        """What a technician or test does at runtime: a fault (on a board, or a door for "stuck"), or shutting
        a door by hand."""
        if self.simulator is None:
            raise DeviceError("the simulated lockers are not started")
        if shut:
            if board is None or lock is None:
                raise ValueError("shutting a door needs both board and lock")
            self.simulator.shut(board, lock)
        if fault is not None:
            self.simulator.fault(fault, board, lock, times)
        elif not shut and (board is not None or lock is not None or times is not None):
            raise ValueError("board and lock go with a fault or with shut: true")

    def faults(self) -> dict[str, Any]:
        if self.simulator is None:
            return {"fault": ",".join(f"{n}@{b}{f':{lk}' if lk else ''}" for n, b, lk in self.url.options["fault"])
                    or "none", "boards": {}, "stuck": [], "open_doors": []}
        return self.simulator.faults()

    def _diagnostics(self) -> dict[str, Any]:
        inner = self._locker._diagnostics() if self._locker is not None else {}
        return {**inner, "simulator": self.faults()}

