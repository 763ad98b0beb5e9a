"""The figures of the start pages and of a fund's charts, read from the ledger with access checks.

Each function takes the session and the acting user, checks the permission its figures need
(`require`) and reads only what the actor may see (`fund_scope`, the reports log's own rule, the
administrator's directory), so a start page can never show more than the pages behind it.
Nothing here writes: the start pages are read-only views of the same books.

Figures and what they are, so that they match the ledger to the fen:

* area balances: the fund tree's own figures (`fund_tree`): each county with everything below it
  for city-wide people, each village for a county's people, and the top fund's own balance;
* a month's receipts: credits minus debits on the income accounts (donations, government grants),
  its payments: debits minus credits on the aid expense accounts, both by value date, so that a
  reversal in the same month nets out exactly as it does in the trial balance;
* a fund's balance over time: its cash account's running balance at the end of each day (or
  month) with postings, from the per-day totals the posting engine keeps;
* a fund's spending by purpose: its aid expense postings, net, grouped by the entry's purpose.

Amounts are integer fen throughout; the templates format them (`cny`) and the chart script
divides by 100 for its axes only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from ..auth.access import fund_scope, require
from ..auth.models import Role, User
from ..funds import services as fund_services
from ..journal import periods as journal_periods
from ..journal.models import (Account, AccountDayTotal, AccountRole, Fund, Hold, HoldState, JournalEntry, Period,
                              Posting, Side)
from ..reports import services as report_services
from ..timeutil import local_today, utcnow

#: How many rows the start page lists of each kind (the full lists are one click away).
RECENT_LIMIT = 8
#: A fund's balance chart shows days while there are at most this many; months beyond.
DAILY_POINTS_MAX = 62
#: The auditor's page shows this many months of period status, newest first.
PERIOD_MONTHS = 12

INCOME_ROLES = (AccountRole.donation_income, AccountRole.grant_income)


@dataclass(frozen=True)
class AreaBalance:
    """One bar of the balances chart: a fund, rolled up with everything below it unless `own_only`."""

    code: str
    name: str
    level: str
    posted_fen: int
    pending_fen: int
    available_fen: int
    own_only: bool = False


@dataclass
class DayFlow:
    day: date
    receipts_fen: int = 0
    payments_fen: int = 0


@dataclass
class MonthFlows:
    """Money in and out of the visible funds in one month, by value date."""

    month: str
    receipts_fen: int
    payments_fen: int
    days: list[DayFlow]
    receipts_by_source: dict[str, int] = field(default_factory=dict)
    voucher_count: int = 0


@dataclass(frozen=True)
class PendingHold:
    id: int
    fund_code: str
    fund_name: str
    amount_fen: int
    purpose: str | None
    payee_name: str | None
    reference: str | None
    expires_at: datetime


@dataclass(frozen=True)
class PendingHolds:
    items: list[PendingHold]
    count: int
    total_fen: int


@dataclass(frozen=True)
class RecentVoucher:
    voucher_no: str
    kind: str
    value_on: date
    posted_at: datetime
    purpose: str | None
    counterparty_name: str | None
    amount_fen: int


@dataclass(frozen=True)
class PeriodStatus:
    month: str
    closed: bool
    closed_at: datetime | None
    reopened_at: datetime | None


@dataclass(frozen=True)
class UserOverview:
    """The administrator's view of the accounts: how many of each role (active / all), who signed in
    lately, and who is locked out now."""

    by_role: dict[str, tuple[int, int]]  # role -> (active, all)
    recent_sign_ins: list[User]
    locked: list[User]
    disabled_count: int


@dataclass(frozen=True)
class BalancePoint:
    label: str  # YYYY-MM-DD or YYYY-MM
    balance_fen: int


@dataclass(frozen=True)
class FundCharts:
    balance_points: list[BalancePoint]
    by_month: bool
    spending_by_purpose: dict[str, int]  # purpose code -> net fen, largest first


def _flatten(nodes):
    for node in nodes:
        yield node
        yield from _flatten(node.children)


# --- balances --------------------------------------------------------------------------------------

def area_balances(session, user) -> list[AreaBalance]:
    """The visible funds one level below the top, each rolled up, after the top fund's own figures.

    City-wide people get the city fund's own balance and each county with its villages; a county's
    people the county fund's own balance and each of its villages. The bars add up to the top
    fund's roll-up, exactly as on the fund tree."""
    rows = []
    for root in fund_services.fund_tree(session, user):
        rows.append(AreaBalance(root.code, root.name, root.level, root.posted_fen, root.pending_fen,
                                root.available_fen, own_only=True))
        for child in root.children:
            rows.append(AreaBalance(child.code, child.name, child.level, child.total_posted_fen,
                                    child.total_pending_fen, child.total_available_fen))
    return rows


