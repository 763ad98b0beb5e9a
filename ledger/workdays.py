"""Working days by the Chinese statutory calendar: statutory holidays are days off, and the weekend
days the State Council moves work to (调休) are working days.

The calendar is the `chinese-calendar` data package (one table per year, published each November
with the next year's holidays). A date in a year the package does not know raises ValueError rather
than guessing: a deadline computed from weekends alone would be wrong around every holiday.
"""
from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def is_working_day(day: date) -> bool:
    """Whether `day` is a working day (a weekday that is no holiday, or a weekend day worked instead)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError as error:
        raise ValueError(f"the statutory calendar of {day.year} is not known") from error


def add_working_days(start: date, count: int) -> date:
    """The `count`-th working day after `start` (`start` itself not counted), count >= 0."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    remaining = count
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day
