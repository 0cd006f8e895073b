"""The engine: call-next, recall and skip, requeue, transfer, handling times and wait estimates."""
from __future__ import annotations

import pytest
from engine_helpers import (
    call,
    conflict,
    do,
    events,
    hall_with,
    issue,
    last_seq,
    open_,
    view,
    window_row,
)

from hall_server.errors import HallError, NotFound


# -- call-next --------------------------------------------------------------------------------------
def test_call_next_with_nothing_waiting_returns_none(hall):
    open_(hall, 1, 13)
    assert call(hall, 1) is None
    issue(hall, "GA-001")                  # police: window 1 does not serve it
    assert call(hall, 1) is None
    assert call(hall, 13) == "G001"


def test_call_next_finishes_the_current_ticket(hall):
    open_(hall, 1)
    a, b = issue(hall), issue(hall)
    assert call(hall, 1, wait_s=60) == "S001"
    before = last_seq(hall)
    assert call(hall, 1, wait_s=120) == "S002"
    assert view(hall, a["id"])["status"] == "done"
    assert view(hall, b["id"])["status"] == "called"
    # the finished ticket's rating prompt (好差评) opens in the same transaction
    assert [e["type"] for e in events(hall, before)] == ["ticket.finished", "evaluation.prompted", "ticket.called"]
    assert window_row(hall, 1)["current_ticket"] == b["id"]
    # nothing left: the current one is finished and the window is free
    assert call(hall, 1, wait_s=120) is None
    assert view(hall, b["id"])["status"] == "done" and window_row(hall, 1)["current_ticket"] is None


def test_call_next_debounce(hall):
    open_(hall, 1)
    issue(hall), issue(hall)
    assert call(hall, 1) == "S001"
    hall.clock.advance(seconds=1.5)
    before = last_seq(hall)
    err = conflict("just_called", do, hall, "call_next", 1, actor="clerk")
    assert err.details["retry_after_s"] == pytest.approx(0.5)
    assert last_seq(hall) == before
    assert window_row(hall, 1)["current_ticket"] is not None
    hall.clock.advance(seconds=0.5)       # exactly the debounce: allowed
    assert do(hall, "call_next", 1, actor="clerk")["number"] == "S002"


def test_no_debounce_once_serving_started(hall):
    open_(hall, 1)
    issue(hall), issue(hall)
    call(hall, 1)
    do(hall, "start", 1, actor="clerk")
    assert do(hall, "call_next", 1, actor="clerk")["number"] == "S002"


def test_two_windows_never_get_the_same_ticket(hall):
    open_(hall, 1, 2, 3)
    for _ in range(3):
        issue(hall, "SH-001")
    got = [call(hall, w, wait_s=0) for w in (1, 2, 3)]
    assert sorted(got) == ["S001", "S002", "S003"]
    assert call(hall, 1) is None


def test_profile_preference_between_windows(hall):
    open_(hall, 1, 2, 5)
    issue(hall, "QY-001"), issue(hall, "RS-001"), issue(hall, "SH-001")
    # the oldest ticket is enterprise, but each window takes its own group first
    assert call(hall, 1, wait_s=0) == "S001"
    assert call(hall, 2, wait_s=0) == "R001"
    assert call(hall, 5, wait_s=0) == "Q001"


def test_priority_and_starvation_guard_at_a_window(hall):
    open_(hall, 1)
    issue(hall), issue(hall)
    for _ in range(4):
        issue(hall, priority="elderly")
    order = [call(hall, 1) for _ in range(6)]
    # max_priority_in_row = 3: three priority calls jump the normal ones, then a normal one
    assert order == ["S003", "S004", "S005", "S001", "S006", "S002"]
    assert window_row(hall, 1)["priority_streak"] == 0


