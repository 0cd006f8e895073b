"""Honest numbers (issue 18, item 5): random days of traffic THROUGH THE ENGINE — issue, call, start, finish,
no-show, transfer, cancel, requeue, pause/resume, clerks logging in and out over several windows and matters, a
fake clock running on across rollovers — projected in batches of random sizes, and every ticket and window figure
of every `by` (with and without filters) checked against a recomputation from the raw rows and events, with the
percentile definition of figures.py. Then `stats rebuild` must give exactly the same reports."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import defaultdict
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from conftest import MORNING
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hall_server.clock import FakeClock
from hall_server.config import load_config
from hall_server.errors import HallError
from hall_server.runtime import Hall
from hall_server.stats.apply import SKIPPED
from hall_server.stats.figures import bucket, percentile
from hall_server.store.database import Change

CFG = load_config(os.path.join(os.path.dirname(__file__), "..", "config", "district-centre.toml"))
TZ = ZoneInfo(CFG.hall.timezone)
MATTERS = ["SH-001", "RS-001", "WJ-001", "YB-001"]
WINDOWS = [1, 2, 3, 9]
CLERKS = ["ca", "cb", "cc", "cd", "ce"]
SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
BYS = ["window", "clerk", "matter", "group", "department", "channel", "day", "week", "month", "hour"]

# an action: a roll of 0..99 picking its kind by these weights, and a number its arguments are drawn from
KINDS = [("issue", 25), ("call", 18), ("finish", 12), ("start", 5), ("skip", 5), ("transfer", 7), ("cancel", 3),
         ("requeue", 2), ("cancel_old", 2), ("state", 5), ("login", 3), ("logout", 2), ("wait", 7), ("project", 2),
         ("night", 2)]
assert sum(w for _k, w in KINDS) == 100
ROLL = [k for k, w in KINDS for _ in range(w)]
action = st.tuples(st.integers(0, 99), st.integers(0, 2**24))


def decode(roll: int, n: int) -> tuple:
    kind = ROLL[roll]
    w = WINDOWS[n % len(WINDOWS)]
    n //= len(WINDOWS)
    if kind == "issue":
        return kind, MATTERS[n % 4], ["kiosk", "kiosk", "appointment", "staff"][(n // 4) % 4]
    if kind == "transfer":
        to_m = [*MATTERS, None][n % 5]
        to_w = [*WINDOWS, None][(n // 5) % 5]
        return kind, w, to_m if (to_m or to_w) else MATTERS[0], to_w
    if kind in ("cancel", "requeue", "cancel_old"):
        return kind, n % 60
    if kind == "state":
        return kind, w, ["open", "pause", "resume", "close"][n % 4]
    if kind == "login":
        return kind, w, CLERKS[n % len(CLERKS)]
    if kind == "wait":
        return kind, 1 + n % 900
    if kind == "project":
        return kind, 1 + n % 30
    return kind, w


def _do(hall: Hall, fn) -> bool:
    try:
        hall.store.write_sync(fn)
        return True
    except HallError:
        return False


def _clerk(conn, number: int) -> str:
    return conn.execute("SELECT clerk FROM windows WHERE number=?", (number,)).fetchone()[0] or "sup"


def _change(hall: Hall, a: tuple, conn):
    """The engine change of action `a`, in the writer's transaction."""
    e, kind = hall.engine, a[0]
    if kind == "issue":
        return e.issue(conn, matter=a[1], channel=a[2], actor="kiosk")
    if kind in ("call", "start", "finish", "skip"):
        return getattr(e, {"call": "call_next"}.get(kind, kind))(conn, a[1], actor=_clerk(conn, a[1]))
    if kind == "transfer":
        return e.transfer(conn, a[1], actor=_clerk(conn, a[1]), to_matter=a[2], to_window=a[3])
    if kind in ("cancel", "requeue", "cancel_old"):
        sql = "SELECT id FROM tickets ORDER BY id"
        if kind == "cancel_old":     # a no-show of an earlier day cancelled: a rolled day touched again
            sql = ("SELECT id FROM tickets WHERE status='no_show' AND service_day <"
                   " (SELECT value FROM meta WHERE key='service_day') ORDER BY id")
        ids = [r[0] for r in conn.execute(sql)]
        if not ids:
            return Change()
        tid = ids[a[1] % len(ids)]
        return e.requeue(conn, tid, actor="sup") if kind == "requeue" else e.cancel(conn, tid, actor="sup")
    if kind == "state":
        return e.set_state(conn, a[1], a[2], actor=_clerk(conn, a[1]))
    if kind == "login":
        return e.login(conn, a[1], username=a[2])
    if kind == "logout":
        return e.logout(conn, a[1], username=_clerk(conn, a[1]))
    if kind == "project":            # the projector applies a batch of a random size (its own database)
        hall.stats.projector.step_now(a[1])
        return Change()
    raise AssertionError(kind)


