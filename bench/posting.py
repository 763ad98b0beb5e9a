"""Posting throughput on PostgreSQL, batch and single, and balance-query speed, against references
measured in the same run.

Usage (PostgreSQL must answer at $LEDGER_BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres; pgbench must be on $PATH or at /usr/bin/pgbench;
the repository must be a git checkout, for the engine before the change):

    .venv/bin/python bench/posting.py                      # 8 clients, 10 s per run, batch of 32,000, 1M postings
    .venv/bin/python bench/posting.py --clients 4 --seconds 20 --one-fund
    .venv/bin/python bench/posting.py --postings 0         # single postings and the batch only
    .venv/bin/python bench/posting.py --seconds 0 --batch 0  # balances vs bean-check only
    .venv/bin/python bench/posting.py --old-engine none    # without the engine before the change

What it measures:

1. Single postings (the floor). N client processes each loop `ledger.funds.services.disburse(...)`
   + commit for a fixed time, spread over the 11 county funds. In the same run:
   * the engine before the change (`--old-engine`, by default the parent of the commit that added
     migration 0006, where PostgreSQL posted through the PL/pgSQL function `journal_post_entry`):
     a git worktree of that commit, its own scratch database built by ITS migrations and demo
     seed, and the same client loop run with ITS `ledger` package (each client is this script
     started as a subprocess with that worktree first on sys.path). Printed: new / old, the
     measured cost of having one engine in Python;
   * `pgbench -b tpcb-like` (BEGIN; three UPDATEs, a SELECT, an INSERT; COMMIT: the bank-transfer
     shape of work) with the same client count at scale 11 (spread over 11 branches).
   Target: ours / pgbench >= 0.12 (issue 8; the city's real load is a few postings a second).
   With `--one-fund` the three are also run all on one county fund / at scale 1 (no target).
2. One batch. 32,000 disbursements (`--batch`) over the 11 county funds, funded first by one
   receipt each, drafted by `services.disbursement_draft` and posted as ONE batch by
   `ledger.journal.posting.post_entries`, timed from the call to the end of the commit. The
   reference is `COPY` of the same rows (the entry rows and the posting rows just written, every
   column) into bare tables of the same columns (no indexes, constraints or triggers), in one
   transaction, in the same database. Printed: rows/s of both (entries + postings) and
   ours / COPY. Target: >= 0.3. Also printed: where our time goes (Python before the first write,
   the statements, each COPY, the figures, the deferred balance checks
   of migration 0002 -- run by `SET CONSTRAINTS ALL IMMEDIATE` just before the commit so that
   they are timed apart -- and the commit itself).
3. Balances at scale. The journal is grown to 1M postings with a bulk path (COPY) that
   computes the same hash chains (content version 2) and maintained figures as the posting
   engine (checked afterwards by `verify_journal` and a recomputation from the postings). Then
   the fund tree's balances as of a date (`services.fund_tree(as_of=...)`) are timed next to
   `bean-check` over the beancount export of the same journal. Target: ours >= 20x faster.

`--seconds 0`, `--batch 0` and `--postings 0` skip parts 1, 2 and 3. Everything happens in
scratch databases and a temporary worktree that are removed at the end, also on error.
"""
from __future__ import annotations

import argparse
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

import sqlalchemy as sa
from sqlalchemy.orm import Session

REPO = Path(__file__).resolve().parent.parent
SERVER_URL = os.environ.get("LEDGER_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
COUNTIES = ["370811", "370812", "370881", "370883", "370826", "370827", "370828", "370829", "370830", "370831",
            "370832"]
ONE_FUND = "370811"
VALUE_ON = date(2026, 11, 30)
PAYEE = ("person", "张秀英", "370827198603124023")
#: The migration that replaced the PL/pgSQL posting function by the Python engine; the engine
#: before the change is the parent of the commit that added it.
ENGINE_CHANGE_MIGRATION = "migrations/versions/0006_one_posting_engine.py"


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


def drop_database(name: str) -> None:
    server_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_ledger_database(name: str, tree: Path = REPO) -> str:
    """A scratch database made by the migrations and demo seed of the code in `tree` (run in a
    subprocess that imports that tree's `ledger` package)."""
    drop_database(name)
    server_execute(f'CREATE DATABASE "{name}"')
    url = psycopg_url(SERVER_URL, name)
    started = time.time()
    completed = subprocess.run([sys.executable, str(Path(__file__).resolve()), "build", str(tree), url], cwd=tree,
                               capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"building {name} failed:\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}")
    print(f"    built {name} in {time.time() - started:.1f} s")
    return url


def _build_in_tree(url: str) -> None:
    """Worker: migrate and seed `url` with the `ledger` package first on sys.path."""
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


# --- the engine before the change: a worktree of its commit ---------------------------------------------

def engine_change_parent() -> str:
    """The commit before the one that added migration 0006 (the Python posting engine)."""
    added = subprocess.run(["git", "-C", str(REPO), "log", "--format=%H", "--diff-filter=A", "--",
                            ENGINE_CHANGE_MIGRATION], check=True, capture_output=True, text=True).stdout.split()
    if not added:
        raise SystemExit(f"no commit adds {ENGINE_CHANGE_MIGRATION}: pass --old-engine COMMIT")
    return added[-1] + "^"


def add_worktree(commit: str) -> Path:
    resolved = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", f"{commit}^{{commit}}"],
                              check=True, capture_output=True, text=True).stdout.strip()
    path = Path(tempfile.mkdtemp(prefix="ledger-bench-old-engine-"))
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), resolved], check=True,
                   capture_output=True)
    print(f"    worktree of {resolved[:10]} (the engine before the change) at {path}")
    return path


