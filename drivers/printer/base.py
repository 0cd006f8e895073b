"""What every receipt printer offers, and how its DLE EOT status bytes become a `DeviceHealth`.

The decoding is a plain function over the answer bytes (`status_health`), so it is tested from a table
and shared by every transport; a transport only says how to send bytes and read an answer.
"""
from __future__ import annotations

import abc
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..base import Device, DeviceError
from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL

if TYPE_CHECKING:
    from .notice import Notice
    from .receipt import Receipt

    Document = Receipt | Notice

DEFAULT_WIDTH = 80

# DLE EOT n answers (one byte each; an idle printer answers 0x12 — bits 1 and 4 are always set).
ONLINE, OFFLINE_CAUSE, PAPER = 1, 2, 4     # the n of each query
ONLINE_OFFLINE = 0x08          # n=1 bit 3: the printer is offline (not ready)
CAUSE_COVER_OPEN = 0x04        # n=2 bit 2
CAUSE_PAPER_END = 0x20         # n=2 bit 5: printing stopped because the paper ran out
CAUSE_ERROR = 0x40             # n=2 bit 6: an error (cutter jam, head overheated, …)
PAPER_NEAR_END = 0x0C          # n=4 bits 2-3
PAPER_END = 0x60               # n=4 bits 5-6


class PrintError(DeviceError):
    """A receipt was not printed; the message says why and what to do (the ticket itself stays valid)."""


def status_health(online: int, cause: int, paper: int, width: int = DEFAULT_WIDTH) -> DeviceHealth:
    """The health a printer's three DLE EOT answers (n=1, 2, 4) describe; problems first, worst first."""
    if cause & CAUSE_COVER_OPEN:
        return DeviceHealth(DeviceState.FAULT, "cover open: close the printer cover")
    if paper & PAPER_END or cause & CAUSE_PAPER_END:
        return DeviceHealth(DeviceState.FAULT, f"paper out: load a {width} mm roll")
    if cause & CAUSE_ERROR:
        return DeviceHealth(DeviceState.FAULT, "printer error (cutter jam or overheated head): clear the "
                                               "paper path, switch the printer off and on; call a technician "
                                               "if it stays")
    if online & ONLINE_OFFLINE:
        return DeviceHealth(DeviceState.OFFLINE, "the printer reports it is offline (not ready): check that "
                                                 "it is switched on and not feeding paper")
    if paper & PAPER_NEAR_END:
        return DeviceHealth(DeviceState.DEGRADED, f"paper near end: replace the {width} mm roll soon")
    return DeviceHealth(DeviceState.OK, "ready")


class Printer(Device):
    """A receipt printer: `print_receipt` puts a ticket on paper, `print_notice` any other document (a case's
    notice); both raise `PrintError` saying why not.

    The paper width comes from the URL (`width=58|80`); a document is always laid out for this printer's
    paper, whatever width it was made with.
    """
    kind = "printer"

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self.width: int = url.options.get("width", DEFAULT_WIDTH)
        self.last_status: dict[int, int | None] = {}     # DLE EOT n -> answer byte (None: no answer)
        self.last_error = ""

    def print_receipt(self, receipt: Receipt) -> None:
        """Print `receipt` and cut; raises PrintError when the printer is not ready or the link fails."""
        self.print_document(receipt)

    def print_notice(self, notice: Notice) -> None:
        """Print `notice` and cut; raises PrintError when the printer is not ready or the link fails."""
        self.print_document(notice)

    def print_document(self, document: Document) -> None:
        """A Receipt or a Notice, laid out for this printer's paper."""
        if not self.is_open:
            raise PrintError(f"the printer {self.url.address} is not open: the hall server opens it at start; "
                             "check its device configuration")
        if document.width != self.width:
            document = replace(document, width=self.width)
        self._print(document)

    @abc.abstractmethod
    def _print(self, document: Document) -> None: ...

    def _diagnostics(self) -> dict[str, Any]:
        status = {f"n{n}": (None if b is None else f"0x{b:02x}") for n, b in self.last_status.items()}
        return {"width": self.width, "last_status": status, "last_error": self.last_error}
