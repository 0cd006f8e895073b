"""A seeded year of a district centre: the tickets, cases, ratings, 差评, complaints and seat events of a year of
traffic, written straight into a hall store with exactly the events (types and data keys) and the state rows
the engine writes, so that `onewindow stats rebuild` computes the figures from them as from real traffic.

    python -m hall_server.stats.seed --db var/seed-year.sqlite [--scale 0.01] [--seed 1] [--end 2026-11-30]

Scale 1 is the issue's year: 1,000,000 tickets, 200,000 cases, 100,000 ratings (approximately), over the
open days of the hall's calendar (weekdays and 调休 Saturdays full days, other Saturdays the half day of
[hall.opening], statutory holidays closed). Arrivals follow a day shape (morning and afternoon peaks, a
lunch dip); each window serves one ticket at a time (the pool of windows serving a matter, first free first),
pauses for lunch in two shifts and now and then, and its clerk leaves the seat a few times a day.

One thing is not as in a real hall, and it is said here: a million tickets through 22 windows leave about
three minutes of a window per ticket, where the matters' expected minutes average near ten. Handling times
are therefore the expected minutes scaled per window (so that each window is ~80 % busy) — waits stay
realistic, and `handle_mean_s` against `expected_handle_s` shows the scale. At --scale 0.3 and below the
scale is 1 (capped) and handling times are the expected minutes' own.

Not written: the SMS outbox, the locker compartments and their locker.* events (a result by locker is
ready/delivered with its compartment label as the cases' events say), the deadline colours of 差评 and
complaint steps (case deadlines are: case.deadline with its alert), evidence snapshots. Deterministic in
--seed; fast: one connection, synchronous=OFF, executemany in transactions of a day.
"""
from __future__ import annotations

from .base import CASES, COLUMNS, DISTRICT, RATINGS, SQL, TICKETS, fake_name, fake_person, iso
from .cli import main
from .seeder import Seeder, seed

__all__ = ["CASES", "COLUMNS", "DISTRICT", "RATINGS", "SQL", "TICKETS", "Seeder", "fake_name", "fake_person", "iso",
           "main", "seed"]
