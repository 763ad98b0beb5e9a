"""The fund ledger's JSON API under /api/v1: thin handlers over `ledger.funds.services`.

Each handler parses (schema), checks the role, calls one service and renders; the request
commits once. Money-moving POSTs require an `Idempotency-Key` header: the first result is
stored with the key (`ledger.idempotency.run_idempotent`), a replay with the same body
returns it unchanged (same voucher, same status), another body under the same key is
refused with 409 `idempotency_conflict`. A refusal stores nothing, so a corrected request
may reuse its key. The `@operation` on each view is both its OpenAPI text and what the
shared helpers (`ledger.requests`) parse the request with and commit it by.

Roles: finance writes; admin, reviewers and auditors read (a county reviewer only the
funds of that county; others answer 404 as if they did not exist); charity and vendor
users are refused everything here with 403. `funds_api` is nested under the /api/v1
parent blueprint (`ledger.api`); its endpoints are named `api.funds.<view>`.
"""
from __future__ import annotations

import math
import re

import sqlalchemy as sa
from flask import Blueprint, jsonify

from ..auth.models import Role
from ..auth.permissions import current_actor, require_roles
from ..errors import NotFound, _l
from ..extensions import db
from ..journal.models import Hold, JournalEntry
from ..openapi import operation
from ..requests import api_write, has_body, load_body, load_query
from ..timeutil import local_today
from . import services
from .schemas import (
    MONTH_PATTERN,
    AllocationIn,
    AsOfQuery,
    DisbursementIn,
    FundEntriesOut,
    FundOut,
    FundTreeOut,
    HoldIn,
    HoldListOut,
    HoldOut,
    HoldPostIn,
    HoldPostOut,
    HoldsQuery,
    HoldVoidIn,
    JournalEntryOut,
    JournalVerifyOut,
    PageQuery,
    PayeeIn,
    PeriodChecklistOut,
    PeriodCloseIn,
    PeriodListOut,
    PeriodOut,
    PeriodReopenIn,
    ReceiptIn,
    ReversalIn,
    TrialBalanceOut,
    TrialBalanceQuery,
    entry_data,
    hold_data,
    hold_expiry,
    period_checklist_data,
    period_data,
    trial_balance_data,
    verify_data,
)

READERS = (Role.admin, Role.finance, Role.reviewer, Role.auditor)
WRITERS = (Role.finance,)

funds_api = Blueprint("funds", __name__)


def _entry_body(entry, fund_code: str | None = None) -> dict:
    return JournalEntryOut().dump(entry_data(entry, fund_code))


def visible_entry(session, user, voucher_no: str) -> JournalEntry:
    """The entry with `voucher_no` if `user` may see one of the funds it touches; otherwise
    NotFound, exactly as if it did not exist (the services offer funds, not entries, by scope)."""
    entry = session.scalar(sa.select(JournalEntry).where(JournalEntry.voucher_no == voucher_no))
    if entry is None:
        raise NotFound(_l("no entry %(voucher)s", voucher=voucher_no))
    for code in sorted({posting.account.fund.code for posting in entry.postings}):
        try:
            services.get_fund(session, user, code)
            return entry
        except NotFound:
            continue
    raise NotFound(_l("no entry %(voucher)s", voucher=voucher_no))


def _hold(hold_id) -> Hold:
    hold = db.session.get(Hold, hold_id)
    if hold is None:
        raise NotFound(_l("no hold %(hold)s", hold=hold_id))
    return hold


def visible_fund_codes(session, user) -> set[str]:
    codes: set[str] = set()
    stack = list(services.fund_tree(session, user))
    while stack:
        node = stack.pop()
        codes.add(node.code)
        stack.extend(node.children)
    return codes


def _check_month(month: str) -> str:
    if not re.match(MONTH_PATTERN, month):
        raise NotFound(_l("%(month)r is not a month (YYYY-MM)", month=month))
    return month



FUND_CODE = {"code": {"description": "a fund's code", "example": "370827"}}
#: Hold numbers are INTEGER in the database; a larger number in a path is no hold (404), never a query.
HOLD_ID_MAX = 2**31 - 1
HOLD_ID = {"hold_id": {"description": "the hold's number", "minimum": 1, "maximum": HOLD_ID_MAX}}
VOUCHER = {"voucher_no": {"description": "a voucher number", "example": "JZ-2026-370827-000012"}}
MONTH = {"month": {"pattern": MONTH_PATTERN, "example": "2026-01"}}


