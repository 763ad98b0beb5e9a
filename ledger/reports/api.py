"""The reports' JSON API under /api/v1/reports: thin handlers over `ledger.reports.services`.

A small report answers 200 with the file (headers X-Report-Id and X-Report-SHA256);
a large one (or any with `background=1`) answers 202 with the job's status URL;
poll it until `status` is `done`, then fetch `download_url`. Admin, auditors,
finance and reviewers (a county reviewer within the county: other funds answer
404) may generate; charity and vendor users are refused with 403.
"""
from __future__ import annotations

from flask import Response, jsonify, request, url_for

from ..api import api_bp
from ..auth.permissions import current_actor, require_roles
from ..extensions import db
from . import jobs, services
from .models import RunStatus


def _urls(run) -> dict:
    urls = {"status_url": url_for("api.report_job", job_id=run.job_id)}
    if run.status == RunStatus.done:
        urls["download_url"] = url_for("api.report_job_file", job_id=run.job_id)
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
    report = services.prepare(db.session, user, kind, report_format, request.args)
    if report.background or request.args.get("background") in ("1", "true"):
        run = services.new_run(db.session, user, report, RunStatus.queued)
        db.session.commit()
        jobs.submit(run.job_id)
        response = jsonify({"job": services.run_as_dict(run, _urls(run))})
        response.status_code = 202
        response.headers["Location"] = url_for("api.report_job", job_id=run.job_id)
        return response
    run, rendered = services.generate_now(db.session, user, report)
    db.session.commit()
    return file_response(rendered.data, report, run)


_PARAMETERS = """
      parameters:
        - {name: fund, in: query, required: true, schema: {type: string}, description: fund code, e.g. 370827}
        - {name: from, in: query, required: true, schema: {type: string, format: date}}
        - {name: to, in: query, required: true, schema: {type: string, format: date}}
        - {name: background, in: query, required: false, schema: {type: string, enum: ["1"]}}
"""


@api_bp.get("/reports/fund-statement.pdf")
@require_roles(*services.REPORT_ROLES)
def report_fund_statement():
    """The fund statement (资金收支情况表) as PDF.
    ---
    get:
      summary: Fund statement PDF
      tags: [reports]
      parameters:
        - {name: fund, in: query, required: true, schema: {type: string}, description: fund code, e.g. 370827}
        - {name: from, in: query, required: true, schema: {type: string, format: date}}
        - {name: to, in: query, required: true, schema: {type: string, format: date}}
      responses:
        200: {description: The PDF}
        202: {description: Generating in the background; poll the job}
        400: {description: Bad parameters, content: {application/json: {schema: Error}}}
        403: {description: Role may not generate reports}
        404: {description: Fund outside the user's county}
    """
    return _generate("fund-statement", "pdf")


@api_bp.get("/reports/journal-register.<fmt>")
@require_roles(*services.REPORT_ROLES)
def report_journal_register(fmt: str):
    """The journal register (记账凭证登记簿) as PDF, CSV or XLSX.
    ---
    get:
      summary: Journal register (pdf, csv, xlsx)
      tags: [reports]
      parameters:
        - {name: fmt, in: path, required: true, schema: {type: string, enum: [pdf, csv, xlsx]}}
        - {name: fund, in: query, required: true, schema: {type: string}}
        - {name: from, in: query, required: true, schema: {type: string, format: date}}
        - {name: to, in: query, required: true, schema: {type: string, format: date}}
      responses:
        200: {description: The file}
        202: {description: Generating in the background; poll the job}
        400: {description: Bad parameters, content: {application/json: {schema: Error}}}
        413: {description: More rows than one report holds}
    """
    return _generate("journal-register", fmt)


@api_bp.get("/reports/integrity-certificate.pdf")
@require_roles(*services.REPORT_ROLES)
def report_integrity_certificate():
    """The integrity certificate (数据完整性证明) on its own.
    ---
    get:
      summary: Integrity certificate PDF
      tags: [reports]
      parameters:
        - {name: fund, in: query, required: true, schema: {type: string}}
        - {name: from, in: query, required: true, schema: {type: string, format: date}}
        - {name: to, in: query, required: true, schema: {type: string, format: date}}
      responses:
        200: {description: The PDF}
        400: {description: Bad parameters, content: {application/json: {schema: Error}}}
    """
    return _generate("integrity-certificate", "pdf")


@api_bp.get("/reports/jobs/<job_id>")
@require_roles(*services.REPORT_ROLES)
def report_job(job_id: str):
    """A report job's status and progress.
    ---
    get:
      summary: Report job status
      tags: [reports]
      parameters:
        - {name: job_id, in: path, required: true, schema: {type: string}}
      responses:
        200: {description: "status (queued, running, done, failed), progress in percent, download_url when done"}
        404: {description: No such job (or not yours)}
    """
    run = services.visible_run(db.session, current_actor(), job_id)
    return jsonify({"job": services.run_as_dict(run, _urls(run))})


@api_bp.get("/reports/jobs/<job_id>/file")
@require_roles(*services.REPORT_ROLES)
def report_job_file(job_id: str):
    """The finished report's file.
    ---
    get:
      summary: Download a finished report
      tags: [reports]
      parameters:
        - {name: job_id, in: path, required: true, schema: {type: string}}
      responses:
        200: {description: The file}
        409: {description: Not finished yet, content: {application/json: {schema: Error}}}
    """
    run = services.visible_run(db.session, current_actor(), job_id)
    data = services.run_file(run)
    return file_response(data, services.request_from_run(run), run)


@api_bp.get("/reports/log")
@require_roles(*services.REPORT_ROLES)
def report_log():
    """The log of generated reports: who, when, parameters, SHA-256 of the file.
    Auditors and admins see every run; others their own.
    ---
    get:
      summary: Report log
      tags: [reports]
      parameters:
        - {name: limit, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 1000}}
      responses:
        200: {description: The runs, newest first}
    """
    try:
        limit = min(max(int(request.args.get("limit", 200)), 1), 1000)
    except ValueError:
        from ..errors import BadRequest

        raise BadRequest("limit must be a whole number.", fields={"limit": ["Not a number."]}) from None
    runs = services.list_runs(db.session, current_actor(), limit)
    return jsonify({"runs": [services.run_as_dict(run, _urls(run)) for run in runs]})
