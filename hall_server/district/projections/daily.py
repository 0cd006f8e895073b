"""d_day: per hall and hall-local day, the statistics the district sums over halls — the same definitions as the
hall's own (hall_server/stats/figures.py): a ticket belongs to the day it was issued and is counted by where it
ended (served = finished, no_show = left a no-show, cancelled, expired at the rollover, transferred at least once);
its wait runs from issue to its FIRST call, kept as a histogram of 60-s buckets (d_day_wait) with the longest wait
exact, so p50/p90 over any days and halls is the hall's percentile of the summed histogram; handling is the
hall's own `handling_s` of ticket.finished. A case belongs to the day it was received (received, accepted,
decided, decided on time as case.decided says).

Per-ticket state lives only while a ticket can still change (d_day_ticket, emptied for the hall at its rollover);
per-case only the receipt day and what was counted (d_day_case)."""
from __future__ import annotations

from ._time import hall_tz, local_day, seconds

NAME = "daily"
BUCKET_S = 60                 # as hall_server/stats/figures.BUCKET_S: the same percentile definition

COUNTS = ("issued", "served", "no_show", "cancelled", "expired", "transferred", "cases_received", "cases_accepted",
          "cases_decided", "cases_on_time")
DDL = [
    "CREATE TABLE IF NOT EXISTS d_day (hall text NOT NULL, day date NOT NULL, "
    + ", ".join(f"{c} integer NOT NULL DEFAULT 0" for c in COUNTS)
    + ", waited integer NOT NULL DEFAULT 0, wait_max_s double precision, handle_s double precision NOT NULL"
      " DEFAULT 0, PRIMARY KEY (hall, day))",
    "CREATE INDEX IF NOT EXISTS d_day_day ON d_day (day)",
    """CREATE TABLE IF NOT EXISTS d_day_wait (hall text NOT NULL, day date NOT NULL, bucket integer NOT NULL,
        n integer NOT NULL, PRIMARY KEY (hall, day, bucket))""",
    """CREATE TABLE IF NOT EXISTS d_day_ticket (hall text NOT NULL, ticket_id bigint NOT NULL, day date NOT NULL,
        issued_at timestamptz NOT NULL, status text NOT NULL, called boolean NOT NULL DEFAULT false,
        transferred boolean NOT NULL DEFAULT false, PRIMARY KEY (hall, ticket_id))""",
    """CREATE TABLE IF NOT EXISTS d_day_case (hall text NOT NULL, case_id bigint NOT NULL, day date NOT NULL,
        accepted boolean NOT NULL DEFAULT false, decided boolean NOT NULL DEFAULT false,
        PRIMARY KEY (hall, case_id))""",
]


def _add(cur, hall: str, day: str, **deltas) -> None:
    cols = list(deltas)
    cur.execute(f"INSERT INTO d_day (hall, day, {', '.join(cols)}) VALUES (%s, %s{', %s' * len(cols)})"
                f" ON CONFLICT (hall, day) DO UPDATE SET "
                + ", ".join(f"{c} = d_day.{c} + EXCLUDED.{c}" for c in cols), (hall, day, *deltas.values()))


