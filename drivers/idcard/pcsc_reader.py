"""`pcsc://`: a social-security card (社保卡) in a PC/SC reader, through pcscd and pyscard.

    pcsc://?reader=ACS&timeout=3      reader: part of the PC/SC reader name (default: the first reader)
                                      timeout: seconds the card may take to answer the whole read (default 3)

Presence comes from pcscd's reader state (SCardGetStatusChange), whose upper 16 bits count insertions and
removals: `read_card` reads each insertion once, even when a card is taken out and put back between two
calls — which pyscard's CardRequest/CardMonitor cannot tell from a card left in. The read itself runs in a
worker thread so that a card that stops answering (vpcd waits for ever) costs `timeout`, not a hang.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Any

from ..base import DeviceError
from ..health import DeviceHealth, DeviceState
from ..url import DeviceURL, DeviceURLError, parse_url, positive
from . import sscard
from .base import CardReadError, CitizenCard, IdCardReader

try:
    from smartcard import scard
    from smartcard.Exceptions import CardConnectionException, NoCardException, SmartcardException
    from smartcard.pcsc.PCSCExceptions import BaseSCardException
    from smartcard.System import readers as pcsc_readers
except ImportError as exc:       # say what is missing instead of "unknown scheme"
    raise ImportError(f"pcsc:// needs pyscard (pip install pyscard==2.3.1; building it needs swig and "
                      f"libpcsclite-dev): {exc}") from exc

logger = logging.getLogger(__name__)

OPTIONS = {"reader": str, "timeout": positive(float)}
DEFAULTS = {"reader": "", "timeout": 3.0}
START_PCSCD = "start it with `sudo systemctl start pcscd.socket` (or install and run it: " \
              "`sudo apt-get install pcscd && sudo pcscd`)"
NOT_RUNNING = f"pcscd is not running: card readers are reached through it; {START_PCSCD}"
_SERVICE_GONE = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED, scard.SCARD_E_INVALID_HANDLE}
_EVENTS = 0xFFFF0000                   # pcsc-lite: insertion/removal counter in the upper 16 bits of the state


def from_url(raw: str) -> PcscReader:
    """The registry factory for pcsc:// (nothing is opened until open())."""
    url = parse_url(raw, OPTIONS, DEFAULTS)
    if url.host or url.path not in ("", "/"):
        raise DeviceURLError(f"{raw}: pcsc:// takes no address; choose the reader with ?reader=PART-OF-ITS-NAME, "
                             "e.g. pcsc://?reader=ACS")
    return PcscReader(url)


def list_reader_names() -> list[str]:
    """The PC/SC readers pcscd knows; DeviceError saying how to start pcscd when it is not running."""
    try:
        return [str(r) for r in pcsc_readers()]
    except (BaseSCardException, SmartcardException) as exc:
        hresult = getattr(exc, "hresult", None)
        if hresult in _SERVICE_GONE or hresult is None:
            raise DeviceError(NOT_RUNNING) from None
        raise DeviceError(f"pcscd did not list its readers ({_pcsc_text(hresult)}); restart it: "
                          f"{START_PCSCD}") from None


def choose_reader(names: list[str], wanted: str) -> str:
    """The first reader whose name contains `wanted` (case-insensitive); DeviceError listing those there are."""
    if not names:
        raise DeviceError("pcscd is running but sees no card reader: plug the reader in and check it with "
                          "`pcsc_scan`; for the virtual reader install vsmartcard-vpcd and restart pcscd")
    for name in names:
        if wanted.lower() in name.lower():
            return name
    raise DeviceError(f"no PC/SC reader's name contains {wanted!r}; the readers are: {', '.join(names)}. "
                      "Change ?reader= to part of one of these names")


def _pcsc_text(hresult: int | None) -> str:
    return scard.SCardGetErrorMessage(hresult).strip() if hresult is not None else "no answer"


