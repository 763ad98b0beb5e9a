"""Backup and restore on PostgreSQL, as the README's "Backup and restore" section tells an operator:
`pg_dump -Fc` of the books, `pg_restore` into a freshly created database, then
`flask --app wsgi journal verify` on the restored copy (the real command, in a process of its own,
pointed at the copy by `DATABASE_URL`). The copy must verify, hold the same balances, holds and
chain heads as the original, and a row changed in the copy must make verify fail there.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.extensions import db
from ledger.funds import services
from ledger.funds.services import Payee
from ledger.journal.balances import maintained_differences
from ledger.journal.chain import verify_journal
from ledger.journal.models import Fund, JournalEntry, Posting
from ledger.timeutil import utcnow
from tests.journal.factories import CHENGXI, YUTAI, ZHANG_ID, add_user, build_tree, on

pytestmark = pytest.mark.postgres

REPOSITORY = Path(__file__).resolve().parent.parent
PG_DUMP = shutil.which("pg_dump") or "/usr/bin/pg_dump"
PG_RESTORE = shutil.which("pg_restore") or "/usr/bin/pg_restore"


def libpq_url(url: str) -> str:
    """The app's SQLAlchemy URL (`postgresql+psycopg://...`) as pg_dump / pg_restore / psql take it."""
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)


def flask_command(database_url: str, *arguments: str) -> subprocess.CompletedProcess:
    """`flask --app wsgi ...` as an operator runs it: production settings, the database named by
    DATABASE_URL (a plain `postgresql://` URL, as the README writes it)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LEDGER_")}
    env.update(LEDGER_ENV="production", DATABASE_URL=libpq_url(database_url),
               SECRET_KEY=secrets.token_hex(32))
    return run([sys.executable, "-m", "flask", "--app", "wsgi", *arguments], cwd=REPOSITORY, env=env)


def journal_verify(database_url: str) -> subprocess.CompletedProcess:
    return flask_command(database_url, "journal", "verify")


def books(engine) -> dict:
    """What a restore must carry over: every fund's posted balance, pending holds and chain head,
    the vouchers in each chain's order, and the verify result."""
    with Session(engine) as session:
        funds = {row.code: (row.balance_posted_fen, row.pending_fen, row.chain_seq, row.chain_head_hash)
                 for row in session.execute(sa.select(Fund.code, Fund.balance_posted_fen, Fund.pending_fen,
                                                      Fund.chain_seq, Fund.chain_head_hash))}
        vouchers = session.scalars(sa.select(JournalEntry.voucher_no).order_by(JournalEntry.id)).all()
        result = verify_journal(session)
        differences = maintained_differences(session)
        revision = session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    return {"funds": funds, "vouchers": vouchers, "verify": result, "differences": differences,
            "revision": revision}


@pytest.fixture
def posted_books(app, session):
    """Yutai and 城西村 with a donation, an allocation, two payments and a pending hold."""
    build_tree(session)
    finance = add_user(session, "wang_kuaiji", "finance")
    zhang = Payee("person", "张秀英", ZHANG_ID)
    services.record_receipt(session, finance, YUTAI, 9_000_00, source="donation", payer_name="济宁爱心企业",
                            value_on=on(3, 5))
    services.allocate(session, finance, YUTAI, CHENGXI, 2_000_00, value_on=on(3, 6))
    services.disburse(session, finance, YUTAI, 1_000_00, payee=zhang, purpose="medical_aid", value_on=on(3, 7))
    services.disburse(session, finance, CHENGXI, 500_00, payee=zhang, purpose="temporary_assistance",
                      value_on=on(3, 8), memo="临时救助")
    services.place_hold(session, finance, YUTAI, 700_00, expires_at=utcnow() + timedelta(days=3),
                        purpose="medical_aid", payee=zhang)
    session.commit()
    return app.config["SQLALCHEMY_DATABASE_URI"]


def test_a_dump_restored_into_a_fresh_database_verifies_and_a_changed_row_is_named(
        app, posted_books, blank_database_url, tmp_path):
    source_url, restored_url = posted_books, blank_database_url
    with app.app_context():
        original = books(db.engine)
    assert original["verify"].ok and original["differences"] == []
    assert original["verify"].entry_count == 4 and original["funds"][YUTAI][:2] == (6_000_00, 700_00)

    # The backup: PostgreSQL's custom format, the books and nothing else.
    dump = tmp_path / "ledger.dump"
    dumped = run([PG_DUMP, "-Fc", "--no-owner", "--file", str(dump), "--dbname", libpq_url(source_url)])
    assert dumped.returncode == 0, dumped.stderr
    assert dump.stat().st_size > 0

    # The restore, into a database created empty for it; any error stops it.
    restored = run([PG_RESTORE, "--no-owner", "--exit-on-error", "--dbname", libpq_url(restored_url), str(dump)])
    assert restored.returncode == 0, restored.stderr

    # The operator's checks on the restored copy: the schema is at the latest migration...
    current = flask_command(restored_url, "db", "current")
    assert current.returncode == 0, current.stderr
    assert current.stdout.split() == [original["revision"], "(head)"], current.stdout

    # ...and verify says ok, as many entries and chains, the same digest.
    verified = journal_verify(restored_url)
    assert verified.returncode == 0, verified.stderr
    result = original["verify"]
    assert verified.stdout.strip() == (f"ok: {result.entry_count} entries in {result.chain_count} chains; "
                                       f"digest {result.digest}")

    # Balances, holds, chain heads and vouchers are those of the original.
    copy_engine = sa.create_engine(restored_url, poolclass=sa.pool.NullPool)
    try:
        copy = books(copy_engine)
        assert copy["funds"] == original["funds"]
        assert copy["vouchers"] == original["vouchers"]
        assert copy["revision"] == original["revision"] is not None  # `flask db current` agrees
        assert copy["verify"].heads == result.heads and copy["differences"] == []

        # Someone changes one posting's amount in the copy (with the guard triggers switched off, as only a
        # database superuser can): verify names that voucher and exits non-zero.
        allocation = original["vouchers"][1]
        with copy_engine.begin() as connection:
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
            posting_id = connection.scalar(sa.select(sa.func.min(Posting.id)).join(JournalEntry)
                                           .where(JournalEntry.voucher_no == allocation))
            changed = connection.execute(sa.update(Posting).where(Posting.id == posting_id)
                                         .values(amount_fen=2_100_00))
            assert changed.rowcount == 1
    finally:
        copy_engine.dispose()
    tampered = journal_verify(restored_url)
    assert tampered.returncode == 1
    assert tampered.stdout == ""
    assert tampered.stderr.strip() == (f"FAILED: entry {allocation} was changed "
                                       f"(its content no longer matches its hash)")

    # The original was not touched by any of this.
    again = journal_verify(source_url)
    assert again.returncode == 0 and again.stdout.strip().endswith(f"digest {result.digest}"), again.stderr
