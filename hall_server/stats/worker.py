"""The stats projector's own process (the server's `process` mode, projector.py):

    python -m hall_server.stats.worker

Its stdin's first line is the start message (JSON: the hall's database, the stats database, `delay_s`, and the
`Dims` and working-day calendar as plain data — `start_message()` below builds it). Then it wakes every `delay_s`,
or at once for a line `now` (a catch-up), and applies what the hall has committed since its cursor, batch by
batch. It exits when its stdin ends, which is also when the server has died (even by SIGKILL): no orphans. It
imports only the statistics' own modules and SQLite, so it starts in a tenth of a second and stays small.
"""
from __future__ import annotations

import json
import logging
import os
import select
import sys
import time
from datetime import date
from types import SimpleNamespace
from typing import Any

from .facts import Dims, MatterDims

log = logging.getLogger("hall_server.stats.worker")
NICE = 10


def start_message(dims: Dims, calendar: dict | None) -> dict[str, Any]:
    """What the child needs of the hall, as JSON: the dimensions and the administrator's calendar table."""
    return {"dims": {"tz": dims.tz, "rollover_hour": dims.rollover_hour,
                     "windows": {str(k): v for k, v in dims.windows.items()}, "groups": dims.groups,
                     "matter_names": dims.matter_names,
                     "matters": {k: [m.group, m.department, m.expected_s] for k, m in dims.matters.items()}},
            "calendar": calendar}


def dims_of(message: dict[str, Any]) -> Dims:
    from ..cases.calendar import WorkCalendar

    d = message["dims"]
    cal = message.get("calendar")
    workdays = None
    if cal is not None:
        table = SimpleNamespace(years=tuple(cal.get("years", ())),
                                holidays=tuple(date.fromisoformat(x) for x in cal.get("holidays", ())),
                                workdays=tuple(date.fromisoformat(x) for x in cal.get("workdays", ())))
        workdays = WorkCalendar(table).working_days_between      # type: ignore[arg-type]
    return Dims(tz=d["tz"], rollover_hour=int(d.get("rollover_hour", 0)),
                windows={int(k): v for k, v in d["windows"].items()}, groups=d["groups"],
                matter_names=d["matter_names"], matters={k: MatterDims(*v) for k, v in d["matters"].items()},
                workdays=workdays)


def run(message: dict[str, Any], stdin) -> None:
    from ..store.database import connect
    from .apply import PAGE, run_step
    from .schema import open_stats

    dims, delay_s = dims_of(message), float(message.get("delay_s", 0.5))
    conn, log_conn = open_stats(message["stats"]), connect(message["db"], readonly=True)
    fd = stdin.fileno()
    failing = False
    trace = os.environ.get("ONEWINDOW_STATS_TRACE")    # bench/stats_year.py: each batch's start, ms and events
    while True:
        try:
            while True:
                t, wall = time.perf_counter(), time.time()
                n, _ = run_step(conn, log_conn, dims)
                if trace and n:
                    with open(trace, "a") as f:
                        f.write(f"{wall:.4f} {(time.perf_counter() - t) * 1000:.2f} {n}\n")
                if n < PAGE:
                    break
                time.sleep(0.02)            # a long log: a breath between batches for the readers
            if failing:
                log.warning("stats worker: batches apply again")
            failing = False
        except Exception:                   # the stats database refused the batch: nothing applied; later again
            if not failing:
                log.exception("stats worker: a batch failed; retrying every few seconds")
            failing = True
            time.sleep(2.0)
        ready, _, _ = select.select([fd], [], [], delay_s)
        if ready:
            data = os.read(fd, 4096)
            if not data:                    # the server closed our stdin, or died
                return


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        # the statistics may lag; tickets and calls may not: on a busy machine the scheduler serves the hall's server
        # (and kiosks, screens) first, and the projector catches up in the time they leave
        os.nice(NICE)
    except OSError:
        pass
    first = sys.stdin.buffer.readline()
    if not first:
        return 0
    try:
        message = json.loads(first)
    except json.JSONDecodeError as exc:
        print(f"stats worker: the start message is not JSON: {exc}", file=sys.stderr)
        return 2
    run(message, sys.stdin.buffer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
