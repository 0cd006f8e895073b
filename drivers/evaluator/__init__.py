"""Evaluators (评价器): serial key boxes with five keys and a lamp, one per window, and their simulator.

    evalbox+serial:///dev/ttyUSB4?baudrate=9600&address=1     evalbox+serial://?port=socket://192.168.10.43:4001
    sim://evaluator?address=1

The window's tablet page (/evaluate/window/<n>) is the other evaluator; it is a page of the hall server, not a
driver.
"""
from __future__ import annotations

from .base import LEVELS, Evaluator, EvaluatorError

__all__ = ["LEVELS", "Evaluator", "EvaluatorError"]


from ..registry import lazy, registry

_evaluators = registry("evaluator")
for _scheme, _factory in (("evalbox+serial", lazy(__name__, "serial_keybox")),
                          ("sim", lazy(__name__, "sim_evaluator", "sim_from_url"))):
    if _scheme not in _evaluators.schemes:
        _evaluators.register(_scheme, _factory)
