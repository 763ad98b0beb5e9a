"""The chart of accounts: every fund is a self-balancing set of seven accounts.

Fund accounting keeps each fund's money apart: a fund owns one account per
`AccountRole` (cash, donation income, grant income, transfers in / out, aid
expense, opening net assets). Account codes are `<subject>.<fund code>` after
the Chinese non-profit chart (1002 bank deposits, 4101 donation income, ...),
so the same subject sums across funds in a trial balance.

Invariant: exactly one account per (fund, role) (a unique constraint), created
together with the fund by `create_fund`; accounts are never deleted.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from .models import Account, AccountKind, AccountRole, Fund, FundLevel, FundProgramme


@dataclass(frozen=True)
class AccountType:
    subject: str  # the chart-of-accounts subject code
    kind: AccountKind
    label: str  # Chinese name, shown and exported
    beancount_root: str  # Assets / Liabilities / Equity / Income / Expenses
    beancount_leaf: str


CHART: dict[AccountRole, AccountType] = {
    AccountRole.cash: AccountType("1002", AccountKind.asset, "银行存款", "Assets", "Cash"),
    AccountRole.opening_net_assets: AccountType("3101", AccountKind.net_assets, "期初净资产", "Equity", "Opening"),
    AccountRole.donation_income: AccountType("4101", AccountKind.income, "捐赠收入", "Income", "Donations"),
    AccountRole.grant_income: AccountType("4201", AccountKind.income, "政府补助收入", "Income", "Grants"),
    AccountRole.transfer_in: AccountType("4901", AccountKind.income, "划拨收入", "Income", "TransfersIn"),
    AccountRole.aid_expense: AccountType("5101", AccountKind.expense, "救助支出", "Expenses", "Aid"),
    AccountRole.transfer_out: AccountType("5901", AccountKind.expense, "划拨支出", "Expenses", "TransfersOut"),
}


def account_code(role: AccountRole, fund_code: str) -> str:
    return f"{CHART[role].subject}.{fund_code}"


def beancount_account_name(role: AccountRole | str, fund_code: str) -> str:
    """`Assets:Fund370827-012:Cash`: beancount names must start each component with a
    capital letter or digit, so the Chinese names go into the open directive's metadata."""
    kind = CHART[AccountRole(role)]
    return f"{kind.beancount_root}:Fund{fund_code}:{kind.beancount_leaf}"


def create_fund(session, *, code: str, name: str, level: FundLevel, region_id: int,
                parent: Fund | None = None, programme: FundProgramme = FundProgramme.relief) -> Fund:
    """A new fund with its seven accounts (flushed; the caller commits)."""
    fund = Fund(code=code, name=name, level=level, programme=programme, region_id=region_id,
                parent_id=parent.id if parent else None,
                balance_posted_fen=0, pending_fen=0, chain_seq=0, chain_head_hash="0" * 64,
                voucher_year=0, voucher_seq=0)
    session.add(fund)
    session.flush()
    for role, kind in CHART.items():
        session.add(Account(code=account_code(role, code), name=f"{name} · {kind.label}", kind=kind.kind,
                            role=role, fund_id=fund.id, debit_total_fen=0, credit_total_fen=0))
    session.flush()
    return fund


def fund_account_ids(session, fund_id: int) -> dict[AccountRole, int]:
    rows = session.execute(sa.select(Account.role, Account.id).where(Account.fund_id == fund_id))
    return {AccountRole(role): account_id for role, account_id in rows}
