"""The posting engine: the one path by which money moves in the journal.

Every operation (receipt, allocation, disbursement, hold payment, reversal,
opening balance) builds an `EntryDraft` and calls `post_entry`, which in one
transaction:

1. validates the lines: whole positive fen, debits equal credits, at least two;
2. locks the funds it touches in a fixed order (by id) -- `SELECT ... FOR NO KEY
   UPDATE` on PostgreSQL -- after taking the value date's month lock (shared,
   see `periods`), and refuses a closed period. The fixed order means
   two entries over the same pair of funds (A->B and B->A) queue instead of
   deadlocking. NO KEY UPDATE (rather than UPDATE) still lets other transactions
   insert rows that merely reference the fund (foreign keys take KEY SHARE);
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

Two implementations of steps 2-6, one behaviour:

* PostgreSQL: the database function `journal_post_entry` (migrations 0004, 0005) runs
  them in ONE call. Python works out beforehand what needs no lock -- each fund's
  and account's change and the entry's own part of the hashed content
  (`chain.entry_fields_json`, the code `verify_journal` runs) -- and the server
  adds what only the locked rows know (chain position, voucher number, account
  codes) and hashes with its sha256(). So a posting costs one round trip, and a
  fund's lock is held for one statement and the commit. A `PostingGuard` (the
  services' scope check) is evaluated in that same statement. Refusals come back
  as a status and are raised here as the same errors with the same messages.
* SQLite: the statements below, from Python, without row locks: every
  transaction there starts with BEGIN IMMEDIATE (ledger.db_events), so writers
  are serialized.

Invariants kept: every entry balances; balances, totals and day totals equal
the sums of the postings; a fund's available balance never goes below zero; the
voucher numbers of a fund and year have no gaps; each chain links every entry.
The engine flushes nothing but its own statements and never commits.
"""
from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from ..errors import NotFound
from ..money import fen_to_decimal_string
from ..timeutil import as_utc, utcnow
from .accounts import CHART
from .chain import canonical_content, entry_fields_json, entry_hash
from .errors import InsufficientFunds, PeriodClosed, UnbalancedEntry
from .models import (Account, AccountDayTotal, AccountRole, EntryKind, Fund, Hold, HoldState, JournalEntry,
                     Period, Posting, Side)
from .periods import ensure_period, lock_month, month_of

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
    _LOCK_QUERIES[key] = query
    return query


def lock_funds(session, codes, *, value_on: date | None = None, now: datetime | None = None,
               release_expired: bool = True) -> dict[str, LockedFund]:
    """Lock the funds with `codes` (in id order) until the transaction ends and return their state.

    With `value_on`, first take that date's month lock (shared, `periods.lock_month`) and raise PeriodClosed
    if it is closed. Expired pending holds of the locked funds are released.
    """
    codes = sorted(set(codes))
    postgres = _is_postgres(session)
    month = month_of(value_on) if value_on is not None else None
    query = _lock_query(month is not None, postgres)
    params = {"codes": codes, "month": month} if month is not None else {"codes": codes}
    if month is not None:
        lock_month(session, month)  # before the statement that reads the month: its snapshot comes after
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
               locked: dict[str, LockedFund] | None = None, guard: PostingGuard | None = None) -> JournalEntry:
    """Validate, lock, check, number, chain and write one entry; returns it (persistent, postings lazy).

    `locked`: the caller already holds these funds' locks (from `lock_funds` with
    the same value date) -- e.g. to check a hold under the lock first.
    `guard`: PostgreSQL only, a condition checked in the posting's own statement
    (see `PostingGuard`); elsewhere check it before calling.
    """
    validate_lines(draft.lines)
    now = now or utcnow()
    session.flush()  # ORM changes made earlier in the transaction go first
    codes = {line.fund_code for line in draft.lines} | {draft.chain_fund_code} | set(draft.release_pending)
    caller_locked = locked is not None and codes <= set(locked)
    if _is_postgres(session):
        # The caller's locks (if any) are taken again, which costs nothing; expired holds are
        # released only where the caller did not lock (as below).
        return _post_entry_postgres(session, draft, sorted(codes), now, release_expired=not caller_locked,
                                    guard=guard)
    if guard is not None:
        raise ValueError("a PostingGuard is checked on PostgreSQL only; check the condition first elsewhere")
    if not caller_locked:
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
                f"fund {code} has {fen_to_decimal_string(fund.available_fen)} available; this needs "
                f"{fen_to_decimal_string(-(change_posted - change_pending))}",
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


# --- PostgreSQL: the whole posting in one call -------------------------------------------------------

