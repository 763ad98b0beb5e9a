"""What the reports say: the data of a fund statement, a journal register and an
integrity certificate, read straight from the journal tables.

The figures are computed from the postings (the primary record), not from the
maintained balances, so a report is an independent look at the books: the
statement's closing balance comes from the cash account while its movements come
from the fund's other accounts, and the two must tie (a fund is a self-balancing
set of accounts). Tests compare both with the ledger's own balances.

Invariants this module keeps:
* Everything is a function of (scope, period, the journal up to the period's end):
  rows are ordered by (value date, entry id), so a report over a closed period
  reads the same data every time.
* The chain heads that cover a period are, per hash chain, the entry with the
  highest `chain_seq` among entries dated on or before the period's end. That
  entry's hash commits to every entry of the chain dated in or before the period,
  and it cannot move once the period is closed.
* A reversal dated after the period does not mark the original inside the period
  (the register of a closed month must not change when a later month corrects it).
* Identity numbers leave this module masked.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Callable, Iterator, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..auth.models import User
from ..errors import BadRequest, NotFound, _l
from ..funds.vocabulary import ENTRY_KIND_NAMES, Purpose
from ..identity import shown_counterparty_id
from ..journal.models import (
    Account,
    AccountRole,
    EntryKind,
    Fund,
    Hold,
    JournalEntry,
    Period,
    PeriodState as PeriodLifeState,
    Posting,
    Side,
)
from ..text import export_text, text_problem
from ..timeutil import LOCAL_TZ, as_utc, date_year_problem, parse_iso_date, utcnow

#: Bumped whenever the layout or content of a report changes: it is part of the report id.
REPORT_FORMAT_VERSION = 2

ROLE_LABELS = {
    AccountRole.cash: "银行存款",
    AccountRole.donation_income: "捐赠收入",
    AccountRole.grant_income: "政府补助收入",
    AccountRole.transfer_in: "划拨收入",
    AccountRole.transfer_out: "划拨支出",
    AccountRole.aid_expense: "救助支出",
    AccountRole.opening_net_assets: "期初净资产",
}

KIND_LABELS = {kind: names[0] for kind, names in ENTRY_KIND_NAMES.items()}  # reports are in Chinese

PURPOSE_LABELS = Purpose.chinese_names()  # reports are in Chinese: the ledger's own purpose names
UNSPECIFIED_PURPOSE = "unspecified"

LEVEL_LABELS = {"city": "市级", "county": "县级", "village": "村（社区）级"}

#: The bureau that issues every report.
ISSUER = "济宁市民政局"

MAX_PERIOD_DAYS = 3 * 366 + 1


# --------------------------------------------------------------------------- parameters

@dataclass(frozen=True)
class ReportParams:
    fund_code: str
    date_from: date
    date_to: date

    def as_dict(self) -> dict:
        return {"fund": self.fund_code, "from": self.date_from.isoformat(), "to": self.date_to.isoformat()}


def _parse_date(value: str | None, name: str, errors: dict) -> date | None:
    if not value:
        errors[name] = [_l("Required: a date as YYYY-MM-DD.")]
        return None
    try:
        parsed = parse_iso_date(value)
    except ValueError:
        errors[name] = [_l("Not a date as YYYY-MM-DD: %(value)r.", value=export_text(value[:40]))]
        return None
    problem = date_year_problem(parsed)
    if problem is not None:
        errors[name] = [problem]
        return None
    return parsed


class _Joined(str):
    """`name: problem; name: problem`, each problem rendered in the reader's language when shown."""

    def __new__(cls, items):
        self = super().__new__(cls, "; ".join(f"{name}: {' '.join(map(str.__str__, problems))}"
                                              for name, problems in items))
        self.items = items
        return self

    def __str__(self) -> str:
        return "; ".join(f"{name}: {' '.join(str(problem) for problem in problems)}" for name, problems in self.items)