def _waited(cur, hall: str, day: str, wait_s: float) -> None:
    wait_s = max(0.0, wait_s)
    cur.execute("INSERT INTO d_day (hall, day, waited, wait_max_s) VALUES (%s,%s,1,%s) ON CONFLICT (hall, day) DO"
                " UPDATE SET waited = d_day.waited + 1, wait_max_s = GREATEST(d_day.wait_max_s, EXCLUDED.wait_max_s)",
                (hall, day, wait_s))
    cur.execute("INSERT INTO d_day_wait (hall, day, bucket, n) VALUES (%s,%s,%s,1) ON CONFLICT (hall, day, bucket)"
                " DO UPDATE SET n = d_day_wait.n + 1", (hall, day, int(wait_s // BUCKET_S)))


def _ticket(cur, hall: str, tid) -> tuple | None:
    cur.execute("SELECT day::text, issued_at, status, called, transferred FROM d_day_ticket"
                " WHERE hall = %s AND ticket_id = %s", (hall, tid))
    return cur.fetchone()


def _status(cur, hall: str, tid, status: str) -> None:
    cur.execute("UPDATE d_day_ticket SET status = %s WHERE hall = %s AND ticket_id = %s", (status, hall, tid))


def _ticket_event(cur, hall: str, e: dict, tz: str) -> None:
    kind, d = e["type"], e["data"]
    tid = d.get("ticket_id", e.get("ticket_id"))
    if tid is None:
        return
    if kind == "ticket.issued":
        day = local_day(e["at"], tz)
        cur.execute("INSERT INTO d_day_ticket (hall, ticket_id, day, issued_at, status) VALUES (%s,%s,%s,%s,"
                    "'waiting') ON CONFLICT (hall, ticket_id) DO NOTHING RETURNING 1", (hall, tid, day, e["at"]))
        if cur.fetchone() is not None:
            _add(cur, hall, day, issued=1)
        return
    row = _ticket(cur, hall, tid)
    if row is None:              # issued before the log began, or its day already closed: nothing to count
        return
    day, issued_at, status, called, transferred = row
    if kind == "ticket.called":
        if not called:
            _waited(cur, hall, day, seconds(issued_at, e["at"]))
        cur.execute("UPDATE d_day_ticket SET status = 'called', called = true WHERE hall = %s AND ticket_id = %s",
                    (hall, tid))
    elif kind == "ticket.serving":
        _status(cur, hall, tid, "serving")
    elif kind == "ticket.finished":
        _add(cur, hall, day, served=1, handle_s=float(d.get("handling_s") or 0))
        cur.execute("DELETE FROM d_day_ticket WHERE hall = %s AND ticket_id = %s", (hall, tid))
    elif kind == "ticket.no_show":
        if status != "no_show":
            _add(cur, hall, day, no_show=1)
        _status(cur, hall, tid, "no_show")
    elif kind == "ticket.requeued":
        if status == "no_show":
            _add(cur, hall, day, no_show=-1)
        _status(cur, hall, tid, "waiting")
    elif kind == "ticket.cancelled":
        _add(cur, hall, day, cancelled=1, no_show=-1 if status == "no_show" else 0)
        cur.execute("DELETE FROM d_day_ticket WHERE hall = %s AND ticket_id = %s", (hall, tid))
    elif kind == "ticket.transferred":
        if not transferred:
            _add(cur, hall, day, transferred=1)
        cur.execute("UPDATE d_day_ticket SET status = 'waiting', transferred = true WHERE hall = %s"
                    " AND ticket_id = %s", (hall, tid))


def _rolled_over(cur, hall: str) -> None:
    """The engine expired every open ticket; a no-show stays counted as one."""
    cur.execute("SELECT day::text, count(*) FROM d_day_ticket WHERE hall = %s AND status IN"
                " ('waiting', 'called', 'serving') GROUP BY day", (hall,))
    for day, n in cur.fetchall():
        _add(cur, hall, day, expired=n)
    cur.execute("DELETE FROM d_day_ticket WHERE hall = %s", (hall,))


def _case_event(cur, hall: str, e: dict, tz: str) -> None:
    kind, d = e["type"], e["data"]
    cid = d.get("case", e.get("case_id"))
    if cid is None:
        return
    if kind == "case.received":
        day = local_day(e["at"], tz)
        cur.execute("INSERT INTO d_day_case (hall, case_id, day) VALUES (%s,%s,%s) ON CONFLICT (hall, case_id)"
                    " DO NOTHING RETURNING 1", (hall, cid, day))
        if cur.fetchone() is not None:
            _add(cur, hall, day, cases_received=1)
        return
    if kind not in ("case.accepted", "case.decided"):
        return
    col = "accepted" if kind == "case.accepted" else "decided"
    cur.execute(f"UPDATE d_day_case SET {col} = true WHERE hall = %s AND case_id = %s AND NOT {col}"
                " RETURNING day::text", (hall, cid))
    row = cur.fetchone()
    if row is None:
        return
    if col == "accepted":
        _add(cur, hall, row[0], cases_accepted=1)
    else:
        _add(cur, hall, row[0], cases_decided=1, cases_on_time=int(bool(d.get("on_time", True))))


def apply(cur, hall: str, events: list[dict]) -> None:
    tz = None
    for e in events:
        kind = e["type"]
        if kind.startswith("ticket."):
            tz = tz or hall_tz(cur, hall)
            _ticket_event(cur, hall, e, tz)
        elif kind == "day.rolled_over":
            _rolled_over(cur, hall)
        elif kind.startswith("case."):
            tz = tz or hall_tz(cur, hall)
            _case_event(cur, hall, e, tz)
