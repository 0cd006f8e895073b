"""`make bench` (issue 16): ordinary API requests while SMS go out through a slow simulated modem and locker
commands are in flight — an SMS send or a door command must never hold a request up (target p99 ≤ 20 ms).

The real server (`python -m hall_server serve`) on the district centre's config, its devices replaced by the
SMS modem (sim://sms with `network_ms=`: the network takes each PDU that long before +CMGS answers, as a real
modem takes seconds) and the result lockers (sim://locker with `answer_ms=`: a slow lock-control board). Two
phases of the same requests, one at a time on one keep-alive connection, measured from the client:

  quiet   nothing else going on;
  busy    meanwhile a clerk takes in and accepts a case every `--sms-every` s (each queues an SMS of 2-3 parts,
          more than the slow modem sends in that time, so the outbox never runs dry), and another loads decided
          cases into the lockers one after the other (POST /cases/{id}/locker: the door command, then the door
          shut through the simulator and the door watch's polls until the case is ready).

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
    while not stop.is_set() and len(loads) < 44:        # 48 compartments, a few spare
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


async def measure(port: int, rounds: int, sms_every: float) -> dict:
    admin = await login(port)
    case = await accepted(admin)
    await asyncio.sleep(1.0)                             # the first SMS under way
    probe = await login(port)
    quiet = await ordinary(probe, case["id"], rounds)
    feeder, loader = await login(port), await login(port)
    stop = asyncio.Event()
    fed, loads = [0], []
    before = await outbox_counts(admin)
    tasks = [asyncio.create_task(sms_feeder(feeder, sms_every, stop, fed)),
             asyncio.create_task(locker_loader(loader, stop, loads))]
    await asyncio.sleep(2.0)                             # both under way
    t = time.perf_counter()
    busy = await ordinary(probe, case["id"], rounds)
    busy_s = time.perf_counter() - t
    stop.set()
    await asyncio.gather(*tasks)
    after = await outbox_counts(admin)
    for conn in (admin, probe, feeder, loader):
        await conn.close()
    return {"quiet": quiet, "busy": busy, "busy_s": busy_s, "cases_fed": fed[0], "loads": loads,
            "outbox_before": before, "outbox_after": after}


def report(res: dict) -> str:
    quiet_all = [x for name in ORDINARY for x in res["quiet"][name]]
    busy_all = [x for name in ORDINARY for x in res["busy"][name]]
    after, before = res["outbox_after"], res["outbox_before"]
    lines = [START, "## SMS and lockers (issue 16)", "",
             f"Measured {res['date']} by `{res['cmd']}` on this machine (load average {res['load']}). The real server "
             f"with the district config's devices replaced by a slow simulated SMS modem (`sim://sms?network_ms="
             f"{res['network_ms']}`: each PDU takes {res['network_ms'] / 1000:g} s before +CMGS answers) and the "
             f"result lockers on a slow simulated board (`sim://locker?boards=2&locks=24&answer_ms={res['answer_ms']}`)."
             f" Ordinary requests one at a time over HTTP/1.1 keep-alive, {res['rounds']} rounds of each, first with "
             f"nothing else going on (quiet), then (busy, {res['busy_s']:.0f} s) while a case was taken in and "
             f"accepted every {res['sms_every']:g} s ({res['cases_fed']} cases, each an SMS of several parts; the "
             f"outbox went from {before.get('sent', 0)} to {after.get('sent', 0)} sent with {after.get('queued', 0)} "
             f"still queued — the modem was never idle) and {len(res['loads'])} results were loaded into the lockers "
             f"one after the other (door command, door shut, the watch's polls until ready).", "",
             "| request | quiet p50 ms | quiet p99 ms | busy p50 ms | busy p99 ms | target p99 |",
             "|---|---|---|---|---|---|"]
    for name in ORDINARY:
        q, b = res["quiet"][name], res["busy"][name]
        lines.append(f"| {name} | {ms(pct(q, 50))} | {ms(pct(q, 99))} | {ms(pct(b, 50))} | {ms(pct(b, 99))} | "
                     f"≤ {TARGET_MS} ms |")
    lines.append(f"| **all of them** | {ms(pct(quiet_all, 50))} | {ms(pct(quiet_all, 99))} | {ms(pct(busy_all, 50))} "
                 f"| **{ms(pct(busy_all, 99))}** | ≤ {TARGET_MS} ms |")
    lines += ["", f"The lockers' own request, POST /cases/{{id}}/locker (answers once the door is open, its command "
              f"through the device supervisor in a thread): p50 {ms(pct(res['loads'], 50))} ms, p99 "
              f"{ms(pct(res['loads'], 99))} ms with the board's {res['answer_ms']} ms answer. The SMS are sent by the "
              "outbox's sender task through the supervisor, never in a request; a door shut is seen by the lockers' "
              "door watch.", END]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--network-ms", type=int, default=1500, help="the slow modem: the network's time per PDU")
    ap.add_argument("--answer-ms", type=int, default=40, help="the slow lock-control board: its time to answer")
    ap.add_argument("--sms-every", type=float, default=1.0, help="seconds between the cases taken in (each an SMS)")
    ap.add_argument("--write", type=Path, help="put the section into this markdown file")
    args = ap.parse_args()
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
           "rounds": args.rounds, "network_ms": args.network_ms, "answer_ms": args.answer_ms,
           "sms_every": args.sms_every}
    for phase in ("quiet", "busy"):
        for name in ORDINARY:
            xs = got[phase][name]
            print(f"{phase:5s} {name:14s} p50 {ms(pct(xs, 50))} ms  p99 {ms(pct(xs, 99))} ms")
    print(f"locker loads {len(got['loads'])}: p50 {ms(pct(got['loads'], 50))} ms  p99 {ms(pct(got['loads'], 99))} ms;"
          f" cases fed {got['cases_fed']}; outbox {got['outbox_before']} → {got['outbox_after']}")
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
