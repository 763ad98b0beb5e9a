"""The fund ledger's JSON API under /api/v1: thin handlers over `ledger.funds.services`.

Each handler parses (schema), checks the role, calls one service and renders; the request
commits once. Money-moving POSTs require an `Idempotency-Key` header: the first result is
stored with the key (`ledger.idempotency.run_idempotent`), a replay with the same body
returns it unchanged (same voucher, same status), another body under the same key is
refused with 409 `idempotency_conflict`. A refusal stores nothing, so a corrected request
may reuse its key.

Roles: finance writes; admin, reviewers and auditors read (a county reviewer only the
funds of that county; others answer 404 as if they did not exist); charity and vendor
users are refused everything here with 403. The routes attach to `ledger.api.api_bp`
when this module is imported (by `ledger.funds.register`, before the blueprint is
registered on the app).
"""
from __future__ import annotations

import math
import re

import sqlalchemy as sa
from flask import jsonify, request

from ..api import api_bp, has_body, load_json, parse_query
from ..auth.models import Role
from ..auth.permissions import current_actor, require_roles
from ..errors import BadRequest, NotFound
from ..extensions import db
from ..idempotency import request_fingerprint, run_idempotent
from ..journal.models import Hold, JournalEntry
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
    PeriodCloseIn,
    PeriodListOut,
    PeriodOut,
    PeriodReopenIn,
    ReceiptIn,
    ReversalIn,
    TrialBalanceOut,
    entry_data,
    hold_data,
    hold_expiry,
    period_data,
    trial_balance_data,
    verify_data,
)

READERS = (Role.admin, Role.finance, Role.reviewer, Role.auditor)
WRITERS = (Role.finance,)

#: Longest Idempotency-Key accepted (the column holds 200 characters; web keys carry a prefix).
IDEMPOTENCY_KEY_MAX = 120


class IdempotencyKeyRequired(BadRequest):
    """Send an `Idempotency-Key` header (any unique string up to 120 characters, e.g. a UUID) with
    every request that moves money, so that a retry can never pay twice."""

    code = "idempotency_key_required"


def _idempotency_key(required: bool) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        if required:
            raise IdempotencyKeyRequired()
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise BadRequest(f"The Idempotency-Key must be at most {IDEMPOTENCY_KEY_MAX} printable characters.")
    return key


def _write(operation, *, status: int = 201, key_required: bool = True):
    """Run a write once per Idempotency-Key and commit: `operation(key)` returns the response body.

    Without a key (allowed only where `key_required` is False) the operation simply runs.
    """
    user = current_actor()
    key = _idempotency_key(key_required)
    if key is None:
        body = operation(None)
        db.session.commit()
        return jsonify(body), status
    fingerprint = request_fingerprint(request.method, request.path, request.get_data(cache=True))
    stored_status, body = run_idempotent(db.session, user.id, "api:" + key, fingerprint,
                                         lambda: (status, operation(key)))
    db.session.commit()
    return jsonify(body), stored_status


def _entry_body(entry, fund_code: str | None = None) -> dict:
    return JournalEntryOut().dump(entry_data(entry, fund_code))


def visible_entry(session, user, voucher_no: str) -> JournalEntry:
    """The entry with `voucher_no` if `user` may see one of the funds it touches; otherwise
    NotFound, exactly as if it did not exist (the services offer funds, not entries, by scope)."""
    entry = session.scalar(sa.select(JournalEntry).where(JournalEntry.voucher_no == voucher_no))
    if entry is None:
        raise NotFound(f"no entry {voucher_no}")
    for code in sorted({posting.account.fund.code for posting in entry.postings}):
        try:
            services.get_fund(session, user, code)
            return entry
        except NotFound:
            continue
    raise NotFound(f"no entry {voucher_no}")


def _hold(hold_id) -> Hold:
    hold = db.session.get(Hold, hold_id)
    if hold is None:
        raise NotFound(f"no hold {hold_id}")
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
        raise NotFound(f"{month!r} is not a month (YYYY-MM)")
    return month


