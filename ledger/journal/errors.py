"""The journal's refusals, each a type with the rule it enforces.

They subclass `ledger.errors.LedgerError`, so the API renders them as
`{"error": {"code": ..., "message": ...}}` with their status, and the web pages
show the message. The first docstring line is the default message a person reads.
"""
from __future__ import annotations

from ..errors import Conflict, LedgerError, ValidationError


class InsufficientFunds(Conflict):
    """The fund cannot afford this: its available balance (posted minus pending holds) would go below zero.

    Rule: no entry or hold may leave a fund's available balance negative.
    """

    code = "insufficient_funds"


class PeriodClosed(Conflict):
    """The accounting month of this value date is closed; choose a date in an open month.

    Rule: no entry is dated in a closed period; an admin may reopen it.
    """

    code = "period_closed"


class PeriodNotEnded(ValidationError):
    """The month to close has not ended yet: a month is closed from the first day of the next month on (Asia/Shanghai date).

    Rule: `periods.close_period` refuses the current month and every later one; `fields` names
    `month`, `details` carry the month and the first day it may be closed (`closable_on`).
    """

    code = "period_not_ended"


class PeriodOutOfOrder(Conflict):
    """Months are closed in order: close the earlier open months first.

    Rule: every month from the books' first month (that of the earliest entry) up to the one being
    closed must already be closed; `details["open_months"]` lists the ones that are not.
    """

    code = "period_out_of_order"


class PeriodNotLatestClosed(Conflict):
    """Only the latest closed month can be reopened: reopen the later closed months first.

    Rule: reopening walks back from the most recent close, so the closed months always run without
    a gap from the books' first month; `details["latest_closed"]` names the month that may be reopened.
    """

    code = "period_not_latest_closed"


class HoldExpired(Conflict):
    """The hold has expired; its money was released and it can no longer be posted.

    Rule: a hold is paid only before its expiry time.
    """

    code = "hold_expired"


class AlreadyReversed(Conflict):
    """This entry has already been reversed; an entry is reversed at most once.

    Rule: one reversing entry per original (`reverses_entry_id` is unique).
    """

    code = "already_reversed"


class HoldNotPending(Conflict):
    """The hold is no longer pending (it was posted, voided or has expired).

    Rule: only a pending hold can be posted or voided.
    """

    code = "hold_not_pending"


class UnbalancedEntry(LedgerError):
    """The entry does not balance: its debits must equal its credits, with at least two positive postings.

    Rule: every posting's amount is a positive whole number of fen, every account
    exists, and the debits of an entry equal its credits.
    """

    status = 422
    code = "unbalanced_entry"


class LedgerBusy(LedgerError):
    """The ledger is busy with other payments; nothing was saved. Please try again.

    Rule: a conflicting concurrent transaction is retried a bounded number of
    times; a database deadlock or serialization error is never shown to a user.
    """

    status = 503
    code = "ledger_busy"
