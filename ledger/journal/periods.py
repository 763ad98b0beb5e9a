"""Accounting periods (months): closing, reopening and the open-period check.

Invariants: no entry is dated in or before a closed month -- closing a month seals every month
before it too, including months before the books' first entry; a month closes only after it has
ended (Asia/Shanghai date); the closed months run without a gap from the books' first month (that
of the earliest entry): a month closes only when every month before it is closed, and only the
latest closed month may be reopened. The database refuses an entry dated in or before a closed
month as well (migration 0010's trigger on journal_entries).

Race safety on PostgreSQL: the calendar as a whole has a lock (`lock_month(CALENDAR_LOCK)`, a
transaction-level advisory lock, held in the lock manager's memory until commit). A posting takes
it shared before it locks its funds, then reads the months' rows in a later statement, whose
snapshot therefore comes after the lock. Every close and reopen takes it exclusive. So a close
waits for the postings already under way -- in any month, since a close of March seals December
as well -- and a posting that starts during a close waits for the close to commit, then sees it.
No posting can slip in or before a month after its close committed, and postings never queue
behind one another here (shared locks do not conflict). A share lock on a row would do the same,
but PostgreSQL writes the row's page (and a MultiXact) for every posting that takes it while
others hold it. On SQLite every write transaction is serialized by BEGIN IMMEDIATE.

The same exclusive lock keeps the order of closes: a close of February that reads January as
closed cannot commit beside a reopen of January that read February as open. A close or reopen
also takes its own month's lock, exclusive (kept from when postings took months' locks).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

import sqlalchemy as sa

from ..db_base import dialect_insert, is_postgres
from ..errors import ValidationError, _l
from ..statemachine import IllegalTransition, StateMachine
from ..timeutil import LOCAL_TZ, local_today, utcnow
from .errors import PeriodClosed, PeriodNotEnded, PeriodNotLatestClosed, PeriodOutOfOrder
from .models import Hold, HoldState, JournalEntry, Period, PeriodState

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
        raise ValidationError(fields={"month": [_l("must be a month such as 2026-01")]}) from None


#: The key of the lock on the calendar as a whole (`journal_lock_month` turns it into key 0).
CALENDAR_LOCK = "0000-00"


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def month_end_at(month: str) -> datetime:
    """The instant the month ends, in UTC (as timestamps are stored): midnight at the start of the
    next month, Asia/Shanghai."""
    return datetime.combine(first_day(next_month(month)), time(), tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def books_first_month(session) -> str | None:
    """The month of the earliest entry: where the books begin, and the closes with them."""
    first = session.scalar(sa.select(sa.func.min(JournalEntry.value_on)))
    return month_of(first) if first else None


def open_months_before(session, month: str) -> list[str]:
    """The months from the books' first month up to (not including) `month` that are not closed."""
    first = books_first_month(session)
    if first is None or first >= month:
        return []
    closed = set(session.scalars(sa.select(Period.month).where(Period.month >= first, Period.month < month,
                                                               Period.state == PeriodState.closed)))
    months, current = [], first
    while current < month:
        if current not in closed:
            months.append(current)
        current = next_month(current)
    return months


def month_to_close(session) -> str | None:
    """The next month that may be closed: the earliest open month of the books that has ended."""
    current = month_of(local_today())
    earlier = open_months_before(session, current)
    return earlier[0] if earlier else None


def latest_closed_month(session) -> str | None:
    return session.scalar(sa.select(sa.func.max(Period.month)).where(Period.state == PeriodState.closed))


def check_closable(session, month: str) -> None:
    """Raise unless `month` (YYYY-MM) has ended and every month before it is closed."""
    today = local_today()
    if month >= month_of(today):
        closable_on = first_day(next_month(month))
        raise PeriodNotEnded(fields={"month": [_l("the month to close (%(month)s) has not ended yet; it can be "
                                                  "closed from %(day)s on", month=month,
                                                  day=closable_on.isoformat())]},
                             month=month, closable_on=closable_on.isoformat())
    earlier = open_months_before(session, month)
    if earlier:
        raise PeriodOutOfOrder(fields={"month": [_l("close %(months)s first", months=", ".join(earlier))]}, month=month,
                               open_months=earlier)