#: `journal_post_entry` (migration 0005) does on the server what the SQLite path above does from
#: Python -- lock, period check, expired holds, available check, voucher number, hash, writes -- in
#: one round trip, so a fund's lock is held for one statement and the commit. What needs no lock is
#: worked out here first: each fund's and account's change, and the entry's own part of the hashed
#: content (`chain.entry_fields_json`, the very code `verify_journal` runs). The call goes straight
#: to the driver as a prepared statement: it runs on every money movement, and the SQL-expression
#: layer's work per call would cost more than the server's.
_POSTGRES_POST = (
    "SELECT status, entry_id, voucher_no, chain_fund_id, chain_seq, prev_hash, entry_hash, fund_ids, "
    "account_ids, expired_hold_ids, problem_fund, problem_detail, available_fen, needed_fen "
    "FROM journal_post_entry({allowed}, %s::text, %s::text::text[], %s::text, %s::date, %s::timestamptz, %s::boolean, "
    "%s::text::bigint[], %s::text::bigint[], %s::text::text[], %s::text::text[], %s::text::bigint[], "
    "%s::text::bigint[], %s::text::integer[], %s::text::text[], %s::text::bigint[], %s::text, "
    "%s::text, %s::text, %s::text, %s::text, %s::text, %s::text, %s::integer, %s::text, %s::integer, %s::text, "
    "%s::integer)"
)


@dataclass(frozen=True)
class PostingGuard:
    """A condition the posting must meet, checked on PostgreSQL inside the posting's own statement
    (no extra round trip) before anything is locked or written: `sql` is a boolean SQL expression
    with driver placeholders (%s) for `params`; when it is not true, `refusal` is raised and nothing
    happens. It is a constant text, so each guard's statement is prepared once per connection."""

    sql: str
    params: tuple
    refusal: Exception


_POSTGRES_POST_STATEMENTS: dict[str | None, str] = {}


def _post_statement(guard: PostingGuard | None) -> str:
    key = guard.sql if guard is not None else None
    statement = _POSTGRES_POST_STATEMENTS.get(key)
    if statement is None:
        statement = _POSTGRES_POST_STATEMENTS[key] = _POSTGRES_POST.replace(
            "{allowed}", "true" if guard is None else f"({guard.sql})", 1)
    return statement


def _enum_text(value) -> str:
    return value.value if isinstance(value, enum.Enum) else value


