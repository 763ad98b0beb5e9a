"""The care visits' JSON API under /api/v1/care/visits: thin handlers over `ledger.vendors.visits`.

Roles: a vendor uploads its monthly files, posts single visits and resolves its held visits;
reviewers and admins resolve; admin, auditors, finance and reviewers read (a county reviewer: its
county's visits). Another vendor's visit or upload answers 404. Every write takes an
Idempotency-Key: a visit posted twice with the same key is recorded once.
Endpoints are named `api.vendors.care.visit_*` (on the supported persons' care API blueprint).
"""
from __future__ import annotations

import base64
from datetime import date

from flask import jsonify

from ..aid.schemas import ImportIn, import_data
from ..auth.models import Role
from ..auth.permissions import current_actor, require_roles
from ..extensions import db
from ..openapi import operation
from ..requests import api_write, load_body, load_query
from . import visits as services
from .person_api import care_persons_api as care_api
from .visit_models import VISIT_ID_MAX
from .visit_schemas import (CoverageOut, CoverageQuery, ResolutionIn, UploadAnswerOut, UploadListOut, UploadOut,
                            UploadsQuery, VisitIn, VisitListOut, VisitOut, VisitsQuery, coverage_data, upload_data,
                            visit_data)

READERS = (Role.admin, Role.auditor, Role.finance, Role.reviewer, Role.vendor)
REPORTERS = (Role.vendor,)
RESOLVERS = (Role.admin, Role.reviewer, Role.vendor)
VISIT_ID = {"visit_id": {"description": "the visit's number", "minimum": 1, "maximum": VISIT_ID_MAX}}
UPLOAD_ID = {"upload_id": {"description": "the upload's number", "minimum": 1, "maximum": VISIT_ID_MAX}}
VISIT = f"/visits/<int(max={VISIT_ID_MAX}):visit_id>"
UPLOAD = f"/visits/uploads/<int(max={VISIT_ID_MAX}):upload_id>"
NOT_FOUND = "No such visit, or outside your sight"


def _month(text: str | None) -> date | None:
    return date(int(text[:4]), int(text[5:7]), 1) if text else None


@care_api.get("/visits")
@require_roles(*READERS)
@operation("Care visits in your sight, newest first, by state, reason code, upload and month (a vendor's "
           "exceptions: state=held)", tags=["care"], query=VisitsQuery,
           responses={200: ("One page of visits", VisitListOut)})
def visit_list():
    """The care visits, paged."""
    query = load_query()
    page = services.list_visits(db.session, current_actor(), state=query["state"], reason=query["reason"],
                                upload_id=query["upload"], month=_month(query["month"]), page=query["page"],
                                per_page=query["per_page"])
    return jsonify(VisitListOut().dump({"page": page.page, "per_page": page.per_page, "total": page.total,
                                        "items": [visit_data(visit) for visit in page.items]}))


@care_api.post("/visits")
@require_roles(*REPORTERS)
@operation("Record one visit (the six EVV elements and how it was captured); it is verified at once by the "
           "same rules as an upload and answered with its state and reason codes", tags=["care"], body=VisitIn,
           idempotency_key="required",
           responses={201: ("The visit recorded", VisitOut),
                      422: "Invalid fields (a time, a service type, no location), each named in `fields`"})
def visit_record():
    """Record one visit."""
    data = load_body()

    def work(_key):
        visit = services.record_visit(db.session, current_actor(), services.VisitInput(**data))
        return VisitOut().dump(visit_data(visit))

    return api_write(work)


@care_api.get(VISIT)
@require_roles(*READERS)
@operation("One visit with its state, reason codes and resolution", tags=["care"], path=VISIT_ID,
           responses={200: ("The visit", VisitOut), 404: NOT_FOUND})
def visit_get(visit_id):
    """One visit."""
    return jsonify(VisitOut().dump(visit_data(services.get_visit(db.session, current_actor(), visit_id))))


