"""The registry's JSON API under /api/v1/aid: thin handlers over `ledger.aid.services`.

Roles: reviewers and charity users register and import; admin, finance and auditors read;
finance and reviewers may reveal a person's full numbers (audited). Vendors are refused (403).
A person outside the caller's sight answers 404. `aid_api` is nested under the /api/v1 parent
blueprint; its endpoints are named `api.aid.<view>`.
"""
from __future__ import annotations

import base64

from flask import Blueprint, jsonify

from ..auth.models import Role
from ..auth.permissions import current_actor, require_roles
from ..extensions import db
from ..openapi import operation
from ..requests import api_write, load_body, load_query
from . import services
from .models import PERSON_ID_MAX
from .schemas import (ImportIn, ImportOut, PersonFullOut, PersonIn, PersonListOut, PersonOut, PersonsQuery,
                      import_data, person_data, person_input)

READERS = (Role.admin, Role.finance, Role.reviewer, Role.charity, Role.auditor)
WRITERS = (Role.reviewer, Role.charity)
REVEALERS = (Role.finance, Role.reviewer)

aid_api = Blueprint("aid", __name__, url_prefix="/aid")

#: What an import call answers (the registry's and every other file of persons).
IMPORT_RESPONSES = {200: ("The preview, or the import done (`applied`), or the file recognised as imported before "
                          "(`already_imported`)", ImportOut),
                    422: "`import_has_errors` when applying a file with bad rows (nothing written; `row_errors` "
                         "lists row, column and reason), or `import_file_refused`"}

PERSON_ID = {"person_id": {"description": "the person's number", "minimum": 1, "maximum": PERSON_ID_MAX}}


@aid_api.get("/persons")
@require_roles(*READERS)
@operation("Beneficiaries in your sight, newest first (resident IDs and card numbers masked)", tags=["aid"],
           query=PersonsQuery,
           responses={200: ("One page of persons", PersonListOut),
                      404: "A `county` naming no county you may see"})
def list_persons():
    """The registry, paged and searchable."""
    query = load_query()
    page = services.list_persons(db.session, current_actor(), search=query["q"], county_code=query["county"],
                                 page=query["page"], per_page=query["per_page"])
    return jsonify(PersonListOut().dump({"page": page.page, "per_page": page.per_page, "total": page.total,
                                         "items": [person_data(person) for person in page.items]}))


@aid_api.get(f"/persons/<int(max={PERSON_ID_MAX}):person_id>")
@require_roles(*READERS)
@operation("A beneficiary (resident ID and card number masked)", tags=["aid"], path=PERSON_ID,
           responses={200: ("The person", PersonOut), 404: "No such person, or outside your sight"})
def get_person(person_id):
    """One person."""
    return jsonify(PersonOut().dump(person_data(services.get_person(db.session, current_actor(), person_id))))


@aid_api.post(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/reveal")
@require_roles(*REVEALERS)
@operation("The person's full resident ID and bank account number; the view is written to the audit log",
           tags=["aid"], path=PERSON_ID,
           responses={200: ("The full numbers", PersonFullOut), 404: "No such person, or outside your sight"})
def reveal_person(person_id):
    """Show the full numbers (audited)."""

    def work(_key):
        person = services.reveal_person(db.session, current_actor(), person_id)
        return PersonFullOut().dump({"id": person.id, "name": person.name, "resident_id": person.resident_id,
                                     "bank_account_number": person.bank_account_number})

    return api_write(work, status=200)


@aid_api.post("/persons")
@require_roles(*WRITERS)
@operation("Register a beneficiary; an ID already registered answers that person with `created: false`",
           tags=["aid"], body=PersonIn, idempotency_key="required",
           responses={201: ("The person (masked)", PersonOut),
                      409: "`resident_id_registered_elsewhere`: the ID belongs to a person outside your county",
                      422: "Invalid fields (bad check digit, unknown village, head of household not registered), "
                           "each named in `fields`"})
def register_person():
    """Register a person (idempotent on the resident ID)."""
    data = load_body()

    def work(_key):
        outcome = services.register_person(db.session, current_actor(), person_input(data))
        return PersonOut().dump(person_data(outcome.person, outcome.created))

    return api_write(work)


@aid_api.post("/persons/import")
@require_roles(*WRITERS)
@operation("Preview or import a registry file (CSV in UTF-8 / GBK / GB18030, or XLSX; Chinese or English "
           "headers), all rows or none, each file once", tags=["aid"], body=ImportIn, idempotency_key="optional",
           responses=IMPORT_RESPONSES)
def import_persons():
    """Import a registry file."""
    return import_answer(services, load_body())


def import_answer(feature_services, data: dict):
    """Preview or apply an uploaded file through a feature's import services (`preview_import`,
    `apply_import`, `already_imported`: the registry's, the supported persons'), answered as `ImportOut`."""
    content = base64.b64decode(data["content_base64"])

    def work(_key):
        actor = current_actor()
        if data["apply"]:
            parsed, outcome = feature_services.apply_import(db.session, actor, content, data["filename"])
            return import_data(parsed, already=not outcome.applied_now, applied=outcome.applied_now,
                               batch_id=outcome.batch.id)
        parsed = feature_services.preview_import(db.session, actor, content, data["filename"])
        previous = feature_services.already_imported(db.session, parsed.sha256)
        return import_data(parsed, already=previous is not None, applied=False,
                           batch_id=previous.id if previous is not None else None)

    return api_write(work, status=200)
