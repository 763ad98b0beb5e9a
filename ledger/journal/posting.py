"""The posting engine: the one path by which money moves in the journal.

Every operation (receipt, allocation, disbursement, hold payment, reversal,
opening balance, and the payment runs of aid and care) builds `EntryDraft`s and
calls `post_entries` -- one draft or thirty thousand, one transaction, all or
nothing. `post_entry` is a batch of one. The same Python code runs on
PostgreSQL and SQLite; the database checks what must never happen (the
append-only and balance triggers of migrations 0002 / 0008, the CHECK on
available), as django-hordak does. For the batch, in order:

1. validates each draft's lines: whole positive fen, debits equal credits, at
   least two, a known account role;
2. takes each value month's lock (shared: postings never wait for each other,
   a close waits for them and they for it, see `periods`), then locks every
   fund of the batch once, in a fixed order (by id) -- `SELECT ... FOR NO KEY
   UPDATE` on PostgreSQL, where two batches over the same funds (A->B and B->A)
   queue instead of deadlocking and rows that merely reference a fund (foreign
   keys take KEY SHARE) can still be inserted; every SQLite transaction starts
   with BEGIN IMMEDIATE (`ledger.db_events`), so writers are serialized there --
   and refuses the batch when one of its months is closed. The months' rows are
   read in the same statement as the funds, after the month locks, so a close
   can never commit unseen;
3. releases the locked funds' expired holds (lazily, only where something is pending);
4. applies the drafts one after the other to the locked figures and refuses the
   whole batch at the first draft that would take a fund's available balance
   (posted - pending) below zero where it lowers it, naming the draft;
5. numbers each voucher from its chain fund's locked row (per fund and value
   year, gap-free: the counter advances only under the lock, and a rolled-back
   batch rolls it back) and appends it to that fund's hash chain
   (`chain.canonical_content`, the code `verify_journal` runs);
6. writes entries, postings and the maintained figures -- funds' balance and
   pending, accounts' debit / credit totals, per-day totals -- with no ORM unit of
   work: one entry on PostgreSQL in ONE statement (data-modifying CTEs: a posting
   costs four round trips and the commit), a large batch by COPY, anything else
   with multi-row statements of whole entries (an entry's postings always arrive in
   one statement, where PostgreSQL checks their balance).

Invariants kept: every entry balances; balances, totals and day totals equal the
sums of the postings; no fund's available balance goes below zero; the voucher
numbers of a fund and year have no gaps; each chain links every entry. The
engine flushes nothing but its own statements and never commits.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached

from ..db_base import copy_rows, dialect_insert, is_postgres
from ..errors import NotFound, _l
from ..money import fen_to_decimal_string
from ..timeutil import as_utc, utcnow
from .accounts import CHART
from .chain import CONTENT_VERSION, canonical_content, entry_hash
from .errors import InsufficientFunds, UnbalancedEntry
from .models import (Account, AccountDayTotal, AccountRole, EntryKind, Fund, Hold, HoldState, JournalEntry, Period,
                     PeriodState, Posting, Side)
from .dates import ValueDateOutOfRange, value_date_rule
from .periods import CALENDAR_LOCK, ensure_periods, lock_month, month_of, period_closed_error

funds_table = Fund.__table__
accounts_table = Account.__table__
entries_table = JournalEntry.__table__
postings_table = Posting.__table__
day_totals_table = AccountDayTotal.__table__
holds_table = Hold.__table__
periods_table = Period.__table__

#: From this many entries on, PostgreSQL gets the entries and postings by COPY (one stream)
#: instead of multi-row INSERTs; below it the INSERT's single round trip is quicker.
COPY_FROM_ENTRIES = 64
#: Entries per multi-row INSERT elsewhere (SQLite allows 32,766 bound values a statement).
INSERT_ENTRIES_PER_STATEMENT = 500


@dataclass(frozen=True)
class Line:
    """One posting to be made: `amount_fen` on `side` of the fund's account with `role`."""

    fund_code: str
    role: AccountRole
    side: Side
    amount_fen: int


