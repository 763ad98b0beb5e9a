"""The registry's API edge: request and response schemas (marshmallow).

Responses carry resident IDs and bank account numbers masked (`3708**********1234`), except
`PersonFullOut`, answered only by the audited reveal operation.
"""
from __future__ import annotations

import base64
import binascii

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from ..identity import IdentityNumberError, mask_id_number, validate_resident_id
from ..schemas import PAGE_MAX, QuerySchema, StrictSchema
from .models import Category, Relation
from .services import (ADDRESS_MAX, BANK_NAME_MAX, NAME_MAX, SEARCH_MAX, CategoryInput, PersonInput,
                       check_bank_account, check_phone)

#: The largest registry file the API takes (base64 in JSON adds a third; the body limit still applies).
IMPORT_FILE_MAX_BYTES = 10 * 1024 * 1024


def service_rule(check):
    """A field validator from a service's rule of one field (its ValueError becomes the field's error)."""

    def validator(value):
        try:
            check(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    return validator


class PersonsQuery(QuerySchema):
    q = fields.String(load_default="", validate=validate.Length(max=SEARCH_MAX),
                      metadata={"description": "a name, the last 4-6 characters of a resident ID, or a whole ID"})
    county = fields.String(load_default=None, validate=validate.Length(max=20),
                           metadata={"description": "a county's code, e.g. 370827"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class CategoryIn(StrictSchema):
    category = fields.String(required=True, validate=validate.OneOf([c.value for c in Category]))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(load_default=None, allow_none=True)
    disability_grade = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=4),
                                      metadata={"description": "1 to 4, for a disability only"})

    @validates_schema
    def check_rules(self, data, **kwargs):
        if data["category"] == Category.disability.value and data.get("disability_grade") is None:
            raise ValidationError("a disability needs its grade, 1 to 4", "disability_grade")
        if data["category"] != Category.disability.value and data.get("disability_grade") is not None:
            raise ValidationError("only a disability has a grade", "disability_grade")
        if data.get("ends_on") is not None and data["ends_on"] < data["starts_on"]:
            raise ValidationError("ends before it starts", "ends_on")


class PersonIn(StrictSchema):
    """A person to register; a resident ID already registered answers that person (`created: false`)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    resident_id = fields.String(required=True, validate=validate.Length(min=1, max=40),
                                metadata={"description": "居民身份证号 (GB 11643 check digit); sex and birth date "
                                                         "are read from it"})
    village_code = fields.String(required=True, validate=validate.Length(min=1, max=20),
                                 metadata={"description": "the village / community, e.g. 370827-001"})
    phone = fields.String(load_default="", validate=[validate.Length(max=20), service_rule(check_phone)])
    address = fields.String(load_default="", validate=validate.Length(max=ADDRESS_MAX))
    household_head_resident_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40),
                                               metadata={"description": "the head's resident ID (registered "
                                                                        "already); absent: the head of a new "
                                                                        "household"})
    relation = fields.String(load_default=Relation.head.value, validate=validate.OneOf([r.value for r in Relation]))
    categories = fields.List(fields.Nested(CategoryIn), load_default=list, validate=validate.Length(max=8))
    bank_name = fields.String(load_default="", validate=validate.Length(max=BANK_NAME_MAX))
    bank_account_number = fields.String(load_default="", validate=[validate.Length(max=40),
                                                                   service_rule(check_bank_account)])
    bank_account_holder = fields.String(load_default="", validate=validate.Length(max=NAME_MAX))

    @validates("name")
    def check_name(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("must not be blank")

    @validates("resident_id")
    def check_resident_id(self, value, **kwargs):
        try:
            validate_resident_id(value)
        except IdentityNumberError as error:
            raise ValidationError(str(error)) from None



def person_input(data: dict) -> PersonInput:
    return PersonInput(
        name=data["name"], resident_id=data["resident_id"], village_code=data["village_code"], phone=data["phone"],
        address=data["address"], household_head_resident_id=data["household_head_resident_id"],
        relation=Relation(data["relation"]),
        categories=tuple(CategoryInput(Category(item["category"]), item["starts_on"], item["ends_on"],
                                       item["disability_grade"]) for item in data["categories"]),
        bank_name=data["bank_name"], bank_account_number=data["bank_account_number"],
        bank_account_holder=data["bank_account_holder"])


class ImportIn(StrictSchema):
    filename = fields.String(load_default="", validate=validate.Length(max=255))
    content_base64 = fields.String(required=True,
                                   validate=validate.Length(min=1, max=IMPORT_FILE_MAX_BYTES * 4 // 3 + 4),
                                   metadata={"description": "the CSV or XLSX file's bytes, base64"})
    apply = fields.Boolean(load_default=False, metadata={"description": "false: preview only; true: import all "
                                                                        "rows or none"})

    @validates("content_base64")
    def check_base64(self, value, **kwargs):
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("not base64") from None


class CategoryOut(Schema):
    category = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    disability_grade = fields.Integer(allow_none=True)


class PersonOut(Schema):
    id = fields.Integer()
    name = fields.String()
    resident_id_masked = fields.String(metadata={"description": "3708**********1234"})
    sex = fields.String()
    born_on = fields.Date()
    phone = fields.String()
    address = fields.String()
    village_code = fields.String()
    village = fields.String()
    county_code = fields.String()
    county = fields.String()
    household_id = fields.Integer(allow_none=True)
    relation = fields.String()
    categories = fields.List(fields.Nested(CategoryOut))
    bank_name = fields.String()
    bank_account_masked = fields.String()
    bank_account_holder = fields.String()
    created = fields.Boolean(metadata={"description": "on registration: false when the ID was registered already"})


class PersonListOut(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    items = fields.List(fields.Nested(PersonOut))


class PersonFullOut(Schema):
    id = fields.Integer()
    name = fields.String()
    resident_id = fields.String(metadata={"description": "the full number; this view is written to the audit log"})
    bank_account_number = fields.String()


class RowErrorOut(Schema):
    row = fields.Integer()
    column = fields.String(allow_none=True)
    key = fields.String(allow_none=True)
    value = fields.Raw(allow_none=True)
    message = fields.String()


class ImportOut(Schema):
    filename = fields.String()
    file_type = fields.String()
    encoding = fields.String(allow_none=True)
    sha256 = fields.String()
    row_count = fields.Integer()
    ok = fields.Boolean(metadata={"description": "no row refused"})
    already_imported = fields.Boolean(metadata={"description": "this file was imported before (nothing written)"})
    applied = fields.Boolean(metadata={"description": "written now"})
    batch_id = fields.Integer(allow_none=True)
    errors = fields.List(fields.Nested(RowErrorOut))


def person_data(person, created: bool | None = None) -> dict:
    village = person.region
    county = person.county
    data = {
        "id": person.id, "name": person.name, "resident_id_masked": mask_id_number(person.resident_id),
        "sex": person.sex.value if hasattr(person.sex, "value") else person.sex, "born_on": person.born_on,
        "phone": person.phone, "address": person.address, "village_code": village.code, "village": village.name,
        "county_code": county.code, "county": county.name, "household_id": person.household_id,
        "relation": person.relation.value if hasattr(person.relation, "value") else person.relation,
        "categories": [{"category": item.category.value, "starts_on": item.starts_on, "ends_on": item.ends_on,
                        "disability_grade": item.disability_grade} for item in person.categories],
        "bank_name": person.bank_name, "bank_account_masked": mask_id_number(person.bank_account_number),
        "bank_account_holder": person.bank_account_holder,
    }
    if created is not None:
        data["created"] = created
    return data


# --- changes to a registered person ---------------------------------------------------------------

class ContactIn(StrictSchema):
    """The fields to change (absent: unchanged)."""

    phone = fields.String(validate=[validate.Length(max=20), service_rule(check_phone)])
    address = fields.String(validate=validate.Length(max=ADDRESS_MAX))
    village_code = fields.String(validate=validate.Length(min=1, max=20),
                                 metadata={"description": "a village / community of your county, e.g. 370827-001; "
                                                          "the person's county follows it"})


class CategoryEndIn(StrictSchema):
    ends_on = fields.Date(required=True, metadata={"description": "the last day of the period (on or after its start)"})


class BankCardIn(StrictSchema):
    """A bank card: bank, number and holder together; all three empty removes the card."""

    bank_name = fields.String(required=True, validate=validate.Length(max=BANK_NAME_MAX))
    bank_account_number = fields.String(required=True,
                                        validate=[validate.Length(max=40), service_rule(check_bank_account)])
    bank_account_holder = fields.String(required=True, validate=validate.Length(max=NAME_MAX))


class HouseholdHeadIn(StrictSchema):
    previous_head_relation = fields.String(
        load_default=Relation.other.value, validate=validate.OneOf([r.value for r in Relation if r != Relation.head]),
        metadata={"description": "the former head's relation to the new head"})


class HouseholdMemberIn(StrictSchema):
    resident_id = fields.String(required=True, validate=validate.Length(min=1, max=40),
                                metadata={"description": "the member's resident ID (registered already)"})
    relation = fields.String(required=True, validate=validate.OneOf([r.value for r in Relation if r != Relation.head]))


class CategoryRowOut(CategoryOut):
    id = fields.Integer()


class PersonDetailOut(PersonOut):
    """A person with the numbers of their category periods (to end one) and their household's members."""

    categories = fields.List(fields.Nested(CategoryRowOut))
    members = fields.List(fields.Nested(lambda: MemberOut()))


class MemberOut(Schema):
    id = fields.Integer()
    name = fields.String()
    relation = fields.String()
    resident_id_masked = fields.String()


def person_detail(person, members) -> dict:
    data = person_data(person)
    data["categories"] = [{"id": item.id, "category": item.category.value, "starts_on": item.starts_on,
                           "ends_on": item.ends_on, "disability_grade": item.disability_grade}
                          for item in person.categories]
    data["members"] = [{"id": member.id, "name": member.name, "relation": member.relation.value,
                        "resident_id_masked": mask_id_number(member.resident_id)} for member in members]
    return data
# --- tier policies and applications ---------------------------------------------------------------

from ..schemas import Amount, AmountOut, LocalDateTime  # noqa: E402
from . import applications as _applications, policies as _policies  # noqa: E402
from .application_models import ApplicationState, FollowUpKind, Urgency  # noqa: E402

APPLICATION_STATES = [state.value for state in ApplicationState]
CATEGORY_VALUES = [category.value for category in Category]
_CATEGORY = "(?:" + "|".join(CATEGORY_VALUES) + ")"
#: Registry categories, comma-separated (or none): the document states the list, not only the code.
CATEGORY_LIST_PATTERN = rf"^(?:{_CATEGORY}(?:,{_CATEGORY})*)?$"


class BandIn(StrictSchema):
    threshold = Amount(required=True, metadata={"description": "from this out-of-pocket cost on, in yuan"})
    amount = Amount(required=True, metadata={"description": "the aid of the band, in yuan, before the factor"})


class FactorIn(StrictSchema):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORY_VALUES))
    factor_permille = fields.Integer(required=True, strict=True,
                                     validate=validate.Range(min=1, max=_policies.FACTOR_MAX),
                                     metadata={"description": "per mille: 1.2 is 1200"})