def parse_params(args: Mapping[str, str]) -> ReportParams:
    """`fund`, `from`, `to` from a query string or form; BadRequest (400) naming each bad field."""
    errors: dict[str, list[str]] = {}
    fund_code = (args.get("fund") or "").strip()
    if not fund_code:
        errors["fund"] = [_l("Required: a fund code such as 370827.")]
    elif len(fund_code) > 20 or text_problem(fund_code) is not None:
        errors["fund"] = [_l("Not a fund code.")]
    date_from = _parse_date((args.get("from") or "").strip(), "from", errors)
    date_to = _parse_date((args.get("to") or "").strip(), "to", errors)
    if date_from and date_to:
        if date_from > date_to:
            errors["from"] = [_l("The period starts (%(start)s) after it ends (%(end)s).", start=date_from.isoformat(),
                                 end=date_to.isoformat())]
        elif (date_to - date_from).days > MAX_PERIOD_DAYS:
            errors["to"] = [_l("A report covers at most three years.")]
    if errors:
        raise BadRequest(_l("The report parameters are invalid: %(problems)s", problems=_Joined(
            [(name, messages) for name, messages in errors.items()])), fields=errors)
    return ReportParams(fund_code, date_from, date_to)


# --------------------------------------------------------------------------- scope

@dataclass(frozen=True)
class FundInfo:
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    depth: int


@dataclass(frozen=True)
class AccountInfo:
    id: int
    code: str
    role: AccountRole
    fund_id: int


@dataclass
class Scope:
    """A fund and everything below it, in tree order (parent first, children by code)."""

    root: FundInfo
    funds: list[FundInfo]
    accounts: dict[int, AccountInfo]  # every account of every fund (for posting labels)
    all_funds: dict[int, FundInfo]

    @property
    def fund_ids(self) -> list[int]:
        return [f.id for f in self.funds]

    @property
    def account_ids(self) -> list[int]:
        ids = set(self.fund_ids)
        return sorted(a.id for a in self.accounts.values() if a.fund_id in ids)

    def cash_account_ids(self) -> set[int]:
        ids = set(self.fund_ids)
        return {a.id for a in self.accounts.values() if a.fund_id in ids and a.role == AccountRole.cash}


def load_scope(session, fund_code: str) -> Scope:
    """The fund `fund_code` and its descendants. The caller has checked that the user may see it."""
    rows = session.execute(sa.select(Fund.id, Fund.code, Fund.name, Fund.level, Fund.parent_id)).all()
    children: dict[int | None, list] = defaultdict(list)
    by_id = {}
    for row in rows:
        children[row.parent_id].append(row)
        by_id[row.id] = row
    root_row = next((r for r in rows if r.code == fund_code), None)
    if root_row is None:
        raise NotFound(_l("Unknown fund %(code)r.", code=export_text(fund_code)),
                       fields={"fund": [_l("No fund has the code %(code)r.", code=export_text(fund_code))]})

    def level_of(row) -> str:
        return getattr(row.level, "value", row.level)

    funds: list[FundInfo] = []
    stack = [(root_row, 0)]
    while stack:
        row, depth = stack.pop()
        funds.append(FundInfo(row.id, row.code, row.name, level_of(row), row.parent_id, depth))
        for child in sorted(children[row.id], key=lambda r: r.code, reverse=True):
            stack.append((child, depth + 1))
    all_funds = {r.id: FundInfo(r.id, r.code, r.name, level_of(r), r.parent_id, 0) for r in rows}
    accounts = {
        a.id: AccountInfo(a.id, a.code, AccountRole(getattr(a.role, "value", a.role)), a.fund_id)
        for a in session.execute(sa.select(Account.id, Account.code, Account.role, Account.fund_id))
    }
    return Scope(funds[0], funds, accounts, all_funds)


def _in_scope_entry_ids(scope: Scope):
    """Subquery: ids of entries with a posting on any account of the scope's funds."""
    return (sa.select(Posting.entry_id)
            .join(Account, Account.id == Posting.account_id)
            .where(Account.fund_id.in_(scope.fund_ids)))


