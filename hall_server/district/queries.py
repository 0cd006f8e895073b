"""What the district board reads: plain functions over a psycopg connection and the projections' tables.

Times: `now` is the service's clock (an aware datetime); "today" of a hall is its service day at `now` (its time
zone and rollover hour, halls.info; projections/_time.py). Online / offline is PostgreSQL's own clock against
halls.last_contact, which the hall's shipper refreshes with every batch and every interval_s while idle.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from .projections import cases_table
from .projections._time import day_of, rule_of
from .projections.daily import BUCKET_S

LEVELS = ("district", "street", "community")
RUNNING_CASE = ("accepted", "in_review", "suspended")
FINAL_CASE = ("refused", "delivered", "withdrawn")
GOOD_LEVELS = (4, 5)


def today_of(info: dict, now: datetime) -> date:
    """The hall's service day at `now` (its zone and rollover hour)."""
    return day_of(now, rule_of(info))


def _secs(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round(max(0.0, (now - then).total_seconds()), 1)


def _rate(num: int | None, den: int | None) -> float | None:
    return round(num / den, 4) if den else None


def _by_hall(conn, sql: str, params: tuple = ()) -> dict[str, Any]:
    return {r[0]: r[1:] for r in conn.execute(sql, params).fetchall()}


def _hall_rows(conn, offline_after_s: float, codes: list[str] | None = None) -> list[tuple]:
    where, params = "", [offline_after_s]
    if codes is not None:
        where, params = "WHERE h.code = ANY(%s)", [offline_after_s, codes]
    return conn.execute(
        "SELECT h.code, h.name, h.level, h.info, h.last_seq, h.hall_latest_seq, h.last_event_at, h.last_contact,"
        " COALESCE(h.last_contact > now() - make_interval(secs => %s), false),"
        " EXTRACT(EPOCH FROM now() - h.last_contact), COALESCE(c.seq, 0)"
        f" FROM halls h LEFT JOIN d_cursor c ON c.hall = h.code {where}"
        " ORDER BY array_position(ARRAY['district','street','community'], h.level), h.code", params).fetchall()


def halls(conn, now: datetime, offline_after_s: float, codes: list[str] | None = None) -> list[dict[str, Any]]:
    """Every hall (or those of `codes`) as the board's first table shows it."""
    rows = _hall_rows(conn, offline_after_s, codes)
    if not rows:
        return []
    todays = {r[0]: today_of(r[3], now) for r in rows}
    days = sorted(set(todays.values()))
    queue = _by_hall(conn, "SELECT hall, count(*), min(issued_at) FROM d_queue WHERE status = 'waiting'"
                           " GROUP BY hall")
    windows = _by_hall(conn, "SELECT hall, count(*) FILTER (WHERE state = 'open'), count(*) FILTER (WHERE state ="
                             " 'paused') FROM d_windows GROUP BY hall")
    served: dict[str, tuple] = {}
    for hall, day, issued, n in conn.execute("SELECT hall, day, issued, served FROM d_day WHERE day = ANY(%s)",
                                             (days,)).fetchall():
        if todays.get(hall) == day:
            served[hall] = (issued, n)
    rated: dict[str, tuple] = {}
    month_start = {h: d.replace(day=1) for h, d in todays.items()}
    for hall, day, n, good in conn.execute(
            "SELECT hall, day, rated, good FROM d_rating_day WHERE day >= %s",
            (min(month_start.values()),)).fetchall():
        if hall in todays and month_start[hall] <= day <= todays[hall]:
            t, tg, m, mg = rated.get(hall, (0, 0, 0, 0))
            today = day == todays[hall]
            rated[hall] = (t + n * today, tg + good * today, m + n, mg + good)
    pending = _by_hall(conn, "SELECT hall, count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE"
                             " state = 'rejected' AND settled_at > now() - interval '7 days') FROM commands"
                             " GROUP BY hall")
    cases = _cases(conn, todays)
    out = []
    for (code, name, level, info, last_seq, latest, last_event_at, last_contact, online, since_contact,
         applied) in rows:
        info = info or {}
        waiting, oldest = queue.get(code, (0, None))
        open_w, paused_w = windows.get(code, (0, 0))
        issued, n_served = served.get(code, (0, 0))
        t, tg, m, mg = rated.get(code, (0, 0, 0, 0))
        lag_events = max(0, (latest or 0) - (last_seq or 0))
        lag_s = 0.0 if online and not lag_events else (None if since_contact is None
                                                         else round(float(since_contact), 1))
        c = cases.get(code, {"by_state": {}, "overdue": 0})
        p, r = pending.get(code, (0, 0))
        out.append({
            "code": code, "name": name, "level": level, "online": bool(online), "last_seq": last_seq,
            "hall_latest_seq": latest, "lag_events": lag_events, "lag_s": lag_s, "applied_seq": applied,
            "last_event_at": last_event_at.isoformat() if last_event_at else None,
            "last_contact": last_contact.isoformat() if last_contact else None,
            "today": todays[code].isoformat(), "windows_total": len(info.get("windows") or ()), "open_windows": open_w,
            "paused_windows": paused_w, "waiting": waiting, "longest_wait_s": _secs(now, oldest) if waiting else 0,
            "issued_today": issued, "served_today": n_served, "cases": c["by_state"], "overdue": c["overdue"],
            "rated_today": t, "good_rate": _rate(tg, t), "rated_month": m, "good_rate_month": _rate(mg, m),
            "commands_pending": p, "commands_rejected": r})
    return out


def _cases(conn, todays: dict[str, date]) -> dict[str, dict]:
    table = cases_table()
    if table is None:
        return {}
    out: dict[str, dict] = {}
    for hall, status, n in conn.execute(f"SELECT hall, status, count(*) FROM {table} WHERE NOT status = ANY(%s)"
                                        " GROUP BY hall, status", (list(FINAL_CASE),)).fetchall():
        out.setdefault(hall, {"by_state": {}, "overdue": 0})["by_state"][status] = n
    for hall, due, n in conn.execute(f"SELECT hall, due, count(*) FROM {table} WHERE status = ANY(%s) AND due IS"
                                     " NOT NULL GROUP BY hall, due", (list(RUNNING_CASE),)).fetchall():
        if hall in todays and due < todays[hall]:
            out.setdefault(hall, {"by_state": {}, "overdue": 0})["overdue"] += n
    return out


def hall(conn, code: str, now: datetime, offline_after_s: float) -> dict[str, Any] | None:
    """One hall's drill-down: its summary, every window and its queues by matter (ticket numbers, no names)."""
    found = halls(conn, now, offline_after_s, [code])
    if not found:
        return None
    summary = found[0]
    info = conn.execute("SELECT info FROM halls WHERE code = %s", (code,)).fetchone()[0] or {}
    today = date.fromisoformat(summary["today"])
    state = {r[0]: r[1:] for r in conn.execute(
        "SELECT number, name, state, staffed, reason, since, current_number, current_status, current_matter"
        " FROM d_windows WHERE hall = %s", (code,)).fetchall()}
    served = _by_hall(conn, "SELECT number, served, no_show, handle_s FROM d_window_day WHERE hall = %s AND day = %s",
                      (code, today))
    numbers = [w["number"] for w in info.get("windows") or ()]
    names = {w["number"]: w.get("name") for w in info.get("windows") or ()}
    windows = []
    for n in sorted(set(numbers) | set(state)):
        name, st, staffed, reason, since, cur_no, cur_status, cur_matter = state.get(
            n, (None, "closed", False, None, None, None, None, None))
        s, ns, handle = served.get(n, (0, 0, 0.0))
        windows.append({"number": n, "name": names.get(n) or name, "state": st, "staffed": staffed,
                        "reason": reason, "since": since.isoformat() if since else None, "current": cur_no,
                        "current_status": cur_status, "current_matter": cur_matter, "served_today": s,
                        "no_show_today": ns, "handle_mean_s": round(handle / s, 1) if s else None})
    matter_names = {m["code"]: m.get("name") for m in info.get("matters") or ()}
    queues = []
    for matter, grp, waiting, oldest, called, numbers_ in conn.execute(
            "SELECT matter, max(grp), count(*) FILTER (WHERE status = 'waiting'),"
            " min(issued_at) FILTER (WHERE status = 'waiting'), count(*) FILTER (WHERE status IN ('called',"
            " 'serving')), (array_agg(number ORDER BY issued_at) FILTER (WHERE status = 'waiting'))[1:5]"
            " FROM d_queue WHERE hall = %s GROUP BY matter ORDER BY matter", (code,)).fetchall():
        if not waiting and not called:
            continue
        queues.append({"matter": matter, "name": matter_names.get(matter) or matter, "group": grp,
                       "waiting": waiting, "at_windows": called, "next": numbers_ or [],
                       "longest_wait_s": _secs(now, oldest) if waiting else 0})
    return {**summary, "name_en": info.get("name_en"), "windows": windows, "queues": queues}


# -- the statistics, summed over halls -------------------------------------------------------------------------
def percentile(hist: dict[int, int], q: float, longest: float | None) -> float | None:
    """The hall's percentile definition (hall_server/stats/figures.percentile) on 60-s buckets."""
    n = sum(hist.values())
    if n == 0:
        return None
    rank, seen = max(1, math.ceil(q * n)), 0
    for b in sorted(hist):
        seen += hist[b]
        if seen >= rank:
            edge = float((b + 1) * BUCKET_S)
            return min(edge, longest) if longest is not None else edge
    return longest


STAT_SUMS = ("issued", "served", "no_show", "cancelled", "expired", "transferred", "cases_received",
             "cases_accepted", "cases_decided", "cases_on_time", "handle_s")


def stats(conn, day_from: date, day_to: date, by: str, level: str | None = None,
          codes: list[str] | None = None) -> dict[str, Any]:
    """The statistics of the range per hall (by='hall') or per day summed over the halls chosen (by='day'), and
    the total over them all. Halls: every one, or those of `level`, or those named in `codes`."""
    where, params = ["d.day BETWEEN %s AND %s"], [day_from, day_to]
    if level:
        where.append("h.level = %s")
        params.append(level)
    if codes:
        where.append("h.code = ANY(%s)")
        params.append(codes)
    cond = " AND ".join(where)
    key = "d.hall" if by == "hall" else "d.day::text"
    join = "JOIN halls h ON h.code = d.hall"
    sums = ", ".join(f"sum(d.{c})" for c in STAT_SUMS)
    rows: dict[str, dict] = {}

    def row(k: str) -> dict:
        return rows.setdefault(k, {"key": k, **{c: 0 for c in STAT_SUMS}, "rated": 0, "good": 0, "bad_count": 0,
                                   "hist": {}, "wait_max_s": None})
    for k, *vals, wmax in conn.execute(f"SELECT {key}, {sums}, max(d.wait_max_s) FROM d_day d {join} WHERE {cond}"
                                       f" GROUP BY 1", params).fetchall():
        r = row(k)
        r.update({c: (v or 0) for c, v in zip(STAT_SUMS, vals, strict=True)})
        r["wait_max_s"] = wmax
    for k, b, n in conn.execute(f"SELECT {key}, d.bucket, sum(d.n) FROM d_day_wait d {join} WHERE {cond}"
                                " GROUP BY 1, 2", params).fetchall():
        row(k)["hist"][b] = int(n)
    for k, n, good, bad in conn.execute(f"SELECT {key}, sum(d.rated), sum(d.good), sum(d.bad) FROM d_rating_day d"
                                        f" {join} WHERE {cond} GROUP BY 1", params).fetchall():
        row(k).update(rated=int(n or 0), good=int(good or 0), bad_count=int(bad or 0))
    names = {c: (n, lv) for c, n, lv in conn.execute("SELECT code, name, level FROM halls").fetchall()}
    total = row("__total__")
    for k, r in rows.items():
        if k == "__total__":
            continue
        for c in (*STAT_SUMS, "rated", "good", "bad_count"):
            total[c] += r[c]
        for b, n in r["hist"].items():
            total["hist"][b] = total["hist"].get(b, 0) + n
        if r["wait_max_s"] is not None:
            total["wait_max_s"] = max(total["wait_max_s"] or 0.0, r["wait_max_s"])
    out = [_figures(r, names) for k, r in sorted(rows.items()) if k != "__total__"]
    if by == "hall":
        order = {c: i for i, c in enumerate(r[0] for r in _hall_rows(conn, 0))}
        out.sort(key=lambda r: order.get(r["key"], len(order)))
    return {"from": day_from.isoformat(), "to": day_to.isoformat(), "by": by, "rows": out,
            "total": {**_figures(total, {}), "key": "total"}}


def _figures(r: dict, names: dict) -> dict[str, Any]:
    hist, longest = r["hist"], r["wait_max_s"]
    name, level = names.get(r["key"], (None, None))
    return {"key": r["key"], "name": name, "level": level, "issued": int(r["issued"]), "served": int(r["served"]),
            "no_show": int(r["no_show"]), "cancelled": int(r["cancelled"]), "expired": int(r["expired"]),
            "transferred": int(r["transferred"]),
            "wait_p50_s": percentile(hist, 0.5, longest), "wait_p90_s": percentile(hist, 0.9, longest),
            "wait_max_s": None if longest is None else round(float(longest), 1),
            "handle_mean_s": round(float(r["handle_s"]) / r["served"], 1) if r["served"] else None,
            "cases_received": int(r["cases_received"]), "cases_accepted": int(r["cases_accepted"]),
            "cases_decided": int(r["cases_decided"]), "on_time_rate": _rate(r["cases_on_time"], r["cases_decided"]),
            "rated": r["rated"], "good_rate": _rate(r["good"], r["rated"]), "bad_count": r["bad_count"]}


# -- the commands of cases across levels ---------------------------------------------------------------------------
def commands(conn, state: str | None, limit: int = 200) -> list[dict[str, Any]]:
    """Commands sent to halls: `state` pending | applied | rejected, or (None) the pending ones and the rejections
    of the last 7 days — what the board shows. A rejection carries the hall's reason as the hall worded it."""
    if state is None:
        where, params = "c.state = 'pending' OR (c.state = 'rejected' AND c.settled_at > now() - interval '7 days')", ()
    else:
        where, params = "c.state = %s", (state,)
    rows = conn.execute(
        "SELECT c.id, c.hall, h.name, c.case_number, c.action, c.actor, c.issued_by_hall, c.created_at, c.state,"
        " c.result, c.applied_seq, c.settled_at, EXTRACT(EPOCH FROM now() - c.created_at)"
        f" FROM commands c JOIN halls h ON h.code = c.hall WHERE {where} ORDER BY c.created_at DESC LIMIT %s",
        (*params, limit)).fetchall()
    out = []
    for cid, hall_, name, number, action, actor, by_hall, created, st, result, seq, settled, age in rows:
        result = result or {}
        out.append({"id": str(cid), "hall": hall_, "hall_name": name, "case_number": number, "action": action,
                    "actor": actor, "issued_by_hall": by_hall, "created_at": created.isoformat(), "state": st,
                    "age_s": round(float(age), 1), "applied_seq": seq,
                    "settled_at": settled.isoformat() if settled else None,
                    "reason": ({"code": result.get("code"), "message_zh": result.get("message_zh"),
                                "message_en": result.get("message_en")} if st == "rejected" else None)})
    return out
