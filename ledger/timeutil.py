"""Time: UTC timestamps inside, Asia/Shanghai business dates and display."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def local_today() -> date:
    return datetime.now(LOCAL_TZ).date()


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def to_local(value: datetime | None) -> datetime | None:
    value = as_utc(value)
    return value.astimezone(LOCAL_TZ) if value else None


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

#: The years a date at the API edge may name (as the books' months, `funds.schemas.MONTH_PATTERN`):
#: wide enough for any real document, narrow enough that year 0001 or 9999 is refused as a typo.
DATE_YEAR_MIN, DATE_YEAR_MAX = 1900, 2099
#: A date YYYY-MM-DD in those years, as an OpenAPI pattern (the day's existence is `format: date`).
PLAUSIBLE_DATE_PATTERN = r"^(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$"


def date_year_problem(value: date) -> str | None:
    """Why `value` is not a date the API takes (its year outside DATE_YEAR_MIN..DATE_YEAR_MAX), or None."""
    if DATE_YEAR_MIN <= value.year <= DATE_YEAR_MAX:
        return None
    from .errors import _l  # errors imports nothing; the message is shown in the reader's language

    return _l("Choose a date in the years %(first)s to %(last)s (got %(value)s).", first=DATE_YEAR_MIN,
              last=DATE_YEAR_MAX, value=value.isoformat())


def parse_iso_date(text: str) -> date:
    """A business date written YYYY-MM-DD in ASCII digits, the one form the edges accept
    (`date.fromisoformat` alone also reads "20261201" and the week date "2026-W48-2").
    ValueError for anything else, or for a day that does not exist."""
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
        raise ValueError("not a date written YYYY-MM-DD")
    return date.fromisoformat(text)
