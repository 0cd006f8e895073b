"""Cards read by the readers the hall server owns: each read becomes a swipe at the reader's kiosk.

The card is turned into a `CitizenRef` here, in the supervisor's task, and dropped: only the swipe
(masked forms, keyed hash, age) is written. A read that failed becomes a `card.read_failed` event, so the
kiosk can ask the citizen to place the card again.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..config import DeviceConfig
from ..identity import citizen as identity
from ..identity import swipes
from ..store.events import event_change

if TYPE_CHECKING:
    from ..clock import Clock
    from ..queue.engine import Engine
    from ..store.database import Store

log = logging.getLogger(__name__)


class CardReads:
    """Hands each card the supervisor's readers read to the swipes (the supervisor's `on_card`)."""

    def __init__(self, store: Store, engine: Engine, clock: Clock, identity_key: bytes):
        self.store, self.engine, self.clock, self.identity_key = store, engine, clock, identity_key

    async def __call__(self, device: DeviceConfig, card: Any, problem: str | None) -> None:
        kiosk = device.kiosk or device.name
        now = self.clock.now()
        if card is not None:
            try:
                ref = identity.citizen_ref(card, self.identity_key, self.engine.views.local_date(now))
            except identity.InvalidCard as exc:
                problem = exc.en
            else:
                engine = self.engine
                swipe = await self.store.write(lambda conn: swipes.record_swipe(
                    conn, engine, ref=ref, kiosk=kiosk, device=device.name, actor=None))
                log.info("card read at %s (%s): swipe %s, priority %s", kiosk, device.name, swipe["id"],
                         swipe["priority"])
                return
        log.info("card read failed at %s (%s): %s", kiosk, device.name, problem)
        await self.store.write(event_change("card.read_failed", now, {"kiosk": kiosk, "device": device.name,
                                                                      "reason": problem}))
