"""d_windows: every window of every hall as the board shows it — open / paused / closed, staffed, the ticket at it;
d_window_day: what each window served and skipped per hall-local day.

No clerk names: the board may be on a public wall (whether a clerk is logged in is enough)."""
from __future__ import annotations

from ._time import hall_tz, local_day

NAME = "windows"
DDL = [
    """CREATE TABLE IF NOT EXISTS d_windows (hall text NOT NULL, number integer NOT NULL, name text,
        state text NOT NULL DEFAULT 'closed', staffed boolean NOT NULL DEFAULT false, reason text,
        since timestamptz, current_number text, current_status text, current_matter text,
        PRIMARY KEY (hall, number))""",
    """CREATE TABLE IF NOT EXISTS d_window_day (hall text NOT NULL, day date NOT NULL, number integer NOT NULL,
        served integer NOT NULL DEFAULT 0, no_show integer NOT NULL DEFAULT 0, handle_s double precision
        NOT NULL DEFAULT 0, PRIMARY KEY (hall, day, number))""",
]

_STATE = {"window.opened": "open", "window.resumed": "open", "window.paused": "paused", "window.closed": "closed"}


def _ensure(cur, hall: str, number: int, name: str | None = None) -> None:
    cur.execute("INSERT INTO d_windows (hall, number, name) VALUES (%s,%s,%s) ON CONFLICT (hall, number) DO"
                " UPDATE SET name = COALESCE(EXCLUDED.name, d_windows.name)", (hall, number, name))


def _set(cur, hall: str, number: int, **cols) -> None:
    _ensure(cur, hall, number, cols.pop("name", None))
    if cols:
        sets = ", ".join(f"{k} = %s" for k in cols)
        cur.execute(f"UPDATE d_windows SET {sets} WHERE hall = %s AND number = %s", (*cols.values(), hall, number))


def _count(cur, hall: str, day: str, number: int, col: str, handle_s: float = 0.0) -> None:
    cur.execute(f"INSERT INTO d_window_day (hall, day, number, {col}, handle_s) VALUES (%s,%s,%s,1,%s)"
                f" ON CONFLICT (hall, day, number) DO UPDATE SET {col} = d_window_day.{col} + 1,"
                f" handle_s = d_window_day.handle_s + EXCLUDED.handle_s", (hall, day, number, handle_s))


def apply(cur, hall: str, events: list[dict]) -> None:
    tz = None
    for e in events:
        kind, d = e["type"], e["data"]
        number = d.get("window", e.get("window"))
        if kind in _STATE and number is not None:
            state = _STATE[kind]
            _set(cur, hall, number, state=state, reason=d.get("reason") or None, since=e["at"])
        elif kind == "window.login" and number is not None:
            _set(cur, hall, number, staffed=True)
        elif kind == "window.logout" and number is not None:
            _ensure(cur, hall, number)
            cur.execute("UPDATE d_windows SET staffed = false, state = CASE WHEN state = 'open' THEN 'paused'"
                        " ELSE state END, since = CASE WHEN state = 'open' THEN %s ELSE since END"
                        " WHERE hall = %s AND number = %s", (e["at"], hall, number))
        elif kind in ("ticket.called", "ticket.recalled") and number is not None:
            _set(cur, hall, number, name=d.get("window_name"), current_number=d.get("number"),
                 current_status="called", current_matter=d.get("matter_name") or d.get("matter"))
        elif kind == "ticket.serving" and number is not None:
            _set(cur, hall, number, current_number=d.get("number"), current_status="serving")
        elif kind in ("ticket.finished", "ticket.no_show") and number is not None:
            _set(cur, hall, number, current_number=None, current_status=None, current_matter=None)
            tz = tz or hall_tz(cur, hall)
            day = local_day(e["at"], tz)
            if kind == "ticket.finished":
                _count(cur, hall, day, number, "served", float(d.get("handling_s") or 0))
            else:
                _count(cur, hall, day, number, "no_show")
        elif kind == "ticket.transferred":
            src = d.get("from_window")
            if src is not None:
                _set(cur, hall, src, current_number=None, current_status=None, current_matter=None)
        elif kind == "day.rolled_over":
            cur.execute("UPDATE d_windows SET state = 'closed', staffed = false, reason = 'rollover', since = %s,"
                        " current_number = NULL, current_status = NULL, current_matter = NULL WHERE hall = %s",
                        (e["at"], hall))
