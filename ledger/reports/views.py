"""The reports' web pages: the report types with a parameter form, the fund statement as a
page, a background job's progress bar, and the log of generated reports.

Thin handlers over `ledger.reports.services`; the same roles and scoping as the API.
A small report downloads at once; a large one goes to the background and its page
polls a JSON status until the file is ready.
"""
from __future__ import annotations

from functools import partial

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from ..auth.permissions import require_roles
from ..errors import BadRequest, NotFound
from ..extensions import db
from ..funds import services as fund_services
from ..money import format_cny
from ..requests import after_commit
from ..timeutil import local_today, to_local
from ..web import exports
from ..web.navigation import add_section
from ..funds.display import fund_name, is_chinese
from ..funds.vocabulary import ENTRY_KIND_NAMES, purpose_label
from . import jobs, queries, services
from .api import file_response
from .models import ReportFormat, ReportKind, RunStatus

reports_bp = Blueprint("reports", __name__, url_prefix="/reports")

REPORT_CHOICES = [
    ("fund-statement", _l("Fund statement"), ["pdf", "html"]),
    ("journal-register", _l("Journal register"), ["pdf", "csv", "xlsx"]),
    ("integrity-certificate", _l("Integrity certificate"), ["pdf"]),
]
FIELDS = ("kind", "format", "fund", "from", "to")
KIND_LABELS = {services.KIND_BY_SLUG[slug].value: label for slug, label, _formats in REPORT_CHOICES}
STATUS_LABELS = services.STATUS_LABELS


def _visible_fund_roots():
    """The funds this user may report on, as a tree (a county reviewer's root is its county)."""
    return fund_services.fund_tree(db.session, current_user)


def _defaults() -> dict:
    # Year to date: the period auditors ask for most, and one that always has entries.
    today = local_today()
    return {"kind": "fund-statement", "format": "pdf", "fund": "",
            "from": today.replace(month=1, day=1).isoformat(), "to": today.isoformat()}


def _form_page(values: dict, errors: dict | None = None, message: str | None = None, status: int = 200):
    return render_template("reports/index.html", choices=REPORT_CHOICES, fund_roots=_visible_fund_roots(), values=values,
                           errors=errors or {}, message=message), status


@reports_bp.get("/")
@login_required
@require_roles(*services.REPORT_ROLES)
def index():
    values = _defaults()
    values.update({k: v for k, v in request.args.items() if k in FIELDS})
    return _form_page(values)


@reports_bp.get("/generate")
@login_required
@require_roles(*services.REPORT_ROLES)
def generate():
    values = {k: request.args.get(k, "") for k in FIELDS}
    slug, fmt = values["kind"], values["format"] or "pdf"
    try:
        if slug == "fund-statement" and fmt == "html":
            services.parse_kind(slug, "pdf")
            services.prepare(db.session, current_user, ReportKind.fund_statement, ReportFormat.pdf, request.args)
            return redirect(url_for("reports.statement", fund=values["fund"], **{"from": values["from"],
                                                                                   "to": values["to"]}))
        kind, report_format = services.parse_kind(slug, fmt)
        report = services.prepare(db.session, current_user, kind, report_format, request.args)
    except (BadRequest, NotFound) as error:  # NotFound: a fund that does not exist or is not the user's to see
        return _form_page(values, error.fields, error.message, error.status)
    if report.background:
        run = services.new_run(db.session, current_user, report, RunStatus.queued)
        after_commit(partial(jobs.submit, run.job_id))  # the queue reads the committed run
        return redirect(url_for("reports.job", job_id=run.job_id))
    run, rendered = services.generate_now(db.session, current_user, report)
    return file_response(rendered.data, report, run)


@reports_bp.get("/fund-statement")
@login_required
@require_roles(*services.REPORT_ROLES)
def statement():
    try:
        report = services.prepare(db.session, current_user, ReportKind.fund_statement, ReportFormat.pdf, request.args)
    except (BadRequest, NotFound) as error:
        values = {**_defaults(), **{k: request.args.get(k, "") for k in ("fund", "from", "to")}}
        return _form_page(values, error.fields, error.message, error.status)
    context = services.statement_context(report, current_user)
    pdf_url = url_for("reports.generate", kind="fund-statement", format="pdf", fund=report.params.fund_code,
                      **{"from": report.params.date_from.isoformat(), "to": report.params.date_to.isoformat()})
    register_url = url_for("reports.generate", kind="journal-register", format="pdf", fund=report.params.fund_code,
                           **{"from": report.params.date_from.isoformat(), "to": report.params.date_to.isoformat()})
    return render_template("reports/statement.html", ctx=context, pdf_url=pdf_url, register_url=register_url)


@reports_bp.get("/jobs/<job_id>")
@login_required
@require_roles(*services.REPORT_ROLES)
def job(job_id: str):
    run = services.visible_run(db.session, current_user, job_id)
    return render_template("reports/job.html", run=run, status_url=url_for("reports.job_status", job_id=job_id),
                           download_url=url_for("reports.job_file", job_id=job_id),
                           kind_label=KIND_LABELS.get(run.kind.value, run.kind.value),
                           status_labels={key: str(label) for key, label in STATUS_LABELS.items()})


