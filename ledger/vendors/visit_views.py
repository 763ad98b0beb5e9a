"""The care visits' web pages: the vendor's upload (with a progress bar), the visit lists (a vendor's
exceptions to fix), a visit with its reasons and resolution, an upload's summary, and the coverage of
a month for reviewers and vendors, with a chart.

Thin handlers over `ledger.vendors.visits`. An upload is previewed first: the file is kept under
UPLOADS_DIR/care-visits by its SHA-256 (outside the web root) and the preview page carries only
that digest; "record" reads the file back by it.
"""
from __future__ import annotations

import math
import re
from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..auth.models import Role
from ..auth.permissions import require_roles
from ..errors import NotFound
from ..extensions import db
from ..identity import mask_id_number
from ..requests import form_write, page_argument
from ..timeutil import local_today
from ..web.navigation import add_section
from ..web.uploads import kept_upload, preview_upload
from . import visits as services
from .visit_forms import ResolutionForm, VisitApplyForm, VisitUploadForm
from .visit_models import REASON_BITS, VISIT_ID_MAX, VisitState
from .visit_vocabulary import (CAPTURE_METHOD_LABELS, REASON_LABELS, RESOLUTION_LABELS, SERVICE_TYPE_LABELS,
                               STATE_LABELS, row_reason)

UPLOADS_FOLDER = "care-visits"
care_visits_bp = Blueprint("care_visits", __name__, url_prefix="/care/visits")

READERS = (Role.admin, Role.auditor, Role.finance, Role.reviewer, Role.vendor)
REPORTERS = (Role.vendor,)
RESOLVERS = (Role.admin, Role.reviewer, Role.vendor)
PER_PAGE = 50
VISIT = f"/<int(max={VISIT_ID_MAX}):visit_id>"
UPLOAD = f"/uploads/<int(max={VISIT_ID_MAX}):upload_id>"
_MONTH_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def _user():
    return current_user._get_current_object()


def _label(labels):
    return lambda value: labels.get(getattr(value, "value", value), value) if value is not None else ""


def _services_text(codes: str) -> str:
    return "、".join(str(SERVICE_TYPE_LABELS.get(code, code)) for code in codes.split(";"))


@care_visits_bp.context_processor
def care_visit_helpers():
    return {"visit_state_label": _label(STATE_LABELS), "capture_label": _label(CAPTURE_METHOD_LABELS),
            "reason_label": lambda code: REASON_LABELS[code][0], "reason_advice": lambda code: REASON_LABELS[code][1],
            "resolution_label": _label(RESOLUTION_LABELS), "services_text": _services_text,
            "visit_time": services.local_datetime, "masked": mask_id_number, "visit_row_reason": row_reason,
            "can_upload_visits": lambda: current_user.has_role(*REPORTERS)}


def _month_argument() -> date:
    """The month of the page (`?month=YYYY-MM`), last month when none is given."""
    match = _MONTH_RE.match(request.args.get("month", ""))
    if match:
        return date(int(match[1]), int(match[2]), 1)
    return services.last_month()


@care_visits_bp.get("")
@login_required
@require_roles(*READERS)
def visits():
    state = request.args.get("state", "")
    reason = request.args.get("reason", "")
    state = state if state in STATE_LABELS else ""
    reason = reason if reason in REASON_BITS else ""
    upload = request.args.get("upload", "")
    upload_id = int(upload) if upload.isdigit() and 0 < int(upload) <= VISIT_ID_MAX else None
    month = _month_argument() if request.args.get("month") else None
    page = services.list_visits(db.session, _user(), state=VisitState(state) if state else None, reason=reason or None,
                                upload_id=upload_id, month=month, page=page_argument(), per_page=PER_PAGE)
    query = {key: value for key, value in (("state", state), ("reason", reason), ("upload", upload_id),
                                           ("month", month and month.strftime("%Y-%m"))) if value}
    return render_template("vendors/visits/list.html", page=page, pages=max(1, math.ceil(page.total / PER_PAGE)),
                           state=state, reason=reason, query=query, states=STATE_LABELS, reasons=REASON_LABELS)


def _render_visit(visit_id, status=200, form=None):
    visit = services.get_visit(db.session, _user(), visit_id)
    if form is None and visit.state == VisitState.held and current_user.has_role(*RESOLVERS):
        form = ResolutionForm(formdata=None)
    return render_template("vendors/visits/visit.html", visit=visit, form=form), status


