"""好差评 and the 差评 loop (design.md "Evaluations and complaints"; hall_server/feedback/). Stable shapes:

Levels: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意 (4–5 good, 3 neutral, 1–2 bad). An *evaluation* is
`{"id", "level", "level_name", "level_name_en", "window", "clerk", "ticket", "case", "number", "matter",
"matter_name", "departments", "reasons", "channel" (device|tablet|status_page), "at", "named", "good", "bad",
"appeal" (null|pending|upheld|rejected), "excluded", "badrating" (id of its 差评 record or null)}`.

- `POST /api/v1/evaluations` `{"ticket"?: id, "case"?: id, "level": 1..5, "reasons"?: [str]}` — the token of an
  `evaluator` account bound to the window that finished the handling (its tablet) → 201 evaluation. 409
  `already_rated`; 409 `not_finished_here` (not finished at that window, or not finished); 409 `rating_closed`
  (the on-site prompt timed out: not rated); 403 `staff_cannot_rate` for any other token; 422 for a level outside
  1..5 (`invalid_request`), a reason not in the hall's list (`unknown_reason`), or not exactly one of ticket/case.
- `GET /api/v1/evaluations/pending?window=N` (evaluator: its own window; clerk, supervisor) →
  `{"window", "pending": null | {"prompt", "ticket", "case", "number", "matter", "matter_name", "window", "clerk",
  "state", "created_at", "expires_at", "seconds_left"}, "levels": [{"level", "name", "name_en"}], "reasons": [..]}`.
  The same prompt arrives on `WS /api/v1/events` as `evaluation.prompted` (data: prompt, ticket, case, number,
  window, clerk, matter, matter_name, expires_at, timeout_s); it ends with `evaluation.recorded` or
  `evaluation.not_rated` (why: timeout | superseded | device).
- `GET /api/v1/evaluations?from=YYYY-MM-DD&to=&window=&level=&limit=` (supervisor) → `{"evaluations": [...]}`.
- Public, no token (the receipt's / notice's status page): `GET /api/v1/evaluations/public?ticket=ID&key=K` or
  `?query_code=Q` → `{"rateable", "why"?, "message_zh"?, "number", "matter_name", "window", "finished_at",
  "rated"?: {"level", "name", "at"}, "levels", "reasons"}`; `POST /api/v1/evaluations/public` `{"ticket"?, "key"?,
  "query_code"?, "level", "reasons"?}` → 201 `{"id", "level", "level_name", "window", "number", "matter_name",
  "at", "channel"}`; once per handling (409 `already_rated`), within `feedback.rate_from_status_days` of the
  finish (409 `rating_period_over`), only once finished / handed out (409 `not_finished`). The ticket's `key` is
  on the receipt's QR code (`Feedback.ticket_key`); a wrong key answers 404 like an unknown ticket.
- 差评 records: `{"id", "number", "evaluation", "level", "level_name", "reasons", "channel", "rated_at", "ticket",
  "case", "handling", "window", "clerk", "matter", "matter_name", "departments", "named", "state"
  (verify|rectify|callback|recheck|closed), "state_name", "due" (the current step's day), "deadline"
  (ok|amber|red), "responsible": {"department", "window"}, "appeal", "appeal_due", "opened_at", "closed_at",
  "closed_how" (rechecked|appeal_upheld), "next": [steps allowed now], "contact"?, "steps"?: [{"step", "name",
  "at", "by", "due", "note", ...}]}`.
  `GET /api/v1/badratings?state=open|verify|…` (supervisor, clerk, department: its own) → `{"badratings": [...]}`;
  `GET /api/v1/badratings/{id}` (with steps; supervisors and clerks see the contact phone of a named rating).
  `POST /api/v1/badratings/{id}/<step>`: `verify` `{"finding", "department"? | "window"?}` (supervisor);
  `rectify` `{"measures"}` (the responsible department's account, the responsible window's clerk, supervisor);
  `callback` `{"result", "reached"?: true, "satisfied"?}` (supervisor, clerk); `recheck` `{"note", "passed"?: true}`
  (supervisor; a named rating needs its callback first: 409 `callback_required`; not passed → back to rectify);
  `appeal` `{"reason"}` (the rated clerk, a department concerned, supervisor; once, before closing);
  `appeal-decision` `{"upheld": bool, "note"}` (supervisor; upheld closes it and leaves the statistics) → 200 the
  record. 403 `role_forbidden` for a wrong role, 409 `badrating_state` for a wrong order.
  `GET /api/v1/badratings.csv?state=` (supervisor) — the 台账, UTF-8 with BOM.
- `GET /api/v1/feedback/summary?period=today|month` or `?from=&to=` (supervisor) → `{"from", "to", "totals",
  "by": {"window"|"clerk"|"matter"|"department": [{"key", "name", "rated", "good", "neutral", "bad", "not_rated",
  "good_rate"}]}, "badratings": {"open", "amber", "red", "items": [...]}}`; good_rate = good / rated (null if none).
"""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from ..accounts.auth import Principal
from ..errors import NotFound, Unprocessable
from ..runtime import Hall
from .deps import current, get_hall, require
from .models import Body

router = APIRouter(prefix="/api/v1", tags=["evaluations"])


class RatingRequest(Body):
    ticket: int | None = Field(default=None, description="the ticket finished at the evaluator's window")
    case: int | None = Field(default=None, description="the case delivered at the evaluator's window")
    level: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    reasons: list[str] = Field(default_factory=list, max_length=12, description="from the hall's reasons list")


