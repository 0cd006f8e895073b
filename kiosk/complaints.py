"""The kiosk's “办不成事”反映 (issue 17, item 4): a citizen says what could not be done, and optionally a phone for
the SMS; the kiosk registers it on the hall with its own token (POST /api/v1/complaints, channel kiosk) and the
page shows the number and what happens next. The page never sees the token.

    POST /api/complaints   {"text", "phone"?} → 201 {"number", "registered_at", "classify_due", "sms", "next": [...]}

The hall refuses a bad phone or an empty text with its own bilingual error, passed on unchanged (app.py). The
promised days below are the district's defaults (hall_server/complaints/config.py); the hall's answer gives the
day the 分类 is due, which is what the citizen is told first.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from .runtime import Kiosk

MOBILE = re.compile(r"1[3-9]\d{9}")
# what happens next, as the kiosk tells it: 分类 → 转办 → 答复, in the working days the hall's [complaints] sets
NEXT = (("分类", "Sorting", "工作人员在 {due} 前对您的反映分类", "Staff sort your complaint by {due}"),
        ("转办", "Passing on", "交给负责的部门办理", "It goes to the department responsible"),
        ("答复", "Answer", "简单问题{simple}；复杂问题 {complex} 个工作日内、特殊问题 {special} 个工作日内答复您",
         "Simple: {simple_en}; complex: within {complex} working days; special: within {special} working days"))


def _days(hall: dict | None) -> dict:
    c = (hall or {}).get("complaints") or {}
    simple = int(c.get("simple_working_days", 0))
    return {"simple": "当场答复" if simple == 0 else f" {simple} 个工作日内答复",
            "simple_en": "answered on the spot" if simple == 0 else f"within {simple} working days",
            "complex": int(c.get("complex_working_days", 5)), "special": int(c.get("special_working_days", 10))}


class KioskComplaint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(default="", max_length=2000)
    phone: str | None = Field(default=None, max_length=24)


def _error(status: int, code: str, zh: str, en: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message_zh": zh, "message_en": en}}, status_code=status)


def complaint_routes(kiosk: Kiosk) -> APIRouter:
    router = APIRouter()

    @router.post("/api/complaints", status_code=201, response_model=None)
    async def register(body: KioskComplaint) -> dict | JSONResponse:
        text = body.text.strip()
        if not text:
            return _error(422, "complaint_empty", "请写下您没有办成的事", "Write down what you could not get done")
        phone = re.sub(r"[\s-]+", "", body.phone or "")
        if phone and not MOBILE.fullmatch(phone):
            return _error(422, "bad_phone", "手机号码应为11位数字，以1开头",
                          "A mobile number has 11 digits and starts with 1")
        req: dict = {"text": text}
        if phone:
            req["contact"] = {"phone": phone}
        c = await kiosk.client.complaint(req)
        due = c.get("due") or ""
        days = _days(kiosk.hall)
        return {"number": c["number"], "registered_at": c.get("registered_at"), "classify_due": due,
                "sms": bool(phone),
                "next": [{"step": zh, "step_en": en, "text": t.format(due=due, **days),
                          "text_en": te.format(due=due, **days)} for zh, en, t, te in NEXT]}

    return router
