"""The reports' JSON API under /api/v1/reports: thin handlers over `ledger.reports.services`.

A small report answers 200 with the file (headers X-Report-Id and X-Report-SHA256);
a large one (or any with `background=1`) answers 202 with the job's status URL;
poll it until `status` is `done`, then fetch `download_url`. Admin, auditors,
finance and reviewers (a county reviewer within the county: other funds answer
404) may generate; charity and vendor users are refused with 403. `reports_api` is nested
under the /api/v1 parent blueprint (`ledger.api`); its endpoints are named `api.reports.<view>`.
"""
from __future__ import annotations

from functools import partial

from flask import Blueprint, Response, jsonify, request, url_for

from ..auth.permissions import current_actor, require_roles
from marshmallow import fields, validate

from ..errors import BadRequest
from ..extensions import db
from ..openapi import operation
from ..requests import after_commit, load_query
from ..schemas import QuerySchema
from ..timeutil import PLAUSIBLE_DATE_PATTERN
from . import jobs, services
from .models import RunStatus

reports_api = Blueprint("reports", __name__)


def _urls(run) -> dict:
    urls = {"status_url": url_for("api.reports.report_job", job_id=run.job_id)}
    if run.status == RunStatus.done:
        urls["download_url"] = url_for("api.reports.report_job_file", job_id=run.job_id)
    return urls


