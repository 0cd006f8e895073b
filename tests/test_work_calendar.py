"""The working-day calendar (hall_server/cases/calendar.py): statutory holidays and makeup days from
chinesecalendar, the administrator's table for later years, weekends only (with a warning) beyond both."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall_server.cases.calendar import WorkCalendar
from hall_server.cases.config import CalendarTable

CAL = WorkCalendar()


@pytest.mark.parametrize(("day", "working"), [
    (date(2026, 10, 1), False), (date(2026, 10, 7), False),     # National Day
    (date(2026, 10, 10), True),                                   # makeup Saturday
    (date(2026, 2, 14), True), (date(2026, 2, 28), True),         # makeup Saturdays of the Spring Festival
    (date(2026, 2, 16), False), (date(2026, 2, 23), False),
    (date(2026, 11, 28), False), (date(2026, 11, 30), True),      # an ordinary weekend and Monday
])
def test_days(day, working):
    assert CAL.is_working_day(day) is working


def test_day_one_is_the_first_working_day_after():
    assert CAL.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)      # Friday → Monday
    assert CAL.add_working_days(date(2026, 11, 27), 0) == date(2026, 11, 27)


def test_an_unknown_year_counts_weekends_only_and_says_so():
    assert not CAL.known(2027)
    assert CAL.is_working_day(date(2027, 1, 1))                  # New Year's Day, not known yet
    warning = CAL.warning(date(2026, 12, 4), date(2027, 1, 4))
    assert warning["code"] == "calendar_unknown_year" and warning["years"] == [2027]
    assert "2027" in warning["message_zh"] and "[calendar]" in warning["message_en"]
    assert CAL.warning(date(2026, 1, 5), date(2026, 12, 31)) is None


def test_the_administrators_table_fills_a_later_year():
    table = CalendarTable(years=(2027,), holidays=(date(2027, 1, 1),), workdays=(date(2027, 1, 9),))
    cal = WorkCalendar(table)
    assert cal.known(2027) and cal.warning(date(2026, 12, 30), date(2027, 1, 11)) is None
    assert not cal.is_working_day(date(2027, 1, 1)) and cal.is_working_day(date(2027, 1, 9))
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_a_table_with_days_outside_its_years_is_refused():
    with pytest.raises(ValueError, match=r"calendar\.holidays"):
        CalendarTable(years=(2027,), holidays=(date(2028, 1, 1),))


def test_a_case_due_in_an_unknown_year_carries_the_warning(client, clock):
    from api_helpers import clerk_at
    from conftest import ADMIN_PASSWORD
    from test_cases_api import act, at, take_in

    at(clock, 2026, 12, 4)
    client.admin = client.headers_for("admin", ADMIN_PASSWORD)       # the clock passed the admin's token
    clerk = clerk_at(client, 3)
    case = act(client, clerk, take_in(client, clerk)["id"], "accept")
    assert case["calendar_warning"]["years"] == [2027]


@given(st.dates(date(2024, 1, 1), date(2026, 6, 30)), st.integers(0, 60))
def test_counting_back_agrees_with_counting_forward(start, n):
    due = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, due) == n
    assert due == start or CAL.is_working_day(due)
    assert CAL.working_days_left(due, start) == -n
    assert all(not CAL.is_working_day(start + timedelta(days=k)) or start + timedelta(days=k) <= due
               for k in range(1, (due - start).days + 1))