@care_api.post(VISIT + "/resolution")
@require_roles(*RESOLVERS)
@operation("Resolve a held visit with a resolution code and a reason: verified, or rejected for `not_given` "
           "(a vendor within 95 days of the visit)", tags=["care"], path=VISIT_ID, body=ResolutionIn,
           idempotency_key="required",
           responses={201: ("The visit resolved", VisitOut), 404: NOT_FOUND,
                      409: "`illegal_transition`: the visit is not held",
                      422: "`resolution_too_late` for a vendor after 95 days; or invalid fields"})
def visit_resolve(visit_id):
    """Resolve a held visit."""
    data = load_body()

    def work(_key):
        visit = services.resolve_visit(db.session, current_actor(), visit_id, data["resolution_code"],
                                       data["reason"])
        return VisitOut().dump(visit_data(visit))

    return api_write(work)


@care_api.get("/visits/coverage")
@require_roles(*READERS)
@operation("Coverage of a month per county and vendor: persons covered (at least their minimum of verified "
           "visits), persons without a visit, visits by state and by reason", tags=["care"], query=CoverageQuery,
           responses={200: ("The coverage", CoverageOut), 404: "A `county` naming no county you may see"})
def visit_coverage():
    """Coverage by county and vendor."""
    query = load_query()
    month = _month(query["month"]) or services.last_month()
    rows = services.coverage(db.session, current_actor(), month, county_code=query["county"])
    return jsonify(CoverageOut().dump(coverage_data(month.strftime("%Y-%m"), rows)))


@care_api.get("/visits/uploads")
@require_roles(*READERS)
@operation("Visit uploads in your sight, newest first", tags=["care"], query=UploadsQuery,
           responses={200: ("One page of uploads", UploadListOut)})
def visit_uploads():
    """The visit uploads."""
    query = load_query()
    page = services.list_uploads(db.session, current_actor(), page=query["page"], per_page=query["per_page"])
    return jsonify(UploadListOut().dump({"page": page.page, "per_page": page.per_page, "total": page.total,
                                         "items": [upload_data(upload) for upload in page.items]}))


@care_api.get(UPLOAD)
@require_roles(*READERS)
@operation("One visit upload with its counts by state", tags=["care"], path=UPLOAD_ID,
           responses={200: ("The upload", UploadOut), 404: "No such upload, or outside your sight"})
def visit_upload_get(upload_id):
    """One upload."""
    return jsonify(UploadOut().dump(upload_data(services.get_upload(db.session, current_actor(), upload_id))))


@care_api.post("/visits/uploads")
@require_roles(*REPORTERS)
@operation("Preview or record a month's visit file (CSV in UTF-8 / GBK / GB18030, or XLSX; up to 200,000 rows): "
           "all rows or none for format errors, each file once; every row recorded is verified",
           tags=["care"], body=ImportIn, idempotency_key="required",
           responses={200: ("The preview, or the file recorded (`applied`, with the counts by state), or the "
                            "file recognised as uploaded before (`already_imported`)", UploadAnswerOut),
                      422: "`import_has_errors` when applying a file with format errors (nothing written; "
                           "`row_errors` lists row, column and reason), or `import_file_refused`"})
def visit_upload():
    """Upload a visit file."""
    data = load_body()
    content = base64.b64decode(data["content_base64"])

    def work(_key):
        actor = current_actor()
        if data["apply"]:
            outcome = services.apply_upload(db.session, actor, content, data["filename"])
            upload = outcome.upload
            body = import_data(outcome.report.as_parsed(), already=not outcome.applied_now,
                               applied=outcome.applied_now, batch_id=upload.import_batch_id)
        else:
            report = services.preview_upload(db.session, actor, content, data["filename"])
            upload = services.already_uploaded(db.session, actor, report.sha256)
            body = import_data(report.as_parsed(), already=upload is not None, applied=False,
                               batch_id=upload.import_batch_id if upload is not None else None)
        counts = {} if upload is None else {"upload_id": upload.id, "verified": upload.verified_count,
                                            "held": upload.held_count, "rejected": upload.rejected_count}
        return UploadAnswerOut().dump({**body, **counts})

    return api_write(work, status=200)
