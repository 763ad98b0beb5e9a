"""The posting engine's two halves agree: on PostgreSQL an entry is locked, checked, numbered,
hashed and written by the database function `journal_post_entry`, and `verify_journal`
(Python) recomputes its hash; the scope check that rides in the same statement follows the
same rule as the fund listing. The same stories run on SQLite, where the engine is Python."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.auth.models import OrganisationKind
from ledger.errors import NotFound
from ledger.funds import services
from ledger.funds.services import Payee
from ledger.journal.errors import InsufficientFunds
from ledger.journal.models import JournalEntry
from tests.journal.factories import CHENGXI, CITY, JIYANG, RENCHENG, YUTAI, ZHANG_ID, add_user, on

#: Any text a person could type, control characters, quotes, backslashes and CJK included
#: (PostgreSQL text holds no NUL character; surrogates are not text).
TYPED = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


def _tamper(session, voucher_no: str) -> None:
    """Change a memo by raw SQL past the append-only guards, as someone with database access could."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        session.execute(sa.text("DROP TRIGGER IF EXISTS journal_entries_no_update"))
    session.execute(sa.update(JournalEntry).where(JournalEntry.voucher_no == voucher_no).values(memo="改过"))
    session.commit()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(memo=TYPED, payer=TYPED.filter(str.strip), reason=TYPED.filter(str.strip), key=TYPED)
def test_whatever_is_typed_the_journal_verifies(session, finance, memo, payer, reason, key):
    """A receipt and its reversal with odd text in every free field: the hash the engine wrote is
    the hash verify recomputes."""
    receipt = services.record_receipt(session, finance, YUTAI, 123_45, source="donation", payer_name=payer,
                                      value_on=on(3, 2), memo=memo, idempotency_key=key or None)
    reversal = services.reverse_entry(session, finance, receipt.voucher_no, reason=reason, value_on=on(3, 3))
    session.commit()
    assert (receipt.memo, receipt.counterparty_name) == (memo, payer.strip())
    result = services.verify_journal(session)
    assert result.ok, result.problem
    assert result.heads[YUTAI] == reversal.entry_hash


def test_an_entry_written_by_the_engine_is_still_caught_when_changed(session, finance):
    receipt = services.record_receipt(session, finance, YUTAI, 500_00, source="donation", payer_name="捐赠人\n\"甲\"",
                                      value_on=on(3, 2), memo="备注\t\\ \u2028 😀")
    services.disburse(session, finance, YUTAI, 100_00, payee=Payee("person", "张秀英", ZHANG_ID),
                      purpose="medical_aid", value_on=on(3, 3))
    session.commit()
    assert services.verify_journal(session).ok
    _tamper(session, receipt.voucher_no)
    result = services.verify_journal(session)
    assert (result.ok, result.voucher_no) == (False, receipt.voucher_no)
    assert "changed" in result.problem


def test_an_entry_dated_in_an_earlier_year_continues_that_years_numbers(session, finance):
    first = services.record_receipt(session, finance, YUTAI, 100_00, source="donation", payer_name="甲",
                                    value_on=on(12, 30))
    next_year = services.record_receipt(session, finance, YUTAI, 100_00, source="donation", payer_name="乙",
                                        value_on=date(2027, 1, 4))
    late = services.record_receipt(session, finance, YUTAI, 100_00, source="donation", payer_name="丙",
                                   value_on=on(12, 31))
    again = services.record_receipt(session, finance, YUTAI, 100_00, source="donation", payer_name="丁",
                                    value_on=date(2027, 1, 5))
    session.commit()
    assert [first.voucher_no, next_year.voucher_no, late.voucher_no, again.voucher_no] == [
        "JZ-2026-370827-000001", "JZ-2027-370827-000001", "JZ-2026-370827-000002", "JZ-2027-370827-000002"]
    assert services.verify_journal(session).ok


