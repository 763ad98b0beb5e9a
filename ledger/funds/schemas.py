"""The fund ledger's JSON edge: request schemas (strict, amounts as decimal strings) and
response schemas (what the API returns; the OpenAPI document is generated from them).

Amounts enter and leave as yuan decimal strings ("1234.56") through `ledger.schemas.Amount`
and are integer fen in between. Identity numbers are validated by checksum on the way in
and masked on the way out: a full resident ID never appears in a response.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..errors import _l
from ..identity import IdentityNumberError, shown_counterparty_id, validate_credit_code, validate_resident_id
from ..journal.dates import HOLD_MAX_DAYS
from ..schemas import PAGE_MAX, Amount, AmountOut, LocalDateTime, QuerySchema, StrictSchema
from ..timeutil import as_utc, utcnow
from .services import Payee
from .vocabulary import Purpose, ReceiptSource

#: A month of the books, YYYY-MM, in the years 1900 to 2099 (the dates of the months around any month
#: the ledger may close or reopen must exist: no year 0, no year 10000).
MONTH_PATTERN = r"^(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])$"
#: Longest hold a person may place through the API: a commitment, not a parking place.
HOLD_MAX_HOURS = 24 * HOLD_MAX_DAYS


# --- requests -----------------------------------------------------------------------------

class PayeeIn(StrictSchema):
    """A person (name and resident ID, checked by its check digit) or an organisation
    (name, optional unified social credit code)."""

    kind = fields.String(required=True, validate=validate.OneOf(["person", "organisation"]))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={"not_blank": True})
    id_number = fields.String(load_default=None, validate=validate.Length(max=40),
                              metadata={"description": "resident ID (person, required) or credit code "
                                                       "(organisation, optional); masked in every response"})

    @validates_schema
    def check_id_number(self, data, **kwargs):
        name = (data.get("name") or "").strip()
        if not name:
            raise ValidationError(_l("must not be blank"), "name")
        number = (data.get("id_number") or "").strip() or None
        try:
            if data.get("kind") == "person":
                if number is None:
                    raise ValidationError(_l("a person needs a resident ID number"), "id_number")
                validate_resident_id(number)
            elif number is not None:
                validate_credit_code(number)
        except IdentityNumberError as error:
            raise ValidationError(error.args[0], "id_number") from None

    def to_payee(self, data: dict | None) -> Payee | None:
        if data is None:
            return None
        number = (data.get("id_number") or "").strip().upper() or None
        return Payee(kind=data["kind"], name=data["name"].strip(), id_number=number)


class ReceiptIn(StrictSchema):
    amount = Amount(required=True)
    source = fields.String(required=True, validate=validate.OneOf(sorted(ReceiptSource.codes())),
                           metadata={"description": "donation or government"})
    payer_name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                               metadata={"description": "the donor or paying body", "not_blank": True})
    value_on = fields.Date(load_default=None, metadata={"description": "business date; default today"})
    memo = fields.String(load_default="", validate=validate.Length(max=1000))
    confirm_large_amount = fields.Boolean(
        load_default=False, truthy={True}, falsy={False},
        metadata={"description": "true confirms a receipt above the large-receipt threshold "
                                 "(LARGE_RECEIPT_CONFIRM_FEN, default 500000.00 yuan); without it such a receipt "
                                 "is refused with 422 `confirmation_required`, naming this field, the amount and "
                                 "the amount in Chinese capital words"})


class AllocationIn(StrictSchema):
    from_fund = fields.String(required=True, validate=validate.Length(min=1, max=20))
    to_fund = fields.String(required=True, validate=validate.Length(min=1, max=20))
    amount = Amount(required=True)
    value_on = fields.Date(load_default=None)
    memo = fields.String(load_default="", validate=validate.Length(max=1000))

    @validates_schema
    def check_funds_differ(self, data, **kwargs):
        if data.get("from_fund") and data.get("from_fund") == data.get("to_fund"):
            raise ValidationError(_l("must differ from from_fund"), "to_fund")


class DisbursementIn(StrictSchema):
    amount = Amount(required=True)
    payee = fields.Nested(PayeeIn, required=True)
    purpose = fields.String(required=True, validate=validate.OneOf(sorted(Purpose.codes())))
    value_on = fields.Date(load_default=None)
    memo = fields.String(load_default="", validate=validate.Length(max=1000))


class HoldIn(StrictSchema):
    amount = Amount(required=True)
    expires_at = LocalDateTime(load_default=None, metadata={"description": "ISO 8601; local time if no offset"})
    expires_in_hours = fields.Integer(load_default=None, strict=True,
                                      validate=validate.Range(min=1, max=HOLD_MAX_HOURS))
    purpose = fields.String(required=True, validate=validate.OneOf(sorted(Purpose.codes())))
    payee = fields.Nested(PayeeIn, load_default=None, allow_none=True)
    reference = fields.String(load_default=None, validate=validate.Length(max=60))
    memo = fields.String(load_default="", validate=validate.Length(max=1000))

    @validates_schema
    def check_expiry(self, data, **kwargs):
        at, hours = data.get("expires_at"), data.get("expires_in_hours")
        if at is None and hours is None:
            raise ValidationError(_l("give expires_at or expires_in_hours"), "expires_at")
        if at is not None and hours is not None:
            raise ValidationError(_l("give expires_at or expires_in_hours, not both"), "expires_in_hours")
        if at is not None:
            if at <= utcnow():
                raise ValidationError(_l("must be in the future"), "expires_at")
            if at > utcnow() + timedelta(hours=HOLD_MAX_HOURS):
                raise ValidationError(_l("must be within %(hours)s hours", hours=HOLD_MAX_HOURS), "expires_at")


def hold_expiry(data: dict) -> datetime:
    """The UTC expiry of a loaded HoldIn."""
    return data["expires_at"] or utcnow() + timedelta(hours=data["expires_in_hours"])


class HoldPostIn(StrictSchema):
    amount = Amount(load_default=None, metadata={"description": "for a partial post; the rest is released"})
    value_on = fields.Date(load_default=None)
    memo = fields.String(load_default="", validate=validate.Length(max=1000))


class HoldVoidIn(StrictSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class ReversalIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000), metadata={"not_blank": True})
    value_on = fields.Date(load_default=None, metadata={"description": "date of the reversing entry; default today"})

    @validates_schema
    def check_reason(self, data, **kwargs):
        if not (data.get("reason") or "").strip():
            raise ValidationError(_l("must not be blank"), "reason")


class PeriodCloseIn(StrictSchema):
    """Closing a period takes no fields (the month is in the path)."""


class PeriodReopenIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000), metadata={"not_blank": True})

    @validates_schema
    def check_reason(self, data, **kwargs):
        if not (data.get("reason") or "").strip():
            raise ValidationError(_l("must not be blank"), "reason")


class AsOfQuery(QuerySchema):
    as_of = fields.Date(load_default=None, metadata={"description": "YYYY-MM-DD, end of that day"})


class TrialBalanceQuery(AsOfQuery):
    county = fields.String(load_default=None, validate=validate.Length(max=20),
                           metadata={"description": "a county fund's code: it and its villages"})
    level = fields.String(load_default=None, validate=validate.OneOf(["city", "county", "village"]),
                          metadata={"description": "only the funds of this level"})


class PageQuery(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class HoldsQuery(QuerySchema):
    state = fields.String(load_default=None, validate=validate.OneOf(["pending", "posted", "voided", "expired"]))


# --- responses ----------------------------------------------------------------------------

def shown_id_number(kind: str | None, id_number: str | None) -> str | None:
    """`identity.shown_counterparty_id`, with None where there is no number (the JSON shape)."""
    return shown_counterparty_id(kind, id_number) or None


class CounterpartyOut(Schema):
    kind = fields.String(metadata={"description": "person, organisation, donor, government or fund"})
    name = fields.String()
    id_number = fields.Function(lambda obj: shown_id_number(obj.get("kind"), obj.get("id_number")),
                                metadata={"description": "resident ID or credit code, masked: 3708**********1234 "
                                                         "(for a fund: its code)"})


class PostingOut(Schema):
    account_code = fields.String()
    account_name = fields.String()
    fund_code = fields.String()
    side = fields.String(metadata={"description": "debit or credit"})
    amount = AmountOut()


class PreparerOut(Schema):
    username = fields.String()
    display_name = fields.String(metadata={"description": "the name shown on vouchers and reports"})


class JournalEntryOut(Schema):
    voucher_no = fields.String()
    kind = fields.String(metadata={"description": "opening, receipt, allocation, disbursement, hold_post, reversal"})
    value_on = fields.Date()
    posted_at = LocalDateTime()
    memo = fields.String()
    purpose = fields.String(allow_none=True)
    counterparty = fields.Nested(CounterpartyOut, allow_none=True)
    postings = fields.List(fields.Nested(PostingOut))
    reverses = fields.String(allow_none=True, metadata={"description": "voucher this entry reverses"})
    reversal_reason = fields.String(allow_none=True)
    reversed_by = fields.String(allow_none=True, metadata={"description": "voucher that reversed this entry"})
    hold_id = fields.Integer(allow_none=True)
    prepared_by = fields.Nested(PreparerOut, allow_none=True,
                                metadata={"description": "who prepared the voucher (制单人): the user who recorded "
                                                         "it; null for entries recorded by a command"})
    fund_amount = AmountOut(allow_none=True, metadata={"description": "in fund listings: the effect on that "
                                                                   "fund's cash, positive in, negative out"})
    other_funds = fields.List(fields.String(), metadata={"description": "in fund listings: the other funds "
                                                                         "the entry touches (allocations)"})


class FundOut(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String(metadata={"description": "city, county or village"})
    parent = fields.String(allow_none=True, attribute="parent_code")
    posted = AmountOut(attribute="posted_fen")
    pending = AmountOut(attribute="pending_fen")
    available = AmountOut(attribute="available_fen")
    total_posted = AmountOut(attribute="total_posted_fen", metadata={"description": "this fund and all below it"})
    total_pending = AmountOut(attribute="total_pending_fen")
    total_available = AmountOut(attribute="total_available_fen")


class FundNodeOut(FundOut):
    children = fields.List(fields.Nested(lambda: FundNodeOut()))


class FundTreeOut(Schema):
    as_of = fields.Date(allow_none=True)
    funds = fields.List(fields.Nested(FundNodeOut), metadata={"description": "roots first"})


class FundEntriesOut(Schema):
    fund = fields.Nested(FundOut)
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer(metadata={"description": "entries touching the fund"})
    pages = fields.Integer()
    items = fields.List(fields.Nested(JournalEntryOut))


class HoldOut(Schema):
    id = fields.Integer()
    fund_code = fields.String()
    amount = AmountOut()
    posted = AmountOut(metadata={"description": "paid out of this hold so far"})
    released = AmountOut(metadata={"description": "released back to the fund's available balance (the unpaid rest of "
                                               "a paid hold, all of a voided or expired one)"})
    state = fields.String(metadata={"description": "pending, posted, voided or expired"})
    expired = fields.Boolean(metadata={"description": "pending but past its expiry: can no longer be posted"})
    expires_at = LocalDateTime()
    purpose = fields.String(allow_none=True)
    payee = fields.Nested(CounterpartyOut, allow_none=True)
    reference = fields.String(allow_none=True)
    memo = fields.String()
    created_at = LocalDateTime()
    resolved_at = LocalDateTime(allow_none=True)


class HoldListOut(Schema):
    items = fields.List(fields.Nested(HoldOut))


class HoldPostOut(Schema):
    entry = fields.Nested(JournalEntryOut)
    hold = fields.Nested(HoldOut)


class TrialBalanceRowOut(Schema):
    account_code = fields.String()
    account_name = fields.String()
    kind = fields.String()
    fund_code = fields.String()
    debit = AmountOut()
    credit = AmountOut()
    balance = AmountOut(metadata={"description": "debit minus credit"})


class TrialBalanceGroupOut(Schema):
    fund_code = fields.String(metadata={"description": "the county's fund (or the city fund)"})
    fund_name = fields.String()
    rows = fields.List(fields.Nested(TrialBalanceRowOut))
    debit = AmountOut(metadata={"description": "subtotal of the group's debits"})
    credit = AmountOut(metadata={"description": "subtotal of the group's credits"})


class TrialBalanceOut(Schema):
    as_of = fields.Date(allow_none=True)
    rows = fields.List(fields.Nested(TrialBalanceRowOut))
    groups = fields.List(fields.Nested(TrialBalanceGroupOut),
                         metadata={"description": "the same rows by county (the city fund on its own), with subtotals"})
    total_debit = AmountOut()
    total_credit = AmountOut()
    balanced = fields.Boolean(metadata={"description": "debits equal credits"})


class JournalVerifyOut(Schema):
    status = fields.String(metadata={"description": "ok or broken"})
    ok = fields.Boolean()
    entry_count = fields.Integer()
    chain_count = fields.Integer()
    heads = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "fund code -> head digest of its chain"})
    digest = fields.String(metadata={"description": "one digest over every chain head"})
    problem = fields.String(allow_none=True)
    voucher_no = fields.String(allow_none=True)
    fund_code = fields.String(allow_none=True)
    chain_seq = fields.Integer(allow_none=True)


class PeriodEventOut(Schema):
    action = fields.String(metadata={"description": "close or reopen"})
    at = LocalDateTime()
    by = fields.String(metadata={"description": "who did it (display name)"})
    reason = fields.String(metadata={"description": "why (a reopen always has one)"})


class PeriodOut(Schema):
    month = fields.String()
    closed = fields.Boolean()
    closed_at = LocalDateTime(allow_none=True)
    reopened_at = LocalDateTime(allow_none=True)
    history = fields.List(fields.Nested(PeriodEventOut), metadata={"description": "closes and reopens, oldest first"})


class PeriodChecklistOut(Schema):
    month = fields.String()
    closable = fields.Boolean(metadata={"description": "ended, not closed yet and every earlier month closed"})
    ended = fields.Boolean()
    closable_on = fields.Date(metadata={"description": "the first day the month may be closed"})
    already_closed = fields.Boolean()
    first_month = fields.String(allow_none=True, metadata={"description": "the books' first month"})
    open_months_before = fields.List(fields.String(), metadata={"description": "to close first"})
    entry_count = fields.Integer()
    pending_holds = fields.List(fields.Nested(HoldOut), metadata={"description": "placed before the month "
                                                                               "ended, still pending"})


class PeriodListOut(Schema):
    items = fields.List(fields.Nested(PeriodOut))


# --- presenting models to the response schemas ----------------------------------------------

def _enum_value(value):
    return getattr(value, "value", value)


def counterparty_data(kind, name, id_number) -> dict | None:
    if not kind and not name:
        return None
    return {"kind": kind, "name": name, "id_number": id_number}


def preparer_data(user) -> dict | None:
    """Who prepared a voucher (制单人): the user whose request recorded it; None for an entry a
    command recorded with no user (the opening balances of seed-demo)."""
    if user is None:
        return None
    return {"username": user.username, "display_name": user.display_name or user.username}


def entry_data(entry, fund_code: str | None = None) -> dict:
    """A JournalEntry as the plain dict JournalEntryOut dumps (the ID number still unmasked:
    the schema masks it). With `fund_code`, `fund_amount` is the entry's effect on that
    fund's cash account (positive in, negative out)."""
    postings = []
    fund_amount_fen = 0
    other_funds: dict[str, str] = {}
    for posting in entry.postings:
        account = posting.account
        side = _enum_value(posting.side)
        code = account.fund.code
        if fund_code is not None and code != fund_code:
            other_funds[code] = account.fund.name
        postings.append({"account_code": account.code, "account_name": account.name, "fund_code": code,
                         "side": side, "amount": posting.amount_fen})
        if fund_code is not None and code == fund_code and _enum_value(account.role) == "cash":
            fund_amount_fen += posting.amount_fen if side == "debit" else -posting.amount_fen
    reversed_by = entry.reversed_by
    return {
        "voucher_no": entry.voucher_no,
        "kind": _enum_value(entry.kind),
        "value_on": entry.value_on,
        "posted_at": entry.posted_at,
        "memo": entry.memo or "",
        "purpose": entry.purpose,
        "counterparty": counterparty_data(entry.counterparty_kind, entry.counterparty_name,
                                          entry.counterparty_id_number),
        "postings": postings,
        "reverses": entry.reverses.voucher_no if entry.reverses is not None else None,
        "reversal_reason": entry.reversal_reason,
        "reversed_by": reversed_by.voucher_no if reversed_by is not None else None,
        "hold_id": entry.hold_id,
        "prepared_by": preparer_data(entry.created_by),
        "fund_amount": fund_amount_fen if fund_code is not None else None,
        "other_funds": sorted(other_funds),
        "other_fund_names": [other_funds[code] for code in sorted(other_funds)],
    }


