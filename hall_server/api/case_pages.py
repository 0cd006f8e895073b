"""The public status page of a case `/c/{query_code}` (the QR code on its notices): its steps and due date,
without name, phone or ID number."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["pages"])
