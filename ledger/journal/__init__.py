"""The double-entry core: plain functions over a SQLAlchemy session, no Flask.

    models.py    funds, accounts, entries, postings, holds, periods (the tables)
    accounts.py  the chart of accounts: seven accounts per fund
    posting.py   the posting engine (batch-native), the one path by which money moves
    holds.py     two-phase commitments (pending -> posted | voided | expired), one state machine
    periods.py   month close / reopen (a state machine) and the open-period check
    chain.py     per-fund hash chains and their verification
    balances.py  balances now and as of a date, and their recomputation
    export.py    beancount and CSV exports for independent audit
    retry.py     bounded retry on deadlock / serialization failures
    errors.py    the journal's refusals (InsufficientFunds, PeriodClosed, ...)

The package imports nothing from the features, from `ledger.auth` or from Flask (an
import-linter contract, `.importlinter`, checks it in the test run): it runs over any
SQLAlchemy session, for the web app, the CLI (`ledger/cli.py`: `flask journal
verify | export`), the benchmarks and the tests alike. Who may do what, and which
funds they see, is decided above it (`ledger.auth.access`, checked at the door of
`ledger.funds.services`); what a person asked for (payees, purposes, the shape of
each kind of entry) is `ledger.funds.services` too.
"""
