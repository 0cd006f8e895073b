"""`sim://printer`: a wire-level ESC/POS receipt printer on a loopback TCP port, for tests and technicians."""

from .server import PrinterSimulator

__all__ = ["PrinterSimulator"]