class PolicyVersionIn(StrictSchema):
    """The rules of a policy version; amounts are yuan as decimal strings, factors per mille."""

    effective_on = fields.Date(required=True)
    annual_cap = Amount(required=True, metadata={"description": "most one person receives in a year, all funds"})
    county_approval_max = Amount(required=True, allow_zero=True,
                                 metadata={"description": "most a county reviewer approves alone"})
    once_per_household_per_year = fields.Boolean(load_default=False)
    bands = fields.List(fields.Nested(BandIn), required=True,
                        validate=validate.Length(min=1, max=_policies.BANDS_MAX))
    factors = fields.List(fields.Nested(FactorIn), load_default=list, validate=validate.Length(max=len(Category)))


class PolicyIn(StrictSchema):
    fund_code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    name = fields.String(required=True, validate=validate.Length(min=1, max=_policies.POLICY_NAME_MAX),
                         metadata={"not_blank": True})
    version = fields.Nested(PolicyVersionIn, required=True)


def version_input(data: dict) -> _policies.VersionInput:
    return _policies.VersionInput(
        effective_on=data["effective_on"], annual_cap_fen=data["annual_cap"],
        county_approval_max_fen=data["county_approval_max"],
        once_per_household_per_year=data["once_per_household_per_year"],
        bands=tuple((band["threshold"], band["amount"]) for band in data["bands"]),
        factors={Category(item["category"]): item["factor_permille"] for item in data["factors"]})


