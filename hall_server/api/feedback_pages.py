"""The pages of 好差评 (issue 17): the rating tablet at a window `/evaluate/window/{n}` and the 差评 ledger (台账)
`/feedback` for supervisors. Both are static shells: the tablet logs in as its window's evaluator account and
rates through POST /api/v1/evaluations; the ledger reads and walks the 差评 records through /api/v1/badratings
(see api/evaluations.py for every shape). Nothing personal is rendered here."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ..runtime import Hall
from ..web.templates import render
from .deps import get_hall

router = APIRouter(include_in_schema=False)


@router.get("/evaluate/window/{n}", response_class=HTMLResponse)
async def evaluate(request: Request, n: str, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    """The tablet at window n; a bilingual 404 page for a window the hall lacks."""
    w = hall.cfg.window(int(n)) if n.isdecimal() and len(n) < 6 else None
    return render(request, "evaluate.html", {"cfg": hall.cfg, "w": w, "n": n}, status_code=200 if w else 404)


@router.get("/feedback", response_class=HTMLResponse)
async def ledger(request: Request, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    return render(request, "feedback.html", {"cfg": hall.cfg})
