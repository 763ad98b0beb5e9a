"""The hash chains: tamper evidence for the journal, and their verification.

Every entry stores `entry_hash = SHA-256(prev_hash || canonical content)`, where
the canonical content covers the voucher and all of its postings (account code,
side, amount). `prev_hash` is the previous entry's hash in the same chain, so
changing, deleting or reordering any entry breaks every link after it.

Why one chain per fund and not one global chain: appending to a chain needs the
chain's head, read and advanced under a lock. A single global chain would make
every posting in the city queue behind one row. The fund's row is locked by the
posting anyway (balance, voucher number), so a per-fund chain costs no extra
lock and writers on different funds never wait for each other. An allocation
touches two funds; it is chained in its source fund's chain (the fund the money
leaves), and its hash covers the postings on both sides.

Invariants checked by `verify_journal` (streamed, constant memory):
* the entries of a chain have `chain_seq` 1, 2, 3, ... with no gap;
* each entry's `prev_hash` is its predecessor's `entry_hash` (the first: 64 zeros);
* each entry's stored hash equals the hash recomputed from its row and postings;
* each entry balances (debits equal credits, at least two postings);
* the fund's `chain_seq` / `chain_head_hash` name the chain's last entry (so a
  deleted tail is noticed too).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

import sqlalchemy as sa

from ..timeutil import as_utc
from .models import Account, Fund, JournalEntry, Posting

GENESIS_HASH = "0" * 64
#: The layout new entries are hashed with (stored per entry in `content_version`):
#: 1 -- the voucher and its postings; 2 -- the same plus the record it serves (`source_kind`, `source_id`).
CONTENT_VERSION = 2
CONTENT_VERSIONS = (1, 2)


@dataclass
class VerifyResult:
    """What `verify_journal` found: ok with the count and the chain heads, or the first problem."""

    ok: bool
    entry_count: int
    chain_count: int
    heads: dict[str, str]  # fund code -> head digest
    digest: str  # one digest over all chain heads (sorted by fund code)
    problem: str | None = None  # e.g. "entry JZ-2026-370827-000012 was changed"
    voucher_no: str | None = None
    fund_code: str | None = None
    chain_seq: int | None = None


def canonical_timestamp(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def canonical_content(*, chain_fund_code: str, chain_seq: int, voucher_no: str, kind: str, value_on: date,
                      posted_at: datetime, memo: str, purpose: str | None, counterparty_kind: str | None,
                      counterparty_name: str | None, counterparty_id_number: str | None,
                      created_by_id: int | None, idempotency_key: str | None, reverses_entry_id: int | None,
                      reversal_reason: str | None, hold_id: int | None, postings: list[tuple[str, str, int]],
                      source_kind: str | None = None, source_id: int | None = None,
                      version: int = CONTENT_VERSION) -> bytes:
    """The bytes an entry's hash covers: a JSON array in a fixed order, no whitespace, UTF-8,

        [version, chain fund code, chain seq, voucher no, kind, value date, posted at (UTC, microseconds),
         memo, purpose, counterparty kind, name, id number, created by, idempotency key,
         reverses entry, reversal reason, hold, (version 2:) source kind, source id,
         [[account code, side, amount], ...]]

    `postings` are (account code, side, amount_fen) in the order they were written.
    """
    fields = [version, chain_fund_code, int(chain_seq), voucher_no, kind, value_on.isoformat(),
              canonical_timestamp(posted_at), memo or "", purpose, counterparty_kind, counterparty_name,
              counterparty_id_number, created_by_id, idempotency_key, reverses_entry_id, reversal_reason, hold_id]
    if version == 2:
        fields += [source_kind, None if source_id is None else int(source_id)]
    elif version != 1:
        raise ValueError(f"unknown content version {version!r}")
    fields.append([[code, side, int(amount)] for code, side, amount in postings])
    return _json(fields).encode("utf-8")


def entry_hash(prev_hash: str, content: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(content)
    return digest.hexdigest()


def heads_digest(heads: dict[str, str]) -> str:
    """One digest over every chain head, in fund-code order: a single value an auditor can note down."""
    digest = hashlib.sha256()
    for code in sorted(heads):
        digest.update(f"{code}:{heads[code]}\n".encode("ascii"))
    return digest.hexdigest()


def _enum_value(value):
    return getattr(value, "value", value)


def verify_journal(session, *, batch_size: int = 5000, funds_where=None):
    """Walk every fund's chain and recompute every hash.

    Streams one ordered query (entries joined to their postings) through a
    server-side cursor, so a journal of millions of postings is checked in
    constant memory. Returns a `VerifyResult`: ok with the entry count and the
    chain heads, or the first problem found, naming the entry.

    `funds_where` (a condition on funds, e.g. a reader's scope) limits the walk to those funds'
    chains: each chain is one fund's, complete in itself, so a part is verified as fully as the whole.
    """
    fund_query = sa.select(Fund.id, Fund.code, Fund.chain_seq, Fund.chain_head_hash)
    if funds_where is not None:
        fund_query = fund_query.where(funds_where)
    funds = {row.id: row for row in session.execute(fund_query)}
    account_codes = dict(session.execute(sa.select(Account.id, Account.code)).all())
    entry_columns = [JournalEntry.id, JournalEntry.chain_fund_id, JournalEntry.chain_seq, JournalEntry.voucher_no,
                     JournalEntry.kind, JournalEntry.value_on, JournalEntry.posted_at, JournalEntry.memo,
                     JournalEntry.purpose, JournalEntry.counterparty_kind, JournalEntry.counterparty_name,
                     JournalEntry.counterparty_id_number, JournalEntry.created_by_id, JournalEntry.idempotency_key,
                     JournalEntry.reverses_entry_id, JournalEntry.reversal_reason, JournalEntry.hold_id,
                     JournalEntry.source_kind, JournalEntry.source_id, JournalEntry.content_version,
                     JournalEntry.prev_hash, JournalEntry.entry_hash]
    query = (
        sa.select(*entry_columns, Posting.account_id, Posting.side, Posting.amount_fen)
        .select_from(JournalEntry)
        .outerjoin(Posting, Posting.entry_id == JournalEntry.id)
        .where(JournalEntry.chain_fund_id.in_(fund_query.with_only_columns(Fund.id))
               if funds_where is not None else sa.true())
        .order_by(JournalEntry.chain_fund_id, JournalEntry.chain_seq, JournalEntry.id, Posting.id)
        .execution_options(stream_results=True, yield_per=batch_size)
    )
    rows = session.execute(query)

    def failure(problem, entry=None, fund_code=None, chain_seq=None, count=0):
        return VerifyResult(ok=False, entry_count=count, chain_count=len(chain_heads), heads=dict(chain_heads),
                            digest="", problem=problem, voucher_no=entry.voucher_no if entry else None,
                            fund_code=fund_code, chain_seq=chain_seq if chain_seq is not None else (
                                entry.chain_seq if entry else None))

    entry_count = 0
    chain_heads: dict[str, str] = {}
    current_fund_id = None
    expected_seq = 1
    prev_hash = GENESIS_HASH
    seen_funds: set[int] = set()

    def close_chain(fund_id, last_seq, head):
        fund = funds[fund_id]
        if fund.chain_seq != last_seq or fund.chain_head_hash != head:
            missing = fund.chain_seq - last_seq
            if missing > 0:
                return (f"the last {missing} entr{'y' if missing == 1 else 'ies'} of fund {fund.code}'s chain "
                        f"(from seq {last_seq + 1}) were deleted")
            return f"fund {fund.code}'s chain head does not match its last entry (seq {last_seq})"
        return None

    try:
        for entry_id, group in groupby(rows, key=lambda row: row[0]):
            group = list(group)
            entry = group[0]
            fund_id = entry.chain_fund_id
            fund = funds.get(fund_id)
            if fund_id != current_fund_id:
                if current_fund_id is not None:
                    problem = close_chain(current_fund_id, expected_seq - 1, prev_hash)
                    if problem:
                        return failure(problem, fund_code=funds[current_fund_id].code, count=entry_count)
                current_fund_id, expected_seq, prev_hash = fund_id, 1, GENESIS_HASH
                seen_funds.add(fund_id)
            entry_count += 1
            if entry.chain_seq != expected_seq:
                if entry.chain_seq > expected_seq:
                    problem = (f"entry {entry.voucher_no} follows a gap: chain seq {expected_seq}"
                               f"{'' if entry.chain_seq == expected_seq + 1 else f'..{entry.chain_seq - 1}'} "
                               f"of fund {fund.code} was deleted")
                else:
                    problem = f"entry {entry.voucher_no} was inserted out of order in fund {fund.code}'s chain"
                return failure(problem, entry, fund.code, count=entry_count)
            postings = [(account_codes.get(row.account_id, f"#{row.account_id}"), _enum_value(row.side),
                         row.amount_fen) for row in group if row.account_id is not None]
            content = canonical_content(
                chain_fund_code=fund.code, chain_seq=entry.chain_seq, voucher_no=entry.voucher_no,
                kind=_enum_value(entry.kind), value_on=entry.value_on, posted_at=entry.posted_at, memo=entry.memo,
                purpose=entry.purpose, counterparty_kind=entry.counterparty_kind,
                counterparty_name=entry.counterparty_name, counterparty_id_number=entry.counterparty_id_number,
                created_by_id=entry.created_by_id, idempotency_key=entry.idempotency_key,
                reverses_entry_id=entry.reverses_entry_id, reversal_reason=entry.reversal_reason,
                hold_id=entry.hold_id, source_kind=entry.source_kind, source_id=entry.source_id,
                version=entry.content_version, postings=postings)
            if entry.prev_hash != prev_hash:
                return failure(f"entry {entry.voucher_no} does not link to its predecessor in fund {fund.code}'s "
                               f"chain (inserted out of order, or an earlier entry was replaced)",
                               entry, fund.code, count=entry_count)
            if entry_hash(prev_hash, content) != entry.entry_hash:
                return failure(f"entry {entry.voucher_no} was changed (its content no longer matches its hash)",
                               entry, fund.code, count=entry_count)
            debits = sum(amount for _, side, amount in postings if side == "debit")
            credits = sum(amount for _, side, amount in postings if side == "credit")
            if len(postings) < 2 or debits != credits or any(amount <= 0 for _, _, amount in postings):
                return failure(f"entry {entry.voucher_no} does not balance", entry, fund.code, count=entry_count)
            prev_hash = entry.entry_hash
            expected_seq += 1
            chain_heads[fund.code] = prev_hash
        if current_fund_id is not None:
            problem = close_chain(current_fund_id, expected_seq - 1, prev_hash)
            if problem:
                return failure(problem, fund_code=funds[current_fund_id].code, count=entry_count)
    finally:
        rows.close()
    for fund_id, fund in funds.items():
        if fund_id not in seen_funds and fund.chain_seq != 0:
            return failure(f"all {fund.chain_seq} entries of fund {fund.code}'s chain were deleted",
                           fund_code=fund.code, count=entry_count)
    return VerifyResult(ok=True, entry_count=entry_count, chain_count=len(chain_heads), heads=chain_heads,
                        digest=heads_digest(chain_heads))