# --------------------------------------------------------------------------- period state

@dataclass(frozen=True)
class PeriodState:
    closed: bool
    closed_at: datetime | None  # UTC; the latest close among the months covered
    months: tuple[str, ...]


def months_between(date_from: date, date_to: date) -> list[str]:
    months = []
    year, month = date_from.year, date_from.month
    while (year, month) <= (date_to.year, date_to.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def period_state(session, params: ReportParams) -> PeriodState:
    months = months_between(params.date_from, params.date_to)
    rows = {r.month: r for r in session.execute(
        sa.select(Period.month, Period.state, Period.closed_at).where(Period.month.in_(months)))}
    closed = all(m in rows and rows[m].state == PeriodLifeState.closed and rows[m].closed_at for m in months)
    closed_at = max(as_utc(rows[m].closed_at) for m in months) if closed else None
    return PeriodState(closed, closed_at, tuple(months))


def day_end_utc(day: date) -> datetime:
    """The first instant after `day` ends in Asia/Shanghai, in UTC."""
    return as_utc(datetime.combine(day + timedelta(days=1), time(0), tzinfo=LOCAL_TZ))


# --------------------------------------------------------------------------- fund statement

@dataclass
class StatementLine:
    """One fund's (or a subtotal's) movements over the period, in fen."""

    code: str
    name: str
    level: str
    depth: int
    opening_fen: int = 0
    donation_fen: int = 0
    grant_fen: int = 0
    opening_assets_fen: int = 0  # 期初净资产 brought in during the period (opening entries)
    transfer_in_fen: int = 0
    transfer_out_fen: int = 0
    aid_fen: int = 0
    closing_fen: int = 0  # from the cash account
    holds_fen: int = 0
    by_purpose: dict[str, int] = field(default_factory=dict)
    is_subtotal: bool = False

    @property
    def receipts_fen(self) -> int:
        return self.donation_fen + self.grant_fen + self.opening_assets_fen

    @property
    def computed_closing_fen(self) -> int:
        return (self.opening_fen + self.receipts_fen + self.transfer_in_fen
                - self.transfer_out_fen - self.aid_fen)

    @property
    def ties(self) -> bool:
        return self.computed_closing_fen == self.closing_fen

    @property
    def available_fen(self) -> int:
        return self.closing_fen - self.holds_fen

    def add(self, other: "StatementLine") -> None:
        for name in ("opening_fen", "donation_fen", "grant_fen", "opening_assets_fen", "transfer_in_fen",
                     "transfer_out_fen", "aid_fen", "closing_fen", "holds_fen"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for purpose, amount in other.by_purpose.items():
            self.by_purpose[purpose] = self.by_purpose.get(purpose, 0) + amount


@dataclass
class PurposeLine:
    purpose: str
    label: str
    amount_fen: int
    entries: int


@dataclass
class FundStatement:
    lines: list[StatementLine]  # per fund, with subtotal lines after each child fund's subtree
    fund_lines: list[StatementLine]  # per fund only
    total: StatementLine
    purposes: list[PurposeLine]
    entry_count: int


def _signed(side, amount) -> int:
    return amount if getattr(side, "value", side) == Side.debit.value else -amount


def fund_statement(session, scope: Scope, params: ReportParams) -> FundStatement:
    fund_ids = scope.fund_ids
    lines = {f.id: StatementLine(f.code, f.name, f.level, f.depth) for f in scope.funds}
    purpose_totals: dict[str, int] = defaultdict(int)
    purpose_entries: dict[str, set] = defaultdict(set)

    # Opening balances: the cash accounts' postings dated before the period.
    opening = session.execute(
        sa.select(Account.fund_id, Posting.side, sa.func.sum(Posting.amount_fen))
        .join(Posting, Posting.account_id == Account.id)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Account.role == AccountRole.cash, Account.fund_id.in_(fund_ids),
               JournalEntry.value_on < params.date_from)
        .group_by(Account.fund_id, Posting.side))
    for fund_id, side, amount in opening:
        lines[fund_id].opening_fen += _signed(side, int(amount))
        lines[fund_id].closing_fen += _signed(side, int(amount))

    # Movements in the period, per account (and per purpose for the aid accounts).
    original = aliased(JournalEntry)
    purpose = sa.func.coalesce(JournalEntry.purpose, original.purpose)
    movements = session.execute(
        sa.select(Account.fund_id, Account.role, Posting.side, purpose,
                  sa.func.sum(Posting.amount_fen), sa.func.count(sa.distinct(JournalEntry.id)))
        .join(Posting, Posting.account_id == Account.id)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .outerjoin(original, original.id == JournalEntry.reverses_entry_id)
        .where(Account.fund_id.in_(fund_ids),
               JournalEntry.value_on >= params.date_from, JournalEntry.value_on <= params.date_to)
        .group_by(Account.fund_id, Account.role, Posting.side, purpose))
    for fund_id, role, side, purpose_code, amount, _count in movements:
        role = AccountRole(getattr(role, "value", role))
        net_debit = _signed(side, int(amount))
        line = lines[fund_id]
        if role == AccountRole.cash:
            line.closing_fen += net_debit
        elif role == AccountRole.donation_income:
            line.donation_fen -= net_debit
        elif role == AccountRole.grant_income:
            line.grant_fen -= net_debit
        elif role == AccountRole.opening_net_assets:
            line.opening_assets_fen -= net_debit
        elif role == AccountRole.transfer_in:
            line.transfer_in_fen -= net_debit
        elif role == AccountRole.transfer_out:
            line.transfer_out_fen += net_debit
        elif role == AccountRole.aid_expense:
            line.aid_fen += net_debit
            key = purpose_code or UNSPECIFIED_PURPOSE
            line.by_purpose[key] = line.by_purpose.get(key, 0) + net_debit

    # Which entries paid aid, per purpose (an entry counts once).
    aid_entries = session.execute(
        sa.select(purpose, JournalEntry.id)
        .select_from(Posting)
        .join(Account, Account.id == Posting.account_id)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .outerjoin(original, original.id == JournalEntry.reverses_entry_id)
        .where(Account.fund_id.in_(fund_ids), Account.role == AccountRole.aid_expense,
               JournalEntry.value_on >= params.date_from, JournalEntry.value_on <= params.date_to)
        .distinct())
    for purpose_code, entry_id in aid_entries:
        purpose_entries[purpose_code or UNSPECIFIED_PURPOSE].add(entry_id)

    # Holds outstanding at the end of the period: placed before it ended, not resolved or
    # expired by then (reconstructed from timestamps, so a past period reads the same later).
    cutoff = day_end_utc(params.date_to)
    holds = session.execute(
        sa.select(Hold.fund_id, sa.func.sum(Hold.amount_fen))
        .where(Hold.fund_id.in_(fund_ids), Hold.created_at < cutoff, Hold.expires_at > cutoff,
               sa.or_(Hold.resolved_at.is_(None), Hold.resolved_at >= cutoff))
        .group_by(Hold.fund_id))
    for fund_id, amount in holds:
        lines[fund_id].holds_fen += int(amount)

    entry_count = session.scalar(
        sa.select(sa.func.count()).select_from(JournalEntry)
        .where(JournalEntry.value_on >= params.date_from, JournalEntry.value_on <= params.date_to,
               JournalEntry.id.in_(_in_scope_entry_ids(scope)))) or 0

    # Subtotals: for each child of the root, its subtree (shown only when it has children).
    ordered: list[StatementLine] = []
    fund_lines = [lines[f.id] for f in scope.funds]
    total = StatementLine(scope.root.code, scope.root.name, scope.root.level, 0, is_subtotal=True)
    for line in fund_lines:
        total.add(line)
    index = 0
    funds = scope.funds
    while index < len(funds):
        fund = funds[index]
        ordered.append(lines[fund.id])
        if fund.depth == 1:
            end = index + 1
            while end < len(funds) and funds[end].depth > 1:
                end += 1
            if end - index > 1:
                subtotal = StatementLine(fund.code, fund.name, fund.level, 1, is_subtotal=True)
                for inner in funds[index:end]:
                    subtotal.add(lines[inner.id])
                ordered.extend(lines[f.id] for f in funds[index + 1:end])
                ordered.append(subtotal)
                index = end
                continue
        index += 1
    for purpose_code, amount in total.by_purpose.items():
        purpose_totals[purpose_code] += amount
    order = list(PURPOSE_LABELS) + [UNSPECIFIED_PURPOSE]
    purposes = [
        PurposeLine(code, PURPOSE_LABELS.get(code, "未注明用途" if code == UNSPECIFIED_PURPOSE else code),
                    purpose_totals[code], len(purpose_entries.get(code, ())))
        for code in sorted(purpose_totals, key=lambda c: (order.index(c) if c in order else len(order), c))
    ]
    return FundStatement(ordered, fund_lines, total, purposes, int(entry_count))


# --------------------------------------------------------------------------- journal register

@dataclass(frozen=True)
class RegisterRow:
    voucher_no: str
    value_on: date
    kind: str  # Chinese label
    memo: str
    accounts: tuple[str, ...]  # one "借 1002.370827 银行存款 ¥..." line per posting
    counterparty: str  # name and masked identity number
    counterparty_name: str
    counterparty_id_masked: str
    debit_fen: int  # into the scope's cash
    credit_fen: int  # out of the scope's cash
    balance_fen: int  # the scope's cash after this entry
    mark: str  # reversal marks
    is_reversal: bool
    is_reversed: bool
    preparer: str = ""  # 制单人: the display name of the user who recorded the voucher, 系统 for a command


def register_count(session, scope: Scope, params: ReportParams) -> int:
    return int(session.scalar(
        sa.select(sa.func.count()).select_from(JournalEntry)
        .where(JournalEntry.value_on >= params.date_from, JournalEntry.value_on <= params.date_to,
               JournalEntry.id.in_(_in_scope_entry_ids(scope)))) or 0)


def opening_cash(session, scope: Scope, params: ReportParams) -> int:
    rows = session.execute(
        sa.select(Posting.side, sa.func.sum(Posting.amount_fen))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.account_id.in_(sorted(scope.cash_account_ids())),
               JournalEntry.value_on < params.date_from)
        .group_by(Posting.side))
    return sum(_signed(side, int(amount)) for side, amount in rows)


