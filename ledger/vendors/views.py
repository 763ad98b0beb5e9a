"""The care-procurement web pages: vendors with their caregivers (and the worker import), the care
budgets, contracts with their versions, commitments and moves.

Thin handlers over `ledger.vendors.services`: each parses its form, calls one service through
`form_write` (one commit, refusals next to their fields) and renders. Who may open what is the
services' rule (`ledger.auth.access`); the role lists here only decide which pages and buttons a
role is offered. Resident IDs and bank account numbers are masked on every page.
"""
from __future__ import annotations

import math
import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..aid.forms import ImportApplyForm
from ..aid.schemas import IMPORT_FILE_MAX_BYTES
from ..aid.views import row_reason
from ..auth.models import Region, RegionLevel, Role
from ..auth.permissions import require_roles
from ..errors import NotFound
from ..extensions import db
from ..identity import mask_id_number
from ..money import fen_to_decimal_string
from ..requests import form_write, page_argument
from ..web.navigation import add_section
from ..web.uploads import kept_upload, preview_upload
from .forms import (AmendmentForm, ContractForm, ContractMoveForm, VendorForm, VendorStatusForm, WorkerForm,
                    WorkerImportForm)
from .models import RECORD_ID_MAX, CareLevel
from .schemas import terms_of
from .services import budgets, contracts, vendors
from .vocabulary import CARE_LEVEL_LABELS, CONTRACT_ACTION_LABELS, CONTRACT_STATE_LABELS, VENDOR_STATUS_LABELS

vendors_bp = Blueprint("vendors", __name__)

READERS = (Role.admin, Role.finance, Role.reviewer, Role.auditor, Role.vendor)
VENDOR_WRITERS = (Role.admin, Role.finance)
WORKER_WRITERS = (Role.admin, Role.vendor)
CONTRACT_WRITERS = (Role.admin, Role.finance)
BUDGET_READERS = (Role.admin, Role.finance, Role.reviewer, Role.auditor)
PER_PAGE = 50
UPLOADS_FOLDER = "care-worker-imports"
_ID = f"int(max={RECORD_ID_MAX})"


def _user():
    return current_user._get_current_object()


def _may(*roles) -> bool:
    return current_user.is_authenticated and current_user.has_role(*roles)


@vendors_bp.context_processor
def vendor_helpers():
    return {"masked": mask_id_number, "care_levels": list(CareLevel),
            "care_level_label": lambda value: CARE_LEVEL_LABELS.get(getattr(value, "value", value), value),
            "vendor_status_label": lambda value: VENDOR_STATUS_LABELS.get(getattr(value, "value", value), value),
            "contract_state_label": lambda value: CONTRACT_STATE_LABELS.get(getattr(value, "value", value), value),
            "contract_action_label": lambda action: CONTRACT_ACTION_LABELS.get(action, action),
            "can_write_vendors": lambda: _may(*VENDOR_WRITERS), "can_write_workers": lambda: _may(*WORKER_WRITERS),
            "can_write_contracts": lambda: _may(*CONTRACT_WRITERS), "worker_row_reason": worker_row_reason}


#: The reasons a worker file's row is refused that the registry's import does not give, in the reader's language.
WORKER_ROW_REASONS = {
    "this vendor has a worker with this number": _l("this vendor has a worker with this number already"),
    "ends before it starts": _l("ends before it starts"),
}
_SAME_NUMBER_AS_ROW = re.compile(r"^the same worker number as row ([0-9]+)$")


def worker_row_reason(message: str) -> str:
    """A worker file's row error in the interface language (the registry's wording for the shared rules)."""
    same = _SAME_NUMBER_AS_ROW.match(message)
    if same:
        return _("the same worker number as row %(row)s", row=same.group(1))
    if message in WORKER_ROW_REASONS:
        return str(WORKER_ROW_REASONS[message])
    return row_reason(message)


def _write_then_back(form, work, done, back: str, *, failure: str | None = None):
    """A form posted from a record's page (a button, a status): `form_write`, and when it is refused,
    back to that page with `failure` or the refusal itself as a flash message."""
    answer, _status = form_write(form, work, done, refusal_field="reason" if "reason" in form else None)
    if answer is not None:
        return answer
    messages = [failure] if failure else [*form.form_errors, *(error for field in form for error in field.errors)]
    for message in messages:
        flash(str(message), "error")
    return redirect(back)