@dataclass
class EntryDraft:
    """An entry to be posted: what a service asks the engine to write."""

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
    #: the record the entry serves (an aid application, a care invoice, a referral ...), hashed
    source_kind: str | None = None
    source_id: int | None = None
    #: fund code -> pending fen released by this entry (a hold being paid)
    release_pending: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PostedEntry:
    """What the engine wrote for one draft (the batch path returns these, not ORM objects)."""

    id: int
    voucher_no: str
    chain_fund_id: int
    chain_seq: int
    prev_hash: str
    entry_hash: str
    posted_at: datetime


@dataclass
class LockedFund:
    """A fund's row as read under its lock, with its accounts; the engine updates it as it goes."""

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


_LOCK_QUERIES: dict = {}


def _lock_query(postgres: bool):
    """The funds' lock statement (parameters `codes` and `months`, both expanding, `earliest_month`
    and `now`), built once per database: each fund with its accounts, the number of the months' rows
    that exist, the number of closed months from the earliest of them on, and the fund's pending holds past their expiry (so that releasing them costs a
    statement only when there are some). Holds change only under their fund's lock, so the count
    can miss only a hold placed by a transaction that committed while this one waited for the
    lock; such a hold still counts as pending here (refusing more, never paying more) and is
    released by the next posting."""
    query = _LOCK_QUERIES.get(postgres)
    if query is not None:
        return query
    f, a, p = funds_table.c, accounts_table.c, periods_table.c
    months_present = (sa.select(sa.func.count()).select_from(periods_table)
                      .where(p.month.in_(sa.bindparam("months", expanding=True))).scalar_subquery())
    # A month is closed when it or any later month is closed: the closes run from the books' first
    # month without a gap, so every month before a closed one is sealed too.
    months_closed = (sa.select(sa.func.count()).select_from(periods_table)
                     .where(p.month >= sa.bindparam("earliest_month"),
                            p.state == PeriodState.closed.value).scalar_subquery())
    h = holds_table.c
    expired_holds = (sa.select(sa.func.count()).select_from(holds_table)
                     .where(h.fund_id == f.id, h.state == HoldState.pending.value, h.expires_at <= sa.bindparam("now"))
                     .scalar_subquery())
    query = (sa.select(f.id, f.code, f.balance_posted_fen, f.pending_fen, f.chain_seq, f.chain_head_hash,
                       f.voucher_year, f.voucher_seq, a.id.label("account_id"), a.role,
                       a.code.label("account_code"), months_present.label("months_present"),
                       months_closed.label("months_closed"),
                       sa.case((f.pending_fen > 0, expired_holds), else_=0).label("expired_holds"))
             .select_from(funds_table.join(accounts_table, a.fund_id == f.id))
             .where(f.code.in_(sa.bindparam("codes", expanding=True)))
             .order_by(f.id, a.id))
    if postgres:
        # Rows are locked in the ORDER BY order (the lock step runs after the sort).
        query = query.with_for_update(key_share=True, of=funds_table)
    _LOCK_QUERIES[postgres] = query
    return query


def lock_funds(session, codes, *, value_on: date | None = None, months=(), now: datetime | None = None,
               release_expired: bool = True) -> dict[str, LockedFund]:
    """Lock the funds with `codes` (in id order) until the transaction ends and return their state.

    With `value_on` (or `months`, "YYYY-MM"), first take the calendar's lock (shared,
    `periods.lock_month`) and raise PeriodClosed if one of the months is closed or comes before a
    closed month. Expired pending holds of the locked funds are released unless `release_expired`
    is false.
    """
    codes = sorted(set(codes))
    months = sorted(set(months) | ({month_of(value_on)} if value_on is not None else set()))
    if months:
        # Shared, before the statement that reads the months (its snapshot comes after): every close
        # and reopen takes it exclusive, so none can commit unseen while this entry is written --
        # whichever month it closes, since a close seals every month before it as well.
        lock_month(session, CALENDAR_LOCK)
    now = as_utc(now or utcnow())
    rows = session.execute(_lock_query(is_postgres(session)),
                           {"codes": codes, "months": months or [""], "earliest_month": months[0] if months else "~",
                            "now": now}).all()
    locked: dict[str, LockedFund] = {}
    with_expired = set()
    for row in rows:
        if row.expired_holds:
            with_expired.add(row.code)
        fund = locked.get(row.code)
        if fund is None:
            fund = locked[row.code] = LockedFund(row.id, row.code, row.balance_posted_fen, row.pending_fen,
                                                 row.chain_seq, row.chain_head_hash, row.voucher_year,
                                                 row.voucher_seq)
        fund.accounts[AccountRole(row.role)] = (row.account_id, row.account_code)
    missing = [code for code in codes if code not in locked]
    if missing:
        raise NotFound(_l("no fund with code %(code)s", code=missing[0]))
    if months and rows[0].months_closed:
        raise period_closed_error(session, months[0])
    if months and rows[0].months_present < len(months):
        ensure_periods(session, months)  # a month's first entry makes its row (open)
    if release_expired and with_expired:  # the lock statement counted them: no statement when there are none
        release_expired_on_locked(session, [locked[code] for code in sorted(with_expired)], now)
    return locked


