"""posting engine, leaner on PostgreSQL: an in-memory month lock, value checks only where a value is written

Measured with the posting benchmark (bench/posting.py) and instruction counts of a
posting: three things cost every posting more than they bought.

1. The month. 0004 share-locked the value date's period row (FOR SHARE) in every
   posting. Row locks live in the row: when several transactions share-lock one row
   at once PostgreSQL creates a MultiXact for them and writes the row's page, for
   every posting. Now `journal_lock_month(month, exclusive)` takes a transaction-level
   advisory lock on the month instead, which lives in the lock manager's memory:
   postings take it shared (they never wait for each other), closing and reopening
   take it exclusive (a close waits for the postings under way; a posting that comes
   during a close waits for it). A posting reads the month's row in its next
   statement, whose snapshot is taken after the lock, so a close can never commit
   unseen. A caller running at REPEATABLE READ or SERIALIZABLE, whose snapshot may be
   older than the lock, also share-locks the row, as before.
2. Valid values of fund level, account kind and account role. As CHECK constraints
   they were parsed, planned and evaluated on every UPDATE of a fund or account --
   every posting updates both -- though the posting never writes those columns. They
   are now triggers BEFORE INSERT OR UPDATE OF the column: the same refusal (SQLSTATE
   23514, the constraint's name) whenever the value is written, nothing otherwise.
   SQLite keeps its CHECK constraints (it evaluates them cheaply).
3. `journal_post_entry` locks each fund with one SELECT ... INTO (the accounts and the
   month's row read in the same statement) instead of a cursor loop, and no longer
   creates the month's row before looking: it creates it only when missing.

Revision ID: 0005
Revises: 0004
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: (table, column, CHECK constraint name, allowed values): enforced by a trigger on PostgreSQL.
VALUE_CHECKS = [
    ("funds", "level", "ck_funds_fund_level", ("city", "county", "village")),
    ("accounts", "kind", "ck_accounts_account_kind", ("asset", "liability", "net_assets", "income", "expense")),
    ("accounts", "role", "ck_accounts_account_role", ("cash", "donation_income", "grant_income", "transfer_in",
                                                        "transfer_out", "aid_expense", "opening_net_assets")),
]

PG_LOCK_MONTH = r"""
CREATE FUNCTION journal_lock_month(p_month text, p_exclusive boolean) RETURNS boolean
LANGUAGE plpgsql AS $function$
DECLARE
    -- Advisory lock key: (19027, yyyymm). 19027 is this ledger's key space for months.
    month_key integer := (substr(p_month, 1, 4) || substr(p_month, 6, 2))::integer;
BEGIN
    IF p_exclusive THEN
        PERFORM pg_advisory_xact_lock(19027, month_key);
    ELSIF NOT pg_try_advisory_xact_lock_shared(19027, month_key) THEN
        PERFORM pg_advisory_xact_lock_shared(19027, month_key);  -- a close or reopen is under way: wait
    END IF;
    IF NOT p_exclusive AND current_setting('transaction_isolation') <> 'read committed' THEN
        -- This transaction's snapshot may predate the lock and miss a close: lock the row, which
        -- fails with a serialization error if it changed since.
        PERFORM 1 FROM periods WHERE periods.month = p_month FOR SHARE;
    END IF;
    RETURN true;
END
$function$;
"""

PG_CHECK_VALUE = r"""
CREATE FUNCTION ledger_check_allowed_value() RETURNS trigger
LANGUAGE plpgsql AS $function$
DECLARE
    -- Arguments: the column, the constraint's name, then the allowed values.
    value text := to_jsonb(NEW) ->> TG_ARGV[0];
BEGIN
    IF value IS NOT NULL AND NOT (value = ANY (TG_ARGV[2:])) THEN
        RAISE EXCEPTION 'new row for relation "%" violates check constraint "%"', TG_TABLE_NAME, TG_ARGV[1]
            USING ERRCODE = 'check_violation', CONSTRAINT = TG_ARGV[1], TABLE = TG_TABLE_NAME,
                  COLUMN = TG_ARGV[0], DETAIL = format('%s %L is not one of %s', TG_ARGV[0], value,
                                                       array_to_string(TG_ARGV[2:], ', '));
    END IF;
    RETURN NEW;
END
$function$;
"""

#: The function's text lives in a versioned file, read by this revision and by 0006's downgrade.
PG_POST_ENTRY_FILE = Path(__file__).resolve().parent.parent / "sql" / "0005_journal_post_entry.pg.sql"



def _0004():
    path = Path(__file__).with_name("0004_journal_post_function.py")
    spec = importlib.util.spec_from_file_location("revision_0004", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _driver_execute(sql: str) -> None:
    # Sent to the driver as is, without parameters: the bodies hold ':' and '%'.
    op.get_bind().connection.driver_connection.execute(sql)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    _driver_execute(PG_LOCK_MONTH)
    _driver_execute(PG_CHECK_VALUE)
    for table, column, constraint, values in VALUE_CHECKS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
        arguments = ", ".join(f"'{argument}'" for argument in (column, constraint, *values))
        op.execute(f"CREATE TRIGGER {table}_{column}_allowed BEFORE INSERT OR UPDATE OF {column} ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION ledger_check_allowed_value({arguments})")
    _driver_execute(PG_POST_ENTRY_FILE.read_text(encoding="utf-8"))


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    _driver_execute("DROP FUNCTION journal_post_entry")
    _driver_execute(_0004().PG_UPGRADE)
    for table, column, constraint, values in VALUE_CHECKS:
        op.execute(f"DROP TRIGGER {table}_{column}_allowed ON {table}")
        allowed = ", ".join(f"'{value}'" for value in values)
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} CHECK ({column} IN ({allowed}))")
    _driver_execute("DROP FUNCTION ledger_check_allowed_value()")
    _driver_execute("DROP FUNCTION journal_lock_month(text, boolean)")