# -- recall, skip -----------------------------------------------------------------------------------
def test_recall_cooldown_and_limit(hall):
    open_(hall, 1)
    t = issue(hall)
    call(hall, 1)
    hall.clock.advance(seconds=5)
    err = conflict("recall_too_soon", do, hall, "recall", 1, actor="clerk")
    assert err.details["retry_after_s"] == pytest.approx(10)
    hall.clock.advance(seconds=10)                # 15 s since the call
    for n in (1, 2, 3):
        r = do(hall, "recall", 1, actor="clerk")
        assert r["status"] == "called" and r["recalls"] == n
        ev = events(hall)[-1]
        assert ev["type"] == "ticket.recalled" and ev["data"]["recalls"] == n and ev["data"]["window"] == 1
        hall.clock.advance(seconds=14)
        conflict("recall_too_soon", do, hall, "recall", 1, actor="clerk")   # cooldown from the last recall
        hall.clock.advance(seconds=1)
    r = do(hall, "recall", 1, actor="clerk")      # past the limit: a no-show
    assert r["status"] == "no_show"
    ev = events(hall)[-1]
    assert ev["type"] == "ticket.no_show" and ev["data"]["reason"] == "recall_limit"
    assert window_row(hall, 1)["current_ticket"] is None
    assert view(hall, t["id"])["status"] == "no_show"


def test_recall_past_the_limit_still_respects_the_cooldown(hall):
    """A double press on recall right after the last allowed recall must not make the citizen a no-show."""
    open_(hall, 1)
    issue(hall)
    call(hall, 1)
    for _ in range(3):
        hall.clock.advance(seconds=15)
        do(hall, "recall", 1, actor="clerk")
    hall.clock.advance(seconds=1)
    conflict("recall_too_soon", do, hall, "recall", 1, actor="clerk")
    assert view(hall, window_row(hall, 1)["current_ticket"])["status"] == "called"


def test_recall_needs_a_called_ticket(hall):
    open_(hall, 1)
    conflict("no_current_ticket", do, hall, "recall", 1, actor="clerk")
    issue(hall)
    call(hall, 1)
    do(hall, "start", 1, actor="clerk")
    hall.clock.advance(seconds=60)
    conflict("ticket_state", do, hall, "recall", 1, actor="clerk")


def test_skip_makes_a_no_show(hall):
    open_(hall, 1)
    t, u = issue(hall), issue(hall)
    call(hall, 1)
    r = do(hall, "skip", 1, actor="clerk")
    assert r["status"] == "no_show" and r["number"] == "S001"
    ev = events(hall)[-1]
    assert ev["type"] == "ticket.no_show" and ev["data"]["reason"] == "skipped"
    assert window_row(hall, 1)["current_ticket"] is None
    conflict("no_current_ticket", do, hall, "skip", 1, actor="clerk")
    # a no-show is not called again
    assert call(hall, 1) == "S002" and call(hall, 1) is None
    assert view(hall, t["id"])["status"] == "no_show" and view(hall, u["id"])["status"] == "done"


def test_skip_a_serving_ticket_is_refused(hall):
    open_(hall, 1)
    issue(hall)
    call(hall, 1)
    do(hall, "start", 1, actor="clerk")
    conflict("ticket_state", do, hall, "skip", 1, actor="clerk")


# -- requeue ----------------------------------------------------------------------------------------
def _no_show_first(hall, n_waiting):
    open_(hall, 1)
    tickets = [issue(hall, gap_s=10) for _ in range(n_waiting + 1)]
    assert call(hall, 1) == "S001"
    do(hall, "skip", 1, actor="clerk")
    return tickets


def _drain(hall, window=1):
    order = []
    while (n := call(hall, window)) is not None:
        order.append(n)
    return order


def test_requeued_no_show_waits_behind_three_places(hall):
    assert hall.cfg.queue.no_show_requeue_places == 3
    tickets = _no_show_first(hall, 5)
    r = do(hall, "requeue", tickets[0]["id"], actor="clerk")
    assert r["status"] == "waiting" and r["waiting_ahead"] == 3
    assert events(hall)[-1]["type"] == "ticket.requeued"
    assert _drain(hall) == ["S002", "S003", "S004", "S001", "S005", "S006"]


def test_requeue_position_when_tickets_came_in_the_same_instant(hall):
    """A burst of tickets in one clock tick still leaves the no-show exactly three places back."""
    open_(hall, 1)
    tickets = [issue(hall, gap_s=0) for _ in range(6)]
    assert call(hall, 1) == "S001"
    do(hall, "skip", 1, actor="clerk")
    assert do(hall, "requeue", tickets[0]["id"], actor="clerk")["waiting_ahead"] == 3
    assert _drain(hall) == ["S002", "S003", "S004", "S001", "S005", "S006"]


