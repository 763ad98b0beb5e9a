"""Accounting periods (months): closing, reopening and the open-period check.

Invariant: no entry is dated in a closed month.

Race safety on PostgreSQL: each month has a lock (`lock_month`, a transaction-level
advisory lock, held in the lock manager's memory until commit). A posting takes it
shared before it locks its funds, then reads the month's row in a later statement,
whose snapshot therefore comes after the lock. Closing and reopening take it
exclusive. So a close waits for the postings already under way in that month, and a
posting that starts during a close waits for the close to commit, then sees the
month closed. No posting can slip into a month after its close committed, and
postings never queue behind one another here (shared locks do not conflict). A
share lock on the month's row would do the same, but PostgreSQL writes the row's
page (and a MultiXact) for every posting that takes it while others hold it. On
SQLite every write transaction is serialized by BEGIN IMMEDIATE.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..errors import Conflict, Forbidden, ValidationError
from ..timeutil import local_today, utcnow
from .errors import PeriodClosed
from .models import Period

periods = Period.__table__


def month_of(value_on: date) -> str:
    return f"{value_on.year:04d}-{value_on.month:02d}"


def parse_month(month: str) -> str:
    text = (month or "").strip()
    try:
        year, number = text.split("-")
        if len(year) != 4 or len(number) != 2 or not 1 <= int(number) <= 12:
            raise ValueError
        return f"{int(year):04d}-{int(number):02d}"
    except ValueError:
        raise ValidationError(fields={"month": ["must be a month such as 2026-01"]}) from None


def _insert_ignore(session, **values):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return session.execute(insert(periods).values(**values).on_conflict_do_nothing(index_elements=["month"]))


def ensure_period(session, month: str) -> None:
    """Create the month's period row (open) if it is missing; safe under concurrency."""
    _insert_ignore(session, month=month, closed=False)


def lock_month(session, month: str, *, exclusive: bool = False) -> None:
    """Take the month's lock until the transaction ends: shared by postings, exclusive by a close
    or a reopen (PostgreSQL only; `journal_lock_month`, migration 0005)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.journal_lock_month(month, exclusive)))


def _lock_period(session, month: str, *, exclusive: bool):
    lock_month(session, month, exclusive=exclusive)
    ensure_period(session, month)
    query = sa.select(Period).where(Period.month == month).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=not exclusive)
    return session.scalars(query).one()


def check_open(session, value_on: date) -> None:
    """Raise PeriodClosed when `value_on` falls in a closed month (the posting engine checks
    this itself while locking; this is for callers that want to refuse early)."""
    closed = session.scalar(sa.select(Period.closed).where(Period.month == month_of(value_on)))
    if closed:
        raise PeriodClosed(fields={"value_on": [f"{month_of(value_on)} is closed"]}, month=month_of(value_on))


def close_period(session, user, month: str) -> Period:
    """Close a month. Months in the future cannot be closed (nothing could be dated in them)."""
    month = parse_month(month)
    if month > month_of(local_today()):
        raise ValidationError(fields={"month": ["a month that has not begun cannot be closed"]})
    period = _lock_period(session, month, exclusive=True)
    if period.closed:
        raise Conflict(f"{month} is already closed")
    period.closed = True
    period.closed_at = utcnow()
    period.closed_by_id = user.id if user else None
    session.flush()
    from ..auth.services import record_event

    record_event(session, user, "period.close", month)
    session.flush()
    return period


def reopen_period(session, user, month: str, *, reason: str) -> Period:
    """Reopen a closed month: admin only, with a reason, logged as an AuditEvent."""
    from ..auth.models import Role
    from ..auth.services import record_event

    if user is None or Role(user.role) != Role.admin:
        raise Forbidden("only an administrator may reopen a closed period")
    if not (reason or "").strip():
        raise ValidationError(fields={"reason": ["say why the period is reopened"]})
    month = parse_month(month)
    period = _lock_period(session, month, exclusive=True)
    if not period.closed:
        raise Conflict(f"{month} is not closed")
    period.closed = False
    period.reopened_at = utcnow()
    period.reopened_by_id = user.id
    record_event(session, user, "period.reopen", month, reason=reason.strip())
    session.flush()
    return period


def list_periods(session) -> list[Period]:
    return list(session.scalars(sa.select(Period).order_by(Period.month.desc())))


def current_open_on(session, today: date | None = None) -> date:
    """Today, when its month is open; a reversal of an entry in a closed month is dated here."""
    today = today or local_today()
    check_open(session, today)
    return today
