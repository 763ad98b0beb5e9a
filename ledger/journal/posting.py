"""The posting engine: the one path by which money moves in the journal.

Every operation (receipt, allocation, disbursement, hold payment, reversal,
opening balance) builds an `EntryDraft` and calls `post_entry`, which in one
transaction:

1. validates the lines: whole positive fen, debits equal credits, at least two;
2. locks the funds it touches in a fixed order (by id) -- `SELECT ... FOR NO KEY
   UPDATE` on PostgreSQL -- together with a SHARE lock on the value date's
   period row, and refuses a closed period (see `periods`). One statement does
   both and also returns the funds' account ids, so the hot path costs one
   round trip before the writes. The fixed order means two entries over the same
   pair of funds (A->B and B->A) queue instead of deadlocking. NO KEY UPDATE
   (rather than UPDATE) still lets other transactions insert rows that merely
   reference the fund (foreign keys take KEY SHARE);
3. releases the fund's expired holds (lazily, only when it has pending holds);
4. checks that no fund's available balance (posted - pending) goes below zero
   where the entry lowers it;
5. numbers the voucher from the locked chain fund's row (per fund and value-date
   year, gap-free: the counter is only advanced under the lock and a rolled-back
   transaction rolls the counter back too) and appends the entry to that fund's
   hash chain;
6. writes the entry and postings and updates the maintained figures -- the funds'
   balance / pending, the accounts' debit and credit totals and the per-day
   totals (`AccountDayTotal`, upserted) -- with plain SQL, no ORM unit of work.

SQLite runs the same statements without row locks: every transaction there
starts with BEGIN IMMEDIATE (ledger.db_events), so writers are serialized.

Invariants kept: every entry balances; balances, totals and day totals equal
the sums of the postings; a fund's available balance never goes below zero; the
voucher numbers of a fund and year have no gaps; each chain links every entry.
The engine flushes nothing but its own statements and never commits.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from ..errors import NotFound
from ..timeutil import utcnow
from .accounts import CHART
from .chain import canonical_content, entry_hash
from .errors import InsufficientFunds, PeriodClosed, UnbalancedEntry
from .models import (Account, AccountDayTotal, AccountRole, EntryKind, Fund, Hold, HoldState, JournalEntry,
                     Period, Posting, Side)
from .periods import ensure_period, month_of

funds_table = Fund.__table__
accounts_table = Account.__table__
entries_table = JournalEntry.__table__
postings_table = Posting.__table__
day_totals_table = AccountDayTotal.__table__
holds_table = Hold.__table__


@dataclass(frozen=True)
class Line:
    """One posting to be made: `amount_fen` on `side` of the fund's account with `role`."""

    fund_code: str
    role: AccountRole
    side: Side
    amount_fen: int


@dataclass
class EntryDraft:
    kind: EntryKind
    value_on: date
    chain_fund_code: str  # the fund whose chain, voucher numbers and lock head the entry
    lines: list[Line]
    memo: str = ""
    purpose: str | None = None
    counterparty_kind: str | None = None
    counterparty_name: str | None = None
    counterparty_id_number: str | None = None
    created_by_id: int | None = None
    idempotency_key: str | None = None
    reverses_entry_id: int | None = None
    reversal_reason: str | None = None
    hold_id: int | None = None
    #: fund code -> pending fen released by this entry (a hold being paid)
    release_pending: dict[str, int] = field(default_factory=dict)


@dataclass
class LockedFund:
    id: int
    code: str
    balance_posted_fen: int
    pending_fen: int
    chain_seq: int
    chain_head_hash: str
    voucher_year: int
    voucher_seq: int
    accounts: dict[AccountRole, tuple[int, str]] = field(default_factory=dict)  # role -> (id, code)

    @property
    def available_fen(self) -> int:
        return self.balance_posted_fen - self.pending_fen


