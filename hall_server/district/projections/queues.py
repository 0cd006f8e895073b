"""d_queue: the open tickets of every hall — waiting, called, serving, or a no-show that may be put back in line —
with their matter, group and the window a transfer sent them to. The board counts the waiting and the longest wait
from it; the drill-down lists a hall's queues by group and matter.

A ticket leaves d_queue when it is finished or cancelled, and every ticket of the hall when the day rolls over (the
engine expires the open ones)."""
from __future__ import annotations

NAME = "queues"
DDL = [
    """CREATE TABLE IF NOT EXISTS d_queue (hall text NOT NULL, ticket_id bigint NOT NULL, number text,
        matter text, grp text, priority text, status text NOT NULL, issued_at timestamptz NOT NULL,
        target_window integer, PRIMARY KEY (hall, ticket_id))""",
    "CREATE INDEX IF NOT EXISTS d_queue_waiting ON d_queue (hall, issued_at) WHERE status = 'waiting'",
]

_SET = {"ticket.serving": "status = 'serving'", "ticket.no_show": "status = 'no_show'",
        "ticket.called": "status = 'called', target_window = NULL",
        "ticket.requeued": "status = 'waiting', target_window = NULL"}


def apply(cur, hall: str, events: list[dict]) -> None:
    for e in events:
        kind, d = e["type"], e["data"]
        if kind == "day.rolled_over":
            cur.execute("DELETE FROM d_queue WHERE hall = %s", (hall,))
            continue
        if not kind.startswith("ticket."):
            continue
        tid = d.get("ticket_id", e.get("ticket_id"))
        if tid is None:
            continue
        if kind == "ticket.issued":
            cur.execute("INSERT INTO d_queue (hall, ticket_id, number, matter, grp, priority, status, issued_at)"
                        " VALUES (%s,%s,%s,%s,%s,%s,'waiting',%s) ON CONFLICT (hall, ticket_id) DO NOTHING",
                        (hall, tid, d.get("number"), d.get("matter"), d.get("group"), d.get("priority"), e["at"]))
        elif kind in _SET:
            cur.execute(f"UPDATE d_queue SET {_SET[kind]} WHERE hall = %s AND ticket_id = %s", (hall, tid))
        elif kind in ("ticket.finished", "ticket.cancelled"):
            cur.execute("DELETE FROM d_queue WHERE hall = %s AND ticket_id = %s", (hall, tid))
        elif kind == "ticket.transferred":
            cur.execute("UPDATE d_queue SET status = 'waiting', matter = COALESCE(%s, matter), target_window = %s"
                        " WHERE hall = %s AND ticket_id = %s", (d.get("to_matter"), d.get("to_window"), hall, tid))