# --- vendors -------------------------------------------------------------------------------------------

@vendors_bp.get("/vendors")
@login_required
@require_roles(*READERS)
def vendor_list():
    return render_template("vendors/vendors.html", vendors=vendors.list_vendors(db.session, _user()))


def _vendor_input(form: VendorForm) -> vendors.VendorInput:
    return vendors.VendorInput(name=form.name.data, credit_code=form.credit_code.data,
                               contact_name=form.contact_name.data or "", contact_phone=form.contact_phone.data or "",
                               bank_name=form.bank_name.data or "", bank_account_number=form.bank_account_number.data or "",
                               bank_account_holder=form.bank_account_holder.data or "")


@vendors_bp.route("/vendors/new", methods=["GET", "POST"])
@login_required
@require_roles(*VENDOR_WRITERS)
def new_vendor():
    form = VendorForm()

    def work(_key):
        return {"id": vendors.create_vendor(db.session, _user(), _vendor_input(form)).id}

    def done(body):
        flash(_("The vendor is registered."), "success")
        return redirect(url_for("vendors.vendor", vendor_id=body["id"]))

    answer, status = form_write(form, work, done, refusal_field="credit_code")
    if answer is not None:
        return answer
    return render_template("vendors/vendor_form.html", form=form, vendor=None), status


@vendors_bp.route(f"/vendors/<{_ID}:vendor_id>/edit", methods=["GET", "POST"])
@login_required
@require_roles(*VENDOR_WRITERS)
def edit_vendor(vendor_id):
    profile = vendors.get_vendor(db.session, _user(), vendor_id)
    if request.method == "GET":
        organisation = profile.organisation
        form = VendorForm(data={"name": organisation.name, "credit_code": organisation.credit_code or "",
                                "contact_name": profile.contact_name, "contact_phone": profile.contact_phone,
                                "bank_name": profile.bank_name, "bank_account_number": profile.bank_account_number,
                                "bank_account_holder": profile.bank_account_holder})
    else:
        form = VendorForm()

    def work(_key):
        vendors.update_vendor(db.session, _user(), vendor_id, _vendor_input(form))
        return {}

    def done(_body):
        flash(_("The vendor's profile is saved."), "success")
        return redirect(url_for("vendors.vendor", vendor_id=vendor_id))

    answer, status = form_write(form, work, done, refusal_field="credit_code")
    if answer is not None:
        return answer
    return render_template("vendors/vendor_form.html", form=form, vendor=profile), status


@vendors_bp.get(f"/vendors/<{_ID}:vendor_id>")
@login_required
@require_roles(*READERS)
def vendor(vendor_id):
    user = _user()
    profile = vendors.get_vendor(db.session, user, vendor_id)
    page_number = page_argument()
    workers = vendors.list_workers(db.session, user, vendor_id, page=page_number, per_page=PER_PAGE)
    listed = contracts.list_contracts(db.session, user, vendor_id=vendor_id, per_page=200)
    status_form = VendorStatusForm(formdata=None, status=profile.status.value) if _may(*VENDOR_WRITERS) else None
    return render_template("vendors/vendor.html", vendor=profile, workers=workers,
                           pages=max(1, math.ceil(workers.total / PER_PAGE)),
                           contract_rows=_with_commitments(listed.items),
                           status_form=status_form)


@vendors_bp.post(f"/vendors/<{_ID}:vendor_id>/status")
@login_required
@require_roles(*VENDOR_WRITERS)
def vendor_status(vendor_id):
    form = VendorStatusForm()

    def work(_key):
        vendors.set_vendor_status(db.session, _user(), vendor_id, form.status.data, reason=form.reason.data or "")
        return {}

    def done(_body):
        flash(_("The vendor's status is saved."), "success")
        return redirect(url_for("vendors.vendor", vendor_id=vendor_id))

    return _write_then_back(form, work, done, url_for("vendors.vendor", vendor_id=vendor_id),
                            failure=_("The status was not changed."))


# --- workers -------------------------------------------------------------------------------------------

