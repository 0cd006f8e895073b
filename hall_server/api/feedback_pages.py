"""The pages of 好差评 (issue 17): the rating tablet at a window `/evaluate/window/{n}` and the 差评 ledger (台账)
`/feedback` for supervisors. Both are static shells: the tablet logs in as its window's evaluator account and
rates through POST /api/v1/evaluations; the ledger reads and walks the 差评 records through /api/v1/badratings
(see api/evaluations.py for every shape). Nothing personal is rendered here.

The tablet's spoken prompts are the hall's own voice, as the kiosk's elder mode speaks through its server
(`/api/speech.wav`): the three fixed phrases of `PHRASES` only, each rendered once with `calling.voice` and kept as a
WAV in the audio cache; the page falls back to the browser's Web Speech API when the voice cannot say them."""
from __future__ import annotations

import asyncio
import hashlib

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse

from ..errors import HallError, NotFound
from ..runtime import Hall
from ..speech import render as speech_render
from ..web.templates import render
from .deps import get_hall

router = APIRouter(include_in_schema=False)
PHRASES = {"prompt": "请您对本次服务进行评价", "reasons": "请问哪里让您不满意？可以多选，也可以跳过",
           "thanks": "感谢您的评价"}
_rendering = asyncio.Lock()     # one phrase rendered at a time (the voice of speech.render is one per process)


@router.get("/evaluate/window/{n}", response_class=HTMLResponse)
async def evaluate(request: Request, n: str, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    """The tablet at window n; a bilingual 404 page for a window the hall lacks."""
    w = hall.cfg.window(int(n)) if n.isdecimal() and len(n) < 6 else None
    return render(request, "evaluate.html", {"cfg": hall.cfg, "w": w, "n": n}, status_code=200 if w else 404)


@router.get("/feedback", response_class=HTMLResponse)
async def ledger(request: Request, hall: Hall = Depends(get_hall)) -> HTMLResponse:
    return render(request, "feedback.html", {"cfg": hall.cfg})


@router.get("/evaluate/speech/{name}.wav", response_class=FileResponse)
async def speech(name: str, hall: Hall = Depends(get_hall)) -> FileResponse:
    """The WAV of one of the tablet's fixed phrases (prompt, reasons, thanks) in the hall's calling voice."""
    text = PHRASES.get(name)
    if text is None:
        raise NotFound("unknown_phrase", f"没有提示语 {name}", f"no spoken phrase {name!r}; use one of "
                       f"{', '.join(PHRASES)}", name=name)
    voice = hall.cfg.calling.voice
    tag = hashlib.sha256(f"{voice}|{text}".encode()).hexdigest()[:12]
    path = hall.data_dir / "audio-cache" / f"evaluate-{name}-{tag}.wav"
    if not path.exists():
        async with _rendering:
            if not path.exists():
                try:
                    await asyncio.to_thread(speech_render.render_call, voice, [(text, tuple(text), "zh")], 1, False,
                                            1.0, str(path))
                except Exception as exc:        # no voice, or one that cannot say it: the page uses its own
                    raise HallError("speech_unavailable", "语音提示暂不可用", f"the voice {voice} cannot say the "
                                    f"prompt: {exc}", status=503) from exc
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "max-age=86400"})