def file_response(data: bytes, request_, run) -> Response:
    response = Response(data, mimetype=services.MEDIA_TYPES[request_.fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{request_.filename(run.report_id)}"'
    response.headers["X-Report-Id"] = run.report_id
    response.headers["X-Report-SHA256"] = run.sha256
    response.headers["Cache-Control"] = "no-store"
    return response


def _generate(slug: str, fmt: str):
    user = current_actor()
    kind, report_format = services.parse_kind(slug, fmt)
    background = request.args.get("background")
    if background is not None and background not in BACKGROUND_VALUES:
        # A value the document does not list was silently read as "no": refuse it, as the other parameters.
        raise BadRequest("The report parameters are invalid: background: must be 1 or left out.",
                         fields={"background": ["must be 1 (or true), or left out"]})
    report = services.prepare(db.session, user, kind, report_format, request.args)
    if report.background or background is not None:
        run = services.new_run(db.session, user, report, RunStatus.queued)
        after_commit(partial(jobs.submit, run.job_id))  # the queue reads the committed run
        response = jsonify({"job": services.run_as_dict(run, _urls(run))})
        response.status_code = 202
        response.headers["Location"] = url_for("api.reports.report_job", job_id=run.job_id)
        return response
    run, rendered = services.generate_now(db.session, user, report)
    return file_response(rendered.data, report, run)


REPORT_PARAMETERS = (
    {"name": "fund", "in": "query", "required": True,
     "schema": {"type": "string", "pattern": r"^[0-9]{6}(?:-[0-9]{3})?$"},
     "description": "fund code, e.g. 370827 (a county) or 370827-001 (a village); a fund that does not exist or "
                    "is outside the user's sight answers 404"},
    {"name": "from", "in": "query", "required": True,
     "schema": {"type": "string", "format": "date", "pattern": PLAUSIBLE_DATE_PATTERN},
     "description": "the first day, YYYY-MM-DD (years 1900 to 2099)"},
    {"name": "to", "in": "query", "required": True,
     "schema": {"type": "string", "format": "date", "pattern": PLAUSIBLE_DATE_PATTERN},
     "description": "the last day, YYYY-MM-DD; at most three years after `from`"},
)
#: What `background` may be (anything else is refused; "true" is read as "1" too).
BACKGROUND_VALUES = ("1", "true")
BACKGROUND = {"name": "background", "in": "query", "required": False,
              "schema": {"type": "string", "enum": list(BACKGROUND_VALUES)},
              "description": "generate in the background even when the report is small"}
BAD_PARAMETERS = "Bad or missing parameters, each named in `fields`"
NO_FUND = "No such fund, or one outside the user's county"
QUEUED = "Generating in the background; poll the job (`Location`, `status_url`)"
LOG_LIMIT_MAX = 1000
JOB_ID = {"job_id": {"description": "the job's id, as the 202 answer gives it"}}


def _file(description: str, *media_types: str) -> dict:
    return {"description": description, "content": {media_type: {} for media_type in media_types}}


@reports_api.get("/reports/fund-statement.pdf")
@require_roles(*services.REPORT_ROLES)
@operation("Fund statement PDF", tags=["reports"], parameters=(*REPORT_PARAMETERS, BACKGROUND),
           responses={200: _file("The PDF", "application/pdf"), 202: QUEUED, 400: BAD_PARAMETERS,
                      404: NO_FUND})
def report_fund_statement():
    """The fund statement (资金收支情况表) as PDF."""
    return _generate("fund-statement", "pdf")


@reports_api.get("/reports/journal-register.<fmt>")
@require_roles(*services.REPORT_ROLES)
@operation("Journal register (pdf, csv, xlsx)", tags=["reports"], path={"fmt": {"enum": ["pdf", "csv", "xlsx"]}},
           parameters=(*REPORT_PARAMETERS, BACKGROUND),
           responses={200: _file("The file", "application/pdf", "text/csv",
                                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                      202: QUEUED, 400: BAD_PARAMETERS, 404: NO_FUND, 413: "More rows than one report holds"})
def report_journal_register(fmt: str):
    """The journal register (记账凭证登记簿) as PDF, CSV or XLSX."""
    return _generate("journal-register", fmt)


@reports_api.get("/reports/integrity-certificate.pdf")
@require_roles(*services.REPORT_ROLES)
@operation("Integrity certificate PDF", tags=["reports"], parameters=(*REPORT_PARAMETERS, BACKGROUND),
           responses={200: _file("The PDF", "application/pdf"), 202: QUEUED, 400: BAD_PARAMETERS, 404: NO_FUND})
def report_integrity_certificate():
    """The integrity certificate (数据完整性证明) on its own."""
    return _generate("integrity-certificate", "pdf")


@reports_api.get("/reports/jobs/<job_id>")
@require_roles(*services.REPORT_ROLES)
@operation("Report job status", tags=["reports"], path=JOB_ID,
           responses={200: "status (queued, running, done, failed), progress in percent, download_url when done",
                      404: "No such job (or not yours)"})
def report_job(job_id: str):
    """A report job's status and progress."""
    run = services.visible_run(db.session, current_actor(), job_id)
    return jsonify({"job": services.run_as_dict(run, _urls(run))})


@reports_api.get("/reports/jobs/<job_id>/file")
@require_roles(*services.REPORT_ROLES)
@operation("Download a finished report", tags=["reports"], path=JOB_ID,
           responses={200: _file("The file", "application/pdf", "text/csv",
                                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                      404: "No such job (or not yours)", 409: "Not finished yet"})
def report_job_file(job_id: str):
    """The finished report's file."""
    run = services.visible_run(db.session, current_actor(), job_id)
    data = services.run_file(run)
    return file_response(data, services.request_from_run(run), run)


#: The most runs one answer of the log lists.
LOG_LIMIT_MAX = 1000


class ReportLogQuery(QuerySchema):
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=LOG_LIMIT_MAX),
                           metadata={"description": f"how many runs, newest first (1 to {LOG_LIMIT_MAX})"})


@reports_api.get("/reports/log")
@require_roles(*services.REPORT_ROLES)
@operation("Report log", tags=["reports"],
           description="Who generated which report, when, with which parameters, and the SHA-256 of the file. "
                       "Auditors and admins see every run; others their own.",
           query=ReportLogQuery,
           responses={200: "The runs, newest first", 422: "`limit` is not a whole number from 1 to 1000"})
def report_log():
    """The log of generated reports."""
    runs = services.list_runs(db.session, current_actor(), load_query()["limit"])
    return jsonify({"runs": [services.run_as_dict(run, _urls(run)) for run in runs]})
