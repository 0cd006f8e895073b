"""`make bench` (issue 16): ordinary API requests while SMS go out through a slow simulated modem and locker
commands are in flight — an SMS send or a door command must never hold a request up (target p99 ≤ 20 ms).

The real server (`python -m hall_server serve`) on the district centre's config, its devices replaced by the
SMS modem (sim://sms with `network_ms=`: the network takes each PDU that long before +CMGS answers, as a real
modem takes seconds) and the result lockers (sim://locker with `answer_ms=`: a slow lock-control board). Four
phases of the same requests, one at a time on one keep-alive connection, measured from the client:

  quiet    nothing else going on;
  sms      meanwhile a clerk takes in and accepts a case every `--sms-every` s (each queues an SMS of 2-3 parts,
           more than the slow modem sends in that time, so the outbox never runs dry);
  lockers  meanwhile another loads decided cases into the lockers one after the other (POST /cases/{id}/locker:
           the door command, then the door shut through the simulator and the door watch's polls until ready);
  both     the two at once.

The ordinary requests: a case read, the hall, a window, the lockers' info, and a ticket taken (a durable commit).
Writes an "SMS and lockers (issue 16)" section into docs/benchmarks.md with --write.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from lib import ROOT, HttpConn, Server, free_port, fresh_dir, ms, pct

ADMIN_PASSWORD = "bench-admin-password"
DISTRICT = ROOT / "config" / "district-centre.toml"
TARGET_MS = 20
START, END = "<!-- handout-devices:start -->", "<!-- handout-devices:end -->"
CASE = {"matter": "SH-003", "applicant": {"name": "测试", "phone": "13800000000"},
        "materials": [{"name": n, "state": "original"} for n in ("居民身份证原件", "临时救助申请书",
                                                                   "遭遇困难的相关证明")]}
INSTANT = {"matter": "WJ-001", "applicant": {"name": "测试", "phone": "13800000001"},    # 即办: decided at once
           "materials": [{"name": n, "state": "original"} for n in ("夫妻双方居民身份证", "结婚证", "户口簿")]}
ORDINARY = ("one case", "hall", "window", "lockers info", "take a ticket")


def config(directory: Path, network_ms: int, answer_ms: int) -> Path:
    """The district centre with only the modem and the lockers as devices (and no seats to watch)."""
    text = DISTRICT.read_text(encoding="utf-8")
    for table in ("devices", "seats"):
        text = re.sub(rf"(?ms)^\[\[{table}\]\]\n.*?(?=^\[|\Z)", "", text)
    text += (f'\n[[devices]]\nname = "sms-modem"\nkind = "sms"\nurl = "sim://sms?network_ms={network_ms}&send_timeout=10"'
             '\npoll_s = 30\n'
             f'\n[[devices]]\nname = "result-lockers"\nkind = "locker"\n'
             f'url = "sim://locker?boards=2&locks=24&answer_ms={answer_ms}"\npoll_s = 15\n')
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "hall-sms-lockers.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def login(port: int) -> HttpConn:
    c = HttpConn(port)
    c.token = (await c.json("POST", "/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD}))["token"]
    return c


async def accepted(c: HttpConn, body: dict = CASE) -> dict:
    case = await c.json("POST", "/api/v1/cases", body)
    return await c.json("POST", f"/api/v1/cases/{case['id']}/accept", {})


async def ordinary(c: HttpConn, case_id: int, rounds: int) -> dict[str, list[float]]:
    paths = {"one case": ("GET", f"/api/v1/cases/{case_id}", None), "hall": ("GET", "/api/v1/hall", None),
             "window": ("GET", "/api/v1/windows/6", None), "lockers info": ("GET", "/api/v1/lockers/info", None),
             "take a ticket": ("POST", "/api/v1/tickets", {"matter": "KY-001"})}
    out: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, (method, path, body) in paths.items():
            t = time.perf_counter()
            await c.json(method, path, body)
            out[name].append(time.perf_counter() - t)
            await asyncio.sleep(0.005)              # a hall's pace, not a flood: the devices' work is the load
    return out


async def sms_feeder(c: HttpConn, every: float, stop: asyncio.Event, count: list[int]) -> None:
    while not stop.is_set():
        await accepted(c)
        count[0] += 1
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass


async def locker_loader(c: HttpConn, stop: asyncio.Event, loads: list[float]) -> None:
    while not stop.is_set() and len(loads) < 22:        # per phase: 48 compartments for two phases
        case = await accepted(c, INSTANT)
        await c.json("POST", f"/api/v1/cases/{case['id']}/decide", {"outcome": "approved"})
        t = time.perf_counter()
        got = (await c.json("POST", f"/api/v1/cases/{case['id']}/locker", {}))["locker"]
        loads.append(time.perf_counter() - t)
        await c.json("POST", "/api/v1/devices/result-lockers/simulate",
                     {"shut": True, "board": got["board"], "lock": got["lock"]})
        while not stop.is_set() and (await c.json("GET", f"/api/v1/cases/{case['id']}"))["status"] != "ready":
            await asyncio.sleep(0.1)


async def outbox_counts(c: HttpConn) -> dict[str, int]:
    body = await c.json("GET", "/api/v1/outbox?limit=1000")
    rows = body["messages"] if isinstance(body, dict) and "messages" in body else body
    counts: dict[str, int] = {}
    for r in rows if isinstance(rows, list) else []:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


async def busy_phase(port: int, probe: HttpConn, case_id: int, rounds: int, sms_every: float | None,
                     lockers: bool) -> dict:
    """The ordinary requests while cases are fed (SMS) every `sms_every` s and/or results loaded into lockers."""
    feeder, loader = await login(port), await login(port)
    stop = asyncio.Event()
    fed, loads = [0], []
    tasks = ([asyncio.create_task(sms_feeder(feeder, sms_every, stop, fed))] if sms_every else []) + \
        ([asyncio.create_task(locker_loader(loader, stop, loads))] if lockers else [])
    await asyncio.sleep(2.0)                             # under way
    t = time.perf_counter()
    times = await ordinary(probe, case_id, rounds)
    seconds = time.perf_counter() - t
    stop.set()
    await asyncio.gather(*tasks)
    for conn in (feeder, loader):
        await conn.close()
    return {"times": times, "seconds": seconds, "cases_fed": fed[0], "loads": loads}


async def measure(port: int, rounds: int, sms_every: float) -> dict:
    admin = await login(port)
    case = await accepted(admin)
    await asyncio.sleep(1.0)                             # the first SMS under way
    probe = await login(port)
    out: dict = {"quiet": {"times": await ordinary(probe, case["id"], rounds)}}
    out["outbox_before"] = await outbox_counts(admin)
    out["sms"] = await busy_phase(port, probe, case["id"], rounds, sms_every, False)
    out["lockers"] = await busy_phase(port, probe, case["id"], rounds, None, True)
    out["both"] = await busy_phase(port, probe, case["id"], rounds, sms_every, True)
    out["outbox_after"] = await outbox_counts(admin)
    for conn in (admin, probe):
        await conn.close()
    return out


PHASES = (("quiet", "quiet"), ("sms", "SMS"), ("lockers", "lockers"), ("both", "SMS + lockers"))


def report(res: dict) -> str:
    after, before = res["outbox_after"], res["outbox_before"]
    sms, lock, both = res["sms"], res["lockers"], res["both"]
    loads = lock["loads"] + both["loads"]
    lines = [START, "## SMS and lockers (issue 16)", "",
             f"Measured {res['date']} by `{res['cmd']}` on this machine (load average {res['load_start']} at the "
             f"start, {res['load']} at the end; 2 cores shared with other work). The real server with the district "
             f"config's devices replaced by a slow simulated SMS modem (`sim://sms?network_ms={res['network_ms']}`: "
             f"each PDU takes {res['network_ms'] / 1000:g} s before +CMGS answers) and the result lockers on a slow "
             f"simulated board (`sim://locker?boards=2&locks=24"
             f"&answer_ms={res['answer_ms']}`). Ordinary requests one at a time over HTTP/1.1 keep-alive, "
             f"{res['rounds']} rounds of each, in four phases: quiet; SMS — a case taken in and accepted every "
             f"{res['sms_every']:g} s ({sms['cases_fed']} + {both['cases_fed']} cases, each an SMS of several parts; "
             f"the outbox went from {before.get('sent', 0)} to {after.get('sent', 0)} sent with "
             f"{after.get('queued', 0)} still queued: the modem was never idle); lockers — results loaded one after "
             f"the other ({len(loads)} in all: the door command, the door shut, the door watch's polls until ready); "
             "and both at once.", "",
             "| request | " + " | ".join(f"{label} p50 / p99 ms" for _, label in PHASES) + " | target p99 |",
             "|---|" + "---|" * len(PHASES) + "---|"]
    for name in (*ORDINARY, None):
        cells = []
        for key, _ in PHASES:
            t = res[key]["times"]
            xs = t[name] if name else [x for n in ORDINARY for x in t[n]]
            cells.append(f"{ms(pct(xs, 50))} / {ms(pct(xs, 99))}")
        lines.append(f"| {name or '**all of them**'} | " + " | ".join(cells) + f" | ≤ {TARGET_MS} ms |")
    worst = max(pct([x for n in ORDINARY for x in res[k]["times"][n]], 99) for k in ("sms", "lockers", "both"))
    quiet = pct([x for n in ORDINARY for x in res["quiet"]["times"][n]], 99)
    lines += ["", f"All the ordinary requests together: p99 at most {ms(worst)} ms while the devices work (target "
              f"≤ {TARGET_MS} ms: {'met' if worst * 1000 <= TARGET_MS else 'not met'}), against {ms(quiet)} ms quiet"
              + ("; the quiet phase's own outliers are this machine's noise (other work on its 2 cores), not the "
                 "devices" if quiet >= worst else "") + ". A single kind's p99 is its 2nd-worst of "
              f"{res['rounds']}: a ticket taken is a durable commit (fsync) and feels the disk most."]
    lines += ["", f"The lockers' own request, POST /cases/{{id}}/locker (answers once the door is open; the command "
              f"goes through the device supervisor in a thread): p50 {ms(pct(loads, 50))} ms, p99 "
              f"{ms(pct(loads, 99))} ms with the board's {res['answer_ms']} ms answer. The SMS are sent by the "
              "outbox's sender task through the supervisor, never in a request; a door shut is seen by the lockers' "
              "door watch. The busy phases also carry the feeding clients' own requests (each accept a durable "
              "commit, the loader's polls), so they measure the hall under that traffic, not the devices alone.", END]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--network-ms", type=int, default=1500, help="the slow modem: the network's time per PDU")
    ap.add_argument("--answer-ms", type=int, default=40, help="the slow lock-control board: its time to answer")
    ap.add_argument("--sms-every", type=float, default=1.0, help="seconds between the cases taken in (each an SMS)")
    ap.add_argument("--write", type=Path, help="put the section into this markdown file")
    args = ap.parse_args()
    load_start = f"{os.getloadavg()[0]:.1f}"
    d = fresh_dir(ROOT / "var" / "bench" / "handout-devices")
    srv = Server(d, free_port(), ADMIN_PASSWORD, str(config(d, args.network_ms, args.answer_ms)))
    srv.start(timeout=60, ok_timeout=30)
    try:
        got = asyncio.run(measure(srv.port, args.rounds, args.sms_every))
    finally:
        srv.stop()
    cmd = "python bench/handout_devices.py" + "".join(
        f" --{k.replace('_', '-')} {v}" for k, v in (("rounds", args.rounds), ("network_ms", args.network_ms),
                                                     ("answer_ms", args.answer_ms), ("sms_every", args.sms_every))
        if v != ap.get_default(k)) + (f" --write {args.write}" if args.write else "")
    res = {**got, "date": datetime.now().strftime("%Y-%m-%d %H:%M"), "cmd": cmd, "load": f"{os.getloadavg()[0]:.1f}",
           "load_start": load_start,
           "rounds": args.rounds, "network_ms": args.network_ms, "answer_ms": args.answer_ms,
           "sms_every": args.sms_every}
    for phase, _ in PHASES:
        for name in ORDINARY:
            xs = got[phase]["times"][name]
            print(f"{phase:7s} {name:14s} p50 {ms(pct(xs, 50))} ms  p99 {ms(pct(xs, 99))} ms")
        xs = [x for n in ORDINARY for x in got[phase]["times"][n]]
        print(f"{phase:7s} {'all':14s} p50 {ms(pct(xs, 50))} ms  p99 {ms(pct(xs, 99))} ms")
    loads = got["lockers"]["loads"] + got["both"]["loads"]
    print(f"locker loads {len(loads)}: p50 {ms(pct(loads, 50))} ms  p99 {ms(pct(loads, 99))} ms;"
          f" outbox {got['outbox_before']} → {got['outbox_after']}")
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
