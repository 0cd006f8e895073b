"""One Jinja2 loader for every page, made at the first page rather than at start (the API answers sooner)."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@functools.cache
def _jinja():
    from fastapi.templating import Jinja2Templates
    return Jinja2Templates(directory=TEMPLATES)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """The page `name` of templates/ rendered with `context`."""
    return _jinja().TemplateResponse(request, name, context, status_code=status_code)
