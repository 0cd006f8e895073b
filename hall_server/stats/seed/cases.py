"""Cases: intake during a ticket's handling, 补正, acceptance, the back office's tasks and deadlines, the decision,
the result made ready and handed out (window, mail, locker); the case rows written at the end of the run."""
from __future__ import annotations

import base64
import hashlib
import heapq
import json
import math
from datetime import date, timedelta

from .base import TASK_COLS, SeederBase, _iso, fake_person, iso


class Cases(SeederBase):
    # -- cases ----------------------------------------------------------------------------------------------
    def _case(self, t: dict, s: dict, began: float, end: float) -> None:
        """A case taken in during ticket t's handling, and its whole life: 补正, acceptance, review, decision,
        the result made ready and handed out (at the 出件 window when a ticket for it comes, by mail, by locker)."""
        rng, mt = self.rng, self.matters[t["matter"]]
        num, clerk = s["num"], s["clerk"]
        cid = self.new_id("cases")
        recv = began + (end - began) * rng.uniform(.1, .3)
        d0 = self.day_of(recv)
        number = f"{self.case_prefix}-{d0:%Y%m%d}-{self.seq_of(d0.isoformat(), 'case:' + self.case_prefix):04d}"
        name, phone, idm, digest = fake_person(rng)
        snap = self.snapshots[mt.code]
        optional = set(mt.optional)
        mats = [[m, "original" if rng.random() < .8 else "copy", int(m not in optional)] for m in mt.materials]
        required = [m for m in mats if m[2]]
        if required and rng.random() < .12:
            for item in rng.sample(required, k=min(len(required), rng.choice((1, 1, 2)))):
                item[1] = "missing"
        missing = [m[0] for m in mats if m[2] and m[1] == "missing"]
        c = {"id": cid, "number": number, "query_code": base64.urlsafe_b64encode(rng.randbytes(12)).decode(),
             "matter": mt.code, "kind": mt.kind, "snapshot": snap, "channel": "window", "ticket_id": t["id"],
             "window": num, "created_by": clerk, "status": "received", "outcome": None, "opinion": None,
             "reason": None, "name": name, "phone": phone, "idm": idm, "hash": digest, "received_at": recv,
             "accepted_at": None, "accept_day": None, "decided_at": None, "ready_at": None, "delivered_at": None,
             "closed_at": None, "due": None, "legal_due": None, "deadline": "ok", "handout": None, "updated": recv,
             "mats": mats, "tasks": {d: [d, "open", None, None, None, None, None, None] for d in snap["deciders"]}}
        self.open_cases[cid] = c
        if phone and t["contact"] is None:
            t["contact"] = cid
        self._rec(c, recv, "received", clerk, "received", channel="window", missing=len(missing),
                  departments=snap["deciders"], matter_name=snap["name"],
                  query_hash=hashlib.sha256(c["query_code"].encode()).hexdigest())
        tt = recv + rng.uniform(30, 90)
        if rng.random() < .02:
            self._rec(c, tt, "refused", clerk, "refused", reason="不属于本机关职权范围", competent_organ=None)
            self._set(c, tt, status="refused", reason="不属于本机关职权范围", closed_at=tt, deadline="ok")
            return
        if missing:
            self._rec(c, tt, "supplement_requested", clerk, "supplement", missing=missing)
            self._set(c, tt, status="supplement")
            if rng.random() < .1:           # never came back
                return
            tt = self.at_work(self.day_of(tt) + timedelta(days=rng.randint(1, 12)), after=tt)
            who = self.clerks[rng.choice(self.pool[mt.code])]
            if tt < self.end_t:
                for m in mats:
                    if m[1] == "missing":
                        m[1] = "original"
            self._rec(c, tt, "materials_received", who, "supplement", items=missing, missing=0)
            self._accept(c, tt + .001, who, "supplement")
        else:
            self._accept(c, tt, clerk, "window")
        acc = c["_acc"]
        if acc >= self.end_t:
            return
        if mt.kind == "即办":                   # decided at the window in the same sitting, and handed over
            td = acc + rng.uniform(20, 60)
            if td > end - 5:
                td = acc + .5
            self._decide(c, td, clerk, [snap["deciders"][0]], rng.random() < .98)
            if tt >= end:                       # after 补正: the result waits for its owner at the 出件 window
                self._ready(c, td + 1, clerk)
                return
            self._set(c, td + 1, status="ready", ready_at=td + 1,
                      handout={"via": "window", "address": None, "by": clerk})
            self._rec(c, td + 1, "ready", clerk, "ready", via="window")
            self._deliver(c, td + 2, num, clerk, s)
            return
        # the back office: each department claims its task, and decides it by the promised day (mostly)
        promised = snap["promised_days"]
        late = rng.random() < .06
        k = promised + rng.randint(1, 5) if late else max(0, int(promised * rng.uniform(.25, 1.0)))
        t_dec = self.at_work(self.add_wd(c["_accday"], k), after=acc + 600)
        deps = list(snap["deciders"])
        tc = acc
        for dep in deps:
            tc = min(t_dec - 300, self.at_work(self.add_wd(c["_accday"], rng.choice((0, 1, 1, 2))), after=acc))
            tc = max(tc, acc + 30)
            officer = self.officer.get(dep, "sup1")
            self._task(c, tc, dep, "claimed", claimed_by=officer, claimed_at=tc)
            self._set(c, tc, status="in_review")
            self._rec(c, tc, "claimed", officer, "in_review", department=dep)
        if mt.kind == "上报":
            tr = tc + (t_dec - tc) * .5
            self._set(c, tr, report={"authority": snap["authority"], "opinion": "经初审，符合条件", "at": iso(tr),
                                     "by": self.officer[deps[0]]})
            self._rec(c, tr, "reported", self.officer[deps[0]], "in_review", department=deps[0],
                      authority=snap["authority"])
        self._deadlines(c, t_dec)
        self._decide(c, t_dec, None, deps, rng.random() < .95)
        if t_dec < self.end_t:
            self._ready(c, self.at_work(self.day_of(t_dec) + timedelta(days=rng.choice((0, 0, 1, 2))), after=t_dec),
                        self.clerks[6])

    def _set(self, c: dict, t: float, **fields) -> None:
        if t < self.end_t:
            c.update(fields, updated=t)

    def _rec(self, c: dict, t: float, action: str, who: str | None, status: str, **data) -> None:
        self.emit(t, f"case.{action}", {"case": c["id"], "number": c["number"], "matter": c["matter"],
                                        "kind": c["kind"], "status": status,
                                        **{k: v for k, v in data.items() if v is not None}},
                  actor=who, ticket=c["ticket_id"], window=c["window"], case=c["id"])

    def _task(self, c: dict, t: float, dep: str, state: str, **fields) -> None:
        if t < self.end_t:
            row = c["tasks"][dep]
            row[1] = state
            for k, v in fields.items():
                row[TASK_COLS[k]] = iso(v) if k.endswith("_at") else v

    def _accept(self, c: dict, t: float, who: str, via: str) -> None:
        snap = c["snapshot"]
        day = self.day_of(t)
        promised = 0 if snap["kind"] == "即办" else snap["promised_days"]
        due, legal = self.add_wd(day, promised), self.add_wd(day, snap["legal_days"])
        warning = self.cal.warning(day, legal)
        if warning is not None:
            c["snapshot"] = {**snap, "calendar_warning": warning}
        c["_acc"], c["_accday"] = t, day
        self._set(c, t, status="accepted", accepted_at=t, accept_day=day.isoformat(), due=due.isoformat(),
                  legal_due=legal.isoformat(), deadline=self._colour(due.isoformat(), day))
        self._rec(c, t, "accepted", who, "accepted", due=due.isoformat(), legal_due=legal.isoformat(), via=via,
                  calendar_warning=warning["code"] if warning else None)

    def _colour(self, due: str, day: date) -> str:
        if due < day.isoformat():
            return "red"
        return "amber" if due <= self.add_wd(day, self.cfg.cases.amber_days).isoformat() else "ok"

    def _deadlines(self, c: dict, until: float) -> None:
        """The deadline watch's turns of a running case before `until` (its decision): case.deadline + alert."""
        d, last = c["_accday"] + timedelta(days=1), min(self.day_of(until), self.last)
        colour, deps = c["deadline"], c["snapshot"]["deciders"]
        while d <= last:
            new = self._colour(c["due"], d)
            at = self.local(d, 0) + 30
            if new != colour and at < until:
                self.emit(at, "case.deadline", {"case": c["id"], "number": c["number"], "matter": c["matter"],
                                                "kind": c["kind"], "deadline": new, "was": colour, "due": c["due"],
                                                "departments": deps}, ticket=c["ticket_id"], window=c["window"],
                          case=c["id"])
                if new != "ok":
                    zh, en = ("已超期", "is overdue") if new == "red" else ("即将到期", "is due soon")
                    self.emit(at, "alert.raised", {
                        "kind": "case_overdue" if new == "red" else "case_due_soon", "device": None,
                        "detail": f"办件 {c['number']} {zh}（{c['due']}，{'、'.join(deps)}） / case {c['number']} "
                                  f"{en} ({c['due']})", "case": c["id"]}, case=c["id"])
                self._set(c, at, deadline=new)
                colour = new
            d += timedelta(days=1)

    def _decide(self, c: dict, t: float, clerk: str | None, deps: list[str], approved: bool) -> None:
        outcomes = {}
        for i, dep in enumerate(deps):
            who = clerk or self.officer.get(dep, "sup1")
            ti = t - (len(deps) - 1 - i) * 60
            outcomes[dep] = "approved" if approved or i else "rejected"
            self._task(c, ti, dep, "decided", outcome=outcomes[dep], decided_at=ti, decided_by=who)
            if len(deps) > 1:
                self._rec(c, ti, "task_decided", who, "in_review", department=dep, outcome=outcomes[dep])
        final = "approved" if all(o == "approved" for o in outcomes.values()) else "rejected"
        opinion = None if len(deps) == 1 else "；".join(
            f"{d}：{'准予' if o == 'approved' else '不予'}" for d, o in outcomes.items())
        self._set(c, t, status="decided", outcome=final, opinion=opinion, decided_at=t, deadline="ok")
        self._rec(c, t, "decided", clerk or self.officer.get(deps[-1], "sup1"), "decided", outcome=final,
                  on_time=self.day_of(t).isoformat() <= c["due"], department=deps[0] if len(deps) == 1 else None)

    def _ready(self, c: dict, t: float, who: str) -> None:
        rng = self.rng
        r = rng.random()
        via = "window" if r < .45 else "mail" if r < .85 else "locker"
        if via == "locker":
            label = f"{rng.randint(1, 2)}-{rng.randint(1, 24):02d}"
            self._set(c, t, status="ready", ready_at=t, handout={"via": "locker", "address": None, "by": who,
                                                                 "compartment": label, "size": "small"})
            self._rec(c, t, "ready", who, "ready", via="locker", compartment=label)
            td = t + rng.uniform(3600, 3 * 86400)
            if td < self.end_t:
                h = {**c["handout"], "collector": {"name": "自助柜取件", "proxy": False, "method": "code",
                                                   "kiosk": "kiosk1"}, "delivered_by": "kiosk1"}
                self._set(c, td, status="delivered", delivered_at=td, closed_at=td, handout=h)
                self._rec(c, td, "delivered", "kiosk1", "delivered", via="locker", proxy=False, compartment=label)
                self._prompt(None, td, ticket=None, case=c["id"], matter=c["matter"], number=c["number"],
                             contact=c["id"] if c["phone"] else None, remote=(c["window"], c["created_by"]))
            return
        addr = "湖北省黄石市下陆区团城山街道" if via == "mail" else None
        self._set(c, t, status="ready", ready_at=t, handout={"via": via, "address": addr, "by": who})
        self._rec(c, t, "ready", who, "ready", via=via)
        if via == "window":
            if rng.random() < .93:              # most come for it within days; some never do
                heapq.heappush(self.ready_window, (t + rng.lognormvariate(math.log(2 * 86400), 1.0), c["id"]))
            return
        td = self.at_work(self.day_of(t) + timedelta(days=rng.randint(0, 2)), after=t)
        if td < self.end_t:
            h = {**c["handout"], "waybill": f"SF{rng.randrange(10**12):012d}", "delivered_by": who}
            self._set(c, td, status="delivered", delivered_at=td, closed_at=td, handout=h)
            self._rec(c, td, "delivered", who, "delivered", via="mail")
            self._prompt(None, td, ticket=None, case=c["id"], matter=c["matter"], number=c["number"],
                         contact=c["id"] if c["phone"] else None, remote=(c["window"], c["created_by"]))

    def _deliver_window(self, c: dict, t: float, s: dict, ticket: dict) -> None:
        """A ready result collected at the 出件 window (s) with its 出件 ticket."""
        if c["phone"] and ticket["contact"] is None:
            ticket["contact"] = c["id"]
        self._deliver(c, t, s["num"], s["clerk"], s)

    def _deliver(self, c: dict, t: float, num: int, clerk: str, s: dict | None) -> None:
        collector = {"name": c["name"], "phone": None, "id_masked": c["idm"], "proxy": False}
        h = {**c["handout"], "collector": collector, "window": num, "delivered_by": clerk}
        self._set(c, t, status="delivered", delivered_at=t, closed_at=t, handout=h)
        self._rec(c, t, "delivered", clerk, "delivered", via="window", proxy=False)
        if s is not None:
            self._prompt(s, t, ticket=None, case=c["id"], matter=c["matter"], number=c["number"],
                         contact=c["id"] if c["phone"] else None)

    def _finish_cases(self) -> None:
        cases, mats, tasks = [], [], []
        for c in self.open_cases.values():
            cases.append((c["id"], c["number"], c["query_code"], c["matter"], c["kind"],
                          json.dumps(c["snapshot"], ensure_ascii=False), c["channel"], c["ticket_id"], c["window"],
                          c["created_by"], c["status"], c["outcome"], c["opinion"], c["reason"], None, c["name"],
                          c["phone"], c["idm"], c["hash"], iso(c["received_at"]), _iso(c["accepted_at"]),
                          c["accept_day"], _iso(c["decided_at"]), _iso(c["ready_at"]), _iso(c["delivered_at"]),
                          _iso(c["closed_at"]), c["due"], c["legal_due"], c["deadline"],
                          json.dumps(c["handout"], ensure_ascii=False) if c["handout"] else None,
                          json.dumps(c["report"], ensure_ascii=False) if c.get("report") else None, iso(c["updated"])))
            mats += [(c["id"], *m) for m in c["mats"]]
            tasks += [(c["id"], *row) for row in c["tasks"].values()]
        self.rows["cases"], self.rows["case_materials"], self.rows["case_tasks"] = cases, mats, tasks
        self.rows["counters"] = [(d, p, n) for (d, p), n in self.day_counter.items() if p not in ("CP", "BC")]
