"""import batches: each applied upload, once per (kind, file SHA-256)

The unique constraint on (kind, sha256) is what makes an import idempotent
(`ledger.imports.apply_once` claims it with INSERT ... ON CONFLICT DO NOTHING).

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False,
                  comment="which import: beneficiaries, care_visits, ..."),
        sa.Column("sha256", sa.String(length=64), nullable=False, comment="of the uploaded file's bytes"),
        sa.Column("filename", sa.String(length=255), nullable=False, comment="as uploaded, without a path"),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False, comment="data rows applied"),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Enum("applied", name="import_status", native_enum=False, create_constraint=True,
                                    length=20), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_import_batches_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
        sa.UniqueConstraint("kind", "sha256", name="uq_import_batches_kind_sha256"),
    )
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_batches_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_batches_user_id"))
    op.drop_table("import_batches")
