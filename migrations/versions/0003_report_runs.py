"""report runs: the log of generated audit reports

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _enum(name, *values, length=20):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def upgrade():
    op.create_table(
        "report_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False,
                  comment="random public handle of this run (status and download URLs)"),
        sa.Column("report_id", sa.String(length=40), nullable=True,
                  comment="derived from the parameters and the data digest; printed on every page"),
        sa.Column("kind", _enum("report_kind", "fund_statement", "journal_register", "integrity_certificate",
                        length=30),
                  nullable=False),
        sa.Column("format", _enum("report_format", "pdf", "csv", "xlsx"), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False, comment="fund code, from, to: what was asked"),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", _enum("report_run_status", "queued", "running", "done", "failed"), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False, comment="percent done"),
        sa.Column("rows", sa.Integer(), nullable=True, comment="data rows in the report"),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True, comment="of the file's bytes"),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("file_path", sa.String(length=500), nullable=True, comment="relative to REPORTS_DIR"),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("progress >= 0 AND progress <= 100", name=op.f("ck_report_runs_progress_percent")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"],
                                name=op.f("fk_report_runs_requested_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_runs")),
        sa.UniqueConstraint("job_id", name=op.f("uq_report_runs_job_id")),
    )
    with op.batch_alter_table("report_runs", schema=None) as batch_op:
        batch_op.create_index("ix_report_runs_requested_at", ["requested_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_runs_requested_by_id"), ["requested_by_id"], unique=False)


def downgrade():
    with op.batch_alter_table("report_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_runs_requested_by_id"))
        batch_op.drop_index("ix_report_runs_requested_at")
    op.drop_table("report_runs")
