"""What a call says (issue 5, item 1), from tables of numbers and windows."""
from __future__ import annotations

import pytest

from hall_server.speech.text import compose, compose_en, number_tokens, ticket_tokens

DEFAULT = "请{number}号到{window}号窗口办理"


@pytest.mark.parametrize(("number", "tokens"), [
    ("A001", "A 零 零 一"), ("S010", "S 零 一 零"), ("Z999", "Z 九 九 九"), ("B100", "B 一 零 零"),
    ("AB012", "A B 零 一 二"), ("a7", "A 七"),
])
def test_ticket_digits_are_read_one_by_one(number, tokens):
    assert ticket_tokens(number) == tokens.split()


@pytest.mark.parametrize(("n", "said"), [
    (1, "一"), (3, "三"), (9, "九"), (10, "十"), (11, "十一"), (15, "十五"), (20, "二十"), (22, "二十二"),
    (99, "九十九"), (105, "一零五"), (0, "零"),
])
def test_window_numbers_are_said_as_numbers(n, said):
    assert "".join(number_tokens(n)) == said


@pytest.mark.parametrize(("number", "window", "text", "tokens"), [
    ("A001", 3, "请A零零一号到三号窗口办理", "请 A 零 零 一 号 到 三 号 窗口 办理"),
    ("S012", 15, "请S零一二号到十五号窗口办理", "请 S 零 一 二 号 到 十 五 号 窗口 办理"),
    ("Q100", 22, "请Q一零零号到二十二号窗口办理", "请 Q 一 零 零 号 到 二 十 二 号 窗口 办理"),
])
def test_the_default_phrase(number, window, text, tokens):
    u = compose(DEFAULT, number, window)
    assert (u.text, u.tokens, u.lang) == (text, tuple(tokens.split()), "zh")


def test_a_halls_own_phrase_and_punctuation():
    u = compose("{number}号，请到{window}号窗口", "K007", 7)
    assert u.tokens == ("K", "零", "零", "七", "号", "请到", "七", "号", "窗口")


def test_the_english_line_spells_the_ticket():
    u = compose_en("Number {number}, please go to window {window}", "A001", 3)
    assert (u.text, u.lang) == ("Number A 0 0 1, please go to window 3", "en")
