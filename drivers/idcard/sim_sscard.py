"""`sim://sscard`: a virtual social-security card in vpcd's slot, read by a real PcscReader through pcscd.

    sim://sscard?port=35963&reader=Virtual%20PCD%2000%2000&card=elder&fault=none&timeout=3

Opening starts a VirtualSsCard on vpcd's port (with the named card inserted, or an empty slot without
`card=`) and opens `pcsc://?reader=…` on the matching reader, so every APDU goes through pyscard and pcscd
as with a real card. `reader` defaults to the vpcd reader of `port` (35963 → 'Virtual PCD 00 00',
35964 → '… 00 01'). `.simulator` is the VirtualSsCard: `insert(CARDS["adult"])`, `remove()`,
`set_fault("mute" | "wrong-app" | "none")`. Needs pcscd with vsmartcard-vpcd (`make test` starts it).
"""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import quote

from ..base import DeviceError
from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, DeviceURLError, choice, parse_url, positive
from . import gb11643
from .base import SOCIAL_SECURITY, CitizenCard, IdCardReader
from .pcsc_reader import PcscReader
from .pcsc_reader import from_url as pcsc_from_url

logger = logging.getLogger(__name__)

VPCD_PORT = 35963
FAULTS = ("none", "mute", "wrong-app")       # as simulator.vicc.FAULTS (not imported: the simulator loads on open)


def _synthetic_id(born: date, sequence: str, region: str = "420102") -> str:
    """A fictitious but well-formed number: region + birth date + sequence (odd: male) + check digit."""
    first17 = f"{region}{born:%Y%m%d}{sequence}"
    return first17 + gb11643.check_digit(first17)


def _card(name: str, gender: str, born: date, sequence: str, card_number: str, issued: date,
          nation: str = "汉") -> CitizenCard:
    return CitizenCard(kind=SOCIAL_SECURITY, name=name, id_number=_synthetic_id(born, sequence), gender=gender,
                       nation=nation, birth_date=born, valid_from=issued,
                       valid_to=date(issued.year + 10, issued.month, issued.day), card_number=card_number)


# Fictitious people (the same as the SAM simulator's, so both cards of one citizen match).
CARDS: dict[str, CitizenCard] = {
    "elder": _card("李秀兰", "女", date(1956, 3, 8), "024", "E42010224", date(2018, 4, 2)),
    "adult": _card("张伟", "男", date(1990, 7, 15), "031", "E42010231", date(2021, 9, 15)),
    "minority": _card("阿依古丽", "女", date(1979, 9, 30), "062", "E42010262", date(2020, 1, 6), nation="维吾尔"),
}


def _card_name(text: str) -> str:
    if text not in CARDS:
        raise ValueError(f"use one of {', '.join(CARDS)}")
    return text


def _port(text: str) -> int:
    port = int(text)
    if not 0 < port < 65536:
        raise ValueError("must be a TCP port, 1-65535")
    return port


OPTIONS = {"port": _port, "reader": str, "card": _card_name, "fault": choice(*FAULTS), "timeout": positive(float)}
DEFAULTS = {"port": VPCD_PORT, "card": "", "fault": "none", "timeout": 3.0}


def sim_from_url(raw: str) -> SimSsCardReader:
    """The registry factory for sim://sscard (nothing starts until open())."""
    url = parse_url(raw, OPTIONS, DEFAULTS)
    if url.host != "sscard" or url.path not in ("", "/"):
        raise DeviceURLError(f"{raw}: the social-security card simulator is sim://sscard (options after '?'), "
                             f"not sim://{url.host}{url.path}")
    if "reader" not in url.options:
        url = replace(url, options={**url.options, "reader": f"Virtual PCD 00 {url.options['port'] - VPCD_PORT:02d}"})
    return SimSsCardReader(url)


class SimSsCardReader(IdCardReader):
    """A VirtualSsCard plus the PcscReader that reads it through pcscd; reads and health go over PC/SC."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self.simulator: Any = None               # a VirtualSsCard while open
        self._reader: PcscReader | None = None

    def _open(self) -> None:
        from .simulator.vicc import VirtualSsCard  # the simulator only loads when a sim is opened

        o = self.url.options
        reader = pcsc_from_url(f"pcsc://?reader={quote(o['reader'])}&timeout={o['timeout']:g}")
        reader.open()                            # first: a missing pcscd or vpcd reader is the error to report
        sim = VirtualSsCard(CARDS[o["card"]] if o["card"] else None, port=o["port"], fault=o["fault"])
        try:
            sim.start()
        except Exception:
            reader.close()
            raise
        self.simulator, self._reader = sim, reader

    def _close(self) -> None:
        reader, sim, self._reader, self.simulator = self._reader, self.simulator, None, None
        if reader is not None:
            reader.close()
        if sim is not None:
            sim.stop()

    def read_card(self, timeout: float = 0.0) -> CitizenCard | None:
        if self._reader is None:
            raise DeviceError(f"the simulated card reader {self.url.raw} is not open; open() it first")
        return self._reader.read_card(timeout)

    def health(self) -> DeviceHealth:
        if self._reader is None:
            return DeviceHealth(DeviceState.OFFLINE, "the simulated social-security card reader is not started")
        return self._reader.health()

    def simulate(self, *, card: str | None = None, remove_card: bool | None = None,
                 fault: str | None = None) -> None:
        """What a technician or test changes at runtime: insert a named card, take it out, set a fault."""
        if self.simulator is None:
            raise DeviceError("the simulated social-security card reader is not started")
        if fault is not None:
            self.simulator.set_fault(fault)
        if remove_card:
            self.simulator.remove()
        if card is not None:
            if card not in CARDS:
                raise ValueError(f"unknown simulated card {card!r}; cards: {', '.join(CARDS)}")
            self.simulator.insert(CARDS[card])

    def faults(self) -> dict[str, Any]:
        return self.simulator.status() if self.simulator else {}

    def _diagnostics(self) -> dict[str, Any]:
        reader = self._reader._diagnostics() if self._reader else {}
        return {**reader, "simulator": self.simulator.status() if self.simulator else None}
