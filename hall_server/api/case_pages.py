"""The public status page of a case `/c/{query_code}` (the QR code on its notices): its steps and due date,
without name, phone or ID number.

The page is drawn here from the public status (`hall.cases.public`, the same as GET /api/v1/case-status/…),
with what a citizen wants beside it: the state in words, the working days left (counted on the hall's
calendar, which a phone does not have) and the steps still to come. static/case_status.js polls the public
status and, when it changed (or the day did), fetches this page again and swaps the view in place.
An unknown code is a 404 page in both languages, not the API's JSON."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ..errors import NotFound
from ..runtime import Hall
from ..web.templates import render
from .deps import get_hall
from .remote_cases import remote_public

router = APIRouter(tags=["pages"], include_in_schema=False)

FINAL = ("refused", "delivered", "withdrawn")       # nothing more will happen: the page stops polling
RUNNING = ("accepted", "in_review")                  # the clock runs against the due date
WEEKDAYS = (("周一", "Mon"), ("周二", "Tue"), ("周三", "Wed"), ("周四", "Thu"), ("周五", "Fri"), ("周六", "Sat"),
            ("周日", "Sun"))
KINDS = {"即办": ("即办件", "done on the spot"), "承诺": ("承诺件", "promised within a time limit"),
         "上报": ("上报件", "sent up for approval"), "联办": ("联办件", "handled jointly by several departments")}
STATES = {
    "received": ("已收件，等待受理", "Received, waiting to be accepted"),
    "supplement": ("待补正：请补齐下列材料", "Waiting for the missing materials listed below"),
    "accepted": ("已受理，等待部门审查", "Accepted, waiting for the department"),
    "in_review": ("部门审查中", "Under review by the department"),
    "suspended": ("暂停计时（特别程序）", "Clock stopped (special procedure)"),
    "decided": ("已办结", "Decided"),
    "ready": ("已办结，待取件", "Decided, ready to collect"),
    "delivered": ("已出件", "Handed out"),
    "refused": ("不予受理", "Not accepted"),
    "withdrawn": ("已撤回", "Withdrawn"),
}
OUTCOMES = {"approved": ("准予办理", "approved"), "rejected": ("不予批准", "not approved")}
HANDOUT = {"window": ("请带上身份证和受理通知书到出件窗口领取", "Bring your ID card and the acceptance notice to the "
                                                                 "hand-out window"),
           "mail": ("结果将邮寄给您", "The result will be posted to you"),
           "locker": ("请到大厅智能柜取件", "Collect it from the hall's lockers")}
# the steps a citizen follows (internal ones — released, reassigned, deadline colours — are left out)
SHOWN = ("received", "supplement_requested", "materials_received", "accepted", "refused", "claimed", "suspended",
         "resumed", "extended", "reported", "task_decided", "decided", "ready", "delivered", "withdrawn")
# what is still to come, by status: (step, 中文, English)
AHEAD = (("accepted", "受理", "accepted"), ("claimed", "部门审查", "under review"), ("decided", "办结", "decided"),
         ("ready", "待取件", "ready to collect"), ("delivered", "已出件", "handed out"))
REACHED = {"received": 0, "supplement": 0, "accepted": 1, "in_review": 2, "suspended": 2, "decided": 3, "ready": 4}


def fingerprint(status: dict) -> str:
    """What the page's script compares with each poll of the public status (same formula in case_status.js)."""
    return "|".join((status["status"], status.get("due") or "", str(len(status["steps"])),
                     "、".join(status.get("missing") or ())))


def _local(at: str, tz: ZoneInfo) -> datetime:
    return datetime.fromisoformat(at).astimezone(tz)


def _day(text: str | None) -> dict | None:
    if not text:
        return None
    d = date.fromisoformat(text)
    zh, en = WEEKDAYS[d.weekday()]
    return {"iso": text, "zh": f"{d.year}年{d.month}月{d.day}日（{zh}）", "en": f"{en} {d:%d %b %Y}"}


