"""The supported persons' JSON API under /api/v1/care: thin handlers over `ledger.vendors.persons`.

Roles: admin, auditors, finance, reviewers and vendors read (a vendor: the persons it cares or
cared for); reviewers and admins record assessments, status changes and reassignments, and
import. Charity users are refused (403). A person outside the caller's sight answers 404.
Every write takes an Idempotency-Key. The blueprint is nested in the feature's (`api.vendors.care.<view>`).
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from ..aid.api import IMPORT_RESPONSES, import_answer
from ..aid.schemas import ImportIn
from ..auth.models import Role
from ..auth.permissions import current_actor, require_roles
from ..extensions import db
from ..openapi import operation
from ..requests import api_write, load_body, load_query
from . import persons as services
from .api import vendors_api
from .person_models import SUPPORTED_ID_MAX, CareLevel
from .person_schemas import (AssessmentIn, AssessmentOut, AssignmentIn, AssignmentOut, StatusIn, StatusOut,
                             SupportedPersonDetailOut, SupportedPersonListOut, SupportedPersonsQuery,
                             assessment_data, assignment_data, history_data, person_data, status_data)

READERS = (Role.admin, Role.auditor, Role.finance, Role.reviewer, Role.vendor)
WRITERS = (Role.admin, Role.reviewer)

care_persons_api = Blueprint("care", __name__, url_prefix="/care")

PERSON_ID = {"person_id": {"description": "the supported person's number", "minimum": 1,
                           "maximum": SUPPORTED_ID_MAX}}
PERSON = f"/persons/<int(max={SUPPORTED_ID_MAX}):person_id>"
NOT_FOUND = "No such person, or outside your sight"


@care_persons_api.get("/persons")
@require_roles(*READERS)
@operation("Supported persons in your sight, by county (resident IDs masked), with today's care level, "
           "status and vendor", tags=["care"], query=SupportedPersonsQuery,
           responses={200: ("One page of persons", SupportedPersonListOut),
                      404: "A `county` naming no county you may see"})
def list_persons():
    """The supported persons, paged and searchable."""
    query = load_query()
    page = services.list_supported_persons(
        db.session, current_actor(), search=query["q"], county_code=query["county"],
        care_level=CareLevel(query["care_level"]) if query["care_level"] else None,
        page=query["page"], per_page=query["per_page"])
    items = [person_data(item.person, item.care_level, item.status, item.vendor_name) for item in page.items]
    return jsonify(SupportedPersonListOut().dump({"page": page.page, "per_page": page.per_page,
                                                 "total": page.total, "items": items}))


@care_persons_api.get(PERSON)
@require_roles(*READERS)
@operation("A supported person with their assessments, status history and assignments (a vendor sees its own "
           "assignments only)", tags=["care"], path=PERSON_ID,
           responses={200: ("The person", SupportedPersonDetailOut), 404: NOT_FOUND})
def get_person(person_id):
    """One person and their history."""
    history = services.person_history(db.session, current_actor(), person_id)
    return jsonify(SupportedPersonDetailOut().dump(history_data(history)))


@care_persons_api.post(PERSON + "/assessments")
@require_roles(*WRITERS)
@operation("Record a self-care assessment; the care level follows from the six answers (all able: self-caring; "
           "1-3 unable: partly disabled; 4 or more: fully disabled)", tags=["care"], path=PERSON_ID,
           body=AssessmentIn, idempotency_key="required",
           responses={201: ("The assessment", AssessmentOut), 404: NOT_FOUND,
                      422: "Invalid fields (a day in the future, a day assessed already), each named in `fields`"})
def record_assessment(person_id):
    """Record an assessment."""
    data = load_body()

    def work(_key):
        assessment = services.record_assessment(db.session, current_actor(), person_id, services.AssessmentInput(
            assessed_on=data["assessed_on"], assessor=data["assessor"], answers=dict(data["answers"])))
        return AssessmentOut().dump(assessment_data(assessment))

    return api_write(work)


@care_persons_api.post(PERSON + "/statuses")
@require_roles(*WRITERS)
@operation("Record a status change from a day (in an institution, deceased, moved out, back at home)",
           tags=["care"], path=PERSON_ID, body=StatusIn, idempotency_key="required",
           responses={201: ("The status change", StatusOut), 404: NOT_FOUND,
                      409: "`illegal_transition`: not allowed from the current status (deceased is final)",
                      422: "`status_out_of_order`: dated on or before the latest change; or invalid fields"})
def record_status(person_id):
    """Record a status change."""
    data = load_body()

    def work(_key):
        change = services.record_status(db.session, current_actor(), person_id, data["status"],
                                        data["effective_on"], data["note"])
        return StatusOut().dump(status_data(change))

    return api_write(work)


@care_persons_api.post(PERSON + "/assignments")
@require_roles(*WRITERS)
@operation("Reassign the person to a vendor from a day; the running assignment ends the day before",
           tags=["care"], path=PERSON_ID, body=AssignmentIn, idempotency_key="required",
           responses={201: ("The new assignment", AssignmentOut), 404: NOT_FOUND,
                      409: "`assignment_overlap`: an assignment starts on or after that day",
                      422: "Invalid fields (unknown vendor, assigned to it already)"})
def reassign(person_id):
    """Reassign to a vendor."""
    data = load_body()

    def work(_key):
        assignment = services.reassign(db.session, current_actor(), person_id, data["vendor_code"],
                                       data["valid_from"])
        return AssignmentOut().dump(assignment_data(assignment))

    return api_write(work)


@care_persons_api.post("/persons/import")
@require_roles(*WRITERS)
@operation("Preview or import a supported persons file (CSV in UTF-8 / GBK / GB18030, or XLSX; Chinese or "
           "English headers), all rows or none, each file once", tags=["care"], body=ImportIn,
           idempotency_key="required",
           responses=IMPORT_RESPONSES)
def import_persons():
    """Import a supported persons file."""
    return import_answer(services, load_body())


vendors_api.register_blueprint(care_persons_api)  # one API blueprint for the feature (`api.vendors.care.*`)
