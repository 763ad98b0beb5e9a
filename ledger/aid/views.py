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

from flask import Blueprint, flash, redirect, render_template, request, url_for
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
from . import edits, services
from .forms import (BankCardForm, CategoryAddForm, CategoryEndForm, ContactForm, HouseholdHeadForm,
                    HouseholdMemberForm, HouseholdRemoveForm, ImportApplyForm, ImportUploadForm, PersonForm,
                    RevealForm)
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


def _edit_forms(person, members, bound=None) -> dict:
    """The person's page's change forms (for registry writers), filled with what is recorded; `bound`:
    {name: (the row's id for a form per row, or None; the form just sent back with its errors)}.
    Each form has its own prefix, so that the page's field ids stay unique."""
    if not can_register():
        return {}
    user = _user()
    forms = {
        "contact": ContactForm(formdata=None, prefix="contact", villages=_village_choices(user),
                               data={"phone": person.phone, "address": person.address,
                                     "village_code": person.region.code}),
        "bank_card": BankCardForm(formdata=None, prefix="card",
                                  data={"bank_name": person.bank_name,
                                        "bank_account_holder": person.bank_account_holder}),
        "category": CategoryAddForm(formdata=None, prefix="category"),
        "member": HouseholdMemberForm(formdata=None, prefix="member"),
        "end": {item.id: CategoryEndForm(formdata=None, prefix=f"end{item.id}")
                for item in person.categories if item.ends_on is None},
        "head": {member.id: HouseholdHeadForm(formdata=None, prefix=f"head{member.id}")
                 for member in members if member.relation.value != "head"},
        "remove": {member.id: HouseholdRemoveForm(formdata=None, prefix=f"remove{member.id}")
                   for member in members if member.relation.value != "head"},
    }
    for name, (row_id, form) in (bound or {}).items():
        if row_id is None:
            forms[name] = form
        else:
            forms[name][row_id] = form
    return forms


def _render_person(person, revealed: bool = False, status: int = 200, bound=None):
    members = services.household_members(db.session, _user(), person)
    return render_template("aid/person.html", person=person, members=members, revealed=revealed,
                           reveal_form=RevealForm() if can_reveal() and not revealed else None,
                           edit=_edit_forms(person, members, bound)), status


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


# --- changes to a registered person: one small form each, on the person's page ---------------------

def person_change_route(tail: str):
    """The route of a change to a person: POST /aid/persons/<id><tail>, registry writers only."""

    def decorator(view):
        return aid_bp.post(f"/persons/<int(max={PERSON_ID_MAX}):person_id>{tail}")(
            login_required(require_roles(*WRITERS)(view)))

    return decorator


def _person_change(person_id, name, form, work, message, *, row_id=None, refusal_field=None):
    """Run one change form: on success a flash and back to the person's page; on a refusal the page
    again, the form with its errors next to its fields."""

    def done(_body):
        flash(message, "success")
        return redirect(url_for("aid.person", person_id=person_id))

    def run(_key):
        work()
        return {"id": person_id}

    answer, status = form_write(form, run, done, refusal_field=refusal_field)
    if answer is not None:
        return answer
    db.session.expire_all()
    return _render_person(services.get_person(db.session, _user(), person_id), status=status or 422,
                          bound={name: (row_id, form)})


@person_change_route("/contact")
def change_contact(person_id):
    form = ContactForm(prefix="contact", villages=_village_choices(_user()))
    return _person_change(person_id, "contact", form, lambda: edits.change_contact(
        db.session, _user(), person_id, edits.ContactChange(phone=form.phone.data or "",
                                                            address=form.address.data or "",
                                                            village_code=form.village_code.data)),
        _("The contact details are changed."))


@person_change_route("/bank-card")
def change_bank_card(person_id):
    form = BankCardForm(prefix="card")
    return _person_change(person_id, "bank_card", form, lambda: edits.change_bank_card(
        db.session, _user(), person_id, bank_name=form.bank_name.data or "",
        account_number=form.bank_account_number.data or "", holder=form.bank_account_holder.data or ""),
        _("The bank card is changed."))


@person_change_route("/categories")
def add_category(person_id):
    form = CategoryAddForm(prefix="category")
    return _person_change(person_id, "category", form, lambda: edits.add_category(
        db.session, _user(), person_id, CategoryInput(form.category.data, form.starts_on.data, form.ends_on.data,
                                                      form.disability_grade.data)),
        _("The category is added."), refusal_field="category")


@person_change_route(f"/categories/<int(max={PERSON_ID_MAX}):category_id>/end")
def end_category(person_id, category_id):
    form = CategoryEndForm(prefix=f"end{category_id}")
    return _person_change(person_id, "end", form, lambda: edits.end_category(
        db.session, _user(), person_id, category_id, form.ends_on.data), _("The category period is ended."),
        row_id=category_id, refusal_field="ends_on")


@person_change_route("/household/head")
def set_household_head(person_id):
    form = HouseholdHeadForm(prefix=f"head{person_id}")
    return _person_change(person_id, "head", form, lambda: edits.set_household_head(
        db.session, _user(), person_id, form.previous_head_relation.data), _("The head of household is changed."),
        row_id=person_id, refusal_field="previous_head_relation")


@person_change_route("/household/members")
def add_household_member(person_id):
    form = HouseholdMemberForm(prefix="member")
    return _person_change(person_id, "member", form, lambda: edits.add_household_member(
        db.session, _user(), person_id, form.resident_id.data, form.relation.data),
        _("The member is added to the household."), refusal_field="resident_id")


@person_change_route(f"/household/members/<int(max={PERSON_ID_MAX}):member_id>/remove")
def remove_household_member(person_id, member_id):
    form = HouseholdRemoveForm(prefix=f"remove{member_id}")
    return _person_change(person_id, "remove", form, lambda: edits.remove_household_member(
        db.session, _user(), person_id, member_id), _("The member is taken out of the household."),
        row_id=member_id)


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
        if request.args.get("then") == "application":  # registered on the way to a new application
            return redirect(url_for("aid_applications.new_application", person=body["id"]))
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
