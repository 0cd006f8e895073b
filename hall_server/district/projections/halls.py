"""d_hall: per hall, what the projector has applied — its seq, its latest event and the hall's service day."""
from __future__ import annotations

from ._time import hall_tz, local_day

NAME = "halls"
DDL = [
    """CREATE TABLE IF NOT EXISTS d_hall (hall text PRIMARY KEY, applied_seq bigint NOT NULL DEFAULT 0,
        last_event_type text, last_event_at timestamptz, service_day date)""",
]


def apply(cur, hall: str, events: list[dict]) -> None:
    if not events:
        return
    tz = hall_tz(cur, hall)
    day = None
    for e in events:
        if e["type"] == "day.rolled_over":
            day = e["data"].get("to_day") or local_day(e["at"], tz)
    last = events[-1]
    day = day or local_day(last["at"], tz)
    cur.execute(
        "INSERT INTO d_hall (hall, applied_seq, last_event_type, last_event_at, service_day) VALUES (%s,%s,%s,%s,%s)"
        " ON CONFLICT (hall) DO UPDATE SET applied_seq = EXCLUDED.applied_seq,"
        " last_event_type = EXCLUDED.last_event_type, last_event_at = EXCLUDED.last_event_at,"
        " service_day = GREATEST(d_hall.service_day, EXCLUDED.service_day)",
        (hall, last["seq"], last["type"], last["at"], day))