# --- reading ------------------------------------------------------------------------------

@api_bp.get("/funds")
@require_roles(*READERS)
def fund_tree():
    """The fund tree with balances.
    ---
    get:
      summary: Funds as a tree (city, counties, villages) with posted, pending and available balances
      tags: [funds]
      parameters:
        - in: query
          schema: AsOfQuery
      responses:
        200:
          description: The visible funds, roots first; `total_*` roll up everything below a fund
          content:
            application/json:
              schema: FundTreeOut
        400:
          description: A bad `as_of`
          content:
            application/json:
              schema: Error
        403:
          description: Charity and vendor users
          content:
            application/json:
              schema: Error
    """
    query = parse_query(AsOfQuery())
    tree = services.fund_tree(db.session, current_actor(), as_of=query["as_of"])
    return jsonify(FundTreeOut().dump({"as_of": query["as_of"], "funds": tree}))


@api_bp.get("/funds/<code>")
@require_roles(*READERS)
def fund_detail(code):
    """One fund's balances.
    ---
    get:
      summary: A fund with its posted, pending and available balances (and its roll-up)
      tags: [funds]
      parameters:
        - in: path
          name: code
          schema: {type: string}
          example: "370827"
        - in: query
          schema: AsOfQuery
      responses:
        200:
          description: The fund
          content:
            application/json:
              schema: FundOut
        404:
          description: No such fund, or outside your county
          content:
            application/json:
              schema: Error
    """
    query = parse_query(AsOfQuery())
    balance = services.fund_balance(db.session, current_actor(), code, as_of=query["as_of"])
    return jsonify(FundOut().dump(balance))


@api_bp.get("/funds/<code>/entries")
@require_roles(*READERS)
def fund_entries(code):
    """A fund's journal entries, newest first, paged.
    ---
    get:
      summary: Entries touching a fund, newest first
      tags: [funds]
      parameters:
        - in: path
          name: code
          schema: {type: string}
        - in: query
          schema: PageQuery
      responses:
        200:
          description: One page of entries with the total count and the fund's balances;
            `fund_amount` is each entry's effect on the fund's cash
          content:
            application/json:
              schema: FundEntriesOut
        404:
          description: No such fund, or outside your county
          content:
            application/json:
              schema: Error
    """
    query = parse_query(PageQuery())
    user = current_actor()
    balance = services.fund_balance(db.session, user, code)
    page = services.fund_entries(db.session, user, code, page=query["page"], per_page=query["per_page"])
    return jsonify(FundEntriesOut().dump({
        "fund": balance, "page": page.page, "per_page": page.per_page, "total": page.total,
        "pages": max(1, math.ceil(page.total / page.per_page)) if page.per_page else 1,
        "items": [entry_data(entry, code) for entry in page.items],
    }))


@api_bp.get("/funds/<code>/holds")
@require_roles(*READERS)
def fund_holds(code):
    """A fund's holds.
    ---
    get:
      summary: Holds (commitments) on a fund
      tags: [holds]
      parameters:
        - in: path
          name: code
          schema: {type: string}
        - in: query
          schema: HoldsQuery
      responses:
        200:
          description: The holds, newest first
          content:
            application/json:
              schema: HoldListOut
        404:
          description: No such fund, or outside your county
          content:
            application/json:
              schema: Error
    """
    query = parse_query(HoldsQuery())
    holds = services.fund_holds(db.session, current_actor(), code, state=query["state"])
    return jsonify(HoldListOut().dump({"items": [hold_data(hold) for hold in holds]}))


@api_bp.get("/entries/<voucher_no>")
@require_roles(*READERS)
def entry_detail(voucher_no):
    """One journal entry (voucher).
    ---
    get:
      summary: A voucher with its postings, counterparty (ID masked) and reversal links
      tags: [journal]
      parameters:
        - in: path
          name: voucher_no
          schema: {type: string}
          example: JZ-2026-370827-000012
      responses:
        200:
          description: The entry
          content:
            application/json:
              schema: JournalEntryOut
        404:
          description: No such voucher, or it touches no fund you may see
          content:
            application/json:
              schema: Error
    """
    return jsonify(_entry_body(visible_entry(db.session, current_actor(), voucher_no)))