def release_expired_on_locked(session, funds: list[LockedFund], now: datetime) -> int:
    """Expire the pending holds past their expiry on funds already locked by the caller; returns how many.

    A bulk move of the hold state machine (`holds.HOLD_MACHINE`, pending -expire-> expired),
    done in one statement because it can touch many holds at once."""
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
        expire_loaded(session, Hold, hold_id)
    for fund_id, amount_fen in released.items():
        by_id[fund_id].pending_fen -= amount_fen
    write_fund_figures(session, [by_id[fund_id] for fund_id in released])
    return len(expired)


def _one_or_many(rows: list[dict]):
    """One row as a plain statement (one round trip, no batch machinery), several as a batch."""
    return rows[0] if len(rows) == 1 else rows


def expire_loaded(session, model, primary_key) -> None:
    """Statements here bypass the ORM: make a loaded copy re-read its row on next access."""
    instance = session.identity_map.get((model, (primary_key,), None))
    if instance is not None:
        session.expire(instance)


def validate_lines(lines: list[Line]) -> None:
    """Refuse lines that cannot make an entry: fewer than two, an amount that is not positive whole
    fen, an unknown account role, or debits different from credits."""
    if len(lines) < 2:
        raise UnbalancedEntry(_l("an entry needs at least two postings"))
    debit = credit = 0
    for line in lines:
        amount = line.amount_fen
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise UnbalancedEntry(_l("posting amounts must be positive whole fen, not %(amount)r", amount=amount),
                                  fields={"amount_fen": ["must be a positive whole number of fen"]})
        if line.role not in CHART:
            raise UnbalancedEntry(_l("no such account role %(role)r", role=line.role))
        if Side(line.side) == Side.debit:
            debit += amount
        else:
            credit += amount
    if debit != credit:
        raise UnbalancedEntry(_l("debits %(debit)s fen and credits %(credit)s fen differ", debit=debit, credit=credit))


def write_fund_figures(session, funds: list[LockedFund]) -> None:
    """Write the locked funds' figures back (one statement for all of them)."""
    if not funds:
        return
    f = funds_table.c
    session.execute(
        funds_table.update().where(f.id == sa.bindparam("fund_id")).values(
            balance_posted_fen=sa.bindparam("posted"), pending_fen=sa.bindparam("pending"),
            chain_seq=sa.bindparam("seq"), chain_head_hash=sa.bindparam("head"),
            voucher_year=sa.bindparam("vyear"), voucher_seq=sa.bindparam("vseq")),
        _one_or_many([{"fund_id": fund.id, "posted": fund.balance_posted_fen, "pending": fund.pending_fen,
                       "seq": fund.chain_seq, "head": fund.chain_head_hash, "vyear": fund.voucher_year,
                       "vseq": fund.voucher_seq} for fund in funds]))
    for fund in funds:
        expire_loaded(session, Fund, fund.id)


