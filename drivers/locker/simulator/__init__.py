"""Simulated smart lockers: `LockerBusSimulator` (sim://locker), lock-control boards on a pseudo-terminal."""

from .board_sim import BOARD_FAULTS, DOOR_FAULTS, FAULTS, LockerBusSimulator

__all__ = ["BOARD_FAULTS", "DOOR_FAULTS", "FAULTS", "LockerBusSimulator"]
