"""Issuing answers from the engine's count of the line (issue 14, item 4): every issued ticket's answer is
exactly what reading the ticket back says (views.ticket: place in line and estimated wait counted in SQL),
whatever happened to the line in between — calls, transfers, cancels, no-shows and requeues, windows opened
and closed, learnt handling times, refused changes, a clock set back, a new service day."""
from __future__ import annotations

import random

import pytest
from engine_helpers import do, open_, view

from hall_server.errors import HallError

PRIORITIES = ["normal"] * 6 + ["elderly", "disabled", "veteran", "appointment"]


def issued_matches_view(hall, matter, priority="normal"):
    t = do(hall, "issue", matter=matter, priority=priority, actor="kiosk")
    assert t == view(hall, t["id"]), f"{t['number']}: the answer differs from the ticket read back"
    return t


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_answer_is_the_ticket_as_read_back(hall, seed):
    rnd = random.Random(seed)
    matters = [m.code for m in hall.cfg.matters]
    windows = [w.number for w in hall.cfg.windows]
    open_(hall, *rnd.sample(windows, 8))
    issued = []
    for _step in range(400):
        hall.clock.advance(seconds=rnd.choice([0, 0.5, 3, 20]))
        r = rnd.random()
        try:
            if r < 0.55:
                issued.append(issued_matches_view(hall, rnd.choice(matters[:12] if seed == 1 else matters),
                                                  rnd.choice(PRIORITIES)))
            elif r < 0.70:
                do(hall, "call_next", rnd.choice(windows), actor="clerk")
            elif r < 0.75:
                do(hall, "start", rnd.choice(windows), actor="clerk")
            elif r < 0.80:
                do(hall, "finish", rnd.choice(windows), actor="clerk")
            elif r < 0.83:
                do(hall, "skip", rnd.choice(windows), actor="clerk")
            elif r < 0.86 and issued:
                do(hall, "requeue", rnd.choice(issued)["id"], actor="clerk")
            elif r < 0.89 and issued:
                do(hall, "cancel", rnd.choice(issued)["id"], actor="sup")
            elif r < 0.92 and issued:
                do(hall, "transfer_ticket", rnd.choice(issued)["id"], actor="sup",
                   **({"to_window": rnd.choice(windows)} if rnd.random() < 0.5 else {"to_matter": rnd.choice(matters)}))
            elif r < 0.95:
                do(hall, "set_state", rnd.choice(windows), rnd.choice(["open", "close", "pause", "resume"]),
                   actor="sup")
            elif r < 0.97:
                hall.clock.advance(seconds=-rnd.choice([1, 60, 600]))      # the clock set back
            else:
                with pytest.raises(RuntimeError):                           # a change refused after issuing
                    hall.store.write_sync(lambda conn: (hall.engine.issue(conn, matter=rnd.choice(matters)),
                                                        _refuse())[1])
        except HallError:
            pass            # refused by the rules (nothing to call, wrong state): the line is unchanged
    assert len(issued) > 150


def _refuse():
    raise RuntimeError("refused after the ticket was counted")


def test_a_new_service_day_starts_from_an_empty_line(hall):
    open_(hall, 1)
    for _ in range(3):
        issued_matches_view(hall, "SH-001")
    hall.clock.advance(days=1)
    t = issued_matches_view(hall, "SH-001")
    assert t["waiting_ahead"] == 0 and t["number"].endswith("001")


def test_a_change_outside_the_engine_is_seen(hall):
    """A row written by anything but an issue (here plain SQL through the writer) makes the count redone."""
    open_(hall, 1, 2)
    first = issued_matches_view(hall, "SH-001")
    issued_matches_view(hall, "SH-001")
    hall.store.write_sync(lambda conn: (conn.execute("UPDATE tickets SET status='cancelled' WHERE id=?",
                                                     (first["id"],)), _change())[1])
    t = issued_matches_view(hall, "SH-001")
    assert t["waiting_ahead"] == 1


def _change():
    from hall_server.store.database import Change
    return Change(None)
