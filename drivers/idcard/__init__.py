"""ID-card readers: GA 467 SAM over serial, PC/SC social-security cards, and their simulators.

    sam+serial:///dev/ttyUSB0?baudrate=115200     pcsc://?reader=ACS     sim://idcard?card=elder
"""
from __future__ import annotations

from .base import RESIDENT_ID, SOCIAL_SECURITY, CardProtocolError, CardReadError, CitizenCard, IdCardReader, mask_name

__all__ = ["RESIDENT_ID", "SOCIAL_SECURITY", "CardProtocolError", "CardReadError", "CitizenCard", "IdCardReader",
           "mask_name"]


from ..registry import lazy, registry


def _sim(raw: str):
    """sim://idcard is a SAM reader on a pseudo-terminal; sim://sscard a virtual card behind vpcd."""
    from urllib.parse import urlsplit
    host = urlsplit(raw).hostname or ""
    module = {"idcard": "sim_idcard", "sscard": "sim_sscard"}.get(host)
    if module is None:
        from ..url import DeviceURLError
        raise DeviceURLError(f"{raw}: the ID-card simulators are sim://idcard (SAM serial) and sim://sscard "
                             f"(social-security card through pcscd), not sim://{host}")
    return lazy(__name__, module, "sim_from_url")(raw)


_readers = registry("idcard")
for _scheme, _factory in (("sam+serial", lazy(__name__, "sam_serial")), ("pcsc", lazy(__name__, "pcsc_reader")),
                          ("sim", _sim)):
    if _scheme not in _readers.schemes:
        _readers.register(_scheme, _factory)
