"""Statistics and 考核 (issue 18; hall_server/stats/). Stable shapes:

- `GET /api/v1/stats?from=YYYY-MM-DD&to=YYYY-MM-DD&by=window|clerk|matter|group|department|channel|day|week|month|hour`
  with optional filters `window`, `clerk`, `matter`, `department` (combinable with any `by`), `group_by2=weekday`
  (with `by=hour`: rows keyed "weekday:hour", e.g. "1:09", ISO weekday 1..7) and `format=json|xlsx|csv`
  (supervisor or admin; a clerk 403 `role_forbidden`, no token 401) → `{"from", "to", "by", "filters", "empty",
  "message"? (when empty), "totals": {row of key "全部"}, "rows": [{"key", "label", ...figures...}], "definitions":
  {figure: definition}}`. Each row holds every figure of hall_server/stats/figures.py FIGURES; null where it does not
  apply (a window's open time per matter) or has no denominator, never a made-up 0. Tickets whose key is unknown
  (never called: no window) are the row "-". XLSX: one sheet, Chinese headers, frozen header row, fitted widths,
  totals row last, `stats-<by>-<from>-<to>.xlsx`; CSV: the same table, UTF-8 with BOM.
  422 `invalid_range` (`from` after `to`, field "from"), `range_too_long` (over 5 years, field "to"), `bad_date`
  (field named), `unknown_by` (field "by"), `unknown_format` (field "format"), `bad_group_by2`.
- `GET /api/v1/stats/figures` (any signed-in account) → `{"figures": [{"key", "zh", "en", "definition"}], "by":
  {by: [zh, en]}, "score": {"weights", "definition"}}`.
- `GET /api/v1/stats/appraisal?month=YYYY-MM&of=window|clerk&format=json|xlsx|csv` (supervisor) → `{"month", "of",
  "from", "to", "empty", "rows": [{"key", "label", "rank", ...figures..., "score"}], "weights", "score_definition",
  "definitions"}` ranked by score (highest first; rows without a score last, rank null).
- `GET /api/v1/stats/today` (the dashboard's accounts) → `{"day", "issued", "served", "waiting", "wait_p50_s",
  "good_rate", "cases_accepted", "cases_overdue", "complaints"}`.
The figures follow the event log within about a second (the projector's batch; `GET /api/v1/health` → `stats`).
"""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Response

from ..accounts.auth import Principal
from ..clock import service_day
from ..errors import HallError
from ..runtime import Hall
from ..stats import export, figures
from .deps import WATCHERS, current, get_hall, require

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])
BYS = ("window", "clerk", "matter", "group", "department", "channel", "day", "week", "month", "hour")
FORMATS = ("json", "xlsx", "csv")
MAX_DAYS = 5 * 366
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS = {401: {"description": "no or an expired token (unauthorized)"},
          403: {"description": "role_forbidden: a clerk or other staff account (supervisor or admin only)"},
          422: {"description": "invalid_range / range_too_long / bad_date / unknown_by / unknown_format: the field "
                               "is named in `error.field`, the message in Chinese and English"}}
FILE = {200: {"content": {"application/json": {}, XLSX: {}, "text/csv": {}},
              "description": "the report as JSON, or the table as XLSX or CSV (format=)"}}


def _bad(code: str, field: str, zh: str, en: str) -> HallError:
    return HallError(code, zh, en, status=422, field=field)