def remove_worktree(path: Path) -> None:
    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)], capture_output=True)
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["git", "-C", str(REPO), "worktree", "prune"], capture_output=True)


# --- 1. single postings -------------------------------------------------------------------------------

def _client_in_tree(url: str, codes: list[str], index: int) -> None:
    """Worker: one client of the throughput run, using the `ledger` package first on sys.path.

    Connects, posts one disbursement to warm up (not counted), says "ready" on stdout, reads the
    start time from stdin, loops disburse + commit until start + seconds, then prints
    "<done> <refused>". The same code runs against the engine before the change and the new one."""
    import ledger.models  # noqa: F401  (every table on the metadata)
    from ledger.auth.models import User
    from ledger.errors import LedgerError
    from ledger.funds import services
    from ledger.funds.services import Payee

    engine = sa.create_engine(url, pool_size=1)
    session = Session(engine)
    user = session.scalar(sa.select(User).where(User.username == "finance"))
    payee = Payee(*PAYEE)
    rng = random.Random(index)
    services.disburse(session, user, codes[index % len(codes)], 1, payee=payee, purpose="emergency_aid",
                      value_on=VALUE_ON)
    session.commit()
    print("ready", flush=True)
    start_at, seconds = (float(value) for value in sys.stdin.readline().split())
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = start_at + seconds
    done = refused = 0
    while time.time() < deadline:
        code = codes[rng.randrange(len(codes))]
        try:
            services.disburse(session, user, code, 1, payee=payee, purpose="emergency_aid", value_on=VALUE_ON)
            session.commit()
            done += 1
        except LedgerError:
            session.rollback()
            refused += 1
    session.close()
    engine.dispose()
    print(done, refused, flush=True)


def ledger_tps(url: str, clients: int, seconds: float, codes: list[str], tree: Path = REPO) -> float:
    """Disbursements per second of `clients` client processes running the code in `tree`."""
    processes = [subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "client", str(tree), url,
                                   ",".join(codes), str(index)], cwd=tree, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True) for index in range(clients)]
    try:
        for process in processes:  # every client connected and warmed up before the clock starts
            if process.stdout.readline().strip() != "ready":
                raise SystemExit(f"a client of {tree} failed to start")
        start_at = time.time() + 0.2
        for process in processes:
            process.stdin.write(f"{start_at} {seconds}\n")
            process.stdin.close()
        totals = [tuple(int(value) for value in process.stdout.readline().split()) for process in processes]
        for process in processes:
            process.wait()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    if any(len(total) != 2 for total in totals):
        raise SystemExit(f"a client of {tree} failed")
    refused = sum(r for _, r in totals)
    if refused:
        print(f"    ({refused} refused)")
    return sum(d for d, _ in totals) / seconds


def pgbench_tps(clients: int, seconds: float, scale: int) -> float:
    pgbench = shutil.which("pgbench") or "/usr/bin/pgbench"
    name = f"ledger_bench_pgbench_{os.getpid()}"
    drop_database(name)
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
                                 "-T", str(max(1, round(seconds))), *connection, name], check=True, env=env,
                                capture_output=True, text=True).stdout
    finally:
        drop_database(name)
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    return float(match.group(1))


