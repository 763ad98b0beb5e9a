"""The range of business dates the books accept, and of hold expiry times.

An entry's value date lies between the books' opening date and today (Asia/Shanghai), plus a
small allowance (`future_days`). Before the opening date there are no books to post into; after
today an entry would record money that has not moved yet, and a date years ahead would move its
fund's voucher year for good (`JZ-9999-...`). A hold -- a promise of money, not a movement --
expires after now and at most `HOLD_MAX_DAYS` ahead.

The rule is one per process: the app factory sets it from the configuration
(`LEDGER_BOOKS_OPEN_ON`, `LEDGER_VALUE_DATE_FUTURE_DAYS`) with `configure`; the posting engine,
the hold engine, the services, schemas, forms and imports all ask `value_date_rule()`. The
journal imports no Flask, so it is handed the values rather than reading the app's config.

Invariant kept by the posting engine: every entry written has `rule.earliest <= value_on <=
rule.latest()` on the day it is written. Closed months are a separate rule (`periods`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..errors import ValidationError, _l
from ..timeutil import LOCAL_TZ, as_utc, local_today, utcnow

#: The first day the demo books use (its opening balances are dated 5 January 2026): the books
#: open on the first day of that month and year.
DEFAULT_BOOKS_OPEN_ON = date(2026, 1, 1)
#: No value date after today by default: an entry records money that has moved.
DEFAULT_FUTURE_DAYS = 0
#: A hold expires at most this many days from now (a year and a day, the longest funding promise).
HOLD_MAX_DAYS = 366


class ValueDateOutOfRange(ValidationError):
    """The date is outside the range the books accept: choose a date between the books' opening date and today.

    Rule: an entry is dated from the books' opening date (`LEDGER_BOOKS_OPEN_ON`) to today
    (Asia/Shanghai) plus `LEDGER_VALUE_DATE_FUTURE_DAYS`; `fields` names the field with the
    allowed range, `details` carry `earliest` and `latest`.
    """

    code = "value_date_out_of_range"


@dataclass(frozen=True)
class ValueDateRule:
    """The books' opening date and how many days after today an entry may be dated."""

    books_open_on: date = DEFAULT_BOOKS_OPEN_ON
    future_days: int = DEFAULT_FUTURE_DAYS

    @property
    def earliest(self) -> date:
        return self.books_open_on

    def latest(self, today: date | None = None) -> date:
        return (today or local_today()) + timedelta(days=self.future_days)

    def check(self, value_on: date, *, field: str = "value_on", today: date | None = None) -> date:
        """Return `value_on` when the books accept it; raise ValueDateOutOfRange naming `field`."""
        problem = self.problem(value_on, field=field, today=today)
        if problem:
            latest = self.latest(today)
            raise ValueDateOutOfRange(problem, fields={field: [problem]}, earliest=self.earliest.isoformat(),
                                      latest=latest.isoformat(), value=value_on.isoformat())
        return value_on

    def problem(self, value_on: date, *, field: str = "value_on", today: date | None = None) -> str | None:
        """The sentence that refuses `value_on`, or None when it is in range (for imports' row errors)."""
        latest = self.latest(today)
        if self.earliest <= value_on <= latest:
            return None
        return _l("%(field)s must be between %(earliest)s and %(latest)s", field=field,
                  earliest=self.earliest.isoformat(), latest=latest.isoformat())


_rule = ValueDateRule()


def configure(*, books_open_on: date | str | None = None, future_days: int | str | None = None) -> ValueDateRule:
    """Set the process's rule (the app factory calls this with the config's values)."""
    global _rule
    opens = books_open_on if books_open_on is not None else DEFAULT_BOOKS_OPEN_ON
    try:
        opens = date.fromisoformat(opens.strip()) if isinstance(opens, str) else opens
    except ValueError:
        opens = None
    if isinstance(opens, datetime) or not isinstance(opens, date):
        raise ValueError("LEDGER_BOOKS_OPEN_ON must be a date such as 2026-01-01")
    try:
        days = int(future_days) if future_days not in (None, "") else DEFAULT_FUTURE_DAYS
    except ValueError:
        days = -1
    if not 0 <= days <= 31:
        raise ValueError("LEDGER_VALUE_DATE_FUTURE_DAYS must be a whole number of days from 0 to 31")
    _rule = ValueDateRule(opens, days)
    return _rule


def value_date_rule() -> ValueDateRule:
    return _rule


def check_value_on(value_on: date, *, field: str = "value_on") -> date:
    """`value_date_rule().check(...)`: the one call every edge and the engine make."""
    return _rule.check(value_on, field=field)


def check_hold_expiry(expires_at: datetime, *, now: datetime | None = None, field: str = "expires_at") -> datetime:
    """Refuse an expiry time in the past (or now) or more than HOLD_MAX_DAYS ahead, naming the range
    in local time; returns it in UTC."""
    if expires_at.tzinfo is None:
        raise ValidationError(fields={field: [_l("must carry a time zone")]})
    now = as_utc(now or utcnow())
    latest = now + timedelta(days=HOLD_MAX_DAYS)
    expires_at = as_utc(expires_at)
    if not now < expires_at <= latest:
        local = "%Y-%m-%d %H:%M"
        message = _l("%(field)s must be after %(earliest)s and no later than %(latest)s (Asia/Shanghai), "
                     "at most %(days)s days ahead", field=field, earliest=f"{now.astimezone(LOCAL_TZ):{local}}",
                     latest=f"{latest.astimezone(LOCAL_TZ):{local}}", days=HOLD_MAX_DAYS)
        raise ValidationError(message, fields={field: [message]}, latest=latest.isoformat())
    return expires_at
