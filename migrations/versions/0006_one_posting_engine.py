"""one posting engine in Python; entries name what they serve; months have a state

* PostgreSQL: `journal_post_entry` (revisions 0004 / 0005) is dropped. The posting
  engine (`ledger.journal.posting.post_entries`) is one Python implementation for
  both databases, batch-native; the database stays the checker (the append-only and
  balance triggers of 0002, the CHECK on available, the enum checks of 0005). The
  month lock `journal_lock_month` stays: it is a lock, not an engine. The downgrade
  restores the function from its versioned file (`migrations/sql/`).
* `journal_entries.source_kind` / `source_id`: the record an entry serves (an aid
  application, a care invoice, a referral), indexed for "which vouchers paid this?".
  They are hashed from content version 2 on; `content_version` says which layout an
  entry was hashed with, so every entry written before keeps verifying (version 1).
* `periods.state` ('open' / 'closed') replaces the boolean `closed`: months move
  through the period state machine (`ledger.journal.periods.PERIOD_MACHINE`).

Revision ID: 0006
Revises: 0005
"""
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PG_POST_ENTRY_FILE = Path(__file__).resolve().parent.parent / "sql" / "0005_journal_post_entry.pg.sql"
PERIOD_STATES = ("open", "closed")


def _driver_execute(sql: str) -> None:
    # Sent to the driver as is, without parameters: function bodies hold ':' and '%'.
    op.get_bind().connection.driver_connection.execute(sql)


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP FUNCTION journal_post_entry")
    with op.batch_alter_table("journal_entries") as batch_op:
        batch_op.add_column(sa.Column("source_kind", sa.String(length=40), nullable=True,
                                      comment="the kind of record the entry serves, e.g. aid_application"))
        batch_op.add_column(sa.Column("source_id", sa.BigInteger(), nullable=True, comment="that record's id"))
        batch_op.add_column(sa.Column("content_version", sa.SmallInteger(), server_default="1", nullable=False))
        batch_op.create_index("ix_journal_entries_source", ["source_kind", "source_id"], unique=False)

    with op.batch_alter_table("periods") as batch_op:
        batch_op.add_column(sa.Column("state", sa.Enum(*PERIOD_STATES, name="period_state", native_enum=False,
                                                       create_constraint=True, length=20), nullable=True))
    op.execute("UPDATE periods SET state = CASE WHEN closed THEN 'closed' ELSE 'open' END")
    with op.batch_alter_table("periods") as batch_op:
        batch_op.alter_column("state", existing_type=sa.String(length=20), nullable=False)
        batch_op.drop_column("closed")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("periods") as batch_op:
        batch_op.add_column(sa.Column("closed", sa.Boolean(), nullable=True))
    op.execute("UPDATE periods SET closed = (state = 'closed')")
    with op.batch_alter_table("periods") as batch_op:
        batch_op.alter_column("closed", existing_type=sa.Boolean(), nullable=False)
        batch_op.drop_constraint(op.f("ck_periods_period_state"), type_="check")
        batch_op.drop_column("state")
    with op.batch_alter_table("journal_entries") as batch_op:
        batch_op.drop_index("ix_journal_entries_source")
        batch_op.drop_column("content_version")
        batch_op.drop_column("source_id")
        batch_op.drop_column("source_kind")
    if postgres:
        _driver_execute(PG_POST_ENTRY_FILE.read_text(encoding="utf-8"))
