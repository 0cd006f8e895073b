"""The queue engine: every change to tickets and windows, as a function run inside one transaction.

Each public method takes the writer's connection (the store has already opened `BEGIN IMMEDIATE`)
and returns a `Change` with the result and the events it appended. Selecting and assigning a ticket
happen in that one transaction, so two windows can never be handed the same ticket, and the per-prefix
counter is bumped in the same transaction that inserts the ticket, so a number is never issued twice.

The engine is put together from its parts: `core.py` (the service day and its rollover, the lookups and
the transfer both sides use), `tickets.py` (issue, requeue, cancel, a waiting ticket's transfer) and
`windows.py` (call-next and every other window action).
"""
from __future__ import annotations

from .core import ACTIVE, _ts
from .tickets import TicketActions
from .windows import MAX_SAMPLE_S, MIN_SAMPLE_S, WindowActions

__all__ = ["ACTIVE", "MAX_SAMPLE_S", "MIN_SAMPLE_S", "Engine", "_ts"]


class Engine(TicketActions, WindowActions):
    """Every change to tickets and windows (see the module's docstring); one per hall, made by runtime.py."""
