"""Property: any sequence of operations keeps the books balanced, no fund below zero, and the
maintained balances equal to a recomputation from the postings."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import LedgerError
from ledger.funds import services
from ledger.funds.services import Payee
from ledger.journal.balances import maintained_differences
from ledger.journal.models import Account, Fund, Hold, HoldState, JournalEntry
from ledger.timeutil import utcnow
from tests.journal.factories import CHENGXI, CITY, DONGGUAN, RENCHENG, YUTAI, ZHANG_ID, on

FUNDS = [CITY, YUTAI, CHENGXI, DONGGUAN, RENCHENG]
amounts = st.integers(min_value=1, max_value=5_000_00)
fund = st.sampled_from(FUNDS)
operation = st.one_of(
    st.tuples(st.just("receipt"), fund, amounts),
    st.tuples(st.just("allocate"), fund, fund, amounts),
    st.tuples(st.just("disburse"), fund, amounts),
    st.tuples(st.just("hold"), fund, amounts),
    st.tuples(st.just("post_hold"), st.integers(0, 5), st.one_of(st.none(), amounts)),
    st.tuples(st.just("void_hold"), st.integers(0, 5)),
    st.tuples(st.just("reverse"), st.integers(0, 20)),
)


def apply(session, user, step, day):
    kind = step[0]
    if kind == "receipt":
        services.record_receipt(session, user, step[1], step[2], source="donation", payer_name="捐赠人",
                                value_on=day)
    elif kind == "allocate":
        services.allocate(session, user, step[1], step[2], step[3], value_on=day)
    elif kind == "disburse":
        services.disburse(session, user, step[1], step[2], payee=Payee("person", "张秀英", ZHANG_ID),
                          purpose="medical_aid", value_on=day)
    elif kind == "hold":
        services.place_hold(session, user, step[1], step[2], expires_at=utcnow() + timedelta(days=1),
                            purpose="emergency_aid")
    elif kind in ("post_hold", "void_hold"):
        holds = list(session.scalars(sa.select(Hold.id).order_by(Hold.id)))
        if not holds:
            return
        hold_id = holds[step[1] % len(holds)]
        if kind == "post_hold":
            services.post_hold(session, user, hold_id, step[2], value_on=day)
        else:
            services.void_hold(session, user, hold_id)
    elif kind == "reverse":
        vouchers = list(session.scalars(sa.select(JournalEntry.voucher_no).order_by(JournalEntry.id)))
        if vouchers:
            services.reverse_entry(session, user, vouchers[step[1] % len(vouchers)], reason="更正", value_on=day)


def check_invariants(session):
    debit, credit = session.execute(sa.select(sa.func.sum(Account.debit_total_fen),
                                              sa.func.sum(Account.credit_total_fen))).one()
    assert (debit or 0) == (credit or 0)
    assert sum(row.balance_fen for row in services.trial_balance(session)) == 0
    for posted, pending in session.execute(sa.select(Fund.balance_posted_fen, Fund.pending_fen)):
        assert pending >= 0 and posted - pending >= 0
    pending_by_fund = dict(session.execute(sa.select(Hold.fund_id, sa.func.sum(Hold.amount_fen))
                                           .where(Hold.state == HoldState.pending).group_by(Hold.fund_id)).all())
    for fund_id, pending in session.execute(sa.select(Fund.id, Fund.pending_fen)):
        assert pending == pending_by_fund.get(fund_id, 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(steps=st.lists(operation, min_size=1, max_size=14))
def test_random_operations_keep_the_books_right(session, finance, steps):
    refused = 0
    try:
        for number, step in enumerate(steps):
            savepoint = session.begin_nested()
            try:
                apply(session, finance, step, on(6, 1 + number))
                savepoint.commit()
            except LedgerError:
                savepoint.rollback()
                refused += 1
            check_invariants(session)
        assert maintained_differences(session) == []
        assert services.verify_journal(session).ok
    finally:
        session.rollback()