def _is_postgres(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


_LOCK_QUERIES: dict = {}


def _lock_query(with_period: bool, postgres: bool):
    """The funds' (and the period's) lock statement, built once per shape; parameters
    `codes` (expanding) and `month`."""
    key = (with_period, postgres)
    query = _LOCK_QUERIES.get(key)
    if query is not None:
        return query
    f, a = funds_table.c, accounts_table.c
    columns = [f.id, f.code, f.balance_posted_fen, f.pending_fen, f.chain_seq, f.chain_head_hash, f.voucher_year,
               f.voucher_seq, a.id.label("account_id"), a.role, a.code.label("account_code")]
    joined = funds_table.join(accounts_table, accounts_table.c.fund_id == f.id)
    where = [f.code.in_(sa.bindparam("codes", expanding=True))]
    if with_period:
        periods = Period.__table__
        columns.append(periods.c.closed)
        joined = joined.join(periods, sa.true())
        where.append(periods.c.month == sa.bindparam("month"))
    query = sa.select(*columns).select_from(joined).where(*where).order_by(f.id, a.id)
    if postgres:
        # Rows are locked in the ORDER BY order (the lock step runs after the sort).
        query = query.with_for_update(key_share=True, of=funds_table)
        if with_period:
            query = query.suffix_with("FOR SHARE OF periods")
    _LOCK_QUERIES[key] = query
    return query


def lock_funds(session, codes, *, value_on: date | None = None, now: datetime | None = None,
               release_expired: bool = True) -> dict[str, LockedFund]:
    """Lock the funds with `codes` (in id order) until the transaction ends and return their state.

    With `value_on`, also share-lock that date's period and raise PeriodClosed
    if it is closed. Expired pending holds of the locked funds are released.
    """
    codes = sorted(set(codes))
    postgres = _is_postgres(session)
    month = month_of(value_on) if value_on is not None else None
    query = _lock_query(month is not None, postgres)
    params = {"codes": codes, "month": month} if month is not None else {"codes": codes}
    rows = session.execute(query, params).all()
    if not rows and month is not None:
        ensure_period(session, month)
        rows = session.execute(query, params).all()
    locked: dict[str, LockedFund] = {}
    closed = False
    for row in rows:
        fund = locked.get(row.code)
        if fund is None:
            fund = locked[row.code] = LockedFund(row.id, row.code, row.balance_posted_fen, row.pending_fen,
                                                 row.chain_seq, row.chain_head_hash, row.voucher_year,
                                                 row.voucher_seq)
        fund.accounts[AccountRole(getattr(row.role, "value", row.role))] = (row.account_id, row.account_code)
        if month is not None and row.closed:
            closed = True
    missing = [code for code in codes if code not in locked]
    if missing:
        raise NotFound(f"no fund with code {missing[0]}")
    if closed:
        raise PeriodClosed(f"{month} is closed: no entry can be dated in it", fields={"value_on": [
            f"{month} is closed"]}, month=month)
    if release_expired:
        _release_expired_holds(session, [fund for fund in locked.values() if fund.pending_fen > 0], now or utcnow())
    return locked


def _release_expired_holds(session, funds: list[LockedFund], now: datetime) -> int:
    """Expire the pending holds past their expiry on funds already locked by the caller; returns how many."""
    if not funds:
        return 0
    by_id = {fund.id: fund for fund in funds}
    h = holds_table.c
    expired = session.execute(
        holds_table.update()
        .where(h.fund_id.in_(list(by_id)), h.state == HoldState.pending.value, h.expires_at <= now)
        .values(state=HoldState.expired.value, resolved_at=now)
        .returning(h.id, h.fund_id, h.amount_fen)
    ).all()
    if not expired:
        return 0
    released = defaultdict(int)
    for hold_id, fund_id, amount_fen in expired:
        released[fund_id] += amount_fen
        _expire_instance(session, Hold, hold_id)
    for fund_id, amount_fen in released.items():
        by_id[fund_id].pending_fen -= amount_fen
        session.execute(funds_table.update().where(funds_table.c.id == fund_id)
                        .values(pending_fen=by_id[fund_id].pending_fen))
        _expire_instance(session, Fund, fund_id)
    return len(expired)


def _expire_instance(session, model, primary_key) -> None:
    """Statements here bypass the ORM: make a loaded copy re-read its row on next access."""
    instance = session.identity_map.get(identity_key(model, primary_key))
    if instance is not None:
        session.expire(instance)


def validate_lines(lines: list[Line]) -> None:
    if len(lines) < 2:
        raise UnbalancedEntry("an entry needs at least two postings")
    debit = credit = 0
    for line in lines:
        amount = line.amount_fen
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise UnbalancedEntry(f"posting amounts must be positive whole fen, not {amount!r}",
                                  fields={"amount_fen": ["must be a positive whole number of fen"]})
        if line.role not in CHART:
            raise UnbalancedEntry(f"no such account role {line.role!r}")
        if Side(line.side) == Side.debit:
            debit += amount
        else:
            credit += amount
    if debit != credit:
        raise UnbalancedEntry(f"debits {debit} fen and credits {credit} fen differ")


def set_fund_figures(session, fund: LockedFund) -> None:
    session.execute(funds_table.update().where(funds_table.c.id == fund.id).values(
        balance_posted_fen=fund.balance_posted_fen, pending_fen=fund.pending_fen))
    _expire_instance(session, Fund, fund.id)


def post_entry(session, draft: EntryDraft, *, now: datetime | None = None,
               locked: dict[str, LockedFund] | None = None) -> JournalEntry:
    """Validate, lock, check, number, chain and write one entry; returns it (persistent, postings lazy).

    `locked`: the caller already holds these funds' locks (from `lock_funds` with
    the same value date) -- e.g. to check a hold under the lock first.
    """
    validate_lines(draft.lines)
    now = now or utcnow()
    session.flush()  # ORM changes made earlier in the transaction go first
    codes = {line.fund_code for line in draft.lines} | {draft.chain_fund_code} | set(draft.release_pending)
    if locked is None or not codes <= set(locked):
        locked = lock_funds(session, codes, value_on=draft.value_on, now=now)

    # Resolve accounts and work out each fund's and account's change.
    account_change: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # id -> [debit, credit]
    cash_change: dict[str, int] = defaultdict(int)
    resolved: list[tuple[int, str, str, int]] = []  # (account id, account code, side, amount)
    for line in draft.lines:
        fund = locked[line.fund_code]
        account = fund.accounts.get(AccountRole(line.role))
        if account is None:
            raise UnbalancedEntry(f"fund {line.fund_code} has no {AccountRole(line.role).value} account")
        side = Side(line.side).value
        resolved.append((account[0], account[1], side, line.amount_fen))
        if side == "debit":
            account_change[account[0]][0] += line.amount_fen
        else:
            account_change[account[0]][1] += line.amount_fen
        if AccountRole(line.role) == AccountRole.cash:
            cash_change[line.fund_code] += line.amount_fen if side == "debit" else -line.amount_fen

    touched = []
    for code, fund in locked.items():
        change_posted = cash_change.get(code, 0)
        change_pending = -draft.release_pending.get(code, 0)
        if change_posted == 0 and change_pending == 0:
            continue
        new_posted = fund.balance_posted_fen + change_posted
        new_pending = fund.pending_fen + change_pending
        if new_pending < 0:
            raise UnbalancedEntry(f"fund {code} would release more than it holds")
        if new_posted - new_pending < 0 and change_posted - change_pending < 0:
            raise InsufficientFunds(
                f"fund {code} has {fund.available_fen / 100:.2f} available; this needs "
                f"{-(change_posted - change_pending) / 100:.2f}",
                fields={"amount": ["more than the fund has available"]},
                fund_code=code, available_fen=fund.available_fen)
        fund.balance_posted_fen, fund.pending_fen = new_posted, new_pending
        touched.append(fund)

    # Voucher number and chain position, from the locked chain fund.
    chain = locked[draft.chain_fund_code]
    year = draft.value_on.year
    if year == chain.voucher_year:
        chain.voucher_seq += 1
        voucher_seq = chain.voucher_seq
    elif year > chain.voucher_year:
        chain.voucher_year, chain.voucher_seq = year, 1
        voucher_seq = 1
    else:  # dated in an earlier year than the fund's counter: continue that year's numbers
        prefix = f"JZ-{year:04d}-{chain.code}-"
        voucher_seq = 1 + session.scalar(sa.select(sa.func.count()).select_from(entries_table).where(
            entries_table.c.chain_fund_id == chain.id, entries_table.c.voucher_no.like(prefix + "%")))
    voucher_no = f"JZ-{year:04d}-{chain.code}-{voucher_seq:06d}"
    chain.chain_seq += 1
    prev_hash = chain.chain_head_hash
    kind = EntryKind(draft.kind).value
    values = dict(
        voucher_no=voucher_no, kind=kind, value_on=draft.value_on, posted_at=now, memo=draft.memo or "",
        purpose=draft.purpose, counterparty_kind=draft.counterparty_kind,
        counterparty_name=draft.counterparty_name, counterparty_id_number=draft.counterparty_id_number,
        created_by_id=draft.created_by_id, idempotency_key=draft.idempotency_key,
        reverses_entry_id=draft.reverses_entry_id, reversal_reason=draft.reversal_reason, hold_id=draft.hold_id,
    )
    content = canonical_content(chain_fund_code=chain.code, chain_seq=chain.chain_seq,
                                postings=[(code, side, amount) for _, code, side, amount in resolved], **values)
    digest = entry_hash(prev_hash, content)
    chain.chain_head_hash = digest
    values.update(chain_fund_id=chain.id, chain_seq=chain.chain_seq, prev_hash=prev_hash, entry_hash=digest)

    if _is_postgres(session):
        entry_id = _write_postgres(session, values, resolved, chain, touched, account_change, draft.value_on)
    else:
        entry_id = session.execute(entries_table.insert().values(**values).returning(entries_table.c.id)).scalar_one()
        session.execute(postings_table.insert(), [
            {"entry_id": entry_id, "account_id": account_id, "side": side, "amount_fen": amount}
            for account_id, _, side, amount in resolved])
        _write_maintained_figures(session, chain, touched, account_change, draft.value_on)
    for fund_id in {chain.id} | {fund.id for fund in touched}:
        _expire_instance(session, Fund, fund_id)
    for account_id in account_change:
        _expire_instance(session, Account, account_id)

    entry = JournalEntry(id=entry_id, **{**values, "kind": EntryKind(kind)})
    make_transient_to_detached(entry)
    session.add(entry)
    return entry


def _write_maintained_figures(session, chain: LockedFund, touched: list[LockedFund], account_change, value_on):
    f = funds_table.c
    rows = {fund.id: fund for fund in touched}
    rows[chain.id] = chain
    session.execute(
        funds_table.update().where(f.id == sa.bindparam("fund_id")).values(
            balance_posted_fen=sa.bindparam("posted"), pending_fen=sa.bindparam("pending"),
            chain_seq=sa.bindparam("seq"), chain_head_hash=sa.bindparam("head"),
            voucher_year=sa.bindparam("vyear"), voucher_seq=sa.bindparam("vseq")),
        [{"fund_id": fund.id, "posted": fund.balance_posted_fen, "pending": fund.pending_fen,
          "seq": fund.chain_seq, "head": fund.chain_head_hash, "vyear": fund.voucher_year,
          "vseq": fund.voucher_seq} for fund in rows.values()])
    a = accounts_table.c
    session.execute(
        accounts_table.update().where(a.id == sa.bindparam("account_id")).values(
            debit_total_fen=a.debit_total_fen + sa.bindparam("debit", type_=sa.BigInteger),
            credit_total_fen=a.credit_total_fen + sa.bindparam("credit", type_=sa.BigInteger)),
        [{"account_id": account_id, "debit": debit, "credit": credit}
         for account_id, (debit, credit) in account_change.items()])
    upsert_day_totals(session, [(account_id, value_on, debit, credit)
                                for account_id, (debit, credit) in account_change.items()])


#: PostgreSQL: the entry, its postings and every maintained figure in ONE statement (data-modifying
#: CTEs run exactly once each, all under the locks already held). Arrays keep the text constant,
#: so the server plans it once per connection; one round trip instead of five.
_POSTGRES_WRITE = sa.text("""
WITH entry AS (
    INSERT INTO journal_entries (voucher_no, kind, value_on, posted_at, memo, purpose, counterparty_kind,
        counterparty_name, counterparty_id_number, created_by_id, idempotency_key, reverses_entry_id,
        reversal_reason, hold_id, chain_fund_id, chain_seq, prev_hash, entry_hash)
    VALUES (:voucher_no, :kind, :value_on, :posted_at, :memo, :purpose, :counterparty_kind, :counterparty_name,
        :counterparty_id_number, :created_by_id, :idempotency_key, :reverses_entry_id, :reversal_reason,
        :hold_id, :chain_fund_id, :chain_seq, :prev_hash, :entry_hash)
    RETURNING id
), new_postings AS (
    INSERT INTO postings (entry_id, account_id, side, amount_fen)
    SELECT entry.id, line.account_id, line.side, line.amount_fen
    FROM entry, unnest(CAST(:posting_accounts AS integer[]), CAST(:posting_sides AS varchar[]),
                       CAST(:posting_amounts AS bigint[])) WITH ORDINALITY AS line(account_id, side, amount_fen, n)
    ORDER BY line.n
), fund_figures AS (
    UPDATE funds SET balance_posted_fen = figure.posted, pending_fen = figure.pending,
        chain_seq = figure.seq, chain_head_hash = figure.head, voucher_year = figure.vyear,
        voucher_seq = figure.vseq
    FROM unnest(CAST(:fund_ids AS integer[]), CAST(:fund_posted AS bigint[]), CAST(:fund_pending AS bigint[]),
                CAST(:fund_seq AS integer[]), CAST(:fund_head AS varchar[]), CAST(:fund_vyear AS integer[]),
                CAST(:fund_vseq AS integer[])) AS figure(id, posted, pending, seq, head, vyear, vseq)
    WHERE funds.id = figure.id
), account_figures AS (
    UPDATE accounts SET debit_total_fen = debit_total_fen + change.debit,
        credit_total_fen = credit_total_fen + change.credit
    FROM unnest(CAST(:account_ids AS integer[]), CAST(:account_debits AS bigint[]),
                CAST(:account_credits AS bigint[])) AS change(id, debit, credit)
    WHERE accounts.id = change.id
), day_figures AS (
    INSERT INTO account_day_totals (account_id, value_on, debit_fen, credit_fen)
    SELECT change.id, :value_on, change.debit, change.credit
    FROM unnest(CAST(:account_ids AS integer[]), CAST(:account_debits AS bigint[]),
                CAST(:account_credits AS bigint[])) AS change(id, debit, credit)
    ON CONFLICT (account_id, value_on) DO UPDATE SET
        debit_fen = account_day_totals.debit_fen + excluded.debit_fen,
        credit_fen = account_day_totals.credit_fen + excluded.credit_fen
)
SELECT id FROM entry
""")


def _write_postgres(session, values, resolved, chain, touched, account_change, value_on) -> int:
    funds = {fund.id: fund for fund in touched}
    funds[chain.id] = chain
    funds = list(funds.values())
    accounts = list(account_change.items())
    params = dict(values)
    params.update(
        posting_accounts=[account_id for account_id, _, _, _ in resolved],
        posting_sides=[side for _, _, side, _ in resolved],
        posting_amounts=[amount for _, _, _, amount in resolved],
        fund_ids=[fund.id for fund in funds], fund_posted=[fund.balance_posted_fen for fund in funds],
        fund_pending=[fund.pending_fen for fund in funds], fund_seq=[fund.chain_seq for fund in funds],
        fund_head=[fund.chain_head_hash for fund in funds], fund_vyear=[fund.voucher_year for fund in funds],
        fund_vseq=[fund.voucher_seq for fund in funds],
        account_ids=[account_id for account_id, _ in accounts],
        account_debits=[debit for _, (debit, _) in accounts],
        account_credits=[credit for _, (_, credit) in accounts])
    params["value_on"] = value_on
    return session.execute(_POSTGRES_WRITE, params).scalar_one()


def upsert_day_totals(session, rows) -> None:
    """Add (account id, value date, debit, credit) to the per-day totals, creating missing days."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(day_totals_table)
    statement = statement.on_conflict_do_update(
        index_elements=["account_id", "value_on"],
        set_={"debit_fen": day_totals_table.c.debit_fen + statement.excluded.debit_fen,
              "credit_fen": day_totals_table.c.credit_fen + statement.excluded.credit_fen})
    session.execute(statement, [{"account_id": account_id, "value_on": value_on, "debit_fen": debit,
                                 "credit_fen": credit} for account_id, value_on, debit, credit in rows])