def test_requeued_no_show_with_few_waiting_goes_to_the_end(hall):
    tickets = _no_show_first(hall, 2)
    do(hall, "requeue", tickets[0]["id"], actor="clerk")
    issue(hall)                      # arrives after the no-show came back
    assert _drain(hall) == ["S002", "S003", "S001", "S004"]


def test_requeue_counts_places_in_its_own_matter(hall):
    tickets = _no_show_first(hall, 4)
    # RS-001 tickets at window 1 come after social ones anyway; they are not places in the S line
    issue(hall, "RS-001"), issue(hall, "RS-001")
    do(hall, "requeue", tickets[0]["id"], actor="clerk")
    assert _drain(hall) == ["S002", "S003", "S004", "S001", "S005", "R001", "R002"]


@pytest.mark.parametrize("places,expected", [
    (0, ["S001", "S002", "S003", "S004"]),
    (1, ["S002", "S001", "S003", "S004"]),
    (2, ["S002", "S003", "S001", "S004"]),
    (3, ["S002", "S003", "S004", "S001"]),
    (5, ["S002", "S003", "S004", "S001"]),
])
def test_requeue_places_setting(tmp_path, clock, places, expected):
    h = hall_with(tmp_path, clock, no_show_requeue_places=places)
    try:
        tickets = _no_show_first(h, 3)
        r = do(h, "requeue", tickets[0]["id"], actor="clerk")
        assert r["waiting_ahead"] == min(places, 3)
        assert _drain(h) == expected
    finally:
        h.close()


def test_only_a_no_show_can_be_requeued(hall):
    open_(hall, 1)
    t, u = issue(hall), issue(hall)
    conflict("not_a_no_show", do, hall, "requeue", u["id"], actor="clerk")   # waiting
    call(hall, 1)
    conflict("not_a_no_show", do, hall, "requeue", t["id"], actor="clerk")   # called
    call(hall, 1)
    conflict("not_a_no_show", do, hall, "requeue", t["id"], actor="clerk")   # done
    with pytest.raises(NotFound):
        do(hall, "requeue", 999, actor="clerk")


def test_requeued_ticket_can_be_recalled_afresh(hall):
    open_(hall, 1)
    t = issue(hall)
    call(hall, 1)
    for _ in range(3):
        hall.clock.advance(seconds=15)
        do(hall, "recall", 1, actor="clerk")
    hall.clock.advance(seconds=15)
    assert do(hall, "recall", 1, actor="clerk")["status"] == "no_show"
    assert do(hall, "requeue", t["id"], actor="clerk")["recalls"] == 0
    assert call(hall, 1) == "S001"
    hall.clock.advance(seconds=15)
    assert do(hall, "recall", 1, actor="clerk")["recalls"] == 1


# -- transfer ---------------------------------------------------------------------------------------
def test_transfer_to_a_matter_keeps_the_place_in_line(hall):
    open_(hall, 1, 2)
    s1 = issue(hall, "SH-001", gap_s=10)     # wrong matter picked at the kiosk; really a pension matter
    issue(hall, "RS-001", gap_s=10)
    issue(hall, "RS-001", gap_s=10)
    assert call(hall, 2, wait_s=0) == "R001"
    assert call(hall, 1, wait_s=0) == "S001"
    r = do(hall, "transfer", 1, actor="clerk", to_matter="RS-002", reason="wrong matter")
    assert r["status"] == "waiting" and r["matter"] == "RS-002" and r["number"] == "S001"
    assert r["transfers"] == 1 and r["target_window"] is None and r["waiting_ahead"] == 0
    assert window_row(hall, 1)["current_ticket"] is None
    ev = events(hall)[-1]
    assert ev["type"] == "ticket.transferred"
    assert ev["data"]["from_matter"] == "SH-001" and ev["data"]["to_matter"] == "RS-002"
    # window 2 (hrss first) calls the transferred ticket before the younger R002
    assert call(hall, 2) == "S001"
    assert view(hall, s1["id"])["window"] == 2
    assert call(hall, 2) == "R002"