def pg_text_array(values) -> str:
    """A PostgreSQL array literal of quoted strings: sent as one text parameter (cast to text[] in
    the statement), which the driver passes through instead of inspecting element by element."""
    return "{" + ",".join('"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for value in values) + "}"


def pg_integer_array(values) -> str:
    return "{" + ",".join(str(int(value)) for value in values) + "}"


_new_entry = sa.inspect(JournalEntry).class_manager.new_instance


def driver_fetch(session, statement: str, params: tuple, *, one: bool = False):
    """Run `statement` (driver placeholders) on the session's connection, in its transaction, straight
    through the driver as a prepared statement; return the rows (or the first row with `one`).

    For the few statements on every money movement, where SQLAlchemy's own work per call would cost
    more than the server's. Errors come out as SQLAlchemy's (`IntegrityError`, `OperationalError` ...
    with `.orig`), as from `session.execute`, so retries and error handlers see no difference."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor:
            cursor.execute(statement, params, prepare=True)
            return cursor.fetchone() if one else cursor.fetchall()
    except connection.dialect.loaded_dbapi.Error as error:
        invalidated = connection.dialect.is_disconnect(error, driver, None)
        if invalidated:
            connection.invalidate(error)
        raise sa.exc.DBAPIError.instance(statement, params, error, connection.dialect.loaded_dbapi.Error,
                                         connection_invalidated=invalidated,
                                         dialect=connection.dialect) from error


def _post_entry_postgres(session, draft: EntryDraft, codes: list[str], now: datetime, *,
                         release_expired: bool, guard: PostingGuard | None) -> JournalEntry:
    now = as_utc(now)  # hashed as text here, stored by the server: the same instant either way
    kind = EntryKind(draft.kind).value
    month = month_of(draft.value_on)
    memo = draft.memo or ""
    # Per fund (in `codes` order): the change of the posted balance (its cash account) and of pending.
    fund_index = {code: n for n, code in enumerate(codes)}
    fund_posted = [0] * len(codes)
    fund_pending = [0] * len(codes)
    for code, amount_fen in draft.release_pending.items():
        fund_pending[fund_index[code]] -= amount_fen
    # Per account (fund, role), in the order the lines first name it: debits and credits.
    account_index: dict[tuple[str, str], int] = {}
    account_funds, account_roles, account_debits, account_credits = [], [], [], []
    line_accounts, line_sides, line_amounts = [], [], []
    for line in draft.lines:
        role, side, amount_fen = _enum_text(line.role), _enum_text(line.side), line.amount_fen
        number = account_index.get((line.fund_code, role))
        if number is None:
            number = account_index[(line.fund_code, role)] = len(account_funds)
            account_funds.append(line.fund_code)
            account_roles.append(role)
            account_debits.append(0)
            account_credits.append(0)
        signed = amount_fen
        if side == "debit":
            account_debits[number] += amount_fen
        else:
            account_credits[number] += amount_fen
            signed = -amount_fen
        if role == "cash":
            fund_posted[fund_index[line.fund_code]] += signed
        line_accounts.append(number + 1)
        line_sides.append(side)
        line_amounts.append(amount_fen)
    fields_json = entry_fields_json(
        kind=kind, value_on=draft.value_on, posted_at=now, memo=memo, purpose=draft.purpose,
        counterparty_kind=draft.counterparty_kind, counterparty_name=draft.counterparty_name,
        counterparty_id_number=draft.counterparty_id_number, created_by_id=draft.created_by_id,
        idempotency_key=draft.idempotency_key, reverses_entry_id=draft.reverses_entry_id,
        reversal_reason=draft.reversal_reason, hold_id=draft.hold_id)
    (status, entry_id, voucher_no, chain_fund_id, chain_seq, prev_hash, digest, fund_ids, account_ids,
     expired_hold_ids, problem_fund, problem_detail, available_fen, needed_fen) = driver_fetch(
        session, _post_statement(guard), (
            *(guard.params if guard is not None else ()),
            draft.chain_fund_code, pg_text_array(codes), month, draft.value_on, now, release_expired,
            pg_integer_array(fund_posted), pg_integer_array(fund_pending), pg_text_array(account_funds),
            pg_text_array(account_roles), pg_integer_array(account_debits), pg_integer_array(account_credits),
            pg_integer_array(line_accounts), pg_text_array(line_sides), pg_integer_array(line_amounts), fields_json,
            kind, memo, draft.purpose, draft.counterparty_kind, draft.counterparty_name,
            draft.counterparty_id_number, draft.created_by_id, draft.idempotency_key, draft.reverses_entry_id,
            draft.reversal_reason, draft.hold_id,
        ), one=True)
    identity_map = session.identity_map
    if len(identity_map):  # statements here bypass the ORM: loaded copies re-read their rows
        for model, ids in ((Fund, fund_ids), (Account, account_ids), (Hold, expired_hold_ids)):
            for primary_key in ids or ():
                # The identity key of a single-column primary key, as `identity_key` builds it.
                instance = identity_map.get((model, (primary_key,), None))
                if instance is not None:
                    session.expire(instance)
    if status != "ok":
        if status == "not_allowed":
            raise guard.refusal
        raise _refusal(status, month, problem_fund, problem_detail, available_fen, needed_fen)
    # The entry as if loaded from its row (values set straight into the instance: no change
    # events, no history); in the session, so its postings load lazily like any other entry's.
    entry = _new_entry()
    entry.__dict__.update(
        id=entry_id, voucher_no=voucher_no, kind=EntryKind(kind), value_on=draft.value_on, posted_at=now,
        memo=memo, purpose=draft.purpose, counterparty_kind=draft.counterparty_kind,
        counterparty_name=draft.counterparty_name, counterparty_id_number=draft.counterparty_id_number,
        created_by_id=draft.created_by_id, idempotency_key=draft.idempotency_key,
        reverses_entry_id=draft.reverses_entry_id, reversal_reason=draft.reversal_reason, hold_id=draft.hold_id,
        chain_fund_id=chain_fund_id, chain_seq=chain_seq, prev_hash=prev_hash, entry_hash=digest)
    make_transient_to_detached(entry)
    session.add(entry)
    return entry


def _refusal(status, month, fund_code, detail, available_fen, needed_fen):
    """The LedgerError for a refusal reported by `journal_post_entry` (the same as the Python path's)."""
    if status == "not_found":
        return NotFound(f"no fund with code {fund_code}")
    if status == "period_closed":
        return PeriodClosed(f"{month} is closed: no entry can be dated in it",
                            fields={"value_on": [f"{month} is closed"]}, month=month)
    if status == "no_account":
        return UnbalancedEntry(f"fund {fund_code} has no {detail} account")
    if status == "over_release":
        return UnbalancedEntry(f"fund {fund_code} would release more than it holds")
    if status == "insufficient":
        return InsufficientFunds(
            f"fund {fund_code} has {fen_to_decimal_string(available_fen)} available; "
            f"this needs {fen_to_decimal_string(needed_fen)}",
            fields={"amount": ["more than the fund has available"]}, fund_code=fund_code,
            available_fen=available_fen)
    raise AssertionError(f"journal_post_entry answered {status!r}")
