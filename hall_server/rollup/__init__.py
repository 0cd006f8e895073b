"""Shipping the hall's event log to the district's PostgreSQL (issue 19).

Owns: the INGEST schema in PostgreSQL (pgschema.py — the tables every level reads: halls, events, commands),
the shipper (shipper.py: the hall's events, in batches, at least once and idempotent by (hall, seq), resumed
from PostgreSQL's last_seq after either side restarts) and its lag as health/diagnose read it.
May import: hall_server.store, hall_server.config (and psycopg — imported only when a hall has [rollup]).
Nothing here is imported by a hall without `[rollup]`.
"""