def test_transfer_to_a_window_is_called_there_first_and_only_there(hall):
    open_(hall, 1, 2, 3)
    s1 = issue(hall)
    issue(hall), issue(hall)
    assert call(hall, 1, wait_s=0) == "S001"
    do(hall, "transfer", 1, actor="clerk", to_window=3)
    assert view(hall, s1["id"])["target_window"] == 3
    issue(hall, priority="elderly")          # S004, priority
    assert call(hall, 2) == "S004"           # window 2 gets the priority ticket, not the transferred one
    assert call(hall, 1) == "S002"
    assert call(hall, 3) == "S001"           # window 3 calls it first, before S003
    row = hall.store.read.execute("SELECT window, target_window, status FROM tickets WHERE id=?",
                                  (s1["id"],)).fetchone()
    assert tuple(row) == (3, None, "called")
    assert call(hall, 3) == "S003"


def test_ticket_transferred_to_a_window_is_never_called_elsewhere(hall):
    open_(hall, 1, 2)
    s1 = issue(hall)
    call(hall, 1)
    do(hall, "transfer", 1, actor="clerk", to_window=4)   # window 4 is closed
    assert call(hall, 1) is None
    assert call(hall, 2) is None
    w = view(hall, s1["id"])
    assert w["status"] == "waiting" and w["waiting_ahead"] == 0
    open_(hall, 4)
    assert call(hall, 4) == "S001"


def test_transfer_to_a_window_that_does_not_serve_the_matter(hall):
    open_(hall, 1, 13)
    issue(hall)
    issue(hall, "GA-001")
    call(hall, 1)
    do(hall, "transfer", 1, actor="clerk", to_window=13, reason="needs police")
    assert call(hall, 13) == "S001"
    assert call(hall, 13) == "G001"


def test_supervisor_moves_a_waiting_ticket_keeping_its_place(hall):
    open_(hall, 2)
    s1 = issue(hall, "SH-001")
    issue(hall, "RS-001")
    r = do(hall, "transfer_ticket", s1["id"], actor="sup", to_matter="RS-001")
    assert r["matter"] == "RS-001" and r["transfers"] == 1
    assert call(hall, 2) == "S001" and call(hall, 2) == "R001"
    conflict("ticket_not_waiting", do, hall, "transfer_ticket", s1["id"], actor="sup", to_matter="SH-001")


def test_transfer_refusals(hall):
    open_(hall, 1)
    conflict("no_current_ticket", do, hall, "transfer", 1, actor="clerk", to_window=2)
    issue(hall)
    call(hall, 1)
    before = last_seq(hall)
    conflict("transfer_to_self", do, hall, "transfer", 1, actor="clerk", to_window=1)
    with pytest.raises(HallError) as exc:
        do(hall, "transfer", 1, actor="clerk")
    assert exc.value.code == "transfer_target_missing" and exc.value.status == 422
    with pytest.raises(NotFound) as exc:
        do(hall, "transfer", 1, actor="clerk", to_matter="XX-999")
    assert exc.value.code == "matter_not_found"
    with pytest.raises(NotFound) as exc:
        do(hall, "transfer", 1, actor="clerk", to_window=99)
    assert exc.value.code == "window_not_found"
    assert last_seq(hall) == before
    assert view(hall, window_row(hall, 1)["current_ticket"])["status"] == "called"


def test_serving_ticket_can_be_transferred(hall):
    open_(hall, 1, 2)
    issue(hall)
    call(hall, 1)
    do(hall, "start", 1, actor="clerk")
    r = do(hall, "transfer", 1, actor="clerk", to_window=2)
    assert r["status"] == "waiting" and r["target_window"] == 2
    assert call(hall, 2) == "S001"


# -- handling times and estimates -------------------------------------------------------------------
def _ewma(hall, matter):
    row = hall.store.read.execute("SELECT ewma_s, samples FROM matter_stats WHERE matter=?", (matter,)).fetchone()
    return tuple(row) if row else None