@reports_bp.get("/jobs/<job_id>/status")
@login_required
@require_roles(*services.REPORT_ROLES)
def job_status(job_id: str):
    run = services.visible_run(db.session, current_user, job_id)
    urls = {"download_url": url_for("reports.job_file", job_id=job_id)} if run.status == RunStatus.done else {}
    return jsonify({"job": services.run_as_dict(run, urls)})


@reports_bp.get("/jobs/<job_id>/file")
@login_required
@require_roles(*services.REPORT_ROLES)
def job_file(job_id: str):
    run = services.visible_run(db.session, current_user, job_id)
    return file_response(services.run_file(run), services.request_from_run(run), run)


@reports_bp.get("/log")
@login_required
@require_roles(*services.REPORT_ROLES)
def log():
    runs = services.list_runs(db.session, current_user)
    export_format = exports.requested_format()
    if export_format:
        return _log_export(export_format, runs)
    return render_template("reports/log.html", runs=runs, slugs=services.SLUGS, status_label=services.status_label)


def _log_export(export_format, runs):
    header = [_l("Requested"), _l("By"), _l("Report"), _l("Fund"), _l("Period"), _l("Status"), _l("Report id"),
              "SHA-256", _l("Size")]
    rows = ([to_local(run.requested_at), run.requested_by.display_name if run.requested_by else "",
             f"{services.SLUGS[run.kind]}.{run.format.value}", str(run.parameters.get("fund", "")),
             f"{run.parameters.get('from', '')} – {run.parameters.get('to', '')}",
             str(services.status_label(run.status)),
             run.report_id or "", run.sha256 or "", run.size_bytes] for run in runs)
    return exports.list_file(export_format, "report-log", str(_l("Report log")), header, rows)


REPORT_TITLES = {
    "fund_statement": _l("Fund income and expenditure statement"),
    "journal_register": _l("Journal voucher register"),
    "integrity_certificate": _l("Data integrity certificate"),
}
REPORT_LEVELS = {"city": _l("city level"), "county": _l("county level"), "village": _l("village (community) level")}


def report_fund_label(ctx) -> str:
    """`<fund> (<code>, <level>)[, with N funds below]` in the reader's language (the PDF: Chinese)."""
    if is_chinese():
        return ctx.fund_label  # the document's own wording, as the PDF prints it
    root = ctx.scope.root
    text = f"{fund_name(ctx.fund_name)} ({root.code}, {REPORT_LEVELS.get(root.level, root.level)})"
    below = len(ctx.scope.funds) - 1
    if below:
        text += _(", with %(count)s funds below", count=below)
    return text


def report_purpose_label(line) -> str:
    if is_chinese():
        return line.label
    if line.purpose == queries.UNSPECIFIED_PURPOSE:
        return _("Unspecified")
    return str(purpose_label(line.purpose))


def entry_kind_name(name: str) -> str:
    """A voucher kind's Chinese name (as the reports keep it) in the reader's language."""
    if is_chinese():
        return name
    for chinese, label in ENTRY_KIND_NAMES.values():
        if chinese == name:
            return str(label)
    return name


def report_kind_counts(integrity) -> str:
    """"；记账 3，冲销 1" / "; Receipt 3, Reversal 1": the vouchers by kind, punctuated for the language."""
    if not integrity.entries_by_kind:
        return ""
    first, separator = ("；", "，") if is_chinese() else ("; ", ", ")
    counts = integrity.entries_by_kind.items()
    return first + separator.join(f"{entry_kind_name(kind)} {count}" for kind, count in counts)


def register_views(app):
    app.register_blueprint(reports_bp)
    app.jinja_env.globals.update(
        report_title=lambda kind: REPORT_TITLES.get(kind, kind), report_fund_label=report_fund_label,
        report_period_label=lambda ctx: _("%(start)s to %(end)s", start=ctx.params.date_from.isoformat(),
                                          end=ctx.params.date_to.isoformat()),
        report_generated_label=lambda ctx: _("%(time)s (Beijing time, Asia/Shanghai)",
                                             time=ctx.identity.generated_at.strftime("%Y-%m-%d %H:%M:%S")),
        report_purpose_label=report_purpose_label, report_kind_counts=report_kind_counts)
    app.jinja_env.filters["entry_kind_name"] = entry_kind_name
    add_section("reports.index", _l("Reports"),
                _l("Fund statements, journal registers and integrity certificates as PDF, with their log."),
                services.REPORT_ROLES, order=70)

    @app.template_filter("report_cny")
    def report_cny(fen: int):
        """¥1,234.56; a negative amount in red with its minus sign, so it cannot be missed."""
        text = format_cny(fen)
        if fen < 0:
            return Markup('<span class="neg">') + escape(text) + Markup("</span>")
        return text