def hold_data(hold) -> dict:
    state = _enum_value(hold.state)
    return {
        "id": hold.id,
        "fund_code": hold.fund.code,
        "amount": hold.amount_fen,
        "posted": hold.posted_fen or 0,
        # What went back to the available balance: the unpaid rest of a paid hold, all of a voided or
        # expired one; nothing while the hold is pending.
        "released": 0 if state == "pending" else hold.amount_fen - (hold.posted_fen or 0),
        "state": state,
        "expired": state == "pending" and as_utc(hold.expires_at) <= utcnow(),
        "expires_at": hold.expires_at,
        "purpose": hold.purpose,
        "payee": counterparty_data(hold.payee_kind, hold.payee_name, hold.payee_id_number),
        "reference": hold.reference,
        "memo": hold.memo or "",
        "created_at": hold.created_at,
        "resolved_at": hold.resolved_at,
    }


def period_data(period, history: dict | None = None) -> dict:
    events = (history or {}).get(period.month, [])
    return {"month": period.month, "closed": bool(period.closed), "closed_at": period.closed_at,
            "reopened_at": period.reopened_at,
            "history": [{"action": e.action, "at": e.at, "by": e.by, "reason": e.reason} for e in events]}


def period_checklist_data(checklist) -> dict:
    return {"month": checklist.month, "closable": checklist.closable, "ended": checklist.ended,
            "closable_on": checklist.closable_on, "already_closed": checklist.already_closed,
            "first_month": checklist.first_month, "open_months_before": checklist.open_months_before,
            "entry_count": checklist.entry_count,
            "pending_holds": [hold_data(hold) for hold in checklist.pending_holds]}


