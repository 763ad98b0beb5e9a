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
from . import edits, services
from .models import PERSON_ID_MAX, Category, Relation
from .schemas import (BankCardIn, CategoryEndIn, CategoryIn, ContactIn, HouseholdHeadIn, HouseholdMemberIn, ImportIn,
                      ImportOut, PersonDetailOut, PersonFullOut, PersonIn, PersonListOut, PersonOut, PersonsQuery,
                      person_data, person_detail, person_input)
from .services import CategoryInput

READERS = (Role.admin, Role.finance, Role.reviewer, Role.charity, Role.auditor)
WRITERS = (Role.reviewer, Role.charity)
REVEALERS = (Role.finance, Role.reviewer)

aid_api = Blueprint("aid", __name__, url_prefix="/aid")

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
           responses={200: ("The preview, or the import done (`applied`), or the file recognised as imported "
                            "before (`already_imported`)", ImportOut),
                      422: "`import_has_errors` when applying a file with bad rows (nothing written; "
                           "`row_errors` lists row, column and reason), or `import_file_refused`"})
def import_persons():
    """Import a registry file."""
    data = load_body()
    content = base64.b64decode(data["content_base64"])

    def work(_key):
        actor = current_actor()
        if data["apply"]:
            parsed, outcome = services.apply_import(db.session, actor, content, data["filename"])
            return _import_body(parsed, already=not outcome.applied_now, applied=outcome.applied_now,
                                batch_id=outcome.batch.id)
        parsed = services.preview_import(db.session, actor, content, data["filename"])
        previous = services.already_imported(db.session, parsed.sha256)
        return _import_body(parsed, already=previous is not None, applied=False,
                            batch_id=previous.id if previous is not None else None)

    return api_write(work, status=200)


def _import_body(parsed, *, already: bool, applied: bool, batch_id) -> dict:
    errors = [] if already else [error.as_dict() for error in parsed.errors[:1000]]
    return ImportOut().dump({"filename": parsed.filename, "file_type": parsed.file_type,
                             "encoding": parsed.encoding, "sha256": parsed.sha256, "row_count": parsed.row_count,
                             "ok": already or parsed.ok, "already_imported": already, "applied": applied,
                             "batch_id": batch_id, "errors": errors})


# --- changes to a registered person (each audited; Idempotency-Key required) -----------------------

CATEGORY_ID = {"category_id": {"description": "the category period's number", "minimum": 1,
                               "maximum": PERSON_ID_MAX}}
MEMBER_ID = {"member_id": {"description": "the member's person number", "minimum": 1, "maximum": PERSON_ID_MAX}}
_CHANGED = {200: ("The person as changed (masked), with category numbers and household members", PersonDetailOut),
            404: "No such person, or outside your sight"}


def _changed(person_id):
    actor = current_actor()
    person = services.get_person(db.session, actor, person_id)
    return PersonDetailOut().dump(person_detail(person, services.household_members(db.session, actor, person)))


@aid_api.patch(f"/persons/<int(max={PERSON_ID_MAX}):person_id>")
@require_roles(*WRITERS)
@operation("Change a person's phone, address or village (the county follows the village)", tags=["aid"],
           path=PERSON_ID, body=ContactIn, idempotency_key="required",
           responses={**_CHANGED, 422: "Invalid fields, or a village outside your county (`village_code`)"})
def change_contact(person_id):
    """Change contact details."""
    data = load_body()

    def work(_key):
        edits.change_contact(db.session, current_actor(), person_id, edits.ContactChange(**data))
        return _changed(person_id)

    return api_write(work, status=200)


@aid_api.post(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/categories")
@require_roles(*WRITERS)
@operation("Add a category with its start date (and end date, if known)", tags=["aid"], path=PERSON_ID,
           body=CategoryIn, idempotency_key="required",
           responses={**_CHANGED, 409: "`category_periods_overlap`: another period of the same category overlaps",
                      422: "Invalid fields (a disability without its grade 1-4, an end before the start)"})
def add_category(person_id):
    """Add a category period."""
    data = load_body()

    def work(_key):
        edits.add_category(db.session, current_actor(), person_id, CategoryInput(
            Category(data["category"]), data["starts_on"], data["ends_on"], data["disability_grade"]))
        return _changed(person_id)

    return api_write(work, status=200)


@aid_api.post(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/categories/"
              f"<int(max={PERSON_ID_MAX}):category_id>/end")
@require_roles(*WRITERS)
@operation("End an open category period", tags=["aid"], path={**PERSON_ID, **CATEGORY_ID}, body=CategoryEndIn,
           idempotency_key="required",
           responses={**_CHANGED, 422: "An end before the start, or a period ended already (`ends_on`)"})
def end_category(person_id, category_id):
    """End a category period."""
    data = load_body()

    def work(_key):
        edits.end_category(db.session, current_actor(), person_id, category_id, data["ends_on"])
        return _changed(person_id)

    return api_write(work, status=200)


@aid_api.patch(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/bank-card")
@require_roles(*WRITERS)
@operation("Set or remove the bank card aid is paid to (the audit log keeps the numbers masked)", tags=["aid"],
           path=PERSON_ID, body=BankCardIn, idempotency_key="required",
           responses={**_CHANGED, 422: "Invalid fields, or a card without its bank, number or holder"})
def change_bank_card(person_id):
    """Change the bank card."""
    data = load_body()

    def work(_key):
        edits.change_bank_card(db.session, current_actor(), person_id, bank_name=data["bank_name"],
                               account_number=data["bank_account_number"], holder=data["bank_account_holder"])
        return _changed(person_id)

    return api_write(work, status=200)


@aid_api.post(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/household/head")
@require_roles(*WRITERS)
@operation("Make the person the head of their household; the former head stays a member", tags=["aid"],
           path=PERSON_ID, body=HouseholdHeadIn, idempotency_key="required", responses=_CHANGED)
def set_household_head(person_id):
    """Set the head of household."""
    data = load_body()

    def work(_key):
        edits.set_household_head(db.session, current_actor(), person_id, Relation(data["previous_head_relation"]))
        return _changed(person_id)

    return api_write(work, status=200)


@aid_api.post(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/household/members")
@require_roles(*WRITERS)
@operation("Add a registered person to this person's household, with their relation to the head", tags=["aid"],
           path=PERSON_ID, body=HouseholdMemberIn, idempotency_key="required",
           responses={**_CHANGED, 409: "`household_change_refused`: a member already, or the head of another "
                                       "household with members",
                      422: "A resident ID that is not valid or not in the registry of your county"})
def add_household_member(person_id):
    """Add a household member."""
    data = load_body()

    def work(_key):
        edits.add_household_member(db.session, current_actor(), person_id, data["resident_id"],
                                   Relation(data["relation"]))
        return _changed(person_id)

    return api_write(work, status=200)


@aid_api.post(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/household/members/"
              f"<int(max={PERSON_ID_MAX}):member_id>/remove")
@require_roles(*WRITERS)
@operation("Take a member out of the household; they become the head of a household of their own", tags=["aid"],
           path={**PERSON_ID, **MEMBER_ID}, idempotency_key="required",
           responses={**_CHANGED, 409: "`household_change_refused`: the head is not removed (set another head "
                                       "first)"})
def remove_household_member(person_id, member_id):
    """Remove a household member."""

    def work(_key):
        edits.remove_household_member(db.session, current_actor(), person_id, member_id)
        return _changed(person_id)

    return api_write(work, status=200)
