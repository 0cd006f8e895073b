"""The load phases, run against a live server: accounts, windows, the mixed call/issue phase with a
WebSocket watcher, and the closed-loop ticket-issue throughput phase."""
from __future__ import annotations

import asyncio
import json
import random
import time

import psutil
from lib import HOST, HttpConn, pct
from websockets.asyncio.client import connect as ws_connect

CLERK_PASSWORD = "bench-clerk-password"
KIOSK_PASSWORD = "bench-kiosk-password"
KIOSKS = 4


async def setup_accounts(port: int, admin_password: str, windows: list[int], parallel: int = 2) -> dict[str, str]:
    """Create kiosk1..4 and clerk<n> for every window; returns username → token."""
    admin = HttpConn(port)
    admin.token = (await admin.json("POST", "/api/v1/auth/login",
                                    {"username": "admin", "password": admin_password}))["token"]
    users = [(f"kiosk{k}", "kiosk", KIOSK_PASSWORD) for k in range(1, KIOSKS + 1)]
    users += [(f"clerk{n}", "clerk", CLERK_PASSWORD) for n in windows]
    tokens: dict[str, str] = {}
    sem = asyncio.Semaphore(parallel)   # scrypt runs in the server's threads: two at a time on two cores

    async def one(username: str, role: str, password: str) -> None:
        async with sem:
            c = HttpConn(port, admin.token)
            await c.json("POST", "/api/v1/users", {"username": username, "password": password, "role": role},
                         expect=(201,))
            c.token = None
            tokens[username] = (await c.json("POST", "/api/v1/auth/login",
                                             {"username": username, "password": password}))["token"]
            await c.close()

    await asyncio.gather(*(one(*u) for u in users))
    await admin.close()
    return tokens


async def open_windows(port: int, tokens: dict[str, str], windows: list[int]) -> None:
    async def one(n: int) -> None:
        c = HttpConn(port, tokens[f"clerk{n}"])
        await c.json("POST", f"/api/v1/windows/{n}/login")
        await c.json("POST", f"/api/v1/windows/{n}/open", expect=(200, 409))
        await c.close()
    await asyncio.gather(*(one(n) for n in windows))


async def waiting(port: int) -> int:
    c = HttpConn(port)
    q = await c.json("GET", "/api/v1/queue")
    await c.close()
    return q["waiting"]


async def health(port: int) -> dict:
    c = HttpConn(port)
    h = await c.json("GET", "/api/v1/health")
    await c.close()
    return h


async def seed(port: int, tokens: dict[str, str], own_matters: dict[int, list[str]], per_window: int) -> None:
    """A backlog of `per_window` waiting tickets for each window's first group, so no call finds nothing."""
    todo = [m for w, ms in own_matters.items() for m in random.Random(w).choices(ms, k=per_window)]

    async def kiosk(k: int) -> None:
        c = HttpConn(port, tokens[f"kiosk{k + 1}"])
        for m in todo[k::KIOSKS]:
            await c.json("POST", "/api/v1/tickets", {"matter": m}, expect=(201,))
        await c.close()
    await asyncio.gather(*(kiosk(k) for k in range(KIOSKS)))


class CpuMeter:
    """CPU used over a phase by the server process, by its child processes (the seat worker, the announcer's
    render worker and the programs they run), by this load generator, and by everything else on the machine
    (other users' processes: the noise), each in % of one core."""

    def __init__(self, server_pid: int):
        self.server = psutil.Process(server_pid)
        self.me = psutil.Process()

    @staticmethod
    def _busy() -> float:
        t = psutil.cpu_times()
        return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0)

    @staticmethod
    def _used(p: psutil.Process) -> float:
        t = p.cpu_times()
        return t.user + t.system

    def _children(self) -> dict[int, float]:
        out = {}
        for k in self.server.children(recursive=True):
            try:
                out[k.pid] = self._used(k)
            except psutil.Error:
                pass
        return out

    def __enter__(self):
        self.t0 = time.perf_counter()
        self.s0, self.m0, self.k0, self.b0 = (self._used(self.server), self._used(self.me), self._children(),
                                              self._busy())
        return self

    def __exit__(self, *exc):
        el = time.perf_counter() - self.t0
        server, mine = self._used(self.server) - self.s0, self._used(self.me) - self.m0
        kids = sum(v - self.k0.get(pid, 0.0) for pid, v in self._children().items())   # new ones: all of it
        self.server_pct = 100 * server / el
        self.children_pct = 100 * kids / el
        self.loadgen_pct = 100 * mine / el
        self.other_pct = max(0.0, 100 * (self._busy() - self.b0 - server - kids - mine) / el)

    def fields(self) -> dict[str, float]:
        return {"server_cpu_pct": self.server_pct, "children_cpu_pct": self.children_pct,
                "loadgen_cpu_pct": self.loadgen_pct, "other_cpu_pct": self.other_pct}