def _trial_balance_row(row) -> dict:
    return {"account_code": row.account_code, "account_name": row.account_name, "kind": _enum_value(row.kind),
            "fund_code": row.fund_code, "debit": row.debit_fen, "credit": row.credit_fen, "balance": row.balance_fen}


def trial_balance_data(rows, as_of, groups=None) -> dict:
    """The trial balance's rows and totals; with `groups` (`services.trial_balance_groups`), its
    rows are theirs and each group carries its subtotals."""
    if groups is not None:
        rows = [row for group in groups for row in group.rows]
    total_debit = sum(row.debit_fen for row in rows)
    total_credit = sum(row.credit_fen for row in rows)
    return {
        "as_of": as_of,
        "rows": [_trial_balance_row(row) for row in rows],
        "groups": [{"fund_code": group.fund_code, "fund_name": group.fund_name, "debit": group.debit_fen,
                    "credit": group.credit_fen, "rows": [_trial_balance_row(row) for row in group.rows]}
                   for group in groups or []],
        "total_debit": total_debit,
        "total_credit": total_credit,
        "balanced": total_debit == total_credit,
    }


def verify_data(result) -> dict:
    return {"status": "ok" if result.ok else "broken", "ok": result.ok, "entry_count": result.entry_count,
            "chain_count": result.chain_count, "heads": result.heads, "digest": result.digest,
            "problem": result.problem, "voucher_no": result.voucher_no, "fund_code": result.fund_code,
            "chain_seq": result.chain_seq}
