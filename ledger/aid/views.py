"""The registry's web pages: the list (search, paging, CSV / XLSX export), a person's page with the
audited "show" action, the new-person form and the import with its preview.

Thin handlers over `ledger.aid.services`. Resident IDs and bank account numbers are masked on
every page and in every export; the person's page shows them in full only after the explicit
"show" button (a POST, finance and reviewers only), and only in that one answer, each view
written to the audit log by the service.

An import is previewed first: the upload is kept under UPLOADS_DIR by its SHA-256 (outside the
web root) and the preview page carries only that digest; "import" reads the file back by it.
"""
from __future__ import annotations

import math
import re

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..auth.models import Role
from ..auth.permissions import require_roles
from ..errors import NotFound
from ..extensions import db
from ..identity import mask_id_number
from ..requests import form_write, page_argument, query_text
from ..timeutil import local_today
from ..web import exports
from ..web.navigation import add_section
from ..web.uploads import kept_upload, preview_upload
from . import services
from .forms import ImportApplyForm, ImportUploadForm, PersonForm, RevealForm
from .models import PERSON_ID_MAX
from .schemas import IMPORT_FILE_MAX_BYTES
from .services import CategoryInput, PersonInput
from .vocabulary import CATEGORY_LABELS, RELATION_LABELS, SEX_LABELS

aid_bp = Blueprint("aid", __name__, url_prefix="/aid")

READERS = (Role.admin, Role.finance, Role.reviewer, Role.charity, Role.auditor)
WRITERS = (Role.reviewer, Role.charity)
REVEALERS = (Role.finance, Role.reviewer)
PER_PAGE = 50
UPLOADS_FOLDER = "aid-imports"


def _user():
    return current_user._get_current_object()


def can_register() -> bool:
    return current_user.is_authenticated and current_user.has_role(*WRITERS)


def can_reveal() -> bool:
    return current_user.is_authenticated and current_user.has_role(*REVEALERS)


@aid_bp.context_processor
def aid_helpers():
    return {"aid_category_label": lambda value: CATEGORY_LABELS.get(getattr(value, "value", value), value),
            "aid_relation_label": lambda value: RELATION_LABELS.get(getattr(value, "value", value), value),
            "aid_sex_label": lambda value: SEX_LABELS.get(getattr(value, "value", value), value),
            "masked": mask_id_number, "can_register_persons": can_register, "can_reveal_persons": can_reveal,
            "aid_row_reason": row_reason}


#: The reasons an import row is refused, in the reader's language (the pipeline says them in English).
ROW_REASONS = {
    "is required": _l("is required"),
    "wrong check digit: the last character does not match the others (a digit is mistyped)":
        _l("Wrong check digit: the last character does not match the others (a digit is mistyped)."),
    "unknown village or community code": _l("unknown village or community code"),
    "a village outside your county": _l("a village outside your county"),
    "is already registered": _l("is already registered"),
    "the head of household is neither in this file nor in the registry":
        _l("the head of household is neither in this file nor in the registry"),
    "the head of household named is a member of another household in this file":
        _l("the head of household named is a member of another household in this file"),
    "unknown column": _l("unknown column"),
}
_SAME_AS_ROW = re.compile(r"^the same resident ID as row ([0-9]+)$")


def row_reason(message: str) -> str:
    """A row error's reason in the interface language (as written when there is no translation)."""
    same = _SAME_AS_ROW.match(message)
    if same:
        return _("the same resident ID as row %(row)s", row=same.group(1))
    return str(ROW_REASONS.get(message, message))


def _category_text(person) -> str:
    parts = []
    for item in person.categories:
        label = str(CATEGORY_LABELS.get(item.category.value, item.category.value))
        if item.disability_grade:
            label += " " + _("grade %(grade)s", grade=item.disability_grade)
        parts.append(label)
    return "、".join(parts)


@aid_bp.get("/persons")
@login_required
@require_roles(*READERS)
def persons():
    search = query_text("q", services.SEARCH_MAX)
    page_number = page_argument()
    export_format = exports.requested_format()
    if export_format:
        return _persons_export(export_format, search)
    page = services.list_persons(db.session, _user(), search=search, page=page_number, per_page=PER_PAGE)
    pages = max(1, math.ceil(page.total / PER_PAGE))
    query = {"q": search} if search else {}
    return render_template("aid/persons.html", page=page, pages=pages, search=search, query=query,
                           category_text=_category_text)


def _persons_export(export_format, search):
    header = [_("Full name"), _("Resident ID number"), _("Sex"), _("Born on"), _("County of the person"), _("Village or community"),
              _("Relation to the head"), _("Category"), _("Bank"), _("Bank account number"), _("Account holder")]

    def rows():
        page_number = 1
        while True:
            page = services.list_persons(db.session, _user(), search=search, page=page_number, per_page=200)
            for person in page.items:
                yield [person.name, mask_id_number(person.resident_id), str(SEX_LABELS[person.sex.value]),
                       person.born_on.isoformat(), person.county.name, person.region.name,
                       str(RELATION_LABELS[person.relation.value]), _category_text(person), person.bank_name,
                       mask_id_number(person.bank_account_number), person.bank_account_holder]
            if page_number * 200 >= page.total:
                return
            page_number += 1

    return exports.list_file(export_format, "beneficiaries", _("Beneficiaries"), header, rows())


