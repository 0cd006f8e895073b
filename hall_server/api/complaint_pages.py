"""The staff page `/complaints` of the “办不成事” complaints (issue 17, item 4): the 办不成事 window's clerk and
supervisors register one, supervisors classify, assign, record feedback, check, file or close, a department
account answers what was passed to it; the list with status, class, department, due date and colour, and the
台账 as CSV. The page (templates/complaints.html, static/complaints.js) speaks only to the API of
api/complaints.py; what it needs besides — the departments, matters and windows it offers — is drawn here
from the hall's config."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ..runtime import Hall
from ..web.templates import render
from .deps import get_hall

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/complaints", response_class=HTMLResponse)
async def complaints_page(request: Request, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    cfg = hall.cfg
    departments = sorted({d for m in cfg.matters for d in m.deciders})
    return render(request, "complaints.html", {
        "cfg": cfg, "departments": departments, "matters": cfg.matters, "windows": cfg.windows,
        "complaint_window": cfg.complaints.window})
