"""`make bench` (cases): a year of a district centre's cases (200,000) in the store, then over HTTP against
the real server: a department's worklist, its overdue list, one case read, and case actions (claim and
release, accept of new cases), each measured from the client, one request at a time.

The year is written straight into SQLite (the same rows and events intake/review write), dated over the
twelve months before today, with the district config's matters, departments and due dates by the real
working-day calendar: most cases handed out long ago, a few thousand running, some of them overdue.
Writes a "Cases" section into docs/benchmarks.md with --write.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import secrets
import sqlite3
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from lib import ROOT, HttpConn, Server, free_port, fresh_dir, ms, pct

from hall_server.cases.calendar import WorkCalendar
from hall_server.cases.intake import matter_snapshot
from hall_server.config import load_config

ADMIN_PASSWORD = "bench-admin-password"
DISTRICT = ROOT / "config" / "district-centre.toml"
TARGET_MS = {"worklist": 20, "overdue": 20, "action": 15}
START, END = "<!-- cases:start -->", "<!-- cases:end -->"


def populate(db: Path, n: int, seed: int = 7) -> dict:
    """n cases over the year before today; returns what was written (counts by status)."""
    cfg = load_config(DISTRICT)
    cal = WorkCalendar(cfg.calendar)
    rng = random.Random(seed)

    class Ctx:                                   # what matter_snapshot reads
        pass
    ctx = Ctx()
    ctx.cfg = cfg
    snaps = {m.code: matter_snapshot(ctx, m.code) for m in cfg.matters}
    codes = list(snaps)
    today = date.today()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous=OFF")
    counts: dict[str, int] = {}
    due_cache: dict[tuple[date, int], date] = {}

    def due(day: date, days: int) -> date:
        key = (day, days)
        if key not in due_cache:
            due_cache[key] = cal.add_working_days(day, days)
        return due_cache[key]

    cases, materials, tasks, events = [], [], [], []
    per_day: dict[date, int] = {}
    for i in range(1, n + 1):
        age = int(rng.random() ** 0.7 * 365)               # more cases recently than a year ago
        day = today - timedelta(days=age)
        if day.weekday() >= 5:
            day -= timedelta(days=day.weekday() - 4)
        snap = snaps[rng.choice(codes)]
        seq = per_day[day] = per_day.get(day, 0) + 1
        received = datetime.combine(day, datetime.min.time(), UTC).replace(hour=1 + rng.randrange(8))
        at = received.isoformat(timespec="milliseconds")
        promised = 0 if snap["kind"] == "即办" else snap["promised_days"]
        due_day, legal_day = due(day, promised), due(day, snap["legal_days"])
        if due_day < today - timedelta(days=20):
            status = rng.choices(["delivered", "ready", "refused", "withdrawn"], [90, 4, 4, 2])[0]
        else:
            status = rng.choices(["accepted", "in_review", "suspended", "decided", "ready", "delivered",
                                  "supplement"], [15, 40, 5, 10, 10, 15, 5])[0]
        counts[status] = counts.get(status, 0) + 1
        running = status in ("accepted", "in_review", "suspended")
        deadline = "ok"
        if running:
            left = cal.working_days_left(today, due_day)
            deadline = "red" if left < 0 else "amber" if left <= cfg.cases.amber_days else "ok"
        accepted = status not in ("refused", "supplement")
        cases.append((i, f"XL-{day:%Y%m%d}-{seq:04d}", secrets.token_urlsafe(12), snap["code"], snap["kind"],
                      json.dumps(snap, ensure_ascii=False), "window", None, 1 + rng.randrange(5), "bench", status,
                      "approved" if status in ("decided", "ready", "delivered") else None,
                      f"申请人{i}", f"138{i:08d}", "110***********002X", secrets.token_hex(16), at,
                      at if accepted else None, day.isoformat() if accepted else None,
                      due_day.isoformat() if accepted else None, legal_day.isoformat() if accepted else None,
                      deadline, at))
        for name in snap["materials"]:
            materials.append((i, name, "original", 1))
        for d in snap["deciders"]:
            state = "open" if status == "accepted" else "claimed" if status in ("in_review", "suspended") else \
                "decided" if accepted else "closed"
            tasks.append((i, d, state, f"officer-{abs(hash(d)) % 3}" if state == "claimed" else None))
        events.append(("case.received", at, "bench", i, json.dumps({"case": i, "status": "received"})))
        if accepted:
            events.append(("case.accepted", at, "bench", i, json.dumps({"case": i, "status": "accepted"})))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO cases (id, number, query_code, matter, kind, snapshot, channel, ticket_id, window, created_by,"
        " status, outcome, applicant_name, applicant_phone, applicant_id_masked, applicant_hash, received_at,"
        " accepted_at, accept_day, due, legal_due, deadline, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", cases)
    conn.executemany("INSERT INTO case_materials VALUES (?,?,?,?)", materials)
    conn.executemany("INSERT INTO case_tasks (case_id, department, state, claimed_by) VALUES (?,?,?,?)", tasks)
    conn.executemany("INSERT INTO events (type, at, actor, case_id, data) VALUES (?,?,?,?,?)", events)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return counts


async def measure(port: int, admin: str, department: str, rounds: int) -> dict:
    a = HttpConn(port)
    body = await a.json("POST", "/api/v1/auth/login", {"username": "admin", "password": admin})
    a.token = body["token"]
    await a.json("POST", "/api/v1/users", {"username": "bench-officer", "password": "bench-officer-pw",
                                           "role": "department", "departments": [department]})
    await a.json("POST", "/api/v1/users", {"username": "bench-clerk", "password": "bench-clerk-pw", "role": "clerk"})
    o = HttpConn(port)
    o.token = (await o.json("POST", "/api/v1/auth/login", {"username": "bench-officer",
                                                          "password": "bench-officer-pw"}))["token"]
    c = HttpConn(port)
    c.token = (await c.json("POST", "/api/v1/auth/login", {"username": "bench-clerk",
                                                          "password": "bench-clerk-pw"}))["token"]
    dep = quote(department)
    worklist = f"/api/v1/cases?department={dep}&status=accepted,in_review,suspended&order=due"
    overdue = f"/api/v1/cases?department={dep}&deadline=red"
    first = await o.json("GET", f"/api/v1/cases?department={dep}&status=accepted&order=due&limit=200")
    open_ids = [x["id"] for x in first["cases"] if x["status"] == "accepted"]
    out: dict = {"worklist_rows": len((await o.json("GET", worklist))["cases"]),
                 "overdue_rows": len((await o.json("GET", overdue))["cases"])}
    for name, path in (("worklist", worklist), ("overdue", overdue), ("one case", f"/api/v1/cases/{open_ids[0]}")):
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            await o.json("GET", path)
            times.append(time.perf_counter() - t)
        out[name] = times
    times = []
    for i in range(rounds):
        cid = open_ids[i % len(open_ids)]
        for action in ("claim", "release"):
            t = time.perf_counter()
            await o.json("POST", f"/api/v1/cases/{cid}/{action}", {})
            times.append(time.perf_counter() - t)
    out["claim/release"] = times
    times = []
    body = {"matter": "SH-003", "applicant": {"name": "测试", "phone": "13800000000"},
            "materials": [{"name": n, "state": "original"}
                          for n in ("居民身份证原件", "临时救助申请书", "遭遇困难的相关证明")]}
    for _ in range(rounds // 2):
        t = time.perf_counter()
        case = await c.json("POST", "/api/v1/cases", body)
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        await c.json("POST", f"/api/v1/cases/{case['id']}/accept", {})
        times.append(time.perf_counter() - t)
    out["take in/accept"] = times
    for conn in (a, o, c):
        await conn.close()
    return out


def report(res: dict) -> str:
    lines = [START, "## Cases (issue 15)", "",
             f"Measured {res['date']} by `{res['cmd']}` on this machine (load average {res['load']}): "
             f"{res['cases']:,} cases in the store "
             f"({', '.join(f'{k} {v:,}' for k, v in sorted(res['by_status'].items()))}); "
             f"the worklist of {res['department']} has {res['worklist_rows']} rows (first page), its overdue list "
             f"{res['overdue_rows']}. One request at a time over HTTP/1.1 keep-alive, {res['rounds']} rounds each.", "",
             "| request | p50 ms | p99 ms | target p99 |", "|---|---|---|---|"]
    for name, target in (("worklist", "worklist"), ("overdue", "overdue"), ("one case", None),
                         ("claim/release", "action"), ("take in/accept", "action")):
        xs = res["times"][name]
        lines.append(f"| {name} | {ms(pct(xs, 50))} | {ms(pct(xs, 99))} | "
                     f"{f'≤ {TARGET_MS[target]} ms' if target else '—'} |")
    lines += ["", "Each action is a durable commit (fsync) with its event; the calling figures above are measured "
              "by bench/run.py and bench/calling.py in the same `make bench`.", END]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--department", default="区民政局")
    ap.add_argument("--write", type=Path, help="put the Cases section into this markdown file")
    args = ap.parse_args()
    import os

    d = fresh_dir(ROOT / "var" / "bench" / "cases")
    srv = Server(d, free_port(), ADMIN_PASSWORD, str(DISTRICT))
    srv.start(timeout=60)                        # creates the schema, then stops for the bulk load
    srv.stop()
    t = time.perf_counter()
    counts = populate(d / "hall.db", args.cases)
    print(f"wrote {args.cases:,} cases in {time.perf_counter() - t:.1f} s: {counts}")
    srv.start(timeout=60)
    try:
        got = asyncio.run(measure(srv.port, ADMIN_PASSWORD, args.department, args.rounds))
    finally:
        srv.stop()
    res = {"date": datetime.now().strftime("%Y-%m-%d %H:%M"), "cmd": "python bench/cases.py" +
           (f" --write {args.write}" if args.write else ""), "load": f"{os.getloadavg()[0]:.1f}",
           "cases": args.cases, "by_status": counts, "department": args.department, "rounds": args.rounds,
           "worklist_rows": got.pop("worklist_rows"), "overdue_rows": got.pop("overdue_rows"), "times": got}
    for name, xs in got.items():
        print(f"{name:16s} p50 {ms(pct(xs, 50))} ms  p99 {ms(pct(xs, 99))} ms")
    if args.write:
        text = args.write.read_text(encoding="utf-8") if args.write.exists() else ""
        section = report(res)
        if START in text:
            text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: section, text, flags=re.S)
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        args.write.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
