"""A crash mid-update leaves aggregates that `stats rebuild` and the running server agree on (issue 18, faults):
a process killed with SIGKILL in the middle of a projector batch (after some of the batch's events were applied,
before its commit), and one killed between batches; then the projector goes on from its cursor and ends exactly
where a rebuild from the log ends. Also `onewindow stats rebuild` itself: what it prints, and the same figures."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

from conftest import DISTRICT, MORNING

from hall_server.cli import main as cli
from hall_server.clock import FakeClock
from hall_server.config import load_config
from hall_server.runtime import Hall
from hall_server.stats.projector import TABLES, cursor, step
from hall_server.store.database import Change

ROOT = Path(__file__).resolve().parent.parent
CFG = load_config(DISTRICT)


def traffic(hall: Hall, clock: FakeClock, days: int = 2, per_day: int = 12) -> None:
    e = hall.engine
    w = lambda fn: hall.store.write_sync(fn)  # noqa: E731
    for day in range(days):
        w(lambda c: e.login(c, 1, username="ca"))
        w(lambda c: e.set_state(c, 1, "open", actor="ca"))
        for i in range(per_day):
            w(lambda c, i=i: e.issue(c, matter=["SH-001", "WJ-001", "RS-001"][i % 3], actor="kiosk"))
            clock.advance(seconds=50)
        for i in range(per_day - 2):
            clock.advance(seconds=90)
            w(lambda c: e.call_next(c, 1, actor="ca"))
            clock.advance(seconds=60 + 7 * i)
            w(lambda c, i=i: e.skip(c, 1, actor="ca") if i % 4 == 3 else e.finish(c, 1, actor="ca"))
        clock.set(MORNING + timedelta(days=day + 1))


def snapshot(conn) -> dict:
    """Every stats table's rows, and the cursor."""
    out = {"cursor": cursor(conn)}
    for t in TABLES:
        out[t] = sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {t}"))
    return out


def _kill_script(data_dir: Path, commit_first: int, apply: int) -> str:
    """A process that commits one batch of `commit_first` events (if any), then applies `apply` more events in a
    second transaction and is killed with SIGKILL before that commit."""
    return textwrap.dedent(f"""
        import os, signal
        from hall_server.config import load_config
        from hall_server.runtime import Hall
        from hall_server.stats import projector
        hall = Hall(load_config({str(DISTRICT)!r}), {str(data_dir)!r})
        conn = hall.store._writer_conn
        if {commit_first}:
            conn.execute("BEGIN IMMEDIATE")
            projector.step(conn, hall.stats.dims, {commit_first})
            conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")
        n, _ = projector.step(conn, hall.stats.dims, {apply})
        assert n == {apply}, n
        print("applied", n, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)


def _killed(data_dir: Path, commit_first: int, apply: int) -> None:
    r = subprocess.run([sys.executable, "-c", _kill_script(data_dir, commit_first, apply)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert "applied" in r.stdout


def test_sigkill_mid_batch_then_catch_up_equals_a_rebuild(tmp_path):
    clock = FakeClock(MORNING)
    hall = Hall(CFG, tmp_path, clock)
    traffic(hall, clock)
    hall.close()
    _killed(tmp_path, commit_first=40, apply=25)         # killed with 25 events applied, uncommitted
    hall = Hall(CFG, tmp_path, clock)
    try:
        assert cursor(hall.store.read) == 40              # the killed batch left nothing, cursor included
        partial = snapshot(hall.store.read)
        assert partial["stats_ticket"]                    # the first batch's facts are there
        while hall.store.write_sync(lambda c: Change(step(c, hall.stats.dims, 17)))[0]:
            pass
        live = snapshot(hall.store.read)
        assert live["stats_days"] and any(r[1] for r in live["stats_days"])    # a day was rolled up
        hall.stats.rebuild()
        assert snapshot(hall.store.read) == live
    finally:
        hall.close()


def test_sigkill_in_the_first_batch_and_between_batches(tmp_path):
    clock = FakeClock(MORNING)
    hall = Hall(CFG, tmp_path, clock)
    traffic(hall, clock, days=1)
    hall.close()
    _killed(tmp_path, commit_first=0, apply=30)          # nothing committed at all
    hall = Hall(CFG, tmp_path, clock)
    try:
        assert snapshot(hall.store.read) == {"cursor": 0, **{t: [] for t in TABLES}}
        hall.store.write_sync(lambda c: Change(step(c, hall.stats.dims, 10)))    # a batch, then a "crash"
    finally:
        hall.close()
    hall = Hall(CFG, tmp_path, clock)                     # the restart goes on from the cursor
    try:
        assert cursor(hall.store.read) == 10
        while hall.store.write_sync(lambda c: Change(step(c, hall.stats.dims)))[0]:
            pass
        live = snapshot(hall.store.read)
        hall.stats.rebuild()
        assert snapshot(hall.store.read) == live
    finally:
        hall.close()


def test_the_cli_rebuilds_and_says_what_it_did(tmp_path, capsys):
    clock = FakeClock(MORNING)
    hall = Hall(CFG, tmp_path, clock)
    traffic(hall, clock, days=2, per_day=6)
    while hall.store.write_sync(lambda c: Change(step(c, hall.stats.dims)))[0]:
        pass
    live = snapshot(hall.store.read)
    events = hall.store.read.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    hall.close()
    assert cli(["stats", "rebuild", "--config", str(DISTRICT), "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "events replayed" in out and "12 tickets" in out
    hall = Hall(CFG, tmp_path, clock)
    try:
        after = snapshot(hall.store.read)
        assert after == live and after["cursor"] == events       # nothing else written by the rebuild
    finally:
        hall.close()
    assert cli(["stats", "rebuild", "--data-dir", str(tmp_path / "none")]) == 2
    assert os.path.exists(tmp_path / "hall.db")


def test_an_event_the_projector_cannot_read_is_left_out_and_the_rest_applied(tmp_path, monkeypatch):
    from hall_server.stats import facts, projector

    clock = FakeClock(MORNING)
    hall = Hall(CFG, tmp_path, clock)
    try:
        for _ in range(3):
            hall.store.write_sync(lambda c: hall.engine.issue(c, matter="SH-001", actor="kiosk"))
        real = facts.ticket_event

        def unreadable(conn, e, dims, dirty):
            if e["data"].get("number") == "S002":
                raise KeyError("an event of a shape the projector does not know")
            return real(conn, e, dims, dirty)
        monkeypatch.setattr(facts, "ticket_event", unreadable)
        monkeypatch.setattr(projector, "SKIPPED", [])
        hall.store.write_sync(lambda c: Change(step(c, hall.stats.dims)))
        numbers = [r[0] for r in hall.store.read.execute(
            "SELECT t.number FROM stats_ticket s JOIN tickets t ON t.id = s.ticket_id ORDER BY s.ticket_id")]
        assert numbers == ["S001", "S003"] and len(projector.SKIPPED) == 1
        assert cursor(hall.store.read) == hall.store.read.execute("SELECT MAX(seq) FROM events").fetchone()[0]
    finally:
        hall.close()
