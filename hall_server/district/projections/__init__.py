"""The registry of the district's projections (issue 19 contract).

Each projection module has `NAME: str`, `DDL: list[str]` (CREATE TABLE IF NOT EXISTS …, run by the district service's
migrations) and `def apply(cur, hall: str, events: list[dict]) -> None` (events of ONE hall in seq order, each a dict
with keys seq, type, at (ISO str), actor, window, ticket_id, case_id, data (dict)). The projector calls every module
of PROJECTIONS, in this order, for each batch, in one PostgreSQL transaction with the hall's cursor (d_cursor), so a
projection is applied exactly once per event and `onewindow district rebuild` replays it from the first event.
A module may also name `TABLES` (what a rebuild empties); without it the tables of its DDL are emptied.

May import: nothing of hall_server but its siblings here (a projection sees events, never a hall's runtime).
"""
from __future__ import annotations

import re
from importlib.util import find_spec

from . import daily, halls, queues, ratings, windows

if find_spec(f"{__name__}.cases") is not None:      # D3's d_cases (cases across levels), when it is there
    from . import cases
else:
    cases = None

PROJECTIONS = [halls, windows, queues, daily, ratings, *([cases] if cases is not None else [])]

_TABLE = re.compile(r"CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+([a-z_][a-z0-9_]*)", re.I)


def tables_of(module) -> list[str]:
    """The tables a rebuild empties for `module`: its TABLES, else every table its DDL creates."""
    named = getattr(module, "TABLES", None)
    if named is not None:
        return list(named)
    return [m.group(1) for stmt in module.DDL for m in [_TABLE.search(stmt)] if m]


def cases_table() -> str | None:
    """Where the cases' current state is read from (D3's d_cases); None while that projection is absent."""
    return "d_cases" if cases is not None else None
