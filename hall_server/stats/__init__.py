"""Statistics and 考核 (issue 18): the figures the district bureau appraises windows and clerks by.

Owns: the statistics' own database, stats.db beside hall.db (schema.py), and the stats projector (projector.py:
a thread, or in the server the child process worker.py; apply.py, facts.py), which follows the event log read-only
and keeps fact and rollup tables up to date, each batch in one transaction with its cursor (a ticket's day is the
hall's service day, as its queue's); the figures' names and definitions and the appraisal score (figures.py);
the reports built from those tables (query.py, export.py); `onewindow stats rebuild`.

May import: hall_server.store only. The hall's configuration reaches it as plain data (`Dims`: the matters' group,
department and expected minutes, the time zone) and the working-day count as a callable, passed in by runtime.py.
seed.py is apart: a development tool (`onewindow stats seed`) that writes a year as the engine would, so it reads the
configuration, the calendar and the cases' helpers; nothing of the running hall imports it.
"""
