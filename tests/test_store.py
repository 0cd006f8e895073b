"""The store: migrations, durability settings, group commit and the append-only event log."""
from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import wait

import pytest

from hall_server.errors import Conflict
from hall_server.store.database import Change, Store, StoreUnavailable, connect
from hall_server.store.events import append_event, read_events
from hall_server.store.schema import SCHEMA_VERSION, SchemaError, migrate


def test_fresh_database_is_migrated_to_the_current_version(tmp_path):
    conn = connect(tmp_path / "h.db")
    assert migrate(conn) == (0, SCHEMA_VERSION)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert migrate(conn) == (SCHEMA_VERSION, SCHEMA_VERSION)     # idempotent
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"tickets", "windows", "events", "counters", "users", "tokens", "matter_stats", "meta"} <= tables


def test_wal_and_full_synchronous(tmp_path):
    conn = connect(tmp_path / "h.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2     # FULL


def test_migration_from_version_1_keeps_rows(tmp_path):
    import sqlite_utils

    from hall_server.store.schema import MIGRATIONS
    conn = connect(tmp_path / "h.db")
    conn.execute("BEGIN")
    MIGRATIONS[0](sqlite_utils.Database(conn))
    conn.execute("PRAGMA user_version = 1")
    conn.execute("COMMIT")
    conn.execute("INSERT INTO events (type, at, data) VALUES ('x', 'now', '{}')")
    assert migrate(conn) == (1, SCHEMA_VERSION)
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1


def test_newer_database_is_refused_with_advice(tmp_path):
    conn = connect(tmp_path / "h.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaError, match="newer than this onewindow knows"):
        migrate(conn)


def test_events_are_append_only(tmp_path):
    conn = connect(tmp_path / "h.db")
    migrate(conn)
    conn.execute("INSERT INTO events (type, at, data) VALUES ('x', 'now', '{}')")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE events SET type='y'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM events")


def _insert(i: int, fail: bool = False):
    def fn(conn):
        from datetime import UTC, datetime
        ev = append_event(conn, "test", datetime.now(UTC), {"i": i})
        if fail:
            raise Conflict("refused", "拒绝", "refused on purpose")
        return Change(i, [ev])
    return fn


def test_a_refused_change_does_not_undo_the_others_in_its_batch(tmp_path):
    published: list[dict] = []
    store = Store(tmp_path / "h.db", on_commit=published.extend)
    gate = threading.Event()
    store.submit(lambda conn: (gate.wait(5), Change(None))[1])     # holds the writer so the rest batch up
    store.start()
    futs = [store.submit(_insert(i, fail=(i == 3))) for i in range(6)]
    gate.set()
    wait(futs, timeout=10)
    assert [f.exception() is None for f in futs] == [True, True, True, False, True, True]
    assert isinstance(futs[3].exception(), Conflict)
    assert [e["data"]["i"] for e in read_events(store.read, 0)] == [0, 1, 2, 4, 5]
    assert [e["data"]["i"] for e in published] == [0, 1, 2, 4, 5]
    assert store.commits < 6      # the five changes shared fewer commits than changes
    store.close()


def test_events_are_published_only_after_commit_and_in_seq_order(tmp_path):
    seen_committed = []
    store: Store

    def on_commit(events):
        # the read connection already sees what is published
        seen_committed.append(len(read_events(store.read, 0)) >= events[-1]["seq"])

    store = Store(tmp_path / "h.db", on_commit=on_commit)
    store.start()
    for i in range(20):
        store.submit(_insert(i))
    assert store.submit(_insert(99)).result(10) == 99
    assert seen_committed and all(seen_committed)
    seqs = [e["seq"] for e in read_events(store.read, 0)]
    assert seqs == sorted(seqs) and len(seqs) == 21
    store.close()


def test_a_database_error_in_one_change_is_store_unavailable_for_it_alone(tmp_path):
    store = Store(tmp_path / "h.db")
    store.start()

    def broken(conn):
        raise sqlite3.OperationalError("disk I/O error")

    futs = [store.submit(_insert(1)), store.submit(broken), store.submit(_insert(2))]
    wait(futs, timeout=10)
    assert isinstance(futs[1].exception(), StoreUnavailable)
    assert "disk I/O error" in str(futs[1].exception())
    assert [e["data"]["i"] for e in read_events(store.read, 0)] == [1, 2]
    store.close()


def test_a_database_that_cannot_write_fails_every_change_and_recovers(tmp_path):
    store = Store(tmp_path / "h.db")
    store.write_sync(_insert(1))
    store._writer_conn.execute("PRAGMA query_only = ON")    # as a read-only disk would
    store.start()
    fut = store.submit(_insert(2))
    with pytest.raises(StoreUnavailable, match="could not save"):
        fut.result(10)
    store._writer_conn.execute("PRAGMA query_only = OFF")   # the disk is back
    assert store.submit(_insert(3)).result(10) == 3
    assert [e["data"]["i"] for e in read_events(store.read, 0)] == [1, 3]
    store.close()


def test_a_change_whose_caller_gave_up_before_it_ran_is_dropped_and_the_writer_goes_on(tmp_path):
    store = Store(tmp_path / "h.db")
    gate = threading.Event()
    store.submit(lambda conn: (gate.wait(5), Change(None))[1])
    store.start()
    abandoned = store.submit(_insert(1))
    assert abandoned.cancel()                       # e.g. the HTTP client disconnected while queued
    gate.set()
    assert store.submit(_insert(2)).result(10) == 2
    assert [e["data"]["i"] for e in read_events(store.read, 0)] == [2]
    store.close()


def test_a_committed_change_is_acknowledged_even_if_publishing_fails(tmp_path):
    def on_commit(events):
        raise RuntimeError("event loop is gone")

    store = Store(tmp_path / "h.db", on_commit=on_commit)
    store.start()
    assert store.submit(_insert(1)).result(10) == 1      # durable: the log has it for every subscriber
    assert store.submit(_insert(2)).result(10) == 2      # and the writer goes on
    assert [e["data"]["i"] for e in read_events(store.read, 0)] == [1, 2]
    store.close()
