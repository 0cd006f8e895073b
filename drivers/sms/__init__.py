"""SMS modems (短信猫): AT commands in PDU mode over a serial line, and their simulator.

    sms+serial:///dev/ttyUSB3?baudrate=115200&smsc=     sms+serial://?port=socket://192.168.10.45:4001
    sim://sms?signal=20&fault=none

`modem.send("13800000000", "您的办件已受理…")` → the message references of its parts; SmsError (with a `code`)
when it did not go. `modem.status()` → SIM, signal and registration. Blocking I/O: call them from a thread.
"""
from __future__ import annotations

from .base import ModemStatus, SmsError, SmsModem

__all__ = ["ModemStatus", "SmsError", "SmsModem"]


from ..registry import lazy, registry

_modems = registry("sms")
for _scheme, _factory in (("sms+serial", lazy(__name__, "at_modem")),
                          ("sim", lazy(__name__, "sim_modem", "sim_from_url"))):
    if _scheme not in _modems.schemes:
        _modems.register(_scheme, _factory)
