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

from ..db_base import dialect_insert, is_postgres
from ..errors import ValidationError
from ..statemachine import IllegalTransition, StateMachine
from ..timeutil import local_today, utcnow
from .errors import PeriodClosed
from .models import Period, PeriodState

periods = Period.__table__


class PeriodStateConflict(IllegalTransition):
    """The month is not in a state that allows this (closing a closed month, reopening an open one).

    Rule: a month moves open -> closed -> open ..., one step at a time.
    """

    code = "conflict"


#: The accounting month's life: open -close-> closed -reopen-> open. Every move is audited.
PERIOD_MACHINE = StateMachine(
    name="period", states=PeriodState, error=PeriodStateConflict,
    transitions={(PeriodState.open, "close"): PeriodState.closed,
                 (PeriodState.closed, "reopen"): PeriodState.open})


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


def ensure_periods(session, months) -> None:
    """Create the months' period rows (open) where missing; safe under concurrency."""
    months = sorted(set(months))
    if months:
        session.execute(dialect_insert(session, periods).on_conflict_do_nothing(index_elements=["month"]),
                        [{"month": month, "state": PeriodState.open.value} for month in months])


def ensure_period(session, month: str) -> None:
    ensure_periods(session, [month])


def lock_month(session, month: str, *, exclusive: bool = False) -> None:
    """Take the month's lock until the transaction ends: shared by postings, exclusive by a close
    or a reopen (PostgreSQL only; `journal_lock_month`, migration 0005)."""
    if is_postgres(session):
        session.execute(sa.select(sa.func.journal_lock_month(month, exclusive)))


def _lock_period(session, month: str):
    lock_month(session, month, exclusive=True)
    ensure_period(session, month)
    query = sa.select(Period).where(Period.month == month).execution_options(populate_existing=True)
    if is_postgres(session):
        query = query.with_for_update()
    return session.scalars(query).one()


def check_open(session, value_on: date) -> None:
    """Raise PeriodClosed when `value_on` falls in a closed month (the posting engine checks
    this itself while locking; this is for callers that want to refuse early)."""
    state = session.scalar(sa.select(Period.state).where(Period.month == month_of(value_on)))
    if state is not None and PeriodState(state) == PeriodState.closed:
        raise PeriodClosed(fields={"value_on": [f"{month_of(value_on)} is closed"]}, month=month_of(value_on))


def close_period(session, month: str, *, user_id: int | None) -> Period:
    """Close a month. Months in the future cannot be closed (nothing could be dated in them).

    Who may close is the caller's rule (`ledger.funds.services.close_period`)."""
    month = parse_month(month)
    if month > month_of(local_today()):
        raise ValidationError(fields={"month": ["a month that has not begun cannot be closed"]})
    period = _lock_period(session, month)
    if period.closed:
        raise PeriodStateConflict(f"{month} is already closed")
    PERIOD_MACHINE.move(session, period, "close", user_id=user_id, target=month)
    period.closed_at = utcnow()
    period.closed_by_id = user_id
    session.flush()
    return period


def reopen_period(session, month: str, *, user_id: int | None, reason: str) -> Period:
    """Reopen a closed month, with a reason (logged). Who may reopen is the caller's rule."""
    if not (reason or "").strip():
        raise ValidationError(fields={"reason": ["say why the period is reopened"]})
    month = parse_month(month)
    period = _lock_period(session, month)
    if not period.closed:
        raise PeriodStateConflict(f"{month} is not closed")
    PERIOD_MACHINE.move(session, period, "reopen", user_id=user_id, target=month, reason=reason.strip())
    period.reopened_at = utcnow()
    period.reopened_by_id = user_id
    session.flush()
    return period


def list_periods(session) -> list[Period]:
    return list(session.scalars(sa.select(Period).order_by(Period.month.desc())))


def current_open_on(session, today: date | None = None) -> date:
    """Today, when its month is open; a reversal of an entry in a closed month is dated here."""
    today = today or local_today()
    check_open(session, today)
    return today
