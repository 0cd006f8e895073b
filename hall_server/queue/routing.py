"""The routing policy: which waiting ticket a window calls next. One pure function over a snapshot.

Order of rules (design.md, "Routing"):
1. tickets transferred to this very window, oldest place first;
2. priority classes (elderly, disabled, …) before normal ones — unless this window has already
   made `max_priority_in_row` priority calls in a row and a normal ticket is waiting (starvation guard);
3. the window profile's order of preference (its own matters before helping others);
4. place in line (arrival time, kept across transfers), then ticket id.
Tickets transferred to another window are never called here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Waiting:
    id: int
    matter: str
    priority: str
    queue_key: int
    target_window: int | None = None


@dataclass(frozen=True)
class Pick:
    ticket_id: int
    priority_call: bool   # a priority call made while normal tickets waited: counts toward the guard
    reason: str           # "transferred", "priority", "preference"


def pick_next(
    waiting: list[Waiting],
    window: int,
    preference: Callable[[str], int | None],
    priority_streak: int,
    max_priority_in_row: int,
    priority_classes: frozenset[str] | set[str] | tuple[str, ...],
) -> Pick | None:
    """`preference(matter)` gives the window's rank for a matter, or None if it does not serve it."""
    transferred = [t for t in waiting if t.target_window == window]
    if transferred:
        t = min(transferred, key=lambda t: (t.queue_key, t.id))
        return Pick(t.id, False, "transferred")

    ranked = []
    for t in waiting:
        if t.target_window is not None:
            continue
        rank = preference(t.matter)
        if rank is not None:
            ranked.append((rank, t))
    if not ranked:
        return None

    prio = [(r, t) for r, t in ranked if t.priority in priority_classes]
    normal = [(r, t) for r, t in ranked if t.priority not in priority_classes]
    use_priority = bool(prio) and (priority_streak < max_priority_in_row or not normal)
    pool = prio if use_priority else normal
    rank, t = min(pool, key=lambda rt: (rt[0], rt[1].queue_key, rt[1].id))
    # Only priority calls that jumped over a waiting normal ticket count toward the guard.
    return Pick(t.id, use_priority and bool(normal), "priority" if use_priority else "preference")
