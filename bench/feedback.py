"""好差评's cost (issue 17), in process: what the rating prompt adds to the transaction that finishes a ticket
(the finish change timed inside the writer, with and without the engine's on_finish hook), and the dashboard's
satisfaction figures over a month of a busy district centre's ratings (30,000 evaluations, 6,000 not rated,
300 open 差评 records) read through the store's read connection.

    .venv/bin/python bench/feedback.py [--tickets 2000] [--month 30000]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hall_server.clock import FakeClock
from hall_server.config import load_config, parse_config, without_opening_hours
from hall_server.feedback import views
from hall_server.runtime import Hall

ROOT = Path(__file__).resolve().parent.parent
DISTRICT = ROOT / "config" / "district-centre.toml"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def finish_costs(n: int, hooked: bool) -> list[float]:
    import tomllib
    cfg = parse_config(tomllib.loads(without_opening_hours(DISTRICT.read_text(encoding="utf-8"))))
    cfg = cfg.model_copy(update={"devices": (), "seats": ()})
    clock = FakeClock(datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    with tempfile.TemporaryDirectory() as d:
        h = Hall(cfg, d, clock)
        if not hooked:
            h.engine.on_finish = None
        w = h.store.write_sync
        w(lambda c: h.engine.login(c, 1, username="clerk1"))
        w(lambda c: h.engine.set_state(c, 1, "open", actor="clerk1"))
        out: list[float] = []
        for _ in range(n):
            w(lambda c: h.engine.issue(c, matter="WJ-001", actor="admin"))
            clock.advance(seconds=3)
            w(lambda c: h.engine.call_next(c, 1, actor="clerk1"))
            clock.advance(seconds=40)

            def timed(c):
                t0 = time.perf_counter()
                ch = h.engine.finish(c, 1, actor="clerk1")
                out.append(time.perf_counter() - t0)
                return ch
            w(timed)
        h.close()
    return out


def summary_cost(month: int, rounds: int = 20) -> tuple[list[float], dict]:
    cfg = load_config(DISTRICT).model_copy(update={"devices": (), "seats": ()})
    tz = ZoneInfo("Asia/Shanghai")
    clock = FakeClock(datetime(2026, 11, 28, 16, 0, tzinfo=tz))
    rng = random.Random(7)
    matters = [m for m in cfg.matters]
    windows = [w.number for w in cfg.windows]
    with tempfile.TemporaryDirectory() as d:
        h = Hall(cfg, d, clock)
        conn = h.store.read
        start = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
        span = (clock.now() - start).total_seconds()
        conn.execute("BEGIN")
        for i in range(month + month // 5):
            m = rng.choice(matters)
            at = (start + timedelta(seconds=rng.random() * span)).isoformat(timespec="milliseconds")
            wnd = rng.choice(windows)
            rated = i < month
            pid = conn.execute(
                "INSERT INTO rating_prompts (ticket_id, window, clerk, matter, departments, number, created_at,"
                " expires_at, state, why) VALUES (NULL,?,?,?,?,?,?,?,?,?) RETURNING id",
                (wnd, f"clerk{wnd}", m.code, json.dumps(list(m.deciders), ensure_ascii=False), f"A{i % 999:03d}",
                 at, at, "rated" if rated else "not_rated", None if rated else "timeout")).fetchone()[0]
            if rated:
                level = rng.choices([5, 4, 3, 2, 1], [70, 20, 6, 3, 1])[0]
                eid = conn.execute(
                    "INSERT INTO evaluations (prompt_id, window, clerk, matter, departments, number, level, reasons,"
                    " channel, at, named) VALUES (?,?,?,?,?,?,?,'[]','tablet',?,0) RETURNING id",
                    (pid, wnd, f"clerk{wnd}", m.code, json.dumps(list(m.deciders), ensure_ascii=False),
                     f"A{i % 999:03d}", level, at)).fetchone()[0]
                if level <= 2 and rng.random() < 0.3:
                    conn.execute("INSERT INTO badratings (number, evaluation_id, opened_at, state, due, window, clerk,"
                                 " matter, departments, level, named, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,0,?)",
                                 (f"CP-{eid}", eid, at, rng.choice(["verify", "rectify", "callback", "recheck"]),
                                  "2026-12-01", wnd, f"clerk{wnd}", m.code, json.dumps(list(m.deciders)), level, at))
        conn.execute("COMMIT")
        first = clock.now().astimezone(tz).date().replace(day=1)
        out = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            s = views.summary(conn, h.feedback.ctx, first, clock.now().astimezone(tz).date())
            out.append(time.perf_counter() - t0)
        h.close()
    return out, s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=2000)
    ap.add_argument("--month", type=int, default=30000)
    args = ap.parse_args()
    for hooked in (False, True):
        xs = finish_costs(args.tickets, hooked)
        print(f"finish change {'with' if hooked else 'without'} the rating prompt: "
              f"p50 {pct(xs, 50) * 1000:.3f} ms  p99 {pct(xs, 99) * 1000:.3f} ms  ({len(xs)} tickets)")
    xs, s = summary_cost(args.month)
    print(f"satisfaction figures over a month ({s['totals']['rated']} rated, {s['totals']['not_rated']} not rated, "
          f"{s['badratings']['open']} open 差评): p50 {pct(xs, 50) * 1000:.1f} ms  p99 {pct(xs, 99) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
