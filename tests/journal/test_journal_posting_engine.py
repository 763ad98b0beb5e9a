"""The posting engine: one Python engine on both databases, batch-native.

What it writes, `verify_journal` recomputes; a batch is all or nothing; the same drafts give
the same vouchers, hashes, refusals and figures on PostgreSQL and SQLite; and money moves
only for those whose role may move it, in the funds they may see."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlalchemy.orm import Session

from ledger.auth.models import OrganisationKind
from ledger.errors import Forbidden, LedgerError, NotFound
from ledger.funds import services
from ledger.funds.services import Payee
from ledger.journal.balances import maintained_differences
from ledger.journal.errors import InsufficientFunds
from ledger.journal.models import Account, AccountDayTotal, AccountRole, EntryKind, Fund, JournalEntry, Side
from ledger.journal.posting import EntryDraft, Line, post_entries
from tests.journal.factories import (CHENGXI, CITY, DONGGUAN, JIYANG, RENCHENG, YUTAI, ZHANG_ID, add_user,
                                     build_tree, on)

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


@pytest.mark.app_config(LEDGER_BOOKS_OPEN_ON="2025-01-01")
def test_an_entry_dated_in_an_earlier_year_continues_that_years_numbers(session, finance):
    first = services.record_receipt(session, finance, YUTAI, 100_00, source="donation", payer_name="甲",
                                    value_on=date(2025, 12, 30))
    next_year = services.record_receipt(session, finance, YUTAI, 100_00, source="donation", payer_name="乙",
                                        value_on=date(2026, 1, 4))
    late = services.record_receipt(session, finance, YUTAI, 100_00, source="donation", payer_name="丙",
                                   value_on=date(2025, 12, 31))
    again = services.record_receipt(session, finance, YUTAI, 100_00, source="donation", payer_name="丁",
                                    value_on=date(2026, 1, 5))
    session.commit()
    assert [first.voucher_no, next_year.voucher_no, late.voucher_no, again.voucher_no] == [
        "JZ-2025-370827-000001", "JZ-2026-370827-000001", "JZ-2025-370827-000002", "JZ-2026-370827-000002"]
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
    """Only finance staff move money, and only in the funds they see: another role is refused
    (Forbidden) whatever the fund, an unseen fund is "not found", and nothing is written either way."""
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
        "city reviewer": add_user(session, "du_shenhe", "reviewer"),
    }
    expected = {
        "city finance": {CITY, YUTAI, CHENGXI, RENCHENG, JIYANG},
        "Yutai finance": {YUTAI, CHENGXI},
        "Chengxi finance": {YUTAI, CHENGXI},  # a village office acts for its county
    }
    for who, user in people.items():
        for code in (CITY, YUTAI, CHENGXI, RENCHENG, JIYANG, "370899"):
            entries_before = session.scalar(sa.select(sa.func.count()).select_from(JournalEntry))
            try:
                services.record_receipt(session, user, code, 10_00, source="donation", payer_name="甲",
                                        value_on=on(6, 1))
                services.disburse(session, user, code, 10_00, payee=Payee("person", "张秀英", ZHANG_ID),
                                  purpose="medical_aid", value_on=on(6, 1))
                outcome = "moved"
            except NotFound as error:
                assert error.message == f"no fund {code}"
                outcome = "not found"
            except Forbidden:
                outcome = "forbidden"
            if who not in expected:
                assert outcome == "forbidden", (who, code)
            else:
                assert outcome == ("moved" if code in expected[who] else "not found"), (who, code)
            entries_after = session.scalar(sa.select(sa.func.count()).select_from(JournalEntry))
            assert entries_after - entries_before == (2 if outcome == "moved" else 0)
            session.commit()
    assert services.verify_journal(session).ok


def _receipt(code, amount_fen, day=on(6, 1), memo=""):
    return EntryDraft(kind=EntryKind.receipt, value_on=day, chain_fund_code=code, memo=memo,
                      lines=[Line(code, AccountRole.cash, Side.debit, amount_fen),
                             Line(code, AccountRole.donation_income, Side.credit, amount_fen)],
                      counterparty_kind="donor", counterparty_name="捐赠人", purpose="donation")


def _payment(code, amount_fen, day=on(6, 2), source_id=None):
    return EntryDraft(kind=EntryKind.disbursement, value_on=day, chain_fund_code=code, purpose="medical_aid",
                      lines=[Line(code, AccountRole.aid_expense, Side.debit, amount_fen),
                             Line(code, AccountRole.cash, Side.credit, amount_fen)],
                      counterparty_kind="person", counterparty_name="张秀英", counterparty_id_number=ZHANG_ID,
                      source_kind="aid_application" if source_id else None, source_id=source_id)


def test_a_payment_run_posts_every_payment_at_once_or_none(session, tree, finance):
    """Three payments the fund can afford go in one batch with consecutive vouchers; a run with
    one payment too many is refused whole, naming that payment and the fund's available balance."""
    post_entries(session, [_receipt(YUTAI, 1_000_00)])
    session.commit()
    run = [_payment(YUTAI, 300_00, source_id=11), _payment(YUTAI, 300_00, source_id=12),
           _payment(YUTAI, 300_00, source_id=13)]
    too_much = [_payment(YUTAI, 50_00), _payment(YUTAI, 60_00), _payment(YUTAI, 50_00)]
    posted = post_entries(session, run)
    session.commit()
    assert [entry.voucher_no for entry in posted] == [f"JZ-2026-370827-{n:06d}" for n in (2, 3, 4)]
    assert [entry.chain_seq for entry in posted] == [2, 3, 4]
    assert posted[1].prev_hash == posted[0].entry_hash and posted[2].prev_hash == posted[1].entry_hash
    served = session.execute(sa.select(JournalEntry.voucher_no, JournalEntry.source_id)
                             .where(JournalEntry.source_kind == "aid_application")
                             .order_by(JournalEntry.source_id)).all()
    assert served == [(posted[0].voucher_no, 11), (posted[1].voucher_no, 12), (posted[2].voucher_no, 13)]
    with pytest.raises(InsufficientFunds) as refused:
        post_entries(session, too_much)
    assert refused.value.details == {"fund_code": YUTAI, "available_fen": 50_00, "draft_index": 1}
    assert refused.value.message == "entry 2 of 3: fund 370827 has 50.00 available; this needs 60.00"
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)) == 4
    assert services.fund_balance(session, finance, YUTAI).available_fen == 100_00
    assert maintained_differences(session) == []
    result = services.verify_journal(session)
    assert result.ok and result.heads[YUTAI] == posted[2].entry_hash