def test_waiting_ahead_counts_tickets_of_the_same_matter(hall):
    tickets = [issue(hall) for _ in range(5)]
    assert [view(hall, t["id"])["waiting_ahead"] for t in tickets] == [0, 1, 2, 3, 4]
    assert tickets[-1]["waiting_ahead"] == 4                 # the answer to issue already says so
    assert issue(hall, "GA-001")["waiting_ahead"] == 0       # another window's queue
    # a priority ticket goes before every normal one
    p = issue(hall, priority="elderly")
    assert p["waiting_ahead"] == 0
    assert view(hall, tickets[0]["id"])["waiting_ahead"] == 1
    assert view(hall, tickets[-1]["id"])["waiting_ahead"] == 5


def test_tickets_of_matters_sharing_windows_count_ahead(hall):
    issue(hall, "RS-001")                                    # served at windows 1-5, like SH-001
    issue(hall, "BB-001")                                    # served at windows 9-11, like SH-001
    issue(hall, "GA-001")                                    # only window 13
    assert issue(hall, "SH-001")["waiting_ahead"] == 2


def test_estimated_wait_shrinks_with_more_open_windows(hall):
    minutes = hall.cfg.matter("SH-001").minutes
    tickets = [issue(hall) for _ in range(4)]
    last = tickets[-1]["id"]
    open_(hall, 1)
    one = view(hall, last)["estimated_wait_s"]
    assert one == pytest.approx(3 * minutes * 60)
    open_(hall, 2)
    two = view(hall, last)["estimated_wait_s"]
    open_(hall, 3, 4)
    four = view(hall, last)["estimated_wait_s"]
    assert one > two > four > 0
    assert view(hall, tickets[0]["id"])["estimated_wait_s"] == 0
    # closing windows lengthens it again
    for n in (2, 3, 4):
        do(hall, "set_state", n, "close", actor="sup")
    assert view(hall, last)["estimated_wait_s"] == one


def test_finish_learns_handling_time_and_moves_estimates(hall):
    alpha = hall.cfg.queue.ewma_alpha
    prior = hall.cfg.matter("SH-001").minutes * 60
    open_(hall, 1)
    issue(hall), issue(hall)
    third = issue(hall)
    call(hall, 1)
    before = view(hall, third["id"])
    assert before["waiting_ahead"] == 1 and before["estimated_wait_s"] == pytest.approx(prior)
    hall.clock.advance(seconds=300)
    done = do(hall, "finish", 1, actor="clerk")
    assert done["status"] == "done"
    expected = alpha * 300 + (1 - alpha) * prior
    assert _ewma(hall, "SH-001") == (pytest.approx(expected), 1)
    after = view(hall, third["id"])
    assert after["waiting_ahead"] == 1
    assert after["estimated_wait_s"] == round(expected) < before["estimated_wait_s"]
    assert [e for e in events(hall) if e["type"] == "ticket.finished"][-1]["data"]["handling_s"] == 300
    # a second sample, measured from the start of serving rather than the call
    call(hall, 1)
    hall.clock.advance(seconds=100)
    do(hall, "start", 1, actor="clerk")
    hall.clock.advance(seconds=200)
    do(hall, "finish", 1, actor="clerk")
    expected = alpha * 200 + (1 - alpha) * expected
    assert _ewma(hall, "SH-001") == (pytest.approx(expected), 2)
    # other matters keep their configured time
    assert _ewma(hall, "RS-001") is None


@pytest.mark.parametrize("seconds", [5, 5 * 3600])
def test_implausible_handling_times_are_not_learned(hall, seconds):
    open_(hall, 1)
    issue(hall)
    call(hall, 1)
    hall.clock.advance(seconds=seconds)
    do(hall, "finish", 1, actor="clerk")
    assert _ewma(hall, "SH-001") is None


def test_finish_via_call_next_learns_too(hall):
    open_(hall, 1)
    issue(hall), issue(hall)
    call(hall, 1)
    call(hall, 1, wait_s=600)
    assert _ewma(hall, "SH-001")[1] == 1


def test_finish_needs_a_current_ticket(hall):
    open_(hall, 1)
    conflict("no_current_ticket", do, hall, "finish", 1, actor="clerk")

