"""The back office's page `/office`: a department officer's worklist (due dates and colours), claim,
suspend/resume, report and decide, through the cases API."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["pages"])
