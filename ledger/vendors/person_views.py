"""The supported persons' web pages: the list (search, county and care level, paging), a person's
page with assessments, status history and assignments, the three recordings on it (an
assessment, a status change, a reassignment) and the import with its preview, for reviewers and
admins.

Thin handlers over `ledger.vendors.persons`. Resident IDs are masked on every page.
"""
from __future__ import annotations

import math

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..aid.views import apply_previewed, preview_page
from ..aid.views import row_reason as registry_row_reason
from ..auth.models import Role
from ..auth.permissions import require_roles
from ..extensions import db
from ..identity import mask_id_number
from ..requests import form_write, page_argument, query_text
from ..web.navigation import add_section
from . import persons as services
from .person_forms import AssessmentForm, PersonsImportForm, ReassignForm, StatusForm
from .person_models import ACTIVITIES, SUPPORTED_ID_MAX, CareLevel
from .person_vocabulary import ACTIVITY_LABELS, STATUS_LABELS
from .vocabulary import CARE_LEVEL_LABELS

care_persons_bp = Blueprint("care_persons", __name__, url_prefix="/care")

READERS = (Role.admin, Role.auditor, Role.finance, Role.reviewer, Role.vendor)
WRITERS = (Role.admin, Role.reviewer)
PER_PAGE = 50
PERSON = f"/persons/<int(max={SUPPORTED_ID_MAX}):person_id>"
UPLOADS_FOLDER = "care-person-imports"


def _user():
    return current_user._get_current_object()


def can_record() -> bool:
    return current_user.is_authenticated and current_user.has_role(*WRITERS)


def _label(labels):
    return lambda value: labels.get(getattr(value, "value", value), value) if value is not None else ""


@care_persons_bp.context_processor
def care_person_helpers():
    return {"care_level_label": _label(CARE_LEVEL_LABELS), "care_status_label": _label(STATUS_LABELS),
            "activity_label": _label(ACTIVITY_LABELS), "activities": ACTIVITIES, "masked": mask_id_number,
            "can_record_care": can_record, "care_row_reason": row_reason}


@care_persons_bp.get("/persons")
@login_required
@require_roles(*READERS)
def persons():
    search = query_text("q", services.SEARCH_MAX)
    level = request.args.get("level", "")
    care_level = CareLevel(level) if level in CARE_LEVEL_LABELS else None
    page = services.list_supported_persons(db.session, _user(), search=search, care_level=care_level,
                                           page=page_argument(), per_page=PER_PAGE)
    query = {key: value for key, value in (("q", search), ("level", care_level and care_level.value)) if value}
    return render_template("vendors/persons/list.html", page=page, pages=max(1, math.ceil(page.total / PER_PAGE)),
                           search=search, level=care_level.value if care_level else "", query=query,
                           levels=CARE_LEVEL_LABELS)


def _render_person(person_id, status=200, **forms):
    history = services.person_history(db.session, _user(), person_id)
    if can_record():
        forms.setdefault("assessment_form", AssessmentForm(formdata=None))
        forms.setdefault("status_form", StatusForm(formdata=None))
        forms.setdefault("reassign_form", ReassignForm(formdata=None,
                                                       vendors=services.vendor_choices(db.session, _user())))
    return render_template("vendors/persons/person.html", history=history, person=history.person, **forms), status


@care_persons_bp.get(PERSON)
@login_required
@require_roles(*READERS)
def person(person_id):
    return _render_person(person_id)


def _recording(form, work, message, form_name, person_id):
    def done(_body):
        flash(message, "success")
        return redirect(url_for("care_persons.person", person_id=person_id))

    answer, status = form_write(form, work, done)
    if answer is not None:
        return answer
    return _render_person(person_id, status, **{form_name: form})


@care_persons_bp.post(PERSON + "/assessments")
@login_required
@require_roles(*WRITERS)
def record_assessment(person_id):
    form = AssessmentForm()

    def work(_key):
        data = services.AssessmentInput(
            assessed_on=form.assessed_on.data, assessor=form.assessor.data,
            answers={name: getattr(form, name).data == "able" for name in ACTIVITIES})
        assessment = services.record_assessment(db.session, _user(), person_id, data)
        return {"id": assessment.id}

    return _recording(form, work, _("The assessment is recorded."), "assessment_form", person_id)


@care_persons_bp.post(PERSON + "/statuses")
@login_required
@require_roles(*WRITERS)
def record_status(person_id):
    form = StatusForm()

    def work(_key):
        change = services.record_status(db.session, _user(), person_id, form.status.data, form.effective_on.data,
                                        form.note.data or "")
        return {"id": change.id}

    return _recording(form, work, _("The status change is recorded."), "status_form", person_id)


@care_persons_bp.post(PERSON + "/assignments")
@login_required
@require_roles(*WRITERS)
def reassign(person_id):
    form = ReassignForm(vendors=services.vendor_choices(db.session, _user()))

    def work(_key):
        assignment = services.reassign(db.session, _user(), person_id, form.vendor.data, form.valid_from.data)
        return {"id": assignment.id}

    return _recording(form, work, _("The person is reassigned."), "reassign_form", person_id)


#: The reasons a supported persons file's row is refused, in the reader's language (others: the registry's).
ROW_REASONS = {
    "no contract of this vendor in the county on the day care begins":
        _l("no contract of this vendor in the county on the day care begins"),
    "an assessment needs its date, assessor and all six answers":
        _l("an assessment needs its date, assessor and all six answers"),
    "is in the future": _l("is in the future"),
}


def row_reason(message: str) -> str:
    return str(ROW_REASONS[message]) if message in ROW_REASONS else registry_row_reason(message)


@care_persons_bp.route("/persons/import", methods=["GET", "POST"])
@login_required
@require_roles(*WRITERS)
def import_persons():
    """Step 1: upload and preview (nothing is written)."""
    return preview_page(services, PersonsImportForm(), UPLOADS_FOLDER, "vendors/persons/import.html")


@care_persons_bp.post("/persons/import/apply")
@login_required
@require_roles(*WRITERS)
def import_apply():
    """Step 2: import the previewed file, all rows or none, once."""
    return apply_previewed(services, UPLOADS_FOLDER, "care_persons.persons", "care_persons.import_persons")


def register(app):
    app.register_blueprint(care_persons_bp)
    add_section("care_persons.persons", _l("Supported persons"),
                _l("Dispersed-support extremely poor persons under home care: care levels, status, vendors."),
                list(READERS), order=40)