@vendors_bp.route(f"/vendors/<{_ID}:vendor_id>/workers/new", methods=["GET", "POST"])
@login_required
@require_roles(*WORKER_WRITERS)
def new_worker(vendor_id):
    profile = vendors.get_vendor(db.session, _user(), vendor_id)
    form = WorkerForm()

    def work(_key):
        data = vendors.WorkerInput(worker_number=form.worker_number.data, name=form.name.data,
                                   resident_id=form.resident_id.data, phone=form.phone.data or "",
                                   active_from=form.active_from.data, active_to=form.active_to.data)
        return {"id": vendors.add_worker(db.session, _user(), vendor_id, data).id}

    def done(_body):
        flash(_("The worker is added."), "success")
        return redirect(url_for("vendors.vendor", vendor_id=vendor_id))

    answer, status = form_write(form, work, done, refusal_field="worker_number")
    if answer is not None:
        return answer
    return render_template("vendors/worker_new.html", form=form, vendor=profile), status


@vendors_bp.route(f"/vendors/<{_ID}:vendor_id>/workers/import", methods=["GET", "POST"])
@login_required
@require_roles(*WORKER_WRITERS)
def import_workers(vendor_id):
    """Step 1: upload and preview (nothing is written)."""
    user = _user()
    profile = vendors.get_vendor(db.session, user, vendor_id)
    form = WorkerImportForm()
    upload = preview_upload(
        form, UPLOADS_FOLDER, IMPORT_FILE_MAX_BYTES,
        lambda data, filename: vendors.preview_worker_import(db.session, user, vendor_id, data, filename),
        lambda sha256: vendors.worker_file_imported(db.session, vendor_id, sha256))
    parsed = upload.parsed
    apply_form = ImportApplyForm(formdata=None, sha256=parsed.sha256, filename=parsed.filename) if parsed else None
    return render_template("vendors/worker_import.html", vendor=profile, form=form, parsed=parsed,
                           previous=upload.previous, refusal=upload.refusal, apply_form=apply_form), upload.status


@vendors_bp.post(f"/vendors/<{_ID}:vendor_id>/workers/import/apply")
@login_required
@require_roles(*WORKER_WRITERS)
def import_workers_apply(vendor_id):
    """Step 2: import the previewed file, all rows or none, once."""
    vendors.get_vendor(db.session, _user(), vendor_id)
    form = ImportApplyForm()
    if not form.validate_on_submit():
        raise NotFound("no such upload")
    data = kept_upload(UPLOADS_FOLDER, form.sha256.data)

    def work(_key):
        _parsed, outcome = vendors.apply_worker_import(db.session, _user(), vendor_id, data, form.filename.data or "")
        return {"applied_now": outcome.applied_now, "count": outcome.batch.row_count}

    def done(body):
        if body["applied_now"]:
            flash(_("%(count)s workers imported.", count=body["count"]), "success")
        else:
            flash(_("This file was imported before (%(count)s workers); nothing was imported again.",
                    count=body["count"]), "success")
        return redirect(url_for("vendors.vendor", vendor_id=vendor_id))

    return _write_then_back(form, work, done, url_for("vendors.import_workers", vendor_id=vendor_id),
                            failure=_("Nothing was imported: the file has errors. Correct them and upload it again."))


# --- care budgets and contracts ------------------------------------------------------------------------

@vendors_bp.get("/care/budgets")
@login_required
@require_roles(*BUDGET_READERS)
def care_budgets():
    return render_template("vendors/budgets.html", budgets=budgets.care_budgets(db.session, _user()))


def _with_commitments(items):
    return [(contract, contracts.commitment(db.session, contract)) for contract in items]


@vendors_bp.get("/care/contracts")
@login_required
@require_roles(*READERS)
def contract_list():
    page = contracts.list_contracts(db.session, _user(), page=page_argument(), per_page=PER_PAGE)
    return render_template("vendors/contracts.html", page=page, rows=_with_commitments(page.items),
                           pages=max(1, math.ceil(page.total / PER_PAGE)))


def _county_choices():
    return [(region.code, f"{region.name}（{region.code}）") for region in db.session.scalars(
        db.select(Region).where(Region.level == RegionLevel.county).order_by(Region.code))]


