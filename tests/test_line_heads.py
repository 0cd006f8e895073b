"""Call-next reads only the heads of the line (Engine._line_heads); over any line it must pick exactly
the ticket that the routing policy picks over the whole line."""
from __future__ import annotations

import tempfile
from pathlib import Path

from conftest import DISTRICT, MORNING
from hypothesis import given, settings
from hypothesis import strategies as st

from hall_server.clock import FakeClock
from hall_server.queue.engine import Engine
from hall_server.queue.routing import Waiting, pick_next
from hall_server.store.database import connect
from hall_server.store.schema import migrate

MATTERS = ["SH-001", "SH-002", "RS-001", "WJ-001", "GA-001", "FY-001"]   # some served by window 1, some not
PRIORITIES = ["normal", "normal", "elderly", "disabled", "appointment"]
DAY = "2026-11-24"

ticket = st.tuples(st.sampled_from(MATTERS), st.sampled_from(PRIORITIES),
                   st.integers(0, 6),                                   # few keys: many ties
                   st.sampled_from([None, None, None, 1, 2]))           # some transferred to windows 1, 2


@settings(max_examples=300, deadline=None)
@given(line=st.lists(ticket, max_size=40), window=st.sampled_from([1, 2, 7, 13]), streak=st.integers(0, 4))
def test_heads_give_the_same_pick_as_the_whole_line(district_cfg, line, window, streak):
    engine = Engine(district_cfg, FakeClock(MORNING))
    with tempfile.TemporaryDirectory() as d:
        conn = connect(Path(d) / "h.db")
        migrate(conn)
        for i, (matter, prio, key, target) in enumerate(line, start=1):
            conn.execute("INSERT INTO tickets (service_day, prefix, seq, number, matter, priority, status, queue_key,"
                         " target_window) VALUES (?, 'X', ?, ?, ?, ?, 'waiting', ?, ?)",
                         (DAY, i, f"X{i:03d}", matter, prio, key, target))
        wcfg = district_cfg.window(window)
        args = (window, lambda m: district_cfg.preference(wcfg, m), streak,
                district_cfg.queue.max_priority_in_row, frozenset(district_cfg.queue.priority_classes))
        whole = [Waiting(i, m, p, k, t) for i, (m, p, k, t) in enumerate(line, start=1)]
        heads = [Waiting(*r) for r in engine._line_heads(conn, DAY, window)]
        assert pick_next(heads, *args) == pick_next(whole, *args)
        conn.close()


def test_district_config_is_the_one_under_test(district_cfg):
    assert Path(DISTRICT).name == "district-centre.toml"
    served_by_1 = [m for m in MATTERS if district_cfg.preference(district_cfg.window(1), m) is not None]
    assert served_by_1 and len(served_by_1) < len(MATTERS)      # the line mixes served and unserved matters