def single_postings(url: str, old_url: str | None, old_tree: Path | None, clients: int, seconds: float,
                    one_fund: bool) -> None:
    print(f"\n1. single postings: disburse + commit, {clients} clients, {seconds:g} s per run")
    new = ledger_tps(url, clients, seconds, COUNTIES)
    print(f"   new engine, spread over 11 county funds:        {new:8.1f} tx/s")
    old = None
    if old_url:
        old = ledger_tps(old_url, clients, seconds, COUNTIES, old_tree)
        print(f"   engine before the change, same loop:            {old:8.1f} tx/s")
    pg = pgbench_tps(clients, seconds, 11)
    print(f"   pgbench tpcb-like, scale 11:                    {pg:8.1f} tx/s")
    print(f"   floor  new / pgbench = {new / pg:.3f}  (target >= 0.12)")
    if old:
        print(f"          old / pgbench = {old / pg:.3f}")
        print(f"   cost   new / old     = {new / old:.2f}")
    if one_fund:
        new_one = ledger_tps(url, clients, seconds, [ONE_FUND])
        print(f"   new engine, all on fund {ONE_FUND}:                {new_one:8.1f} tx/s")
        old_one = None
        if old_url:
            old_one = ledger_tps(old_url, clients, seconds, [ONE_FUND], old_tree)
            print(f"   engine before the change, all on fund {ONE_FUND}:  {old_one:8.1f} tx/s")
        pg_one = pgbench_tps(clients, seconds, 1)
        print(f"   pgbench tpcb-like, scale 1:                     {pg_one:8.1f} tx/s")
        print(f"   one fund  new / pgbench = {new_one / pg_one:.3f}" +
              (f", old / pgbench = {old_one / pg_one:.3f}, new / old = {new_one / old_one:.2f}" if old_one else "")
              + "  (no target)")


# --- 2. one batch -------------------------------------------------------------------------------------

class StatementClock:
    """Records (start, seconds, first words) of every statement the engine runs, and of each COPY
    made by the posting engine (`posting._copy_rows`, wrapped for the run), keeping the COPY's rows."""

    def __init__(self, engine):
        from ledger.journal import posting

        self.engine, self.posting = engine, posting
        self.statements: list[tuple[float, float, str]] = []
        self.copies: list[tuple[float, float, str, list[dict]]] = []
        self._original_copy = posting._copy_rows

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        sa.event.listen(self.engine, "after_cursor_execute", self._after)

        def timed_copy(session, table, rows):
            started = time.perf_counter()
            self._original_copy(session, table, rows)
            self.copies.append((started, time.perf_counter() - started, table.name, rows))

        self.posting._copy_rows = timed_copy
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)
        self.posting._copy_rows = self._original_copy

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        started = conn.info.pop("bench_started")
        words = " ".join(statement.split()[:3])
        self.statements.append((started, time.perf_counter() - started, words))

    def between(self, start: float, end: float) -> tuple[float, int]:
        inside = [seconds for started, seconds, _ in self.statements if start <= started < end]
        return sum(inside), len(inside)


def copy_reference(url: str, entry_ids: list[int], *, indexed: bool = False) -> tuple[float, int]:
    """COPY of the rows just posted (every column of the entries and their postings, read back
    first) into bare tables of the same columns, one transaction, committed. Returns (seconds, rows).

    `indexed`: the tables also get the journal tables' indexes (still no triggers, constraints or
    foreign keys), to tell the indexes' share of the cost from the checks'."""
    import psycopg

    conninfo = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    shape = "(LIKE {} INCLUDING INDEXES)" if indexed else "AS SELECT * FROM {} WITH NO DATA"
    with psycopg.connect(conninfo) as connection:
        low, high = min(entry_ids), max(entry_ids)
        entry_rows = connection.execute("SELECT * FROM journal_entries WHERE id BETWEEN %s AND %s ORDER BY id",
                                        (low, high)).fetchall()
        posting_rows = connection.execute("SELECT * FROM postings WHERE entry_id BETWEEN %s AND %s ORDER BY id",
                                          (low, high)).fetchall()
        connection.execute("DROP TABLE IF EXISTS bench_bare_entries, bench_bare_postings")
        connection.execute(f"CREATE TABLE bench_bare_entries {shape.format('journal_entries')}")
        connection.execute(f"CREATE TABLE bench_bare_postings {shape.format('postings')}")
        connection.commit()
        try:
            started = time.perf_counter()
            with connection.cursor() as cursor:
                with cursor.copy("COPY bench_bare_entries FROM STDIN") as copy:
                    for row in entry_rows:
                        copy.write_row(row)
                with cursor.copy("COPY bench_bare_postings FROM STDIN") as copy:
                    for row in posting_rows:
                        copy.write_row(row)
            connection.commit()
            seconds = time.perf_counter() - started
        finally:
            connection.rollback()
            connection.execute("DROP TABLE IF EXISTS bench_bare_entries, bench_bare_postings")
            connection.commit()
    return seconds, len(entry_rows) + len(posting_rows)


