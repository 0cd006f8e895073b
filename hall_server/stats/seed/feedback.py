"""好差评 and 办不成事: the rating prompts and ratings, the 差评 loop of a bad rating (with its appeals), and the
complaints with their steps."""
from __future__ import annotations

import json
import math
from datetime import date, timedelta

from ...complaints.base import CLOSE_REASONS
from .base import COMPLAINT_TEXTS, REASONS, SeederBase, _iso, fake_name, iso


class Feedback(SeederBase):
    # -- 好差评 -----------------------------------------------------------------------------------------------
    def _prompt(self, s: dict | None, at: float, *, ticket, case, matter, number, contact, remote=None) -> None:
        """The prompt of a finished handling: on site at window s, or (remote = (window, clerk)) the status page's."""
        rng, pid = self.rng, self.new_id("rating_prompts")
        num, clerk = (s["num"], s["clerk"]) if s is not None else remote
        p = {"id": pid, "ticket": ticket, "case": case, "window": num, "clerk": clerk, "matter": matter,
             "number": number, "created": at, "contact": contact, "remote": s is None}
        if s is None:
            p["outcome"], p["end"] = "remote", at
            self._close_prompt(p)
            return
        old = s["prompt"]
        if old is not None:
            if old["end"] > at:
                old["outcome"], old["end"] = "superseded", at
            self._close_prompt(old)
        p["expires"] = at + self.timeout
        self.emit(at, "evaluation.prompted", {
            "prompt": pid, "ticket": ticket, "case": case, "number": number, "window": num, "clerk": clerk,
            "matter": matter, "matter_name": self.matters[matter].name, "expires_at": iso(p["expires"]),
            "timeout_s": self.cfg.feedback.prompt_timeout_s}, ticket=ticket, case=case, window=num)
        if rng.random() < self.p_rate:
            p["outcome"], p["end"] = "rated", at + rng.uniform(3, 40)
        else:
            p["outcome"], p["end"] = "timeout", p["expires"]
        s["prompt"] = p

    def _close_prompt(self, p: dict) -> None:
        rng, num = self.rng, p["window"]
        state, ended, why, eid = "rated", p["end"], None, None
        if p["outcome"] == "rated":
            eid = self._rate(p, p["end"], "device" if num in self.devices else "tablet", f"eval{num}")
        else:
            state, why = "not_rated", p["outcome"]
            if why != "remote":
                self.emit(p["end"], "evaluation.not_rated", {
                    "prompt": p["id"], "ticket": p["ticket"], "case": p["case"], "number": p["number"], "window": num,
                    "clerk": p["clerk"], "matter": p["matter"], "why": why}, ticket=p["ticket"], case=p["case"],
                    window=num)
            if rng.random() < self.p_status * (3 if why == "remote" else 1):
                later = p["end"] + rng.uniform(600, self.cfg.feedback.rate_from_status_days * 86400 - 600)
                if later < self.end_t:
                    eid = self._rate(p, later, "status_page", None)
                    state, ended, why = "rated", later, None
        self.row("rating_prompts", (p["id"], p["ticket"], p["case"], num, p["clerk"], p["matter"],
                                    self.deps_json[p["matter"]], p["number"], iso(p["created"]),
                                    None if p["remote"] else iso(p["expires"]), state, iso(ended), why, eid))

    def _rate(self, p: dict, at: float, channel: str, by: str | None) -> int:
        rng = self.rng
        mood = self.mood.get(p["clerk"], 1.0)
        r = rng.random()
        level = 1 if r < .01 * mood else 2 if r < .03 * mood else 3 if r < .03 * mood + .05 else \
            4 if r < .03 * mood + .27 else 5
        reasons = rng.sample(REASONS, rng.choice((1, 1, 2))) if level <= 3 else []
        eid = self.new_id("evaluations")
        contact = p["contact"]
        self.emit(at, "evaluation.recorded", {
            "evaluation": eid, "prompt": p["id"], "ticket": p["ticket"], "case": p["case"], "number": p["number"],
            "window": p["window"], "clerk": p["clerk"], "matter": p["matter"], "level": level, "reasons": reasons,
            "channel": channel, "bad": level <= 2}, actor=by, ticket=p["ticket"], case=p["case"], window=p["window"])
        appeal, excluded = (self._badrating(eid, p, level, at) if level <= 2 else (None, 0))
        self.row("evaluations", (eid, p["id"], p["ticket"], p["case"], p["window"], p["clerk"], p["matter"],
                                 self.deps_json[p["matter"]], p["number"], level,
                                 json.dumps(reasons, ensure_ascii=False), channel, by, iso(at),
                                 int(contact is not None), contact, appeal, excluded))
        return eid

    def _badrating(self, eid: int, p: dict, level: int, at: float) -> tuple[str | None, int]:
        """The 差评 loop of a bad rating: 核实 整改 反馈 复核 (and now and then a 申诉); (appeal, excluded)."""
        rng, fb = self.rng, self.cfg.feedback
        rid = self.new_id("badratings")
        d0 = self.day_of(at)
        number = f"CP{d0:%Y%m%d}-{self.seq_of(d0.isoformat(), 'CP'):03d}"
        win, clerk, named = p["window"], p["clerk"], p["contact"] is not None
        row = {"state": "verify", "due": self.add_wd(d0, fb.verify_working_days).isoformat(), "appeal": None,
               "appeal_due": None, "closed_at": None, "closed_how": None, "rd": None, "rw": None, "updated": at}
        where = {"ticket": p["ticket"], "case": p["case"], "window": win}

        def event(t, kind, by, **data):
            if t < self.end_t:
                self.emit(t, f"badrating.{kind}", {"badrating": rid, "number": number, "window": win, "clerk": clerk,
                                                   "matter": p["matter"], "by": by, **data}, actor=by, **where)

        def step(t, name, due, by, note, **data):
            if t < self.end_t:
                self.row("badrating_steps", (rid, name, due, iso(t), by, note, json.dumps(
                    {k: v for k, v in data.items() if v is not None}, ensure_ascii=False)))

        def upd(t, **fields):
            if t < self.end_t:
                row.update(fields, updated=t)

        def done():
            self.row("badratings", (rid, number, eid, iso(at), row["state"], row["due"], "ok", win, clerk, p["matter"],
                                    self.deps_json[p["matter"]], level, int(named), p["contact"], row["rd"], row["rw"],
                                    row["appeal"], row["appeal_due"], _iso(row["closed_at"]), row["closed_how"],
                                    iso(row["updated"])))

        event(at, "opened", None, state="verify", due=row["due"], evaluation=eid, level=level, named=named)
        t = at
        appeal, excluded = None, 0
        if rng.random() < self.APPEALS:                  # the clerk appeals
            t = self.at_work(d0 + timedelta(days=1), after=t)
            due = self.add_wd(self.day_of(t), fb.appeal_working_days).isoformat()
            upd(t, appeal="pending", appeal_due=due)
            step(t, "appeal", None, clerk, "评价人误操作，请核查录像")
            event(t, "appealed", clerk, state="verify", appeal="pending", due=due)
            t = self.at_work(self.add_wd(self.day_of(t), rng.randint(1, 5)), after=t)
            upheld = rng.random() < .5
            step(t, "appeal_decision", due, "sup1", "经核查" + ("申诉成立" if upheld else "申诉不成立"), upheld=upheld)
            appeal = "upheld" if upheld else "rejected"
            if t < self.end_t:
                excluded = int(upheld)
            else:
                appeal = "pending"
            if upheld:
                upd(t, appeal=appeal, state="closed", due=None, closed_at=t, closed_how="appeal_upheld")
                event(t, "appeal_upheld", "sup1", state="closed", appeal=appeal)
                done()
                return appeal, excluded
            upd(t, appeal=appeal)
            event(t, "appeal_rejected", "sup1", state="verify", appeal=appeal)
        rw, rd = (win, None) if win is not None else (None, json.loads(self.deps_json[p["matter"]])[0])
        t = self.at_work(self.add_wd(self.day_of(t), rng.choice((0, 1, 1, 1, 2))), after=t)
        due_r = self.add_wd(self.day_of(t), fb.rectify_working_days).isoformat()
        step(t, "verify", row["due"], "sup1", "经核实，情况属实", department=rd, window=rw)
        upd(t, state="rectify", due=due_r, rd=rd, rw=rw)
        event(t, "verified", "sup1", state="rectify", due=due_r, responsible_department=rd, responsible_window=rw)
        t = self.at_work(self.add_wd(self.day_of(t), min(25, int(rng.lognormvariate(math.log(6), .6)) + 1)), after=t)
        due_c = self.add_wd(self.day_of(t), fb.callback_working_days).isoformat()
        who = clerk if rw is not None and clerk else "sup1"
        step(t, "rectify", due_r, who, "已开展服务规范培训并整改")
        upd(t, state="callback", due=due_c)
        event(t, "rectified", who, state="callback", due=due_c)
        t = self.at_work(self.add_wd(self.day_of(t), rng.randint(1, 3)), after=t)
        due_k = self.add_wd(self.day_of(t), fb.recheck_working_days).isoformat()
        satisfied = rng.random() < .8
        step(t, "callback", due_c, "sup1", "已电话回访群众", reached=True, satisfied=satisfied)
        upd(t, state="recheck", due=due_k)
        event(t, "called_back", "sup1", state="recheck", due=due_k, reached=True, satisfied=satisfied)
        t = self.at_work(self.add_wd(self.day_of(t), rng.randint(1, 2)), after=t)
        step(t, "recheck", due_k, "sup1", "整改到位", passed=True)
        upd(t, state="closed", due=None, closed_at=t, closed_how="rechecked")
        event(t, "closed", "sup1", state="closed", how="rechecked")
        done()
        return appeal, excluded

    # -- 办不成事 complaints ----------------------------------------------------------------------------------
    def _complaints(self, d: date, a: float, b: float) -> None:
        rng = self.rng
        rate = self.total / 400 / len(self.days)
        for _ in range(int(rate) + (rng.random() < rate - int(rate))):
            self._complaint(d, self.local(d, rng.uniform(a + .25, b - .25)))

    def _complaint(self, d: date, at: float) -> None:
        rng, pol = self.rng, self.cfg.complaints
        cid = self.new_id("complaints")
        number = f"{pol.prefix}{d:%Y%m%d}-{self.seq_of(d.isoformat(), 'BC'):03d}"
        r = rng.random()
        channel = "window" if r < .6 else "kiosk" if r < .85 else "status_page"
        by = self.clerk_at.get(pol.window, self.clerks[pol.window]) if channel == "window" else \
            "kiosk1" if channel == "kiosk" else "status_page"
        mt = self.matters[rng.choice(self.mix)]
        case_id = rng.randint(1, self.ids["cases"]) if self.ids["cases"] and rng.random() < .3 else None
        window = rng.choice(self.pool[mt.code]) if rng.random() < .7 else None
        dep = mt.department or None
        named = rng.random() < .6
        name, phone = (fake_name(rng), f"139{rng.randrange(10**8):08d}") if named else (None, None)
        text = rng.choice(COMPLAINT_TEXTS)
        row = {"class": None, "rd": None, "status": "registered", "due": None, "answer_due": None, "answered_at": None,
               "closed_at": None, "closed_reason": None, "updated": at}
        steps: list = []

        def upd(t, **fields):
            if t < self.end_t:
                row.update(fields, updated=t)

        def step(t, name, due, who, txt, **data):
            if t < self.end_t:
                steps.append((cid, name, due, iso(t), who, txt, json.dumps(
                    {k: v for k, v in data.items() if v is not None}, ensure_ascii=False)))

        def event(t, kind, who, **data):
            if t < self.end_t:
                self.emit(t, f"complaint.{kind}", {"complaint": cid, "number": number, "status": row["status"],
                                                   "class": row["class"], "department": row["rd"] or dep,
                                                   "due": row["due"], "by": who, **data},
                          actor=who, case=case_id, window=window)

        upd(at, due=self.add_wd(d, pol.classify_working_days).isoformat())
        step(at, "register", None, by, text, channel=channel)
        event(at, "registered", by if channel != "status_page" else None, channel=channel, case=case_id,
              matter=mt.code, window=window, named=named)
        t = self.at_work(d + timedelta(days=rng.choice((0, 0, 1))), after=at)
        if rng.random() < self.OUT_OF_SCOPE:
            upd(t, status="closed", due=None, closed_at=t, closed_reason="petition")
            step(t, "close", None, "sup1", "已转信访渠道", reason="petition")
            event(t, "closed", "sup1", reason="petition", reason_zh=CLOSE_REASONS["petition"])
        else:
            cls = rng.choices(("simple", "complex", "special"), (5, 4, 1))[0]
            answer_due = self.add_wd(d, pol.class_days(cls)).isoformat()
            prev = row["due"]
            upd(t, status="classified", **{"class": cls}, due=answer_due, answer_due=answer_due)
            step(t, "classify", prev, "sup1", None, **{"class": cls})
            event(t, "classified", "sup1", answer_due=answer_due)
            resp = dep or rng.choice(self.departments)
            t += rng.uniform(300, 3600)
            upd(t, status="assigned", rd=resp)
            step(t, "assign", answer_due, "sup1", None, department=resp)
            event(t, "assigned", "sup1", was=None)
            days = pol.class_days(cls)
            k = days + rng.randint(1, 4) if rng.random() < .08 else rng.randint(0, days)
            t = self.at_work(self.add_wd(d, k), after=t)
            officer = self.officer.get(resp, "sup1")
            upd(t, status="answered", due=self.add_wd(self.day_of(t), pol.feedback_working_days).isoformat(),
                answered_at=t)
            step(t, "answer", answer_due, officer, "已核实并答复", department=resp)
            event(t, "answered", officer, on_time=self.day_of(t).isoformat() <= answer_due)
            for kind, st, days_next, who in (("feedback", "fed_back", pol.check_working_days, self.clerks[pol.window]),
                                             ("check", "checked", pol.file_working_days, "sup1"),
                                             ("file", "filed", None, "sup1")):
                prev = row["due"]
                t = self.at_work(self.add_wd(self.day_of(t), rng.randint(0, 1)), after=t)
                if st == "filed":
                    upd(t, status="filed", due=None, closed_at=t)
                else:
                    upd(t, status=st, due=self.add_wd(self.day_of(t), days_next).isoformat())
                step(t, kind, prev, who, None)
                event(t, st, who)
        self.row("complaints", (cid, number, text, case_id, mt.code, window, dep, channel, by, iso(at),
                                d.isoformat(), name, phone, row["class"], row["rd"], row["status"], row["due"],
                                row["answer_due"], "ok",
                                _iso(row["answered_at"]), _iso(row["closed_at"]), row["closed_reason"],
                                iso(row["updated"])))
        self.rows.setdefault("complaint_steps", []).extend(steps)