class SuggestQuery(QuerySchema):
    out_of_pocket = Amount(required=True, allow_zero=True, metadata={"description": "yuan, e.g. 35200.00"})
    categories = fields.String(load_default="", validate=[validate.Length(max=200), validate.Regexp(
                                   CATEGORY_LIST_PATTERN, error="registry categories, comma-separated")],
                               metadata={"description": "registry categories, comma-separated, e.g. dibao,orphan"})
    on = fields.Date(load_default=None, metadata={"description": "the day whose version applies; default today"})

    @validates("categories")
    def check_categories(self, value, **kwargs):
        unknown = [part for part in value.split(",") if part.strip() and part.strip() not in CATEGORY_VALUES]
        if unknown:
            raise ValidationError(f"unknown categories: {', '.join(unknown)}")


class BandOut(Schema):
    threshold = AmountOut()
    amount = AmountOut()


class FactorOut(Schema):
    category = fields.String()
    factor_permille = fields.Integer()


class PolicyVersionOut(Schema):
    id = fields.Integer()
    version_no = fields.Integer()
    effective_on = fields.Date()
    annual_cap = AmountOut()
    county_approval_max = AmountOut()
    once_per_household_per_year = fields.Boolean()
    used_at = LocalDateTime(allow_none=True, metadata={"description": "first used by a decision: immutable since"})
    bands = fields.List(fields.Nested(BandOut))
    factors = fields.List(fields.Nested(FactorOut))


