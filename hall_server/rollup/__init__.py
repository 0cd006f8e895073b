"""Shipping the hall's event log to the district's PostgreSQL, and cases across levels through it (issue 19).

Owns: the INGEST schema in PostgreSQL (pgschema.py — the tables every level reads: halls, events, commands),
the shipper (shipper.py: the hall's events, in batches, at least once and idempotent by (hall, seq), resumed
from PostgreSQL's last_seq after either side restarts) and its lag as health/diagnose read it; the command runner
(commands.py: this hall's pending `commands` from the district, each applied once through a callable the Hall
gives it, then settled); other halls' cases read and worked through the district (remote_cases.py: d_cases for a
district officer's worklist and the 跨域 query, an action as a `commands` row).
May import: hall_server.store, hall_server.config, hall_server.errors, hall_server.accounts.auth (the Principal
a request carries) and, for remote_cases.py, hall_server.cases.records and .remote (the public steps' names, the
actions a command may carry); and psycopg — imported only when a hall has [rollup]. Nothing in hall_server.cases
imports this package: a command is applied by hall_server/cases/remote.py, which knows no PostgreSQL.
A hall without `[rollup]` starts nothing of this and never imports psycopg (the API imports remote_cases.py's
names; psycopg is imported inside it, on first use).
"""
