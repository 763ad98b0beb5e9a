"""Fund operations: the one door the API, the web pages, the CLI and the tests go through.

INTERFACE CONTRACT (implemented by the fund ledger work; consumed by the API, the web
pages and the reports). Every function takes the SQLAlchemy session and the acting
user (`ledger.auth.models.User`, or None for system jobs such as seed-demo) and
flushes; the caller commits once (one transaction per business operation).

Scoping: `user` limits what is visible. Finance, admin and auditors (and city
reviewers) see every fund; a county reviewer sees its county and that county's
villages; charity / vendor users see none. A fund outside scope raises NotFound.
Role checks for *writes* (finance only) are done by the API / web handlers.

Amounts are integer fen. Dates are `datetime.date` (local business dates).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


class _Pending(NotImplementedError):
    pass


@dataclass(frozen=True)
class Payee:
    """Who receives a disbursement: a person (resident ID checked) or an organisation."""

    kind: str  # "person" | "organisation"
    name: str
    id_number: str | None = None  # resident ID (person) or unified social credit code (organisation)


#: Disbursement purposes (code -> Chinese label); the API takes the code.
PURPOSES = {
    "medical_aid": "医疗救助",
    "temporary_assistance": "临时救助",
    "emergency_aid": "急难救助",
    "care_service": "照护服务",
    "rehabilitation": "康复救助",
    "education_aid": "教育救助",
    "other": "其他",
}

#: Receipt sources (code -> Chinese label).
RECEIPT_SOURCES = {"donation": "捐赠收入", "government": "政府补助收入"}


@dataclass
class FundBalance:
    code: str
    name: str
    level: str
    parent_code: str | None
    posted_fen: int
    pending_fen: int
    available_fen: int
    children: list["FundBalance"] = field(default_factory=list)
    # Roll-ups: this fund plus everything below it.
    total_posted_fen: int = 0
    total_pending_fen: int = 0
    total_available_fen: int = 0


@dataclass
class TrialBalanceRow:
    account_code: str
    account_name: str
    kind: str
    fund_code: str
    debit_fen: int
    credit_fen: int

    @property
    def balance_fen(self) -> int:
        return self.debit_fen - self.credit_fen


@dataclass
class VerifyResult:
    ok: bool
    entry_count: int
    chain_count: int
    heads: dict[str, str]  # fund code -> head digest
    digest: str  # one digest over all chain heads (sorted by fund code)
    problem: str | None = None  # e.g. "entry JZ-2026-370827-000012 was changed"
    voucher_no: str | None = None
    fund_code: str | None = None
    chain_seq: int | None = None


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int


def fund_tree(session, user, as_of: date | None = None) -> list[FundBalance]:
    """The visible funds as a tree (roots first) with posted / pending / available and roll-ups.
    With `as_of`, posted balances are as of the end of that day (pending is the current figure)."""
    raise _Pending


def get_fund(session, user, code: str):
    """The Fund with `code`, or NotFound when it does not exist or is outside the user's scope."""
    raise _Pending


def fund_balance(session, user, code: str, as_of: date | None = None) -> FundBalance:
    raise _Pending


def fund_entries(session, user, code: str, page: int = 1, per_page: int = 50) -> Page:
    """Entries touching the fund, newest first (items are JournalEntry with postings loaded)."""
    raise _Pending


def fund_holds(session, user, code: str, state: str | None = None) -> list:
    raise _Pending


def record_receipt(session, user, fund_code: str, amount_fen: int, *, source: str, payer_name: str,
                   value_on: date, memo: str = "", idempotency_key: str | None = None):
    """Money in: Dr cash / Cr donation or grant income. Returns the JournalEntry."""
    raise _Pending


def allocate(session, user, from_code: str, to_code: str, amount_fen: int, *, value_on: date,
             memo: str = "", idempotency_key: str | None = None):
    """Fund to fund (city -> county -> village and back). InsufficientFunds if the source
    cannot afford it from its available balance. Returns the JournalEntry."""
    raise _Pending


def disburse(session, user, fund_code: str, amount_fen: int, *, payee: Payee, purpose: str,
             value_on: date, memo: str = "", idempotency_key: str | None = None):
    """Money out to a payee: Dr aid expense / Cr cash. Returns the JournalEntry."""
    raise _Pending


def place_hold(session, user, fund_code: str, amount_fen: int, *, expires_at: datetime, purpose: str,
               payee: Payee | None = None, memo: str = "", reference: str | None = None,
               idempotency_key: str | None = None):
    """Reserve money (pending). Returns the Hold."""
    raise _Pending


def post_hold(session, user, hold_id: int, amount_fen: int | None = None, *, value_on: date | None = None,
              memo: str = "", idempotency_key: str | None = None):
    """Pay a pending hold, in full (amount None) or in part (the rest is released).
    HoldExpired past its expiry; Conflict if not pending. Returns the JournalEntry."""
    raise _Pending


def void_hold(session, user, hold_id: int, *, reason: str = ""):
    """Release a pending hold. Returns the Hold."""
    raise _Pending


def reverse_entry(session, user, voucher_no: str, *, reason: str, value_on: date | None = None,
                  idempotency_key: str | None = None):
    """A new entry with every posting's side swapped, naming the original.
    AlreadyReversed if it was reversed before; a reversal cannot be reversed. Returns the new entry."""
    raise _Pending


def close_period(session, user, month: str):
    """Close YYYY-MM: entries dated in it are refused from now on."""
    raise _Pending


def reopen_period(session, user, month: str, *, reason: str):
    """Admin only (checked here too); logged as an AuditEvent."""
    raise _Pending


def list_periods(session) -> list:
    raise _Pending


def trial_balance(session, as_of: date | None = None) -> list[TrialBalanceRow]:
    """Every account's debit and credit totals as of the date; they sum to zero."""
    raise _Pending


def verify_journal(session) -> VerifyResult:
    raise _Pending
