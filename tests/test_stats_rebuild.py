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
from hall_server.stats.schema import TABLES, cursor

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


def snapshot(hall: Hall) -> dict:
    """Every stats table's rows, and the cursor."""
    conn = hall.stats.reader()
    try:
        out = {"cursor": cursor(conn)}
        for t in TABLES:
            out[t] = sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {t}"))
        return out
    finally:
        conn.close()


def drain(hall: Hall, limit: int = 1000) -> None:
    """The projector's batches of `limit` seqs until the log's end, here and now."""
    while hall.stats.projector.step_now(limit)[0]:
        pass


def _kill_script(data_dir: Path, commit_first: int, apply: int) -> str:
    """A process that commits one batch of `commit_first` events (if any), then applies `apply` more events in a
    second transaction and is killed with SIGKILL before that commit."""
    return textwrap.dedent(f"""
        import os, signal
        from hall_server.config import load_config
        from hall_server.runtime import Hall
        from hall_server.stats.apply import step
        from hall_server.stats.schema import open_stats
        from hall_server.store.database import connect
        hall = Hall(load_config({str(DISTRICT)!r}), {str(data_dir)!r})
        conn, log_conn = open_stats(hall.stats.path), connect(hall.store.path, readonly=True)
        if {commit_first}:
            conn.execute("BEGIN IMMEDIATE")
            step(conn, log_conn, hall.stats.dims, {commit_first})
            conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")
        n, _ = step(conn, log_conn, hall.stats.dims, {apply})
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
        partial = snapshot(hall)
        assert partial["cursor"] == 40                    # the killed batch left nothing, cursor included
        assert partial["stats_ticket"]                    # the first batch's facts are there
        drain(hall, 17)
        live = snapshot(hall)
        assert live["stats_days"] and any(r[1] for r in live["stats_days"])    # a day was rolled up
        hall.stats.rebuild()
        assert snapshot(hall) == live
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
        assert snapshot(hall) == {"cursor": 0, **{t: [] for t in TABLES}}
        hall.stats.projector.step_now(10)                 # a batch, then a "crash"
    finally:
        hall.close()
    hall = Hall(CFG, tmp_path, clock)                     # the restart goes on from the cursor
    try:
        assert snapshot(hall)["cursor"] == 10
        drain(hall)
        live = snapshot(hall)
        hall.stats.rebuild()
        assert snapshot(hall) == live
    finally:
        hall.close()


def test_the_cli_rebuilds_and_says_what_it_did(tmp_path, capsys):
    clock = FakeClock(MORNING)
    hall = Hall(CFG, tmp_path, clock)
    traffic(hall, clock, days=2, per_day=6)
    drain(hall)
    live = snapshot(hall)
    events = hall.store.read.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    hall.close()
    assert cli(["stats", "rebuild", "--config", str(DISTRICT), "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "events replayed" in out and "12 tickets" in out
    hall = Hall(CFG, tmp_path, clock)
    try:
        after = snapshot(hall)
        assert after == live and after["cursor"] == events       # nothing else written by the rebuild
    finally:
        hall.close()
    assert cli(["stats", "rebuild", "--data-dir", str(tmp_path / "none")]) == 2
    assert os.path.exists(tmp_path / "hall.db")


def test_an_event_the_projector_cannot_read_is_left_out_and_the_rest_applied(tmp_path, monkeypatch):
    from hall_server.stats import apply, facts

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
        monkeypatch.setattr(apply, "SKIPPED", [])
        hall.stats.projector.step_now()
        conn = hall.stats.reader()
        numbers = [r[0] for r in conn.execute(
            "SELECT t.number FROM stats_ticket s JOIN tickets t ON t.id = s.ticket_id ORDER BY s.ticket_id")]
        assert numbers == ["S001", "S003"] and len(apply.SKIPPED) == 1
        assert cursor(conn) == conn.execute("SELECT MAX(seq) FROM events").fetchone()[0]
        conn.close()
    finally:
        hall.close()


def test_the_servers_projector_is_a_process_of_its_own_restarted_when_killed_and_gone_with_the_server(tmp_path):
    """`onewindow serve` runs the projector as a child process (off the server's interpreter lock): the figures
    follow the tickets; a killed projector is started again and catches up; a killed server leaves no projector."""
    import time

    from serverproc import ServerProcess, always_open_config

    def wait(cond, what):
        end = time.monotonic() + 60
        while not (value := cond()):
            assert time.monotonic() < end, f"timed out waiting for {what}"
            time.sleep(0.05)
        return value

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]

    srv = ServerProcess(tmp_path / "data", config=always_open_config(tmp_path, devices=False)).start()
    try:
        with srv.client() as c:
            admin = srv.admin()
            health = lambda: c.get("/api/v1/health").json()  # noqa: E731

            def issued_today() -> int:
                day = health()["service_day"]
                r = c.get("/api/v1/stats", params={"from": day, "to": day, "by": "window"}, headers=admin)
                return r.json()["totals"]["issued"]

            def issue(n: int) -> None:
                for _ in range(n):
                    assert c.post("/api/v1/tickets", json={"matter": "WJ-001"}, headers=admin).status_code == 201

            issue(3)
            first = wait(lambda: (s := health()["stats"])["lag_events"] == 0 and issued_today() == 3 and s,
                         "the projector to catch up")
            assert first["mode"] == "process" and first["starts"] == 1 and first["pid"] != srv.proc.pid
            os.kill(first["pid"], signal.SIGKILL)
            issue(2)
            again = wait(lambda: (s := health()["stats"])["starts"] == 2 and s["lag_events"] == 0 and s,
                         "a new projector to catch up")
            assert again["pid"] != first["pid"] and issued_today() == 5
        srv.kill()                          # the server dies at once: its projector reads the end of its stdin
        wait(lambda: not alive(again["pid"]), "the orphaned projector to exit")
    finally:
        srv.kill()


def test_a_ticket_issued_after_midnight_counts_on_the_service_day_of_its_queue(tmp_path):
    """A 24-hour hall's day starts at its rollover hour (03:00): a ticket issued at 02:00 joined the queue of the day
    before, and its figures are that day's — the day `GET /api/v1/health` says and the dashboard's today asks for."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from hall_server.clock import service_day

    shanghai = ZoneInfo(CFG.hall.timezone)
    clock = FakeClock(datetime(2026, 3, 10, 2, 0, tzinfo=shanghai))
    hall = Hall(CFG, tmp_path, clock)
    try:
        hall.store.write_sync(lambda c: hall.engine.issue(c, matter="SH-001", actor="staff"))
        clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=shanghai))
        hall.store.write_sync(lambda c: hall.engine.issue(c, matter="SH-001", actor="staff"))
        hall.stats.projector.step_now()
        conn = hall.stats.reader()
        days = [r[0] for r in conn.execute("SELECT day FROM stats_ticket ORDER BY ticket_id")]
        conn.close()
        assert days == ["2026-03-09", "2026-03-10"]
        assert service_day(datetime(2026, 3, 10, 2, 0, tzinfo=shanghai), CFG.hall.timezone,
                           CFG.hall.rollover_hour).isoformat() == days[0]
    finally:
        hall.close()
