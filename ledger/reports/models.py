"""The log of generated reports (ReportRun): who asked for what, when, and the file's SHA-256.

A row is written when a report is requested and completed when its file exists,
so the log also shows reports still running or failed. The SHA-256 and size
are of the exact bytes served; an auditor can compare a file anyone hands them
with this log. Rows are never deleted by the application.
"""
from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from ..db_base import Base, enum_column
from ..timeutil import utcnow


class ReportKind(str, enum.Enum):
    fund_statement = "fund_statement"
    journal_register = "journal_register"
    integrity_certificate = "integrity_certificate"


class ReportFormat(str, enum.Enum):
    pdf = "pdf"
    csv = "csv"
    xlsx = "xlsx"


class RunStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class ReportRun(Base):
    __tablename__ = "report_runs"
    __table_args__ = (
        sa.Index("ix_report_runs_requested_at", "requested_at"),
        sa.CheckConstraint("progress >= 0 AND progress <= 100", name="progress_percent"),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    job_id = sa.Column(sa.String(32), nullable=False, unique=True,
                       comment="random public handle of this run (status and download URLs)")
    report_id = sa.Column(sa.String(40), comment="derived from the parameters and the data digest; printed on every page")
    kind = sa.Column(sa.Enum(ReportKind, name="report_kind", native_enum=False, create_constraint=True, length=30,
                             values_callable=lambda e: [m.value for m in e], validate_strings=True), nullable=False)
    format = enum_column(ReportFormat, "report_format", nullable=False)
    parameters = sa.Column(sa.JSON, nullable=False, comment="fund code, from, to: what was asked")
    requested_by_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True)
    requested_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    status = enum_column(RunStatus, "report_run_status", nullable=False, default=RunStatus.queued)
    progress = sa.Column(sa.Integer, nullable=False, default=0, comment="percent done")
    rows = sa.Column(sa.Integer, comment="data rows in the report")
    pages = sa.Column(sa.Integer)
    sha256 = sa.Column(sa.String(64), comment="of the file's bytes")
    size_bytes = sa.Column(sa.BigInteger)
    file_path = sa.Column(sa.String(500), comment="relative to REPORTS_DIR")
    finished_at = sa.Column(sa.DateTime(timezone=True))
    error = sa.Column(sa.Text)

    requested_by = relationship("User")
