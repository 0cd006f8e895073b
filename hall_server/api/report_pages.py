"""The statistics pages of issue 18 for supervisors: the reports `/reports` (charts, the table of every figure,
exports) and the monthly 考核表 `/reports/appraisal?month=YYYY-MM&of=window|clerk` (ranking, the score formula,
an A4 print layout). Both are static shells that log in as a supervisor and read `GET /api/v1/stats…`
(api/stats.py); the figures' names and definitions come from that API, never from here. What the pages offer
as filters — windows, matters, departments — and the hall's today (for the quick ranges) are drawn here from the
hall's config and clock."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ..clock import service_day
from ..runtime import Hall
from ..web.templates import render
from .deps import get_hall

router = APIRouter(tags=["pages"], include_in_schema=False)


def _context(hall: Hall) -> dict:
    cfg = hall.cfg
    today = service_day(hall.clock.now(), cfg.hall.timezone, cfg.hall.rollover_hour)
    return {"cfg": cfg, "today": today.isoformat(), "windows": cfg.windows, "matters": cfg.matters,
            "departments": sorted({d for m in cfg.matters for d in m.deciders})}


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(request: Request, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    return render(request, "reports.html", _context(hall))


@router.get("/reports/appraisal", response_class=HTMLResponse)
async def appraisal_page(request: Request, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    """The month and `of` are read by the page from its own address (a bad one is the API's 422 in words)."""
    return render(request, "appraisal.html", _context(hall))
