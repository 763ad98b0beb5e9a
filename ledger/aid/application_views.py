"""The web pages of aid applications and tier policies, for each role.

* charity users (and county staff): their applications with the clock, the new-application form
  with the tier amount computed as the out-of-pocket figure is typed (static/aid-suggestion.js
  asks `suggestion`, a JSON answer of the policy in force), documents, edit / submit / withdraw /
  resubmit, the follow-up after payment;
* reviewers: the queue most urgent first, the escalated list, the overdue-paperwork list, and on
  an application's page its documents, the person's and the household's aid this year from every
  fund, the suggested amount with its rule, and the decisions (a refusal, maker-checker among
  them, is shown on the page next to the form that met it);
* finance: approved applications to pay, one or several in one step, with each fund's available
  balance; the voucher of a payment links to its page;
* admins: tier policies with their versions, and a new version (a used one is never edited);
* everyone who may see an application: its state history. Auditors read and change nothing.

Thin handlers over `ledger.aid.applications` and `ledger.aid.policies`: each write goes through
`form_write` (one-time key, refusal at the field, one commit).
"""
from __future__ import annotations

import math

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from .. import documents
from ..auth.models import Role, User
from ..auth.permissions import require_roles
from ..documents.forms import DocumentUploadForm
from ..documents.views import allow_document_uploads
from ..errors import Forbidden, NotFound, ValidationError
from ..extensions import db
from ..identity import mask_id_number
from ..money import format_cny
from ..requests import form_write, page_argument, query_text
from ..timeutil import local_today, utcnow
from ..web.filters import named_code
from ..web.navigation import add_section
from . import applications, policies, services
from .application_forms import (FOLLOW_UP_LABELS, URGENCY_LABELS, ApplicationForm, ApproveForm, EmptyOnceForm,
                                FollowUpForm, PayForm, PolicyVersionFactorsForm, ReasonForm, RequiredReasonForm,
                                bands_text, factor_field_name, fen_of, parse_factor)
from .application_models import APPLICATION_ID_MAX, ApplicationState, Urgency
from .applications import ApplicationInput
from .vocabulary import CATEGORY_LABELS

applications_bp = Blueprint("aid_applications", __name__, url_prefix="/aid")

READERS = (Role.admin, Role.finance, Role.reviewer, Role.charity, Role.auditor)
FILERS = (Role.reviewer, Role.charity)
PER_PAGE = 50

S = ApplicationState

STATE_LABELS = {
    "draft": _l("Draft"), "submitted": _l("Submitted"), "under_review": _l("Under review"),
    "returned": _l("Returned for more information"), "resubmitted": _l("Resubmitted"),
    "escalated": _l("Escalated to the city"), "approved": _l("Approved"), "paid": _l("Paid"),
    "closed": _l("Case closed"), "rejected": _l("Rejected"), "withdrawn": _l("Withdrawn"),
    "approval_cancelled": _l("Approval cancelled"),
}
LEVEL_LABELS = {"city": _l("City"), "county": _l("County"), "village": _l("Village or community")}


def _user():
    return current_user._get_current_object()


def _role() -> Role:
    return Role(current_user.role)


def _label(labels, value) -> str:
    value = getattr(value, "value", value)
    return str(labels.get(value, value or ""))


@applications_bp.app_context_processor
def application_helpers():
    return {"aid_state_label": lambda value: _label(STATE_LABELS, value),
            "aid_urgency_label": lambda value: _label(URGENCY_LABELS, value),
            "aid_follow_up_label": lambda value: _label(FOLLOW_UP_LABELS, value),
            "aid_level_label": lambda value: _label(LEVEL_LABELS, value),
            "aid_clock": lambda application: applications.emergency_clock(application)}


# --- lists -----------------------------------------------------------------------------------------

def _list_page(template: str, page, endpoint: str, **context):
    pages = max(1, math.ceil(page.total / PER_PAGE))
    return render_template(template, page=page, pages=pages, endpoint=endpoint, query=context.pop("query", {}),
                           **context)


