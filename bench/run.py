"""`make bench`: measure the hall server over HTTP on this machine and write docs/benchmarks.md.

Scenarios, each against a real server subprocess (`python -m hall_server serve`, uvicorn, one worker)
on a fresh data dir under var/bench/ (the disk the hall's var/ lives on):
  raw     SQLite's durable single-commit rate on that disk (WAL, synchronous=FULL, 1 INSERT per commit)
  empty   a fresh database: start-up time, call-next + call→event latency under mixed load, issue throughput
  1m      the same after 1,000,000 old tickets were written into the database with the server stopped
Results also go to bench/out/results.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import load
from lib import ROOT, BareServer, Server, free_port, fresh_dir, ms, populate_old_tickets, raw_commit_rate

from hall_server.config import load_config

ADMIN_PASSWORD = "bench-admin-password"
CONFIG = os.environ.get("BENCH_CONFIG", "config/district-centre.toml")
# issue 14: issue rate ≥ 1.0 × the bare endpoint in the same run; health "ok" ≤ 1.5 s after spawn
TARGETS = {"bare_ratio": 1.0, "call_p99": 0.010, "event_p99": 0.020, "rss_mb": 100, "ok_s": 1.5}
# The figures of the run before issue 14 (2026-11-27 16:21 UTC, code at 202c89a; health-ok time and the
# ratio to the bare endpoint as measured for issue 14), shown beside the new ones.
BEFORE_DATE = "2026-11-27 / issue-14 measurement"
BEFORE = {
    "empty": {"issue": "468/s = 0.13 × raw (≈ 0.9 × bare)", "call": "p99 77.3 ms", "resp_event": "p99 18.1 ms",
              "send_event": "p99 118.1 ms", "quiet": "p99 16.3 ms", "issue_mixed": "p99 75.5 ms",
              "rss": "170 MB (174 MB)", "children": "—", "first": "1.49 s", "ok": "3.7–4.0 s"},
    "1m": {"issue": "479/s = 0.14 × raw", "call": "p99 100.9 ms", "resp_event": "p99 19.2 ms",
           "send_event": "p99 133.9 ms", "quiet": "p99 16.5 ms", "issue_mixed": "p99 88.1 ms",
           "rss": "171 MB (171 MB)", "children": "—", "first": "1.23 s", "ok": "—"},
}
OK_TIMEOUT_S = 15.0     # how long a start may take to reach health "ok" before it is reported as never


def scenario(name: str, base: Path, cfg, args, old_tickets: int) -> dict:
    windows = [w.number for w in cfg.windows]
    own = {w.number: [m.code for m in cfg.matters if m.group == w.serves[0] or m.code == w.serves[0]]
           for w in cfg.windows}
    all_matters = [m.code for m in cfg.matters]
    d = fresh_dir(base / name)
    srv = Server(d, free_port(), ADMIN_PASSWORD, CONFIG, args.server_prelude, args.server_python)
    out: dict = {"name": name, "old_tickets": old_tickets, "data_dir": str(d.relative_to(ROOT))}
    print(f"[{name}] first start on a fresh data dir …", flush=True)
    out["first_start_s"] = srv.start()
    tokens = asyncio.run(load.setup_accounts(srv.port, ADMIN_PASSWORD, windows))
    srv.stop()
    if old_tickets:
        print(f"[{name}] writing {old_tickets:,} old tickets …", flush=True)
        out["populate_s"] = populate_old_tickets(
            d / "hall.db", [(m.code, m.prefix, cfg.windows_serving(m.code)) for m in cfg.matters], old_tickets)
        out["db_mb"] = (d / "hall.db").stat().st_size / 2**20
    starts, oks = [], []
    for i in range(args.starts):
        starts.append(srv.start(ok_timeout=OK_TIMEOUT_S))
        oks.append(srv.ok_s if srv.ok_s is not None else float("inf"))
        if i < args.starts - 1:
            srv.stop()
    out["starts_s"] = starts
    out["start_median_s"] = statistics.median(starts)
    out["oks_s"] = oks
    out["ok_median_s"] = statistics.median(oks)
    print(f"[{name}] start to first answer: {', '.join(f'{s:.2f}' for s in starts)} s; to health \"ok\": "
          f"{', '.join(f'{s:.2f}' for s in oks)} s", flush=True)

    async def drive() -> None:
        await load.open_windows(srv.port, tokens, windows)
        await load.seed(srv.port, tokens, own, args.seed_per_window)
        out["waiting_before_mixed"] = await load.waiting(srv.port)
        if not args.mixed_s:
            out["waiting_before_issue"] = out["waiting_before_mixed"]
            return await issue_phase()
        print(f"[{name}] mixed: call-next {args.call_rate}/s round-robin over {len(windows)} windows + "
              f"issues {args.issue_rate}/s, {args.mixed_s} s …", flush=True)
        with load.CpuMeter(srv.proc.pid) as cpu:
            out["mixed"] = await load.mixed_phase(srv.port, tokens, windows, own, args.mixed_s, args.call_rate,
                                                  args.issue_rate)
        out["mixed"].update(cpu.fields())
        print(f"[{name}] quiet hall: one window calling every 0.5 s …", flush=True)
        out["quiet"] = await load.quiet_phase(srv.port, tokens, windows[0], 40, 0.5)
        out["waiting_before_issue"] = await load.waiting(srv.port)
        await issue_phase()

    async def issue_phase() -> None:
        print(f"[{name}] issue throughput: {args.clients} concurrent kiosk clients, {args.issue_s} s …", flush=True)
        with load.CpuMeter(srv.proc.pid) as cpu:
            out["issue"] = await load.throughput_phase(srv.port, tokens, all_matters, args.clients, 1.0,
                                                       args.issue_s)
        out["issue"].update(cpu.fields())
        out["waiting_after"] = await load.waiting(srv.port)

    srv.rss.mark()
    asyncio.run(drive())
    out["rss_load_mb"] = srv.rss.window_peak / 2**20
    srv.stop()
    out["rss_peak_mb"] = srv.peak_rss / 2**20
    out["rss_peaks_mb"] = [round(p / 2**20, 1) for p in srv.peaks]
    out["children"] = [{"pid": c["pid"], "label": c["label"], "rss_load_mb": c["window_peak"] / 2**20,
                        "rss_peak_mb": c["peak"] / 2**20} for c in srv.children.values()]
    out["bare"] = bare_phase(name, base, args, all_matters)
    return out


def bare_phase(name: str, base: Path, args, matters: list[str]) -> dict:
    """bench/bare.py under the same closed-loop load as the hall's issue phase, the hall stopped."""
    srv = BareServer(fresh_dir(base / f"{name}-bare"), free_port())
    srv.start()
    print(f"[{name}] bare endpoint (bench/bare.py): {args.clients} concurrent clients, {args.issue_s} s …",
          flush=True)
    try:
        with load.CpuMeter(srv.proc.pid) as cpu:
            out = asyncio.run(load.throughput_phase(srv.port, None, matters, args.clients, 1.0, args.issue_s,
                                                    path="/tickets"))
    finally:
        srv.stop()
    out.update(cpu.fields())
    return out


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    var = (ROOT / "var").resolve()
    part = max((p for p in psutil.disk_partitions(all=True) if str(var).startswith(p.mountpoint)),
               key=lambda p: len(p.mountpoint), default=None)
    import importlib.util
    import subprocess

    import uvicorn
    fast = [m for m in ("uvloop", "httptools") if importlib.util.find_spec(m)]
    plain = "h11 and the asyncio loop (uvloop, httptools not installed)"
    server = f"uvicorn {uvicorn.__version__}, one worker, " + ("with " + " and ".join(fast) if fast else plain)
    try:
        rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except OSError:
        rev = "?"
    return {"cpus": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "server": server, "revision": rev, "load_before": os.getloadavg(),
            "sqlite": sqlite3.sqlite_version, "os": platform.platform(),
            "disk": f"{part.device} on {part.mountpoint} ({part.fstype})" if part else "?"}