def post_entry(session, draft: EntryDraft, *, now: datetime | None = None,
               locked: dict[str, LockedFund] | None = None) -> JournalEntry:
    """Post one draft (a batch of one); returns the entry (persistent, its postings load lazily).

    `locked`: the caller already holds these funds' locks (from `lock_funds` with the same value
    date) -- e.g. to check a hold under the lock first.
    """
    now = now or utcnow()
    posted = post_entries(session, [draft], now=now, locked=locked)[0]
    # The entry as if loaded from its row (values set straight into the instance: no change events,
    # no history); in the session, so its postings load lazily like any other entry's.
    entry = _new_entry()
    entry.__dict__.update(_entry_values(draft, posted.voucher_no, posted.posted_at), id=posted.id,
                          kind=EntryKind(draft.kind), chain_fund_id=posted.chain_fund_id,
                          chain_seq=posted.chain_seq, prev_hash=posted.prev_hash, entry_hash=posted.entry_hash,
                          content_version=CONTENT_VERSION)
    make_transient_to_detached(entry)
    session.add(entry)
    return entry


_new_entry = sa.inspect(JournalEntry).class_manager.new_instance


def _entry_values(draft: EntryDraft, voucher_no: str, now: datetime) -> dict:
    return dict(voucher_no=voucher_no, kind=EntryKind(draft.kind).value, value_on=draft.value_on, posted_at=now,
                memo=draft.memo or "", purpose=draft.purpose, counterparty_kind=draft.counterparty_kind,
                counterparty_name=draft.counterparty_name, counterparty_id_number=draft.counterparty_id_number,
                created_by_id=draft.created_by_id, idempotency_key=draft.idempotency_key,
                reverses_entry_id=draft.reverses_entry_id, reversal_reason=draft.reversal_reason,
                hold_id=draft.hold_id, source_kind=draft.source_kind, source_id=draft.source_id)


def _refuse(error, index: int, batch_size: int):
    """A refusal of one draft refuses the batch; in a batch of several it names the draft."""
    if batch_size > 1:
        error.details["draft_index"] = index
        error.message = _l("entry %(index)s of %(size)s: %(message)s", index=index + 1, size=batch_size,
                           message=error.message)
        error.args = (error.message,)
    return error


