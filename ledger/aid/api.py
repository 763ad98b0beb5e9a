"""The aid JSON API under /api/v1/aid: thin handlers over `ledger.aid.services` (the registry),
`ledger.aid.policies` (tier policies) and `ledger.aid.applications` (applications).

Roles: reviewers and charity users register and import; admin, finance and auditors read;
finance and reviewers may reveal a person's full numbers (audited). Charities (and county staff)
file applications, reviewers decide, finance pays, the filer follows up; admins write policies.
Vendors are refused (403). A record outside the caller's sight answers 404. Every write takes an
`Idempotency-Key`. `aid_api` is nested under the /api/v1 parent blueprint; its endpoints are
named `api.aid.<view>`.
"""
from __future__ import annotations

import base64

from flask import Blueprint, jsonify

from ..auth.models import Role
from ..auth.permissions import current_actor, require_roles
from ..extensions import db
from ..openapi import operation
from ..requests import api_write, load_body, load_query
from . import applications, edits, policies, services
from .application_models import APPLICATION_ID_MAX
from .models import PERSON_ID_MAX, Category, Relation
from .schemas import (ApplicationIn, ApplicationListOut, ApplicationOut, ApplicationsQuery, ApproveIn, BankCardIn,
                      CategoryEndIn, CategoryIn, ContactIn, FollowUpIn, HistoryOut, HouseholdHeadIn, HouseholdMemberIn,
                      ImportIn, ImportOut, PageQuery, PaidListOut, PayManyIn, PersonDetailOut, PersonFullOut, PersonIn,
                      PersonListOut, PersonOut, PersonsQuery, PolicyIn, PolicyListOut, PolicyOut, PolicyVersionIn,
                      PolicyVersionOut, ReasonIn, RequiredReasonIn, SuggestionOut, SuggestQuery, YearQuery,
                      YearToDateOut, application_data, application_input, history_data, person_data, person_detail,
                      person_input, policy_data, suggestion_data, version_data, version_input, year_to_date_data)
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


def _change(person_id, apply):
    """Run `apply(session, actor)` once per Idempotency-Key and answer the person as changed."""

    def work(_key):
        actor = current_actor()
        apply(db.session, actor)
        person = services.get_person(db.session, actor, person_id)
        return PersonDetailOut().dump(person_detail(person, services.household_members(db.session, actor, person)))

    return api_write(work, status=200)