def register_rows(session, scope: Scope, params: ReportParams, *, batch: int = 2000) -> Iterator[RegisterRow]:
    """The entries touching the scope in the period, oldest first, with a running cash balance.

    Streams (constant memory): the postings come from one ordered query read in batches.
    """
    cash_ids = scope.cash_account_ids()
    balance = opening_cash(session, scope, params)
    original = aliased(JournalEntry)
    reversal = aliased(JournalEntry)
    # Reversals dated within the report's horizon mark their originals.
    reversed_by = dict(session.execute(
        sa.select(reversal.reverses_entry_id, reversal.voucher_no)
        .where(reversal.reverses_entry_id.is_not(None), reversal.value_on <= params.date_to,
               reversal.reverses_entry_id.in_(
                   sa.select(JournalEntry.id).where(JournalEntry.value_on >= params.date_from,
                                                    JournalEntry.value_on <= params.date_to)))).all())
    query = (
        sa.select(JournalEntry.id, JournalEntry.voucher_no, JournalEntry.value_on, JournalEntry.kind,
                  JournalEntry.memo, JournalEntry.counterparty_kind, JournalEntry.counterparty_name,
                  JournalEntry.counterparty_id_number,
                  original.voucher_no.label("reverses_voucher"), Posting.account_id, Posting.side,
                  Posting.amount_fen, User.display_name.label("preparer_name"),
                  User.username.label("preparer_username"))
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .outerjoin(original, original.id == JournalEntry.reverses_entry_id)
        .outerjoin(User, User.id == JournalEntry.created_by_id)
        .where(JournalEntry.value_on >= params.date_from, JournalEntry.value_on <= params.date_to,
               JournalEntry.id.in_(_in_scope_entry_ids(scope)))
        .order_by(JournalEntry.value_on, JournalEntry.id, Posting.id)
        .execution_options(stream_results=True, yield_per=batch))
    current = None
    postings: list = []
    for row in session.execute(query):
        if current is not None and row.id != current.id:
            balance, out = _register_row(current, postings, balance, cash_ids, scope, reversed_by)
            yield out
            postings = []
        current = row
        postings.append(row)
    if current is not None:
        _balance, out = _register_row(current, postings, balance, cash_ids, scope, reversed_by)
        yield out