def post_entries(session, drafts: Sequence[EntryDraft], *, now: datetime | None = None,
                 locked: dict[str, LockedFund] | None = None) -> list[PostedEntry]:
    """Validate, lock, check, number, chain and write every draft, in order, all or nothing.

    Returns one `PostedEntry` per draft, in the drafts' order. A refusal (InsufficientFunds,
    PeriodClosed, UnbalancedEntry, NotFound) refuses the whole batch and writes nothing; in a batch
    of several drafts it names the draft (`details["draft_index"]`). `locked`: the caller already
    holds these funds' locks (see `post_entry`).
    """
    if not drafts:
        return []
    count = len(drafts)
    rule = value_date_rule()
    for index, draft in enumerate(drafts):
        try:
            validate_lines(draft.lines)
            rule.check(draft.value_on)
        except (UnbalancedEntry, ValueDateOutOfRange) as error:
            raise _refuse(error, index, count) from None
    now = as_utc(now or utcnow())
    session.flush()  # ORM changes made earlier in the transaction go first
    codes = set()
    months = set()
    for draft in drafts:
        codes.update(line.fund_code for line in draft.lines)
        codes.add(draft.chain_fund_code)
        codes.update(draft.release_pending)
        months.add(month_of(draft.value_on))
    if locked is None or not codes <= set(locked):
        locked = lock_funds(session, codes, months=months, now=now)

    # Apply each draft to the locked figures, check it, number it and chain it.
    account_change: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # account id -> [debit, credit]
    day_change: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
    touched: dict[int, LockedFund] = {}
    entry_rows: list[dict] = []
    posting_rows: list[tuple[int, int, str, int]] = []  # (entry number in batch, account id, side, amount)
    results: list[tuple] = []
    earlier_year_counts: dict[tuple[int, int], int] = {}
    for index, draft in enumerate(drafts):
        resolved = []
        fund_change: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # code -> [posted, pending]
        for code, amount_fen in draft.release_pending.items():
            fund_change[code][1] -= amount_fen
        for line in draft.lines:
            fund = locked[line.fund_code]
            role = AccountRole(line.role)
            account = fund.accounts.get(role)
            if account is None:
                raise _refuse(UnbalancedEntry(f"fund {line.fund_code} has no {role.value} account"), index, count)
            side = Side(line.side).value
            resolved.append((account[0], account[1], side, line.amount_fen))
            if role == AccountRole.cash:
                fund_change[line.fund_code][0] += line.amount_fen if side == "debit" else -line.amount_fen
        for code, (change_posted, change_pending) in fund_change.items():
            if change_posted == 0 and change_pending == 0:
                continue
            fund = locked[code]
            new_posted = fund.balance_posted_fen + change_posted
            new_pending = fund.pending_fen + change_pending
            if new_pending < 0:
                raise _refuse(UnbalancedEntry(f"fund {code} would release more than it holds"), index, count)
            if new_posted - new_pending < 0 and change_posted - change_pending < 0:
                raise _refuse(InsufficientFunds(
                    _l("fund %(fund)s has %(available)s available; this needs %(amount)s", fund=code,
                       available=fen_to_decimal_string(fund.available_fen),
                       amount=fen_to_decimal_string(change_pending - change_posted)),
                    fields={"amount": [_l("more than the fund has available")]},
                    fund_code=code, available_fen=fund.available_fen), index, count)
            fund.balance_posted_fen, fund.pending_fen = new_posted, new_pending
            touched[fund.id] = fund

        chain = locked[draft.chain_fund_code]
        touched[chain.id] = chain
        year = draft.value_on.year
        if year == chain.voucher_year:
            chain.voucher_seq += 1
            voucher_seq = chain.voucher_seq
        elif year > chain.voucher_year:
            chain.voucher_year, chain.voucher_seq = year, 1
            voucher_seq = 1
        else:  # dated in an earlier year than the fund's counter: continue that year's numbers
            key = (chain.id, year)
            if key not in earlier_year_counts:
                earlier_year_counts[key] = session.scalar(
                    sa.select(sa.func.count()).select_from(entries_table).where(
                        entries_table.c.chain_fund_id == chain.id,
                        entries_table.c.voucher_no.like(f"JZ-{year:04d}-{chain.code}-%")))
            earlier_year_counts[key] += 1
            voucher_seq = earlier_year_counts[key]
        voucher_no = f"JZ-{year:04d}-{chain.code}-{voucher_seq:06d}"
        chain.chain_seq += 1
        prev_hash = chain.chain_head_hash
        values = _entry_values(draft, voucher_no, now)
        content = canonical_content(chain_fund_code=chain.code, chain_seq=chain.chain_seq,
                                    postings=[(code, side, amount) for _, code, side, amount in resolved],
                                    version=CONTENT_VERSION, **values)
        digest = entry_hash(prev_hash, content)
        chain.chain_head_hash = digest
        values.update(chain_fund_id=chain.id, chain_seq=chain.chain_seq, prev_hash=prev_hash, entry_hash=digest,
                      content_version=CONTENT_VERSION)
        entry_rows.append(values)
        results.append((voucher_no, chain.id, chain.chain_seq, prev_hash, digest))
        for account_id, _, side, amount in resolved:
            posting_rows.append((index, account_id, side, amount))
            totals = account_change[account_id]
            days = day_change[(account_id, draft.value_on)]
            if side == "debit":
                totals[0] += amount
                days[0] += amount
            else:
                totals[1] += amount
                days[1] += amount

    if is_postgres(session) and count >= COPY_FROM_ENTRIES:
        ids = _entry_ids(session, count)
        for entry_id, values in zip(ids, entry_rows):
            values["id"] = entry_id
        copy_rows(session, entries_table, entry_rows)
        copy_rows(session, postings_table, _posting_rows(ids, posting_rows))
    elif count == 1 and is_postgres(session):
        # One entry (the everyday case) on PostgreSQL: every write in one statement, one round trip.
        ids = [_write_one_postgres(session, entry_rows[0], posting_rows, account_change, day_change,
                                   list(touched.values()))]
        _expire_written(session, account_change, touched.values())
        return [PostedEntry(ids[0], *results[0], now)]
    else:
        ids = _entry_ids(session, count)
        for entry_id, values in zip(ids, entry_rows):
            values["id"] = entry_id
        # Multi-row statements of whole entries: an entry's postings must arrive together (on
        # PostgreSQL their balance is checked at the end of the statement that inserts them), and
        # a statement holds at most INSERT_ENTRIES_PER_STATEMENT entries (SQLite's variable limit).
        postings_by_entry = defaultdict(list)
        for row in _posting_rows(ids, posting_rows):
            postings_by_entry[row["entry_id"]].append(row)
        for start in range(0, count, INSERT_ENTRIES_PER_STATEMENT):
            chunk = entry_rows[start:start + INSERT_ENTRIES_PER_STATEMENT]
            session.execute(entries_table.insert().values(chunk))
            session.execute(postings_table.insert().values(
                [row for values in chunk for row in postings_by_entry[values["id"]]]))
    _write_account_totals(session, account_change)
    upsert_day_totals(session, [(account_id, value_on, debit, credit)
                                for (account_id, value_on), (debit, credit) in day_change.items()])
    write_fund_figures(session, list(touched.values()))
    return [PostedEntry(entry_id, voucher_no, chain_fund_id, chain_seq, prev_hash, digest, now)
            for entry_id, (voucher_no, chain_fund_id, chain_seq, prev_hash, digest) in zip(ids, results)]


