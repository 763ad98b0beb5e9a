"""users: a password that must be changed at the next sign-in, and the sign-in before the latest

`must_change_password` is set when an administrator creates a user or resets a password (the
one-time password is shown to the administrator once); signing in with it leads to the
change-password page and nowhere else until the user has chosen their own. `previous_login_at`
keeps the sign-in before the latest one, which is what a start page calls "last login".

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                      server_default=sa.false(),
                                      comment="set by an administrator's reset; cleared when the user changes it"))
        batch_op.add_column(sa.Column("previous_login_at", sa.DateTime(timezone=True), nullable=True,
                                      comment="the sign-in before the latest one"))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("previous_login_at")
        batch_op.drop_column("must_change_password")