class PcscReader(IdCardReader):
    """A PC/SC reader holding social-security cards; `read_card` returns each insertion once."""

    def __init__(self, url: DeviceURL):
        super().__init__(url)
        self.reader_name = ""
        self.io_timeout: float = url.options["timeout"]
        self._reader: Any = None                 # pyscard's Reader
        self._context: int | None = None         # our PC/SC context for waiting on the reader's state
        self._state = scard.SCARD_STATE_UNAWARE  # the reader state last seen (with its event counter)
        self._served: int | None = None          # event count of the insertion last read (or tried)
        self._lock = threading.Lock()            # one read_card at a time; close() waits for it
        self._worker: threading.Thread | None = None
        self.last_atr = ""
        self.counters = {"insertions": 0, "reads_ok": 0, "reads_failed": 0, "timeouts": 0}

    # -- lifecycle --------------------------------------------------------------------------------
    def _open(self) -> None:
        wanted = self.url.options["reader"]
        names = list_reader_names()
        self.reader_name = choose_reader(names, wanted)
        self._reader = next(r for r in pcsc_readers() if str(r) == self.reader_name)
        self._context = self._establish()
        self._state, self._served = scard.SCARD_STATE_UNAWARE, None
        logger.info("PC/SC reader %r opened", self.reader_name)

    def _close(self) -> None:
        context = self._context
        if context is not None:
            scard.SCardCancel(context)           # wakes a read_card waiting in another thread
        with self._lock:
            context, self._context = self._context, None
            if context is not None:
                scard.SCardReleaseContext(context)

    @staticmethod
    def _establish() -> int:
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise DeviceError(NOT_RUNNING if hresult in _SERVICE_GONE else
                              f"could not talk to pcscd ({_pcsc_text(hresult)}); {START_PCSCD}")
        return context

    # -- reading ----------------------------------------------------------------------------------
    def read_card(self, timeout: float = 0.0) -> CitizenCard | None:
        """Wait up to `timeout` s for a card not read yet and read it; None if none came."""
        if not self.is_open:
            raise DeviceError(f"the card reader {self.url.raw} is not open; open() it first")
        deadline = time.monotonic() + max(0.0, timeout)
        with self._lock:
            state, atr = self._wait(0, self._state)
            while True:
                if not state & scard.SCARD_STATE_PRESENT:
                    self._served = None          # also covers a pcscd without the event counter
                elif (state & _EVENTS) != self._served:
                    self._served = state & _EVENTS
                    self.counters["insertions"] += 1
                    return self._read_inserted(state, atr)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.is_open:      # close() in another thread cancels the wait
                    return None
                state, atr = self._wait(max(1, int(remaining * 1000)), state)

    def _wait(self, timeout_ms: int, known: int) -> tuple[int, bytes]:
        """The reader's state once it differs from `known`, or after `timeout_ms`; DeviceError if it is gone."""
        if not self.is_open:
            return known, b""
        if self._context is None:                # pcscd was gone at the last try: DeviceError until it is back
            self._context = self._establish()
        hresult, states = scard.SCardGetStatusChange(
            self._context, timeout_ms, [(self.reader_name, known & ~scard.SCARD_STATE_CHANGED)])
        if hresult in _SERVICE_GONE:             # pcscd restarted: one new context, then give up
            scard.SCardReleaseContext(self._context)
            self._context = None
            self._context = self._establish()
            hresult, states = scard.SCardGetStatusChange(self._context, 0, [(self.reader_name, known)])
        if hresult in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
            return known, b""
        if hresult == scard.SCARD_E_UNKNOWN_READER:
            raise DeviceError(self._gone())
        if hresult != scard.SCARD_S_SUCCESS:
            raise DeviceError(f"pcscd could not report the state of {self.reader_name!r} "
                              f"({_pcsc_text(hresult)}); restart pcscd if this persists")
        _, state, atr = states[0]
        self._state = state
        if state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
            raise DeviceError(self._gone())
        return state, bytes(atr)

    def _gone(self) -> str:
        return (f"the card reader {self.reader_name!r} is gone (unplugged, or pcscd lost it); plug it back in — "
                "pcscd picks it up by itself — or restart pcscd")

    def _read_inserted(self, state: int, atr: bytes) -> CitizenCard:
        self.last_atr = atr.hex(" ").upper()
        if state & scard.SCARD_STATE_MUTE:
            self.counters["reads_failed"] += 1
            raise CardReadError("the card in the reader does not answer (no ATR): it may be upside down, dirty or "
                                "broken; ask the citizen to remove it and insert it again, chip first")
        if self._worker is not None and self._worker.is_alive():
            logger.warning("a read of an earlier card on %r has not finished yet", self.reader_name)
        outcome: dict[str, Any] = {}
        worker = threading.Thread(target=self._read_worker, args=(outcome,), daemon=True,
                                  name=f"pcsc-read-{self.reader_name}")
        self._worker = worker
        worker.start()
        worker.join(self.io_timeout)
        if worker.is_alive():
            self.counters["timeouts"] += 1
            self.counters["reads_failed"] += 1
            logger.warning("the card in %r did not answer within %g s", self.reader_name, self.io_timeout)
            raise CardReadError(f"the card did not answer within {self.io_timeout:g} s; ask the citizen to remove "
                                "it and insert it again; if it happens with every card, restart pcscd")
        if "error" in outcome:
            self.counters["reads_failed"] += 1
            raise outcome["error"]
        self.counters["reads_ok"] += 1
        return outcome["card"]

    def _read_worker(self, outcome: dict[str, Any]) -> None:
        connection = self._reader.createConnection()
        try:
            connection.connect()
            self.last_atr = bytes(connection.getATR()).hex(" ").upper()

            def transmit(apdu: bytes) -> bytes:
                data, sw1, sw2 = connection.transmit(list(apdu))
                return bytes(data) + bytes([sw1, sw2])

            outcome["card"] = sscard.card_from_records(*sscard.read_records(transmit))
        except CardReadError as exc:
            outcome["error"] = exc
        except (NoCardException, CardConnectionException) as exc:
            outcome["error"] = self._link_error(exc)
        except Exception as exc:  # a bug or a pyscard surprise: log where, never the message (it may hold card data)
            where = traceback.extract_tb(exc.__traceback__)[-1]
            logger.error("unexpected %s reading a card on %r at %s:%d", type(exc).__name__, self.reader_name,
                         where.filename, where.lineno)
            outcome["error"] = CardReadError(f"reading the card failed unexpectedly ({type(exc).__name__}); ask the "
                                             "citizen to insert it again; the log has the details")
        finally:
            for step in (connection.disconnect, connection.release):
                try:
                    step()
                except Exception:   # the card may already be gone; nothing more to release then
                    logger.debug("%s after a read on %r failed", step.__name__, self.reader_name, exc_info=True)

    def _link_error(self, exc: SmartcardException) -> CardReadError:
        hresult = getattr(exc, "hresult", None)
        if isinstance(exc, NoCardException) or hresult in (scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD):
            return CardReadError("the card was removed while it was being read; ask the citizen to insert it again "
                                 "and leave it in until the screen says so")
        return CardReadError(f"the reader could not talk to the card ({_pcsc_text(hresult)}); ask the citizen to "
                             "insert it again; if it happens with every card, check the reader and pcscd")

    # -- state ------------------------------------------------------------------------------------
    def health(self) -> DeviceHealth:
        """OK with or without a card; OFFLINE when pcscd or the reader is gone. Uses its own PC/SC context."""
        if not self.is_open:
            return DeviceHealth(DeviceState.OFFLINE, f"the card reader {self.url.raw} is not open")
        try:
            names = list_reader_names()
        except DeviceError as exc:
            return DeviceHealth(DeviceState.OFFLINE, str(exc))
        if self.reader_name not in names:
            return DeviceHealth(DeviceState.OFFLINE, f"{self._gone()}; readers now: {', '.join(names) or 'none'}")
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            return DeviceHealth(DeviceState.OFFLINE, NOT_RUNNING)
        try:
            hresult, states = scard.SCardGetStatusChange(context, 0, [(self.reader_name, scard.SCARD_STATE_UNAWARE)])
        finally:
            scard.SCardReleaseContext(context)
        if hresult not in (scard.SCARD_S_SUCCESS, scard.SCARD_E_TIMEOUT):
            return DeviceHealth(DeviceState.OFFLINE, f"{self._gone()} ({_pcsc_text(hresult)})")
        state = states[0][1]
        if state & scard.SCARD_STATE_MUTE:
            return DeviceHealth(DeviceState.DEGRADED, "a card is in the reader but does not answer; ask the "
                                "citizen to take it out and insert it again")
        if state & scard.SCARD_STATE_PRESENT:
            return DeviceHealth(DeviceState.OK, "card present")
        return DeviceHealth(DeviceState.OK, "ready, no card")

    def _diagnostics(self) -> dict[str, Any]:
        """Reader name, the last card's ATR (not personal) and counters; never card data."""
        return {"reader": self.reader_name, "last_atr": self.last_atr, "io_timeout_s": self.io_timeout,
                "counters": dict(self.counters),
                "read_in_progress": bool(self._worker is not None and self._worker.is_alive())}