def _register_row(entry, postings, balance, cash_ids, scope, reversed_by) -> tuple[int, RegisterRow]:
    debit = credit = 0
    lines = []
    for posting in postings:
        side = getattr(posting.side, "value", posting.side)
        amount = int(posting.amount_fen)
        account = scope.accounts[posting.account_id]
        if posting.account_id in cash_ids:
            if side == Side.debit.value:
                debit += amount
            else:
                credit += amount
        lines.append(f"{'借' if side == Side.debit.value else '贷'} {account.code} {ROLE_LABELS[account.role]}")
    balance += debit - credit
    kind = EntryKind(getattr(entry.kind, "value", entry.kind))
    marks = []
    if entry.reverses_voucher:
        marks.append(f"冲销 {entry.reverses_voucher}")
    if entry.id in reversed_by:
        marks.append(f"已被 {reversed_by[entry.id]} 冲销")
    # Funds are named by their public code; people's and organisations' numbers are masked.
    masked = shown_counterparty_id(entry.counterparty_kind, entry.counterparty_id_number)
    counterparty = " ".join(x for x in (entry.counterparty_name or "", masked) if x)
    return balance, RegisterRow(
        voucher_no=entry.voucher_no, value_on=entry.value_on, kind=KIND_LABELS.get(kind, kind.value),
        memo=entry.memo or "", accounts=tuple(lines), counterparty=counterparty,
        counterparty_name=entry.counterparty_name or "", counterparty_id_masked=masked, debit_fen=debit,
        credit_fen=credit, balance_fen=balance, mark="；".join(marks),
        is_reversal=bool(entry.reverses_voucher), is_reversed=entry.id in reversed_by,
        preparer=entry.preparer_name or entry.preparer_username or "系统")


