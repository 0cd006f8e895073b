"""A day of the hall (windows opening, pausing, the clerks leaving the seat, closing; the day's arrivals) and its
tickets: issued, called, recalled or lost, transferred, served and finished."""
from __future__ import annotations

import heapq
import math
from bisect import bisect
from datetime import UTC, date, datetime, timedelta

from .base import RESULTS_MATTER, SHAPE, SeederBase, _accumulate, _iso, iso


class Tickets(SeederBase):
    # -- a day of the hall --------------------------------------------------------------------------------
    def _day(self, d: date, a: float, b: float, n: int) -> None:
        rng, day = self.rng, d.isoformat()
        open_t, close_t = self.local(d, a), self.local(d, b)
        relief = list(self.relief)
        rng.shuffle(relief)
        st: dict[int, dict] = {}
        for num in self.windows:
            clerk = relief.pop() if rng.random() < .07 and relief else self.clerks[num]
            login, opened = open_t - rng.uniform(300, 900), open_t - rng.uniform(0, 240)
            self.emit(login, "window.login", {"window": num, "clerk": clerk}, actor=clerk, window=num)
            self.emit(opened, "window.opened", {"window": num, "state": "open", "reason": "", "by": clerk},
                      actor=clerk, window=num)
            blocks = []
            if b - a > 4:                   # lunch in two shifts, so the hall never stops
                blocks.append([self.local(d, 12.0 if num % 2 else 12.75) + rng.uniform(-300, 300),
                               rng.uniform(2700, 3600), "午休"])
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                blocks.append([rng.uniform(open_t + 1800, close_t - 1800), rng.uniform(300, 900),
                               rng.choice(("临时离开", "业务咨询", "设备故障"))])
            for _ in range(rng.choice((1, 2, 3, 4))):
                blocks.append([rng.uniform(open_t + 600, close_t - 900), rng.lognormvariate(math.log(120), .7), None])
            blocks.sort(key=lambda x: x[0])
            st[num] = {"num": num, "clerk": clerk, "free": opened, "blocks": blocks, "prompt": None, "away": 0.0,
                       "seen": login + rng.uniform(5, 60)}
            self._seat(st[num]["seen"], num, "present", clerk)
        starts = [8.5 + i / 2 for i in range(len(SHAPE)) if a <= 8.5 + i / 2 < b]
        cw = list(_accumulate(SHAPE[int((h - 8.5) * 2)] for h in starts))
        arrivals = [(self.local(d, h + rng.random() / 2), None) for h in rng.choices(starts, cum_weights=cw, k=n)]
        while self.ready_window and self.ready_window[0][0] < close_t - 1800:
            when, cid = heapq.heappop(self.ready_window)
            arrivals.append((when if when > open_t else rng.uniform(open_t, close_t - 1800), cid))
        arrivals.sort(key=lambda x: x[0])
        waiting = self.unserved = []
        for arr, collect in arrivals:
            t = self._issue(day, arr, collect)
            if collect is None and rng.random() < .008:       # gone before the call: cancelled at the desk
                tt = arr + rng.uniform(300, 1800)
                self.emit(tt, "ticket.cancelled", {"ticket_id": t["id"], "number": t["number"], "reason": "群众离开",
                                                   "by": "sup1"}, actor="sup1", ticket=t["id"])
                t.update(status="cancelled", finished=tt)
            else:
                self._serve(t, st, arr, close_t + 600)
        for s in st.values():
            self._avail(s, close_t)
            c = max(close_t, s["free"]) + rng.uniform(60, 300)
            num, clerk = s["num"], s["clerk"]
            if s["prompt"] is not None:
                self._close_prompt(s["prompt"])
            self.emit(c, "window.closed", {"window": num, "state": "closed", "reason": "", "by": clerk},
                      actor=clerk, window=num)
            self._seat(c + rng.uniform(30, 240), num, "away", None)
            unknown = rng.uniform(0, 90)
            self.row("seat_time", (day, num, clerk, round(c - s["seen"] - s["away"] - unknown, 1),
                                   round(s["away"], 1), round(unknown, 1)))
        rolled = self.local(d + timedelta(days=1), self.cfg.hall.rollover_hour) + 1
        for t in waiting:
            if d < self.last:
                t["status"], t["finished"] = "expired", rolled
        self.expired = len(waiting) if d < self.last else 0
        for t in self.tickets_today:
            self.row("tickets", (t["id"], day, t["prefix"], t["seq"], t["number"], t["matter"], t["channel"],
                                 t["priority"], t["status"], t["key"], iso(t["issued"]), _iso(t["called"]),
                                 _iso(t["last_called"]), _iso(t["started"]), _iso(t["finished"]), t["window"], None,
                                 t["transfers"], t["recalls"], t["kiosk"]))
        self.tickets_today = []

    def _seat(self, t: float, num: int, state: str, clerk: str | None) -> None:
        if num not in self.seated or self.seat_prev[num] == state:
            return
        self.emit(t, "seat.presence", {"window": num, "state": state, "previous": self.seat_prev[num], "clerk": clerk},
                  window=num)
        self.seat_prev[num] = state

    def _avail(self, s: dict, t: float) -> float:
        """When window `s` can call next at or after t; the pauses and seat absences due by then happen first."""
        f, bl = s["free"], s["blocks"]
        while bl and bl[0][0] <= max(f, t):
            planned, dur, kind = bl.pop(0)
            bs = max(planned, f)
            be = bs + dur
            num, clerk = s["num"], s["clerk"]
            if kind is None:                # the clerk leaves the seat of an open window
                self._seat(bs, num, "away", clerk)
                if dur >= self.away_s:
                    at = bs + self.away_s
                    m = max(1, round(self.away_s / 60))
                    self.emit(at, "alert.raised", {
                        "kind": "away", "device": self.seated[num], "window": num, "clerk": clerk,
                        "away_since": datetime.fromtimestamp(int(bs), UTC).isoformat(timespec="seconds"),
                        "detail": f"{num}号窗口离岗 {m} 分钟 / window {num}: clerk away {m} min"}, window=num)
                    self.emit(be, "alert.cleared", {
                        "kind": "away", "window": num, "clerk": clerk, "reason": "returned", "away_s": round(dur),
                        "detail": f"{num}号窗口离岗 {round(dur / 60)} 分钟后：已回到座位 / back at the seat"},
                        window=num)
                self._seat(be, num, "present", clerk)
                s["away"] += dur
            else:
                self.emit(bs, "window.paused", {"window": num, "state": "paused", "reason": kind, "by": clerk},
                          actor=clerk, window=num)
                if kind == "午休" and dur > 120:
                    self._seat(bs + 30, num, "away", clerk)
                    self._seat(be - 30, num, "present", clerk)
                    s["away"] += dur - 60
                self.emit(be, "window.resumed", {"window": num, "state": "open", "reason": "", "by": clerk},
                          actor=clerk, window=num)
            f = be
        s["free"] = f
        return max(f, t)

    # -- tickets ------------------------------------------------------------------------------------------
    def _issue(self, day: str, arr: float, collect: int | None) -> dict:
        rng = self.rng
        m = self.mix[bisect(self.cum, rng.random() * self.cum[-1])]
        mt = self.matters[m]
        r = rng.random()
        pr = ("elderly" if r < .05 else "disabled" if r < .06 else "veteran" if r < .065 else "pregnant" if r < .07
              else "appointment" if r < .12 else "normal")
        channel = "appointment" if pr == "appointment" else "staff" if rng.random() < .06 else "kiosk"
        linked: list[int] = []
        if collect is not None:                 # the owner of a ready result takes an 出件 ticket
            m, mt, linked = RESULTS_MATTER, self.matters[RESULTS_MATTER], [collect]
            pr, channel = "handout", "kiosk"
        actor = "sup1" if channel == "staff" else "kiosk1"
        tid = self.new_id("tickets")
        seq = self.seq_of(day, mt.prefix)
        self.last_key = key = max(int(arr * 1e6), self.last_key + 1)
        t = {"id": tid, "prefix": mt.prefix, "seq": seq, "number": f"{mt.prefix}{seq:03d}", "matter": m,
             "channel": channel, "priority": pr, "status": "waiting", "key": key, "issued": arr, "called": None,
             "last_called": None, "started": None, "finished": None, "window": None, "transfers": 0, "recalls": 0,
             "kiosk": None if channel == "staff" else "kiosk1", "linked": linked, "contact": None}
        self.tickets_today.append(t)
        self.emit(arr, "ticket.issued", {"ticket_id": tid, "number": t["number"], "matter": m, "group": mt.group,
                                         "priority": pr, "channel": channel}, actor=actor, ticket=tid)
        if linked:
            self.row("ticket_cases", (tid, linked[0]))
            c = self.open_cases[linked[0]]
            self.emit(arr, "handout.ticket", {"ticket_id": tid, "number": t["number"],
                                              "cases": [{"id": c["id"], "number": c["number"]}]},
                      actor=actor, ticket=tid, case=c["id"])
        return t

    def _call(self, t: dict, num: int, recalls: int, reason: str | None) -> dict:
        m = self.matters[t["matter"]]
        return {"ticket_id": t["id"], "number": t["number"], "window": num, "window_name": self.windows[num].name,
                "matter": t["matter"], "matter_name": m.name, "priority": t["priority"], "recalls": recalls,
                "reason": reason, "by": self.clerk_at[num]}

    def _serve(self, t: dict, st: dict, at: float, last_call: float) -> bool:
        """Call, handle and finish (or lose) ticket t at the first free window of its pool; False: never called."""
        rng = self.rng
        best, start = 0, math.inf
        for num in self.pool[t["matter"]]:
            s = self._avail(st[num], at)
            if s < start:
                best, start = num, s
        if start > last_call:                   # still waiting when the windows close: expired at the rollover
            self.unserved.append(t)
            return False
        s = st[best]
        num, clerk, tid = best, s["clerk"], t["id"]
        self.clerk_at[num] = clerk
        t.update(status="called", window=num, called=start, last_called=start, recalls=0)
        reason = "priority" if t["priority"] in self.prio and not t["transfers"] else "preference"
        self.emit(start, "ticket.called", self._call(t, num, 0, reason), actor=clerk, ticket=tid, window=num)
        if rng.random() < .04 and not t["transfers"]:       # nobody comes: recalled, then a no-show
            k, tt = rng.choice((0, 1, 1, 2, 3, 3)), start
            for i in range(1, k + 1):
                tt += rng.uniform(16, 40)
                self.emit(tt, "ticket.recalled", self._call(t, num, i, None), actor=clerk, ticket=tid, window=num)
                t.update(recalls=i, last_called=tt)
            tt += rng.uniform(16, 40)
            why = "recall_limit" if k >= self.cfg.queue.recall_limit and rng.random() < .5 else "skipped"
            self.emit(tt, "ticket.no_show", {"ticket_id": tid, "number": t["number"], "window": num, "reason": why,
                                             "by": clerk}, actor=clerk, ticket=tid, window=num)
            t.update(status="no_show", finished=tt)
            s["free"] = tt + rng.uniform(2, 10)
            return True
        began = start
        if t["transfers"] or rng.random() < .85:
            began = start + rng.uniform(10, 60)
            self.emit(began, "ticket.serving", {"ticket_id": tid, "number": t["number"], "window": num, "by": clerk},
                      actor=clerk, ticket=tid, window=num)
            t.update(status="serving", started=began)
        mt = self.matters[t["matter"]]
        h = max(25.0, rng.lognormvariate(math.log(mt.minutes * 60 * self.factor[num] * self.skill[clerk]), .45))
        end = began + h
        if not t["transfers"] and not t["linked"] and rng.random() < .02:     # not this window's matter after all
            tt = began + h * rng.uniform(.2, .5)
            to = rng.choice(self.elsewhere[mt.group])
            self.emit(tt, "ticket.transferred", {
                "ticket_id": tid, "number": t["number"], "from_window": num, "from_matter": t["matter"],
                "to_matter": to, "to_window": None, "reason": "非本窗口事项", "by": clerk},
                actor=clerk, ticket=tid, window=num)
            t.update(status="waiting", matter=to, transfers=1, recalls=0)
            s["free"] = tt + rng.uniform(2, 10)
            return self._serve(t, st, tt + 1, last_call) or True
        if mt.group not in ("results", "complaint") and rng.random() < self.p_case:
            self._case(t, s, began, end)
        for cid in t["linked"]:
            self._deliver_window(self.open_cases[cid], began + h * .6, s, t)
        self.emit(end, "ticket.finished", {"ticket_id": tid, "number": t["number"], "window": num,
                                           "handling_s": round(end - began, 1), "by": clerk},
                  actor=clerk, ticket=tid, window=num)
        t.update(status="done", finished=end)
        s["free"] = end + rng.uniform(3, 20)
        if 20 <= h <= 4 * 3600:
            self.handled.setdefault(t["matter"], []).append(h)
        p = s["prompt"]
        if (t["priority"] == "handout" and p is not None and p["ticket"] is None and p["case"] in t["linked"]
                and p["end"] > end):
            p["ticket"] = tid                           # the same visit: one rating of the case and its ticket
        else:
            self._prompt(s, end, ticket=tid, case=None, matter=t["matter"], number=t["number"], contact=t["contact"])
        return True