# --- reading ------------------------------------------------------------------------------

@funds_api.get("/funds")
@require_roles(*READERS)
@operation("Funds as a tree (city, counties, villages) with posted, pending and available balances",
           tags=["funds"], query=AsOfQuery,
           responses={200: ("The visible funds, roots first; `total_*` roll up everything below a fund",
                            FundTreeOut)})
def fund_tree():
    """The fund tree with balances."""
    query = load_query()
    tree = services.fund_tree(db.session, current_actor(), as_of=query["as_of"])
    return jsonify(FundTreeOut().dump({"as_of": query["as_of"], "funds": tree}))


@funds_api.get("/funds/<code>")
@require_roles(*READERS)
@operation("A fund with its posted, pending and available balances (and its roll-up)", tags=["funds"],
           query=AsOfQuery, path=FUND_CODE,
           responses={200: ("The fund", FundOut), 404: "No such fund, or outside your county"})
def fund_detail(code):
    """One fund's balances."""
    query = load_query()
    balance = services.fund_balance(db.session, current_actor(), code, as_of=query["as_of"])
    return jsonify(FundOut().dump(balance))


@funds_api.get("/funds/<code>/entries")
@require_roles(*READERS)
@operation("Entries touching a fund, newest first", tags=["funds"], query=PageQuery, path=FUND_CODE,
           responses={200: ("One page of entries with the total count and the fund's balances; "
                            "`fund_amount` is each entry's effect on the fund's cash", FundEntriesOut),
                      404: "No such fund, or outside your county"})
def fund_entries(code):
    """A fund's journal entries, newest first, paged."""
    query = load_query()
    user = current_actor()
    balance = services.fund_balance(db.session, user, code)
    page = services.fund_entries(db.session, user, code, page=query["page"], per_page=query["per_page"])
    return jsonify(FundEntriesOut().dump({
        "fund": balance, "page": page.page, "per_page": page.per_page, "total": page.total,
        "pages": max(1, math.ceil(page.total / page.per_page)) if page.per_page else 1,
        "items": [entry_data(entry, code) for entry in page.items],
    }))


@funds_api.get("/funds/<code>/holds")
@require_roles(*READERS)
@operation("Holds (commitments) on a fund", tags=["holds"], query=HoldsQuery, path=FUND_CODE,
           responses={200: ("The holds, newest first", HoldListOut), 404: "No such fund, or outside your county"})
def fund_holds(code):
    """A fund's holds."""
    query = load_query()
    holds = services.fund_holds(db.session, current_actor(), code, state=query["state"])
    return jsonify(HoldListOut().dump({"items": [hold_data(hold) for hold in holds]}))


@funds_api.get("/entries/<voucher_no>")
@require_roles(*READERS)
@operation("A voucher with its postings, counterparty (ID masked) and reversal links", tags=["journal"],
           path=VOUCHER,
           responses={200: ("The entry", JournalEntryOut),
                      404: "No such voucher, or it touches no fund you may see"})
def entry_detail(voucher_no):
    """One journal entry (voucher)."""
    return jsonify(_entry_body(visible_entry(db.session, current_actor(), voucher_no)))


@funds_api.get("/trial-balance")
@require_roles(*READERS)
@operation("Every account's debit and credit totals as of a date, by county with subtotals; debits equal credits",
           tags=["journal"], query=TrialBalanceQuery,
           responses={200: ("One row per account (a county reviewer sees the accounts of the county's funds; "
                            "every fund balances on its own, so the rows still sum to zero)", TrialBalanceOut),
                      404: "A `county` naming no county fund the user may see (named in `fields`)",
                      422: "An `as_of` or `level` that cannot be used, named in `fields`"})
def trial_balance():
    """The trial balance."""
    query = load_query()
    groups = services.trial_balance_groups(db.session, current_actor(), as_of=query["as_of"],
                                           county_code=query["county"], level=query["level"])
    return jsonify(TrialBalanceOut().dump(trial_balance_data([], query["as_of"], groups)))


@funds_api.get("/journal/verify")
@require_roles(*READERS)
@operation("Recompute every fund's hash chain; `ok` with counts and head digests, or the first broken entry",
           tags=["journal"],
           responses={200: ("The verification result (`status` is `ok` or `broken`)", JournalVerifyOut)})
def journal_verify():
    """Verify the journal's hash chains."""
    return jsonify(JournalVerifyOut().dump(verify_data(services.verify_journal(db.session, current_actor()))))