def batch_figure(url: str, size: int) -> None:
    import ledger.models  # noqa: F401
    from ledger.auth.access import as_actor, require
    from ledger.auth.models import User
    from ledger.funds import services
    from ledger.funds.services import Payee
    from ledger.journal.posting import post_entries

    print(f"\n2. one batch: {size:,} disbursements over the 11 county funds through post_entries")
    engine = sa.create_engine(url)
    try:
        with Session(engine) as session:
            user = session.scalar(sa.select(User).where(User.username == "finance"))
            rng = random.Random(32)
            payments = [(COUNTIES[index % len(COUNTIES)], rng.randint(1_00, 50_00)) for index in range(size)]
            needed = defaultdict(int)
            for code, amount in payments:
                needed[code] += amount
            for code, amount in sorted(needed.items()):
                services.record_receipt(session, user, code, amount, source="donation", payer_name="爱心人士",
                                        value_on=VALUE_ON, memo="payment run funding", confirm_large_amount=True)
            session.commit()

            started = time.perf_counter()
            actor = require(as_actor(user), "funds.write")
            payee = Payee(*PAYEE)
            drafts = [services.disbursement_draft(actor, code, amount, payee=payee, purpose="emergency_aid",
                                                  value_on=VALUE_ON, source_kind="bench_payment_run",
                                                  source_id=index)
                      for index, (code, amount) in enumerate(payments)]
            drafting = time.perf_counter() - started

            with StatementClock(engine) as clock:
                called = time.perf_counter()
                posted = post_entries(session, drafts)
                returned = time.perf_counter()
                session.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))  # the deferred balance checks, here
                checked = time.perf_counter()
                session.commit()
                committed = time.perf_counter()
    finally:
        engine.dispose()

    ours = committed - called
    entries = len(posted)
    postings = sum(len(draft.lines) for draft in drafts)
    rows = entries + postings
    reference, reference_rows = copy_reference(url, [entry.id for entry in posted])
    if reference_rows != rows:
        raise SystemExit(f"COPY reference read back {reference_rows} rows, the batch wrote {rows}")
    print(f"   ours: {entries:,} entries + {postings:,} postings in {ours:.2f} s = {rows / ours:10,.0f} rows/s")
    print(f"   COPY of the same rows into bare tables: {reference:.2f} s = {rows / reference:10,.0f} rows/s")
    print(f"   ratio ours / COPY = {reference / ours:.3f}  (target >= 0.3)")
    indexed, _ = copy_reference(url, [entry.id for entry in posted], indexed=True)
    print(f"   COPY into tables with the journal's indexes (no triggers or foreign keys): "
          f"{indexed:.2f} s = {rows / indexed:,.0f} rows/s, itself {reference / indexed:.2f} of the bare rate")
    print(f"   ratio ours / indexed COPY = {indexed / ours:.3f}  (what the checks and the engine cost beyond "
          "the indexes every journal needs)")

    # Where the time goes, from the call to the end of the commit.
    first_copy = min(started for started, _, _, _ in clock.copies) if clock.copies else returned
    copies_end = max(started + seconds for started, seconds, _, _ in clock.copies) if clock.copies else returned
    sql_before, count_before = clock.between(called, first_copy)
    sql_after, count_after = clock.between(copies_end, returned)
    lines = [("Python before the first write: validate, check, number, hash",
              first_copy - called - sql_before),
             (f"statements before the first write ({count_before}: month and fund locks, ids)", sql_before)]
    for started, seconds, table, copied in clock.copies:
        check = " and the statement's balance check" if table == "postings" else ""
        lines.append((f"COPY {table} ({len(copied):,} rows{check})", seconds))
    between_copies = copies_end - first_copy - sum(seconds for _, seconds, _, _ in clock.copies)
    if between_copies > 0.005:
        lines.append(("between the COPYs", between_copies))
    lines += [(f"figures: accounts, day totals, funds ({count_after} statements + Python)", returned - copies_end),
              (f"deferred balance checks ({entries:,}, one per entry; SET CONSTRAINTS ALL IMMEDIATE)",
               checked - returned),
              ("COMMIT", committed - checked)]
    print(f"   where our {ours:.2f} s go (drafting the {size:,} drafts before the call: {drafting:.2f} s, not "
          "counted):")
    for label, seconds in lines:
        print(f"     {seconds:6.2f} s  {100 * seconds / ours:4.0f}%  {label}")


