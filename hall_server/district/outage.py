"""One log line per outage of the district database, whoever meets it first — the start-up's migration, the projector
or the hub's LISTEN — and one line when it answers again: a wrong URL or password is a single clear line, never a
line per retry per component (each goes on retrying with back-off; /api/v1/health says what is wrong meanwhile)."""
from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


def describe(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class Outage:
    def __init__(self, url_shown: str):
        self.url_shown = url_shown
        self._lock = threading.Lock()
        self._down = False

    def down(self, who: str, exc: BaseException) -> None:
        with self._lock:
            first, self._down = not self._down, True
        if first:
            log.warning("district: cannot reach the district database %s: %s — the service stays up, retries with "
                        "back-off and says so on /api/v1/health; check the --db URL, the password and that PostgreSQL "
                        "runs (first met by the %s)", self.url_shown, describe(exc), who)
        else:
            log.debug("district: the %s cannot reach the database either: %s", who, describe(exc))

    def up(self, who: str) -> None:
        with self._lock:
            was, self._down = self._down, False
        if was:
            log.info("district: the district database %s answers again (%s)", self.url_shown, who)