def _day(value: str, field: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise _bad("bad_date", field, f"{field} 日期格式有误：{value!r}，应为 YYYY-MM-DD",
                   f"{field}: {value!r} is not a date; write it as YYYY-MM-DD") from None


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise _bad("unknown_format", "format", f"不支持的导出格式 {fmt!r}，可选：json、xlsx、csv",
                   f"unknown format {fmt!r}; use json, xlsx or csv")
    return fmt


def _sheet(report: dict, by: str, fmt: str, name: str, extra: tuple[str, ...] = ()) -> Response:
    header, body = export.table(report, by, extra)
    if fmt == "csv":
        data, media = export.to_csv(header, body), "text/csv; charset=utf-8"
    else:
        data, media = export.to_xlsx(header, body, name), XLSX
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


@router.get("", summary="Figures per window, clerk, matter, … over a range (JSON, XLSX or CSV)",
            responses={**FILE, **ERRORS})
async def stats(frm: str = Query(..., alias="from", max_length=20, description="first day, YYYY-MM-DD"),
                to: str = Query(..., max_length=20, description="last day, YYYY-MM-DD (included)"),
                by: str = Query("day", max_length=20), window: int | None = Query(None, ge=1, le=9999),
                clerk: str | None = Query(None, max_length=64), matter: str | None = Query(None, max_length=64),
                department: str | None = Query(None, max_length=100),
                group_by2: str | None = Query(None, max_length=20), fmt: str = Query("json", alias="format",
                                                                                     max_length=10),
                hall: Hall = Depends(get_hall), who: Principal = Depends(require("supervisor"))):
    first, last = _day(frm, "from"), _day(to, "to")
    if first > last:
        raise _bad("invalid_range", "from", f"起始日期 {first} 晚于结束日期 {last}",
                   f"from ({first}) is after to ({last}); swap them")
    if (last - first).days + 1 > MAX_DAYS:
        raise _bad("range_too_long", "to", "统计范围不能超过5年，请缩短范围",
                   f"the range {first}..{last} is longer than 5 years; ask for a shorter one")
    if by not in BYS:
        raise _bad("unknown_by", "by", f"不支持的分组 {by!r}，可选：{'、'.join(BYS)}",
                   f"unknown by {by!r}; use one of {', '.join(BYS)}")
    if group_by2 is not None and (group_by2 != "weekday" or by != "hour"):
        raise _bad("bad_group_by2", "group_by2", "group_by2 只能为 weekday，且须与 by=hour 一起使用",
                   "group_by2 may only be 'weekday', together with by=hour")
    fmt = _format(fmt)
    filters = {"window": window, "clerk": clerk, "matter": matter, "department": department}
    report = await hall.stats.report(first, last, by, filters, group_by2)
    if fmt == "json":
        return report
    return _sheet(report, by, fmt, f"stats-{by}-{first}-{last}")


@router.get("/figures", summary="Every figure's Chinese and English name and its definition; the score's formula",
            responses={401: ERRORS[401]})
async def figure_list(who: Principal = Depends(current)) -> dict:
    return {"figures": figures.as_list(), "by": figures.BY,
            "score": {"weights": figures.WEIGHTS, "definition": figures.SCORE_TEXT}}


@router.get("/appraisal", summary="The monthly appraisal (考核表) of windows or clerks, ranked by score",
            responses={**FILE, **ERRORS})
async def appraisal(month: str = Query(..., max_length=10, description="YYYY-MM"),
                    of: str = Query("window", max_length=10), fmt: str = Query("json", alias="format", max_length=10),
                    hall: Hall = Depends(get_hall), who: Principal = Depends(require("supervisor"))):
    try:
        if len(month) != 7:
            raise ValueError
        date.fromisoformat(month + "-01")
    except ValueError:
        raise _bad("bad_date", "month", f"月份格式有误：{month!r}，应为 YYYY-MM",
                   f"month: {month!r} is not a month; write it as YYYY-MM") from None
    if of not in ("window", "clerk"):
        raise _bad("unknown_by", "of", f"考核对象 {of!r} 不支持，可选：window、clerk",
                   f"of must be window or clerk, not {of!r}")
    fmt = _format(fmt)
    result = await hall.stats.appraisal(month, of)
    if fmt == "json":
        return result
    return _sheet({"rows": result["rows"]}, of, fmt, f"appraisal-{of}-{month}", ("rank", "score"))


@router.get("/today", summary="Today's headline figures for the dashboard", responses={401: ERRORS[401],
            403: {"description": "role_forbidden: an account that does not see the dashboard"}})
async def today(hall: Hall = Depends(get_hall), who: Principal = Depends(require(*WATCHERS))) -> dict:
    return await hall.stats.today(service_day(hall.clock.now(), hall.cfg.hall.timezone, hall.cfg.hall.rollover_hour))