# --- 3. a journal of 1M postings ------------------------------------------------------------------------

def bulk_grow(url: str, postings: int, seed: int = 7) -> int:
    """Append about `postings` postings (two per entry: receipts and payments on every fund) with COPY.

    The rows are exactly what the posting engine would write: each fund's chain and
    voucher numbers continue from the fund's row, each entry is hashed with the engine's
    canonical content (the current content version, with no source record) and carries that
    version, and funds, accounts and day totals are updated by the same sums.
    """
    import ledger.models  # noqa: F401
    from ledger.journal.accounts import account_code
    from ledger.journal.chain import CONTENT_VERSION, canonical_content, entry_hash
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
                party = PAYEE
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
                          reversal_reason=None, hold_id=None, source_kind=None, source_id=None)
            content = canonical_content(chain_fund_code=fund["code"], chain_seq=fund["seq"],
                                        postings=[(code, side, amt) for (_, code), side, amt in lines],
                                        version=CONTENT_VERSION, **values)
            digest = entry_hash(fund["head"], content)
            entry_rows.append((next_entry, voucher_no, kind, value_on, posted_at, memo, values["purpose"], party[0],
                               party[1], party[2], finance_id, fund_id, fund["seq"], fund["head"], digest,
                               CONTENT_VERSION))
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
                         "chain_fund_id, chain_seq, prev_hash, entry_hash, content_version) "
                         "FROM STDIN") as copy:
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


def balances_at_scale(url: str, postings: int) -> None:
    print(f"\n3. balances at scale: growing the journal by {postings:,} postings")
    bulk_grow(url, postings)
    check_consistency(url)
    as_of = date(2026, 6, 30)
    ours = time_fund_tree(url, as_of)
    print(f"   fund tree (345 funds, roll-ups) as of {as_of}: {ours * 1000:.1f} ms (median of 5)")
    _, bean = time_bean_check(url, as_of)
    print(f"   bean-check over the export up to {as_of}: {bean:.1f} s")
    print(f"   ratio bean-check / ours = {bean / ours:,.0f}x  (target >= 20x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="client processes of part 1 (and pgbench's -c)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per throughput run; 0 skips part 1")
    parser.add_argument("--one-fund", action="store_true",
                        help="part 1 also with every client on one county fund, and pgbench at scale 1")
    parser.add_argument("--old-engine", default="auto",
                        help="commit of the engine before the change (auto: the parent of the commit that "
                             "added migration 0006; none: skip it)")
    parser.add_argument("--batch", type=int, default=32_000, help="disbursements in the batch of part 2; 0 skips it")
    parser.add_argument("--postings", type=int, default=1_000_000, help="journal size for part 3; 0 skips it")
    args = parser.parse_args()

    name = f"ledger_bench_{os.getpid()}"
    old_name = f"ledger_bench_old_{os.getpid()}"
    old_tree = old_url = None
    print(f"preparing scratch database {name} (migrations + seed-demo) ...")
    try:
        url = create_ledger_database(name)
        if args.seconds > 0 and args.old_engine != "none":
            commit = engine_change_parent() if args.old_engine == "auto" else args.old_engine
            old_tree = add_worktree(commit)
            print(f"preparing scratch database {old_name} with that commit's migrations + seed-demo ...")
            old_url = create_ledger_database(old_name, old_tree)
        if args.seconds > 0:
            single_postings(url, old_url, old_tree, args.clients, args.seconds, args.one_fund)
        if old_tree is not None:  # not needed any more: free the database and the worktree early
            drop_database(old_name)
            remove_worktree(old_tree)
            old_tree = None
        if args.batch > 0:
            batch_figure(url, args.batch)
        if args.postings > 0:
            balances_at_scale(url, args.postings)
    finally:
        drop_database(name)
        drop_database(old_name)
        if old_tree is not None:
            remove_worktree(old_tree)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] in ("build", "client"):
        # A worker run with the `ledger` package of the tree given (this one or the worktree of the
        # engine before the change), so that tree's code is imported and no other.
        sys.path.insert(0, sys.argv[2])
        if sys.argv[1] == "build":
            _build_in_tree(sys.argv[3])
        else:
            _client_in_tree(sys.argv[3], sys.argv[4].split(","), int(sys.argv[5]))
    else:
        sys.path.insert(0, str(REPO))
        main()
