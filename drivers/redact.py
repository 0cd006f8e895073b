"""Redaction for diagnostics and logs: personal data never leaves a driver in clear."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "**REDACTED**"
# Keys that carry personal data in any device kind (ID cards, cameras, receipts).
# A kind whose data has other personal fields (an ID card's "name") passes its own keys as well.
PERSONAL_KEYS = frozenset({"id_number", "address", "photo", "birth_date", "citizen_name", "citizen_ref",
                           "snapshot", "password", "token"})


def redact(data: Any, keys: Iterable[str] = PERSONAL_KEYS) -> Any:
    """A copy of `data` (nested mappings and lists) with the values of `keys` replaced."""
    keys = frozenset(keys)
    if isinstance(data, Mapping):
        return {k: (REDACTED if k in keys and v not in (None, "") else redact(v, keys)) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redact(v, keys) for v in data]
    return data
