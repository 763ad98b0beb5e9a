"""Working days by the Chinese statutory calendar, around the 2026 Spring Festival.

2026: the Spring Festival holiday runs from Sunday 15 February to Monday 23 February; Saturday
14 February and Saturday 28 February are worked in its place.
"""
from datetime import date

import pytest

from ledger.workdays import add_working_days, is_working_day


def test_the_spring_festival_days_are_off_and_the_moved_saturdays_are_worked():
    assert not any(is_working_day(date(2026, 2, day)) for day in range(15, 24))
    assert is_working_day(date(2026, 2, 14)) and is_working_day(date(2026, 2, 28))
    assert is_working_day(date(2026, 2, 24))
    assert not is_working_day(date(2026, 3, 1))  # an ordinary Sunday


def test_five_working_days_from_the_eve_of_the_holiday_land_after_it():
    # Friday 13 Feb + 5 working days: Sat 14, Tue 24, Wed 25, Thu 26, Fri 27.
    assert add_working_days(date(2026, 2, 13), 5) == date(2026, 2, 27)
    # Wednesday 11 Feb: Thu 12, Fri 13, Sat 14 (worked), Tue 24, Wed 25.
    assert add_working_days(date(2026, 2, 11), 5) == date(2026, 2, 25)


def test_an_ordinary_week_skips_the_weekend():
    assert add_working_days(date(2026, 3, 5), 5) == date(2026, 3, 12)
    assert add_working_days(date(2026, 3, 5), 0) == date(2026, 3, 5)


def test_a_year_the_calendar_does_not_know_is_refused_not_guessed():
    with pytest.raises(ValueError):
        is_working_day(date(2099, 6, 1))
