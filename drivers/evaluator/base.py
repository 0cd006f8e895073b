"""What every evaluator (评价器) offers: ask the citizen at one window to rate, and the key they press.

`prompt(timeout)` lights the box's lamp and waits up to `timeout` seconds; the first key within it counts and is
returned as a level (5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意), None when no key came. Presses after
the first, or with the lamp out, count for nothing. `cancel()` (from another thread) ends a prompt early, as None,
and puts the lamp out. A box that stops answering mid-prompt is an `EvaluatorError` ("no_answer"), never a level.
Which window a box serves and what a level means for the hall are the hall server's business. Calls do blocking
I/O: the hall makes them from a thread, through its device supervisor.
"""
from __future__ import annotations

import abc
from typing import Any, ClassVar

from ..base import Device, DeviceError
from .frames import LEVELS

__all__ = ["LEVELS", "Evaluator", "EvaluatorError"]


class EvaluatorError(DeviceError):
    """A key box failed. `code` says how (CODES); `zh` and `en` say it for a person (str() is `en`)."""

    CODES: ClassVar[dict[str, str]] = {
        "no_answer": "the key box did not answer (unplugged, switched off, wrong address, A/B wires)",
        "port": "the serial port itself failed (the adapter unplugged)",
        "not_open": "the driver is not open",
    }

    def __init__(self, code: str, zh: str, en: str):
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message_zh": self.zh, "message_en": self.en}


class Evaluator(Device):
    kind = "evaluator"
    levels = LEVELS

    @abc.abstractmethod
    def prompt(self, timeout: float) -> int | None:
        """Light the lamp, wait for the first key within `timeout` s: its level 1..5, or None (no key, cancelled);
        the lamp is out again when it returns. EvaluatorError when the box does not answer."""

    @abc.abstractmethod
    def cancel(self) -> None:
        """End a prompt under way (it returns None) and put the lamp out; harmless with none under way."""