class PublicRatingRequest(RatingRequest):
    key: str | None = Field(default=None, max_length=64, description="the ticket's key from the receipt's QR code")
    query_code: str | None = Field(default=None, max_length=40, description="a case's query code (受理通知书)")


class StepRequest(Body):
    finding: str | None = Field(default=None, max_length=1000)
    department: str | None = Field(default=None, max_length=100)
    window: int | None = Field(default=None, ge=1, le=999)
    measures: str | None = Field(default=None, max_length=1000)
    result: str | None = Field(default=None, max_length=1000)
    reached: bool | None = None
    satisfied: bool | None = None
    note: str | None = Field(default=None, max_length=1000)
    passed: bool | None = None
    reason: str | None = Field(default=None, max_length=1000)
    upheld: bool | None = None


def _day(text: str | None, name: str, default: date) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Unprocessable("bad_date", f"{name} 须为 YYYY-MM-DD", f"{name} must be a date YYYY-MM-DD, not {text!r}",
                            field=name) from None


@router.post("/evaluations", status_code=201, summary="The window's evaluator rates the handling finished there")
async def rate(body: RatingRequest, hall: Hall = Depends(get_hall), who: Principal = Depends(current)) -> dict:
    return await hall.feedback.rate(who, ticket=body.ticket, case=body.case, level=body.level, reasons=body.reasons)


@router.get("/evaluations/pending", summary="What the window's evaluator should ask about now")
async def pending(window: int | None = Query(None, ge=1, le=999), hall: Hall = Depends(get_hall),
                  who: Principal = Depends(current)) -> dict:
    return hall.feedback.pending(who, window)


@router.get("/evaluations/public", summary="Whether the receipt's or notice's holder may rate it (no token)")
async def public(ticket: int | None = None, key: str | None = Query(None, max_length=64),
                 query_code: str | None = Query(None, max_length=40), hall: Hall = Depends(get_hall)) -> dict:
    return hall.feedback.public(ticket=ticket, key=key, query_code=query_code)


@router.post("/evaluations/public", status_code=201, summary="Rate once from the status page (no token)")
async def rate_public(body: PublicRatingRequest, hall: Hall = Depends(get_hall)) -> dict:
    if body.case is not None and not body.query_code:
        raise Unprocessable("query_code_required", "从状态页评价办件须提供查询码（query_code）",
                            "a case is rated from its status page by its `query_code`")
    return await hall.feedback.rate_public(ticket=body.ticket, key=body.key, query_code=body.query_code,
                                           level=body.level, reasons=body.reasons)


@router.get("/evaluations", summary="Ratings of a period (supervisor)")
async def list_evaluations(from_: str | None = Query(None, alias="from"), to: str | None = None,
                           window: int | None = Query(None, ge=1, le=999), level: int | None = Query(None, ge=1, le=5),
                           limit: int = Query(500, ge=1, le=2000), hall: Hall = Depends(get_hall),
                           who: Principal = Depends(require("supervisor"))) -> dict:
    today = hall.feedback.today()
    first = _day(from_, "from", today)
    last = _day(to, "to", max(first, today))
    return {"evaluations": hall.feedback.evaluations(first=first, last=last, window=window, level=level, limit=limit)}


@router.get("/feedback/summary", summary="Satisfaction per window, clerk, matter and department; open 差评")
async def summary(period: str = Query("today", pattern="^(today|month)$"),
                  from_: str | None = Query(None, alias="from"), to: str | None = None, hall: Hall = Depends(get_hall),
                  who: Principal = Depends(require("supervisor"))) -> dict:
    today = hall.feedback.today()
    first = today if period == "today" else today.replace(day=1)
    first = _day(from_, "from", first)
    last = _day(to, "to", today)
    return {"period": period if not (from_ or to) else None, **await hall.feedback.summary(first, last)}


@router.get("/badratings.csv", summary="The 差评 ledger (台账) as CSV, UTF-8 with BOM (supervisor)")
async def ledger(state: str | None = None, hall: Hall = Depends(get_hall),
                 who: Principal = Depends(require("supervisor"))) -> Response:
    hall.feedback.badratings(who, state, limit=1)           # the same check of `state` as the list
    day = hall.feedback.today().strftime("%Y%m%d")
    return Response(await hall.feedback.ledger_csv(state), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="badratings-{day}.csv"'})


@router.get("/badratings", summary="差评 records, newest first")
async def list_badratings(state: str | None = None, limit: int = Query(500, ge=1, le=2000),
                          hall: Hall = Depends(get_hall), who: Principal = Depends(current)) -> dict:
    return {"badratings": hall.feedback.badratings(who, state, limit)}


@router.get("/badratings/{record_id}", summary="One 差评 record with its steps")
async def get_badrating(record_id: int, hall: Hall = Depends(get_hall), who: Principal = Depends(current)) -> dict:
    return hall.feedback.badrating(who, record_id)


@router.post("/badratings/{record_id}/{step}", summary="A step of the 差评 loop: verify, rectify, callback, recheck, "
             "appeal, appeal-decision")
async def step(record_id: int, step: str, body: StepRequest | None = None, hall: Hall = Depends(get_hall),
               who: Principal = Depends(current)) -> dict:
    if step not in ("verify", "rectify", "callback", "recheck", "appeal", "appeal-decision"):
        raise NotFound("unknown_step", f"未知步骤 {step}", f"unknown step {step!r}; use verify, rectify, "
                            "callback, recheck, appeal or appeal-decision", step=step)
    data = (body or StepRequest()).model_dump(exclude_none=True)
    return await hall.feedback.step(who, record_id, step, data)