def verdict(ok: bool) -> str:
    return "pass" if ok else "**FAIL**"


def rows_for(s: dict, raw: float) -> list[tuple[str, str, str, str, str]]:
    """(measure, result, target, verdict, before) per row."""
    m, i, b = s.get("mixed"), s["issue"], s["bare"]
    before = BEFORE.get(s["name"], {})
    ratio = i["rate"] / b["rate"] if b["rate"] else float("nan")
    rows = [
        (f"durable ticket issues, {i['clients']} concurrent kiosk clients",
         f"{i['rate']:.0f} tickets/s = **{ratio:.2f} × bare** = {i['rate'] / raw:.2f} × raw; p50 {ms(i['p50'])} ms, "
         f"p99 {ms(i['p99'])} ms ({i['per_commit']:.1f} tickets per commit)",
         f"≥ {TARGETS['bare_ratio']} × bare", verdict(ratio >= TARGETS["bare_ratio"]), before.get("issue", "")),
        (f"bare FastAPI endpoint, one durable commit per request (bench/bare.py), same {b['clients']} clients",
         f"{b['rate']:.0f} requests/s = {b['rate'] / raw:.2f} × raw; p50 {ms(b['p50'])} ms, p99 {ms(b['p99'])} ms; "
         f"≈ {10 * b['server_cpu_pct'] / b['rate']:.2f} ms of CPU per request", "—", "", ""),
    ]
    if m:
        rows += [
            (f"call-next at {m['call_rate']:.1f} calls/s, issues at {m['issue_rate']:.1f}/s",
             f"p50 {ms(m['call_p50'])} ms, p99 {ms(m['call_p99'])} ms (max {ms(m['call_max'])})",
             "p99 ≤ 10 ms", verdict(m["call_p99"] <= TARGETS["call_p99"]), before.get("call", "")),
            ("call-next response → `ticket.called` on WebSocket",
             f"p50 {ms(m['resp_to_event_p50'])} ms, p99 {ms(m['resp_to_event_p99'])} ms",
             "p99 ≤ 20 ms", verdict(m["resp_to_event_p99"] <= TARGETS["event_p99"]), before.get("resp_event", "")),
            ("call-next request sent → `ticket.called` on WebSocket",
             f"p50 {ms(m['send_to_event_p50'])} ms, p99 {ms(m['send_to_event_p99'])} ms", "(p99 ≤ 20 ms)",
             verdict(m["send_to_event_p99"] <= TARGETS["event_p99"]), before.get("send_event", "")),
            ("call-next in a quiet hall (one window, a call every 0.5 s)",
             f"p50 {ms(s['quiet']['p50'])} ms, p99 {ms(s['quiet']['p99'])} ms", "(p99 ≤ 10 ms)",
             verdict(s["quiet"]["p99"] <= TARGETS["call_p99"]), before.get("quiet", "")),
            ("issue latency during the mixed phase", f"p50 {ms(m['issue_p50'])} ms, p99 {ms(m['issue_p99'])} ms",
             "—", "", before.get("issue_mixed", "")),
        ]
    kids = sorted(s.get("children", []), key=lambda c: c["label"])
    rows += [
        ("server RSS, peak under load (peak incl. set-up)",
         f"{s['rss_load_mb']:.0f} MB ({s['rss_peak_mb']:.0f} MB)", "≤ 100 MB",
         verdict(max(s["rss_load_mb"], s["rss_peak_mb"]) <= TARGETS["rss_mb"]), before.get("rss", "")),
        ("the server's child processes, RSS peak under load (peak incl. set-up)",
         "; ".join(f"{c['label']} (pid {c['pid']}) {c['rss_load_mb']:.0f} MB ({c['rss_peak_mb']:.0f} MB)"
                   for c in kids) or "none", "(reported)", "", before.get("children", "")),
        (f"spawn → first 200 from /api/v1/health, median of {len(s['starts_s'])}",
         f"{s['start_median_s']:.2f} s ({', '.join(f'{x:.2f}' for x in s['starts_s'])})", "—", "",
         before.get("first", "")),
        (f"spawn → /api/v1/health says `\"status\": \"ok\"` (every device open), median of {len(s['oks_s'])}",
         f"{s['ok_median_s']:.2f} s ({', '.join(f'{x:.2f}' for x in s['oks_s'])})", f"≤ {TARGETS['ok_s']} s",
         verdict(s["ok_median_s"] <= TARGETS["ok_s"]), before.get("ok", "")),
    ]
    return rows


