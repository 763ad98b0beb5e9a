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

PG_POST_ENTRY = r"""
CREATE OR REPLACE FUNCTION journal_post_entry(
    p_allowed boolean, p_chain_code text, p_codes text[], p_month text, p_value_on date, p_now timestamptz,
    p_release_expired boolean, p_fund_posted bigint[], p_fund_pending bigint[],
    p_account_funds text[], p_account_roles text[], p_account_debits bigint[], p_account_credits bigint[],
    p_line_accounts integer[], p_line_sides text[], p_line_amounts bigint[], p_fields_json text,
    p_kind text, p_memo text, p_purpose text, p_counterparty_kind text, p_counterparty_name text,
    p_counterparty_id_number text, p_created_by_id integer, p_idempotency_key text, p_reverses_entry_id integer,
    p_reversal_reason text, p_hold_id integer,
    OUT status text, OUT entry_id integer, OUT voucher_no text, OUT chain_fund_id integer, OUT chain_seq integer,
    OUT prev_hash text, OUT entry_hash text, OUT fund_ids integer[], OUT account_ids integer[],
    OUT expired_hold_ids integer[], OUT problem_fund text, OUT problem_detail text, OUT available_fen bigint,
    OUT needed_fen bigint)
LANGUAGE plpgsql
-- Every statement below has one good plan (index lookups by equality or by a short array): planning
-- it again for each call's values would cost more than running it.
SET plan_cache_mode = force_generic_plan
AS $function$
DECLARE
    -- The locked funds, in id (= lock) order, as parallel arrays.
    f_ids integer[] := '{}';
    f_codes text[] := '{}';
    f_posted bigint[] := '{}';
    f_pending bigint[] := '{}';
    f_seq integer[] := '{}';
    f_head text[] := '{}';
    f_vyear integer[] := '{}';
    f_vseq integer[] := '{}';
    touched integer[] := '{}';
    -- The accounts read with the funds: key (fund code, newline, role) -> id, code.
    a_keys text[] := '{}';
    a_ids integer[] := '{}';
    a_codes text[] := '{}';
    account_codes text[] := '{}';
    lock_codes text[];
    month_locked boolean;
    period_closed boolean;
    released boolean;
    found_row record;
    account_row accounts;
    i integer;
    k integer;
    change_posted bigint;
    change_pending bigint;
    entry_year integer;
    voucher_number integer;
    content text;
BEGIN
    -- 0. The caller's precondition, evaluated in the calling statement (e.g. the user's scope).
    IF p_allowed IS NOT TRUE THEN
        status := 'not_allowed';
        RETURN;
    END IF;
    -- 1. The month first (shared: postings never wait for each other here, a close waits for
    --    them and they for a close), then the funds in id order (the fixed order: A->B and B->A
    --    queue, never deadlock), each by one statement that also reads its accounts and, in the
    --    same snapshot -- taken after the month lock, so no close can commit unseen -- the month's row.
    month_locked := journal_lock_month(p_month, false);
    IF cardinality(p_codes) = 1 THEN
        lock_codes := p_codes;
    ELSE
        SELECT array_agg(funds.code::text ORDER BY funds.id) INTO lock_codes
          FROM funds WHERE funds.code = ANY (p_codes);
    END IF;
    FOR k IN 1 .. coalesce(cardinality(lock_codes), 0) LOOP
        SELECT funds.id, funds.code, funds.balance_posted_fen, funds.pending_fen, funds.chain_seq,
               funds.chain_head_hash, funds.voucher_year, funds.voucher_seq,
               (SELECT periods.closed FROM periods WHERE periods.month = p_month) AS closed,
               ARRAY(SELECT accounts FROM accounts
                      WHERE accounts.fund_id = funds.id AND accounts.role = ANY (p_account_roles)) AS accounts
          INTO found_row
          FROM funds
         WHERE funds.code = lock_codes[k]
           FOR NO KEY UPDATE;
        CONTINUE WHEN NOT FOUND;
        f_ids := f_ids || found_row.id;
        f_codes := f_codes || found_row.code::text;
        f_posted := f_posted || found_row.balance_posted_fen;
        f_pending := f_pending || found_row.pending_fen;
        f_seq := f_seq || found_row.chain_seq;
        f_head := f_head || found_row.chain_head_hash::text;
        f_vyear := f_vyear || found_row.voucher_year;
        f_vseq := f_vseq || found_row.voucher_seq;
        period_closed := found_row.closed;
        FOREACH account_row IN ARRAY found_row.accounts LOOP
            a_keys := a_keys || (found_row.code || E'\n' || account_row.role);
            a_ids := a_ids || account_row.id;
            a_codes := a_codes || account_row.code::text;
        END LOOP;
    END LOOP;
    IF cardinality(f_ids) <> cardinality(p_codes) THEN
        status := 'not_found';
        FOR k IN 1 .. cardinality(p_codes) LOOP
            IF array_position(f_codes, p_codes[k]) IS NULL THEN
                problem_fund := p_codes[k];
                RETURN;
            END IF;
        END LOOP;
        RETURN;
    END IF;
    IF period_closed THEN
        status := 'period_closed';
        RETURN;
    ELSIF period_closed IS NULL THEN  -- the month's first entry: its row is made (open), as ensure_period does
        INSERT INTO periods (month, closed) VALUES (p_month, false) ON CONFLICT (month) DO NOTHING;
    END IF;
    -- 2. Expired holds of these funds are released (lazily, only where something is pending).
    IF p_release_expired THEN
        FOR i IN 1 .. cardinality(f_ids) LOOP
            CONTINUE WHEN f_pending[i] = 0;
            released := false;
            FOR found_row IN
                UPDATE holds SET state = 'expired', resolved_at = p_now
                 WHERE holds.fund_id = f_ids[i] AND holds.state = 'pending' AND holds.expires_at <= p_now
                RETURNING holds.id, holds.amount_fen
            LOOP
                expired_hold_ids := coalesce(expired_hold_ids, '{}') || found_row.id;
                f_pending[i] := f_pending[i] - found_row.amount_fen;
                released := true;
            END LOOP;
            IF released THEN
                UPDATE funds SET pending_fen = f_pending[i] WHERE funds.id = f_ids[i];
                fund_ids := coalesce(fund_ids, '{}') || f_ids[i];
            END IF;
        END LOOP;
    END IF;
    -- 3. The entry's accounts (in the order the lines first name them).
    FOR k IN 1 .. cardinality(p_account_funds) LOOP
        i := array_position(a_keys, p_account_funds[k] || E'\n' || p_account_roles[k]);
        IF i IS NULL THEN
            status := 'no_account';
            problem_fund := p_account_funds[k];
            problem_detail := p_account_roles[k];
            RETURN;
        END IF;
        account_ids := coalesce(account_ids, '{}') || a_ids[i];
        account_codes := account_codes || a_codes[i];
    END LOOP;
    -- 4. The funds' new figures; no fund's available balance may go below zero where the entry lowers it.
    FOR i IN 1 .. cardinality(f_ids) LOOP
        k := array_position(p_codes, f_codes[i]);
        change_posted := p_fund_posted[k];
        change_pending := p_fund_pending[k];
        CONTINUE WHEN change_posted = 0 AND change_pending = 0;
        IF f_pending[i] + change_pending < 0 THEN
            status := 'over_release';
            problem_fund := f_codes[i];
            RETURN;
        END IF;
        IF change_posted - change_pending < 0
                AND (f_posted[i] + change_posted) - (f_pending[i] + change_pending) < 0 THEN
            status := 'insufficient';
            problem_fund := f_codes[i];
            available_fen := f_posted[i] - f_pending[i];
            needed_fen := change_pending - change_posted;
            RETURN;
        END IF;
        f_posted[i] := f_posted[i] + change_posted;
        f_pending[i] := f_pending[i] + change_pending;
        touched := touched || f_ids[i];
    END LOOP;
    -- 5. Voucher number (per fund and year, gap-free: advanced under the lock) and chain position.
    i := array_position(f_codes, p_chain_code);
    entry_year := extract(year FROM p_value_on)::integer;
    IF entry_year = f_vyear[i] THEN
        f_vseq[i] := f_vseq[i] + 1;
        voucher_number := f_vseq[i];
    ELSIF entry_year > f_vyear[i] THEN
        f_vyear[i] := entry_year;
        f_vseq[i] := 1;
        voucher_number := 1;
    ELSE  -- dated in an earlier year than the fund's counter: continue that year's numbers
        SELECT 1 + count(*) INTO voucher_number FROM journal_entries
         WHERE journal_entries.chain_fund_id = f_ids[i]
           AND journal_entries.voucher_no LIKE 'JZ-' || lpad(entry_year::text, 4, '0') || '-' || p_chain_code || '-%';
    END IF;
    voucher_no := 'JZ-' || lpad(entry_year::text, 4, '0') || '-' || p_chain_code || '-'
        || CASE WHEN voucher_number < 1000000 THEN lpad(voucher_number::text, 6, '0') ELSE voucher_number::text END;
    f_seq[i] := f_seq[i] + 1;
    chain_fund_id := f_ids[i];
    chain_seq := f_seq[i];
    prev_hash := f_head[i];
    -- 6. The canonical content (ledger.journal.chain.chain_content, byte for byte) and the hash.
    content := '[1,' || to_json(p_chain_code)::text || ',' || chain_seq || ',' || to_json(voucher_no)::text || ','
        || p_fields_json || ',[';
    FOR k IN 1 .. cardinality(p_line_accounts) LOOP
        content := content || CASE WHEN k > 1 THEN ',[' ELSE '[' END
            || to_json(account_codes[p_line_accounts[k]])::text || ',' || to_json(p_line_sides[k])::text || ','
            || p_line_amounts[k] || ']';
    END LOOP;
    entry_hash := encode(sha256(convert_to(prev_hash || content || ']]', 'UTF8')), 'hex');
    f_head[i] := entry_hash;
    IF NOT (chain_fund_id = ANY (touched)) THEN
        touched := touched || chain_fund_id;
    END IF;
    fund_ids := coalesce(fund_ids, '{}') || touched;
    -- 7. The writes: the entry, its postings in line order (a function scan returns the array's
    --    elements in order), the accounts' and the days' totals in one statement; then the funds.
    WITH entry AS (
        INSERT INTO journal_entries (voucher_no, kind, value_on, posted_at, memo, purpose, counterparty_kind,
            counterparty_name, counterparty_id_number, created_by_id, idempotency_key, reverses_entry_id,
            reversal_reason, hold_id, chain_fund_id, chain_seq, prev_hash, entry_hash)
        VALUES (voucher_no, p_kind, p_value_on, p_now, p_memo, p_purpose, p_counterparty_kind,
            p_counterparty_name, p_counterparty_id_number, p_created_by_id, p_idempotency_key, p_reverses_entry_id,
            p_reversal_reason, p_hold_id, chain_fund_id, chain_seq, prev_hash, entry_hash)
        RETURNING journal_entries.id
    ), new_postings AS (
        INSERT INTO postings (entry_id, account_id, side, amount_fen)
        SELECT entry.id, account_ids[line.account], line.side, line.amount_fen
          FROM entry, unnest(p_line_accounts, p_line_sides, p_line_amounts) AS line(account, side, amount_fen)
    ), account_figures AS (
        UPDATE accounts SET
               debit_total_fen = accounts.debit_total_fen
                   + p_account_debits[array_position(account_ids, accounts.id)],
               credit_total_fen = accounts.credit_total_fen
                   + p_account_credits[array_position(account_ids, accounts.id)]
         WHERE accounts.id = ANY (account_ids)
    ), day_figures AS (
        INSERT INTO account_day_totals (account_id, value_on, debit_fen, credit_fen)
        SELECT change.id, p_value_on, change.debit, change.credit
          FROM unnest(account_ids, p_account_debits, p_account_credits) AS change(id, debit, credit)
        ON CONFLICT (account_id, value_on) DO UPDATE SET
            debit_fen = account_day_totals.debit_fen + excluded.debit_fen,
            credit_fen = account_day_totals.credit_fen + excluded.credit_fen
    )
    SELECT entry.id INTO entry_id FROM entry;
    -- The funds' figures, one primary-key update per fund: `id = ANY (array)` would be planned
    -- generically as a scan of the whole funds table.
    FOREACH k IN ARRAY touched LOOP
        i := array_position(f_ids, k);
        UPDATE funds SET balance_posted_fen = f_posted[i], pending_fen = f_pending[i], chain_seq = f_seq[i],
               chain_head_hash = f_head[i], voucher_year = f_vyear[i], voucher_seq = f_vseq[i]
         WHERE funds.id = k;
    END LOOP;
    status := 'ok';
END
$function$;
"""


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
    _driver_execute(PG_POST_ENTRY)


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