def _render_person(person, revealed: bool = False, status: int = 200):
    members = services.household_members(db.session, _user(), person)
    return render_template("aid/person.html", person=person, members=members, revealed=revealed,
                           reveal_form=RevealForm() if can_reveal() and not revealed else None), status


@aid_bp.get(f"/persons/<int(max={PERSON_ID_MAX}):person_id>")
@login_required
@require_roles(*READERS)
def person(person_id):
    return _render_person(services.get_person(db.session, _user(), person_id))


@aid_bp.post(f"/persons/<int(max={PERSON_ID_MAX}):person_id>/reveal")
@login_required
@require_roles(*REVEALERS)
def reveal(person_id):
    form = RevealForm()
    shown = {}

    def work(_key):
        shown["person"] = services.reveal_person(db.session, _user(), person_id)
        return {"id": person_id}

    def done(_body):
        response, status = _render_person(shown["person"], revealed=True)
        return response, status, {"Cache-Control": "no-store"}

    answer, _status = form_write(form, work, done)
    return answer if answer is not None else redirect(url_for("aid.person", person_id=person_id))


def _village_choices(user):
    return [(code, f"{county}{name}（{code}）")
            for code, name, county in services.villages_for_registration(db.session, user)]


@aid_bp.route("/persons/new", methods=["GET", "POST"])
@login_required
@require_roles(*WRITERS)
def new_person():
    user = _user()
    form = PersonForm(villages=_village_choices(user))

    def work(_key):
        categories = ()
        if form.category.data:
            categories = (CategoryInput(form.category.data, form.category_since.data or local_today(), None,
                                        form.disability_grade.data),)
        data = PersonInput(name=form.name.data, resident_id=form.resident_id.data, village_code=form.village_code.data,
                           phone=form.phone.data or "", address=form.address.data or "",
                           household_head_resident_id=form.household_head_resident_id.data or None,
                           relation=form.relation.data, categories=categories, bank_name=form.bank_name.data or "",
                           bank_account_number=form.bank_account_number.data or "",
                           bank_account_holder=form.bank_account_holder.data or "")
        outcome = services.register_person(db.session, user, data)
        return {"id": outcome.person.id, "created": outcome.created}

    def done(body):
        flash(_("The person is registered.") if body["created"] else
              _("This resident ID was registered already; here is that person."), "success")
        return redirect(url_for("aid.person", person_id=body["id"]))

    answer, status = form_write(form, work, done, {"categories": "category"}, refusal_field="resident_id")
    if answer is not None:
        return answer
    return render_template("aid/person_new.html", form=form), status


@aid_bp.route("/persons/import", methods=["GET", "POST"])
@login_required
@require_roles(*WRITERS)
def import_persons():
    """Step 1: upload and preview (nothing is written to the registry)."""
    return preview_page(services, ImportUploadForm(), UPLOADS_FOLDER, "aid/import.html")


@aid_bp.post("/persons/import/apply")
@login_required
@require_roles(*WRITERS)
def import_apply():
    """Step 2: import the previewed file, all rows or none, once."""
    return apply_previewed(services, UPLOADS_FOLDER, "aid.persons", "aid.import_persons")


def preview_page(feature_services, form, folder: str, template: str):
    """An import's step 1 for any feature's file of persons (`preview_import`, `already_imported`)."""
    user = _user()
    upload = preview_upload(form, folder, IMPORT_FILE_MAX_BYTES,
                            lambda data, filename: feature_services.preview_import(db.session, user, data, filename),
                            lambda sha256: feature_services.already_imported(db.session, sha256))
    parsed = upload.parsed
    apply_form = ImportApplyForm(formdata=None, sha256=parsed.sha256, filename=parsed.filename) if parsed else None
    return render_template(template, form=form, parsed=parsed, previous=upload.previous, refusal=upload.refusal,
                           apply_form=apply_form), upload.status


def apply_previewed(feature_services, folder: str, done_endpoint: str, retry_endpoint: str):
    """An import's step 2 for any feature's file of persons (`apply_import`): the kept upload, all rows
    or none, once; then the list (`done_endpoint`), or the upload page again when the file has errors."""
    form = ImportApplyForm()
    if not form.validate_on_submit():
        raise NotFound("no such upload")
    data = kept_upload(folder, form.sha256.data)

    def work(_key):
        _parsed, outcome = feature_services.apply_import(db.session, _user(), data, form.filename.data or "")
        return {"applied_now": outcome.applied_now, "count": outcome.batch.row_count}

    def done(body):
        if body["applied_now"]:
            flash(_("%(count)s persons imported.", count=body["count"]), "success")
        else:
            flash(_("This file was imported before (%(count)s persons); nothing was imported again.",
                    count=body["count"]), "success")
        return redirect(url_for(done_endpoint))

    answer, _status = form_write(form, work, done)
    if answer is not None:
        return answer
    flash(_("Nothing was imported: the file has errors. Correct them and upload it again."), "error")
    return redirect(url_for(retry_endpoint))


def register(app):
    app.register_blueprint(aid_bp)
    add_section("aid.persons", _l("Beneficiaries"),
                _l("The registry of persons receiving aid: households, categories, bank cards."),
                list(READERS), order=30)
