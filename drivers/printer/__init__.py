"""Receipt printers: ESC/POS over TCP, USB, serial or a device file, and the `sim://printer` simulator.

Importing this package registers its URL schemes in `registry("printer")`:

    escpos+tcp://host:9100   escpos+usb://0xVID:0xPID   escpos+serial:///dev/ttyS0?baudrate=9600
    escpos+file:///dev/usb/lp0   sim://printer?paper=near-end

Options of all: width=58|80, timeout=SECONDS. See escpos_printer.py and sim_printer.py.
"""
from __future__ import annotations

from ..registry import registry
from .base import Printer, PrintError, status_health
from .escpos_printer import TRANSPORTS, EscposPrinter, from_url, parse_printer_url
from .notice import Notice, write_notice
from .receipt import LAYOUTS, Receipt, display_width, wrap, write_receipt
from .sim_printer import SimPrinter, sim_from_url

__all__ = ["LAYOUTS", "EscposPrinter", "Notice", "PrintError", "Printer", "Receipt", "SimPrinter", "display_width",
           "from_url", "parse_printer_url", "status_health", "wrap", "write_notice", "write_receipt"]

_printers = registry("printer")
for _scheme in TRANSPORTS:
    if _scheme not in _printers.schemes:
        _printers.register(_scheme, from_url)
if "sim" not in _printers.schemes:
    _printers.register("sim", sim_from_url)
