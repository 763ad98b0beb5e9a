"""Report operations: check a request, build its context, render it, and log it.

The one door for the API, the web pages, the background jobs and the tests:

* `prepare(session, user, kind, fmt, args)` parses and checks the parameters
  (400 naming the field), the user's sight of the fund (404 outside it) and the
  size limits, and estimates the rows (to decide between now and background).
* `render(request, user)` reads the journal through a read-only snapshot (see
  `reading_session`) and returns the file's bytes.
* `record_run(...)` / `store_file(...)` keep the log: who, when, parameters,
  SHA-256 and size of the exact bytes served.

Reading happens in its own snapshot transaction so that a long render neither
sees half of a concurrent posting nor holds a write lock (SQLite in WAL mode
lets a deferred reader run beside writers; PostgreSQL runs it REPEATABLE READ,
READ ONLY).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ..auth.models import Role, User
from ..errors import BadRequest, LedgerError, NotFound, _l
from ..extensions import db
from ..funds import services as fund_services
from ..timeutil import utcnow
from . import queries
from .document import ReportContext
from .models import ReportFormat, ReportKind, ReportRun, RunStatus

#: Roles that may generate reports; reviewers only within their county (fund scoping).
REPORT_ROLES = (Role.admin, Role.auditor, Role.finance, Role.reviewer)
#: Roles that see every run in the log; others see their own.
LOG_ALL_ROLES = (Role.admin, Role.auditor)

FORMATS = {
    ReportKind.fund_statement: (ReportFormat.pdf,),
    ReportKind.journal_register: (ReportFormat.pdf, ReportFormat.csv, ReportFormat.xlsx),
    ReportKind.integrity_certificate: (ReportFormat.pdf,),
}
MEDIA_TYPES = {
    ReportFormat.pdf: "application/pdf",
    ReportFormat.csv: "text/csv; charset=utf-8",
    ReportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SLUGS = {
    ReportKind.fund_statement: "fund-statement",
    ReportKind.journal_register: "journal-register",
    ReportKind.integrity_certificate: "integrity-certificate",
}
KIND_BY_SLUG = {slug: kind for kind, slug in SLUGS.items()}
#: A statement's fund in register rows' rendering time (see `ReportRequest.cost`).
STATEMENT_FUND_COST = 3


class ReportTooLarge(LedgerError):
    """The report would exceed the rows one report may hold; choose a shorter period or a smaller fund."""

    status = 413
    code = "report_too_large"


class ReportNotReady(LedgerError):
    """The report is still being generated (or failed); poll its status URL."""

    status = 409
    code = "report_not_ready"


def settings() -> dict:
    config = current_app.config
    return {
        "background_rows": int(config.get("REPORT_BACKGROUND_ROWS", 3000)),
        "register_max_rows": int(config.get("REPORT_REGISTER_MAX_ROWS", 200_000)),
        "statement_max_rows": int(config.get("REPORT_STATEMENT_MAX_ROWS", 1500)),
    }


@dataclass(frozen=True)
class ReportRequest:
    kind: ReportKind
    fmt: ReportFormat
    params: queries.ReportParams
    rows: int  # data rows the report will hold (register entries, statement lines)

    @property
    def cost(self) -> int:
        """Rendering work in register-row units. A statement's fund costs about three register rows
        in ReportLab (its line, its share of the subtotals and its chain head in the certificate:
        the city's 345 funds in about 1 s, against 0.6 ms a register row), so the city-wide
        statement is made while the auditor waits on the page; the certificate's WeasyPrint pages
        are few whatever the scope."""
        return self.rows if self.kind == ReportKind.journal_register else self.rows * STATEMENT_FUND_COST

    @property
    def background(self) -> bool:
        return self.cost > settings()["background_rows"]

    def filename(self, report_id: str) -> str:
        p = self.params
        return f"{report_id}_{SLUGS[self.kind]}_{p.fund_code}_{p.date_from}_{p.date_to}.{self.fmt.value}"


@dataclass(frozen=True)
class Rendered:
    data: bytes
    report_id: str
    pages: int | None
    rows: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


#: What a person reads for a run's status (the API keeps the codes: queued, running, done, failed).
STATUS_LABELS = {
    RunStatus.queued.value: _l("Queued"),
    RunStatus.running.value: _l("Generating"),
    RunStatus.done.value: _l("Done"),
    RunStatus.failed.value: _l("Failed"),
}


def status_label(status) -> str:
    """The status of a run in the reader's language (deferred: `str()` renders it)."""
    value = getattr(status, "value", status)
    return STATUS_LABELS.get(value, value)


def parse_kind(slug: str, fmt: str) -> tuple[ReportKind, ReportFormat]:
    kind = KIND_BY_SLUG.get(slug) or (ReportKind(slug) if slug in ReportKind.__members__ else None)
    if kind is None:
        raise BadRequest(_l("Unknown report %(slug)r.", slug=slug),
                         fields={"kind": [_l("Use one of %(kinds)s.", kinds=", ".join(SLUGS.values()))]})
    try:
        report_format = ReportFormat(fmt)
    except ValueError:
        report_format = None
    if report_format not in FORMATS[kind]:
        allowed = ", ".join(f.value for f in FORMATS[kind])
        raise BadRequest(_l("The %(kind)s report comes as %(formats)s.", kind=SLUGS[kind], formats=allowed),
                         fields={"format": [_l("Use %(formats)s.", formats=allowed)]})
    return kind, report_format


def check_fund(session, user: User, fund_code: str) -> None:
    """An unknown fund and one the user may not see both answer 404, alike (a county reviewer cannot
    tell which codes exist elsewhere); `fields` names the `fund` parameter."""
    try:
        fund_services.get_fund(session, user, fund_code)
    except NotFound:
        raise NotFound(_l("No fund %(code)r that you may see.", code=fund_code),
                       fields={"fund": [_l("No fund with the code %(code)r that you may see.", code=fund_code)]}) \
            from None


def prepare(session, user: User, kind: ReportKind, fmt: ReportFormat, args: Mapping[str, str]) -> ReportRequest:
    params = queries.parse_params(args)
    check_fund(session, user, params.fund_code)
    limits = settings()
    with reading_session() as reader:
        scope = queries.load_scope(reader, params.fund_code)
        if kind == ReportKind.journal_register:
            rows = queries.register_count(reader, scope, params)
            if rows > limits["register_max_rows"]:
                raise ReportTooLarge(_l(
                    "The register would hold %(rows)s entries; one report holds at most %(max)s. Choose a shorter "
                    "period or a smaller fund.", rows=rows, max=limits["register_max_rows"]))
        else:
            rows = len(scope.funds)
            if kind == ReportKind.fund_statement and rows > limits["statement_max_rows"]:
                raise ReportTooLarge(_l("The statement would list %(rows)s funds; at most %(max)s fit one statement.",
                                        rows=rows, max=limits["statement_max_rows"]))
    return ReportRequest(kind, fmt, params, rows)


# --------------------------------------------------------------------------- reading

_SQLITE_READERS: dict[str, sa.Engine] = {}


def _sqlite_reader_engine(url) -> sa.Engine:
    """A second engine on the same SQLite file whose transactions begin DEFERRED: in WAL
    mode such a reader sees one snapshot and never blocks (or waits for) writers."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")

    return engine


@contextlib.contextmanager
def reading_session():
    """A read-only session on one consistent snapshot of the database."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        engine = _sqlite_reader_engine(engine.url)
        connection = engine.connect()
    else:
        connection = engine.connect().execution_options(isolation_level="REPEATABLE READ",
                                                        postgresql_readonly=True)
    session = Session(bind=connection, autoflush=False)
    try:
        yield session
    finally:
        session.close()
        connection.close()
        if engine is not db.engine:
            engine.dispose()


def user_label(user: User) -> str:
    return f"{user.display_name or user.username}（{user.username}，{user.organisation.name}）"


def build_context(reader, request: ReportRequest, user: User) -> ReportContext:
    scope = queries.load_scope(reader, request.params.fund_code)
    integrity = queries.integrity(reader, scope, request.params, lambda: fund_services.verify_journal(reader))
    identity = queries.report_identity(request.kind.value, request.fmt.value, request.params, integrity)
    context = ReportContext(request.kind.value, request.fmt.value, request.params, scope, integrity, identity,
                            user_label(user), row_count=request.rows)
    if request.kind == ReportKind.fund_statement:
        context.statement = queries.fund_statement(reader, scope, request.params)
    if request.kind == ReportKind.journal_register:
        context.opening_fen = queries.opening_cash(reader, scope, request.params)
    return context


def render(request: ReportRequest, user: User, progress: Callable[[int], None] | None = None) -> Rendered:
    """Render the report to bytes. `progress(rows_done)` is called as rows are laid out. Every
    report is Chinese (an official document), whatever the language of whoever asked for it."""
    from flask_babel import force_locale

    with force_locale("zh_Hans_CN"), reading_session() as reader:
        context = build_context(reader, request, user)
        pages = None
        # The renderers are imported where they render: WeasyPrint alone takes about 2 s to import,
        # which every web worker and CLI command would otherwise pay at start.
        if request.kind == ReportKind.fund_statement:
            from .pdf_statement import render_statement_pdf

            data, pages = render_statement_pdf(context, progress)
        elif request.kind == ReportKind.integrity_certificate:
            from .pdf_weasy import render_pdf

            data, pages = render_pdf("reports/certificate_pdf.html", context, progress=progress)
        else:
            rows = queries.register_rows(reader, context.scope, request.params)
            if request.fmt == ReportFormat.pdf:
                from .pdf_register import render_register_pdf

                data, pages = render_register_pdf(context, rows, progress)
            elif request.fmt == ReportFormat.csv:
                from .exports import register_csv

                data = register_csv(context, rows, progress)
            else:
                from .exports import register_xlsx

                data = register_xlsx(context, rows, progress)
        return Rendered(data, context.identity.report_id, pages, request.rows)


def statement_context(request: ReportRequest, user: User) -> ReportContext:
    """The statement's context for its web page (same figures as the PDF)."""
    with reading_session() as reader:
        return build_context(reader, request, user)


# --------------------------------------------------------------------------- the log

def new_run(session, user: User, request: ReportRequest, status: RunStatus) -> ReportRun:
    run = ReportRun(job_id=secrets.token_hex(16), kind=request.kind, format=request.fmt,
                    parameters=request.params.as_dict(), requested_by_id=user.id, requested_at=utcnow(),
                    status=status, progress=0, rows=request.rows)
    session.add(run)
    session.flush()
    return run


def store_file(run: ReportRun, request: ReportRequest, rendered: Rendered) -> None:
    """Write the bytes under REPORTS_DIR and complete the run's log entry (the caller commits)."""
    directory = Path(current_app.config["REPORTS_DIR"])
    relative = Path(run.requested_at.strftime("%Y-%m")) / f"{run.job_id}.{request.fmt.value}"
    path = directory / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".part")
    temporary.write_bytes(rendered.data)
    os.replace(temporary, path)
    run.report_id = rendered.report_id
    run.file_path = str(relative)
    run.sha256 = rendered.sha256
    run.size_bytes = len(rendered.data)
    run.pages = rendered.pages
    run.rows = rendered.rows
    run.progress = 100
    run.status = RunStatus.done
    run.finished_at = utcnow()