def _run(hall: Hall, clock: FakeClock, actions) -> None:
    for roll, n in actions:
        a = decode(roll, n)
        if a[0] == "wait":
            clock.advance(seconds=a[1])
        elif a[0] == "night":        # to 08:50 of the next day: the next change rolls the day over
            local = clock.now().astimezone(TZ)
            clock.set(datetime(local.year, local.month, local.day, 8, 50, tzinfo=TZ) + timedelta(days=1))
        else:
            _do(hall, partial(_change, hall, a))
        clock.advance(seconds=3)     # past the call debounce
    while hall.stats.projector.step_now(10_000)[0]:
        pass


# -- the recomputation ------------------------------------------------------------------------------------------
def _local(at: str):
    return datetime.fromisoformat(at).astimezone(TZ)


def _secs(a: str, b: str) -> float:
    return round((datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds(), 3)


def recompute(conn) -> tuple[list[dict], dict]:
    """Per ticket, from the tickets rows and the events (never the stats tables); and the windows' open and paused
    seconds per (day, window, clerk) from the window events."""
    evs = defaultdict(list)
    wevents = []
    for r in conn.execute("SELECT type, at, ticket_id, data FROM events ORDER BY seq"):
        if r["ticket_id"] is not None and r["type"].startswith("ticket."):
            evs[r["ticket_id"]].append((r["type"], r["at"], json.loads(r["data"])))
        if r["type"].startswith("window.") or r["type"] == "day.rolled_over":
            wevents.append((r["type"], r["at"], json.loads(r["data"])))
    out = []
    for t in conn.execute("SELECT * FROM tickets"):
        first = last = serving = None
        window = clerk = handle = None
        for kind, at, d in evs[t["id"]]:
            if kind == "ticket.called":
                first = first or at
                last, serving, window, clerk = at, None, d["window"], d["by"]
            elif kind == "ticket.serving":
                serving = at
            elif kind in ("ticket.finished", "ticket.no_show"):
                window, clerk = d["window"], d["by"]
                if kind == "ticket.finished":
                    handle = _secs(serving or last, at)
        m = CFG.matter(t["matter"])
        loc = _local(t["issued_at"])
        out.append({"day": loc.date().isoformat(), "hour": loc.hour, "wd": loc.isoweekday(), "window": window,
                    "clerk": clerk, "matter": t["matter"], "group": m.group, "department": m.department,
                    "channel": t["channel"], "status": t["status"], "transfers": t["transfers"],
                    "wait": _secs(t["issued_at"], first) if first else None,
                    "handle": handle if t["status"] == "done" else None,
                    "expected": m.minutes * 60.0 if t["status"] == "done" else None})
    state: dict[int, tuple[str, str, str | None]] = {}
    wtime: dict = defaultdict(lambda: [0.0, 0.0])
    for kind, at, d in wevents:
        targets = list(state) if kind == "day.rolled_over" else [d["window"]]
        for w in targets:
            st_, since, clerk = state.get(w, ("closed", at, None))
            new, new_clerk = st_, clerk
            if kind in ("window.opened", "window.resumed"):
                new = "open"
            elif kind == "window.paused":
                new = "paused"
            elif kind in ("window.closed", "day.rolled_over"):
                new, new_clerk = "closed", None
            elif kind == "window.login":
                new_clerk = d["clerk"]
            elif kind == "window.logout":
                new_clerk, new = None, ("paused" if st_ == "open" else st_)
            if st_ in ("open", "paused") and since < at:
                wtime[(_local(since).date().isoformat(), w, clerk or "")][0 if st_ == "open" else 1] += _secs(since, at)
            state[w] = (new, at, new_clerk)
    return out, wtime


def _key(t: dict, by: str):
    if by in ("day", "week", "month"):
        d = datetime.fromisoformat(t["day"]).date()
        y, w, _ = d.isocalendar()
        return {"day": t["day"], "week": f"{y}-W{w:02d}", "month": t["day"][:7]}[by]
    if by == "wh":
        return f"{t['wd']}:{t['hour']:02d}"
    v = t[by]
    return "-" if v is None else str(v)


def expected_rows(tickets: list[dict], by: str) -> dict[str, dict]:
    groups = defaultdict(list)
    for t in tickets:
        groups[_key(t, by)].append(t)
    out = {}
    for k, ts in groups.items():
        waits = [t["wait"] for t in ts if t["wait"] is not None]
        handles = [t["handle"] for t in ts if t["handle"] is not None]
        exp = [t["expected"] for t in ts if t["expected"] is not None]
        hist = lambda xs: {b: sum(1 for x in xs if bucket(x) == b) for b in {bucket(x) for x in xs}}  # noqa: E731
        out[k] = {"issued": len(ts), "served": sum(t["status"] == "done" for t in ts),
                  "no_show": sum(t["status"] == "no_show" for t in ts),
                  "cancelled": sum(t["status"] == "cancelled" for t in ts),
                  "transferred": sum(t["transfers"] > 0 for t in ts),
                  "wait_p50_s": percentile(hist(waits), 0.5, max(waits) if waits else None),
                  "wait_p90_s": percentile(hist(waits), 0.9, max(waits) if waits else None),
                  "wait_max_s": max(waits) if waits else None,
                  "handle_mean_s": round(sum(handles) / len(handles), 1) if handles else None,
                  "handle_p90_s": percentile(hist(handles), 0.9, max(handles) if handles else None),
                  "expected_handle_s": round(sum(exp) / len(exp), 1) if exp else None,
                  "serving_s": round(sum(handles), 1)}
    return out


def _check(hall: Hall, tickets: list[dict], wtime: dict) -> dict:
    conn = hall.stats.reader()
    try:
        return _check_on(conn, hall, tickets, wtime)
    finally:
        conn.close()


def _check_on(conn, hall: Hall, tickets: list[dict], wtime: dict) -> dict:
    days = sorted({t["day"] for t in tickets} | {k[0] for k in wtime})
    if not days:
        return {}
    first, last = datetime.fromisoformat(days[0]).date(), datetime.fromisoformat(days[-1]).date()
    seen = {}
    filters = [{}, {"window": 1}, {"matter": "SH-001"}, {"clerk": "ca"}]
    for by in [*BYS, "wh"]:
        for f in filters:
            rep = hall.stats.reports.report(conn, first, last, "hour" if by == "wh" else by, f,
                                            "weekday" if by == "wh" else None)
            seen[(by, tuple(f.items()))] = rep
            chosen = [t for t in tickets if all(str(t[k]) == str(v) for k, v in f.items())]
            want = expected_rows(chosen, by)
            got = {r["key"]: {k: r[k] for k in next(iter(want.values()), {})} for r in rep["rows"] if r["issued"]}
            assert got == want, (by, f)
            assert rep["totals"]["issued"] == len(chosen)
            if by == "window" and not f:
                for r in rep["rows"]:
                    if r["key"] == "-":
                        continue
                    o = sum(v[0] for k, v in wtime.items() if k[1] == int(r["key"]))
                    p = sum(v[1] for k, v in wtime.items() if k[1] == int(r["key"]))
                    assert abs(r["open_s"] - o) < 0.2 and abs(r["paused_s"] - p) < 0.2, r["key"]
            if by == "clerk" and not f:
                for r in rep["rows"]:
                    o = sum(v[0] for k, v in wtime.items() if (k[2] or "-") == r["key"])
                    assert abs(r["open_s"] - o) < 0.2, r["key"]
    # whole months read the month rows (and the days at either end their own): the same rows as the exact range
    m0 = first.replace(day=1)
    m1 = (last.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    m2 = (m1 + timedelta(days=32)).replace(day=1) - timedelta(days=1)         # the end of the month after
    for by in ("window", "clerk", "matter", "department", "hour"):
        for a, b in ((m0, m1), (first, m2)):
            assert hall.stats.reports.report(conn, a, b, by, {})["rows"] == seen[(by, ())]["rows"], (by, a, b)
    return seen


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(action, min_size=80, max_size=220))
def test_every_figure_equals_a_recomputation_from_the_raw_rows_and_rebuild_agrees(actions):
    d = tempfile.mkdtemp(prefix="onewindow-stats-", dir=SCRATCH)
    clock = FakeClock(MORNING)
    hall = Hall(CFG, d, clock)
    try:
        for w in WINDOWS:       # a clerk at each window, open, to make traffic likely
            _do(hall, partial(_change, hall, ("login", w, CLERKS[WINDOWS.index(w)])))
            _do(hall, partial(_change, hall, ("state", w, "open")))
        _run(hall, clock, actions)
        tickets, wtime = recompute(hall.store.read)
        stats = hall.stats.reader()
        rolled = stats.execute("SELECT COUNT(*) FROM stats_days WHERE rolled=1").fetchone()[0]
        event(f"tickets: {min(len(tickets) // 10 * 10, 40)}+, days rolled: {min(rolled, 2)}")
        event(f"called twice: {any(t['transfers'] for t in tickets)}; old day touched: "
              f"{stats.execute('SELECT COUNT(*) FROM stats_days').fetchone()[0] > rolled}")
        stats.close()
        live = _check(hall, tickets, wtime)
        hall.stats.rebuild(page=7)                         # small pages: many batches
        again = _check(hall, tickets, wtime)
        assert again == live
        assert not SKIPPED, "events the projector could not apply"
    finally:
        hall.close()
        shutil.rmtree(d, ignore_errors=True)