_ENTRY_COLUMNS = ("voucher_no", "kind", "value_on", "posted_at", "memo", "purpose", "counterparty_kind",
                  "counterparty_name", "counterparty_id_number", "created_by_id", "idempotency_key",
                  "reverses_entry_id", "reversal_reason", "hold_id", "source_kind", "source_id", "chain_fund_id",
                  "chain_seq", "prev_hash", "entry_hash", "content_version")

#: The writes of one entry as one PostgreSQL statement (data-modifying CTEs): the entry, its
#: postings in line order, the accounts' and the day's totals and the funds' figures. The same
#: rows and values the multi-statement path below writes; the database's checks fire as for
#: those (the postings' balance trigger once, at the end of the statement).
_WRITE_ONE_POSTGRES = sa.text(f"""
WITH entry AS (
    INSERT INTO journal_entries ({", ".join(_ENTRY_COLUMNS)})
    VALUES ({", ".join(":" + column for column in _ENTRY_COLUMNS)})
    RETURNING id
), new_postings AS (
    INSERT INTO postings (entry_id, account_id, side, amount_fen)
    SELECT entry.id, line.account_id, line.side, line.amount_fen
      FROM entry, unnest(CAST(:line_accounts AS integer[]), CAST(:line_sides AS text[]),
                         CAST(:line_amounts AS bigint[])) WITH ORDINALITY AS line(account_id, side, amount_fen, n)
     ORDER BY line.n
), account_figures AS (
    UPDATE accounts SET debit_total_fen = accounts.debit_total_fen + change.debit,
                        credit_total_fen = accounts.credit_total_fen + change.credit
      FROM unnest(CAST(:account_ids AS integer[]), CAST(:account_debits AS bigint[]),
                  CAST(:account_credits AS bigint[])) AS change(id, debit, credit)
     WHERE accounts.id = change.id
), day_figures AS (
    INSERT INTO account_day_totals (account_id, value_on, debit_fen, credit_fen)
    SELECT change.id, CAST(:value_on AS date), change.debit, change.credit
      FROM unnest(CAST(:account_ids AS integer[]), CAST(:account_debits AS bigint[]),
                  CAST(:account_credits AS bigint[])) AS change(id, debit, credit)
    ON CONFLICT (account_id, value_on) DO UPDATE SET
        debit_fen = account_day_totals.debit_fen + excluded.debit_fen,
        credit_fen = account_day_totals.credit_fen + excluded.credit_fen
), fund_figures AS (
    UPDATE funds SET balance_posted_fen = change.posted, pending_fen = change.pending, chain_seq = change.seq,
                     chain_head_hash = change.head, voucher_year = change.vyear, voucher_seq = change.vseq
      FROM unnest(CAST(:fund_ids AS integer[]), CAST(:fund_posted AS bigint[]), CAST(:fund_pending AS bigint[]),
                  CAST(:fund_seq AS integer[]), CAST(:fund_head AS text[]), CAST(:fund_vyear AS integer[]),
                  CAST(:fund_vseq AS integer[])) AS change(id, posted, pending, seq, head, vyear, vseq)
     WHERE funds.id = change.id
)
SELECT id FROM entry
""")


