"""Balances from the maintained figures, never from a scan of the journal.

* Current figures: `Fund.balance_posted_fen` / `pending_fen` and the accounts'
  `debit_total_fen` / `credit_total_fen`, maintained by the posting engine.
* As of a date: from `AccountDayTotal` (one row per account and value date), an
  indexed range sum. Which side of the date is summed depends on the date: for a
  recent date the rows after it are subtracted from the current totals, for an
  old one the rows up to it are added, so either way only a slice of the days is
  read, never the postings.
* `recompute_from_postings` sums the postings themselves; tests (and an auditor
  with time) use it to prove the maintained figures equal the journal.

Signs: an account's balance is debit minus credit (assets and expenses come out
positive, income and net assets negative); a trial balance sums to zero.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from ..timeutil import local_today
from .models import Account, AccountDayTotal, AccountRole, Fund, Hold, HoldState, JournalEntry, Posting

#: Dates at least this far back are summed forwards from the first day.
_BACKWARD_WINDOW = timedelta(days=366)


def _sum_day_totals(session, as_of: date, account_filter=None) -> tuple[dict[int, tuple[int, int]], bool]:
    """(account id -> (debit, credit) of the day rows on one side of `as_of`, backward?)."""
    backward = as_of >= local_today() - _BACKWARD_WINDOW
    d = AccountDayTotal
    condition = d.value_on > as_of if backward else d.value_on <= as_of
    query = sa.select(d.account_id, sa.func.coalesce(sa.func.sum(d.debit_fen), 0),
                      sa.func.coalesce(sa.func.sum(d.credit_fen), 0)).where(condition).group_by(d.account_id)
    if account_filter is not None:
        query = query.where(d.account_id.in_(account_filter))
    return {account_id: (int(debit), int(credit)) for account_id, debit, credit in session.execute(query)}, backward


def account_totals(session, as_of: date | None = None) -> dict[int, tuple[int, int]]:
    """account id -> (debit total, credit total), now or as of the end of `as_of`."""
    current = {row.id: (row.debit_total_fen, row.credit_total_fen) for row in session.execute(
        sa.select(Account.id, Account.debit_total_fen, Account.credit_total_fen))}
    if as_of is None:
        return current
    part, backward = _sum_day_totals(session, as_of)
    if backward:
        return {account_id: (debit - part.get(account_id, (0, 0))[0], credit - part.get(account_id, (0, 0))[1])
                for account_id, (debit, credit) in current.items()}
    return {account_id: part.get(account_id, (0, 0)) for account_id in current}


def fund_posted_balances(session, as_of: date | None = None) -> dict[int, int]:
    """fund id -> posted balance of its cash account, now or as of the end of `as_of`."""
    current = dict(session.execute(sa.select(Fund.id, Fund.balance_posted_fen)).all())
    if as_of is None:
        return current
    cash = dict(session.execute(sa.select(Account.id, Account.fund_id).where(Account.role == AccountRole.cash)).all())
    part, backward = _sum_day_totals(session, as_of, account_filter=list(cash))
    by_fund = defaultdict(int)
    for account_id, (debit, credit) in part.items():
        by_fund[cash[account_id]] += debit - credit
    if backward:
        return {fund_id: posted - by_fund.get(fund_id, 0) for fund_id, posted in current.items()}
    return {fund_id: by_fund.get(fund_id, 0) for fund_id in current}


@dataclass
class Recomputed:
    accounts: dict[int, tuple[int, int]]  # account id -> (debit, credit)
    fund_posted: dict[int, int]
    fund_pending: dict[int, int]
    day_totals: dict[tuple[int, date], tuple[int, int]]


def recompute_from_postings(session) -> Recomputed:
    """Every maintained figure recomputed from the postings and holds (reads the whole journal)."""
    accounts = {account_id: (0, 0) for account_id in session.scalars(sa.select(Account.id))}
    day_totals = {}
    debit = sa.func.sum(sa.case((Posting.side == "debit", Posting.amount_fen), else_=0))
    credit = sa.func.sum(sa.case((Posting.side == "credit", Posting.amount_fen), else_=0))
    rows = session.execute(sa.select(Posting.account_id, JournalEntry.value_on, debit, credit)
                           .join(JournalEntry, JournalEntry.id == Posting.entry_id)
                           .group_by(Posting.account_id, JournalEntry.value_on))
    for account_id, value_on, day_debit, day_credit in rows:
        day_totals[(account_id, value_on)] = (int(day_debit), int(day_credit))
        total = accounts[account_id]
        accounts[account_id] = (total[0] + int(day_debit), total[1] + int(day_credit))
    cash = dict(session.execute(sa.select(Account.id, Account.fund_id).where(Account.role == AccountRole.cash)).all())
    fund_posted = {fund_id: 0 for fund_id in session.scalars(sa.select(Fund.id))}
    for account_id, fund_id in cash.items():
        fund_posted[fund_id] = accounts[account_id][0] - accounts[account_id][1]
    fund_pending = {fund_id: 0 for fund_id in fund_posted}
    for fund_id, total in session.execute(sa.select(Hold.fund_id, sa.func.sum(Hold.amount_fen))
                                          .where(Hold.state == HoldState.pending).group_by(Hold.fund_id)):
        fund_pending[fund_id] = int(total)
    return Recomputed(accounts, fund_posted, fund_pending, day_totals)


def maintained_differences(session) -> list[str]:
    """Where a maintained figure differs from the recomputation; empty when the books agree."""
    recomputed = recompute_from_postings(session)
    problems = []
    for row in session.execute(sa.select(Account.id, Account.code, Account.debit_total_fen, Account.credit_total_fen)):
        if (row.debit_total_fen, row.credit_total_fen) != recomputed.accounts[row.id]:
            problems.append(f"account {row.code}: maintained {(row.debit_total_fen, row.credit_total_fen)} "
                            f"!= postings {recomputed.accounts[row.id]}")
    for row in session.execute(sa.select(Fund.id, Fund.code, Fund.balance_posted_fen, Fund.pending_fen)):
        if row.balance_posted_fen != recomputed.fund_posted[row.id]:
            problems.append(f"fund {row.code}: posted {row.balance_posted_fen} != {recomputed.fund_posted[row.id]}")
        if row.pending_fen != recomputed.fund_pending[row.id]:
            problems.append(f"fund {row.code}: pending {row.pending_fen} != {recomputed.fund_pending[row.id]}")
    stored = {(row.account_id, row.value_on): (row.debit_fen, row.credit_fen)
              for row in session.execute(sa.select(AccountDayTotal))
              .scalars() if (row.debit_fen or row.credit_fen)}
    if stored != recomputed.day_totals:
        problems.append("account day totals differ from the postings")
    return problems