@funds_api.get("/periods")
@require_roles(*READERS)
@operation("Months that were closed (or reopened)", tags=["periods"],
           responses={200: ("The periods, by month", PeriodListOut)})
def periods():
    """Accounting periods."""
    periods = services.list_periods(db.session, current_actor())
    history = services.period_history(db.session, current_actor())
    return jsonify(PeriodListOut().dump({"items": [period_data(period, history) for period in periods]}))


@funds_api.get("/periods/<month>/checklist")
@require_roles(Role.finance, Role.admin)
@operation("What closing YYYY-MM would seal: whether it may close (ended, earlier months closed) and its "
           "pending holds", tags=["periods"], path=MONTH,
           responses={200: ("The month's close checklist", PeriodChecklistOut)})
def period_checklist(month):
    """Check a month before closing it."""
    _check_month(month)
    checklist = services.period_close_checklist(db.session, current_actor(), month)
    return jsonify(PeriodChecklistOut().dump(period_checklist_data(checklist)))


# --- writing ------------------------------------------------------------------------------
# Money-moving POSTs require an Idempotency-Key (`idempotency_key="required"`); `api_write`
# reads that, and the success status, from the view's @operation.

@funds_api.post("/funds/<code>/receipts")
@require_roles(*WRITERS)
@operation("Receipt (donation or government grant) into a fund", tags=["funds"], path=FUND_CODE,
           body=ReceiptIn, idempotency_key="required",
           description=("A receipt above the large-receipt threshold (`LARGE_RECEIPT_CONFIRM_FEN`, by default "
                        "500000.00 yuan) is recorded only with `\"confirm_large_amount\": true` in the body; "
                        "without it the answer is 422 with the code `confirmation_required`, the field "
                        "`confirm_large_amount`, and `amount`, `amount_in_words` (大写) and `confirm_above`."),
           responses={201: ("The receipt's journal entry", JournalEntryOut),
                      422: "Unknown or invalid fields, each named in `fields`; or `confirmation_required`: a "
                           "receipt above the large-receipt threshold sent without `confirm_large_amount: true` "
                           "(the error names that field and carries `amount`, `amount_in_words` and "
                           "`confirm_above`)"})
def record_receipt(code):
    """Record money received by a fund."""
    data = load_body()

    def work(key):
        entry = services.record_receipt(
            db.session, current_actor(), code, data["amount"], source=data["source"],
            payer_name=data["payer_name"].strip(), value_on=data["value_on"] or local_today(),
            memo=data["memo"], idempotency_key=key, confirm_large_amount=data["confirm_large_amount"])
        return _entry_body(entry, code)

    return api_write(work)


@funds_api.post("/allocations")
@require_roles(*WRITERS)
@operation("Allocation between funds (city to county, county to village, and back)", tags=["funds"],
           body=AllocationIn, idempotency_key="required",
           responses={201: ("The allocation's journal entry", JournalEntryOut), 404: "No such fund"})
def allocate():
    """Move money from one fund to another."""
    data = load_body()

    def work(key):
        entry = services.allocate(
            db.session, current_actor(), data["from_fund"], data["to_fund"], data["amount"],
            value_on=data["value_on"] or local_today(), memo=data["memo"], idempotency_key=key)
        return _entry_body(entry)

    return api_write(work)


@funds_api.post("/funds/<code>/disbursements")
@require_roles(*WRITERS)
@operation("Disbursement to a person (resident ID checked) or an organisation", tags=["funds"], path=FUND_CODE,
           body=DisbursementIn, idempotency_key="required",
           responses={201: ("The disbursement's journal entry (the payee's ID masked)", JournalEntryOut)})
def disburse(code):
    """Pay money out of a fund."""
    data = load_body()

    def work(key):
        entry = services.disburse(
            db.session, current_actor(), code, data["amount"], payee=PayeeIn().to_payee(data["payee"]),
            purpose=data["purpose"], value_on=data["value_on"] or local_today(), memo=data["memo"],
            idempotency_key=key)
        return _entry_body(entry, code)

    return api_write(work)


@funds_api.post("/funds/<code>/holds")
@require_roles(*WRITERS)
@operation("Hold (commitment) on a fund until an expiry; counts against the available balance", tags=["holds"],
           path=FUND_CODE, body=HoldIn, idempotency_key="required",
           responses={201: ("The pending hold", HoldOut)})
