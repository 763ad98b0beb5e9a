"""Export for independent audit: beancount reads our file without errors and agrees on every balance."""
from __future__ import annotations

import csv
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from beancount import loader
from beancount.core import data

from ledger.extensions import db
from ledger.funds import services
from ledger.funds.services import Payee
from ledger.journal.export import export_beancount
from ledger.timeutil import utcnow
from tests.journal.factories import CHENGXI, CITY, RENCHENG, YUTAI, ZHANG_ID, on


@pytest.fixture
def a_quarter(session, finance):
    """Three months of work across the tree, one reversal and one open hold."""
    zhang = Payee("person", "张秀英", ZHANG_ID)
    services.record_receipt(session, finance, CITY, 500_000_00, source="government", payer_name="济宁市财政局",
                            value_on=on(1, 5), memo='年度资金 "特别响应"')
    services.allocate(session, finance, CITY, YUTAI, 120_000_00, value_on=on(1, 10))
    services.allocate(session, finance, CITY, RENCHENG, 80_000_00, value_on=on(1, 10))
    services.allocate(session, finance, YUTAI, CHENGXI, 20_000_00, value_on=on(1, 12))
    services.disburse(session, finance, CHENGXI, 3_456_78, payee=zhang, purpose="medical_aid", value_on=on(2, 3))
    wrong = services.disburse(session, finance, RENCHENG, 1_000_00, payee=zhang, purpose="other", value_on=on(2, 4))
    services.reverse_entry(session, finance, wrong.voucher_no, reason="重复支付", value_on=on(2, 5))
    services.place_hold(session, finance, YUTAI, 5_000_00, expires_at=utcnow() + timedelta(days=3),
                        purpose="emergency_aid")
    services.record_receipt(session, finance, YUTAI, 888_88, source="donation", payer_name="匿名\\捐赠",
                            value_on=on(3, 15))
    session.commit()


def beancount_balances(path):
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    codes = {entry.account: entry.meta["code"] for entry in entries if isinstance(entry, data.Open)}
    totals = defaultdict(Decimal)
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for posting in entry.postings:
                totals[codes[posting.account]] += posting.units.number
    return totals, entries


def app_balances(session, as_of=None):
    """Every account with a non-zero balance (the trial balance also lists accounts that moved and came back)."""
    return {row.account_code: Decimal(row.balance_fen) / 100 for row in services.trial_balance(session, as_of=as_of)
            if row.balance_fen}


def test_beancount_agrees_with_every_balance(session, a_quarter, tmp_path):
    path = tmp_path / "journal.beancount"
    with open(path, "w", encoding="utf-8") as handle:
        count = export_beancount(session, handle)
    assert count == 8
    totals, entries = beancount_balances(path)
    expected = app_balances(session)
    assert {code: amount for code, amount in totals.items() if amount} == expected
    assertions = [entry for entry in entries if isinstance(entry, data.Balance)]
    assert len(assertions) == 6 * 7  # one per account of the six funds
    assert {entry.date for entry in assertions} == {on(3, 16)}


def test_beancount_export_until_a_date(session, a_quarter, tmp_path):
    path = tmp_path / "january.beancount"
    with open(path, "w", encoding="utf-8") as handle:
        count = export_beancount(session, handle, until=on(1, 31))
    assert count == 4
    totals, _ = beancount_balances(path)
    assert {code: amount for code, amount in totals.items() if amount} == app_balances(session, on(1, 31))


def test_cli_exports_csv_and_beancount_and_verifies(app, session, a_quarter, tmp_path):
    runner = app.test_cli_runner()
    csv_path = tmp_path / "journal.csv"
    result = runner.invoke(args=["journal", "export", "--format", "csv", "--until", "2026-02-28",
                                 "--output", str(csv_path)])
    assert result.exit_code == 0, result.output
    with open(csv_path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len({row["voucher_no"] for row in rows}) == 7
    # The person's resident ID is masked; an allocation names the receiving fund's code.
    assert {row["counterparty_id"] for row in rows} == {"", "3708**********4023", YUTAI, RENCHENG, CHENGXI}
    assert ZHANG_ID not in csv_path.read_text(encoding="utf-8")
    assert sum(Decimal(row["amount"]) for row in rows if row["side"] == "debit") == \
        sum(Decimal(row["amount"]) for row in rows if row["side"] == "credit")

    bean_path = tmp_path / "journal.beancount"
    result = runner.invoke(args=["journal", "export", "--format", "beancount", "--output", str(bean_path)])
    assert result.exit_code == 0, result.output
    assert loader.load_file(str(bean_path))[1] == []

    result = runner.invoke(args=["journal", "verify"])
    assert result.exit_code == 0 and result.output.startswith("ok: 8 entries in 4 chains")


def test_cli_verify_fails_loudly_on_a_broken_chain(app, session, a_quarter):
    import sqlalchemy as sa

    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        session.execute(sa.text("DROP TRIGGER postings_no_update"))
    session.execute(sa.text("UPDATE postings SET amount_fen = amount_fen + 1 WHERE id = 3"))
    session.commit()
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["journal", "verify"])
    assert result.exit_code == 1 and "was changed" in result.output