@applications_bp.get("/applications")
@login_required
@require_roles(*READERS)
def application_list():
    state = request.args.get("state", "")
    if state and state not in STATE_LABELS:
        state = ""
    page = applications.list_applications(db.session, _user(), state=state or None, page=page_argument(),
                                          per_page=PER_PAGE)
    return _list_page("aid/applications.html", page, "aid_applications.application_list",
                      query={"state": state} if state else {}, state=state, states=STATE_LABELS,
                      heading=_("My applications") if _role() == Role.charity else _("Aid applications"),
                      can_file=_role() in FILERS)


@applications_bp.get("/queue")
@login_required
@require_roles(*(Role.reviewer,))
def queue():
    page = applications.reviewer_queue(db.session, _user(), page=page_argument(), per_page=PER_PAGE)
    return _list_page("aid/applications.html", page, "aid_applications.queue", heading=_("Review queue"),
                      intro=_("Open applications, most urgent first: breached and running clocks, then the "
                              "others by submission."), reviewer_lists=True, empty=_("Nothing is waiting."))


@applications_bp.get("/escalated")
@login_required
@require_roles(*(Role.reviewer,))
def escalated():
    page = applications.list_applications(db.session, _user(), state=S.escalated.value, page=page_argument(),
                                          per_page=PER_PAGE)
    return _list_page("aid/applications.html", page, "aid_applications.escalated",
                      heading=_("Escalated to the city"), reviewer_lists=True, empty=_("Nothing is waiting."),
                      intro=_("Applications a county sent to the city, above its limit or by hand: a city "
                              "reviewer decides them."))


@applications_bp.get("/paperwork")
@login_required
@require_roles(*READERS)
def paperwork():
    page = applications.overdue_paperwork(db.session, _user(), page=page_argument(), per_page=PER_PAGE)
    return _list_page("aid/paperwork.html", page, "aid_applications.paperwork")


# --- filing ----------------------------------------------------------------------------------------

def _person_label(person) -> str:
    return f"{person.name} · {mask_id_number(person.resident_id)} · {person.region.name}"


def _fund_choices(user):
    """The funds with a tier policy the user may file to: (code, "name (code)")."""
    fund_name = current_app.jinja_env.filters["fund_name"]  # the funds feature's filter (a sibling package)
    found = policies.list_policies(db.session, user)
    return [(policy.fund.code, named_code(fund_name(policy.fund.name), policy.fund.code))
            for policy in sorted(found, key=lambda item: item.fund.code)]


def _person_choices(user, search: str, chosen: str | None):
    persons = []
    if chosen and chosen.isdigit() and int(chosen) <= APPLICATION_ID_MAX:
        try:
            persons.append(services.get_person(db.session, user, int(chosen)))
        except NotFound:
            pass
    if search:
        persons += list(services.list_persons(db.session, user, search=search, page=1, per_page=20).items)
    seen, choices = set(), []
    for person in persons:
        if person.id not in seen:
            seen.add(person.id)
            choices.append((person.id, _person_label(person)))
    return choices


def _input_of(form: ApplicationForm) -> ApplicationInput:
    return ApplicationInput(
        person_id=int(form.person_id.data), fund_code=form.fund_code.data, diagnosis=form.diagnosis.data,
        hospital=form.hospital.data, total_cost_fen=form.total_cost.fen, reimbursed_fen=form.reimbursed.fen,
        out_of_pocket_fen=form.out_of_pocket.fen, amount_requested_fen=form.amount_requested.fen,
        urgency=Urgency(form.urgency.data), description=form.description.data or "")


FIELD_NAMES = {"person": "person_id", "fund": "fund_code"}


