"""Cards read by the readers the hall server owns: each read becomes a swipe at the reader's kiosk.

The card is turned into a `CitizenRef` here, in the supervisor's task, and dropped: only the swipe
(masked forms, keyed hash, age) is written. A read that failed becomes a `card.read_failed` event, so the
kiosk can ask the citizen to place the card again.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from . import identity, swipes
from .config import DeviceConfig
from .events import event_change

if TYPE_CHECKING:
    from .runtime import Hall

log = logging.getLogger(__name__)


async def on_card(hall: Hall, device: DeviceConfig, card: Any, problem: str | None) -> None:
    kiosk = device.kiosk or device.name
    now = hall.clock.now()
    if card is not None:
        try:
            ref = identity.citizen_ref(card, hall.identity_key, hall.views.local_date(now))
        except identity.InvalidCard as exc:
            problem = exc.en
        else:
            swipe = await hall.write(swipes.record_swipe, hall.engine, ref=ref, kiosk=kiosk, device=device.name,
                                     actor=None)
            log.info("card read at %s (%s): swipe %s, priority %s", kiosk, device.name, swipe["id"],
                     swipe["priority"])
            return
    log.info("card read failed at %s (%s): %s", kiosk, device.name, problem)
    await hall.store.write(event_change("card.read_failed", now, {"kiosk": kiosk, "device": device.name,
                                                                  "reason": problem}))