@care_visits_bp.get(VISIT)
@login_required
@require_roles(*READERS)
def visit(visit_id):
    return _render_visit(visit_id)


@care_visits_bp.post(VISIT + "/resolution")
@login_required
@require_roles(*RESOLVERS)
def resolve(visit_id):
    form = ResolutionForm()

    def work(_key):
        resolved = services.resolve_visit(db.session, _user(), visit_id, form.resolution_code.data, form.reason.data)
        return {"id": resolved.id}

    def done(_body):
        flash(_("The visit is resolved."), "success")
        return redirect(url_for("care_visits.visit", visit_id=visit_id))

    answer, status = form_write(form, work, done)
    if answer is not None:
        return answer
    return _render_visit(visit_id, status, form)


@care_visits_bp.route("/upload", methods=["GET", "POST"])
@login_required
@require_roles(*REPORTERS)
def upload():
    """Step 1: upload and preview (no visit is recorded)."""
    form = VisitUploadForm()
    kept = preview_upload(form, UPLOADS_FOLDER, services.UPLOAD_BYTES_MAX,
                          lambda data, filename: services.preview_upload(db.session, _user(), data, filename),
                          lambda sha256: services.already_uploaded(db.session, _user(), sha256))
    report = kept.parsed
    status = 422 if report is not None and not report.ok and kept.previous is None else kept.status
    apply_form = VisitApplyForm(formdata=None, sha256=report.sha256, filename=report.filename) if report else None
    return render_template("vendors/visits/upload.html", form=form, report=report, previous=kept.previous,
                           refusal=kept.refusal, apply_form=apply_form), status


@care_visits_bp.post("/upload/apply")
@login_required
@require_roles(*REPORTERS)
def upload_apply():
    """Step 2: record the previewed file, once; every row is verified."""
    form = VisitApplyForm()
    if not form.validate_on_submit():
        raise NotFound("no such upload")
    data = kept_upload(UPLOADS_FOLDER, form.sha256.data)

    def work(_key):
        outcome = services.apply_upload(db.session, _user(), data, form.filename.data or "")
        return {"applied_now": outcome.applied_now, "id": outcome.upload.id}

    def done(body):
        if not body["applied_now"]:
            flash(_("This file was uploaded before; nothing was recorded again."), "success")
        return redirect(url_for("care_visits.upload_summary", upload_id=body["id"]))

    answer, _status = form_write(form, work, done)
    if answer is not None:
        return answer
    flash(_("Nothing was recorded: the file has errors. Correct them and upload it again."), "error")
    return redirect(url_for("care_visits.upload"))


@care_visits_bp.get("/uploads")
@login_required
@require_roles(*READERS)
def uploads():
    page = services.list_uploads(db.session, _user(), page=page_argument(), per_page=PER_PAGE)
    return render_template("vendors/visits/uploads.html", page=page,
                           pages=max(1, math.ceil(page.total / PER_PAGE)))


@care_visits_bp.get(UPLOAD)
@login_required
@require_roles(*READERS)
def upload_summary(upload_id):
    record = services.get_upload(db.session, _user(), upload_id)
    return render_template("vendors/visits/upload_summary.html", upload=record)


@care_visits_bp.get("/coverage")
@login_required
@require_roles(*READERS)
def coverage():
    month = _month_argument()
    rows = services.coverage(db.session, _user(), month)
    reasons = [code for code in REASON_BITS if any(row.reasons.get(code) for row in rows)]
    chart = {"type": "bar", "stacked": True, "horizontal": True,
             "categories": [f"{row.county_name} {row.vendor_name}" for row in rows],
             "series": [{"name": str(STATE_LABELS[state]), "values": [row.visits[state] for row in rows]}
                        for state in ("verified", "held", "rejected")]}
    previous = (month - timedelta(days=1)).replace(day=1)
    following = (month + timedelta(days=32)).replace(day=1)
    return render_template("vendors/visits/coverage.html", rows=rows, month=month, coverage_chart=chart, reasons=reasons,
                           previous=previous, following=following if following <= local_today() else None)


def register(app):
    app.register_blueprint(care_visits_bp)
    add_section("care_visits.visits", _l("Care visits"),
                _l("Visit records of the care vendors: uploads, verification, exceptions, coverage."),
                list(READERS), order=45)