@api_bp.get("/trial-balance")
@require_roles(*READERS)
def trial_balance():
    """The trial balance.
    ---
    get:
      summary: Every account's debit and credit totals as of a date; debits equal credits
      tags: [journal]
      parameters:
        - in: query
          schema: AsOfQuery
      responses:
        200:
          description: One row per account (a county reviewer sees the accounts of the county's funds;
            every fund balances on its own, so the rows still sum to zero)
          content:
            application/json:
              schema: TrialBalanceOut
    """
    query = parse_query(AsOfQuery())
    user = current_actor()
    rows = services.trial_balance(db.session, current_actor(), as_of=query["as_of"])
    visible = visible_fund_codes(db.session, user)
    rows = [row for row in rows if row.fund_code in visible]
    return jsonify(TrialBalanceOut().dump(trial_balance_data(rows, query["as_of"])))


@api_bp.get("/journal/verify")
@require_roles(*READERS)
def journal_verify():
    """Verify the journal's hash chains.
    ---
    get:
      summary: Recompute every fund's hash chain; `ok` with counts and head digests, or the first broken entry
      tags: [journal]
      responses:
        200:
          description: The verification result (`status` is `ok` or `broken`)
          content:
            application/json:
              schema: JournalVerifyOut
    """
    return jsonify(JournalVerifyOut().dump(verify_data(services.verify_journal(db.session, current_actor()))))


@api_bp.get("/periods")
@require_roles(*READERS)
def periods():
    """Accounting periods.
    ---
    get:
      summary: Months that were closed (or reopened)
      tags: [periods]
      responses:
        200:
          description: The periods, by month
          content:
            application/json:
              schema: PeriodListOut
    """
    return jsonify(PeriodListOut().dump({"items": [period_data(p) for p in services.list_periods(db.session, current_actor())]}))


# --- writing ------------------------------------------------------------------------------

_IDEMPOTENCY_PARAMETER = """
        - in: header
          name: Idempotency-Key
          required: true
          schema: {type: string, maxLength: 120}
          description: A unique key per operation; a retry with the same key and body returns the first result
"""

_WRITE_ERRORS = """
        400:
          description: Missing Idempotency-Key (`idempotency_key_required`) or unreadable body
          content:
            application/json:
              schema: Error
        403:
          description: Only finance staff write
          content:
            application/json:
              schema: Error
        404:
          description: No such fund
          content:
            application/json:
              schema: Error
        409:
          description: Refused for a money reason (`insufficient_funds`, `period_closed`, ...) or
            `idempotency_conflict` (the key was used with another body)
          content:
            application/json:
              schema: Error
        422:
          description: Invalid fields, each named (amounts are decimal strings, not numbers)
          content:
            application/json:
              schema: Error
"""


def _with_write_docs(view):
    """Fill the shared parts of a money-moving POST's OpenAPI text: the Idempotency-Key
    header and the refusals every such POST can answer."""
    view.__doc__ = (view.__doc__.replace("    # idempotency-key\n", _IDEMPOTENCY_PARAMETER.lstrip("\n"))
                    .replace("        # write-errors\n", _WRITE_ERRORS.lstrip("\n")))
    return view


@api_bp.post("/funds/<code>/receipts")
@require_roles(*WRITERS)
@_with_write_docs
def record_receipt(code):
    """Record money received by a fund.
    ---
    post:
      summary: Receipt (donation or government grant) into a fund
      tags: [funds]
      parameters:
        - in: path
          name: code
          schema: {type: string}
    # idempotency-key
      requestBody:
        required: true
        content:
          application/json:
            schema: ReceiptIn
      responses:
        201:
          description: The receipt's journal entry
          content:
            application/json:
              schema: JournalEntryOut
        # write-errors
    """
    data = load_json(ReceiptIn())

    def operation(key):
        entry = services.record_receipt(
            db.session, current_actor(), code, data["amount"], source=data["source"],
            payer_name=data["payer_name"].strip(), value_on=data["value_on"] or local_today(),
            memo=data["memo"], idempotency_key=key)
        return _entry_body(entry, code)

    return _write(operation)


