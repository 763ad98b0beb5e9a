"""Worked examples: the fund ledger as a finance officer in 鱼台县 lives it."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from ledger.auth.models import AuditEvent
from ledger.errors import Conflict, Forbidden
from ledger.funds import services
from ledger.funds.services import Payee
from ledger.journal.balances import maintained_differences
from ledger.journal.errors import (AlreadyReversed, HoldExpired, HoldNotPending, InsufficientFunds,
                                   PeriodClosed)
from ledger.journal.models import Hold, HoldState, JournalEntry
from ledger.timeutil import local_today, utcnow
from tests.journal.factories import CHENGXI, CITY, DONGGUAN, RENCHENG, WANG_ID, YUTAI, ZHANG_ID, on

ZHANG = Payee("person", "张秀英", ZHANG_ID)
WANG = Payee("person", "王桂兰", WANG_ID)


def balance(session, code, **kwargs):
    return services.fund_balance(session, None, code, **kwargs)


def books_agree(session):
    rows = services.trial_balance(session)
    assert sum(row.debit_fen for row in rows) == sum(row.credit_fen for row in rows)
    assert maintained_differences(session) == []
    assert services.verify_journal(session).ok


def test_a_donation_is_allocated_down_the_tree_and_paid_to_a_patient(session, finance):
    # A local company gives 10,000.00 to Yutai's charity emergency-relief project.
    donation = services.record_receipt(session, finance, YUTAI, 10_000_00, source="donation",
                                       payer_name="鱼台县爱心企业联合会", value_on=on(1, 10), memo="新春捐赠")
    session.commit()
    assert donation.voucher_no == "JZ-2026-370827-000001"
    assert balance(session, YUTAI).posted_fen == 10_000_00

    # Yutai passes 3,000.00 on to the village fund of 城西村; the voucher is Yutai's (the money leaves it).
    allocation = services.allocate(session, finance, YUTAI, CHENGXI, 3_000_00, value_on=on(1, 12),
                                   memo="补充城西村救助基金")
    session.commit()
    assert allocation.voucher_no == "JZ-2026-370827-000002"
    assert balance(session, YUTAI).posted_fen == 7_000_00
    assert balance(session, CHENGXI).posted_fen == 3_000_00

    # The village pays 1,200.00 of hospital costs for 张秀英.
    payment = services.disburse(session, finance, CHENGXI, 1_200_00, payee=ZHANG, purpose="medical_aid",
                                value_on=on(1, 20), memo="住院自付费用")
    session.commit()
    assert payment.voucher_no == "JZ-2026-370827-001-000001"
    assert balance(session, CHENGXI).available_fen == 1_800_00

    # The county's roll-up counts its villages: 7,000 + 1,800 (+ 0 in 东关村); the city sees the same.
    assert balance(session, YUTAI).total_posted_fen == 8_800_00
    assert balance(session, CITY).total_posted_fen == 8_800_00
    # As of 11 January the village had received nothing yet.
    assert balance(session, CHENGXI, as_of=on(1, 11)).posted_fen == 0
    assert balance(session, YUTAI, as_of=on(1, 11)).posted_fen == 10_000_00

    # A second payment of 2,000.00 is more than the village has: refused, and nothing is written.
    with pytest.raises(InsufficientFunds):
        services.disburse(session, finance, CHENGXI, 2_000_00, payee=ZHANG, purpose="medical_aid",
                          value_on=on(1, 21))
    session.rollback()
    assert balance(session, CHENGXI).posted_fen == 1_800_00
    # The refused payment used no voucher number: the next one follows without a gap.
    next_payment = services.disburse(session, finance, CHENGXI, 800_00, payee=ZHANG, purpose="medical_aid",
                                     value_on=on(1, 22))
    session.commit()
    assert next_payment.voucher_no == "JZ-2026-370827-001-000002"
    books_agree(session)


def test_an_allocation_the_source_cannot_afford_is_refused(session, finance):
    services.record_receipt(session, finance, RENCHENG, 500_00, source="government", payer_name="任城区财政局",
                            value_on=on(1, 5))
    session.commit()
    with pytest.raises(InsufficientFunds) as refused:
        services.allocate(session, finance, RENCHENG, CITY, 500_01, value_on=on(1, 6))
    assert refused.value.code == "insufficient_funds" and refused.value.status == 409
    session.rollback()
    assert balance(session, CITY).posted_fen == 0


def test_a_hold_is_paid_in_part_and_the_rest_is_released(session, finance):
    services.record_receipt(session, finance, YUTAI, 10_000_00, source="government", payer_name="鱼台县财政局",
                            value_on=on(2, 1))
    # Aid for 王桂兰 is approved: 4,000.00 is reserved until the money is paid.
    hold = services.place_hold(session, finance, YUTAI, 4_000_00, expires_at=utcnow() + timedelta(days=2),
                               purpose="emergency_aid", payee=WANG, reference="JA-2026-000001")
    session.commit()
    figures = balance(session, YUTAI)
    assert (figures.posted_fen, figures.pending_fen, figures.available_fen) == (10_000_00, 4_000_00, 6_000_00)

    # The reserved money cannot be paid to someone else.
    with pytest.raises(InsufficientFunds):
        services.disburse(session, finance, YUTAI, 6_500_00, payee=ZHANG, purpose="medical_aid", value_on=on(2, 2))
    session.rollback()

    # The actual bill is 2,500.00: that is paid, the other 1,500.00 is released.
    entry = services.post_hold(session, finance, hold.id, 2_500_00, value_on=on(2, 3))
    session.commit()
    assert entry.hold_id == hold.id and entry.counterparty_name == "王桂兰"
    hold = session.get(Hold, hold.id)
    assert (hold.state, hold.posted_fen) == (HoldState.posted, 2_500_00)
    figures = balance(session, YUTAI)
    assert (figures.posted_fen, figures.pending_fen, figures.available_fen) == (7_500_00, 0, 7_500_00)

    # A hold is paid once.
    with pytest.raises(HoldNotPending):
        services.post_hold(session, finance, hold.id, value_on=on(2, 4))
    session.rollback()
    books_agree(session)


def test_a_voided_hold_gives_the_money_back(session, finance):
    services.record_receipt(session, finance, DONGGUAN, 2_000_00, source="donation", payer_name="东关村村民",
                            value_on=on(2, 1))
    hold = services.place_hold(session, finance, DONGGUAN, 1_500_00, expires_at=utcnow() + timedelta(days=7),
                               purpose="temporary_assistance")
    session.commit()
    assert balance(session, DONGGUAN).available_fen == 500_00
    services.void_hold(session, finance, hold.id, reason="申请人已获其他救助")
    session.commit()
    assert balance(session, DONGGUAN).available_fen == 2_000_00
    assert session.get(Hold, hold.id).state == HoldState.voided
    with pytest.raises(HoldNotPending):
        services.post_hold(session, finance, hold.id, value_on=on(2, 2))
    session.rollback()
    books_agree(session)


def test_an_expired_hold_is_released_and_can_no_longer_be_paid(session, finance):
    services.record_receipt(session, finance, CHENGXI, 3_000_00, source="donation", payer_name="城西村村民",
                            value_on=on(3, 1))
    hold = services.place_hold(session, finance, CHENGXI, 2_000_00, expires_at=utcnow() + timedelta(hours=1),
                               purpose="emergency_aid", payee=ZHANG)
    session.commit()
    assert balance(session, CHENGXI).available_fen == 1_000_00
    # The hour passes without payment.
    session.execute(sa.update(Hold).where(Hold.id == hold.id).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    # Readers no longer count it, even before anyone touched the fund.
    assert balance(session, CHENGXI).available_fen == 3_000_00
    with pytest.raises(HoldExpired):
        services.post_hold(session, finance, hold.id, value_on=on(3, 2))
    session.rollback()
    # The next payment on the fund releases it for good, and may use the money.
    services.disburse(session, finance, CHENGXI, 2_500_00, payee=ZHANG, purpose="medical_aid", value_on=on(3, 3))
    session.commit()
    assert session.get(Hold, hold.id).state == HoldState.expired
    assert [h.state for h in services.fund_holds(session, finance, CHENGXI)] == [HoldState.expired]
    books_agree(session)


def test_the_fund_holds_listing_releases_expired_holds(session, finance):
    services.record_receipt(session, finance, CHENGXI, 1_000_00, source="donation", payer_name="城西村村民",
                            value_on=on(3, 1))
    hold = services.place_hold(session, finance, CHENGXI, 600_00, expires_at=utcnow() + timedelta(hours=1),
                               purpose="emergency_aid")
    session.commit()
    session.execute(sa.update(Hold).where(Hold.id == hold.id).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert [h.state for h in services.fund_holds(session, finance, CHENGXI)] == [HoldState.expired]
    session.commit()
    assert services.get_fund(session, finance, CHENGXI).pending_fen == 0
    books_agree(session)


def test_a_mistaken_payment_is_reversed_once(session, finance):
    services.record_receipt(session, finance, YUTAI, 5_000_00, source="donation", payer_name="爱心人士",
                            value_on=on(2, 1))
    wrong = services.disburse(session, finance, YUTAI, 1_000_00, payee=ZHANG, purpose="medical_aid",
                              value_on=on(2, 5), memo="误付")
    session.commit()
    assert balance(session, YUTAI).posted_fen == 4_000_00

    reversal = services.reverse_entry(session, finance, wrong.voucher_no, reason="收款人信息有误")
    session.commit()
    assert reversal.reverses_entry_id == wrong.id
    assert reversal.value_on == local_today()
    assert reversal.voucher_no.startswith(f"JZ-{local_today().year}-370827-")
    sides = {(p.account.role.value, p.side.value, p.amount_fen) for p in reversal.postings}
    assert sides == {("aid_expense", "credit", 1_000_00), ("cash", "debit", 1_000_00)}
    assert balance(session, YUTAI).posted_fen == 5_000_00
    assert session.get(JournalEntry, wrong.id).reversed_by.id == reversal.id

    with pytest.raises(AlreadyReversed):
        services.reverse_entry(session, finance, wrong.voucher_no, reason="再来一次")
    session.rollback()
    with pytest.raises(Conflict):
        services.reverse_entry(session, finance, reversal.voucher_no, reason="冲销的冲销")
    session.rollback()
    books_agree(session)


def test_a_receipt_already_spent_cannot_be_reversed(session, finance):
    receipt = services.record_receipt(session, finance, CHENGXI, 1_000_00, source="donation", payer_name="捐赠人",
                                      value_on=on(2, 1))
    services.disburse(session, finance, CHENGXI, 700_00, payee=ZHANG, purpose="medical_aid", value_on=on(2, 2))
    session.commit()
    with pytest.raises(InsufficientFunds):
        services.reverse_entry(session, finance, receipt.voucher_no, reason="捐赠退回")
    session.rollback()


def test_a_closed_month_refuses_entries_until_an_admin_reopens_it(session, finance, admin):
    january = services.record_receipt(session, finance, YUTAI, 2_000_00, source="donation", payer_name="捐赠人",
                                      value_on=on(1, 15))
    session.commit()
    services.close_period(session, finance, "2026-01")
    session.commit()

    # A late January receipt is refused; February is open.
    with pytest.raises(PeriodClosed) as refused:
        services.record_receipt(session, finance, YUTAI, 100_00, source="donation", payer_name="捐赠人",
                                value_on=on(1, 31))
    assert refused.value.code == "period_closed"
    session.rollback()
    services.record_receipt(session, finance, YUTAI, 100_00, source="donation", payer_name="捐赠人",
                            value_on=on(2, 1))
    session.commit()

    # A January entry is corrected in the open month, never in the closed one.
    with pytest.raises(PeriodClosed):
        services.reverse_entry(session, finance, january.voucher_no, reason="重复入账", value_on=on(1, 31))
    session.rollback()
    reversal = services.reverse_entry(session, finance, january.voucher_no, reason="重复入账")
    session.commit()
    assert reversal.value_on == local_today()

    # Finance may not reopen a month; an admin may, with a reason, and it is logged.
    with pytest.raises(Forbidden):
        services.reopen_period(session, finance, "2026-01", reason="补记")
    session.rollback()
    services.reopen_period(session, admin, "2026-01", reason="补记漏登的捐赠")
    session.commit()
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "period.reopen"))
    assert (event.user_id, event.target, event.detail["reason"]) == (admin.id, "2026-01", "补记漏登的捐赠")
    services.record_receipt(session, finance, YUTAI, 100_00, source="donation", payer_name="捐赠人",
                            value_on=on(1, 31))
    session.commit()
    assert [(p.month, p.closed) for p in services.list_periods(session) if p.month == "2026-01"] == [
        ("2026-01", False)]
    books_agree(session)


def test_vouchers_are_numbered_per_fund_and_year(session, finance):
    first = services.record_receipt(session, finance, YUTAI, 100_00, source="donation", payer_name="甲",
                                    value_on=on(11, 27))
    other_fund = services.record_receipt(session, finance, RENCHENG, 100_00, source="donation", payer_name="乙",
                                         value_on=on(11, 27))
    session.commit()
    assert first.voucher_no == "JZ-2026-370827-000001"
    assert other_fund.voucher_no == "JZ-2026-370811-000001"
    later = services.record_receipt(session, finance, YUTAI, 100_00, source="donation", payer_name="丙",
                                    value_on=on(11, 30))
    session.commit()
    assert later.voucher_no == "JZ-2026-370827-000002"