class PolicyOut(Schema):
    id = fields.Integer()
    fund_code = fields.String()
    fund_name = fields.String()
    name = fields.String()
    versions = fields.List(fields.Nested(PolicyVersionOut))


class PolicyListOut(Schema):
    items = fields.List(fields.Nested(PolicyOut))


class SuggestionOut(Schema):
    policy_version_id = fields.Integer()
    version_no = fields.Integer()
    amount = AmountOut()
    tier = fields.Integer(allow_none=True)
    factor_permille = fields.Integer()
    rule = fields.String(metadata={"description": "the rule that produced the amount, in the reader's language"})


def version_data(version) -> dict:
    return {"id": version.id, "version_no": version.version_no, "effective_on": version.effective_on,
            "annual_cap": version.annual_cap_fen, "county_approval_max": version.county_approval_max_fen,
            "once_per_household_per_year": version.once_per_household_per_year, "used_at": version.used_at,
            "bands": [{"threshold": band.threshold_fen, "amount": band.amount_fen} for band in version.bands],
            "factors": [{"category": factor.category.value if hasattr(factor.category, "value") else factor.category,
                         "factor_permille": factor.factor_permille} for factor in version.factors]}


def policy_data(policy) -> dict:
    return {"id": policy.id, "fund_code": policy.fund.code, "fund_name": policy.fund.name, "name": policy.name,
            "versions": [version_data(version) for version in policy.versions]}


def suggestion_data(version, suggestion) -> dict:
    return {"policy_version_id": version.id, "version_no": version.version_no, "amount": suggestion.amount_fen,
            "tier": suggestion.tier, "factor_permille": suggestion.factor_permille, "rule": str(suggestion.text)}


