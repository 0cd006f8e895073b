"""`[lockers]` in a hall's config: which locker device holds the results, its compartments (small or large,
by board and lock ranges), the limit on wrong pickup codes per kiosk, and when a result left is taken back.

    [lockers]
    device = "result-lockers"          # a [[devices]] entry of kind "locker"
    [[lockers.compartments]]
    board = 1
    locks = "1-16"
    size = "small"
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Size = Literal["small", "large"]
SIZES: tuple[str, ...] = ("small", "large")
MAX_BOARDS, MAX_LOCKS = 32, 24          # the lock-control board of drivers/locker/frames.py


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def lock_numbers(text: str) -> tuple[int, ...]:
    """"1-16" / "1,3,5-8" → the lock numbers (ValueError for anything else)."""
    out: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = re.fullmatch(r"(\d{1,2})(?:-(\d{1,2}))?", part)
        if not m:
            raise ValueError(f"{part!r} is not a lock number or a range like 1-16")
        low, high = int(m.group(1)), int(m.group(2) or m.group(1))
        if not 1 <= low <= high <= MAX_LOCKS:
            raise ValueError(f"{part!r}: locks are numbered 1-{MAX_LOCKS}, low to high")
        out.extend(range(low, high + 1))
    if not out:
        raise ValueError("name at least one lock, e.g. \"1-16\"")
    return tuple(out)


class CompartmentRange(_Strict):
    """Some doors of one board, all of one size."""
    board: int = Field(ge=1, le=MAX_BOARDS, description="the lock-control board's DIP address")
    locks: str = Field(description='lock numbers on that board: "1-16", "17,18" or "1-8,13-16"')
    size: Size = Field(description="small (documents, certificates) or large (licences in folders, parcels)")

    @field_validator("locks")
    @classmethod
    def _locks(cls, v: str) -> str:
        lock_numbers(v)
        return v


class LockerPolicy(_Strict):
    device: str = Field(default="", description="the [[devices]] name of the locker (kind locker); empty: "
                        "this hall has no result lockers")
    compartments: tuple[CompartmentRange, ...] = ()
    max_wrong_tries: int = Field(default=5, ge=1, le=50, description="wrong pickup codes a kiosk may enter "
                                 "before it is paused")
    pause_min: float = Field(default=5, gt=0, le=1440, description="how long a kiosk is paused after too many "
                             "wrong codes; its count also starts again after this long without a wrong code")
    take_back_days: int = Field(default=7, ge=1, le=365, description="a result left this many days is listed "
                                "for the staff to take back to the 出件 window")
    open_alert_s: float = Field(default=180, gt=0, le=86400, description="a door left open this long (loading, "
                                "after a pickup or a take-back) raises an alert")
    poll_s: float = Field(default=0.5, gt=0, le=30, description="how often open doors are read to see them "
                          "shut")

    @model_validator(mode="after")
    def _distinct(self) -> LockerPolicy:
        seen: dict[tuple[int, int], int] = {}
        for n, r in enumerate(self.compartments):
            for lock in lock_numbers(r.locks):
                if (r.board, lock) in seen:
                    raise ValueError(f"lockers.compartments: board {r.board} lock {lock} is listed twice "
                                     f"(entries {seen[(r.board, lock)] + 1} and {n + 1})")
                seen[(r.board, lock)] = n
        if self.device and not self.compartments:
            raise ValueError("lockers: list the compartments ([[lockers.compartments]] with board, locks and size)")
        return self

    def doors(self) -> list[tuple[int, int, str]]:
        """(board, lock, size) of every compartment, in config order."""
        return [(r.board, lock, r.size) for r in self.compartments for lock in lock_numbers(r.locks)]


def label(board: int, lock: int) -> str:
    """What a compartment is called to citizens and staff: board 1 lock 3 → "1-03" (its door's label)."""
    return f"{board}-{lock:02d}"


def check_lockers(policy: LockerPolicy, devices: dict[str, str]) -> None:
    """Cross-reference (devices: name → kind): the locker device exists and is a locker."""
    if not policy.device:
        return
    kind = devices.get(policy.device)
    if kind is None:
        raise ValueError(f"lockers.device names {policy.device!r}, which is not among [[devices]]")
    if kind != "locker":
        raise ValueError(f"lockers.device {policy.device!r} is a {kind}, not a locker")
