"""Posting throughput and balance-query speed on PostgreSQL, against references measured in the same run.

Usage (PostgreSQL must answer at $LEDGER_BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres; pgbench must be on $PATH or at /usr/bin/pgbench):

    .venv/bin/python bench/posting.py                      # 8 clients, 10 s per run, 1M postings
    .venv/bin/python bench/posting.py --clients 4 --seconds 20
    .venv/bin/python bench/posting.py --postings 0         # throughput only
    .venv/bin/python bench/posting.py --seconds 0          # balances vs bean-check only

What it measures:

1. Throughput. N client processes each loop `ledger.funds.services.disburse(...)` + commit
   for a fixed time, (a) spread over the 11 county funds, (b) all on one county fund. In the
   same run `pgbench -b tpcb-like` (BEGIN; three UPDATEs, a SELECT, an INSERT; COMMIT: the
   bank-transfer shape of work) runs with the same client count at scale 11 (spread over 11
   branches) and at scale 1 (one branch row everyone updates). Printed: ours / pgbench.
   Targets: >= 0.5 spread, >= 0.3 on one fund.
2. Balances at scale. The journal is grown to 1M postings with a bulk path (COPY) that
   computes the same hash chains and maintained figures as the posting engine (checked
   afterwards by `verify_journal` and a recomputation from the postings). Then the fund
   tree's balances as of a date (`services.fund_tree(as_of=...)`) are timed next to
   `bean-check` over the beancount export of the same journal. Target: ours >= 20x faster.

Everything happens in scratch databases that are dropped at the end.
"""
from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