def _write_one_postgres(session, entry_row: dict, posting_rows, account_change, day_change,
                        funds: list[LockedFund]) -> int:
    accounts = sorted(account_change.items())
    params = {column: entry_row[column] for column in _ENTRY_COLUMNS}
    params.update(
        line_accounts=[account_id for _, account_id, _, _ in posting_rows],
        line_sides=[side for _, _, side, _ in posting_rows],
        line_amounts=[amount for _, _, _, amount in posting_rows],
        account_ids=[account_id for account_id, _ in accounts],
        account_debits=[debit for _, (debit, _) in accounts],
        account_credits=[credit for _, (_, credit) in accounts],
        value_on=entry_row["value_on"],
        fund_ids=[fund.id for fund in funds], fund_posted=[fund.balance_posted_fen for fund in funds],
        fund_pending=[fund.pending_fen for fund in funds], fund_seq=[fund.chain_seq for fund in funds],
        fund_head=[fund.chain_head_hash for fund in funds], fund_vyear=[fund.voucher_year for fund in funds],
        fund_vseq=[fund.voucher_seq for fund in funds])
    assert len(day_change) == len(accounts)  # one entry, one value date
    return session.execute(_WRITE_ONE_POSTGRES, params).scalar_one()


def _expire_written(session, account_change, funds) -> None:
    for account_id in account_change:
        expire_loaded(session, Account, account_id)
    for fund in funds:
        expire_loaded(session, Fund, fund.id)


def _posting_rows(ids: list[int], posting_rows) -> list[dict]:
    return [{"entry_id": ids[index], "account_id": account_id, "side": side, "amount_fen": amount}
            for index, account_id, side, amount in posting_rows]


def _entry_ids(session, count: int) -> list[int]:
    """Ids for `count` new entries, taken before they are written (so postings can name them and
    COPY can carry them). PostgreSQL: from the table's sequence. SQLite: after the largest id, which
    is what SQLite itself would choose; the write lock (BEGIN IMMEDIATE) keeps anyone else out."""
    if is_postgres(session):
        return list(session.scalars(sa.text(
            "SELECT nextval(pg_get_serial_sequence('journal_entries', 'id')) FROM generate_series(1, :n)"),
            {"n": count}))
    start = session.scalar(sa.select(sa.func.coalesce(sa.func.max(entries_table.c.id), 0))) + 1
    return list(range(start, start + count))


def _write_account_totals(session, account_change) -> None:
    a = accounts_table.c
    session.execute(
        accounts_table.update().where(a.id == sa.bindparam("account_id")).values(
            debit_total_fen=a.debit_total_fen + sa.bindparam("debit", type_=sa.BigInteger),
            credit_total_fen=a.credit_total_fen + sa.bindparam("credit", type_=sa.BigInteger)),
        _one_or_many([{"account_id": account_id, "debit": debit, "credit": credit}
                      for account_id, (debit, credit) in sorted(account_change.items())]))
    for account_id in account_change:
        expire_loaded(session, Account, account_id)


def upsert_day_totals(session, rows) -> None:
    """Add (account id, value date, debit, credit) to the per-day totals, creating missing days."""
    if not rows:
        return
    statement = dialect_insert(session, day_totals_table)
    statement = statement.on_conflict_do_update(
        index_elements=["account_id", "value_on"],
        set_={"debit_fen": day_totals_table.c.debit_fen + statement.excluded.debit_fen,
              "credit_fen": day_totals_table.c.credit_fen + statement.excluded.credit_fen})
    session.execute(statement, _one_or_many([{"account_id": account_id, "value_on": value_on, "debit_fen": debit,
                                              "credit_fen": credit}
                                             for account_id, value_on, debit, credit in sorted(rows)]))