def test_a_large_run_over_many_funds_keeps_every_figure(session, tree, finance):
    """Two hundred entries in one batch (PostgreSQL streams them with COPY): every chain links,
    every maintained figure equals the postings, and odd text survives the stream."""
    receipts = [_receipt(code, 10_000_00, memo="首笔\t\\ 捐赠\n第二行") for code in (CITY, YUTAI, CHENGXI, RENCHENG)]
    payments = [_payment((YUTAI, CHENGXI, RENCHENG, CITY)[n % 4], 1_00 + n, day=on(6, 1 + n % 28))
                for n in range(196)]
    posted = post_entries(session, receipts + payments)
    session.commit()
    assert len(posted) == 200 and len({entry.id for entry in posted}) == 200
    assert session.scalar(sa.select(JournalEntry.memo).where(JournalEntry.id == posted[0].id)) == \
        "首笔\t\\ 捐赠\n第二行"
    assert maintained_differences(session) == []
    assert services.verify_journal(session).ok
    paid_from_yutai = sum(1_00 + n for n in range(196) if n % 4 == 0)
    assert services.fund_balance(session, finance, YUTAI).posted_fen == 10_000_00 - paid_from_yutai


def test_an_entry_hashed_before_entries_named_their_source_still_verifies(session, tree):
    """Content version 1 (before `source_kind` / `source_id`) is recomputed as it was written."""
    from ledger.journal.chain import GENESIS_HASH, canonical_content, entry_hash

    posted = post_entries(session, [_receipt(YUTAI, 5_00)])[0]
    entry = session.get(JournalEntry, posted.id)
    fields = dict(kind="receipt", value_on=entry.value_on, posted_at=entry.posted_at, memo="", purpose="donation",
                  counterparty_kind="donor", counterparty_name="捐赠人", counterparty_id_number=None,
                  created_by_id=None, idempotency_key=None, reverses_entry_id=None, reversal_reason=None,
                  hold_id=None, postings=[("1002.370827", "debit", 500), ("4101.370827", "credit", 500)],
                  chain_fund_code=YUTAI, chain_seq=1, voucher_no=entry.voucher_no)
    assert entry.content_version == 2
    assert entry.entry_hash == entry_hash(GENESIS_HASH, canonical_content(version=2, **fields))
    version_1 = canonical_content(version=1, **fields)
    assert version_1.startswith(b"[1,") and b"aid_application" not in version_1
    assert entry_hash(GENESIS_HASH, version_1) != entry.entry_hash