def _attach_uploads(user, application_id: int) -> int:
    """Attach the files of the form's "documents" fields (each with its kind); how many."""
    attached = 0
    for kind, storage in zip(request.form.getlist("document_kind"), request.files.getlist("documents")):
        if storage and storage.filename:
            documents.attach_upload(db.session, user, applications.SOURCE_KIND, application_id, kind,
                                    storage.stream, storage.filename)
            attached += 1
    return attached


DOCUMENT_SLOTS = (("hospital_bill", _l("Hospital bill")), ("diagnosis", _l("Diagnosis")),
                  ("other", _l("Other document")))


@applications_bp.route("/applications/new", methods=["GET", "POST"])
@login_required
@require_roles(*FILERS)
def new_application():
    user = _user()
    if request.method == "POST":
        allow_document_uploads(len(DOCUMENT_SLOTS))
    search = query_text("q", services.SEARCH_MAX)
    chosen = request.values.get("person_id") or request.args.get("person")
    form = ApplicationForm(persons=_person_choices(user, search, chosen), funds=_fund_choices(user))
    if request.method == "GET" and chosen:
        form.person_id.data = chosen

    def work(_key):
        application = applications.file_application(db.session, user, _input_of(form),
                                                    submit=bool(form.submit_now.data))
        _attach_uploads(user, application.id)
        return {"id": application.id, "number": application.number, "state": application.state.value}

    def done(body):
        flash(_("Application %(number)s submitted.", number=body["number"]) if body["state"] == "submitted"
              else _("Application %(number)s saved as a draft.", number=body["number"]), "success")
        return redirect(url_for("aid_applications.application", application_id=body["id"]))

    answer, status = form_write(form, work, done, FIELD_NAMES)
    if answer is not None:
        return answer
    return render_template("aid/application_form.html", form=form, search=search, application=None,
                           document_slots=DOCUMENT_SLOTS), status


@applications_bp.get("/applications/suggestion")
@login_required
@require_roles(*READERS)
def suggestion():
    """The amount the fund's tier policy in force suggests for an out-of-pocket cost (yuan) and the
    person's categories, with its rule: what the new-application form shows as one types."""
    user = _user()
    fund = request.args.get("fund", "")
    out_of_pocket = fen_of(request.args.get("out_of_pocket", ""))
    person = request.args.get("person", "")
    if out_of_pocket is None or out_of_pocket < 0:
        error = ValidationError(fields={"out_of_pocket": [_("Enter an amount in yuan, such as 1234.56.")]})
        return jsonify(error.to_dict()), 422
    found = [policy for policy in policies.list_policies(db.session, user) if policy.fund.code == fund]
    if not found:
        error = NotFound(_("This fund gives no tiered aid."))
        return jsonify(error.to_dict()), 404
    categories = []
    if person.isdigit() and int(person) <= APPLICATION_ID_MAX:
        categories = policies.categories_on(services.get_person(db.session, user, int(person)), local_today())
    version, suggested = policies.suggest_for(db.session, user, found[0].id, out_of_pocket, categories)
    return jsonify({"amount": format_cny(suggested.amount_fen, symbol=False),
                    "amount_fen": suggested.amount_fen, "rule": str(suggested.text), "version": version.version_no,
                    "policy": found[0].name})


def _application_or_404(application_id: int):
    return applications.get_application(db.session, _user(), application_id)