@api_bp.post("/allocations")
@require_roles(*WRITERS)
@_with_write_docs
def allocate():
    """Move money from one fund to another.
    ---
    post:
      summary: Allocation between funds (city to county, county to village, and back)
      tags: [funds]
      parameters:
    # idempotency-key
      requestBody:
        required: true
        content:
          application/json:
            schema: AllocationIn
      responses:
        201:
          description: The allocation's journal entry
          content:
            application/json:
              schema: JournalEntryOut
        # write-errors
    """
    data = load_json(AllocationIn())

    def operation(key):
        entry = services.allocate(
            db.session, current_actor(), data["from_fund"], data["to_fund"], data["amount"],
            value_on=data["value_on"] or local_today(), memo=data["memo"], idempotency_key=key)
        return _entry_body(entry)

    return _write(operation)


@api_bp.post("/funds/<code>/disbursements")
@require_roles(*WRITERS)
@_with_write_docs
def disburse(code):
    """Pay money out of a fund.
    ---
    post:
      summary: Disbursement to a person (resident ID checked) or an organisation
      tags: [funds]
      parameters:
        - in: path
          name: code
          schema: {type: string}
    # idempotency-key
      requestBody:
        required: true
        content:
          application/json:
            schema: DisbursementIn
      responses:
        201:
          description: The disbursement's journal entry (the payee's ID masked)
          content:
            application/json:
              schema: JournalEntryOut
        # write-errors
    """
    data = load_json(DisbursementIn())

    def operation(key):
        entry = services.disburse(
            db.session, current_actor(), code, data["amount"], payee=PayeeIn().to_payee(data["payee"]),
            purpose=data["purpose"], value_on=data["value_on"] or local_today(), memo=data["memo"],
            idempotency_key=key)
        return _entry_body(entry, code)

    return _write(operation)


@api_bp.post("/funds/<code>/holds")
@require_roles(*WRITERS)
@_with_write_docs
def place_hold(code):
    """Reserve money on a fund.
    ---
    post:
      summary: Hold (commitment) on a fund until an expiry; counts against the available balance
      tags: [holds]
      parameters:
        - in: path
          name: code
          schema: {type: string}
    # idempotency-key
      requestBody:
        required: true
        content:
          application/json:
            schema: HoldIn
      responses:
        201:
          description: The pending hold
          content:
            application/json:
              schema: HoldOut
        # write-errors
    """
    data = load_json(HoldIn())

    def operation(key):
        hold = services.place_hold(
            db.session, current_actor(), code, data["amount"], expires_at=hold_expiry(data),
            purpose=data["purpose"], payee=PayeeIn().to_payee(data["payee"]), memo=data["memo"],
            reference=data["reference"], idempotency_key=key)
        return HoldOut().dump(hold_data(hold))

    return _write(operation)


@api_bp.post("/holds/<int:hold_id>/post")
@require_roles(*WRITERS)
@_with_write_docs
def post_hold(hold_id):
    """Pay a pending hold.
    ---
    post:
      summary: Post a hold in full, or in part (`amount`; the rest is released)
      tags: [holds]
      parameters:
        - in: path
          name: hold_id
          schema: {type: integer}
    # idempotency-key
      requestBody:
        required: false
        content:
          application/json:
            schema: HoldPostIn
      responses:
        201:
          description: The payment's journal entry and the hold, now posted
          content:
            application/json:
              schema: HoldPostOut
        # write-errors
    """
    data = load_json(HoldPostIn()) if has_body() else HoldPostIn().load({})

    def operation(key):
        entry = services.post_hold(db.session, current_actor(), hold_id, data["amount"],
                                   value_on=data["value_on"], memo=data["memo"], idempotency_key=key)
        hold = _hold(hold_id)
        return HoldPostOut().dump({"entry": entry_data(entry, hold.fund.code), "hold": hold_data(hold)})

    return _write(operation)


