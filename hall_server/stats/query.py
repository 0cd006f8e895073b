"""Reports from the stats tables: the rows of `GET /api/v1/stats` (one per key of the chosen `by`), their totals,
the dashboard's figures of today and the monthly appraisal.

Ticket figures come from the per-day rollups for rolled days and from the ticket facts for the others (today, and
any day touched since its rollover); with a filter, from the facts (indexed by each filter column and day). Cases,
ratings and complaints are read from their fact tables, the windows' time from stats_wtime, the seats' time from
the seat monitor's own per-day table seat_time.
"""
from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from . import figures
from .facts import Dims
from .figures import CHANNELS, WEEKDAYS_ZH, percentile
from .rollup import KEY_SQL, MONTH, NONE_KEY, add, from_facts, from_rollups, whole_months
from .sums import CASE, COMPLAINT, RATING, from_sums

TIME_BYS = ("day", "week", "month")
FILTERS = ("window", "clerk", "matter", "department")
_CASE_AGG = (
    "COUNT(*), SUM(accepted), SUM(refused), SUM(supplemented), SUM(decided AND decided_day=accept_day), SUM(decided),"
    " SUM(decided AND on_time=1), SUM(CASE WHEN decided THEN on_time=0"
    " WHEN status IN ('accepted','in_review','suspended') THEN red ELSE 0 END),"
    " TOTAL(CASE WHEN decided THEN workdays END), COUNT(CASE WHEN decided THEN workdays END),"
    " SUM(delivered AND via='window'), SUM(delivered AND via='mail'), SUM(delivered AND via='locker'),"
    " SUM(status='ready')")
_CASE_KEYS = CASE
_RATING_AGG = ("SUM(excluded=0), SUM(excluded=0 AND level>=4), SUM(excluded=0 AND level<=2),"
               " SUM(rectified_on_time=1)")
_RATING_KEYS = RATING
_COMPLAINT_AGG = "COUNT(*), SUM(on_time=1), SUM(class='simple'), SUM(class='complex'), SUM(class='special')"
_COMPLAINT_KEYS = COMPLAINT
_TIME_KEYS = ("open_s", "paused_s", "away_events", "present_s", "absent_s")


def time_key(by: str, day: str) -> str:
    if by == "week":
        y, w, _ = date.fromisoformat(day).isocalendar()
        return f"{y}-W{w:02d}"
    return day[:7] if by == "month" else day


def _where(frm: str, to: str, filters: dict) -> tuple[str, list]:
    sql, args = ["day BETWEEN ? AND ?"], [frm, to]
    for k in FILTERS:
        if filters.get(k) is not None:
            sql.append(f"{k}=?")
            args.append(filters[k])
    return " AND ".join(sql), args


def _sums(conn, table: str, agg: str, names: tuple[str, ...], dim: str, where: str, args: list) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in conn.execute(f"SELECT {KEY_SQL[dim]}, {agg} FROM {table} WHERE {where} GROUP BY 1", args):
        vals = {n: r[i + 1] or 0 for i, n in enumerate(names)}
        if any(vals.values()):              # as the delta sums, which drop a key left with nothing
            out[NONE_KEY if r[0] is None else r[0]] = vals
    return out


def _merge_sums(into: dict[str, dict], key: str, part: dict) -> None:
    mine = into.setdefault(key, dict.fromkeys(part, 0))
    for k, v in part.items():
        mine[k] = mine.get(k, 0) + v


def _rekey(parts: dict[str, dict], by: str, merge) -> dict[str, dict]:
    """Parts keyed by day, re-keyed by week or month."""
    if by == "day":
        return parts
    out: dict[str, dict] = {}
    for day, p in parts.items():
        merge(out, time_key(by, day), p)
    return out