# --- money in and out this month -------------------------------------------------------------------

def month_bounds(month: str) -> tuple[date, date]:
    first = date.fromisoformat(journal_periods.parse_month(month) + "-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def month_flows(session, user, month: str | None = None) -> MonthFlows:
    """Receipts and payments of the visible funds in `month` (YYYY-MM, default this month), per day."""
    actor = require(user, "funds.read")
    month = month or journal_periods.month_of(local_today())
    first, last = month_bounds(month)
    rows = session.execute(
        sa.select(JournalEntry.value_on, Account.role, Posting.side, JournalEntry.purpose,
                  sa.func.sum(Posting.amount_fen))
        .select_from(Posting)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Account, Account.id == Posting.account_id)
        .join(Fund, Fund.id == Account.fund_id)
        .where(JournalEntry.value_on >= first, JournalEntry.value_on <= last, fund_scope(actor),
               Account.role.in_([*INCOME_ROLES, AccountRole.aid_expense]))
        .group_by(JournalEntry.value_on, Account.role, Posting.side, JournalEntry.purpose)).all()
    days: dict[date, DayFlow] = {}
    by_source: dict[str, int] = {}
    for value_on, role, side, purpose, amount in rows:
        role, side, amount = AccountRole(role), Side(side), int(amount)
        flow = days.setdefault(value_on, DayFlow(value_on))
        if role in INCOME_ROLES:
            signed = amount if side == Side.credit else -amount
            flow.receipts_fen += signed
            source = "donation" if role == AccountRole.donation_income else "government"
            by_source[source] = by_source.get(source, 0) + signed
        else:
            flow.payments_fen += amount if side == Side.debit else -amount
    vouchers = session.scalar(
        sa.select(sa.func.count(sa.distinct(JournalEntry.id))).select_from(Posting)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Account, Account.id == Posting.account_id).join(Fund, Fund.id == Account.fund_id)
        .where(JournalEntry.value_on >= first, JournalEntry.value_on <= last, fund_scope(actor)))
    ordered = [days[day] for day in sorted(days)]
    return MonthFlows(month=month, receipts_fen=sum(d.receipts_fen for d in ordered),
                      payments_fen=sum(d.payments_fen for d in ordered), days=ordered,
                      receipts_by_source=by_source, voucher_count=vouchers or 0)


# --- holds and vouchers ----------------------------------------------------------------------------

def pending_holds(session, user, limit: int = RECENT_LIMIT) -> PendingHolds:
    """Pending holds that can still be paid, soonest expiry first, with their count and sum.

    A hold past its expiry no longer counts against the balance (it is released when next
    touched), so it is left out here as it is on the fund tree."""
    actor = require(user, "funds.read")
    live = sa.and_(Hold.state == HoldState.pending, Hold.expires_at > utcnow(), fund_scope(actor))
    count, total = session.execute(
        sa.select(sa.func.count(Hold.id), sa.func.coalesce(sa.func.sum(Hold.amount_fen - Hold.posted_fen), 0))
        .join(Fund, Fund.id == Hold.fund_id).where(live)).one()
    items = [PendingHold(id=row.id, fund_code=row.code, fund_name=row.name, amount_fen=row.amount_fen - row.posted_fen,
                         purpose=row.purpose, payee_name=row.payee_name, reference=row.reference,
                         expires_at=row.expires_at)
             for row in session.execute(
                 sa.select(Hold.id, Fund.code, Fund.name, Hold.amount_fen, Hold.posted_fen, Hold.purpose,
                           Hold.payee_name, Hold.reference, Hold.expires_at)
                 .join(Fund, Fund.id == Hold.fund_id).where(live)
                 .order_by(Hold.expires_at, Hold.id).limit(limit))]
    return PendingHolds(items=items, count=count or 0, total_fen=int(total or 0))


def recent_vouchers(session, user, limit: int = RECENT_LIMIT) -> list[RecentVoucher]:
    """The latest vouchers touching a visible fund, newest first. An entry's amount is its largest
    posting: every kind of entry the ledger records moves one amount on each of its lines."""
    actor = require(user, "funds.read")
    touching = (sa.select(Posting.entry_id).join(Account, Account.id == Posting.account_id)
                .join(Fund, Fund.id == Account.fund_id).where(fund_scope(actor)))
    amount = (sa.select(sa.func.max(Posting.amount_fen)).where(Posting.entry_id == JournalEntry.id)
              .correlate(JournalEntry).scalar_subquery())
    rows = session.execute(
        sa.select(JournalEntry.voucher_no, JournalEntry.kind, JournalEntry.value_on, JournalEntry.posted_at,
                  JournalEntry.purpose, JournalEntry.counterparty_name, amount.label("amount_fen"))
        .where(JournalEntry.id.in_(touching))
        .order_by(JournalEntry.posted_at.desc(), JournalEntry.id.desc()).limit(limit))
    return [RecentVoucher(voucher_no=row.voucher_no, kind=getattr(row.kind, "value", row.kind),
                          value_on=row.value_on, posted_at=row.posted_at, purpose=row.purpose,
                          counterparty_name=row.counterparty_name, amount_fen=int(row.amount_fen or 0))
            for row in rows]


