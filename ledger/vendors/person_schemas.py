"""The supported persons' API edge: request and response schemas (marshmallow). Resident IDs are masked."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..identity import mask_id_number
from ..schemas import PAGE_MAX, QuerySchema, StrictSchema
from .person_models import ACTIVITIES, CareLevel, SupportedStatus
from .persons import NOTE_MAX, SEARCH_MAX


class SupportedPersonsQuery(QuerySchema):
    q = fields.String(load_default="", validate=validate.Length(max=SEARCH_MAX),
                      metadata={"description": "a name, the last 4-6 characters of a resident ID, or a whole ID"})
    county = fields.String(load_default=None, validate=validate.Length(max=20),
                           metadata={"description": "a county's code, e.g. 370827"})
    care_level = fields.String(load_default=None, validate=validate.OneOf([level.value for level in CareLevel]),
                               metadata={"description": "today's care level"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class AnswersIn(StrictSchema):
    """The six activities of the self-care assessment: true = able, false = unable."""

    eating = fields.Boolean(required=True)
    dressing = fields.Boolean(required=True)
    transferring = fields.Boolean(required=True, metadata={"description": "getting in and out of bed"})
    toileting = fields.Boolean(required=True)
    walking_indoors = fields.Boolean(required=True)
    bathing = fields.Boolean(required=True)


class AssessmentIn(StrictSchema):
    assessed_on = fields.Date(required=True)
    assessor = fields.String(required=True, validate=validate.Length(min=1, max=100))
    answers = fields.Nested(AnswersIn, required=True)


class StatusIn(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf([status.value for status in SupportedStatus]))
    effective_on = fields.Date(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=NOTE_MAX))


class AssignmentIn(StrictSchema):
    vendor_code = fields.String(required=True, validate=validate.Length(min=1, max=40),
                                metadata={"description": "the care vendor's organisation code, e.g. HL-370800-01"})
    valid_from = fields.Date(required=True, metadata={"description": "the first day; the running assignment ends "
                                                                     "the day before"})


class AssessmentOut(Schema):
    id = fields.Integer()
    assessed_on = fields.Date()
    assessor = fields.String()
    answers = fields.Dict(keys=fields.String(), values=fields.Boolean())
    care_level = fields.String()


class StatusOut(Schema):
    id = fields.Integer()
    status = fields.String()
    effective_on = fields.Date()
    note = fields.String()


class AssignmentOut(Schema):
    id = fields.Integer()
    vendor_code = fields.String()
    vendor = fields.String()
    contract_id = fields.Integer(allow_none=True)
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)


class SupportedPersonOut(Schema):
    id = fields.Integer()
    name = fields.String()
    resident_id_masked = fields.String(metadata={"description": "3708**********1234"})
    born_on = fields.Date()
    phone = fields.String()
    address = fields.String()
    latitude_micro = fields.Integer(allow_none=True, metadata={"description": "millionths of a degree"})
    longitude_micro = fields.Integer(allow_none=True, metadata={"description": "millionths of a degree"})
    village_code = fields.String()
    county_code = fields.String()
    care_level = fields.String(allow_none=True, metadata={"description": "today's"})
    status = fields.String(allow_none=True, metadata={"description": "today's"})
    vendor = fields.String(allow_none=True, metadata={"description": "today's (for a vendor: itself or none)"})


class SupportedPersonListOut(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    items = fields.List(fields.Nested(SupportedPersonOut))


class SupportedPersonDetailOut(SupportedPersonOut):
    assessments = fields.List(fields.Nested(AssessmentOut))
    statuses = fields.List(fields.Nested(StatusOut))
    assignments = fields.List(fields.Nested(AssignmentOut))


def _value(member):
    return getattr(member, "value", member)


def person_data(person, care_level, status, vendor_name) -> dict:
    return {"id": person.id, "name": person.name, "resident_id_masked": mask_id_number(person.resident_id),
            "born_on": person.born_on, "phone": person.phone, "address": person.address,
            "latitude_micro": person.latitude_micro, "longitude_micro": person.longitude_micro,
            "village_code": person.region.code, "county_code": person.county.code,
            "care_level": _value(care_level), "status": _value(status), "vendor": vendor_name}


def assessment_data(assessment) -> dict:
    return {"id": assessment.id, "assessed_on": assessment.assessed_on, "assessor": assessment.assessor,
            "answers": {name: getattr(assessment, f"{name}_able") for name in ACTIVITIES},
            "care_level": _value(assessment.care_level)}


def status_data(change) -> dict:
    return {"id": change.id, "status": _value(change.status), "effective_on": change.effective_on, "note": change.note}


def assignment_data(assignment) -> dict:
    return {"id": assignment.id, "vendor_code": assignment.vendor.code, "vendor": assignment.vendor.name,
            "contract_id": assignment.contract_id, "valid_from": assignment.valid_from,
            "valid_to": assignment.valid_to}


def history_data(history) -> dict:
    data = person_data(history.person, history.care_level, history.status,
                       history.assignment.vendor.name if history.assignment else None)
    data.update(assessments=[assessment_data(item) for item in history.assessments],
                statuses=[status_data(item) for item in history.statuses],
                assignments=[assignment_data(item) for item in history.assignments])
    return data
