"""The double-entry journal: funds, accounts, entries, postings, holds, periods.

Invariants kept here and in the database:

* A posting's `amount_fen` is a positive integer; `side` says debit or credit.
* Every entry's debits equal its credits (checked in Python before insert and,
  on PostgreSQL, by a deferred constraint trigger at commit).
* Entries and postings are append-only: nothing updates or deletes them; a
  correction is a reversing entry (`reverses_entry_id`, unique: at most once).
* A fund is a self-balancing set of accounts (fund accounting). It is also the
  unit of locking, of voucher numbering and of the hash chain, so writers on
  different funds never wait for each other.
* `Fund.balance_posted_fen - Fund.pending_fen >= 0`: a fund never pays or
  commits more than it has (a CHECK constraint, on top of the service check).
* Enum columns hold only their enum's values: CHECK constraints, except fund
  level and account kind / role on PostgreSQL, where triggers refuse an unknown
  value whenever the column is written (migration 0005: a CHECK would be
  evaluated on every posting's update of those rows).

This module imports no Flask: the journal runs over any SQLAlchemy session.
"""
from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from ..db_base import Base, enum_column
from ..timeutil import utcnow


class FundLevel(str, enum.Enum):
    city = "city"
    county = "county"
    village = "village"


class FundProgramme(str, enum.Enum):
    """Which programme's money a fund holds. The relief tree (city / county / village) is one
    programme; care-service budgets (政府购买服务) are another, kept out of relief trees, totals
    and reports while using the same accounts, postings, holds and chain."""

    relief = "relief"
    care = "care"


class AccountKind(str, enum.Enum):
    asset = "asset"
    liability = "liability"
    net_assets = "net_assets"
    income = "income"
    expense = "expense"


class AccountRole(str, enum.Enum):
    """What an account is for inside its fund; one account per (fund, role)."""

    cash = "cash"                    # 银行存款: the money the fund holds (asset)
    donation_income = "donation_income"  # 捐赠收入 (income)
    grant_income = "grant_income"    # 政府补助收入 (income)
    transfer_in = "transfer_in"      # 划拨收入: allocations received from another fund (income)
    transfer_out = "transfer_out"    # 划拨支出: allocations sent to another fund (expense)
    aid_expense = "aid_expense"      # 救助支出: disbursements to payees (expense)
    opening_net_assets = "opening_net_assets"  # 期初净资产 (net assets)


class Side(str, enum.Enum):
    debit = "debit"
    credit = "credit"


class EntryKind(str, enum.Enum):
    opening = "opening"
    receipt = "receipt"
    allocation = "allocation"
    disbursement = "disbursement"
    hold_post = "hold_post"
    reversal = "reversal"


class HoldState(str, enum.Enum):
    pending = "pending"
    posted = "posted"
    voided = "voided"
    expired = "expired"


