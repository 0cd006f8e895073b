"""The district service (issue 19): `onewindow district serve --db postgresql://…` and `onewindow district rebuild`.

Owns: its FastAPI app (app.py, api.py: /api/v1/district/…, the WebSocket /api/v1/district/events and the /district
board), its command line (cli.py), the one log line per database outage (outage.py), the migrations of the
PROJECTION schema in the district's PostgreSQL (migrations.py, versioned in district_meta under
'projection_version'), the projector (projector.py) that follows the shipped `events` per hall by its cursor
(d_cursor) and applies every registered projection (projections/) in one transaction with it, and the queries the
board reads (queries.py).

May import: hall_server.rollup.pgschema (the INGEST schema it reads) and rollup.config (redact_url),
hall_server.clock, hall_server.errors, hall_server.web.templates (the page and the shared static files), and
psycopg. Nothing of a hall's runtime (no store, no engine, no Hall): the district sees halls only through the rows
they shipped.
"""