async def mixed_phase(port: int, tokens: dict[str, str], windows: list[int], own_matters: dict[int, list[str]],
                      seconds: float, call_rate: float, issue_rate: float) -> dict:
    """Call-next round-robin over the windows at a fixed `call_rate` while kiosks issue at `issue_rate`.

    Each window is called every len(windows)/call_rate s (0.44 s for 22 windows at 50/s). The 2 s
    debounce applies only to a ticket still in state `called`, so the clerk presses `start` (the citizen
    has arrived) 100 ms after each call; the next call-next then finishes that ticket and calls the next
    one — the full work of a real call. A WebSocket client subscribed beforehand timestamps every
    `ticket.called` event.
    """
    ev_at: dict[int, float] = {}
    ws = await ws_connect(f"ws://{HOST}:{port}/api/v1/events", max_size=None)

    async def reader() -> None:
        async for msg in ws:
            t = time.perf_counter()
            e = json.loads(msg)
            if e.get("type") == "ticket.called":
                ev_at[e["data"]["ticket_id"]] = t

    reader_task = asyncio.create_task(reader())
    nw = len(windows)
    rounds = int(seconds * call_rate / nw)
    n_issues = int(seconds * issue_rate)
    t0 = time.perf_counter() + 0.3
    calls: list[dict] = []
    issues: list[tuple[float, float, int]] = []   # (latency, lag, status)
    starts: list[int] = []

    async def window_loop(j: int, w: int) -> None:
        c = HttpConn(port, tokens[f"clerk{w}"])
        for r in range(rounds):
            due = t0 + (j + r * nw) / call_rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            ts = time.perf_counter()
            status, body = await c.request("POST", f"/api/v1/windows/{w}/call-next")
            tr = time.perf_counter()
            tid = json.loads(body)["id"] if status == 200 else None
            calls.append({"w": w, "status": status, "sent": ts, "resp": tr, "lag": ts - due, "tid": tid})
            if status == 200:
                await asyncio.sleep(0.1)
                st, _ = await c.request("POST", f"/api/v1/windows/{w}/start")
                starts.append(st)
        await c.close()

    async def kiosk_loop(k: int) -> None:
        c = HttpConn(port, tokens[f"kiosk{k + 1}"])
        rnd = random.Random(100 + k)
        for i in range(k, n_issues, KIOSKS):
            due = t0 + i / issue_rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            matter = rnd.choice(own_matters[windows[i % nw]])
            ts = time.perf_counter()
            status, _ = await c.request("POST", "/api/v1/tickets", {"matter": matter})
            issues.append((time.perf_counter() - ts, ts - due, status))
        await c.close()

    await asyncio.gather(*(window_loop(j, w) for j, w in enumerate(windows)),
                         *(kiosk_loop(k) for k in range(KIOSKS)))
    elapsed = time.perf_counter() - t0
    await asyncio.sleep(1.0)            # let the last events arrive
    await ws.close()
    reader_task.cancel()

    ok = [c for c in calls if c["status"] == 200]
    lat = [c["resp"] - c["sent"] for c in calls if c["status"] in (200, 204)]
    resp_to_ev = [ev_at[c["tid"]] - c["resp"] for c in ok if c["tid"] in ev_at]
    send_to_ev = [ev_at[c["tid"]] - c["sent"] for c in ok if c["tid"] in ev_at]
    statuses: dict[int, int] = {}
    for c in calls:
        statuses[c["status"]] = statuses.get(c["status"], 0) + 1
    ilat = [x[0] for x in issues if x[2] == 201]
    return {
        "seconds": round(elapsed, 1), "calls": len(calls), "call_rate": len(calls) / elapsed,
        "call_status": statuses, "start_non_200": sum(1 for s in starts if s != 200),
        "call_p50": pct(lat, 50), "call_p99": pct(lat, 99), "call_max": max(lat, default=float("nan")),
        "call_lag_p99": pct([c["lag"] for c in calls], 99),
        "issues": len(issues), "issue_rate": len(issues) / elapsed,
        "issue_non_201": sum(1 for x in issues if x[2] != 201),
        "issue_p50": pct(ilat, 50), "issue_p99": pct(ilat, 99), "issue_lag_p99": pct([x[1] for x in issues], 99),
        "events_matched": len(resp_to_ev), "events_missing": len(ok) - len(resp_to_ev),
        "resp_to_event_p50": pct(resp_to_ev, 50), "resp_to_event_p99": pct(resp_to_ev, 99),
        "resp_to_event_min": min(resp_to_ev, default=float("nan")),
        "send_to_event_p50": pct(send_to_ev, 50), "send_to_event_p99": pct(send_to_ev, 99),
    }


