"""the balance check of postings runs once per statement, not once per row

PostgreSQL only. Revision 0002 checked balance with two deferred row triggers,
one on journal_entries and one on postings: an entry of two postings was checked
three times at commit, a payment run of 32,000 entries 96,000 times (about a
second of the run, measured by bench/posting.py). Now:

* journal_entries keeps its deferred row trigger (once per entry, at commit): an
  entry with fewer than two postings, or whose debits and credits differ, is refused;
* postings get a statement-level trigger with a transition table: after each
  INSERT or COPY into postings, every entry that statement touched must balance
  over all of its postings. One query per statement, however many rows.

What the database refuses is the same as before for every entry the engine writes
(it inserts all of an entry's postings in one statement, then commits): an entry
that does not balance at commit. It is stricter in one respect: postings that leave
an entry unbalanced at the end of their statement are refused at once, even if a
later statement of the same transaction would have balanced it.

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PG_UPGRADE = r"""
DROP TRIGGER postings_balanced ON postings;

CREATE FUNCTION journal_check_postings_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    -- From the statement's entries to their postings by the index on postings.entry_id, one
    -- lookup per entry (the transition table has no statistics: a join the other way round can
    -- be planned as a scan of it per posting).
    SELECT touched.entry_id, totals.posting_count, totals.debit_sum, totals.credit_sum
      INTO bad
      FROM (SELECT DISTINCT entry_id FROM new_postings) AS touched
      CROSS JOIN LATERAL (
            SELECT count(*) AS posting_count,
                   coalesce(sum(p.amount_fen) FILTER (WHERE p.side = 'debit'), 0) AS debit_sum,
                   coalesce(sum(p.amount_fen) FILTER (WHERE p.side = 'credit'), 0) AS credit_sum
              FROM postings p
             WHERE p.entry_id = touched.entry_id) AS totals
     WHERE totals.posting_count < 2 OR totals.debit_sum <> totals.credit_sum
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance: % postings, debits % fen, credits % fen',
            bad.entry_id, bad.posting_count, bad.debit_sum, bad.credit_sum
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER postings_balanced_by_statement AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION journal_check_postings_balanced();
"""

PG_DOWNGRADE = r"""
DROP TRIGGER postings_balanced_by_statement ON postings;
DROP FUNCTION journal_check_postings_balanced();
CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_check_balanced();
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_UPGRADE)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_DOWNGRADE)
