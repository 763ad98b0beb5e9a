"""The care-procurement API edge: request and response schemas (marshmallow).

Amounts are decimal yuan strings ("300.00", `ledger.schemas.Amount`), integer fen inside. Resident
IDs and bank account numbers are answered masked (`3708**********1234`).
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from ..identity import mask_id_number, validate_credit_code, validate_resident_id
from ..funds.schemas import PageQuery
from ..schemas import Amount, AmountOut, PageOut, StrictSchema
from .models import CareLevel, ContractState, VendorStatus
from .services import contracts
from .services.vendors import BANK_NAME_MAX, ORGANISATION_NAME_MAX, WORKER_NUMBER_MAX

NAME_MAX = 100
NOTE_MAX = contracts.NOTE_MAX


def _checked(check):
    """A marshmallow validator from one of the product's field rules (ValueError -> the field's message)."""

    def validator(value):
        try:
            check(value)
        except ValueError as error:  # IdentityNumberError is one
            raise ValidationError(str(error)) from None

    return validator


# --- vendors -------------------------------------------------------------------------------------------

class VendorIn(StrictSchema):
    """A vendor to register (its organisation is made with it)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=ORGANISATION_NAME_MAX),
                         metadata={"not_blank": True})
    credit_code = fields.String(required=True, validate=[validate.Length(min=1, max=40),
                                                        _checked(validate_credit_code)],
                                metadata={"description": "统一社会信用代码, 18 characters with the GB 32100 check "
                                                         "character"})
    contact_name = fields.String(load_default="", validate=validate.Length(max=NAME_MAX))
    contact_phone = fields.String(load_default="", validate=validate.Length(max=20))
    bank_name = fields.String(load_default="", validate=validate.Length(max=BANK_NAME_MAX))
    bank_account_number = fields.String(load_default="", validate=validate.Length(max=40))
    bank_account_holder = fields.String(load_default="", validate=validate.Length(max=ORGANISATION_NAME_MAX))


class VendorStatusIn(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in VendorStatus]))
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class VendorOut(Schema):
    id = fields.Integer()
    organisation_code = fields.String()
    name = fields.String()
    credit_code = fields.String()
    contact_name = fields.String()
    contact_phone = fields.String()
    bank_name = fields.String()
    bank_account_masked = fields.String(metadata={"description": "the bank account number, masked"})
    bank_account_holder = fields.String()
    status = fields.String()


class VendorListOut(Schema):
    items = fields.List(fields.Nested(VendorOut))


def vendor_data(vendor) -> dict:
    organisation = vendor.organisation
    return {"id": vendor.id, "organisation_code": organisation.code, "name": organisation.name,
            "credit_code": organisation.credit_code or "", "contact_name": vendor.contact_name,
            "contact_phone": vendor.contact_phone, "bank_name": vendor.bank_name,
            "bank_account_masked": mask_id_number(vendor.bank_account_number),
            "bank_account_holder": vendor.bank_account_holder, "status": VendorStatus(vendor.status).value}


# --- workers -------------------------------------------------------------------------------------------

class WorkerIn(StrictSchema):
    worker_number = fields.String(required=True, validate=validate.Length(min=1, max=WORKER_NUMBER_MAX),
                                  metadata={"description": "the vendor's own number, unique within the vendor",
                                            "not_blank": True})
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX), metadata={"not_blank": True})
    resident_id = fields.String(required=True, validate=[validate.Length(min=1, max=40), _checked(validate_resident_id)],
                                metadata={"description": "居民身份证号 (GB 11643 check digit)"})
    phone = fields.String(load_default="", validate=validate.Length(max=20))
    active_from = fields.Date(required=True)
    active_to = fields.Date(load_default=None, allow_none=True)


class WorkerOut(Schema):
    id = fields.Integer()
    vendor_id = fields.Integer()
    worker_number = fields.String()
    name = fields.String()
    resident_id_masked = fields.String(metadata={"description": "3708**********1234"})
    phone = fields.String()
    active_from = fields.Date()
    active_to = fields.Date(allow_none=True)


class WorkerListOut(PageOut):
    items = fields.List(fields.Nested(WorkerOut))


def worker_data(worker) -> dict:
    return {"id": worker.id, "vendor_id": worker.vendor_id, "worker_number": worker.worker_number,
            "name": worker.name, "resident_id_masked": mask_id_number(worker.resident_id), "phone": worker.phone,
            "active_from": worker.active_from, "active_to": worker.active_to}


# --- contracts -----------------------------------------------------------------------------------------

def _price(level: str):
    return Amount(required=True, allow_zero=True, metadata={"description": f"price per person-month, {level}, in yuan"})


def _minimum(name: str, what: str):
    least, most = contracts.TERM_BOUNDS[name]
    return fields.Integer(required=True, validate=validate.Range(min=least, max=most), metadata={"description": what})


