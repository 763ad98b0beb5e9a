"""Integrity: the hash chains name a tampered entry, and the database refuses to edit the journal."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from ledger.funds import services
from ledger.funds.services import Payee
from ledger.journal.models import JournalEntry, Posting
from tests.journal.factories import CHENGXI, YUTAI, ZHANG_ID, on


@pytest.fixture
def three_vouchers(session, finance):
    """Yutai: a receipt, an allocation to 城西村, a payment; 城西村: its own payment."""
    entries = [
        services.record_receipt(session, finance, YUTAI, 9_000_00, source="donation", payer_name="捐赠人",
                                value_on=on(1, 5)),
        services.allocate(session, finance, YUTAI, CHENGXI, 2_000_00, value_on=on(1, 6)),
        services.disburse(session, finance, YUTAI, 1_000_00, payee=Payee("person", "张秀英", ZHANG_ID),
                          purpose="medical_aid", value_on=on(1, 7)),
        services.disburse(session, finance, CHENGXI, 500_00, payee=Payee("person", "张秀英", ZHANG_ID),
                          purpose="medical_aid", value_on=on(1, 8)),
    ]
    session.commit()
    return [entry.voucher_no for entry in entries]


def _bypassing_guards(session):
    """Raw SQL that an attacker with database access could run: the guard triggers are switched
    off for this transaction (PostgreSQL) or dropped (SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        for name in ("journal_entries_no_update", "journal_entries_no_delete", "postings_no_update",
                     "postings_no_delete"):
            session.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))


def _entry_id(session, voucher_no):
    return session.scalar(sa.select(JournalEntry.id).where(JournalEntry.voucher_no == voucher_no))


def test_an_untouched_journal_verifies(session, three_vouchers):
    result = services.verify_journal(session)
    assert result.ok and result.problem is None
    assert (result.entry_count, result.chain_count) == (4, 2)
    assert set(result.heads) == {YUTAI, CHENGXI}
    head = session.scalar(sa.select(JournalEntry.entry_hash).where(JournalEntry.voucher_no == three_vouchers[2]))
    assert result.heads[YUTAI] == head


def test_a_changed_posting_amount_names_its_entry(session, three_vouchers):
    allocation = three_vouchers[1]
    _bypassing_guards(session)
    session.execute(sa.update(Posting).where(Posting.entry_id == _entry_id(session, allocation),
                                             Posting.side == "debit").values(amount_fen=2_100_00))
    session.commit()
    result = services.verify_journal(session)
    assert not result.ok
    assert result.voucher_no == allocation and result.fund_code == YUTAI
    assert allocation in result.problem and "changed" in result.problem


def test_a_changed_memo_names_its_entry(session, three_vouchers):
    _bypassing_guards(session)
    session.execute(sa.update(JournalEntry).where(JournalEntry.voucher_no == three_vouchers[0])
                    .values(memo="改过的摘要"))
    session.commit()
    result = services.verify_journal(session)
    assert (result.ok, result.voucher_no) == (False, three_vouchers[0])


def test_a_deleted_entry_is_noticed_at_the_gap(session, three_vouchers):
    receipt, allocation, payment = three_vouchers[:3]
    _bypassing_guards(session)
    entry_id = _entry_id(session, allocation)
    session.execute(sa.delete(Posting).where(Posting.entry_id == entry_id))
    session.execute(sa.delete(JournalEntry).where(JournalEntry.id == entry_id))
    session.commit()
    result = services.verify_journal(session)
    assert not result.ok
    assert result.voucher_no == payment and "deleted" in result.problem and "seq 2" in result.problem


def test_a_deleted_last_entry_is_noticed(session, three_vouchers):
    _bypassing_guards(session)
    entry_id = _entry_id(session, three_vouchers[3])
    session.execute(sa.delete(Posting).where(Posting.entry_id == entry_id))
    session.execute(sa.delete(JournalEntry).where(JournalEntry.id == entry_id))
    session.commit()
    result = services.verify_journal(session)
    assert not result.ok and result.fund_code == CHENGXI and "deleted" in result.problem