# --- the auditor's page ----------------------------------------------------------------------------

def journal_check(session, user):
    """The journal's hash chains verified now (the same walk as the verify page)."""
    return fund_services.verify_journal(session, user)


def recent_report_runs(session, user, limit: int = RECENT_LIMIT):
    """The latest reports in the log this user may read (auditors and administrators: everyone's)."""
    require(user, "reports.read")
    return report_services.list_runs(session, user, limit=limit)


def period_status(session, user, months: int = PERIOD_MONTHS) -> list[PeriodStatus]:
    """This month and the ones before it, newest first, each open or closed. A month with no
    period row has never been closed, so it is open."""
    periods = {period.month: period for period in fund_services.list_periods(session, user)}
    month = local_today().replace(day=1)
    statuses = []
    for _index in range(months):
        key = journal_periods.month_of(month)
        period: Period | None = periods.get(key)
        statuses.append(PeriodStatus(month=key, closed=bool(period and period.closed),
                                     closed_at=period.closed_at if period else None,
                                     reopened_at=period.reopened_at if period else None))
        month = (month - timedelta(days=1)).replace(day=1)
    return statuses


# --- the administrator's page ----------------------------------------------------------------------

def user_overview(session, user, limit: int = RECENT_LIMIT) -> UserOverview:
    """Accounts by role, the latest sign-ins and the accounts locked right now (administrators)."""
    require(user, "directory.admin")
    by_role = {role.value: (0, 0) for role in Role}
    for role, active, count in session.execute(
            sa.select(User.role, User.active, sa.func.count(User.id)).group_by(User.role, User.active)):
        active_count, all_count = by_role[Role(role).value]
        by_role[Role(role).value] = (active_count + (count if active else 0), all_count + count)
    recent = list(session.scalars(sa.select(User).where(User.last_login_at.is_not(None))
                                  .order_by(User.last_login_at.desc(), User.id).limit(limit)))
    locked = list(session.scalars(sa.select(User).where(User.locked_until_at > utcnow())
                                  .order_by(User.locked_until_at.desc(), User.username)))
    disabled = sum(all_count - active_count for active_count, all_count in by_role.values())
    return UserOverview(by_role=by_role, recent_sign_ins=recent, locked=locked, disabled_count=disabled)


# --- one fund's charts -----------------------------------------------------------------------------

def fund_charts(session, user, code: str) -> FundCharts:
    """A fund's balance over time and its spending by purpose; NotFound outside the user's scope."""
    fund = fund_services.get_fund(session, user, code)
    cash_id = session.scalar(sa.select(Account.id).where(Account.fund_id == fund.id,
                                                         Account.role == AccountRole.cash))
    day_rows = [] if cash_id is None else session.execute(
        sa.select(AccountDayTotal.value_on, AccountDayTotal.debit_fen, AccountDayTotal.credit_fen)
        .where(AccountDayTotal.account_id == cash_id).order_by(AccountDayTotal.value_on)).all()
    by_month = len(day_rows) > DAILY_POINTS_MAX
    points: dict[str, int] = {}
    running = 0
    for value_on, debit, credit in day_rows:
        running += int(debit) - int(credit)
        label = value_on.isoformat()[:7] if by_month else value_on.isoformat()
        points[label] = running  # the last day of a month is that month's closing balance
    spending: dict[str, int] = {}
    for purpose, side, amount in session.execute(
            sa.select(JournalEntry.purpose, Posting.side, sa.func.sum(Posting.amount_fen))
            .select_from(Posting).join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .join(Account, Account.id == Posting.account_id)
            .where(Account.fund_id == fund.id, Account.role == AccountRole.aid_expense)
            .group_by(JournalEntry.purpose, Posting.side)):
        key = purpose or "other"
        spending[key] = spending.get(key, 0) + (int(amount) if Side(side) == Side.debit else -int(amount))
    spending = dict(sorted(((k, v) for k, v in spending.items() if v), key=lambda item: (-item[1], item[0])))
    return FundCharts(balance_points=[BalancePoint(label, fen) for label, fen in points.items()],
                      by_month=by_month, spending_by_purpose=spending)