@applications_bp.route(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/edit", methods=["GET", "POST"])
@login_required
@require_roles(*FILERS)
def edit_application(application_id):
    user = _user()
    application = _application_or_404(application_id)
    if S(application.state) not in (S.draft, S.returned):
        flash(_("Only a draft or a returned application can be changed."), "error")
        return redirect(url_for("aid_applications.application", application_id=application_id))
    if request.method == "POST":
        allow_document_uploads(len(DOCUMENT_SLOTS))
    form = ApplicationForm(persons=[(application.person.id, _person_label(application.person))],
                           funds=_fund_choices(user))
    if request.method == "GET":
        yuan = lambda fen: format_cny(fen, symbol=False).replace(",", "")  # noqa: E731
        form.person_id.data = str(application.person_id)
        form.fund_code.data = application.fund.code
        form.diagnosis.data, form.hospital.data = application.diagnosis, application.hospital
        form.total_cost.data, form.reimbursed.data = yuan(application.total_cost_fen), yuan(application.reimbursed_fen)
        form.out_of_pocket.data = yuan(application.out_of_pocket_fen)
        form.amount_requested.data = yuan(application.amount_requested_fen)
        form.urgency.data, form.description.data = application.urgency.value, application.description

    def work(_key):
        changed = applications.update_application(db.session, user, application_id, _input_of(form))
        _attach_uploads(user, changed.id)
        return {"id": changed.id}

    def done(_body):
        flash(_("The application is saved."), "success")
        return redirect(url_for("aid_applications.application", application_id=application_id))

    answer, status = form_write(form, work, done, FIELD_NAMES)
    if answer is not None:
        return answer
    return render_template("aid/application_form.html", form=form, search="", application=application,
                           document_slots=DOCUMENT_SLOTS), status


# --- the application's page ------------------------------------------------------------------------

def _history(application_id: int):
    events = applications.application_history(db.session, _user(), application_id)
    names = {}
    for event in events:
        if event.user_id is not None and event.user_id not in names:
            person = db.session.get(User, event.user_id)
            names[event.user_id] = person.display_name if person else ""
    return [{"at": event.occurred_at, "who": names.get(event.user_id, ""), "from": event.detail.get("from"),
             "to": event.detail.get("to"), "why": event.detail.get("reason") or "",
             "voucher": event.detail.get("voucher")} for event in events]


#: The action forms of an application's page: name -> (form class, roles who see it, states).
ACTIONS = {
    "submit": (EmptyOnceForm, FILERS, (S.draft,)),
    "resubmit": (ReasonForm, FILERS, (S.returned,)),
    "withdraw": (ReasonForm, FILERS, applications.UNDECIDED_STATES),
    "start_review": (EmptyOnceForm, (Role.reviewer,), (S.submitted, S.resubmitted)),
    "approve": (ApproveForm, (Role.reviewer,), (S.under_review, S.escalated)),
    "return": (RequiredReasonForm, (Role.reviewer,), (S.under_review, S.escalated)),
    "reject": (RequiredReasonForm, (Role.reviewer,), (S.under_review, S.escalated)),
    "escalate": (RequiredReasonForm, (Role.reviewer,), (S.under_review,)),
    "cancel_approval": (RequiredReasonForm, (Role.reviewer,), (S.approved,)),
    "pay": (EmptyOnceForm, (Role.finance,), (S.approved,)),
    "paperwork": (EmptyOnceForm, (Role.reviewer,), (S.approved, S.paid, S.closed)),
    "follow_up": (FollowUpForm, FILERS, (S.paid,)),
}


def _offered(application, name: str) -> bool:
    _form, roles, states = ACTIONS[name]
    if _role() not in roles or S(application.state) not in states:
        return False
    if name == "paperwork":
        return bool(application.minimal_documents and application.paperwork_completed_at is None)
    if name == "escalate":
        return not _city_wide()
    if name in ("submit", "resubmit", "withdraw") and _role() == Role.charity:
        return application.filing_organisation_id == current_user.organisation_id
    return True


def _city_wide() -> bool:
    from ..auth.access import as_actor

    return as_actor(_user()).city_wide


def _suggestion(application) -> tuple[int, str] | None:
    """The amount the policy suggests, with its rule in the reader's language: the decision's own
    (its version and factor) once decided, today's policy for the person before."""
    rule = applications.suggestion_rule(application)
    if rule is not None:
        return application.suggested_fen, str(rule)
    version = policies.version_on(db.session, application.fund_id, local_today())
    if version is None:
        return None
    found = policies.suggest(version, application.out_of_pocket_fen,
                             policies.categories_on(application.person, local_today()))
    return found.amount_fen, str(found.text)


def _render_application(application, failed: tuple[str, object] | None = None, status: int = 200, upload=None):
    user = _user()
    forms = {}
    for name, (form_class, _roles, _states) in ACTIONS.items():
        if failed and failed[0] == name:
            forms[name] = failed[1]
        elif _offered(application, name):
            forms[name] = form_class(formdata=None, prefix=name)
    if "approve" in forms and Urgency(application.urgency) == Urgency.normal:
        del forms["approve"].minimal_documents  # 先行救助 is for urgent cases only
    year_to_date = applications.year_to_date_aid(db.session, user, application.person_id)
    suggestion_shown = _suggestion(application)
    links = documents.documents_of(db.session, user, applications.SOURCE_KIND, application.id)
    if upload is None and _role() in FILERS and S(application.state) in applications.DOCUMENT_STATES:
        upload = DocumentUploadForm(formdata=None)
    return render_template(
        "aid/application.html", application=application, clock=applications.emergency_clock(application, utcnow()),
        forms=forms, failed=failed[0] if failed else None, year_to_date=year_to_date,
        suggestion=suggestion_shown, links=links, upload=upload, history=_history(application.id),
        show_funds=_role() not in (Role.charity, Role.vendor),
        can_edit=("submit" in forms or "resubmit" in forms)), status


@applications_bp.get(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>")
@login_required
@require_roles(*READERS)
def application(application_id):
    return _render_application(_application_or_404(application_id))


def _run_action(name: str, application_id: int, form):
    user = _user()
    if name == "submit":
        return applications.submit_application(db.session, user, application_id)
    if name == "resubmit":
        return applications.resubmit_application(db.session, user, application_id, reason=form.reason.data or "")
    if name == "withdraw":
        return applications.withdraw_application(db.session, user, application_id, reason=form.reason.data or "")
    if name == "start_review":
        return applications.start_review(db.session, user, application_id)
    if name == "approve":
        return applications.approve_application(db.session, user, application_id, amount_fen=form.amount.fen,
                                                minimal_documents=bool(form.minimal_documents.data),
                                                reason=form.reason.data or "")
    if name == "return":
        return applications.return_application(db.session, user, application_id, reason=form.reason.data)
    if name == "reject":
        return applications.reject_application(db.session, user, application_id, reason=form.reason.data)
    if name == "escalate":
        return applications.escalate_application(db.session, user, application_id, reason=form.reason.data)
    if name == "cancel_approval":
        return applications.cancel_approval(db.session, user, application_id, reason=form.reason.data)
    if name == "pay":
        return applications.pay_application(db.session, user, application_id)
    if name == "paperwork":
        return applications.complete_paperwork(db.session, user, application_id)
    return applications.record_follow_up(db.session, user, application_id, kind=form.kind.data,
                                         outcome=form.outcome.data)


DONE_MESSAGES = {
    "submit": _l("Submitted: the reviewers have it."), "resubmit": _l("Sent back to the reviewers."),
    "withdraw": _l("The application is withdrawn."), "start_review": _l("Taken under review."),
    "approve": _l("Decided."), "return": _l("Returned to the filer."), "reject": _l("Rejected."),
    "escalate": _l("Escalated to the city."), "cancel_approval": _l("The approval is cancelled; its hold is released."),
    "pay": _l("Paid."), "paperwork": _l("The full paperwork is recorded as received."),
    "follow_up": _l("The follow-up is recorded; the case is closed."),
}


@applications_bp.post(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/"
                      "<any(submit,resubmit,withdraw,start_review,approve,return,reject,escalate,cancel_approval,"
                      "pay,paperwork,follow_up):action>")
@login_required
@require_roles(*READERS)
def act(application_id, action):
    form_class, roles, _states = ACTIONS[action]
    if _role() not in roles:
        raise Forbidden()
    _application_or_404(application_id)
    form = form_class(prefix=action)

    def work(_key):
        moved = _run_action(action, application_id, form)
        return {"state": moved.state.value,
                "voucher": moved.payment_entry.voucher_no if action == "pay" and moved.payment_entry else None}

    def done(body):
        message = DONE_MESSAGES[action]
        if body.get("voucher"):
            message = _l("Paid: voucher %(voucher)s.", voucher=body["voucher"])
        if action == "approve" and body["state"] == S.escalated.value:
            message = _l("Approved at the county; above the county's limit it now goes to the city.")
        flash(str(message), "success")
        if action == "pay" and request.form.get("back") == "payments":  # paid from the list: back to it
            return redirect(url_for("aid_applications.payments", paid=application_id))
        return redirect(url_for("aid_applications.application", application_id=application_id))

    answer, status = form_write(form, work, done, {"amount": "amount", "reason": "reason"})
    if answer is not None:
        return answer
    db.session.expire_all()
    return _render_application(_application_or_404(application_id), (action, form), status)


@applications_bp.post(f"/applications/<int(max={APPLICATION_ID_MAX}):application_id>/documents")
@login_required
@require_roles(*FILERS)
def attach_document(application_id):
    allow_document_uploads(1)
    user = _user()
    application = _application_or_404(application_id)
    form = DocumentUploadForm()

    def work(_key):
        documents.attach_upload(db.session, user, applications.SOURCE_KIND, application_id, form.kind.data,
                                form.file.data.stream, form.file.data.filename,
                                content_length=request.content_length)
        return {}

    def done(_body):
        flash(_("The document is attached."), "success")
        return redirect(url_for("aid_applications.application", application_id=application_id))

    answer, status = form_write(form, work, done, {"document": "file"}, refusal_field="file")
    if answer is not None:
        return answer
    return _render_application(application, status=status, upload=form)


# --- payments --------------------------------------------------------------------------------------

@applications_bp.route("/payments", methods=["GET", "POST"])
@login_required
@require_roles(*(Role.finance,))
def payments():
    user = _user()
    page = applications.list_applications(db.session, user, state=S.approved.value, page=page_argument(),
                                          per_page=PER_PAGE)
    form = PayForm()
    form.application.choices = [(str(item.id), item.number) for item in page.items]

    def work(key):
        ids = form.application.data or []
        numbers = [int(value) for value in ids if str(value).isdigit() and int(value) <= APPLICATION_ID_MAX]
        paid = applications.pay_applications(db.session, user, numbers, idempotency_key=key)
        return {"paid": [{"id": item.id, "number": item.number, "voucher": item.payment_entry.voucher_no}
                         for item in paid]}

    def done(body):
        flash(_("%(count)s paid: vouchers %(vouchers)s.", count=len(body["paid"]),
                vouchers="、".join(item["voucher"] for item in body["paid"])), "success")
        return redirect(url_for("aid_applications.payments", paid=",".join(str(item["id"]) for item in body["paid"])))

    answer, status = form_write(form, work, done, {"applications": "application", "person": "application"},
                                refusal_field="application")
    if answer is not None:
        return answer
    paid = applications.list_applications(db.session, user, state=S.paid.value, page=1, per_page=10)
    pay_one = {item.id: EmptyOnceForm(formdata=None, prefix="pay") for item in page.items}
    return _list_page("aid/payments.html", page, "aid_applications.payments", form=form, paid=paid.items,
                      pay_one=pay_one), status


# --- tier policies (admins write; everyone in the programme reads) ---------------------------------

@applications_bp.get("/policies")
@login_required
@require_roles(*READERS)
def policy_list():
    found = sorted(policies.list_policies(db.session, _user()), key=lambda policy: policy.fund.code)
    return render_template("aid/policies.html", policies=found)


POLICY_ID_MAX = APPLICATION_ID_MAX


def _version_text(version) -> dict:
    return {"bands": [(band.threshold_fen, band.amount_fen) for band in version.bands],
            "factors": [(str(CATEGORY_LABELS.get(factor.category.value, factor.category.value)),
                         policies.factor_text(factor.factor_permille)) for factor in version.factors]}


@applications_bp.get(f"/policies/<int(max={POLICY_ID_MAX}):policy_id>")
@login_required
@require_roles(*READERS)
def policy(policy_id):
    found = policies.get_policy(db.session, _user(), policy_id)
    in_force = policies.version_on(db.session, found.fund_id, local_today())
    return render_template("aid/policy.html", policy=found, in_force=in_force, factor_text=policies.factor_text,
                           tier_name=policies.tier_name, category_label=lambda value: _label(CATEGORY_LABELS, value))


@applications_bp.route(f"/policies/<int(max={POLICY_ID_MAX}):policy_id>/versions/new", methods=["GET", "POST"])
@login_required
@require_roles(*(Role.admin,))
def new_policy_version(policy_id):
    user = _user()
    found = policies.get_policy(db.session, user, policy_id)
    form = PolicyVersionFactorsForm()
    latest = found.versions[-1] if found.versions else None
    if request.method == "GET" and latest is not None:
        yuan = lambda fen: format_cny(fen, symbol=False).replace(",", "")  # noqa: E731
        form.effective_on.data = local_today()
        form.bands.data = bands_text(latest.bands)
        form.annual_cap.data = yuan(latest.annual_cap_fen)
        form.county_approval_max.data = yuan(latest.county_approval_max_fen)
        form.once_per_household_per_year.data = latest.once_per_household_per_year
        for factor in latest.factors:
            getattr(form, factor_field_name(factor.category.value)).data = policies.factor_text(factor.factor_permille)

    def work(_key):
        factors = {}
        for value in CATEGORY_LABELS:
            field = getattr(form, factor_field_name(value))
            try:
                permille = parse_factor(field.data)
            except ValueError:
                raise ValidationError(fields={factor_field_name(value): [
                    _l("A factor is a number such as 1.2 (from 0.001 to 10).")]}) from None
            if permille is not None:
                factors[value] = permille
        data = policies.VersionInput(
            effective_on=form.effective_on.data, annual_cap_fen=form.annual_cap.fen,
            county_approval_max_fen=form.county_approval_max.fen,
            once_per_household_per_year=bool(form.once_per_household_per_year.data),
            bands=form.bands.parsed, factors=factors)
        version = policies.add_version(db.session, user, policy_id, data)
        return {"version": version.version_no}

    def done(body):
        flash(_("Version %(number)s added.", number=body["version"]), "success")
        return redirect(url_for("aid_applications.policy", policy_id=policy_id))

    answer, status = form_write(form, work, done, {"annual_cap": "annual_cap",
                                                   "county_approval_max": "county_approval_max"})
    if answer is not None:
        return answer
    factor_fields = [getattr(form, factor_field_name(value)) for value in CATEGORY_LABELS]
    return render_template("aid/policy_version_form.html", form=form, policy=found,
                           factor_fields=factor_fields), status


def register(app):
    app.register_blueprint(applications_bp)
    add_section("aid_applications.application_list", _l("Aid applications"),
                _l("Tiered aid for heavy medical costs: filing, review on the emergency clock, payment, follow-up."),
                [Role.admin, Role.finance, Role.charity, Role.auditor], order=31)
    add_section("aid_applications.queue", _l("Review queue"),
                _l("Open aid applications, most urgent first, with the time left on each clock."),
                [Role.reviewer], order=31)
    add_section("aid_applications.payments", _l("Aid to pay"),
                _l("Approved aid applications waiting for payment, with each fund's available balance."),
                [Role.finance], order=32)
    add_section("aid_applications.policy_list", _l("Tier policies"),
                _l("The bands, factors and limits by which tiered aid is suggested, version by version."),
                [Role.admin, Role.reviewer, Role.auditor], order=33)