class ApplicationIn(StrictSchema):
    """An application to file (a draft, or submitted at once with `submit`)."""

    person_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    fund_code = fields.String(required=True, validate=validate.Length(min=1, max=20),
                              metadata={"description": "the person's county project (e.g. 370827), a village fund "
                                                       "of that county, or the city fund 370800"})
    diagnosis = fields.String(required=True, validate=validate.Length(min=1, max=_applications.TEXT_MAX),
                              metadata={"not_blank": True})
    hospital = fields.String(required=True, validate=validate.Length(min=1, max=_applications.TEXT_MAX),
                             metadata={"not_blank": True})
    total_cost = Amount(required=True, allow_zero=True)
    reimbursed = Amount(required=True, allow_zero=True,
                        metadata={"description": "by basic medical insurance, serious-illness insurance and "
                                                 "medical assistance"})
    out_of_pocket = Amount(load_default=None, allow_zero=True, allow_none=True,
                           metadata={"description": "total cost less reimbursed (computed when absent)"})
    amount_requested = Amount(required=True)
    urgency = fields.String(load_default=Urgency.normal.value, validate=validate.OneOf([u.value for u in Urgency]),
                            metadata={"description": "normal; urgent: paid within 24 h; especially_urgent: 2 h"})
    reported_at = LocalDateTime(load_default=None, allow_none=True,
                                metadata={"description": "when the case was reported (the clock's start); "
                                                         "default the submission"})
    description = fields.String(load_default="", validate=validate.Length(max=_applications.DESCRIPTION_MAX))
    submit = fields.Boolean(load_default=False, metadata={"description": "submit at once (default: a draft)"})


def application_input(data: dict) -> _applications.ApplicationInput:
    return _applications.ApplicationInput(
        person_id=data["person_id"], fund_code=data["fund_code"], diagnosis=data["diagnosis"],
        hospital=data["hospital"], total_cost_fen=data["total_cost"], reimbursed_fen=data["reimbursed"],
        out_of_pocket_fen=data["out_of_pocket"], amount_requested_fen=data["amount_requested"],
        urgency=Urgency(data["urgency"]), reported_at=data["reported_at"], description=data["description"])


class ReasonIn(StrictSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=_applications.REASON_MAX))


class RequiredReasonIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=_applications.REASON_MAX),
                           metadata={"not_blank": True})


class ApproveIn(StrictSchema):
    amount = Amount(load_default=None, allow_none=True,
                    metadata={"description": "default: the policy's suggestion (escalated: the county's amount)"})
    minimal_documents = fields.Boolean(load_default=False,
                                       metadata={"description": "先行救助 (urgent cases): full paperwork due in 5 "
                                                                "working days"})
    reason = fields.String(load_default="", validate=validate.Length(max=_applications.REASON_MAX))


class PayManyIn(StrictSchema):
    applications = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1)),
                               required=True, validate=validate.Length(min=1, max=_applications.PAY_MANY_MAX))


class FollowUpIn(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf([kind.value for kind in FollowUpKind]))
    outcome = fields.String(required=True, validate=validate.Length(min=1, max=_applications.DESCRIPTION_MAX),
                            metadata={"not_blank": True})


class ApplicationsQuery(QuerySchema):
    state = fields.String(load_default=None, validate=validate.OneOf(APPLICATION_STATES))
    person = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PageQuery(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class YearQuery(QuerySchema):
    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2099))


class ClockOut(Schema):
    state = fields.String(metadata={"description": "none, not_started, running, met, breached or stopped"})
    deadline_at = LocalDateTime(allow_none=True)
    text = fields.String(metadata={"description": "e.g. 2 h 5 min left, met in 1 h 12 min, overdue by 3 h"})
    seconds = fields.Integer(allow_none=True)


class ApplicationPersonOut(Schema):
    id = fields.Integer()
    name = fields.String()
    resident_id_masked = fields.String()


class ApplicationOut(Schema):
    id = fields.Integer()
    number = fields.String(metadata={"description": "SQ-2026-370827-000123"})
    state = fields.String()
    actions = fields.List(fields.String(), metadata={"description": "the moves the state allows"})
    person = fields.Nested(ApplicationPersonOut)
    county_code = fields.String()
    fund_code = fields.String()
    fund_name = fields.String()
    filing_organisation = fields.String()
    diagnosis = fields.String()
    hospital = fields.String()
    total_cost = AmountOut()
    reimbursed = AmountOut()
    out_of_pocket = AmountOut()
    description = fields.String()
    urgency = fields.String()
    reported_at = LocalDateTime(allow_none=True)
    submitted_at = LocalDateTime(allow_none=True)
    clock = fields.Nested(ClockOut)
    amount_requested = AmountOut()
    suggested = AmountOut(allow_none=True)
    suggestion = fields.String(allow_none=True, metadata={"description": "the rule of the suggestion, as decided, "
                                                                         "in the reader's language"})
    policy_version_id = fields.Integer(allow_none=True)
    amount_approved = AmountOut(allow_none=True)
    decision_reason = fields.String()
    hold_id = fields.Integer(allow_none=True)
    payment_voucher_no = fields.String(allow_none=True)
    paid_at = LocalDateTime(allow_none=True)
    minimal_documents = fields.Boolean()
    paperwork_due_on = fields.Date(allow_none=True)
    paperwork_completed_at = LocalDateTime(allow_none=True)
    follow_up_kind = fields.String(allow_none=True)
    follow_up_outcome = fields.String(allow_none=True)
    followed_up_at = LocalDateTime(allow_none=True)