def place_hold(code):
    """Reserve money on a fund."""
    data = load_body()

    def work(key):
        hold = services.place_hold(
            db.session, current_actor(), code, data["amount"], expires_at=hold_expiry(data),
            purpose=data["purpose"], payee=PayeeIn().to_payee(data["payee"]), memo=data["memo"],
            reference=data["reference"], idempotency_key=key)
        return HoldOut().dump(hold_data(hold))

    return api_write(work)


@funds_api.post(f"/holds/<int(max={HOLD_ID_MAX}):hold_id>/post")
@require_roles(*WRITERS)
@operation("Post a hold in full, or in part (`amount`; the rest is released)", tags=["holds"], path=HOLD_ID,
           body=HoldPostIn, body_required=False, idempotency_key="required",
           responses={201: ("The payment's journal entry and the hold, now posted", HoldPostOut)})
def post_hold(hold_id):
    """Pay a pending hold."""
    data = load_body()

    def work(key):
        entry = services.post_hold(db.session, current_actor(), hold_id, data["amount"],
                                   value_on=data["value_on"], memo=data["memo"], idempotency_key=key)
        hold = _hold(hold_id)
        return HoldPostOut().dump({"entry": entry_data(entry, hold.fund.code), "hold": hold_data(hold)})

    return api_write(work)


@funds_api.post(f"/holds/<int(max={HOLD_ID_MAX}):hold_id>/void")
@require_roles(*WRITERS)
@operation("Void a pending hold; its amount is available again", tags=["holds"], path=HOLD_ID,
           body=HoldVoidIn, body_required=False, idempotency_key="optional",
           responses={200: ("The hold, now voided", HoldOut),
                      409: "The hold is not pending (`hold_not_pending`)"})
def void_hold(hold_id):
    """Release a pending hold."""
    data = load_body()

    def work(key):
        hold = services.void_hold(db.session, current_actor(), hold_id, reason=data["reason"])
        return HoldOut().dump(hold_data(hold))

    return api_write(work)


@funds_api.post("/entries/<voucher_no>/reverse")
@require_roles(*WRITERS)
@operation("A new entry with every posting's side swapped, naming the original and the reason", tags=["journal"],
           path=VOUCHER, body=ReversalIn, idempotency_key="required",
           responses={201: ("The reversing entry (`already_reversed` if the original was reversed before)",
                            JournalEntryOut)})
def reverse_entry(voucher_no):
    """Reverse (red-correct) an entry."""
    data = load_body()

    def work(key):
        entry = services.reverse_entry(db.session, current_actor(), voucher_no, reason=data["reason"].strip(),
                                       value_on=data["value_on"], idempotency_key=key)
        return _entry_body(entry)

    return api_write(work)


@funds_api.post("/periods/<month>/close")
@require_roles(Role.finance, Role.admin)
@operation("Close YYYY-MM; entries dated in it are refused (`period_closed`) from now on. Only a month that has "
           "ended (`period_not_ended`, 422 on `month`), when every earlier month of the books is closed "
           "(`period_out_of_order`); see `/periods/{month}/checklist` first", tags=["periods"],
           path=MONTH, body=PeriodCloseIn, body_required=False, idempotency_key="optional",
           responses={200: ("The period, now closed", PeriodOut), 409: "Already closed, or an earlier month is open",
                      422: "The month has not ended"})
def close_period(month):
    """Close an accounting month."""
    _check_month(month)
    if has_body():
        load_body()
    def work(key):
        period = services.close_period(db.session, current_actor(), month)
        return PeriodOut().dump(period_data(period, services.period_history(db.session, current_actor())))

    return api_write(work)


@funds_api.post("/periods/<month>/reopen")
@require_roles(Role.admin)
@operation("Reopen YYYY-MM, the latest closed month (`period_not_latest_closed` otherwise), with a reason; "
           "recorded in the audit log", tags=["periods"], path=MONTH,
           body=PeriodReopenIn, idempotency_key="optional",
           responses={200: ("The period, open again", PeriodOut), 409: "Not the latest closed month",
                      422: "The reason is missing"})
def reopen_period(month):
    """Reopen a closed month (admin only; logged)."""
    _check_month(month)
    data = load_body()

    def work(key):
        period = services.reopen_period(db.session, current_actor(), month, reason=data["reason"].strip())
        return PeriodOut().dump(period_data(period, services.period_history(db.session, current_actor())))

    return api_write(work)