FIXED_NOW = datetime(2026, 6, 30, 2, 0, tzinfo=timezone.utc)
FUND_CODES = [CITY, YUTAI, CHENGXI, DONGGUAN, RENCHENG, JIYANG]
draft_strategy = st.one_of(
    st.builds(lambda code, amount, day, memo: _receipt(code, amount, on(6, day), memo),
              st.sampled_from(FUND_CODES), st.integers(1, 200_00), st.integers(1, 28), TYPED),
    st.builds(lambda code, amount, day: _payment(code, amount, on(6, day)),
              st.sampled_from(FUND_CODES), st.integers(1, 200_00), st.integers(1, 28)),
    st.builds(lambda source, target, amount: EntryDraft(
        kind=EntryKind.allocation, value_on=on(6, 3), chain_fund_code=source,
        lines=[Line(target, AccountRole.cash, Side.debit, amount),
               Line(target, AccountRole.transfer_in, Side.credit, amount),
               Line(source, AccountRole.transfer_out, Side.debit, amount),
               Line(source, AccountRole.cash, Side.credit, amount)],
        counterparty_kind="fund", counterparty_id_number=target),
        st.sampled_from(FUND_CODES), st.sampled_from(FUND_CODES), st.integers(1, 200_00)),
)


def _books(session) -> tuple:
    """Everything the engine maintains, in a comparable form."""
    return (
        session.execute(sa.select(Fund.code, Fund.balance_posted_fen, Fund.pending_fen, Fund.chain_seq,
                                  Fund.chain_head_hash, Fund.voucher_year, Fund.voucher_seq)
                        .order_by(Fund.code)).all(),
        session.execute(sa.select(Account.code, Account.debit_total_fen, Account.credit_total_fen)
                        .order_by(Account.code)).all(),
        session.execute(sa.select(Account.code, AccountDayTotal.value_on, AccountDayTotal.debit_fen,
                                  AccountDayTotal.credit_fen).join(Account, Account.id == AccountDayTotal.account_id)
                        .order_by(Account.code, AccountDayTotal.value_on)).all(),
    )


def _run(session, batches) -> list:
    outcomes = []
    for batch in batches:
        savepoint = session.begin_nested()
        try:
            posted = post_entries(session, batch, now=FIXED_NOW)
            savepoint.commit()
            outcomes.append(("ok", [(entry.voucher_no, entry.entry_hash) for entry in posted]))
        except LedgerError as error:
            savepoint.rollback()
            outcomes.append((error.code, error.message, error.details))
    outcomes.append(_books(session))
    return outcomes


@pytest.mark.postgres
def test_the_same_drafts_make_the_same_books_on_both_databases(app, session, tree, tmp_path):
    """Random batches through the one engine, on PostgreSQL and on SQLite with a fixed clock:
    the same vouchers and hashes, the same refusals with the same words, the same figures."""
    from flask_migrate import upgrade

    from ledger.extensions import db
    from tests.conftest import make_test_app

    twin = make_test_app(f"sqlite:///{tmp_path / 'twin.sqlite3'}")
    with twin.app_context():
        upgrade()
        build_tree(db.session)
        twin_engine = db.engine
    session.commit()
    seen = {"ok": 0, "refused": 0}

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(batches=st.lists(st.lists(draft_strategy, min_size=1, max_size=6), min_size=1, max_size=5))
    def same_books(batches):
        try:
            on_postgres = _run(session, batches)
        finally:
            session.rollback()
        with Session(twin_engine) as twin_session:
            try:
                on_sqlite = _run(twin_session, batches)
            finally:
                twin_session.rollback()
        assert on_postgres == on_sqlite
        for outcome in on_postgres[:-1]:
            seen["ok" if outcome[0] == "ok" else "refused"] += 1

    same_books()
    twin_engine.dispose()
    assert seen["ok"] > 0 and seen["refused"] > 0, seen