def generate_now(session, user: User, request: ReportRequest) -> tuple[ReportRun, Rendered]:
    """Render in this request and log it (the caller commits)."""
    rendered = render(request, user)
    run = new_run(session, user, request, RunStatus.running)
    store_file(run, request, rendered)
    session.flush()
    return run, rendered


def request_from_run(run: ReportRun) -> ReportRequest:
    params = queries.parse_params(run.parameters)
    return ReportRequest(ReportKind(run.kind), ReportFormat(run.format), params, run.rows or 0)


def visible_run(session, user: User, job_id: str) -> ReportRun:
    run = session.scalar(sa.select(ReportRun).where(ReportRun.job_id == job_id))
    if run is None or (Role(user.role) not in LOG_ALL_ROLES and run.requested_by_id != user.id):
        raise NotFound(_l("No such report run."))
    return run


def run_file(run: ReportRun) -> bytes:
    if run.status != RunStatus.done or not run.file_path:
        raise ReportNotReady(_l("The report is %(status)s.", status=status_label(run.status)))
    return (Path(current_app.config["REPORTS_DIR"]) / run.file_path).read_bytes()


def list_runs(session, user: User, limit: int = 200) -> list[ReportRun]:
    query = sa.select(ReportRun).order_by(ReportRun.requested_at.desc(), ReportRun.id.desc()).limit(limit)
    if Role(user.role) not in LOG_ALL_ROLES:
        query = query.where(ReportRun.requested_by_id == user.id)
    return list(session.scalars(query))


def run_as_dict(run: ReportRun, urls: Mapping[str, str] | None = None) -> dict:
    body = {
        "job_id": run.job_id,
        "report_id": run.report_id,
        "kind": SLUGS[ReportKind(run.kind)],
        "format": getattr(run.format, "value", run.format),
        "parameters": run.parameters,
        "requested_by": run.requested_by.username if run.requested_by else None,
        "requested_at": queries.as_utc(run.requested_at).isoformat() if run.requested_at else None,
        "status": getattr(run.status, "value", run.status),
        "progress": run.progress,
        "rows": run.rows,
        "pages": run.pages,
        "sha256": run.sha256,
        "size_bytes": run.size_bytes,
        "finished_at": queries.as_utc(run.finished_at).isoformat() if run.finished_at else None,
        "error": run.error,
    }
    body.update(urls or {})
    return body
