"""d_rating_day: per hall and hall-local day of the rating, the 好差评 figures of the hall's statistics — rated,
good (levels 4–5), bad (1–2) — less the ratings an upheld appeal took out (badrating.appeal_upheld), so 好评率 =
good / rated as the hall's own figures define it. d_rating_bad keeps each bad rating's day and 差评 record id (an
appeal may come late); nothing about the citizen or the clerk."""
from __future__ import annotations

from ._time import hall_tz, local_day

NAME = "ratings"
GOOD, BAD = (4, 5), (1, 2)
DDL = [
    """CREATE TABLE IF NOT EXISTS d_rating_day (hall text NOT NULL, day date NOT NULL, rated integer NOT NULL
        DEFAULT 0, good integer NOT NULL DEFAULT 0, bad integer NOT NULL DEFAULT 0, PRIMARY KEY (hall, day))""",
    "CREATE INDEX IF NOT EXISTS d_rating_day_day ON d_rating_day (day)",
    """CREATE TABLE IF NOT EXISTS d_rating_bad (hall text NOT NULL, evaluation_id bigint NOT NULL, day date NOT NULL,
        level integer NOT NULL, badrating_id bigint, PRIMARY KEY (hall, evaluation_id))""",
    "CREATE INDEX IF NOT EXISTS d_rating_bad_record ON d_rating_bad (hall, badrating_id)",
]


def _add(cur, hall: str, day: str, rated: int, good: int, bad: int) -> None:
    cur.execute("INSERT INTO d_rating_day (hall, day, rated, good, bad) VALUES (%s,%s,%s,%s,%s)"
                " ON CONFLICT (hall, day) DO UPDATE SET rated = d_rating_day.rated + EXCLUDED.rated,"
                " good = d_rating_day.good + EXCLUDED.good, bad = d_rating_day.bad + EXCLUDED.bad",
                (hall, day, rated, good, bad))


def apply(cur, hall: str, events: list[dict]) -> None:
    tz = None
    for e in events:
        kind, d = e["type"], e["data"]
        if kind == "evaluation.recorded":
            level = d.get("level")
            if level is None or d.get("evaluation") is None:
                continue
            tz = tz or hall_tz(cur, hall)
            day = local_day(e["at"], tz)
            if level in BAD:
                cur.execute("INSERT INTO d_rating_bad (hall, evaluation_id, day, level) VALUES (%s,%s,%s,%s)"
                            " ON CONFLICT (hall, evaluation_id) DO NOTHING", (hall, d["evaluation"], day, level))
            _add(cur, hall, day, 1, int(level in GOOD), int(level in BAD))
        elif kind == "badrating.opened" and d.get("evaluation") is not None:
            cur.execute("UPDATE d_rating_bad SET badrating_id = %s WHERE hall = %s AND evaluation_id = %s",
                        (d.get("badrating"), hall, d["evaluation"]))
        elif kind == "badrating.appeal_upheld" and d.get("badrating") is not None:
            cur.execute("DELETE FROM d_rating_bad WHERE hall = %s AND badrating_id = %s RETURNING day::text, level",
                        (hall, d["badrating"]))
            row = cur.fetchone()
            if row is not None:
                _add(cur, hall, row[0], -1, 0, -1)