class ApplicationListOut(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    items = fields.List(fields.Nested(ApplicationOut))


class PaidListOut(Schema):
    items = fields.List(fields.Nested(ApplicationOut))


class HistoryEventOut(Schema):
    at = LocalDateTime()
    user = fields.String(allow_none=True)
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class HistoryOut(Schema):
    items = fields.List(fields.Nested(HistoryEventOut))


class FundAidOut(Schema):
    fund_code = fields.String()
    fund_name = fields.String()
    fund_level = fields.String()
    person = AmountOut()
    household = AmountOut()


class YearToDateOut(Schema):
    person_id = fields.Integer()
    year = fields.Integer()
    person = AmountOut(metadata={"description": "received by the person this year, all funds, net of reversals"})
    household = AmountOut(metadata={"description": "received by the whole household"})
    committed = AmountOut(metadata={"description": "approved for the person, not yet paid"})
    funds = fields.List(fields.Nested(FundAidOut))


def _value(item):
    return getattr(item, "value", item)


def application_data(application, now=None) -> dict:
    person = application.person
    clock = _applications.emergency_clock(application, now)
    entry = application.payment_entry
    state = _value(application.state)
    return {
        "id": application.id, "number": application.number, "state": state,
        "actions": _applications.APPLICATION_MACHINE.actions_from(state),
        "person": {"id": person.id, "name": person.name, "resident_id_masked": mask_id_number(person.resident_id)},
        "county_code": application.county.code, "fund_code": application.fund.code,
        "fund_name": application.fund.name, "filing_organisation": application.filing_organisation.name,
        "diagnosis": application.diagnosis, "hospital": application.hospital,
        "total_cost": application.total_cost_fen, "reimbursed": application.reimbursed_fen,
        "out_of_pocket": application.out_of_pocket_fen, "description": application.description,
        "urgency": _value(application.urgency), "reported_at": application.reported_at,
        "submitted_at": application.submitted_at,
        "clock": {"state": clock.state, "deadline_at": clock.deadline_at, "text": str(clock.text),
                  "seconds": clock.seconds},
        "amount_requested": application.amount_requested_fen, "suggested": application.suggested_fen,
        "suggestion": _rule(application), "policy_version_id": application.policy_version_id,
        "amount_approved": application.amount_approved_fen, "decision_reason": application.decision_reason,
        "hold_id": application.hold_id, "payment_voucher_no": entry.voucher_no if entry is not None else None,
        "paid_at": application.paid_at, "minimal_documents": application.minimal_documents,
        "paperwork_due_on": application.paperwork_due_on,
        "paperwork_completed_at": application.paperwork_completed_at,
        "follow_up_kind": _value(application.follow_up_kind) if application.follow_up_kind else None,
        "follow_up_outcome": application.follow_up_outcome, "followed_up_at": application.followed_up_at,
    }


def _rule(application):
    rule = _applications.suggestion_rule(application)
    return str(rule) if rule is not None else application.suggestion_text


def history_data(event) -> dict:
    detail = event.detail or {}
    return {"at": event.occurred_at, "user": event.user.username if event.user is not None else None,
            "action": event.action.split(".", 1)[-1], "from_state": detail.get("from"),
            "to_state": detail.get("to"), "reason": detail.get("reason")}


def year_to_date_data(figures) -> dict:
    return {"person_id": figures.person_id, "year": figures.year, "person": figures.person_fen,
            "household": figures.household_fen, "committed": figures.committed_fen,
            "funds": [{"fund_code": item.fund_code, "fund_name": item.fund_name, "fund_level": item.fund_level,
                       "person": item.person_fen, "household": item.household_fen} for item in figures.funds]}