def _left(status: dict, hall: Hall, today: date) -> dict | None:
    """Working days left until the promised date, in words, while the clock runs (or why it does not)."""
    if status["status"] == "suspended":
        return {"tone": "paused", "zh": "暂停计时中：恢复后办结日期相应顺延",
                "en": "The clock is stopped: the date moves on by the days stopped once it resumes"}
    if status["status"] not in RUNNING or not status.get("due"):
        return None
    n = hall.cases.calendar.working_days_left(today, date.fromisoformat(status["due"]))
    if n > 0:
        return {"tone": "amber" if n <= hall.cfg.cases.amber_days else "ok", "days": n,
                "zh": f"还剩 {n} 个工作日", "en": f"{n} working day{'s' if n != 1 else ''} left"}
    if n == 0:
        return {"tone": "amber", "days": 0, "zh": "今天到期", "en": "Due today"}
    return {"tone": "red", "days": n, "zh": f"已超过承诺期限 {-n} 个工作日，如有疑问请致电咨询",
            "en": f"{-n} working day{'s' if n != -1 else ''} past the promised date: call the hall if in doubt"}


def _state(status: dict) -> tuple[str, str]:
    if status["status"] == "accepted" and status.get("kind") == "即办":
        return "已受理，窗口当场办理", "Accepted, being done at the window"
    zh, en = STATES.get(status["status"], (status["status"], status["status"]))
    outcome = OUTCOMES.get(status.get("outcome") or "")
    if outcome and status["status"] in ("decided", "ready", "delivered"):
        zh, en = f"{zh}（{outcome[0]}）", f"{en} ({outcome[1]})"
    return zh, en


def _steps(status: dict, tz: ZoneInfo) -> list[dict]:
    steps = [s for s in status["steps"] if s["step"] in SHOWN]
    out = []
    for i, s in enumerate(steps):
        at = _local(s["at"], tz)
        out.append({"step": s["step"], "name": s["name"], "name_en": s["name_en"], "at": s["at"],
                    "when": at.strftime("%Y-%m-%d %H:%M"), "department": s.get("department"),
                    "current": i == len(steps) - 1 and status["status"] not in FINAL})
    if status["status"] == "supplement":          # the items asked for, at the step that asked for them
        asked = [s for s in out if s["step"] == "supplement_requested"]
        if asked:
            asked[-1]["missing"] = list(status.get("missing") or ())
    return out


def _ahead(status: dict) -> list[dict]:
    reached = REACHED.get(status["status"])
    if reached is None:
        return []
    steps = AHEAD[reached:]
    if status.get("kind") == "即办":
        steps = [s for s in steps if s[0] != "claimed"]
    if status.get("via") == "mail":
        steps = [s for s in steps if s[0] != "ready"]
    return [{"step": s, "name": zh, "name_en": en} for s, zh, en in steps]


def view(status: dict, hall: Hall) -> dict:
    """Everything the template shows, from the public status alone (nothing personal goes in)."""
    tz = ZoneInfo(hall.cfg.hall.timezone)
    now = hall.clock.now()
    today = now.astimezone(tz).date()
    state_zh, state_en = _state(status)
    return {
        "number": status["number"], "matter_name": status["matter_name"],
        "matter_name_en": status.get("matter_name_en") or "", "kind": KINDS.get(status.get("kind") or ""),
        "status": status["status"], "state_zh": state_zh, "state_en": state_en,
        "missing": list(status.get("missing") or ()) if status["status"] == "supplement" else [],
        "due": _day(status.get("due")) if status["status"] not in ("refused", "withdrawn") else None,
        "left": _left(status, hall, today),
        "handout": HANDOUT.get(status.get("via") or "") if status["status"] == "ready" else None,
        "waybill": status.get("waybill") if status["status"] == "delivered" else None,
        "steps": _steps(status, tz), "ahead": _ahead(status),
        "live": status["status"] not in FINAL, "fingerprint": fingerprint(status),
        "today": today.isoformat(), "checked": now.astimezone(tz).strftime("%H:%M"),
    }


@router.get("/c/{query_code}", response_class=HTMLResponse)
async def case_status_page(request: Request, query_code: str, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    """The page a notice's QR code opens on a citizen's phone (no login)."""
    cfg = hall.cfg
    context = {"cfg": cfg, "phone": cfg.cases.complaint_phone or cfg.hall.phone, "code": query_code,
               "tz": cfg.hall.timezone}
    try:
        status = hall.cases.public(query_code) if 8 <= len(query_code) <= 40 else None
    except NotFound:
        status = None
    if status is None and 8 <= len(query_code) <= 40:      # 跨域: another hall's case, with [rollup]
        found = await remote_public(hall, query_code=query_code)
        status = found[0] if found else None
    if status is None:
        return render(request, "case_status.html", {**context, "c": None}, status_code=404)
    return render(request, "case_status.html", {**context, "c": view(status, hall)})