# --------------------------------------------------------------------------- integrity

@dataclass(frozen=True)
class ChainHead:
    fund_code: str
    fund_name: str
    seq: int
    entry_hash: str
    entries_in_period: int


@dataclass
class Integrity:
    """What the certificate states. Everything except `verify_*` is a function of the data."""

    entry_count: int
    entries_by_kind: dict[str, int]
    posting_count: int
    heads: list[ChainHead]
    heads_digest: str
    verify_ok: bool
    verify_problem: str | None
    period: PeriodState

    @property
    def short_digest(self) -> str:
        return self.heads_digest[:16]


def heads_digest(heads: Mapping[str, str]) -> str:
    """One digest over the chain heads: SHA-256 of "<fund code>:<head hash>\\n" in fund-code order
    (the same construction as `flask journal verify`, so the two can be compared)."""
    digest = hashlib.sha256()
    for code in sorted(heads):
        digest.update(f"{code}:{heads[code]}\n".encode("ascii"))
    return digest.hexdigest()


def integrity(session, scope: Scope, params: ReportParams, verify: Callable[[], object]) -> Integrity:
    in_scope = _in_scope_entry_ids(scope)
    chain_ids = [row[0] for row in session.execute(
        sa.select(JournalEntry.chain_fund_id).where(JournalEntry.value_on <= params.date_to,
                                                    JournalEntry.id.in_(in_scope)).distinct())]
    head_rows = []
    if chain_ids:
        latest = (sa.select(JournalEntry.chain_fund_id, sa.func.max(JournalEntry.chain_seq).label("seq"))
                  .where(JournalEntry.chain_fund_id.in_(chain_ids), JournalEntry.value_on <= params.date_to)
                  .group_by(JournalEntry.chain_fund_id).subquery())
        head_rows = session.execute(
            sa.select(JournalEntry.chain_fund_id, JournalEntry.chain_seq, JournalEntry.entry_hash)
            .join(latest, sa.and_(latest.c.chain_fund_id == JournalEntry.chain_fund_id,
                                  latest.c.seq == JournalEntry.chain_seq))).all()
    in_period = sa.and_(JournalEntry.value_on >= params.date_from, JournalEntry.value_on <= params.date_to,
                        JournalEntry.id.in_(in_scope))
    per_chain = dict(session.execute(
        sa.select(JournalEntry.chain_fund_id, sa.func.count()).where(in_period)
        .group_by(JournalEntry.chain_fund_id)).all())
    by_kind_rows = session.execute(
        sa.select(JournalEntry.kind, sa.func.count()).where(in_period).group_by(JournalEntry.kind)).all()
    entries_by_kind = {KIND_LABELS[EntryKind(getattr(k, "value", k))]: int(n) for k, n in by_kind_rows}
    posting_count = session.scalar(
        sa.select(sa.func.count()).select_from(Posting).join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(in_period)) or 0
    heads = sorted(
        (ChainHead(scope.all_funds[fund_id].code, scope.all_funds[fund_id].name, int(seq), entry_hash,
                   int(per_chain.get(fund_id, 0)))
         for fund_id, seq, entry_hash in head_rows),
        key=lambda h: h.fund_code)
    result = verify()
    return Integrity(
        entry_count=sum(entries_by_kind.values()), entries_by_kind=dict(sorted(entries_by_kind.items())),
        posting_count=int(posting_count), heads=heads,
        heads_digest=heads_digest({h.fund_code: h.entry_hash for h in heads}),
        verify_ok=bool(getattr(result, "ok", False)), verify_problem=getattr(result, "problem", None),
        period=period_state(session, params))


