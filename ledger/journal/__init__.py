"""The double-entry core: plain functions over a SQLAlchemy session, no Flask.

    models.py    funds, accounts, entries, postings, holds, periods (the tables)
    accounts.py  the chart of accounts: seven accounts per fund
    posting.py   the posting engine, the one path by which money moves
    holds.py     two-phase commitments (pending -> posted | voided | expired)
    periods.py   month close / reopen and the open-period check
    chain.py     per-fund hash chains and their verification
    balances.py  balances now and as of a date, and their recomputation
    export.py    beancount and CSV exports for independent audit
    retry.py     bounded retry on deadlock / serialization failures
    errors.py    the journal's refusals (InsufficientFunds, PeriodClosed, ...)
    cli.py       `flask journal verify | export`

Business operations with users and scope are in `ledger.funds.services`.
"""
