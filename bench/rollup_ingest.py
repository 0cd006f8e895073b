"""Issue 19: shipping halls' event logs into the district's PostgreSQL — ingest rate, 30 halls' lag, calling.

    .venv/bin/python bench/rollup_ingest.py [--only ingest|halls|calling] [--write docs/benchmarks.md]

A private PostgreSQL cluster (hall_server/rollup/localpg.py, the same as `make district`; fsync ON, stock
settings) in a temporary directory under var/bench, Unix socket; every figure goes through the real shipper
(hall_server/rollup/shipper.py: COPY into a temporary table, INSERT … ON CONFLICT DO NOTHING, the halls update
and pg_notify in one transaction per batch).

  ingest   one hall's SQLite with --events events (shapes and sizes of a real hall's events), shipped from
           scratch: events/s from the shipper's start until PostgreSQL's last_seq is the hall's last seq.
  halls    --halls halls (30), one process: each hall's own SQLite with a writer thread appending events at
           --rate per second (Poisson, one transaction each, as the store commits) and waking its shipper as the
           bus does; a monitor polls halls.last_seq every 20 ms. Lag of an event = when PostgreSQL's last_seq
           first covered it − when the hall committed it (so ±20 ms).
  calling  bench/run.py's mixed phase (bench/load.py: call-next round-robin over 22 windows + issues) against
           the district hall server process, once without [rollup] and once with it (shipping to the cluster):
           call-next p99 compared.
Results also go to bench/out/rollup_ingest.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import load
import psycopg
from lib import ROOT, Server, free_port, fresh_dir, ms, pct

from hall_server.rollup.config import RollupPolicy
from hall_server.rollup.localpg import PgCluster
from hall_server.rollup.shipper import Shipper
from hall_server.store.database import Store
from hall_server.store.events import EventBus

START, END = "<!-- bench/rollup_ingest.py: start -->", "<!-- bench/rollup_ingest.py: end -->"
ADMIN_PASSWORD = "bench-admin-password"
TARGET_RATE, TARGET_LAG_P99 = 20_000, 2.0
MATTERS = ["WJ-001", "SH-001", "YB-003", "FY-001", "RS-002"]
TYPES = ["ticket.issued", "ticket.called", "ticket.started", "ticket.finished", "rating.submitted",
         "device.health", "window.opened", "case.received"]


def fake_event(rnd: random.Random, i: int, at: datetime) -> tuple:
    """An event shaped like a hall's: its type, columns and a JSON payload of a realistic size (100-400 B)."""
    t = TYPES[i % len(TYPES)] if rnd.random() < 0.8 else rnd.choice(TYPES)
    tid = 1000 + i // 4
    data = {"ticket_id": tid, "number": f"S{tid % 1000:03d}", "matter": rnd.choice(MATTERS),
            "matter_name": "城乡居民基本医疗保险参保登记", "window": rnd.randint(1, 22), "priority": "normal",
            "waiting_ahead": rnd.randint(0, 30), "estimated_wait_s": rnd.randint(0, 1800)}
    if t == "case.received":
        data.update(case_id=i, case_number=f"XL-20261204-{i % 10000:04d}", applicant_masked="王*",
                    id_masked="420***********1234", phone_masked="138****5678")
    return (t, at.isoformat(timespec="milliseconds"), "clerk3" if "ticket" in t else None, data["window"], tid,
            data.get("case_id"), json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def make_hall_db(path: Path, n: int, seed: int = 1) -> None:
    Store(path).close()                 # the hall's own schema (its migrations)
    conn = sqlite3.connect(path)
    rnd = random.Random(seed)
    at = datetime(2026, 12, 4, 8, 30, tzinfo=UTC)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO events (type, at, actor, window, ticket_id, case_id, data) VALUES (?,?,?,?,?,?,?)",
                     (fake_event(rnd, i, at + timedelta(milliseconds=50 * i)) for i in range(n)))
    conn.execute("COMMIT")
    conn.close()


def hall_row(code: str) -> dict:
    return {"code": code, "name": f"测试大厅 {code}", "level": "community",
            "info": {"name_en": code, "windows": [], "departments": [], "timezone": "Asia/Shanghai",
                     "public_url": ""}}


def shipper(url: str, code: str, db: Path, bus: EventBus, **policy) -> Shipper:
    return Shipper(RollupPolicy(url=url, **policy), hall_row(code), db, bus, lambda: datetime.now(UTC))