def test_entries_swapped_in_the_chain_are_out_of_order(session, three_vouchers):
    first, second = three_vouchers[0], three_vouchers[1]
    _bypassing_guards(session)
    # Move the second entry in front of the first (as if inserted earlier than it was).
    session.execute(sa.update(JournalEntry).where(JournalEntry.voucher_no == first).values(chain_seq=99))
    session.execute(sa.update(JournalEntry).where(JournalEntry.voucher_no == second).values(chain_seq=1))
    session.execute(sa.update(JournalEntry).where(JournalEntry.voucher_no == first).values(chain_seq=2))
    session.commit()
    result = services.verify_journal(session)
    assert not result.ok and result.voucher_no == second
    assert "predecessor" in result.problem or "changed" in result.problem


@pytest.mark.parametrize("statement", [
    "UPDATE postings SET amount_fen = amount_fen + 1",
    "DELETE FROM postings",
    "UPDATE journal_entries SET memo = 'x'",
    "DELETE FROM journal_entries",
])
def test_the_database_refuses_to_edit_the_journal(session, three_vouchers, statement):
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        session.execute(sa.text(statement))
    session.rollback()
    assert services.verify_journal(session).ok


@pytest.mark.postgres
def test_postgres_refuses_an_unbalanced_entry_at_commit(session, three_vouchers):
    """Hand-written SQL cannot leave an entry unbalanced: postings that do not balance their entry are
    refused with their statement, and an entry without its postings is refused at commit."""
    entry = session.scalar(sa.select(JournalEntry).where(JournalEntry.voucher_no == three_vouchers[0]))
    account_id = entry.postings[0].account_id
    values = dict(voucher_no="JZ-2026-370827-999999", kind="receipt", value_on=on(1, 9), posted_at=entry.posted_at,
                  memo="手工插入", chain_fund_id=entry.chain_fund_id, chain_seq=999, prev_hash="0" * 64,
                  entry_hash="f" * 64)

    def new_entry():
        return session.execute(sa.insert(JournalEntry.__table__).values(**values)
                               .returning(JournalEntry.__table__.c.id)).scalar_one()

    with pytest.raises(sa.exc.IntegrityError, match="does not balance: 1 postings, debits 100 fen, credits 0"):
        session.execute(sa.insert(Posting.__table__).values(entry_id=new_entry(), account_id=account_id,
                                                            side="debit", amount_fen=100))
        session.commit()
    session.rollback()
    # An entry whose postings never come.
    new_entry()
    with pytest.raises(sa.exc.IntegrityError, match="does not balance: 0 postings"):
        session.commit()
    session.rollback()
    # A posting slipped into an existing, balanced entry is refused as well.
    with pytest.raises(sa.exc.IntegrityError, match="does not balance"):
        session.execute(sa.insert(Posting.__table__).values(entry_id=entry.id, account_id=account_id,
                                                            side="credit", amount_fen=1))
        session.commit()
    session.rollback()
    assert services.verify_journal(session).ok


@pytest.mark.parametrize("statement, constraint", [
    ("UPDATE funds SET level = 'province' WHERE code = '370827'", "ck_funds_fund_level"),
    ("UPDATE accounts SET role = 'petty_cash' WHERE code = '1002.370827'", "ck_accounts_account_role"),
    ("UPDATE accounts SET kind = 'equity' WHERE code = '1002.370827'", "ck_accounts_account_kind"),
])
def test_the_database_refuses_a_fund_level_or_account_kind_it_does_not_know(session, three_vouchers, statement,
                                                                            constraint):
    # A CHECK constraint on SQLite; on PostgreSQL a trigger that runs only when the column is written.
    with pytest.raises(sa.exc.IntegrityError, match=constraint):
        session.execute(sa.text(statement))
    session.rollback()
    # Writing a known value, and the postings' updates of the other columns, go through.
    session.execute(sa.text("UPDATE funds SET level = 'county' WHERE code = '370827'"))
    services.disburse(session, None, YUTAI, 1_00, payee=Payee("person", "张秀英", ZHANG_ID), purpose="medical_aid",
                      value_on=on(1, 9))
    session.commit()
    assert services.verify_journal(session).ok
