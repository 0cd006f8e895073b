"""The durable store: the hall's SQLite database (WAL, one writer thread, group commit), its schema and
migrations, the append-only event log and the in-process bus that publishes events after commit.

May import: nothing of hall_server but itself. Every other part receives a `Store` and an `EventBus`.
"""
