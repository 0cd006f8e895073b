"""Device URLs: `scheme://address?option=value`, in the spirit of pyserial's `serial_for_url`.

A driver declares the options it accepts, each with a converter; anything else is an error that names
the part at fault — the scheme, the option, or the value — and says what would be accepted.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit


class DeviceURLError(ValueError):
    """A device URL is wrong; the message names the part and what is accepted."""


@dataclass(frozen=True)
class DeviceURL:
    raw: str
    scheme: str
    host: str
    port: int | None
    path: str
    options: dict[str, Any]

    @property
    def address(self) -> str:
        """What the URL points at, without options: `host:port`, a path, or `VID:PID`."""
        if self.host:
            return f"{self.host}:{self.port}" if self.port is not None else self.host
        return self.path


def _near(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def parse_url(raw: str, options: Mapping[str, Callable[[str], Any]] | None = None,
              defaults: Mapping[str, Any] | None = None) -> DeviceURL:
    """Split `raw` and convert its query options with `options` (name → converter)."""
    options = options or {}
    if "://" not in raw:
        raise DeviceURLError(f"{raw!r} is not a device URL; write it as scheme://address, e.g. "
                             "escpos+tcp://192.168.10.31:9100 or sim://printer")
    parts = urlsplit(raw)
    try:
        port = parts.port
    except ValueError:
        raise DeviceURLError(f"{raw}: the port {parts.netloc.rsplit(':', 1)[-1]!r} is not a number "
                             "between 0 and 65535") from None
    values: dict[str, Any] = dict(defaults or {})
    for name, text in parse_qsl(parts.query, keep_blank_values=True):
        if name not in options:
            known = ", ".join(sorted(options)) or "none"
            raise DeviceURLError(f"{raw}: unknown option {name!r}{_near(name, options)} (options of "
                                 f"{parts.scheme}://: {known})")
        try:
            values[name] = options[name](text)
        except (TypeError, ValueError) as exc:
            raise DeviceURLError(f"{raw}: bad value {text!r} for option {name!r}: {exc}") from None
    return DeviceURL(raw, parts.scheme, parts.hostname or "", port, parts.path, values)


def choice(*allowed: str) -> Callable[[str], str]:
    """A converter accepting one of `allowed`."""
    def convert(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"use one of {', '.join(allowed)}")
        return text
    return convert


def boolean(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("use true or false")


def positive(kind: Callable[[str], float | int]) -> Callable[[str], float | int]:
    def convert(text: str):
        value = kind(text)
        if value <= 0:
            raise ValueError("must be greater than 0")
        return value
    return convert
