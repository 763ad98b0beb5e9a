"""journal guards: append-only and balanced entries enforced by the database

The journal's rules hold even against a hand-typed SQL statement:

* PostgreSQL and SQLite: triggers refuse UPDATE and DELETE of journal entries
  and postings (a correction is a reversing entry). On PostgreSQL TRUNCATE is
  refused too.
* PostgreSQL: deferred constraint triggers check, at commit, that every entry
  that got postings in the transaction has at least two postings, all positive,
  whose debits equal its credits -- deferred because an entry and its postings
  are inserted by separate statements.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PG_UPGRADE = r"""
CREATE FUNCTION journal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only: % on % is refused (correct an entry with a reversal)',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse_change();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse_change();

CREATE FUNCTION journal_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    checked_id integer;
    posting_count integer;
    debit_sum bigint;
    credit_sum bigint;
BEGIN
    IF TG_TABLE_NAME = 'journal_entries' THEN
        checked_id := NEW.id;
    ELSE
        checked_id := NEW.entry_id;
    END IF;
    SELECT count(*),
           coalesce(sum(amount_fen) FILTER (WHERE side = 'debit'), 0),
           coalesce(sum(amount_fen) FILTER (WHERE side = 'credit'), 0)
      INTO posting_count, debit_sum, credit_sum
      FROM postings WHERE entry_id = checked_id;
    IF posting_count < 2 OR debit_sum <> credit_sum THEN
        RAISE EXCEPTION 'journal entry % does not balance: % postings, debits % fen, credits % fen',
            checked_id, posting_count, debit_sum, credit_sum
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_check_balanced();
CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_check_balanced();
"""

PG_DOWNGRADE = """
DROP TRIGGER IF EXISTS postings_balanced ON postings;
DROP TRIGGER IF EXISTS journal_entries_balanced ON journal_entries;
DROP FUNCTION IF EXISTS journal_check_balanced();
DROP TRIGGER IF EXISTS postings_no_truncate ON postings;
DROP TRIGGER IF EXISTS postings_append_only ON postings;
DROP TRIGGER IF EXISTS journal_entries_no_truncate ON journal_entries;
DROP TRIGGER IF EXISTS journal_entries_append_only ON journal_entries;
DROP FUNCTION IF EXISTS journal_refuse_change();
"""

SQLITE_TRIGGERS = {
    f"{table}_no_{operation.lower()}": (table, operation)
    for table in ("journal_entries", "postings") for operation in ("UPDATE", "DELETE")
}


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_UPGRADE)
    elif dialect == "sqlite":
        for name, (table, operation) in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} BEFORE {operation} ON {table} BEGIN "
                       f"SELECT RAISE(ABORT, 'the journal is append-only: {operation} on {table} is refused "
                       f"(correct an entry with a reversal)'); END")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_DOWNGRADE)
    elif dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
