"""The care visits' API edge: request and response schemas (marshmallow). Resident IDs are masked."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..aid.schemas import ImportOut
from ..identity import mask_id_number
from ..funds.schemas import PageQuery
from ..schemas import PageOut, QuerySchema, StrictSchema
from .visit_models import REASON_BITS, CaptureMethod, ResolutionCode, ServiceType, VisitState
from .visits import REASON_MAX, local_datetime

MONTH = validate.Regexp(r"^[0-9]{4}-(0[1-9]|1[0-2])$", error="a month such as 2026-11")


class VisitsQuery(PageQuery):
    state = fields.String(load_default=None, validate=validate.OneOf([state.value for state in VisitState]))
    reason = fields.String(load_default=None, validate=validate.OneOf(list(REASON_BITS)),
                           metadata={"description": "a reason code, e.g. no_checkout"})
    upload = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1),
                            metadata={"description": "the visits of one upload"})
    month = fields.String(load_default=None, validate=MONTH, metadata={"description": "YYYY-MM"})


class CoverageQuery(QuerySchema):
    month = fields.String(load_default=None, validate=MONTH, metadata={"description": "YYYY-MM; last month if none"})
    county = fields.String(load_default=None, validate=validate.Length(max=20),
                           metadata={"description": "a county's code, e.g. 370827"})


class UploadsQuery(PageQuery):
    """A page of uploads."""


class VisitIn(StrictSchema):
    resident_id = fields.String(required=True, validate=validate.Length(min=1, max=18))
    worker_number = fields.String(required=True, validate=validate.Length(min=1, max=30))
    visit_on = fields.Date(required=True, metadata={"description": "the local date the visit began"})
    start = fields.String(required=True, validate=validate.Length(min=1, max=8), metadata={"description": "HH:MM"})
    end = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=19),
                        metadata={"description": "HH:MM, or YYYY-MM-DD HH:MM for a later day; none: no check-out"})
    service_types = fields.List(fields.String(validate=validate.OneOf([kind.value for kind in ServiceType])),
                                required=True, validate=validate.Length(min=1, max=6))
    capture_method = fields.String(required=True, validate=validate.OneOf([method.value for method in CaptureMethod]))
    latitude = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=12),
                             metadata={"description": "decimal degrees, e.g. 35.003112"})
    longitude = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=12))
    address = fields.String(load_default="", validate=validate.Length(max=200))


class ResolutionIn(StrictSchema):
    resolution_code = fields.String(required=True, validate=validate.OneOf([code.value for code in ResolutionCode]))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=REASON_MAX))


class ResolutionOut(Schema):
    resolution_code = fields.String()
    reason = fields.String()
    state_to = fields.String()
    resolved_at = fields.DateTime()


class VisitOut(Schema):
    id = fields.Integer()
    vendor_code = fields.String()
    upload_id = fields.Integer(allow_none=True)
    row_number = fields.Integer(allow_none=True)
    resident_id_masked = fields.String()
    person_id = fields.Integer(allow_none=True)
    worker_number = fields.String()
    service_types = fields.List(fields.String())
    visit_on = fields.Date()
    starts_at = fields.String(metadata={"description": "local date and time (Asia/Shanghai)"})
    ends_at = fields.String(allow_none=True)
    minutes = fields.Integer(allow_none=True)
    latitude_micro = fields.Integer(allow_none=True)
    longitude_micro = fields.Integer(allow_none=True)
    address = fields.String()
    capture_method = fields.String()
    state = fields.String()
    reasons = fields.List(fields.String(), metadata={"description": "reason codes, rejections first"})
    resolution = fields.Nested(ResolutionOut, allow_none=True)


class VisitListOut(PageOut):
    items = fields.List(fields.Nested(VisitOut))


class UploadOut(Schema):
    id = fields.Integer()
    vendor_code = fields.String()
    filename = fields.String()
    row_count = fields.Integer()
    verified = fields.Integer()
    held = fields.Integer()
    rejected = fields.Integer()
    created_at = fields.DateTime()


class UploadListOut(PageOut):
    items = fields.List(fields.Nested(UploadOut))


class CoverageRowOut(Schema):
    county_code = fields.String()
    county = fields.String()
    vendor_code = fields.String()
    vendor = fields.String()
    persons = fields.Integer(metadata={"description": "assigned to the vendor on some day of the month"})
    persons_covered = fields.Integer(metadata={"description": "got at least their minimum of verified visits"})
    persons_without_visit = fields.Integer()
    visits = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "by state"})
    reasons = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "visits by reason"})
    exception_rates = fields.Dict(keys=fields.String(), values=fields.Float(),
                                  metadata={"description": "share of the visits, by reason"})


class CoverageOut(Schema):
    month = fields.String()
    rows = fields.List(fields.Nested(CoverageRowOut))


def _stamp(minute):
    value = local_datetime(minute)
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else None


def visit_data(visit) -> dict:
    resolution = visit.resolution
    return {"id": visit.id, "vendor_code": visit.vendor.code, "upload_id": visit.upload_id,
            "row_number": visit.row_number, "resident_id_masked": mask_id_number(visit.resident_id),
            "person_id": visit.person_id, "worker_number": visit.worker_number,
            "service_types": visit.service_types.split(";"), "visit_on": visit.visit_on,
            "starts_at": _stamp(visit.starts_at_minute), "ends_at": _stamp(visit.ends_at_minute),
            "minutes": visit.minutes, "latitude_micro": visit.latitude_micro,
            "longitude_micro": visit.longitude_micro, "address": visit.address,
            "capture_method": visit.capture_method.value, "state": visit.state.value, "reasons": visit.reasons,
            "resolution": None if resolution is None else {
                "resolution_code": resolution.resolution_code.value, "reason": resolution.reason,
                "state_to": resolution.state_to.value, "resolved_at": resolution.created_at}}


def upload_data(upload) -> dict:
    return {"id": upload.id, "vendor_code": upload.vendor.code, "filename": upload.filename,
            "row_count": upload.row_count, "verified": upload.verified_count, "held": upload.held_count,
            "rejected": upload.rejected_count, "created_at": upload.created_at}


def coverage_data(month: str, rows) -> dict:
    return {"month": month, "rows": [{
        "county_code": row.county_code, "county": row.county_name, "vendor_code": row.vendor_code,
        "vendor": row.vendor_name, "persons": row.persons, "persons_covered": row.persons_covered,
        "persons_without_visit": row.persons_without_visit, "visits": row.visits, "reasons": row.reasons,
        "exception_rates": {code: round(row.exception_rate(code), 4) for code in row.reasons}} for row in rows]}


class UploadAnswerOut(ImportOut):
    upload_id = fields.Integer(allow_none=True, metadata={"description": "the upload that recorded the file"})
    verified = fields.Integer(allow_none=True)
    held = fields.Integer(allow_none=True)
    rejected = fields.Integer(allow_none=True)
