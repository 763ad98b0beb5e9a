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


def parse_iso_date(text: str) -> date:
    """A business date written YYYY-MM-DD in ASCII digits, the one form the edges accept
    (`date.fromisoformat` alone also reads "20261201" and the week date "2026-W48-2").
    ValueError for anything else, or for a day that does not exist."""
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
        raise ValueError("not a date written YYYY-MM-DD")
    return date.fromisoformat(text)
