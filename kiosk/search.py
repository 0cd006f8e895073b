"""Search keys of a matter name: full pinyin and pinyin initials (居民身份证 → juminshenfenzheng, jmsfz).

The page matches what a citizen types against these. pypinyin knows the phrases that pick a
character's reading (银行 yinhang, not yinxing), which a character table alone would get wrong.
Punctuation drops out; Latin letters and digits stay as they are (ICP备案 → icpbeian, icpba).
"""
from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=1024)
def keys(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of `text`, lowercase, letters and digits only."""
    from pypinyin import Style, lazy_pinyin  # loaded once, when the first name is keyed

    full = "".join(lazy_pinyin(text))
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER))
    return _clean(full), _clean(initials)


def _clean(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())
