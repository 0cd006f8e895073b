"""bench/stats_year.py: the statistics of a seeded year of the district centre (issue 18).

1. Seeds (or reuses, when its seed.json says the same scale and seed) a year into var/bench/stats-year/hall.db with
   hall_server/stats/seed/: 1,000,000 tickets, 200,000 cases, ~100,000 ratings at --scale 1.
2. Runs `onewindow stats rebuild` on it (S1's replay of the whole log), timed.
3. Starts the real server on it and times GET /api/v1/stats over HTTP: a one-month report (target ≤ 300 ms) and a
   one-year report (≤ 1 s) per `by` (and the hour × weekday heat map), and the XLSX of a year per clerk (≤ 5 s),
   each p50/p90 over --runs runs after one warm-up.
4. The cost of keeping the aggregates: bench/run.py's mixed phase (call-next round-robin over the 22 windows at
   50/s with issues at 50/s: call-next p99) and its issue-throughput phase (32 closed-loop kiosk clients) on a
   fresh hall, with the stats projector running and with it disabled, alternated (on, off, on, off) so the
   machine's drift falls on both. S1's code has no switch for the projector: it is disabled by the server
   prelude `Stats.start = no-op` (bench/lib.py Server's `prelude`, run in the server before it starts).

    .venv/bin/python bench/stats_year.py [--scale 1] [--runs 7] [--write docs/benchmarks.md]
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import load
from lib import HOST, ROOT, Server, free_port, fresh_dir, ms, pct

from hall_server.config import load_config
from hall_server.stats import seed as seeder

ADMIN_PASSWORD = "bench-admin-password"
CONFIG = "config/district-centre.toml"
START, END = "<!-- bench/stats_year.py: start -->", "<!-- bench/stats_year.py: end -->"
BYS = ("window", "clerk", "matter", "group", "department", "channel", "day", "week", "month", "hour")
MONTH, YEAR = ("2026-11-01", "2026-11-30"), ("2025-12-01", "2026-11-30")
TARGETS = {"month": 0.300, "year": 1.0, "xlsx": 5.0, "cost": 0.10}
NO_PROJECTOR = "from hall_server.stats.service import Stats\nStats.start = lambda self: None"
# projector on: the worker process appends each batch (wall-clock start, ms, events) to the file that
# ONEWINDOW_STATS_TRACE names, so that the slow calls can be set against the batches that ran meanwhile


def seeded(d: Path, scale: float, seed: int) -> dict:
    marker = d / "seed.json"
    if marker.exists() and (d / "hall.db").exists():
        got = json.loads(marker.read_text())
        if got.get("scale") == scale and got.get("seed") == seed:
            print(f"reusing the seeded year in {d} ({got['tickets']:,} tickets)", flush=True)
            return got
    fresh_dir(d)
    print(f"seeding a year at scale {scale} into {d} …", flush=True)
    out = seeder.seed(d / "hall.db", scale=scale, seed=seed)
    out.update(scale=scale, seed=seed, db_mb=round((d / "hall.db").stat().st_size / 2**20))
    marker.write_text(json.dumps(out))
    print(f"seeded in {out['seconds']} s: {out['tickets']:,} tickets, {out['cases']:,} cases, "
          f"{out['evaluations']:,} ratings, {out['events']:,} events", flush=True)
    return out


def rebuild(d: Path) -> dict:
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "hall_server", "stats", "rebuild", "--config", CONFIG, "--data-dir",
                        str(d)], cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"stats rebuild failed: {p.stderr[-2000:]}")
    print(p.stdout.strip(), flush=True)
    return {"seconds": time.perf_counter() - t, "said": p.stdout.strip().replace(str(ROOT) + "/", "")}


class Client:
    def __init__(self, port: int, token: str | None = None):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=300)
        self.token = token

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, float]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        t = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        out = r.read()
        return r.status, out, time.perf_counter() - t


def timed(c: Client, path: str, runs: int) -> dict:
    status, body, first = c.request("GET", path)
    if status != 200:
        raise RuntimeError(f"GET {path}: {status} {body[:500]!r}")
    xs = []
    for _ in range(runs):
        status, body, dt = c.request("GET", path)
        assert status == 200, (path, status)
        xs.append(dt)
    return {"first": first, "p50": pct(xs, 50), "p90": pct(xs, 90), "max": max(xs), "runs": runs,
            "bytes": len(body), "body": body}


def reports(d: Path, runs: int, xlsx_runs: int) -> dict:
    srv = Server(d, free_port(), ADMIN_PASSWORD, CONFIG)
    srv.start(timeout=300)
    out: dict = {"month": {}, "year": {}}
    try:
        c = Client(srv.port)
        _, body, _ = c.request("POST", "/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})
        c.token = json.loads(body)["token"]
        for span, (frm, to) in (("month", MONTH), ("year", YEAR)):
            for by in (*BYS, "hour×weekday"):
                q = "by=hour&group_by2=weekday" if by == "hour×weekday" else f"by={by}"
                got = timed(c, f"/api/v1/stats?from={frm}&to={to}&{q}", runs)
                rep = json.loads(got.pop("body"))
                got["rows"], got["issued"] = len(rep["rows"]), rep["totals"].get("issued")
                out[span][by] = got
                print(f"{span:5s} by={by:13s} p50 {ms(got['p50'])} ms  p90 {ms(got['p90'])} ms  (first "
                      f"{ms(got['first'])} ms, {got['rows']} rows, issued {got['issued']})", flush=True)
        got = timed(c, f"/api/v1/stats?from={YEAR[0]}&to={YEAR[1]}&by=clerk&format=xlsx", xlsx_runs)
        body = got.pop("body")
        from openpyxl import load_workbook
        ws = load_workbook(io.BytesIO(body), read_only=True).active
        got["sheet_rows"] = sum(1 for _ in ws.iter_rows())
        out["xlsx"] = got
        print(f"xlsx  year by=clerk p50 {ms(got['p50'])} ms  p90 {ms(got['p90'])} ms ({got['bytes']:,} bytes, "
              f"{got['sheet_rows']} sheet rows)", flush=True)
    finally:
        srv.stop()
    return out


def profile(d: Path) -> dict:
    """Where a year's report spends its time: S1's query parts timed in process on the seeded store (ms, best of 3)."""
    from datetime import date

    from hall_server.cases.calendar import WorkCalendar
    from hall_server.runtime import stats_dims
    from hall_server.stats import query as q
    from hall_server.stats.schema import open_reports, path_beside
    from hall_server.stats.sums import from_sums

    cfg = load_config(ROOT / CONFIG)
    reports = q.Reports(stats_dims(cfg, WorkCalendar(cfg.calendar).working_days_between))
    conn = open_reports(path_beside(d / "hall.db"), d / "hall.db")
    f, t = YEAR
    where, args = q._where(f, t, {})
    out: dict = {}
    try:
        for dim in ("matter", "window"):
            parts = {
                "tickets": lambda dim=dim: reports._ticket_parts(conn, dim, f, t, {}),
                "cases": lambda dim=dim: from_sums(conn, "case", dim, f, t),
                "ratings": lambda dim=dim: from_sums(conn, "rating", dim, f, t),
                "complaints": lambda dim=dim: from_sums(conn, "complaint", dim, f, t),
                "windows' time": lambda dim=dim: reports._window_time(conn, dim, f, t, {}),
                "cases from the facts (a filtered report's way)": lambda dim=dim: q._sums(
                    conn, "stats_case", q._CASE_AGG, q._CASE_KEYS, dim, where, args),
                "whole report": lambda dim=dim: reports.report(conn, date.fromisoformat(f), date.fromisoformat(t),
                                                               dim, {}),
            }
            got = {}
            for name, fn in parts.items():
                xs = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    fn()
                    xs.append(time.perf_counter() - t0)
                got[name] = round(min(xs) * 1000)
            out[dim] = got
        out["rows"] = {tb: conn.execute(f"SELECT COUNT(*) FROM {tb}").fetchone()[0]
                       for tb in ("stats_ticket", "stats_tday", "stats_sday", "stats_case", "stats_rating")}
    finally:
        conn.close()
    print(f"where a year's report goes: {out}", flush=True)
    return out


def cost_once(base: Path, projector: bool, args) -> dict:
    cfg = load_config(ROOT / CONFIG)
    windows = [w.number for w in cfg.windows]
    own = {w.number: [m.code for m in cfg.matters if m.group == w.serves[0] or m.code == w.serves[0]]
           for w in cfg.windows}
    d = fresh_dir(base / ("stats-cost-on" if projector else "stats-cost-off"))
    trace = d / "batches.log"
    srv = Server(d, free_port(), ADMIN_PASSWORD, CONFIG, "" if projector else NO_PROJECTOR)
    if projector:
        srv.env["ONEWINDOW_STATS_TRACE"] = str(trace)
    srv.start(timeout=60)
    calls: list[tuple[float, float]] = []          # (wall-clock start, seconds) of each call-next
    plain = load.HttpConn.request

    async def timed_request(self, method, path, obj=None):
        t, w = time.perf_counter(), time.time()
        got = await plain(self, method, path, obj)
        if path.endswith("/call-next"):
            calls.append((w, time.perf_counter() - t))
        return got
    try:
        async def metered(phase) -> tuple[dict, float]:
            """The phase's figures and the server's CPU seconds over it and 2 s after (the projector's batch of its
            last events falls in them)."""
            t0 = time.perf_counter()
            with load.CpuMeter(srv.proc.pid) as cpu:
                got = await phase
                await asyncio.sleep(2.0)
            el = time.perf_counter() - t0
            got["children_cpu_s"] = cpu.children_pct / 100 * el     # the projector's process among them (on)
            return got, cpu.server_pct / 100 * el

        async def drive() -> dict:
            tokens = await load.setup_accounts(srv.port, ADMIN_PASSWORD, windows)
            await load.open_windows(srv.port, tokens, windows)
            await load.seed(srv.port, tokens, own, 15)
            load.HttpConn.request = timed_request
            try:
                mixed, cpu_m = await metered(load.mixed_phase(srv.port, tokens, windows, own, args.cost_s, 50.0,
                                                              50.0))
            finally:
                load.HttpConn.request = plain
            issue, cpu_i = await metered(load.throughput_phase(srv.port, tokens, [m.code for m in cfg.matters], 32,
                                                               1.0, args.issue_s))
            h = await load.health(srv.port)
            mixed["cpu_ms_per_request"] = 1000 * cpu_m / max(1, mixed["calls"] + mixed["issues"])
            mixed["children_cpu_ms_per_request"] = 1000 * mixed["children_cpu_s"] / max(1, mixed["calls"]
                                                                                         + mixed["issues"])
            # the throughput phase counts the tickets of its measured seconds; the warm-up second issues too
            issue["cpu_ms_per_ticket"] = 1000 * cpu_i / max(1, issue["tickets"] * (args.issue_s + 1) / args.issue_s)
            return {"mixed": mixed, "issue": issue, "stats": h.get("stats")}
        got = asyncio.run(drive())
    finally:
        srv.stop()
    if projector and trace.exists() and calls:
        first, last = calls[0][0], calls[-1][0] + calls[-1][1]
        batches = [tuple(map(float, line.split())) for line in trace.read_text().splitlines()]
        batches = [b for b in batches if first <= b[0] <= last]
        slow = sorted(calls, key=lambda c: -c[1])[:max(1, len(calls) // 100)]       # the slowest 1 %
        hit = sum(1 for w, dt in slow if any(b[0] - 0.002 <= w + dt and w <= b[0] + b[1] / 1000 for b in batches))
        got["trace"] = {"batches": len(batches), "batch_ms_p50": pct([b[1] for b in batches], 50),
                        "batch_ms_max": max((b[1] for b in batches), default=0.0),
                        "batch_events_p50": pct([b[2] for b in batches], 50), "slow_calls": len(slow),
                        "slow_during_batch": hit, "slow_ms_min": min(dt for _w, dt in slow) * 1000,
                        "seconds": last - first}
        print(f"  trace: {got['trace']}", flush=True)
    print(f"projector {'on ' if projector else 'off'}: call-next p99 {ms(got['mixed']['call_p99'])} ms, "
          f"issues {got['issue']['rate']:.0f}/s (p99 {ms(got['issue']['p99'])} ms); server CPU "
          f"{got['mixed']['cpu_ms_per_request']:.2f} ms per mixed request, {got['issue']['cpu_ms_per_ticket']:.2f} ms "
          f"per issue", flush=True)
    return got


def cost(args) -> dict:
    base = ROOT / "var" / "bench"
    runs: dict[str, list[dict]] = {"on": [], "off": []}
    for i in range(args.cost_rounds):
        for mode in (("on", "off") if i % 2 == 0 else ("off", "on")):
            runs[mode].append(cost_once(base, mode == "on", args))
    out = {}
    for mode, rs in runs.items():
        out[mode] = {"call_p99": statistics.median(r["mixed"]["call_p99"] for r in rs),
                     "call_p50": statistics.median(r["mixed"]["call_p50"] for r in rs),
                     "issue_rate": statistics.median(r["issue"]["rate"] for r in rs),
                     "issue_p99": statistics.median(r["issue"]["p99"] for r in rs),
                     "cpu_mixed": statistics.median(r["mixed"]["cpu_ms_per_request"] for r in rs),
                     "cpu_issue": statistics.median(r["issue"]["cpu_ms_per_ticket"] for r in rs),
                     "children_cpu_mixed": statistics.median(r["mixed"]["children_cpu_ms_per_request"] for r in rs),
                     "each": [(r["mixed"]["call_p99"], r["issue"]["rate"], r["mixed"]["cpu_ms_per_request"],
                               r["issue"]["cpu_ms_per_ticket"]) for r in rs],
                     "stats": rs[-1].get("stats"), "traces": [r["trace"] for r in rs if r.get("trace")]}
    return out


def args_every(traces: list[dict]) -> float:
    """Seconds between the projector's batches over the mixed phases traced."""
    n = sum(x["batches"] for x in traces)
    return sum(x.get("seconds", 20.0) for x in traces) / n if n else float("nan")


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(res: dict) -> str:
    s, r = res["seed"], res["reports"]
    lines = [START, "## Statistics of a seeded year (issue 18)", "",
             f"`{res['cmd']}` — {res['date']}, load average {res['load']} at the start and {res.get('load_end')} at "
             "the end on this 2-core machine (shared with other work).", "",
             f"The year: `python -m hall_server.stats.seed --scale {s['scale']} --seed {s['seed']}` "
             f"({s['days']} open days to 2026-11-30) wrote {s['tickets']:,} tickets, {s['cases']:,} cases, "
             f"{s['evaluations']:,} ratings, {s['badratings']:,} 差评, {s['complaints']:,} complaints, "
             f"{s['events']:,} events in **{s['seconds']} s** ({s.get('db_mb', '?')} MB). "
             f"`onewindow stats rebuild` replayed it in **{res['rebuild']['seconds']:.0f} s** "
             f"({res['rebuild']['said'].replace(str(ROOT) + '/', '')}).", "",
             "GET /api/v1/stats over HTTP against the real server on that store (admin token), p50 / p90 of "
             f"{r['month']['window']['runs']} runs after one warm-up (the warm-up in brackets):", "",
             "| by | one month (2026-11) p50 / p90 | one year p50 / p90 | rows (year) |", "|---|---|---|---|"]
    for by in r["month"]:
        m, y = r["month"][by], r["year"][by]
        lines.append(f"| {by} | {ms(m['p50'])} / {ms(m['p90'])} ms ({ms(m['first'])}) | {ms(y['p50'])} / "
                     f"{ms(y['p90'])} ms ({ms(y['first'])}) | {y['rows']} |")
    worst_m = max(v["p90"] for v in r["month"].values())
    worst_y = max(v["p90"] for v in r["year"].values())
    x = r["xlsx"]
    lines += ["", "| measure | result | target | verdict |", "|---|---|---|---|",
              f"| one-month report, worst p90 over the `by`s | {ms(worst_m)} ms | ≤ 300 ms | "
              f"{verdict(worst_m <= TARGETS['month'])} |",
              f"| one-year report, worst p90 over the `by`s | {ms(worst_y)} ms | ≤ 1 s | "
              f"{verdict(worst_y <= TARGETS['year'])} |",
              f"| XLSX of a year per clerk (`by=clerk&format=xlsx`), p50 / p90 of {x['runs']} | {ms(x['p50'])} / "
              f"{ms(x['p90'])} ms ({x['bytes']:,} bytes, {x['sheet_rows']} rows read back by openpyxl) | ≤ 5 s | "
              f"{verdict(x['p90'] <= TARGETS['xlsx'])} |"]
    p = res.get("profile")
    if p and "tickets" in p.get("matter", {}):
        rows = ", ".join(f"{tb} {n:,}" for tb, n in p["rows"].items())
        lines += ["", "Where a year's report goes — S1's query parts timed in process on the same store (ms, best of "
                  f"3; rows: {rows}):", "", "| part | by=matter | by=window |", "|---|---|---|"]
        for part in p["matter"]:
            lines.append(f"| {part} | {p['matter'][part]} | {p['window'][part]} |")
    c = res.get("cost")
    if c:
        on, off = c["on"], c["off"]

        def spread(i):
            out = 0.0
            for rs in (on["each"], off["each"]):
                xs = [r[i] for r in rs if len(r) > i]
                if xs and min(xs):
                    out = max(out, max(xs) / min(xs) - 1)
            return out
        lines += ["", "Keeping the aggregates (bench/run.py's mixed and issue phases on a fresh hall; medians of "
                  f"{len(on['each'])} runs each, alternated; projector off = server prelude `Stats.start = no-op`). "
                  "The server's CPU per request is taken over each phase and the 2 s after it (when the projector "
                  "applies its last batch). Where runs of one mode differ by more than the target, a difference "
                  "within that spread is the machine's, not the projector's.", "",
                  "| measure | projector on | projector off | its cost (on vs off; − = on did better) | runs of one "
                  "mode differ by | target | verdict |", "|---|---|---|---|---|---|---|"]
        for name, key, i, fmt, worse in (
                ("server CPU per request, mixed phase (call-next + start + issue)", "cpu_mixed", 2, "{:.2f} ms", 1),
                ("server CPU per durable issue, 32 closed-loop clients", "cpu_issue", 3, "{:.2f} ms", 1),
                ("call-next p99 (50 calls/s round-robin + 50 issues/s)", "call_p99", 0, "{:.1f} ms", 1),
                ("durable issues, 32 closed-loop clients", "issue_rate", 1, "{:.0f}/s", -1)):
            a, b = on.get(key), off.get(key)
            if a is None or b is None:
                continue
            k = 1000 if key == "call_p99" else 1
            diff = (a / b - 1) * worse if b else float("nan")
            noise = spread(i)
            if diff < TARGETS["cost"]:
                v = verdict(True)
            elif noise >= TARGETS["cost"] and abs(diff) <= noise:
                v = "within the machine's noise"
            else:
                v = verdict(False)
            lines.append(f"| {name} | {fmt.format(a * k)} | {fmt.format(b * k)} | {diff:+.0%} | up to {noise:.0%} "
                         f"| < 10 % | {v} |")
        lines.append("| each run (call p99 ms, issues/s, CPU ms per mixed request, per issue) | "
                     + "; ".join(f"{e[0] * 1000:.1f}, {e[1]:.0f}" + (f", {e[2]:.2f}, {e[3]:.2f}" if len(e) > 2 else "")
                                 for e in on["each"]) + " | "
                     + "; ".join(f"{e[0] * 1000:.1f}, {e[1]:.0f}" + (f", {e[2]:.2f}, {e[3]:.2f}" if len(e) > 2 else "")
                                 for e in off["each"]) + " | | | | |")
        tr = on.get("traces") or []
        if tr:
            slow, hit = sum(x["slow_calls"] for x in tr), sum(x["slow_during_batch"] for x in tr)
            lines += ["", f"With the projector on, {hit} of the {slow} slowest call-nexts (the slowest 1 % of each "
                      f"run, from {min(x['slow_ms_min'] for x in tr):.0f} ms) overlapped one of its batches; a batch "
                      f"came about every {args_every(tr):.1f} s with p50 "
                      f"{statistics.median(x['batch_events_p50'] for x in tr):.0f} events "
                      f"in p50 {statistics.median(x['batch_ms_p50'] for x in tr):.1f} ms (longest "
                      f"{max(x['batch_ms_max'] for x in tr):.1f} ms). A batch is one change in the store's writer "
                      "(projector.py `_step_change` through `store.write`), so a call-next that arrives during it "
                      "waits for it; "
                      + ("most of the slow tail is that wait." if hit * 2 >= slow else
                         "most of the slow tail is not: it is the machine's.")]
    if res.get("kept"):
        lines += ["", f"(Kept from the run before: {', '.join(res['kept'])}.)"]
    lines += ["", END]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--xlsx-runs", type=int, default=3)
    ap.add_argument("--cost-s", type=float, default=20.0, help="seconds of the mixed phase per run")
    ap.add_argument("--issue-s", type=float, default=8.0)
    ap.add_argument("--cost-rounds", type=int, default=2, help="runs with and without the projector, each")
    ap.add_argument("--parts", default="rebuild,reports,profile,cost",
                    help="what to measure (the others are kept from bench/out/stats_year.json)")
    ap.add_argument("--write", type=Path, help="put the section into this markdown file")
    ap.add_argument("--report-only", action="store_true", help="write the section from bench/out/stats_year.json")
    args = ap.parse_args()
    out = ROOT / "bench" / "out"
    if args.report_only:
        write(args.write, json.loads((out / "stats_year.json").read_text()))
        return 0
    d = ROOT / "var" / "bench" / "stats-year"
    res: dict = {"date": datetime.now().strftime("%Y-%m-%d %H:%M UTC"), "load": f"{os.getloadavg()[0]:.1f}",
                 "cmd": "python bench/stats_year.py" + (f" --scale {args.scale}" if args.scale != 1 else "")
                 + (f" --write {args.write}" if args.write else "")}
    parts = set(args.parts.split(","))
    before = json.loads((out / "stats_year.json").read_text()) if (out / "stats_year.json").exists() else {}
    res["seed"] = seeded(d, args.scale, args.seed)
    for part, run in (("rebuild", lambda: rebuild(d)), ("reports", lambda: reports(d, args.runs, args.xlsx_runs)),
                      ("profile", lambda: profile(d)), ("cost", lambda: cost(args))):
        if part in parts:
            res[part] = run()
        elif part in before:
            res[part] = before[part]
            run = before.get("kept_runs", {}).get(part) or {k: before.get(k) for k in ("date", "load")}
            res.setdefault("kept_runs", {})[part] = run
    for part, run in res.get("kept_runs", {}).items():
        res.setdefault("kept", []).append(f"{part} of {run['date']} (load average {run['load']} at that run's "
                                          "start)")
    res["load_end"] = f"{os.getloadavg()[0]:.1f}"
    out.mkdir(exist_ok=True)
    (out / "stats_year.json").write_text(json.dumps(res, indent=1, default=str))
    write(args.write, res)
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