def report(res: dict, cmd: str) -> str:
    mc, raw = res["machine"], res["raw"]["rate"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {res['date']} by `{cmd}` (`make bench`), which rewrites this file; raw figures in",
        "`bench/out/results.json`. Targets are those of issue 14: with every device of the district config "
        "running, seats included, while tickets are issued. The right-hand column is the run before issue 14.",
        "",
        f"Machine: {mc['cpus']} CPUs ({mc['cpu_model'] or 'model unknown'}), {mc['os']}, Python {mc['python']}, "
        f"SQLite {mc['sqlite']}; data on {mc['disk']}. Server: {mc['server']}; code at `{mc['revision']}`. "
        f"Load average before the run: {', '.join(f'{x:.2f}' for x in mc['load_before'])}, after it: "
        f"{', '.join(f'{x:.2f}' for x in res.get('load_after', ()))} — the machine is shared, so CPU used by "
        "other processes during each phase is reported below.",
        "",
        f"**Raw limit** — SQLite's durable single-commit rate on the same disk, same run (WAL, "
        f"`synchronous=FULL`, one 200-byte INSERT per transaction, {res['raw']['seconds']:.0f} s before and "
        f"{res['raw']['seconds']:.0f} s after the scenarios; median of the one-second rates): "
        f"**{raw:.0f} commits/s** (one-second rates ranged {min(res['raw']['per_second'])}–"
        f"{max(res['raw']['per_second'])}: the disk is shared); one commit takes {ms(res['raw']['p50'])} ms "
        f"(p50), {ms(res['raw']['p99'])} ms (p99).",
        "",
    ]
    for s in res["scenarios"]:
        title = "Fresh database" if not s["old_tickets"] else f"With {s['old_tickets']:,} old tickets"
        lines += [f"## {title}", ""]
        if s["old_tickets"]:
            lines += [f"The old tickets (past service days, mostly `done`, all 80 matters, every column filled) "
                      f"were written with the server stopped, in one transaction, in {s['populate_s']:.1f} s; "
                      f"database {s['db_mb']:.0f} MB. Then the server was restarted.", ""]
        lines += [f"| measure | result | target | | before ({BEFORE_DATE}) |", "|---|---|---|---|---|"]
        lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows_for(s, raw)]
        m, i, bare = s.get("mixed"), s["issue"], s["bare"]
        lines += [""]
        if m:
            lines += [
            f"Mixed phase: {m['calls']} calls in {m['seconds']} s (statuses {m['call_status']}), "
            f"{m['issues']} issues ({m['issue_non_201']} not 201); {m['events_matched']} `ticket.called` events "
            f"matched, {m['events_missing']} missing; earliest event {ms(m['resp_to_event_min'])} ms relative to "
            f"the HTTP response (negative = event before response). Waiting tickets: {s['waiting_before_mixed']} "
            f"before, {s['waiting_before_issue']} after. Scheduling lag of the load generator p99 "
            f"{ms(m['call_lag_p99'])} ms (calls) / {ms(m['issue_lag_p99'])} ms (issues). CPU (% of one core): server "
            f"{m['server_cpu_pct']:.0f} %, its child processes {m['children_cpu_pct']:.0f} %, load generator "
            f"{m['loadgen_cpu_pct']:.0f} %, other processes on the machine {m['other_cpu_pct']:.0f} %."]
        lines += [
            f"Issue phase: {i['tickets']} tickets in {i['seconds']:.0f} s in {i['commits']} commits, errors "
            f"{i['errors'] or 'none'}; waiting tickets at the end {s['waiting_after']}. CPU: server "
            f"{i['server_cpu_pct']:.0f} % (≈ {10 * i['server_cpu_pct'] / i['rate']:.2f} ms of CPU per ticket), "
            f"its child processes {i['children_cpu_pct']:.0f} %, load generator {i['loadgen_cpu_pct']:.0f} %, "
            f"other processes on the machine {i['other_cpu_pct']:.0f} %.",
            f"Bare endpoint: {bare['tickets']} requests in {bare['seconds']:.0f} s, errors {bare['errors'] or 'none'}; "
            f"CPU: its server {bare['server_cpu_pct']:.0f} %, load generator {bare['loadgen_cpu_pct']:.0f} %, other "
            f"processes {bare['other_cpu_pct']:.0f} %.",
            f"First start on an empty data dir (creates the schema and the admin): {s['first_start_s']:.2f} s.",
            "",
        ]
        if i["per_commit"] >= 2 and i["server_cpu_pct"] >= 80:
            lines += [f"Reading the issue figure: group commit gathered {i['per_commit']:.1f} tickets per commit, so "
                      f"the disk was not the limit; the server process was busy {i['server_cpu_pct']:.0f} % of one "
                      f"core (one process, one GIL), so the limit is its CPU per request: at "
                      f"{10 * i['server_cpu_pct'] / i['rate']:.1f} ms of CPU per ticket it cannot pass "
                      f"≈ {100 * i['rate'] / i['server_cpu_pct']:.0f} tickets/s on this machine, whatever the disk.",
                      ""]
    lines += [
        "## How the load was generated",
        "",
        "- One server process as in production: `python -m hall_server serve --config config/district-centre.toml "
        "--port P --data-dir var/bench/<scenario>` (uvicorn, one worker; the config without its opening hours, "
        "so kiosks issue tickets whatever the hour), spawned by the bench; accounts "
        "(4 kiosks, one clerk per window) created through the API.",
        "- The load generator is one asyncio process on the same two cores, with a minimal keep-alive HTTP/1.1 "
        "client on raw sockets (`bench/lib.py`, far cheaper per request than httpx) — one connection per window "
        "terminal and per kiosk — and a `websockets` client on `/api/v1/events` subscribed before the calls "
        "start. Its own CPU use and scheduling lag are reported above.",
        f"- Mixed phase: call-next is scheduled open-loop at a fixed {res['args']['call_rate']}/s, round-robin "
        f"over the 22 windows (each window every {22 / res['args']['call_rate']:.2f} s). The 2 s debounce "
        "applies to a ticket still in state `called`, so 100 ms after each call the clerk sends `start` (the "
        "citizen has arrived); the next call-next then finishes that ticket and calls the next one — the full "
        f"work of a call. Kiosks issue open-loop at {res['args']['issue_rate']}/s, each ticket for a matter of "
        f"the first group of the window whose turn it is, on top of a seeded backlog of "
        f"{res['args']['seed_per_window']} tickets per window, so calls do not run dry. Latency is from "
        "sending the request to the end of the response; the event latency is from that moment (and from "
        "sending) to the `ticket.called` event with the same `ticket_id` arriving on the WebSocket.",
        f"- Issue phase: {res['args']['clients']} closed-loop kiosk clients (each sends its next request when "
        f"the last one is answered), random matters out of 80, 1 s warm-up, then {res['args']['issue_s']} s "
        "measured.",
        "- Bare endpoint: `bench/bare.py` (FastAPI, uvicorn with the same settings and one worker, an `async def` "
        "`POST /tickets` with a pydantic body doing one INSERT + COMMIT on a WAL database with "
        "`synchronous=FULL`, JSON in and out, no authentication) under the same closed-loop load, same clients "
        "and seconds, on the same disk, right after the hall's own issue phase (the hall stopped).",
        "- RSS is sampled with psutil every 50 ms, the server's child processes every 0.5 s; start-up is from "
        "`Popen` to the first 200 of `GET /api/v1/health`, then to its first answer with `\"status\": \"ok\"` "
        "(every configured device opened and working), polled every 2 ms.",
        "",
        "## For reference",
        "",
        "A well-known Flask peer, measured on the same kind of machine, issues about **140 tickets/s**, and its "
        "calling screen polls every **2 s** (figures as given in issue 2, not measured here).",
        "",
    ]
    return "\n".join(lines)


