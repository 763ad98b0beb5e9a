"""Export of the journal for independent audit: beancount and CSV.

Both stream the journal (a server-side cursor, entries in value-date order) so a
journal of millions of postings is written in constant memory.

Beancount: account names must be ASCII-led components (`Assets:Fund370827:Cash`);
each account's `open` directive carries its code and Chinese name as metadata.
Amounts are debit-positive, which is beancount's sign convention too. The file
ends with one `balance` assertion per account, dated the day after `until`
(beancount checks a balance at the start of its day), with the app's own
balance as of `until` (from the maintained per-day totals), so `bean-check`
proves that the app's balances equal the sums of the exported postings.

Resident ID numbers and credit codes are masked in both formats. The CSV's text cells go
through `ledger.text.spreadsheet_text` like every CSV the product writes: an auditor opens it
in a spreadsheet, where a memo such as "=HYPERLINK(...)" must stay text.
"""
from __future__ import annotations

import csv
from datetime import date, timedelta
from itertools import groupby

import sqlalchemy as sa

from ..identity import shown_counterparty_id
from ..money import fen_to_decimal_string
from ..text import export_text, spreadsheet_text
from .accounts import beancount_account_name
from .balances import account_totals
from .models import Account, Fund, JournalEntry, Posting

CURRENCY = "CNY"


def _quote(text) -> str:
    text = " ".join(export_text(text).split())
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(value):
    return getattr(value, "value", value)


def _accounts(session):
    return session.execute(sa.select(Account.id, Account.code, Account.name, Account.role, Fund.code.label("fund_code"))
                           .join(Fund, Fund.id == Account.fund_id).order_by(Account.code)).all()


def _entry_rows(session, until: date | None, batch_size: int = 5000):
    query = (sa.select(JournalEntry.id, JournalEntry.voucher_no, JournalEntry.kind, JournalEntry.value_on,
                       JournalEntry.memo, JournalEntry.counterparty_kind, JournalEntry.counterparty_name,
                       JournalEntry.counterparty_id_number, JournalEntry.entry_hash, Fund.code.label("chain_fund"),
                       Posting.account_id, Posting.side, Posting.amount_fen)
             .join(Posting, Posting.entry_id == JournalEntry.id)
             .join(Fund, Fund.id == JournalEntry.chain_fund_id)
             .order_by(JournalEntry.value_on, JournalEntry.id, Posting.id)
             .execution_options(stream_results=True, yield_per=batch_size))
    if until is not None:
        query = query.where(JournalEntry.value_on <= until)
    return session.execute(query)


def export_beancount(session, out, *, until: date | None = None) -> int:
    """Write the journal up to `until` (inclusive; default: everything) as beancount. Returns the entry count."""
    accounts = _accounts(session)
    names = {row.id: beancount_account_name(_value(row.role), row.fund_code) for row in accounts}
    first_on = session.scalar(sa.select(sa.func.min(JournalEntry.value_on)))
    last_on = session.scalar(sa.select(sa.func.max(JournalEntry.value_on)))
    if until is None:
        until = last_on or date.today()
    open_on = min(first_on or until, until)
    out.write(f'option "title" "济时救 fund ledger, journal up to {until.isoformat()}"\n')
    out.write(f'option "operating_currency" "{CURRENCY}"\n\n')
    for row in accounts:
        out.write(f"{open_on.isoformat()} open {names[row.id]} {CURRENCY}\n")
        out.write(f"  code: {_quote(row.code)}\n  name: {_quote(row.name)}\n")
    out.write("\n")
    count = 0
    rows = _entry_rows(session, until)
    try:
        for _, group in groupby(rows, key=lambda row: row.id):
            group = list(group)
            entry = group[0]
            count += 1
            payee = entry.counterparty_name or ""
            out.write(f"{entry.value_on.isoformat()} * {_quote(payee)} {_quote(entry.memo)}\n")
            out.write(f"  voucher: {_quote(entry.voucher_no)}\n  kind: {_quote(_value(entry.kind))}\n")
            if entry.counterparty_id_number:
                shown = shown_counterparty_id(entry.counterparty_kind, entry.counterparty_id_number)
                out.write(f"  counterparty_id: {_quote(shown)}\n")
            out.write(f"  hash: {_quote(entry.entry_hash)}\n")
            for row in group:
                amount = row.amount_fen if _value(row.side) == "debit" else -row.amount_fen
                out.write(f"  {names[row.account_id]}  {fen_to_decimal_string(amount)} {CURRENCY}\n")
            out.write("\n")
    finally:
        rows.close()
    totals = account_totals(session, until)
    assert_on = (until + timedelta(days=1)).isoformat()
    for row in accounts:
        debit, credit = totals.get(row.id, (0, 0))
        out.write(f"{assert_on} balance {names[row.id]}  {fen_to_decimal_string(debit - credit)} {CURRENCY}\n")
    return count



CSV_COLUMNS = ["voucher_no", "value_on", "kind", "chain_fund", "account_code", "account_name", "side",
               "amount", "memo", "counterparty_name", "counterparty_id", "entry_hash"]


def export_csv(session, out, *, until: date | None = None) -> int:
    """One row per posting (amounts as decimal yuan strings). Returns the entry count."""
    accounts = {row.id: row for row in _accounts(session)}
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    last_id = None
    rows = _entry_rows(session, until)
    try:
        for row in rows:
            if row.id != last_id:
                count += 1
                last_id = row.id
            account = accounts[row.account_id]
            text = spreadsheet_text
            writer.writerow([row.voucher_no, row.value_on.isoformat(), _value(row.kind), row.chain_fund,
                             account.code, text(account.name), _value(row.side), fen_to_decimal_string(row.amount_fen),
                             text(row.memo), text(row.counterparty_name or ""),
                             shown_counterparty_id(row.counterparty_kind, row.counterparty_id_number), row.entry_hash])
    finally:
        rows.close()
    return count