class Reports:
    def __init__(self, dims: Dims):
        self.dims = dims
        self.facts_only = False         # tests: read every figure from the facts, to compare with the rollups

    # -- ticket parts ------------------------------------------------------------------------------------
    def _ticket_parts(self, conn: sqlite3.Connection, dim: str, frm: str, to: str, filters: dict) -> dict:
        if self.facts_only or any(filters.get(k) is not None for k in FILTERS):
            where, args = _where(frm, to, filters)
            return from_facts(conn, dim, where, args)
        unrolled = [r[0] for r in conn.execute("SELECT day FROM stats_days WHERE rolled=0 AND day BETWEEN ? AND ?",
                                               (frm, to))]
        months = None if dim == "day" else whole_months(frm, to)
        if dim == "day":
            parts = from_rollups(conn, "all", (frm, to), keyed_by_day=True)
        elif months is None:
            parts = from_rollups(conn, dim, (frm, to))
        else:                               # whole months from the month rows, the days at either end from theirs
            first_m, last_m, before, after = months
            parts = from_rollups(conn, MONTH + dim, (first_m, last_m))
            for span in ((frm, before) if before else None, (after, to) if after else None):
                if span:
                    for key, p in from_rollups(conn, dim, span).items():
                        add(parts, key, p)
        if unrolled:
            marks = ",".join("?" * len(unrolled))
            for key, p in from_facts(conn, dim, f"day IN ({marks})", unrolled).items():
                add(parts, key, p)
        return parts

    def _window_time(self, conn, dim: str, frm: str, to: str, filters: dict) -> dict[str, dict] | None:
        if dim not in ("window", "clerk", "day", "all") or any(filters.get(k) is not None
                                                               for k in ("matter", "department")):
            return None
        key = {"window": "CAST(window AS TEXT)", "clerk": "NULLIF(clerk, '')", "day": "day", "all": "''"}[dim]
        where, args = ["day BETWEEN ? AND ?"], [frm, to]
        for k in ("window", "clerk"):
            if filters.get(k) is not None:
                where.append(f"{k}=?")
                args.append(filters[k])
        out: dict[str, dict] = {}
        for r in conn.execute(f"SELECT {key}, TOTAL(open_s), TOTAL(paused_s), TOTAL(away_events) FROM stats_wtime"
                              f" WHERE {' AND '.join(where)} GROUP BY 1", args):
            _merge_sums(out, NONE_KEY if r[0] is None else r[0],
                        {"open_s": r[1], "paused_s": r[2], "away_events": r[3], "present_s": 0.0, "absent_s": 0.0})
        seat_where = " AND ".join(w.replace("day BETWEEN", "service_day BETWEEN") for w in where)
        seat_key = key.replace("day", "service_day") if dim == "day" else key
        for r in conn.execute(f"SELECT {seat_key}, TOTAL(present_s), TOTAL(away_s) FROM seat_time"
                              f" WHERE {seat_where} GROUP BY 1", args):
            _merge_sums(out, NONE_KEY if r[0] is None else r[0],
                        {"open_s": 0.0, "paused_s": 0.0, "away_events": 0, "present_s": r[1], "absent_s": r[2]})
        return out

    # -- a report --------------------------------------------------------------------------------------
    def report(self, conn: sqlite3.Connection, frm: date, to: date, by: str, filters: dict,
               by2: str | None = None) -> dict:
        f, t = frm.isoformat(), to.isoformat()
        dim = "day" if by in TIME_BYS else ("wh" if by == "hour" and by2 == "weekday" else by)
        tickets = self._ticket_parts(conn, dim, f, t, filters)
        where, args = _where(f, t, filters)
        if self.facts_only or any(filters.get(k) is not None for k in FILTERS):
            cases = _sums(conn, "stats_case", _CASE_AGG, _CASE_KEYS, dim, where, args)
            ratings = _sums(conn, "stats_rating", _RATING_AGG, _RATING_KEYS, dim, where, args)
            complaints = _sums(conn, "stats_complaint", _COMPLAINT_AGG, _COMPLAINT_KEYS, dim, where, args)
        else:                               # the per-day delta sums (sums.py): a few rows per day and key
            by_day = dim == "day"
            cases, ratings, complaints = (from_sums(conn, src, "all" if by_day else dim, f, t, by_day)
                                          for src in ("case", "rating", "complaint"))
        wtime = self._window_time(conn, dim, f, t, filters)
        # every fact is in exactly one row (those without a key in "-"), so the totals are the rows' sums
        total_t = _total(tickets, add)
        total_c, total_r, total_k = (_total(x, _merge_sums) for x in (cases, ratings, complaints))
        total_w = None if wtime is None else _total(wtime, _merge_sums)
        if by in TIME_BYS:
            tickets = _rekey(tickets, by, add)
            cases, ratings, complaints = (_rekey(x, by, _merge_sums) for x in (cases, ratings, complaints))
            wtime = _rekey(wtime, by, _merge_sums) if wtime is not None else None
        keys = set(tickets) | set(cases) | set(ratings) | set(complaints) | set(wtime or ())
        rows = [self._row(by, dim, k, tickets.get(k), cases.get(k), ratings.get(k), complaints.get(k),
                          None if wtime is None else wtime.get(k, {}), wtime is not None)
                for k in sorted(keys, key=self._order)]
        totals = self._row(by, "all", "全部", total_t, total_c, total_r, total_k, total_w, wtime is not None)
        empty = not rows
        out = {"from": f, "to": t, "by": by, "filters": {k: v for k, v in filters.items() if v is not None},
               "empty": empty, "totals": totals, "rows": rows, "definitions": figures.definitions()}
        if by2:
            out["group_by2"] = by2
        if empty:
            out["message"] = "所选范围内没有数据 / No data in this range"
        return out

    @staticmethod
    def _order(key: str):
        if key == NONE_KEY:
            return (2, 0, key)
        head = key.split(":")
        if all(h.isdigit() for h in head):
            return (0, tuple(int(h) for h in head), key)
        return (1, 0, key)

    def label(self, by: str, dim: str, key: str) -> str:
        if key == NONE_KEY:
            return "未指定 / none"
        if key == "全部":
            return "全部 / all"
        if dim == "window":
            name = self.dims.windows.get(int(key))
            return f"{key}号窗口" + (f"（{name}）" if name else "")
        if dim == "matter":
            return self.dims.matter_names.get(key, key)
        if dim == "group":
            return self.dims.groups.get(key, key)
        if dim == "channel":
            return CHANNELS.get(key, key)
        if dim == "hour":
            return f"{int(key):02d}时"
        if dim == "wh":
            wd, h = key.split(":")
            return f"{WEEKDAYS_ZH[int(wd)]} {h}时"
        if by == "week":
            y, w = key.split("-W")
            return f"{y}年第{int(w)}周"
        if by == "month":
            return f"{key[:4]}年{int(key[5:7])}月"
        return key

    def _row(self, by, dim, key, tk, cs, rt, cp, wt, time_applies: bool) -> dict:
        row: dict = {"key": key, "label": self.label(by, dim, key)}
        tk = tk or None
        if tk is None:
            from .rollup import empty_part
            tk = empty_part()
        row.update(issued=tk["issued"], served=tk["served"], no_show=tk["no_show"], transferred=tk["transferred"],
                   cancelled=tk["cancelled"],
                   wait_p50_s=percentile(tk["wait_hist"], 0.5, tk["wait_max"]),
                   wait_p90_s=percentile(tk["wait_hist"], 0.9, tk["wait_max"]),
                   wait_max_s=tk["wait_max"],
                   handle_mean_s=_div(tk["handle_sum"], tk["handle_n"]),
                   handle_p90_s=percentile(tk["handle_hist"], 0.9, tk["handle_max"]),
                   expected_handle_s=_div(tk["expected_sum"], tk["expected_n"]))
        if time_applies:
            wt = wt or {}
            seen = wt.get("present_s", 0) + wt.get("absent_s", 0)
            row.update(open_s=round(wt.get("open_s", 0.0), 1), paused_s=round(wt.get("paused_s", 0.0), 1),
                       serving_s=round(tk["handle_sum"], 1))
        else:
            row.update(open_s=None, paused_s=None, serving_s=round(tk["handle_sum"], 1))
        c = cs or dict.fromkeys(_CASE_KEYS, 0)
        row.update(cases_accepted=c["accepted"], cases_refused=c["refused"],
                   cases_supplement_rate=_div(c["supplemented"], c["received"], 4),
                   cases_immediate_share=_div(c["immediate"], c["accepted"], 4),
                   cases_decided=c["decided"], cases_decided_on_time=c["on_time"], cases_overdue=c["overdue"],
                   on_time_rate=_div(c["on_time"], c["decided"], 4),
                   decide_mean_workdays=_div(c["workdays_sum"], c["workdays_n"], 2),
                   handed_window=c["handed_window"], handed_mail=c["handed_mail"],
                   handed_locker=c["handed_locker"], uncollected=c["uncollected"])
        r = rt or dict.fromkeys(_RATING_KEYS, 0)
        row.update(rated=r["rated"], good_rate=_div(r["good"], r["rated"], 4), bad_count=r["bad"],
                   rectified_on_time=r["rectified"])
        k = cp or dict.fromkeys(_COMPLAINT_KEYS, 0)
        row.update(complaints=k["complaints"], complaints_on_time=k["on_time"],
                   complaints_by_class={"simple": k["simple"], "complex": k["complex"], "special": k["special"]})
        if time_applies:
            row.update(on_seat_share=_div(wt.get("present_s", 0), seen, 4), away_events=int(wt.get("away_events", 0)))
        else:
            row.update(on_seat_share=None, away_events=None)
        return row

    # -- the dashboard's today, the monthly appraisal -----------------------------------------------------
    def today(self, conn: sqlite3.Connection, day: date) -> dict:
        d = day.isoformat()
        tk = from_facts(conn, "all", "day=?", [d]).get("")
        waiting = conn.execute("SELECT COUNT(*) FROM stats_ticket WHERE day=? AND status='waiting'", (d,)).fetchone()[0]
        c = _sums(conn, "stats_case", _CASE_AGG, _CASE_KEYS, "all", "day=?", [d]).get("")
        r = _sums(conn, "stats_rating", _RATING_AGG, _RATING_KEYS, "all", "day=?", [d]).get("")
        k = _sums(conn, "stats_complaint", _COMPLAINT_AGG, _COMPLAINT_KEYS, "all", "day=?", [d]).get("")
        overdue = conn.execute("SELECT COUNT(*) FROM stats_case WHERE red=1 AND status IN"
                               " ('accepted','in_review','suspended')").fetchone()[0]
        return {"day": d, "issued": tk["issued"] if tk else 0, "served": tk["served"] if tk else 0,
                "waiting": waiting, "wait_p50_s": percentile(tk["wait_hist"], 0.5, tk["wait_max"]) if tk else None,
                "good_rate": _div(r["good"], r["rated"], 4) if r else None,
                "cases_accepted": c["accepted"] if c else 0, "cases_overdue": overdue,
                "complaints": k["complaints"] if k else 0}

    def appraisal(self, conn: sqlite3.Connection, month: str, of: str) -> dict:
        first = date.fromisoformat(month + "-01")
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        rep = self.report(conn, first, last, of, {})
        rows = [dict(r, score=figures.score(r)) for r in rep["rows"] if r["key"] != NONE_KEY]
        ranked = sorted(rows, key=lambda r: (r["score"] is None, -(r["score"] or 0), self._order(r["key"])))
        for i, r in enumerate(ranked, 1):
            r["rank"] = i if r["score"] is not None else None
        return {"month": month, "of": of, "from": rep["from"], "to": rep["to"], "empty": not ranked,
                **({"message": rep["message"]} if rep["empty"] else {}), "rows": ranked,
                "weights": figures.WEIGHTS, "score_definition": figures.SCORE_TEXT,
                "definitions": {**figures.definitions(), "score": figures.SCORE_TEXT}}


def _total(parts: dict[str, dict], merge) -> dict | None:
    out: dict[str, dict] = {}
    for p in parts.values():
        merge(out, "", p)
    return out.get("")


def _div(a, b, nd: int = 1):
    if not b:
        return None
    return round(a / b, nd)
