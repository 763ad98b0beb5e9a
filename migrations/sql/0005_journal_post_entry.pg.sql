-- journal_post_entry as revision 0005 made it: the PostgreSQL half of the posting engine until
-- revision 0006 moved the whole engine to Python. Kept so that 0005 and 0006's downgrade
-- restore the very function they name.
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