@dataclass
class CloseChecklist:
    """What a person confirms before a month closes: whether it may close, and what is still pending."""

    month: str
    first_month: str | None
    ended: bool
    closable_on: date
    already_closed: bool
    open_months_before: list[str]
    pending_holds: list = field(default_factory=list)  # Hold rows, pending, placed before the month ended
    entry_count: int = 0

    @property
    def closable(self) -> bool:
        return self.ended and not self.already_closed and not self.open_months_before


def close_checklist(session, month: str) -> CloseChecklist:
    """The month's state and its pending items: the holds placed before its end that are still
    pending (money promised and not paid nor released; an expired one is released at its fund's
    next movement), and how many entries it holds."""
    month = parse_month(month)
    state = session.scalar(sa.select(Period.state).where(Period.month == month))
    holds = list(session.scalars(
        sa.select(Hold).where(Hold.state == HoldState.pending, Hold.created_at < month_end_at(month))
        .order_by(Hold.expires_at, Hold.id)))
    count = session.scalar(sa.select(sa.func.count()).select_from(JournalEntry).where(
        JournalEntry.value_on >= first_day(month), JournalEntry.value_on < first_day(next_month(month))))
    return CloseChecklist(month=month, first_month=books_first_month(session), ended=month < month_of(local_today()),
                          closable_on=first_day(next_month(month)),
                          already_closed=state is not None and PeriodState(state) == PeriodState.closed,
                          open_months_before=open_months_before(session, month), pending_holds=holds,
                          entry_count=count or 0)


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


def latest_closed_from(session, month: str) -> str | None:
    """The latest closed month from `month` on: the one that seals `month`, or None if it is open."""
    return session.scalar(sa.select(sa.func.max(Period.month)).where(Period.month >= month,
                                                                     Period.state == PeriodState.closed))


def period_closed_error(session, month: str, *, field: str = "value_on") -> PeriodClosed:
    """The refusal of an entry dated in `month`, which is closed or comes before a closed month."""
    latest = latest_closed_from(session, month) or month
    first_open = first_day(next_month(latest)).isoformat()
    if latest == month:
        problem = _l("%(month)s is closed: date the entry on or after %(day)s", month=month, day=first_open)
    else:
        problem = _l("%(month)s comes before %(latest)s, a closed month: date the entry on or after %(day)s",
                     month=month, latest=latest, day=first_open)
    return PeriodClosed(_l("%(problem)s (closing a month closes every month before it)", problem=problem),
                        fields={field: [problem]},
                        month=month, latest_closed=latest, first_open_on=first_open)


def check_open(session, value_on: date) -> None:
    """Raise PeriodClosed when `value_on` falls in or before a closed month (the posting engine
    checks this itself while locking; this is for callers that want to refuse early)."""
    month = month_of(value_on)
    if latest_closed_from(session, month) is not None:
        raise period_closed_error(session, month)


def close_period(session, month: str, *, user_id: int | None) -> Period:
    """Close a month that has ended, when every month before it is closed (`check_closable`): a month
    in progress could still receive the entries of its last days, and a gap of open months behind a
    closed one would let entries into the past the close was meant to seal.

    Who may close is the caller's rule (`ledger.funds.services.close_period`)."""
    month = parse_month(month)
    if month >= month_of(local_today()):
        check_closable(session, month)  # refuse early, before any lock
    lock_month(session, CALENDAR_LOCK, exclusive=True)
    period = _lock_period(session, month)
    if period.closed:
        raise PeriodStateConflict(_l("%(month)s is already closed", month=month))
    check_closable(session, month)
    PERIOD_MACHINE.move(session, period, "close", user_id=user_id, target=month)
    period.closed_at = utcnow()
    period.closed_by_id = user_id
    session.flush()
    return period


def reopen_period(session, month: str, *, user_id: int | None, reason: str) -> Period:
    """Reopen the latest closed month, with a reason (logged). Who may reopen is the caller's rule."""
    if not (reason or "").strip():
        raise ValidationError(fields={"reason": [_l("say why the period is reopened")]})
    month = parse_month(month)
    lock_month(session, CALENDAR_LOCK, exclusive=True)
    period = _lock_period(session, month)
    if not period.closed:
        raise PeriodStateConflict(_l("%(month)s is not closed", month=month))
    latest = latest_closed_month(session)
    if latest != month:
        raise PeriodNotLatestClosed(_l("only the latest closed month (%(month)s) can be reopened; reopen it first",
                                       month=latest),
                                    month=month, latest_closed=latest)
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
