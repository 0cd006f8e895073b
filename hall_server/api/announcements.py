"""Announcements of calls: their state, and the WAV the calling screens play when they are the sink."""
from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from ..errors import NotFound
from ..runtime import Hall
from .deps import get_hall

router = APIRouter(prefix="/api/v1/announcements", tags=["calling"])
WAIT_S = 10.0


def _missing(seq: int, why: str) -> NotFound:
    return NotFound("announcement_not_found", f"事件 {seq} 没有语音播报（{why}）",
                    f"event {seq} has no announcement: {why}", seq=seq)


@router.get("", summary="The latest announcements, newest first, and the announcer's state")
async def recent(hall: Hall = Depends(get_hall)) -> dict:
    items = [a.as_dict() for a in reversed(hall.announcer.items.values())][:50]
    return {**hall.announcer.status(), "items": items}


@router.get("/{seq}.wav", summary="The WAV of the call with this event seq (waits until it is rendered)",
            response_class=FileResponse, responses={200: {"content": {"audio/wav": {}}}})
async def wav(seq: int, hall: Hall = Depends(get_hall)):
    a = hall.announcer.get(seq)
    if a is None:
        raise _missing(seq, "not a call the announcer has heard of (too old, or not a call)")
    try:
        await asyncio.wait_for(a.ready.wait(), WAIT_S)
    except TimeoutError:
        raise _missing(seq, f"still being rendered after {WAIT_S:g} s") from None
    if a.path is None:
        raise _missing(seq, a.detail or a.state)
    if not a.path.exists():
        raise _missing(seq, "its recording has been pruned from the audio cache (an old call)")
    return FileResponse(a.path, media_type="audio/wav", headers={"Cache-Control": "max-age=86400"})


@router.get("/{seq}", summary="One announcement: its text, state and how long it took to be ready")
async def one(seq: int, hall: Hall = Depends(get_hall)) -> dict:
    a = hall.announcer.get(seq)
    if a is None:
        raise _missing(seq, "not a call the announcer has heard of")
    return a.as_dict()
