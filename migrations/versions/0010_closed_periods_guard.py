"""closed periods guarded by the database: no entry dated in or before a closed month

Closing a month seals it and every month before it (`ledger.journal.periods`): the closes run
without a gap from the books' first month, so an entry dated before the first closed month would
change the opening balance of every closed month's reports. The posting engine refuses such an
entry (`period_closed`); from this revision on the database refuses it too, even from a
hand-typed INSERT:

* PostgreSQL: a statement-level trigger on journal_entries (a transition table, as the balance
  check of 0008): after each INSERT or COPY, the earliest value date the statement wrote must come
  after the latest closed month. One query per statement, however many rows. A posting holds the
  calendar's lock (shared) while it writes, so a close cannot commit between the check and the
  commit (`periods`, migration 0005's `journal_lock_month`).
* SQLite: a BEFORE INSERT row trigger with the same rule (SQLite serializes writers).

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PG_UPGRADE = r"""
CREATE FUNCTION journal_refuse_closed_period() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    earliest date;
    latest_closed text;
BEGIN
    SELECT min(value_on) INTO earliest FROM new_entries;
    SELECT max(month) INTO latest_closed FROM periods WHERE state = 'closed';
    IF latest_closed IS NOT NULL AND to_char(earliest, 'YYYY-MM') <= latest_closed THEN
        RAISE EXCEPTION 'period_closed: an entry dated % is in or before %, a closed month', earliest, latest_closed
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER journal_entries_period_open AFTER INSERT ON journal_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse_closed_period();
"""

PG_DOWNGRADE = r"""
DROP TRIGGER journal_entries_period_open ON journal_entries;
DROP FUNCTION journal_refuse_closed_period();
"""

SQLITE_UPGRADE = """
CREATE TRIGGER journal_entries_period_open BEFORE INSERT ON journal_entries
WHEN EXISTS (SELECT 1 FROM periods WHERE state = 'closed' AND month >= substr(NEW.value_on, 1, 7))
BEGIN
    SELECT RAISE(ABORT, 'period_closed: an entry dated in or before a closed month is refused');
END
"""


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_UPGRADE)
    elif dialect == "sqlite":
        op.execute(SQLITE_UPGRADE)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_DOWNGRADE)
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS journal_entries_period_open")