def test_a_refused_payment_leaves_the_transaction_usable(session, finance):
    """A refusal is an answer, not a broken transaction: the next operation in it still works."""
    services.record_receipt(session, finance, YUTAI, 100_00, source="donation", payer_name="甲",
                            value_on=on(5, 6))
    with pytest.raises(InsufficientFunds) as refused:
        services.disburse(session, finance, YUTAI, 100_01, payee=Payee("person", "张秀英", ZHANG_ID),
                          purpose="medical_aid", value_on=on(5, 6))
    assert refused.value.details == {"fund_code": YUTAI, "available_fen": 100_00}
    assert refused.value.message == "fund 370827 has 100.00 available; this needs 100.01"
    paid = services.disburse(session, finance, YUTAI, 100_00, payee=Payee("person", "张秀英", ZHANG_ID),
                             purpose="medical_aid", value_on=on(5, 6))
    session.commit()
    assert paid.voucher_no == "JZ-2026-370827-000002"
    assert services.fund_balance(session, finance, YUTAI).available_fen == 0


def test_who_may_move_money_in_which_fund(session, tree, finance):
    """Receipts and payments are refused as "not found" exactly where the fund listing hides the fund."""
    people = {
        "city finance": finance,
        "Yutai finance": add_user(session, "yutai_kuaiji", "finance", org_code="MZJ-370827",
                                  kind=OrganisationKind.county_bureau, region_code=YUTAI),
        "Chengxi finance": add_user(session, "chengxi_kuaiji", "finance", org_code="CUN-370827-001",
                                    kind=OrganisationKind.county_bureau, region_code=CHENGXI),
        "Yutai charity": add_user(session, "yutai_cishan", "charity", org_code="CSH-370827",
                                  kind=OrganisationKind.charity, region_code=YUTAI),
        "admin": add_user(session, "admin_zhao", "admin", org_code="MZJ-370827",
                          kind=OrganisationKind.county_bureau, region_code=YUTAI),
        "auditor": add_user(session, "shenji", "auditor", org_code="MZJ-370827",
                            kind=OrganisationKind.county_bureau, region_code=YUTAI),
    }
    expected = {
        "city finance": {CITY, YUTAI, CHENGXI, RENCHENG, JIYANG},
        "Yutai finance": {YUTAI, CHENGXI},
        "Chengxi finance": {YUTAI, CHENGXI},  # a village office acts for its county
        "Yutai charity": set(),
        "admin": {CITY, YUTAI, CHENGXI, RENCHENG, JIYANG},
        "auditor": {CITY, YUTAI, CHENGXI, RENCHENG, JIYANG},
    }
    for who, user in people.items():
        for code in (CITY, YUTAI, CHENGXI, RENCHENG, JIYANG, "370899"):
            entries_before = session.scalar(sa.select(sa.func.count()).select_from(JournalEntry))
            try:
                services.record_receipt(session, user, code, 10_00, source="donation", payer_name="甲",
                                        value_on=on(6, 1))
                services.disburse(session, user, code, 10_00, payee=Payee("person", "张秀英", ZHANG_ID),
                                  purpose="medical_aid", value_on=on(6, 1))
                moved = True
            except NotFound as error:
                assert error.message == f"no fund {code}"
                moved = False
            assert moved == (code in expected[who]), (who, code)
            entries_after = session.scalar(sa.select(sa.func.count()).select_from(JournalEntry))
            assert entries_after - entries_before == (2 if moved else 0)
            session.commit()
    assert services.verify_journal(session).ok


@pytest.mark.postgres
def test_database_errors_of_the_fast_path_are_sqlalchemy_errors(session, finance):
    """Statements sent straight to the driver fail the way `session.execute` does, so retries and
    error pages treat them alike."""
    from ledger.journal.posting import driver_fetch

    insert = "INSERT INTO periods (month, closed) VALUES (%s, false) RETURNING id"
    driver_fetch(session, insert, ("2030-01",), one=True)
    with pytest.raises(sa.exc.IntegrityError) as failed:
        driver_fetch(session, insert, ("2030-01",), one=True)
    assert failed.value.orig.sqlstate == "23505"
    session.rollback()
    assert services.record_receipt(session, finance, YUTAI, 1_00, source="donation", payer_name="甲",
                                   value_on=on(1, 2)).voucher_no == "JZ-2026-370827-000001"