SERVER_URL = os.environ.get("LEDGER_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
COUNTIES = ["370811", "370812", "370881", "370883", "370826", "370827", "370828", "370829", "370830", "370831",
            "370832"]
ONE_FUND = "370811"


def psycopg_url(url: str, database: str | None = None) -> str:
    from ledger.config import normalise_database_url

    parsed = sa.engine.make_url(normalise_database_url(url))
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def server_execute(statement: str) -> None:
    engine = sa.create_engine(psycopg_url(SERVER_URL), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        connection.exec_driver_sql(statement)
    engine.dispose()


def create_ledger_database(name: str) -> str:
    """A scratch database made by the migrations and seeded with the demo data."""
    server_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server_execute(f'CREATE DATABASE "{name}"')
    url = psycopg_url(SERVER_URL, name)
    from flask_migrate import upgrade

    from ledger import create_app
    from ledger.demo import seed
    from ledger.extensions import db

    app = create_app({"LEDGER_CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        seed(db.session)
        db.session.commit()
        db.engine.dispose()
    return url


# --- 1. throughput ------------------------------------------------------------------------------------

def _client(url: str, codes: list[str], seconds: float, start_at: float, results, index: int) -> None:
    import ledger.models  # noqa: F401  (every table on the metadata)
    from ledger.auth.models import User
    from ledger.errors import LedgerError
    from ledger.funds import services
    from ledger.funds.services import Payee

    engine = sa.create_engine(url, pool_size=1)
    session = Session(engine)
    user = session.scalar(sa.select(User).where(User.username == "finance"))
    session.commit()
    payee = Payee("person", "张秀英", "370827198603124023")
    rng = random.Random(index)
    today = date(2026, 11, 30)
    done = refused = 0
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = start_at + seconds
    while time.time() < deadline:
        code = codes[rng.randrange(len(codes))]
        try:
            services.disburse(session, user, code, 1, payee=payee, purpose="emergency_aid", value_on=today)
            session.commit()
            done += 1
        except LedgerError:
            session.rollback()
            refused += 1
    session.close()
    engine.dispose()
    results.put((done, refused))


def ledger_tps(url: str, clients: int, seconds: float, codes: list[str]) -> float:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 2.0  # every client connected and warmed up before the clock starts
    processes = [context.Process(target=_client, args=(url, codes, seconds, start_at, results, index))
                 for index in range(clients)]
    for process in processes:
        process.start()
    totals = [results.get() for _ in processes]
    for process in processes:
        process.join()
    refused = sum(r for _, r in totals)
    if refused:
        print(f"    ({refused} refused)")
    return sum(d for d, _ in totals) / seconds


def pgbench_tps(clients: int, seconds: float, scale: int) -> float:
    pgbench = shutil.which("pgbench") or "/usr/bin/pgbench"
    name = f"ledger_bench_pgbench_{os.getpid()}"
    server_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server_execute(f'CREATE DATABASE "{name}"')
    parsed = sa.engine.make_url(psycopg_url(SERVER_URL))
    connection = ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    try:
        subprocess.run([pgbench, "-i", "-q", "-s", str(scale), *connection, name], check=True, env=env,
                       capture_output=True)
        output = subprocess.run([pgbench, "-b", "tpcb-like", "-n", "-c", str(clients), "-j", str(clients),
                                 "-T", str(int(seconds)), *connection, name], check=True, env=env,
                                capture_output=True, text=True).stdout
    finally:
        server_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    return float(match.group(1))


# --- 2. a journal of 1M postings ------------------------------------------------------------------------

def bulk_grow(url: str, postings: int, seed: int = 7) -> int:
    """Append about `postings` postings (two per entry: receipts and payments on every fund) with COPY.

    The rows are exactly what the posting engine would write: each fund's chain and
    voucher numbers continue from the fund's row, each entry is hashed with the engine's
    canonical content, and funds, accounts and day totals are updated by the same sums.
    """
    import ledger.models  # noqa: F401
    from ledger.journal.accounts import account_code
    from ledger.journal.chain import canonical_content, entry_hash
    from ledger.journal.models import AccountRole

    engine = sa.create_engine(url)
    rng = random.Random(seed)
    with engine.begin() as connection:
        funds = connection.execute(sa.text(
            "SELECT id, code, balance_posted_fen, chain_seq, chain_head_hash, voucher_year, voucher_seq "
            "FROM funds ORDER BY id")).all()
        accounts = {(row.fund_id, row.role): (row.id, row.code) for row in connection.execute(sa.text(
            "SELECT id, fund_id, role, code FROM accounts"))}
        next_entry = connection.execute(sa.text("SELECT coalesce(max(id), 0) + 1 FROM journal_entries")).scalar()
        next_posting = connection.execute(sa.text("SELECT coalesce(max(id), 0) + 1 FROM postings")).scalar()
        finance_id = connection.execute(sa.text("SELECT id FROM users WHERE username = 'finance'")).scalar()
    state = {f.id: dict(code=f.code, posted=f.balance_posted_fen, seq=f.chain_seq, head=f.chain_head_hash,
                        vyear=f.voucher_year, vseq=f.voucher_seq) for f in funds}
    entries_per_fund = postings // 2 // len(funds)
    start_on = date(2026, 1, 6)
    days = 320
    account_change = defaultdict(lambda: [0, 0])
    day_totals = defaultdict(lambda: [0, 0])
    posted_at = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
    entry_rows, posting_rows = [], []
    started = time.time()
    for fund_id, fund in state.items():
        cash = accounts[(fund_id, AccountRole.cash.value)]
        donations = accounts[(fund_id, AccountRole.donation_income.value)]
        aid = accounts[(fund_id, AccountRole.aid_expense.value)]
        for number in range(entries_per_fund):
            value_on = start_on + timedelta(days=number * days // entries_per_fund)
            if fund["posted"] > 50_00 and rng.random() < 0.5:
                kind, amount, memo = "disbursement", rng.randint(1_00, 50_00), "急难救助"
                lines = [(aid, "debit", amount), (cash, "credit", amount)]
                party = ("person", "张秀英", "370827198603124023")
                fund["posted"] -= amount
            else:
                kind, amount, memo = "receipt", rng.randint(1_00, 60_00), "爱心捐赠"
                lines = [(cash, "debit", amount), (donations, "credit", amount)]
                party = ("donor", "爱心人士", None)
                fund["posted"] += amount
            fund["vseq"] = fund["vseq"] + 1 if fund["vyear"] == 2026 else 1
            fund["vyear"] = 2026
            fund["seq"] += 1
            voucher_no = f"JZ-2026-{fund['code']}-{fund['vseq']:06d}"
            values = dict(voucher_no=voucher_no, kind=kind, value_on=value_on, posted_at=posted_at, memo=memo,
                          purpose="emergency_aid" if kind == "disbursement" else "donation",
                          counterparty_kind=party[0], counterparty_name=party[1], counterparty_id_number=party[2],
                          created_by_id=finance_id, idempotency_key=None, reverses_entry_id=None,
                          reversal_reason=None, hold_id=None)
            content = canonical_content(chain_fund_code=fund["code"], chain_seq=fund["seq"],
                                        postings=[(code, side, amt) for (_, code), side, amt in lines], **values)
            digest = entry_hash(fund["head"], content)
            entry_rows.append((next_entry, voucher_no, kind, value_on, posted_at, memo, values["purpose"], party[0],
                               party[1], party[2], finance_id, fund_id, fund["seq"], fund["head"], digest))
            fund["head"] = digest
            for (account_id, _), side, amt in lines:
                posting_rows.append((next_posting, next_entry, account_id, side, amt))
                next_posting += 1
                change = account_change[account_id]
                day = day_totals[(account_id, value_on)]
                if side == "debit":
                    change[0] += amt
                    day[0] += amt
                else:
                    change[1] += amt
                    day[1] += amt
            next_entry += 1
    print(f"    built {len(entry_rows):,} entries / {len(posting_rows):,} postings in memory "
          f"({time.time() - started:.1f} s)")
    started = time.time()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # A bulk load of rows already checked above: the per-row guard triggers are switched
        # off for this transaction only (the result is verified afterwards).
        cursor.execute("SET LOCAL session_replication_role = replica")
        with cursor.copy("COPY journal_entries (id, voucher_no, kind, value_on, posted_at, memo, purpose, "
                         "counterparty_kind, counterparty_name, counterparty_id_number, created_by_id, "
                         "chain_fund_id, chain_seq, prev_hash, entry_hash) FROM STDIN") as copy:
            for row in entry_rows:
                copy.write_row(row)
        with cursor.copy("COPY postings (id, entry_id, account_id, side, amount_fen) FROM STDIN") as copy:
            for row in posting_rows:
                copy.write_row(row)
        cursor.execute("CREATE TEMP TABLE bench_days (account_id int, value_on date, debit_fen bigint, "
                       "credit_fen bigint) ON COMMIT DROP")
        with cursor.copy("COPY bench_days FROM STDIN") as copy:
            for (account_id, value_on), (debit, credit) in day_totals.items():
                copy.write_row((account_id, value_on, debit, credit))
        cursor.execute("INSERT INTO account_day_totals (account_id, value_on, debit_fen, credit_fen) "
                       "SELECT * FROM bench_days ON CONFLICT (account_id, value_on) DO UPDATE SET "
                       "debit_fen = account_day_totals.debit_fen + excluded.debit_fen, "
                       "credit_fen = account_day_totals.credit_fen + excluded.credit_fen")
        cursor.executemany("UPDATE accounts SET debit_total_fen = debit_total_fen + %s, "
                           "credit_total_fen = credit_total_fen + %s WHERE id = %s",
                           [(debit, credit, account_id) for account_id, (debit, credit) in account_change.items()])
        cursor.executemany("UPDATE funds SET balance_posted_fen = %s, chain_seq = %s, chain_head_hash = %s, "
                           "voucher_year = %s, voucher_seq = %s WHERE id = %s",
                           [(f["posted"], f["seq"], f["head"], f["vyear"], f["vseq"], fund_id)
                            for fund_id, f in state.items()])
        cursor.execute("SELECT setval(pg_get_serial_sequence('journal_entries', 'id'), %s)", (next_entry - 1,))
        cursor.execute("SELECT setval(pg_get_serial_sequence('postings', 'id'), %s)", (next_posting - 1,))
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    engine.dispose()
    print(f"    loaded with COPY in {time.time() - started:.1f} s")
    return len(posting_rows)


def time_fund_tree(url: str, as_of: date, repeat: int = 5) -> float:
    import ledger.models  # noqa: F401
    from ledger.funds import services

    engine = sa.create_engine(url)
    timings = []
    with Session(engine) as session:
        for _ in range(repeat):
            started = time.perf_counter()
            tree = services.fund_tree(session, None, as_of=as_of)
            timings.append(time.perf_counter() - started)
            session.rollback()
        print(f"    fund tree as of {as_of}: city roll-up {tree[0].total_posted_fen / 100:,.2f} CNY")
    engine.dispose()
    return statistics.median(timings)


def check_consistency(url: str) -> None:
    import ledger.models  # noqa: F401
    from ledger.funds import services
    from ledger.journal.balances import maintained_differences

    engine = sa.create_engine(url)
    with Session(engine) as session:
        started = time.perf_counter()
        result = services.verify_journal(session)
        print(f"    verify_journal: ok={result.ok}, {result.entry_count:,} entries, "
              f"{time.perf_counter() - started:.1f} s")
        if not result.ok:
            raise SystemExit(f"bulk journal does not verify: {result.problem}")
        problems = maintained_differences(session)
        if problems:
            raise SystemExit(f"maintained figures differ from the postings: {problems[:3]}")
        print("    maintained balances equal the recomputation from the postings")
    engine.dispose()


def time_bean_check(url: str, until: date) -> tuple[float, float]:
    import ledger.models  # noqa: F401
    from ledger.journal.export import export_beancount

    engine = sa.create_engine(url)
    directory = tempfile.mkdtemp(prefix="ledger-bench-")
    path = os.path.join(directory, "journal.beancount")
    try:
        started = time.perf_counter()
        with Session(engine) as session, open(path, "w", encoding="utf-8") as handle:
            export_beancount(session, handle, until=until)
        export_seconds = time.perf_counter() - started
        bean_check = shutil.which("bean-check") or str(Path(sys.executable).parent / "bean-check")
        started = time.perf_counter()
        completed = subprocess.run([bean_check, path], capture_output=True, text=True)
        check_seconds = time.perf_counter() - started
        if completed.returncode != 0:
            raise SystemExit(f"bean-check failed: {completed.stdout[:2000]}{completed.stderr[:2000]}")
        print(f"    export {export_seconds:.1f} s ({os.path.getsize(path) / 1e6:.0f} MB); bean-check passed "
              "(every balance assertion holds)")
        return export_seconds, check_seconds
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="per throughput run; 0 skips throughput")
    parser.add_argument("--postings", type=int, default=1_000_000, help="journal size for part 2; 0 skips it")
    args = parser.parse_args()

    name = f"ledger_bench_{os.getpid()}"
    print(f"preparing scratch database {name} (migrations + seed-demo) ...")
    url = create_ledger_database(name)
    try:
        if args.seconds > 0:
            print(f"\n1. throughput, {args.clients} clients, {args.seconds:.0f} s per run")
            spread = ledger_tps(url, args.clients, args.seconds, COUNTIES)
            print(f"   ledger disbursements, spread over 11 county funds: {spread:8.1f} tx/s")
            one = ledger_tps(url, args.clients, args.seconds, [ONE_FUND])
            print(f"   ledger disbursements, all on fund {ONE_FUND}:        {one:8.1f} tx/s")
            pg_spread = pgbench_tps(args.clients, args.seconds, 11)
            print(f"   pgbench tpcb-like, scale 11:                      {pg_spread:8.1f} tx/s")
            pg_one = pgbench_tps(args.clients, args.seconds, 1)
            print(f"   pgbench tpcb-like, scale 1:                       {pg_one:8.1f} tx/s")
            print(f"   ratio spread   ours/pgbench = {spread / pg_spread:.2f}  (target >= 0.5)")
            print(f"   ratio one fund ours/pgbench = {one / pg_one:.2f}  (target >= 0.3)")
        if args.postings > 0:
            print(f"\n2. balances at scale: growing the journal by {args.postings:,} postings")
            bulk_grow(url, args.postings)
            check_consistency(url)
            as_of = date(2026, 6, 30)
            ours = time_fund_tree(url, as_of)
            print(f"   fund tree (345 funds, roll-ups) as of {as_of}: {ours * 1000:.1f} ms (median of 5)")
            _, bean = time_bean_check(url, as_of)
            print(f"   bean-check over the export up to {as_of}: {bean:.1f} s")
            print(f"   ratio bean-check / ours = {bean / ours:,.0f}x  (target >= 20x)")
    finally:
        server_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