@api_bp.post("/holds/<int:hold_id>/void")
@require_roles(*WRITERS)
def void_hold(hold_id):
    """Release a pending hold.
    ---
    post:
      summary: Void a pending hold; its amount is available again
      tags: [holds]
      parameters:
        - in: path
          name: hold_id
          schema: {type: integer}
        - in: header
          name: Idempotency-Key
          required: false
          schema: {type: string, maxLength: 120}
      requestBody:
        required: false
        content:
          application/json:
            schema: HoldVoidIn
      responses:
        200:
          description: The hold, now voided
          content:
            application/json:
              schema: HoldOut
        409:
          description: The hold is not pending (`hold_not_pending`)
          content:
            application/json:
              schema: Error
    """
    data = load_json(HoldVoidIn()) if has_body() else HoldVoidIn().load({})

    def operation(key):
        hold = services.void_hold(db.session, current_actor(), hold_id, reason=data["reason"])
        return HoldOut().dump(hold_data(hold))

    return _write(operation, status=200, key_required=False)


@api_bp.post("/entries/<voucher_no>/reverse")
@require_roles(*WRITERS)
@_with_write_docs
def reverse_entry(voucher_no):
    """Reverse (red-correct) an entry.
    ---
    post:
      summary: A new entry with every posting's side swapped, naming the original and the reason
      tags: [journal]
      parameters:
        - in: path
          name: voucher_no
          schema: {type: string}
    # idempotency-key
      requestBody:
        required: true
        content:
          application/json:
            schema: ReversalIn
      responses:
        201:
          description: The reversing entry (`already_reversed` if the original was reversed before)
          content:
            application/json:
              schema: JournalEntryOut
        # write-errors
    """
    data = load_json(ReversalIn())

    def operation(key):
        entry = services.reverse_entry(db.session, current_actor(), voucher_no, reason=data["reason"].strip(),
                                       value_on=data["value_on"], idempotency_key=key)
        return _entry_body(entry)

    return _write(operation)


@api_bp.post("/periods/<month>/close")
@require_roles(Role.finance, Role.admin)
def close_period(month):
    """Close an accounting month.
    ---
    post:
      summary: Close YYYY-MM; entries dated in it are refused (`period_closed`) from now on
      tags: [periods]
      parameters:
        - in: path
          name: month
          schema: {type: string, pattern: '^\\d{4}-(0[1-9]|1[0-2])$'}
          example: "2026-01"
      responses:
        200:
          description: The period, now closed
          content:
            application/json:
              schema: PeriodOut
        403:
          description: Only finance staff (and admins) close periods
          content:
            application/json:
              schema: Error
        409:
          description: Already closed
          content:
            application/json:
              schema: Error
    """
    _check_month(month)
    if has_body():
        load_json(PeriodCloseIn())

    def operation(key):
        return PeriodOut().dump(period_data(services.close_period(db.session, current_actor(), month)))

    return _write(operation, status=200, key_required=False)


@api_bp.post("/periods/<month>/reopen")
@require_roles(Role.admin)
def reopen_period(month):
    """Reopen a closed month (admin only; logged).
    ---
    post:
      summary: Reopen YYYY-MM with a reason; recorded in the audit log
      tags: [periods]
      parameters:
        - in: path
          name: month
          schema: {type: string, pattern: '^\\d{4}-(0[1-9]|1[0-2])$'}
      requestBody:
        required: true
        content:
          application/json:
            schema: PeriodReopenIn
      responses:
        200:
          description: The period, open again
          content:
            application/json:
              schema: PeriodOut
        403:
          description: Only administrators reopen periods
          content:
            application/json:
              schema: Error
        422:
          description: The reason is missing
          content:
            application/json:
              schema: Error
    """
    _check_month(month)
    data = load_json(PeriodReopenIn())

    def operation(key):
        period = services.reopen_period(db.session, current_actor(), month, reason=data["reason"].strip())
        return PeriodOut().dump(period_data(period))

    return _write(operation, status=200, key_required=False)