# --------------------------------------------------------------------------- identity of a report

@dataclass(frozen=True)
class ReportIdentity:
    report_id: str
    generated_at: datetime  # Asia/Shanghai
    generated_at_rule: str  # says where the time comes from
    reproducible: bool


def report_identity(kind: str, fmt: str, params: ReportParams, integrity_: Integrity,
                    now: datetime | None = None) -> ReportIdentity:
    """The report id and its generated-at time.

    Closed period: generated-at is the moment the period's last month was closed (the
    moment its figures became final), and the id is a digest of the parameters and the
    chain heads, so every render is the same document with the same id and bytes.
    Open period: generated-at is now, and it enters the id (the figures may still move).
    """
    state = integrity_.period
    if state.closed:
        generated = state.closed_at.astimezone(LOCAL_TZ)
        rule = "closed"
    else:
        generated = (now or utcnow()).astimezone(LOCAL_TZ).replace(microsecond=0)
        rule = "open"
    material = {"v": REPORT_FORMAT_VERSION, "kind": kind, "format": fmt, "parameters": params.as_dict(),
                "heads_digest": integrity_.heads_digest, "generated_at": generated.isoformat()}
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
    prefix = {"fund_statement": "FS", "journal_register": "JR", "integrity_certificate": "IC"}[kind]
    return ReportIdentity(f"{prefix}-{digest[:16].upper()}", generated, rule, state.closed)