@vendors_bp.route("/care/contracts/new", methods=["GET", "POST"])
@login_required
@require_roles(*CONTRACT_WRITERS)
def new_contract():
    user = _user()
    choices = [(profile.id, f"{profile.organisation.name}（{profile.organisation.code}）")
               for profile in vendors.list_vendors(db.session, user)]
    form = ContractForm(vendors=choices, counties=_county_choices())

    def work(_key):
        contract = contracts.create_contract(db.session, user, int(form.vendor_id.data), form.county.data,
                                             form.starts_on.data, form.ends_on.data, terms_of(form.terms_data()),
                                             note=form.note.data or "")
        return {"id": contract.id}

    def done(body):
        flash(_("The contract is drafted; activate it to commit its ceiling."), "success")
        return redirect(url_for("vendors.contract", contract_id=body["id"]))

    answer, status = form_write(form, work, done, _TERM_FIELDS, refusal_field="ceiling")
    if answer is not None:
        return answer
    return render_template("vendors/contract_new.html", form=form), status


#: Service field names -> form field names.
_TERM_FIELDS = {"ceiling_fen": "ceiling", **{f"price_{level.value}_fen": f"price_{level.value}" for level in CareLevel}}


def _render_contract(contract, status: int = 200):
    forms = {}
    if _may(*CONTRACT_WRITERS):
        forms = {action: ContractMoveForm(formdata=None) for action in contracts.contract_actions(contract)}
    return render_template("vendors/contract.html", contract=contract,
                           figures=contracts.commitment(db.session, contract),
                           current=contracts.current_version(contract), move_forms=forms), status


@vendors_bp.get(f"/care/contracts/<{_ID}:contract_id>")
@login_required
@require_roles(*READERS)
def contract(contract_id):
    return _render_contract(contracts.get_contract(db.session, _user(), contract_id))


_MOVES = {"activate": contracts.activate_contract, "suspend": contracts.suspend_contract,
          "resume": contracts.resume_contract, "end": contracts.end_contract}


@vendors_bp.post(f"/care/contracts/<{_ID}:contract_id>/<any(activate, suspend, resume, end):action>")
@login_required
@require_roles(*CONTRACT_WRITERS)
def contract_move(contract_id, action):
    user = _user()
    form = ContractMoveForm()

    def work(_key):
        if action == "activate":
            _MOVES[action](db.session, user, contract_id)
        else:
            _MOVES[action](db.session, user, contract_id, reason=form.reason.data or "")
        return {}

    def done(_body):
        flash(_("The contract is saved."), "success")
        return redirect(url_for("vendors.contract", contract_id=contract_id))

    return _write_then_back(form, work, done, url_for("vendors.contract", contract_id=contract_id))


@vendors_bp.route(f"/care/contracts/<{_ID}:contract_id>/amend", methods=["GET", "POST"])
@login_required
@require_roles(*CONTRACT_WRITERS)
def amend_contract(contract_id):
    user = _user()
    contract = contracts.get_contract(db.session, user, contract_id)
    current = contracts.current_version(contract)
    if request.method == "GET":
        values = {name: getattr(current, name) for name in contracts.Terms.names() if not name.endswith("_fen")}
        values.update(ceiling=fen_to_decimal_string(current.ceiling_fen),
                      **{f"price_{level.value}": fen_to_decimal_string(current.price_fen(level)) for level in CareLevel})
        form = AmendmentForm(data=values)
    else:
        form = AmendmentForm()

    def work(_key):
        contracts.amend_contract(db.session, user, contract_id, form.effective_on.data, terms_of(form.terms_data()),
                                 note=form.note.data or "")
        return {}

    def done(_body):
        flash(_("The amendment is saved as a new version."), "success")
        return redirect(url_for("vendors.contract", contract_id=contract_id))

    answer, status = form_write(form, work, done, _TERM_FIELDS, refusal_field="ceiling")
    if answer is not None:
        return answer
    return render_template("vendors/contract_amend.html", form=form, contract=contract), status


def register(app):
    app.register_blueprint(vendors_bp)
    add_section("vendors.vendor_list", _l("Care vendors"),
                _l("The third-party care institutions, their caregivers and contracts."), list(READERS), order=40)
    add_section("vendors.contract_list", _l("Care contracts"),
                _l("Care-service contracts by county: prices, minimums and the budget they commit."),
                list(READERS), order=41)
    add_section("vendors.care_budgets", _l("Care budgets"),
                _l("Each county's care-service budget: received, committed by contracts, available."),
                list(BUDGET_READERS), order=42)
