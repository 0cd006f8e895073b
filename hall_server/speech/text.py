"""What a call says: the hall's phrase with the ticket read digit by digit and the window as a number.

请A001号到3号窗口办理 is spoken 请 A 零零一 号 到 三 号 窗口 办理: a ticket's digits one by one (a citizen
compares them with the slip in hand), the window as a plain Chinese number (十五号窗口). The result is an
`Utterance` — text for a speech engine, and the same words as tokens for a voice of recorded clips.
"""
from __future__ import annotations

import re

from drivers.audio.base import Utterance

DIGITS = "零一二三四五六七八九"
# the words of the default phrases, longest first, so that 窗口 is one clip and not 窗 + 口
WORDS = ("窗口", "办理", "请到", "前往", "请", "号", "到", "第", "位")


def ticket_tokens(number: str) -> list[str]:
    """A001 → A 零 零 一: letters as letters, digits one by one."""
    return [DIGITS[int(c)] if c.isdigit() else c.upper() for c in number if c.isalnum()]


def number_tokens(n: int) -> list[str]:
    """A window number as said aloud: 3 → 三, 10 → 十, 15 → 十五, 22 → 二十二, 105 → 一 零 五 (digit by digit)."""
    if n < 0:
        raise ValueError("a window number is not negative")
    if n < 10:
        return [DIGITS[n]]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ([] if tens == 1 else [DIGITS[tens]]) + ["十"] + ([DIGITS[ones]] if ones else [])
    return [DIGITS[int(c)] for c in str(n)]


def _tokens_of(phrase: str) -> list[str]:
    """Split the fixed words of a phrase into clip tokens (known words first, then single characters)."""
    out: list[str] = []
    i = 0
    while i < len(phrase):
        word = next((w for w in WORDS if phrase.startswith(w, i)), None)
        if word is None:
            ch = phrase[i]
            if not ch.isspace() and ch not in "，。,.!！":
                out.append(ch)
            i += 1
        else:
            out.append(word)
            i += len(word)
    return out


def compose(template: str, number: str, window: int) -> Utterance:
    """The Chinese utterance of `template` (with {number} and {window}) for one call."""
    tokens: list[str] = []
    for part in re.split(r"(\{number\}|\{window\})", template):
        if part == "{number}":
            tokens += ticket_tokens(number)
        elif part == "{window}":
            tokens += number_tokens(window)
        elif part:
            tokens += _tokens_of(part)
    return Utterance(text="".join(tokens), tokens=tuple(tokens), lang="zh")


def compose_en(template: str, number: str, window: int) -> Utterance:
    """The English line: the ticket spelled out (A 0 0 1) so the digits are read one by one."""
    spelled = " ".join(c.upper() for c in number if c.isalnum())
    text = template.format(number=spelled, window=window)
    return Utterance(text=text, tokens=tuple(text.split()), lang="en")
