"""The routing policy `pick_next`, on its own: tables of snapshots, then properties (hypothesis)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall_server.queue.routing import Pick, Waiting, pick_next

PRIO = frozenset({"elderly", "disabled", "veteran", "pregnant", "appointment"})
WINDOW = 1
# Window 1's profile in these tables: social matters first, then hrss, then medins; police not served.
PROFILE = {"S": 0, "S2": 0, "R": 1, "Y": 2}


def W(id_, matter="S", priority="normal", key=None, target=None) -> Waiting:
    return Waiting(id=id_, matter=matter, priority=priority, queue_key=id_ * 10 if key is None else key,
                   target_window=target)


def pick(waiting, *, streak=0, max_in_row=3, profile=PROFILE, window=WINDOW) -> Pick | None:
    return pick_next(waiting, window, profile.get, streak, max_in_row, PRIO)


# -- tables -----------------------------------------------------------------------------------------
CASES = [
    # (name, waiting, streak, max_in_row, expected id, expected reason, expected priority_call)
    ("arrival order", [W(1), W(2), W(3)], 0, 3, 1, "preference", False),
    ("arrival order by key, not by list order", [W(3, key=5), W(1, key=7), W(2, key=6)], 0, 3, 3,
     "preference", False),
    ("tie on queue_key broken by id", [W(9, key=100), W(4, key=100), W(7, key=100)], 0, 3, 4,
     "preference", False),
    ("transferred to this window beats everything older and priority",
     [W(1, priority="elderly"), W(2), W(5, "R", target=1)], 0, 3, 5, "transferred", False),
    ("transferred to this window even for a matter it does not serve",
     [W(1), W(6, "G", target=1)], 0, 3, 6, "transferred", False),
    ("oldest place among tickets transferred here",
     [W(8, target=1, key=80), W(3, "R", target=1, key=30), W(4, target=1, key=30)], 0, 3, 3,
     "transferred", False),
    ("transferred here even when the priority streak is exhausted",
     [W(1), W(2, priority="elderly"), W(3, target=1)], 3, 3, 3, "transferred", False),
    ("ticket transferred to another window is skipped",
     [W(1, target=2), W(2)], 0, 3, 2, "preference", False),
    ("priority before normal, even when younger", [W(1), W(2), W(3, priority="disabled")], 0, 3, 3,
     "priority", True),
    ("priority before normal even for a less preferred matter",
     [W(1, "S"), W(2, "Y", priority="veteran")], 0, 3, 2, "priority", True),
    ("priority streak below the limit: still priority", [W(1), W(2, priority="elderly")], 2, 3, 2,
     "priority", True),
    ("starvation guard: after max priority calls, a normal ticket", [W(1), W(2, priority="elderly")], 3, 3, 1,
     "preference", False),
    ("starvation guard with max 1", [W(1), W(2, priority="elderly")], 1, 1, 1, "preference", False),
    ("guard exceeded (streak above max) still picks normal", [W(1), W(2, priority="elderly")], 5, 3, 1,
     "preference", False),
    ("guard does not apply when no normal ticket waits: priority, not counted",
     [W(2, priority="elderly"), W(3, priority="pregnant")], 3, 3, 2, "priority", False),
    ("priority call with only other-window normal tickets does not count",
     [W(1, target=2), W(2, priority="elderly")], 0, 3, 2, "priority", False),
    ("priority call with only unserved normal tickets does not count",
     [W(1, "G"), W(2, priority="elderly")], 0, 3, 2, "priority", False),
    ("unknown priority class counts as normal", [W(1, priority="vip"), W(2)], 0, 3, 1, "preference", False),
    ("profile preference before arrival", [W(1, "Y"), W(2, "R"), W(3, "S")], 0, 3, 3, "preference", False),
    ("matters of equal rank go by arrival", [W(1, "Y"), W(2, "S2"), W(3, "S")], 0, 3, 2, "preference", False),
    ("preference among priority tickets", [W(1, "Y", priority="elderly"), W(2, "R", priority="veteran")], 0, 3,
     2, "priority", False),
    ("preference among priority with a normal waiting",
     [W(1, "Y", priority="elderly"), W(2, "R", priority="veteran"), W(3, "S")], 0, 3, 2, "priority", True),
    ("not served matters are ignored", [W(1, "G"), W(2, "Y")], 0, 3, 2, "preference", False),
]


@pytest.mark.parametrize("name,waiting,streak,max_in_row,want_id,want_reason,want_prio_call", CASES,
                         ids=[c[0] for c in CASES])
def test_pick_next_table(name, waiting, streak, max_in_row, want_id, want_reason, want_prio_call):
    got = pick(waiting, streak=streak, max_in_row=max_in_row)
    assert got == Pick(want_id, want_prio_call, want_reason)


NOTHING = [
    ("empty", []),
    ("only unserved matters", [W(1, "G"), W(2, "X", priority="elderly")]),
    ("only tickets transferred to other windows", [W(1, target=2), W(2, "R", target=3)]),
    ("unserved or elsewhere", [W(1, "G"), W(2, target=5)]),
]


@pytest.mark.parametrize("name,waiting", NOTHING, ids=[n for n, _ in NOTHING])
def test_nothing_allowed_gives_none(name, waiting):
    assert pick(waiting) is None
    assert pick(waiting, streak=10, max_in_row=1) is None


def test_window_profile_decides_between_windows():
    waiting = [W(1, "S"), W(2, "R")]
    assert pick(waiting, profile={"S": 0, "R": 1}).ticket_id == 1
    assert pick(waiting, profile={"R": 0, "S": 1}).ticket_id == 2
    assert pick(waiting, profile={"R": 0}).ticket_id == 2


def _run_calls(waiting, max_in_row, calls):
    """Call repeatedly from one window, updating the streak as the engine does; return the picks."""
    waiting = list(waiting)
    streak, picks = 0, []
    for _ in range(calls):
        p = pick(waiting, streak=streak, max_in_row=max_in_row)
        if p is None:
            break
        picks.append((p, next(t for t in waiting if t.id == p.ticket_id)))
        if p.reason != "transferred":
            streak = streak + 1 if p.priority_call else 0
        waiting = [t for t in waiting if t.id != p.ticket_id]
    return picks


@pytest.mark.parametrize("max_in_row,expected", [
    (1, [10, 1, 11, 2, 12, 3, 13, 14]),
    (2, [10, 11, 1, 12, 13, 2, 14, 3]),
    (3, [10, 11, 12, 1, 13, 14, 2, 3]),
    (5, [10, 11, 12, 13, 14, 1, 2, 3]),
])
def test_streak_counting_over_a_run_of_calls(max_in_row, expected):
    normal = [W(i, key=i) for i in (1, 2, 3)]
    prio = [W(i, priority="elderly", key=i) for i in (10, 11, 12, 13, 14)]
    order = [t.id for _p, t in _run_calls(normal + prio, max_in_row, 20)]
    assert order == expected


def test_transferred_calls_neither_count_nor_reset_the_streak():
    waiting = [W(1, key=1), W(10, priority="elderly", key=10), W(11, priority="elderly", key=11),
               W(5, target=1, key=50)]
    p = pick(waiting, streak=1, max_in_row=2)
    assert (p.ticket_id, p.reason, p.priority_call) == (5, "transferred", False)
    # The engine keeps the streak across the transferred call: still 1, so one more priority call...
    p = pick([t for t in waiting if t.id != 5], streak=1, max_in_row=2)
    assert (p.ticket_id, p.priority_call) == (10, True)
    # ...and then the normal ticket.
    p = pick([t for t in waiting if t.id not in (5, 10)], streak=2, max_in_row=2)
    assert p.ticket_id == 1


# -- properties -------------------------------------------------------------------------------------
MATTERS = ["S", "S2", "R", "Y", "G", "X"]
CLASSES = ["normal", "normal", "elderly", "disabled", "veteran", "vip"]


_waiting = st.builds(
    Waiting,
    id=st.integers(1, 10_000),
    matter=st.sampled_from(MATTERS),
    priority=st.sampled_from(CLASSES),
    queue_key=st.integers(0, 20),  # a small range: many ties on queue_key
    target_window=st.sampled_from([None, None, None, 1, 2, 3]),
)
snapshots = st.tuples(
    st.lists(_waiting, max_size=14, unique_by=lambda t: t.id),
    st.dictionaries(st.sampled_from(MATTERS), st.integers(0, 3), max_size=len(MATTERS)),  # profile
    st.sampled_from([1, 2]),  # window
    st.integers(0, 6),  # priority streak
    st.integers(1, 4),  # max_priority_in_row
)


def _allowed(t, window, profile):
    return t.target_window == window or (t.target_window is None and t.matter in profile)


@settings(max_examples=200, deadline=None)
@given(snapshots)
def test_pick_is_an_allowed_ticket_and_none_only_when_nothing_is(snap):
    waiting, profile, window, streak, max_in_row = snap
    p = pick_next(waiting, window, profile.get, streak, max_in_row, PRIO)
    allowed = [t for t in waiting if _allowed(t, window, profile)]
    if not allowed:
        assert p is None
        return
    assert p is not None
    chosen = next(t for t in waiting if t.id == p.ticket_id)
    assert _allowed(chosen, window, profile)
    assert chosen.target_window in (None, window)


@settings(max_examples=200, deadline=None)
@given(snapshots)
def test_pick_is_earliest_within_its_class_and_rank(snap):
    waiting, profile, window, streak, max_in_row = snap
    p = pick_next(waiting, window, profile.get, streak, max_in_row, PRIO)
    if p is None:
        return
    chosen = next(t for t in waiting if t.id == p.ticket_id)
    mine = [t for t in waiting if t.target_window == window]
    if mine:
        assert p.reason == "transferred" and not p.priority_call
        assert (chosen.queue_key, chosen.id) == min((t.queue_key, t.id) for t in mine)
        return
    free = [t for t in waiting if t.target_window is None and t.matter in profile]
    is_prio = chosen.priority in PRIO
    same_class = [t for t in free if (t.priority in PRIO) == is_prio]
    # nothing in the chosen class is more preferred...
    assert profile[chosen.matter] == min(profile[t.matter] for t in same_class)
    # ...and within the class and rank it is the earliest place in line (then the lowest id)
    peers = [t for t in same_class if profile[t.matter] == profile[chosen.matter]]
    assert (chosen.queue_key, chosen.id) == min((t.queue_key, t.id) for t in peers)


@settings(max_examples=200, deadline=None)
@given(snapshots)
def test_class_choice_follows_the_starvation_guard(snap):
    waiting, profile, window, streak, max_in_row = snap
    p = pick_next(waiting, window, profile.get, streak, max_in_row, PRIO)
    if p is None or p.reason == "transferred":
        return
    free = [t for t in waiting if t.target_window is None and t.matter in profile]
    any_prio = any(t.priority in PRIO for t in free)
    any_normal = any(t.priority not in PRIO for t in free)
    chosen = next(t for t in waiting if t.id == p.ticket_id)
    expect_prio = any_prio and (streak < max_in_row or not any_normal)
    assert (chosen.priority in PRIO) == expect_prio
    assert p.reason == ("priority" if expect_prio else "preference")
    assert p.priority_call == (expect_prio and any_normal)


@settings(max_examples=200, deadline=None)
@given(snapshots)
def test_guard_holds_over_a_run_of_calls(snap):
    """Calling until the queue is empty, no more than max_in_row priority calls in a row jump a normal one."""
    waiting, profile, window, _streak, max_in_row = snap
    waiting = list(waiting)
    streak = run = 0
    while True:
        p = pick_next(waiting, window, profile.get, streak, max_in_row, PRIO)
        if p is None:
            break
        free = [t for t in waiting if t.target_window is None and t.matter in profile]
        chosen = next(t for t in waiting if t.id == p.ticket_id)
        jumped = chosen.priority in PRIO and any(t.priority not in PRIO for t in free)
        if p.reason != "transferred":
            run = run + 1 if jumped else 0
            streak = streak + 1 if p.priority_call else 0
        assert run <= max_in_row
        waiting.remove(chosen)
    assert not [t for t in waiting if _allowed(t, window, profile)]