class TermsIn(StrictSchema):
    """What a version of a contract says: the ceiling, the penalty rate, prices and minimums per care level."""

    ceiling = Amount(required=True, metadata={"description": "the budget ceiling of the whole term, in yuan; "
                                                             "committed as a hold while the contract is active"})
    penalty_per_mille = fields.Integer(required=True, validate=validate.Range(min=0, max=1000),
                                       metadata={"description": "deducted per mille for care not given"})
    price_self_caring = _price("全自理 self-caring")
    price_partly_disabled = _price("半失能 partly disabled")
    price_fully_disabled = _price("全失能 fully disabled")
    visits_min_self_caring = _minimum("visits_min_self_caring", "visits per person per month, self-caring")
    visits_min_partly_disabled = _minimum("visits_min_partly_disabled", "visits per person per month, partly disabled")
    visits_min_fully_disabled = _minimum("visits_min_fully_disabled", "visits per person per month, fully disabled")
    minutes_min_self_caring = _minimum("minutes_min_self_caring", "minutes per visit, self-caring")
    minutes_min_partly_disabled = _minimum("minutes_min_partly_disabled", "minutes per visit, partly disabled")
    minutes_min_fully_disabled = _minimum("minutes_min_fully_disabled", "minutes per visit, fully disabled")
    note = fields.String(load_default="", validate=validate.Length(max=NOTE_MAX))


class ContractIn(TermsIn):
    vendor_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    county = fields.String(required=True, validate=validate.Length(min=1, max=20),
                           metadata={"description": "the county's code, e.g. 370827"})
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class AmendmentIn(TermsIn):
    effective_on = fields.Date(required=True, metadata={"description": "the first day the new terms apply"})


class ContractMoveIn(StrictSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=NOTE_MAX))


class ContractsQuery(PageQuery):
    vendor_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    county = fields.String(load_default=None, validate=validate.Length(max=20))
    state = fields.String(load_default=None, validate=validate.OneOf([s.value for s in ContractState]))


def terms_of(data: dict) -> contracts.Terms:
    """The service's Terms from a loaded TermsIn."""
    values = {"ceiling_fen": data["ceiling"], "penalty_per_mille": data["penalty_per_mille"]}
    for level in CareLevel:
        values[f"price_{level.value}_fen"] = data[f"price_{level.value}"]
        values[f"visits_min_{level.value}"] = data[f"visits_min_{level.value}"]
        values[f"minutes_min_{level.value}"] = data[f"minutes_min_{level.value}"]
    return contracts.Terms(**values)


class VersionOut(Schema):
    version_no = fields.Integer()
    effective_on = fields.Date()
    ceiling = AmountOut()
    penalty_per_mille = fields.Integer()
    price_self_caring = AmountOut()
    price_partly_disabled = AmountOut()
    price_fully_disabled = AmountOut()
    visits_min_self_caring = fields.Integer()
    visits_min_partly_disabled = fields.Integer()
    visits_min_fully_disabled = fields.Integer()
    minutes_min_self_caring = fields.Integer()
    minutes_min_partly_disabled = fields.Integer()
    minutes_min_fully_disabled = fields.Integer()
    note = fields.String()


class CommitmentOut(Schema):
    ceiling = AmountOut()
    committed = AmountOut(metadata={"description": "the pending hold on the county's care budget"})
    posted = AmountOut(metadata={"description": "paid from the contract's holds so far"})
    remaining = AmountOut(metadata={"description": "the ceiling less what has been paid"})
    hold_id = fields.Integer(allow_none=True)
    hold_expires_at = fields.DateTime(allow_none=True)


class ContractOut(Schema):
    id = fields.Integer()
    number = fields.String(metadata={"description": "HT-2026-370827-001"})
    vendor_id = fields.Integer()
    vendor_name = fields.String()
    county_code = fields.String()
    county_name = fields.String()
    fund_code = fields.String(metadata={"description": "the county's care budget fund"})
    starts_on = fields.Date()
    ends_on = fields.Date()
    state = fields.String()
    actions = fields.List(fields.String(), metadata={"description": "the moves allowed from this state"})
    commitment = fields.Nested(CommitmentOut)
    versions = fields.List(fields.Nested(VersionOut))


class ContractListOut(PageOut):
    items = fields.List(fields.Nested(ContractOut))


def version_data(version) -> dict:
    data = {"version_no": version.version_no, "effective_on": version.effective_on, "ceiling": version.ceiling_fen,
            "penalty_per_mille": version.penalty_per_mille, "note": version.note}
    for level in CareLevel:
        data[f"price_{level.value}"] = version.price_fen(level)
        data[f"visits_min_{level.value}"] = version.visits_min(level)
        data[f"minutes_min_{level.value}"] = version.minutes_min(level)
    return data


def contract_data(contract, figures: contracts.Commitment) -> dict:
    return {"id": contract.id, "number": contract.number, "vendor_id": contract.vendor_id,
            "vendor_name": contract.vendor.organisation.name, "county_code": contract.county.code,
            "county_name": contract.county.name, "fund_code": contract.fund.code, "starts_on": contract.starts_on,
            "ends_on": contract.ends_on, "state": ContractState(contract.state).value,
            "actions": contracts.contract_actions(contract),
            "commitment": {"ceiling": figures.ceiling_fen, "committed": figures.committed_fen,
                           "posted": figures.posted_fen, "remaining": figures.remaining_fen,
                           "hold_id": figures.hold_id, "hold_expires_at": figures.hold_expires_at},
            "versions": [version_data(version) for version in contract.versions]}


class CareBudgetOut(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()
    posted = AmountOut(metadata={"description": "received"})
    pending = AmountOut(metadata={"description": "committed by contracts"})
    available = AmountOut()


class CareBudgetListOut(Schema):
    items = fields.List(fields.Nested(CareBudgetOut))