class Fund(Base):
    """A fund: the city fund, a county charity project or a village / community fund."""

    __tablename__ = "funds"
    __table_args__ = (
        sa.CheckConstraint("pending_fen >= 0", name="pending_not_negative"),
        sa.CheckConstraint("balance_posted_fen - pending_fen >= 0", name="available_not_negative"),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    code = sa.Column(sa.String(20), nullable=False, unique=True, comment="e.g. JN-CITY, 370827, 370827-012")
    name = sa.Column(sa.String(200), nullable=False)
    level = enum_column(FundLevel, "fund_level", nullable=False)
    programme = enum_column(FundProgramme, "fund_programme", nullable=False, default=FundProgramme.relief,
                            server_default=FundProgramme.relief.value,
                            comment="relief (the fund tree) or care (care-service budgets)")
    parent_id = sa.Column(sa.Integer, sa.ForeignKey("funds.id"), index=True)
    region_id = sa.Column(sa.Integer, sa.ForeignKey("regions.id"), nullable=False, index=True)
    # Maintained under the fund's row lock by the posting service:
    balance_posted_fen = sa.Column(sa.BigInteger, nullable=False, default=0,
                                   comment="balance of the cash account, posted entries only")
    pending_fen = sa.Column(sa.BigInteger, nullable=False, default=0, comment="sum of pending holds")
    chain_seq = sa.Column(sa.Integer, nullable=False, default=0, comment="entries in this fund's hash chain")
    chain_head_hash = sa.Column(sa.String(64), nullable=False, default="0" * 64)
    voucher_year = sa.Column(sa.Integer, nullable=False, default=0)
    voucher_seq = sa.Column(sa.Integer, nullable=False, default=0, comment="last voucher number used in voucher_year")
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    parent = relationship("Fund", remote_side=[id], backref="children")
    region = relationship("Region")

    @property
    def available_fen(self) -> int:
        return self.balance_posted_fen - self.pending_fen


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (sa.UniqueConstraint("fund_id", "role", name="uq_accounts_fund_role"),)
    id = sa.Column(sa.Integer, primary_key=True)
    code = sa.Column(sa.String(40), nullable=False, unique=True, comment="e.g. 1002.370827 (subject.fund)")
    name = sa.Column(sa.String(200), nullable=False)
    kind = enum_column(AccountKind, "account_kind", nullable=False)
    role = enum_column(AccountRole, "account_role", nullable=False)
    fund_id = sa.Column(sa.Integer, sa.ForeignKey("funds.id"), nullable=False, index=True)
    # Maintained totals (under the fund's row lock); always equal to the postings' sums.
    debit_total_fen = sa.Column(sa.BigInteger, nullable=False, default=0)
    credit_total_fen = sa.Column(sa.BigInteger, nullable=False, default=0)

    fund = relationship(Fund, backref="accounts")

    @property
    def balance_fen(self) -> int:
        """Signed balance, debit positive (assets and expenses are positive when normal)."""
        return self.debit_total_fen - self.credit_total_fen


class AccountDayTotal(Base):
    """Per account and value date, the sums of debits and credits: balances as of any date
    are an indexed range sum over this table, not a scan of the journal."""

    __tablename__ = "account_day_totals"
    account_id = sa.Column(sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True)
    value_on = sa.Column(sa.Date, primary_key=True)
    debit_fen = sa.Column(sa.BigInteger, nullable=False, default=0)
    credit_fen = sa.Column(sa.BigInteger, nullable=False, default=0)


class JournalEntry(Base):
    """A voucher (记账凭证). Append-only; hashed into its fund's chain."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        sa.UniqueConstraint("chain_fund_id", "chain_seq", name="uq_journal_entries_chain_position"),
        sa.Index("ix_journal_entries_chain_value_on", "chain_fund_id", "value_on"),
        sa.Index("ix_journal_entries_source", "source_kind", "source_id"),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    voucher_no = sa.Column(sa.String(40), nullable=False, unique=True, comment="JZ-2026-370827-000123")
    kind = enum_column(EntryKind, "entry_kind", nullable=False)
    value_on = sa.Column(sa.Date, nullable=False, comment="business date, Asia/Shanghai")
    posted_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    memo = sa.Column(sa.Text, nullable=False, default="")
    purpose = sa.Column(sa.String(40), comment="disbursements: medical_aid, temporary_assistance, ...")
    counterparty_kind = sa.Column(sa.String(20), comment="person, organisation, donor, fund")
    counterparty_name = sa.Column(sa.String(200))
    counterparty_id_number = sa.Column(sa.String(40), comment="resident ID or credit code; masked when shown")
    created_by_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))
    idempotency_key = sa.Column(sa.String(200))
    reverses_entry_id = sa.Column(sa.Integer, sa.ForeignKey("journal_entries.id"), unique=True,
                                  comment="unique: an entry is reversed at most once")
    reversal_reason = sa.Column(sa.Text)
    # No index on hold_id: nothing looks entries up by hold, holds are never deleted, and every
    # posting would pay for one more index insert.
    hold_id = sa.Column(sa.Integer, sa.ForeignKey("holds.id"))
    # What the entry serves, named generically so that any feature can point its money at a
    # record of its own without the engine changing: ("aid_application", 123), ("care_invoice", 7).
    # Inside the hashed content (from content version 2 on).
    source_kind = sa.Column(sa.String(40), comment="the kind of record the entry serves, e.g. aid_application")
    source_id = sa.Column(sa.BigInteger, comment="that record's id")
    # The layout of the hashed content this entry was hashed with (chain.canonical_content):
    # 1 before entries named their source, 2 since. Old entries keep verifying as they were written.
    content_version = sa.Column(sa.SmallInteger, nullable=False, default=2, server_default="1")
    # The hash chain: one chain per fund (the entry's primary fund).
    chain_fund_id = sa.Column(sa.Integer, sa.ForeignKey("funds.id"), nullable=False)
    chain_seq = sa.Column(sa.Integer, nullable=False)
    prev_hash = sa.Column(sa.String(64), nullable=False)
    # Not unique by itself: (chain_fund_id, chain_seq) is, and each hash covers its predecessor
    # (checked by verify_journal); an index here would cost every posting an insert for no lookup.
    entry_hash = sa.Column(sa.String(64), nullable=False)

    postings = relationship("Posting", back_populates="entry", order_by="Posting.id")
    chain_fund = relationship(Fund)
    created_by = relationship("User")
    reverses = relationship("JournalEntry", remote_side=[id], backref=sa.orm.backref("reversed_by", uselist=False))


class Posting(Base):
    __tablename__ = "postings"
    __table_args__ = (
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        sa.Index("ix_postings_account_entry", "account_id", "entry_id"),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    entry_id = sa.Column(sa.Integer, sa.ForeignKey("journal_entries.id"), nullable=False, index=True)
    account_id = sa.Column(sa.Integer, sa.ForeignKey("accounts.id"), nullable=False)
    side = enum_column(Side, "posting_side", nullable=False)
    amount_fen = sa.Column(sa.BigInteger, nullable=False)

    entry = relationship(JournalEntry, back_populates="postings")
    account = relationship(Account)


class Hold(Base):
    """A two-phase commitment on a fund (预留): pending, then posted (in full or part) or voided.

    A pending hold counts against the fund's available balance until it is
    resolved; past `expires_at` it is released and can no longer be posted.
    """

    __tablename__ = "holds"
    __table_args__ = (
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        sa.CheckConstraint("posted_fen >= 0 AND posted_fen <= amount_fen", name="posted_within_amount"),
        sa.Index("ix_holds_fund_state", "fund_id", "state"),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    fund_id = sa.Column(sa.Integer, sa.ForeignKey("funds.id"), nullable=False)
    amount_fen = sa.Column(sa.BigInteger, nullable=False)
    posted_fen = sa.Column(sa.BigInteger, nullable=False, default=0)
    state = enum_column(HoldState, "hold_state", nullable=False, default=HoldState.pending)
    expires_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    purpose = sa.Column(sa.String(40))
    payee_kind = sa.Column(sa.String(20))
    payee_name = sa.Column(sa.String(200))
    payee_id_number = sa.Column(sa.String(40))
    memo = sa.Column(sa.Text, nullable=False, default="")
    reference = sa.Column(sa.String(60), comment="what the hold is for, e.g. an aid application number")
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    created_by_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))
    resolved_at = sa.Column(sa.DateTime(timezone=True))

    fund = relationship(Fund)


class PeriodState(str, enum.Enum):
    open = "open"
    closed = "closed"


class Period(Base):
    """An accounting month. Entries dated in a closed month are refused.

    Its state moves only through `periods.PERIOD_MACHINE` (open -> closed -> open ...)."""

    __tablename__ = "periods"
    id = sa.Column(sa.Integer, primary_key=True)
    month = sa.Column(sa.String(7), nullable=False, unique=True, comment="YYYY-MM, local time")
    state = enum_column(PeriodState, "period_state", nullable=False, default=PeriodState.open)
    closed_at = sa.Column(sa.DateTime(timezone=True))
    closed_by_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))
    reopened_at = sa.Column(sa.DateTime(timezone=True))
    reopened_by_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))

    @property
    def closed(self) -> bool:
        return PeriodState(self.state) == PeriodState.closed