# -- ingest ---------------------------------------------------------------------------------------------
def ingest(cluster: PgCluster, work: Path, n: int, batch_sizes: list[int]) -> list[dict]:
    db = work / "ingest.db"
    print(f"[ingest] writing {n:,} events into a hall's SQLite …", flush=True)
    make_hall_db(db, n)
    size = db.stat().st_size
    out = []
    for b in batch_sizes:
        url = cluster.create_database(f"ingest_{b}")
        bus = EventBus()
        bus.latest_seq = n
        s = shipper(url, "bench-hall", db, bus, batch_size=b, interval_s=0.2)
        t0 = time.perf_counter()
        s.start()
        while s.acked_seq != n:
            if s.error:
                raise RuntimeError(s.error)
            time.sleep(0.005)
        el = time.perf_counter() - t0
        s.stop_sync()
        with psycopg.connect(url) as conn:
            count = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        assert count == n, (count, n)
        r = {"events": n, "batch_size": b, "seconds": el, "rate": n / el, "sqlite_mb": size / 2**20,
             "batches": s.batches}
        print(f"[ingest] batch {b}: {n:,} events in {el:.2f} s = {n / el:,.0f} events/s", flush=True)
        out.append(r)
    return out


# -- 30 halls at a peak hour ----------------------------------------------------------------------------
def halls(cluster: PgCluster, work: Path, n_halls: int, rate: float, seconds: float) -> dict:
    url = cluster.create_database("halls30")
    committed: dict[str, dict[int, float]] = {}
    seen: dict[str, list[tuple[float, int]]] = {}
    stop = threading.Event()
    shippers, writers = [], []
    for h in range(n_halls):
        code = f"hall-{h:02d}"
        db = work / f"{code}.db"
        make_hall_db(db, 200, seed=h)           # a morning's first events, shipped at the start
        bus = EventBus()
        bus.latest_seq = 200
        s = shipper(url, code, db, bus)          # the defaults: batch 1000, timer 5 s, woken by every commit
        shippers.append(s)
        committed[code] = {}
        seen[code] = []

        def write(code=code, db=db, s=s, bus=bus, seed=h) -> None:
            rnd = random.Random(1000 + seed)
            conn = sqlite3.connect(db, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            i = 200
            nxt = time.perf_counter()
            while not stop.is_set():
                nxt += rnd.expovariate(rate)
                time.sleep(max(0.0, nxt - time.perf_counter()))
                ev = fake_event(rnd, i, datetime.now(UTC))
                seq = conn.execute("INSERT INTO events (type, at, actor, window, ticket_id, case_id, data) "
                                   "VALUES (?,?,?,?,?,?,?) RETURNING seq", ev).fetchone()[0]
                committed[code][seq] = time.perf_counter()
                bus.latest_seq = seq
                s.wake()                         # what the hall's bus does after a commit
                i += 1
            conn.close()
        writers.append(threading.Thread(target=write, daemon=True))
    for s in shippers:
        s.start()
    for w in writers:
        w.start()

    written = threading.Event()             # every writer has stopped: committed[] is final

    def monitor() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            last: dict[str, int] = {}
            while True:
                t = time.perf_counter()
                for code, seq in conn.execute("SELECT code, last_seq FROM halls"):
                    if seq != last.get(code):
                        last[code] = seq
                        seen[code].append((t, seq))
                if written.is_set() and (all(last.get(c, 0) >= max(committed[c], default=0) for c in committed)
                                         or time.perf_counter() - stopped[0] > 30):
                    return
                time.sleep(0.02)
    stopped = [0.0]
    m = threading.Thread(target=monitor, daemon=True)
    print(f"[halls] {n_halls} halls, {rate:g} events/s each ({n_halls * rate:g}/s in all), {seconds:g} s …",
          flush=True)
    m.start()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    stopped[0] = time.perf_counter()
    for w in writers:
        w.join(10)
    written.set()
    m.join(60)
    for s in shippers:
        s.stop_sync()
    lags = []
    for code, commits in committed.items():
        marks = seen[code]
        j = 0
        for seq in sorted(commits):
            while j < len(marks) and marks[j][1] < seq:
                j += 1
            if j == len(marks):
                lags.append(float("inf"))
                continue
            lags.append(max(0.0, marks[j][0] - commits[seq]))
    with psycopg.connect(url) as conn:
        dup = conn.execute("SELECT count(*) - count(DISTINCT (hall, seq)) FROM events").fetchone()[0]
        total = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    out = {"halls": n_halls, "rate_per_hall": rate, "seconds": time.perf_counter() - t0, "events": len(lags),
           "stored": total, "duplicates": dup, "lag_p50": pct(lags, 50), "lag_p99": pct(lags, 99),
           "lag_max": max(lags, default=float("nan")), "batches": sum(s.batches for s in shippers)}
    print(f"[halls] {len(lags):,} events; lag p50 {ms(out['lag_p50'])} ms, p99 {ms(out['lag_p99'])} ms, "
          f"max {ms(out['lag_max'])} ms; {out['batches']:,} batches", flush=True)
    return out


# -- call-next with and without shipping ----------------------------------------------------------------
def calling(cluster: PgCluster, work: Path, seconds: float, call_rate: float, issue_rate: float) -> dict:
    from hall_server.config import load_config
    cfg = load_config(ROOT / "config/district-centre.toml")
    windows = [w.number for w in cfg.windows]
    own = {w.number: [m.code for m in cfg.matters if m.group == w.serves[0] or m.code == w.serves[0]]
           for w in cfg.windows}
    url = cluster.create_database("calling")
    out = {}
    for label in ("without", "with"):
        d = fresh_dir(work / f"calling-{label}")
        config = d / "hall.toml"
        text = (ROOT / "config/district-centre.toml").read_text(encoding="utf-8")
        if label == "with":
            text += f'\n[rollup]\nurl = "{url}"\n'
        config.write_text(text, encoding="utf-8")
        srv = Server(d, free_port(), ADMIN_PASSWORD, str(config))
        srv.start()
        try:
            print(f"[calling] {label} [rollup]: call-next {call_rate}/s + issues {issue_rate}/s, {seconds} s …",
                  flush=True)
            r = asyncio.run(_mixed(srv.port, windows, own, seconds, call_rate, issue_rate))
            if label == "with":
                h = json.loads(__import__("urllib.request").request.urlopen(
                    f"http://127.0.0.1:{srv.port}/api/v1/health", timeout=5).read())
                r["rollup"] = h.get("rollup")
        finally:
            srv.stop()
        out[label] = {k: r[k] for k in ("calls", "call_rate", "call_p50", "call_p99", "call_max", "issues",
                                        "issue_p99", "resp_to_event_p99")}
        out[label]["rollup"] = r.get("rollup")
        print(f"[calling] {label}: call-next p50 {ms(r['call_p50'])} ms, p99 {ms(r['call_p99'])} ms", flush=True)
    return out


async def _mixed(port: int, windows: list[int], own: dict, seconds: float, call_rate: float, issue_rate: float):
    tokens = await load.setup_accounts(port, ADMIN_PASSWORD, windows)
    await load.open_windows(port, tokens, windows)
    await load.seed(port, tokens, own, 15)
    return await load.mixed_phase(port, tokens, windows, own, seconds, call_rate, issue_rate)


# -- report ---------------------------------------------------------------------------------------------
def report(res: dict) -> str:
    lines = [START, "## District roll-up (issue 19): shipping into PostgreSQL", "",
             f"Measured {res['at']} on {res['machine']} (load before {res['load_before']}); PostgreSQL "
             f"{res['pg_version']} (a private cluster, stock settings, fsync on, Unix socket), psycopg "
             f"{psycopg.__version__}. Command: `{res['command']}`.", "",
             "| measure | result | target | verdict |", "|---|---|---|---|"]
    for r in res.get("ingest", []):
        ok = r["rate"] >= TARGET_RATE
        lines.append(f"| ingest of one hall's log from scratch, batch {r['batch_size']} (COPY + INSERT … ON CONFLICT "
                     f"DO NOTHING, one transaction per batch) | {r['events']:,} events in {r['seconds']:.2f} s = "
                     f"**{r['rate']:,.0f} events/s** | ≥ {TARGET_RATE:,}/s | {'pass' if ok else '**FAIL**'} |")
    h = res.get("halls")
    if h:
        ok = h["lag_p99"] <= TARGET_LAG_P99 and not h["duplicates"] and h["stored"] >= h["events"]
        lines.append(f"| {h['halls']} halls at a peak hour, {h['rate_per_hall']:g} events/s each (Poisson, "
                     f"{h['halls'] * h['rate_per_hall']:g}/s in all), {h['seconds']:.0f} s, 30 shippers in one "
                     f"process | shipping lag p50 {ms(h['lag_p50'])} ms, **p99 {ms(h['lag_p99'])} ms**, max "
                     f"{ms(h['lag_max'])} ms; {h['events']:,} events, {h['duplicates']} duplicates, "
                     f"{h['batches']:,} batches | p99 ≤ 2 s | {'pass' if ok else '**FAIL**'} |")
    c = res.get("calling")
    if c:
        a, b = c["without"], c["with"]
        same = b["call_p99"] <= max(a["call_p99"] * 1.25, a["call_p99"] + 0.003)
        lines.append(f"| call-next under bench/run.py's mixed load ({a['call_rate']:.0f} calls/s over 22 windows + "
                     f"issues), district hall server process | without [rollup]: p50 {ms(a['call_p50'])} ms, p99 "
                     f"{ms(a['call_p99'])} ms; **with [rollup]: p50 {ms(b['call_p50'])} ms, p99 "
                     f"{ms(b['call_p99'])} ms** (shipping lag at the end: {(b.get('rollup') or {}).get('lag_events')}"
                     f" events) | unchanged | {'pass' if same else '**FAIL**'} |")
    lines += ["", "How: `ingest` and `halls` run the real Shipper (hall_server/rollup/shipper.py) in this process "
              "against SQLite files written with the hall's own schema; `halls` wakes each shipper after every "
              "commit as the hall's bus does and measures lag as the time from the hall's commit until a 20 ms "
              "poll of `halls.last_seq` sees it; `calling` is bench/load.py's mixed phase against "
              "`python -m hall_server serve` twice. 'unchanged' is read as: p99 with shipping within 25 % or 3 ms "
              "of p99 without, on a 2-core box shared with other work.", "", END]
    return "\n".join(lines)


def write(path: Path | None, res: dict) -> None:
    if path is None:
        return
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    section = report(res)
    if START in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["ingest", "halls", "calling"])
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--batch", type=int, action="append", help="batch sizes for ingest (default 1000 and 5000)")
    ap.add_argument("--halls", type=int, default=30)
    ap.add_argument("--rate", type=float, default=5.0, help="events per second per hall")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--calling-s", type=float, default=20.0)
    ap.add_argument("--call-rate", type=float, default=50.0)
    ap.add_argument("--issue-rate", type=float, default=50.0)
    ap.add_argument("--write", type=Path, help="put the section into this markdown file")
    ap.add_argument("--report-only", action="store_true", help="write the section from bench/out/rollup_ingest.json")
    args = ap.parse_args()
    out_dir = ROOT / "bench" / "out"
    if args.report_only:
        write(args.write, json.loads((out_dir / "rollup_ingest.json").read_text()))
        return 0
    base = ROOT / "var" / "bench"
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rollup-", dir=base))
    sock = Path(tempfile.mkdtemp(prefix="owpgb-", dir="/tmp"))      # short: a Unix socket's path
    cluster = PgCluster(sock)
    cluster.start()
    import platform
    res = {"at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "load_before": f"{os.getloadavg()[0]:.1f}",
           "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
           "command": "python bench/rollup_ingest.py " + " ".join(sys.argv[1:])}
    with cluster.connect() as conn:
        res["pg_version"] = conn.execute("SHOW server_version").fetchone()[0]
    prev = out_dir / "rollup_ingest.json"
    if args.only and prev.exists():
        res = {**json.loads(prev.read_text()), **{k: v for k, v in res.items()}}
    try:
        if args.only in (None, "ingest"):
            res["ingest"] = ingest(cluster, work, args.events, args.batch or [1000, 5000])
        if args.only in (None, "halls"):
            res["halls"] = halls(cluster, work, args.halls, args.rate, args.seconds)
        if args.only in (None, "calling"):
            res["calling"] = calling(cluster, work, args.calling_s, args.call_rate, args.issue_rate)
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(sock, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    out_dir.mkdir(exist_ok=True)
    prev.write_text(json.dumps(res, indent=1, default=str))
    write(args.write, res)
    print(report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