async def throughput_phase(port: int, tokens: dict[str, str] | None, matters: list[str], clients: int,
                           warmup: float, seconds: float, path: str = "/api/v1/tickets") -> dict:
    """`clients` closed-loop kiosk clients issue tickets as fast as the server answers.

    `tokens` None: no authentication (bench/bare.py's endpoint, `path` "/tickets")."""
    t_meas = time.perf_counter() + warmup
    t_end = t_meas + seconds
    lat: list[float] = []
    other: dict[int, int] = {}
    snaps: list[dict] = []

    async def client(k: int) -> None:
        c = HttpConn(port, tokens[f"kiosk{k % KIOSKS + 1}"] if tokens else None)
        rnd = random.Random(1000 + k)
        while (ts := time.perf_counter()) < t_end:
            status, _ = await c.request("POST", path, {"matter": rnd.choice(matters)})
            te = time.perf_counter()
            if ts >= t_meas and te <= t_end:
                if status == 201:
                    lat.append(te - ts)
                else:
                    other[status] = other.get(status, 0) + 1
        await c.close()

    async def snapshots() -> None:
        for at in (t_meas, t_end):
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            snaps.append(await health(port))

    await asyncio.gather(snapshots(), *(client(k) for k in range(clients)))
    commits = snaps[1]["database"]["commits"] - snaps[0]["database"]["commits"]
    return {"clients": clients, "seconds": seconds, "tickets": len(lat), "rate": len(lat) / seconds,
            "p50": pct(lat, 50), "p99": pct(lat, 99), "errors": other,
            "commits": commits, "per_commit": len(lat) / commits if commits else float("nan")}


async def quiet_phase(port: int, tokens: dict[str, str], window: int, calls: int, every_s: float) -> dict:
    """One clerk in an otherwise idle hall: call-next every `every_s` (start 100 ms after each call,
    as in the mixed phase). Shows the latency floor of this machine, where every request wakes an idle
    server (and client) from sleep, without other traffic to queue behind."""
    c = HttpConn(port, tokens[f"clerk{window}"])
    lat: list[float] = []
    for _ in range(calls):
        t = time.perf_counter()
        status, body = await c.request("POST", f"/api/v1/windows/{window}/call-next")
        lat.append(time.perf_counter() - t)
        if status != 200:
            raise RuntimeError(f"quiet phase: call-next answered {status}: {body[:200]!r}")
        await asyncio.sleep(0.1)
        await c.request("POST", f"/api/v1/windows/{window}/start")
        await asyncio.sleep(max(0.0, every_s - 0.1))
    await c.close()
    return {"calls": calls, "every_s": every_s, "p50": pct(lat, 50), "p99": pct(lat, 99), "max": max(lat)}