def keep_sections(old: str, new: str) -> str:
    """`new` followed by the `<!-- name:start -->…<!-- name:end -->` sections of `old` (bench/calling.py's,
    bench/cameras.py's and hand-written notes), which this run does not measure."""
    import re

    blocks = [m.group(0) for m in re.finditer(r"<!-- ([\w-]+):start -->.*?<!-- \1:end -->", old, flags=re.S)]
    return new.rstrip("\n") + "\n" + "".join(f"\n{b}\n" for b in blocks)


def summary(res: dict) -> str:
    raw = res["raw"]["rate"]
    out = [f"raw SQLite durable commits: {raw:.0f}/s (one commit p50 {ms(res['raw']['p50'])} ms, "
           f"p99 {ms(res['raw']['p99'])} ms)"]
    for s in res["scenarios"]:
        out.append(f"\n== {s['name']} ({s['old_tickets']:,} old tickets)")
        for a, b, c, d, _e in rows_for(s, raw):
            out.append(f"  {a:<58} {b.replace('**', ''):<62} {c:<14} {d.strip('*')}")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw-s", type=float, default=3.0)
    ap.add_argument("--mixed-s", type=float, default=30.0, help="0: no mixed or quiet phase (issue rate only)")
    ap.add_argument("--call-rate", type=float, default=50.0)
    ap.add_argument("--issue-rate", type=float, default=50.0)
    ap.add_argument("--seed-per-window", type=int, default=15)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--issue-s", type=float, default=8.0)
    ap.add_argument("--old-tickets", type=int, default=1_000_000)
    ap.add_argument("--starts", type=int, default=3, help="restarts timed for the start-up figures")
    ap.add_argument("--only", choices=["empty", "1m"], help="run one scenario")
    ap.add_argument("--server-prelude", default="", help="(experiments) Python run in the server first")
    ap.add_argument("--server-python", default="", help="(experiments) another interpreter for the server")
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = ap.parse_args()
    os.chdir(ROOT)
    base = ROOT / "var" / "bench"
    cfg = load_config(CONFIG)
    t0 = time.perf_counter()
    res: dict = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
                 "args": vars(args), "scenarios": []}
    raws = []

    def raw_phase(when: str) -> None:
        print(f"raw SQLite commit rate on {base} ({when}) …", flush=True)
        r = raw_commit_rate(base / "raw", args.raw_s)
        raws.append(r)
        print(f"  {r['rate']:.0f} commits/s (per second: {r['per_second']}); one commit p50 {ms(r['p50'])} ms, "
              f"p99 {ms(r['p99'])} ms", flush=True)

    raw_phase("before")
    if args.only in (None, "empty"):
        res["scenarios"].append(scenario("empty", base, cfg, args, 0))
    if args.only in (None, "1m") and args.old_tickets:
        res["scenarios"].append(scenario("1m", base, cfg, args, args.old_tickets))
    raw_phase("after")
    per_s = [x for r in raws for x in r["per_second"]]
    res["raw"] = {"rate": statistics.median(per_s), "per_second": per_s, "seconds": args.raw_s,
                  "runs": raws, "p50": statistics.median(r["p50"] for r in raws),
                  "p99": max(r["p99"] for r in raws)}
    res["total_s"], res["load_after"] = time.perf_counter() - t0, os.getloadavg()
    cmd = ".venv/bin/python bench/run.py" + "".join(f" {a}" for a in sys.argv[1:])
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    (ROOT / "bench" / "out" / "results.json").write_text(json.dumps(res, indent=1, default=str))
    if not args.no_doc:
        doc = ROOT / "docs" / "benchmarks.md"
        doc.write_text(keep_sections(doc.read_text() if doc.exists() else "", report(res, cmd)))
    print(summary(res))
    print(f"\nbench took {res['total_s']:.0f} s" + ("" if args.no_doc else "; wrote docs/benchmarks.md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