# A path of its own (not PATCH on the person's path): Werkzeug answers a path number above the
# converter's maximum with 405, not 404, when another method is routed on the same path.
@aid_api.patch(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/contact")
@require_roles(*WRITERS)
@operation("Change a person's phone, address or village (the county follows the village)", tags=["aid"],
           path=PERSON_ID, body=ContactIn, idempotency_key="required",
           responses={**_CHANGED, 422: "Invalid fields, or a village outside your county (`village_code`)"})
def change_contact(person_id):
    """Change contact details."""
    data = load_body()
    return _change(person_id, lambda session, actor: edits.change_contact(
        session, actor, person_id, edits.ContactChange(**data)))


@aid_api.post(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/categories")
@require_roles(*WRITERS)
@operation("Add a category with its start date (and end date, if known)", tags=["aid"], path=PERSON_ID,
           body=CategoryIn, idempotency_key="required",
           responses={**_CHANGED, 409: "`category_periods_overlap`: another period of the same category overlaps",
                      422: "Invalid fields (a disability without its grade 1-4, an end before the start)"})
def add_category(person_id):
    """Add a category period."""
    data = load_body()
    return _change(person_id, lambda session, actor: edits.add_category(session, actor, person_id, CategoryInput(
        Category(data["category"]), data["starts_on"], data["ends_on"], data["disability_grade"])))


@aid_api.post(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/categories/"
              f"<int(max={PERSON_ID_MAX}):category_id>/end")
@require_roles(*WRITERS)
@operation("End an open category period", tags=["aid"], path={**PERSON_ID, **CATEGORY_ID}, body=CategoryEndIn,
           idempotency_key="required",
           responses={**_CHANGED, 422: "An end before the start, or a period ended already (`ends_on`)"})
def end_category(person_id, category_id):
    """End a category period."""
    data = load_body()
    return _change(person_id, lambda session, actor: edits.end_category(
        session, actor, person_id, category_id, data["ends_on"]))


@aid_api.patch(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/bank-card")
@require_roles(*WRITERS)
@operation("Set or remove the bank card aid is paid to (the audit log keeps the numbers masked)", tags=["aid"],
           path=PERSON_ID, body=BankCardIn, idempotency_key="required",
           responses={**_CHANGED, 422: "Invalid fields, or a card without its bank, number or holder"})
def change_bank_card(person_id):
    """Change the bank card."""
    data = load_body()
    return _change(person_id, lambda session, actor: edits.change_bank_card(
        session, actor, person_id, bank_name=data["bank_name"], account_number=data["bank_account_number"],
        holder=data["bank_account_holder"]))


@aid_api.post(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/household/head")
@require_roles(*WRITERS)
@operation("Make the person the head of their household; the former head stays a member", tags=["aid"],
           path=PERSON_ID, body=HouseholdHeadIn, idempotency_key="required", responses=_CHANGED)
def set_household_head(person_id):
    """Set the head of household."""
    data = load_body()
    return _change(person_id, lambda session, actor: edits.set_household_head(
        session, actor, person_id, Relation(data["previous_head_relation"])))


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
    return _change(person_id, lambda session, actor: edits.add_household_member(
        session, actor, person_id, data["resident_id"], Relation(data["relation"])))


@aid_api.post(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/household/members/"
              f"<int(max={PERSON_ID_MAX}):member_id>/remove")
@require_roles(*WRITERS)
@operation("Take a member out of the household; they become the head of a household of their own", tags=["aid"],
           path={**PERSON_ID, **MEMBER_ID}, idempotency_key="required",
           responses={**_CHANGED, 409: "`household_change_refused`: the head is not removed (set another head "
                                       "first)"})
def remove_household_member(person_id, member_id):
    """Remove a household member."""
    return _change(person_id, lambda session, actor: edits.remove_household_member(
        session, actor, person_id, member_id))


# --- tier policies ----------------------------------------------------------------------------------

POLICY_READERS = READERS
POLICY_ID = {"policy_id": {"description": "the policy's number", "minimum": 1, "maximum": APPLICATION_ID_MAX}}
APPLICATION_ID = {"application_id": {"description": "the application's number (its id)", "minimum": 1,
                                     "maximum": APPLICATION_ID_MAX}}
FILERS = (Role.reviewer, Role.charity)
REVIEWERS = (Role.reviewer,)
PAYERS = (Role.finance,)
POLICY_WRITERS = (Role.admin,)


@aid_api.get("/policies")
@require_roles(*POLICY_READERS)
@operation("The tier policies in your sight, with every version", tags=["aid policies"],
           responses={200: ("The policies", PolicyListOut)})
def list_policies():
    """Tier policies."""
    items = policies.list_policies(db.session, current_actor())
    return jsonify(PolicyListOut().dump({"items": [policy_data(policy) for policy in items]}))


@aid_api.get(f"/policies/<int(max={APPLICATION_ID_MAX}):policy_id>")
@require_roles(*POLICY_READERS)
@operation("A tier policy with its versions", tags=["aid policies"], path=POLICY_ID,
           responses={200: ("The policy", PolicyOut), 404: "No such policy, or outside your sight"})
def get_policy(policy_id):
    """One policy."""
    return jsonify(PolicyOut().dump(policy_data(policies.get_policy(db.session, current_actor(), policy_id))))


@aid_api.post("/policies")
@require_roles(*POLICY_WRITERS)
@operation("Give a fund a tier policy with its first version", tags=["aid policies"], body=PolicyIn,
           idempotency_key="required",
           responses={201: ("The policy", PolicyOut), 409: "`policy_exists`: the fund has one already"})
def create_policy():
    """A new policy."""
    data = load_body()

    def work(_key):
        policy = policies.create_policy(db.session, current_actor(), data["fund_code"], data["name"],
                                        version_input(data["version"]))
        return PolicyOut().dump(policy_data(policy))

    return api_write(work)


@aid_api.post(f"/policies/<int(max={APPLICATION_ID_MAX}):policy_id>/versions")
@require_roles(*POLICY_WRITERS)
@operation("A new version of a policy (a used version is never edited: a change is a new version)",
           tags=["aid policies"], path=POLICY_ID, body=PolicyVersionIn, idempotency_key="required",
           responses={201: ("The version", PolicyVersionOut), 404: "No such policy"})
def add_policy_version(policy_id):
    """A new version."""
    data = load_body()

    def work(_key):
        version = policies.add_version(db.session, current_actor(), policy_id, version_input(data))
        return PolicyVersionOut().dump(version_data(version))

    return api_write(work)


@aid_api.get(f"/policies/<int(max={APPLICATION_ID_MAX}):policy_id>/suggestion")
@require_roles(*POLICY_READERS)
@operation("The amount the policy in force suggests for an out-of-pocket cost, with the rule that produced it",
           tags=["aid policies"], path=POLICY_ID, query=SuggestQuery,
           responses={200: ("The suggestion", SuggestionOut), 404: "No such policy, or none in force on the day"})
def suggest(policy_id):
    """Suggest an amount."""
    query = load_query()
    categories = [Category(part.strip()) for part in query["categories"].split(",") if part.strip()]
    version, suggestion = policies.suggest_for(db.session, current_actor(), policy_id, query["out_of_pocket"],
                                               categories, query["on"])
    return jsonify(SuggestionOut().dump(suggestion_data(version, suggestion)))


# --- applications -----------------------------------------------------------------------------------

def _answer(application) -> dict:
    return ApplicationOut().dump(application_data(application))


def _page_answer(page):
    return jsonify(ApplicationListOut().dump({"page": page.page, "per_page": page.per_page, "total": page.total,
                                              "items": [application_data(item) for item in page.items]}))


@aid_api.get("/applications")
@require_roles(*READERS)
@operation("Applications in your sight, newest first", tags=["aid applications"], query=ApplicationsQuery,
           responses={200: ("One page of applications", ApplicationListOut)})
def list_applications():
    """Applications."""
    query = load_query()
    page = applications.list_applications(db.session, current_actor(), state=query["state"],
                                          person_id=query["person"], page=query["page"], per_page=query["per_page"])
    return _page_answer(page)


@aid_api.get("/queue")
@require_roles(*REVIEWERS)
@operation("The reviewer queue: open applications in your sight, most urgent first (breached, then least time "
           "left, then normal ones by submission)", tags=["aid applications"], query=PageQuery,
           responses={200: ("One page of the queue", ApplicationListOut)})
def reviewer_queue():
    """The reviewer queue."""
    query = load_query()
    page = applications.reviewer_queue(db.session, current_actor(), page=query["page"], per_page=query["per_page"])
    return _page_answer(page)


@aid_api.get("/paperwork/overdue")
@require_roles(*READERS)
@operation("Applications aided on minimal documents (先行救助) whose full paperwork is overdue",
           tags=["aid applications"], query=PageQuery,
           responses={200: ("One page of applications", ApplicationListOut)})
def overdue_paperwork():
    """Overdue paperwork."""
    query = load_query()
    page = applications.overdue_paperwork(db.session, current_actor(), page=query["page"], per_page=query["per_page"])
    return _page_answer(page)


@aid_api.get(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/year-to-date")
@require_roles(*READERS)
@operation("What the person and their household received this year from every fund (from the journal, net of "
           "reversals), per fund, and what is approved and not yet paid", tags=["aid applications"],
           path=PERSON_ID, query=YearQuery,
           responses={200: ("The figures", YearToDateOut), 404: "No such person, or outside your sight"})
def year_to_date(person_id):
    """Year-to-date aid of a person."""
    query = load_query()
    figures = applications.year_to_date_aid(db.session, current_actor(), person_id, query["year"])
    return jsonify(YearToDateOut().dump(year_to_date_data(figures)))


@aid_api.post("/applications")
@require_roles(*FILERS)
@operation("File an application for a person in your sight (a draft, or submitted with `submit`)",
           tags=["aid applications"], body=ApplicationIn, idempotency_key="required",
           responses={201: ("The application", ApplicationOut),
                      404: "No such person, or outside your sight",
                      422: "Invalid fields (facts that do not add up, a fund that cannot aid the person), each "
                           "named in `fields`"})
def file_application():
    """File an application."""
    data = load_body()

    def work(_key):
        application = applications.file_application(db.session, current_actor(), application_input(data),
                                                    submit=data["submit"])
        return _answer(application)

    return api_write(work)


@aid_api.get(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>")
@require_roles(*READERS)
@operation("An application with its emergency clock", tags=["aid applications"], path=APPLICATION_ID,
           responses={200: ("The application", ApplicationOut), 404: "No such application, or outside your sight"})
def get_application(application_id):
    """One application."""
    return jsonify(_answer(applications.get_application(db.session, current_actor(), application_id)))


@aid_api.get(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/history")
@require_roles(*READERS)
@operation("Every move of the application: who, when, from, to, why", tags=["aid applications"],
           path=APPLICATION_ID,
           responses={200: ("The moves, oldest first", HistoryOut), 404: "No such application, or outside your sight"})
def application_history(application_id):
    """The state history."""
    events = applications.application_history(db.session, current_actor(), application_id)
    return jsonify(HistoryOut().dump({"items": [history_data(event) for event in events]}))


def _move(application_id, action, body=None):
    """A move of one application by `action(session, actor, id, **body)`, answered with the application."""
    data = load_body() if body is not None else {}

    def work(_key):
        return _answer(action(db.session, current_actor(), application_id, **(body(data) if body else {})))

    return api_write(work, status=200)


_MOVE = {404: "No such application, or outside your sight",
         409: "`illegal_transition`: the application's state does not allow this move"}


@aid_api.post(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/submit")
@require_roles(*FILERS)
@operation("Submit a draft (its clock starts at `reported_at`, default now)", tags=["aid applications"],
           path=APPLICATION_ID, idempotency_key="required",
           responses={200: ("The application", ApplicationOut), **_MOVE})
def submit_application(application_id):
    """Submit."""
    return _move(application_id, applications.submit_application)


@aid_api.post(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/resubmit")
@require_roles(*FILERS)
@operation("Resubmit a returned application", tags=["aid applications"], path=APPLICATION_ID, body=ReasonIn,
           body_required=False, idempotency_key="required",
           responses={200: ("The application", ApplicationOut), **_MOVE})
def resubmit_application(application_id):
    """Resubmit."""
    return _move(application_id, applications.resubmit_application, lambda data: {"reason": data["reason"]})


@aid_api.post(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/withdraw")
@require_roles(*FILERS)
@operation("Withdraw an application before a decision", tags=["aid applications"], path=APPLICATION_ID,
           body=ReasonIn, body_required=False, idempotency_key="required",
           responses={200: ("The application", ApplicationOut), **_MOVE})
def withdraw_application(application_id):
    """Withdraw."""
    return _move(application_id, applications.withdraw_application, lambda data: {"reason": data["reason"]})


@aid_api.post(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/start-review")
@require_roles(*REVIEWERS)
@operation("Take a submitted or resubmitted application under review", tags=["aid applications"],
           path=APPLICATION_ID, idempotency_key="required",
           responses={200: ("The application", ApplicationOut), **_MOVE})
def start_review(application_id):
    """Start the review."""
    return _move(application_id, applications.start_review)


@aid_api.post(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/approve")
@require_roles(*REVIEWERS)
@operation("Approve: a hold on the fund for the amount (above the county limit a county approval escalates to "
           "the city); refused for whoever filed or last changed it, past the annual cap, or beyond the fund's "
           "available money", tags=["aid applications"], path=APPLICATION_ID, body=ApproveIn, body_required=False,
           idempotency_key="required",
           responses={200: ("The application, approved or escalated", ApplicationOut),
                      403: "`city_decision_required`: an escalated application is decided by a city reviewer",
                      404: _MOVE[404],
                      409: "`insufficient_funds`, `annual_cap_exceeded`, `once_per_household`, `maker_checker` or "
                           "`illegal_transition`"})
def approve_application(application_id):
    """Approve."""
    return _move(application_id, applications.approve_application,
                 lambda data: {"amount_fen": data["amount"], "minimal_documents": data["minimal_documents"],
                               "reason": data["reason"]})


@aid_api.post(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/return")
@require_roles(*REVIEWERS)
@operation("Return an application for more information (the reason says what)", tags=["aid applications"],
           path=APPLICATION_ID, body=RequiredReasonIn, idempotency_key="required",
           responses={200: ("The application", ApplicationOut), **_MOVE})
def return_application(application_id):
    """Return for more information."""
    return _move(application_id, applications.return_application, lambda data: {"reason": data["reason"]})


@aid_api.post(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/reject")
@require_roles(*REVIEWERS)
@operation("Reject an application, with the reason", tags=["aid applications"], path=APPLICATION_ID,
           body=RequiredReasonIn, idempotency_key="required",
           responses={200: ("The application", ApplicationOut), **_MOVE})
def reject_application(application_id):
    """Reject."""
    return _move(application_id, applications.reject_application, lambda data: {"reason": data["reason"]})


@aid_api.post(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/escalate")
@require_roles(*REVIEWERS)
@operation("Escalate an application under review to the city, with the reason", tags=["aid applications"],
           path=APPLICATION_ID, body=RequiredReasonIn, idempotency_key="required",
           responses={200: ("The application", ApplicationOut), **_MOVE})
def escalate_application(application_id):
    """Escalate."""
    return _move(application_id, applications.escalate_application, lambda data: {"reason": data["reason"]})


@aid_api.post(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/cancel-approval")
@require_roles(*REVIEWERS)
@operation("Cancel an approval before payment: its hold is voided", tags=["aid applications"],
           path=APPLICATION_ID, body=RequiredReasonIn, idempotency_key="required",
           responses={200: ("The application", ApplicationOut), **_MOVE})
def cancel_approval(application_id):
    """Cancel the approval."""
    return _move(application_id, applications.cancel_approval, lambda data: {"reason": data["reason"]})


@aid_api.post(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/pay")
@require_roles(*PAYERS)
@operation("Pay an approved application: its hold is posted as a disbursement to the person's bank card",
           tags=["aid applications"], path=APPLICATION_ID, idempotency_key="required",
           responses={200: ("The application, paid", ApplicationOut), 404: _MOVE[404],
                      409: "`hold_expired` or `illegal_transition`"})
def pay_application(application_id):
    """Pay one."""

    def work(key):
        return _answer(applications.pay_application(db.session, current_actor(), application_id,
                                                    idempotency_key=key))

    return api_write(work, status=200)


@aid_api.post("/applications/pay")
@require_roles(*PAYERS)
@operation("Pay several approved applications in one run, all or nothing", tags=["aid applications"],
           body=PayManyIn, idempotency_key="required",
           responses={200: ("The applications, paid", PaidListOut),
                      404: "One of them does not exist or is outside your sight (nothing paid)",
                      409: "One of them cannot be paid (nothing paid)"})
def pay_applications():
    """Pay several."""
    data = load_body()

    def work(key):
        paid = applications.pay_applications(db.session, current_actor(), data["applications"], idempotency_key=key)
        return PaidListOut().dump({"items": [application_data(item) for item in paid]})

    return api_write(work, status=200)


@aid_api.post(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/follow-up")
@require_roles(*FILERS)
@operation("Record the follow-up after payment (a visit or a call, and its outcome): it closes the case",
           tags=["aid applications"], path=APPLICATION_ID, body=FollowUpIn, idempotency_key="required",
           responses={200: ("The application, closed", ApplicationOut), **_MOVE})
def record_follow_up(application_id):
    """Follow up."""
    return _move(application_id, applications.record_follow_up,
                 lambda data: {"kind": data["kind"], "outcome": data["outcome"]})


@aid_api.post(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/paperwork-complete")
@require_roles(*REVIEWERS)
@operation("Mark the full paperwork of an application aided on minimal documents as received",
           tags=["aid applications"], path=APPLICATION_ID, idempotency_key="required",
           responses={200: ("The application", ApplicationOut), 404: _MOVE[404],
                      409: "No paperwork outstanding"})
def complete_paperwork(application_id):
    """Paperwork complete."""
    return _move(application_id, applications.complete_paperwork)
