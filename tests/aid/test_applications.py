"""Aid applications, told from the Yutai desk: a charity files, a reviewer decides, finance pays.

Runs on the demo data with a Yutai policy of the demo's bands (from 10,000 -> 8,000; from 20,000 ->
10,000; from 40,000 -> 12,000 yuan; 特困 x1.2), a cap of 30,000 and a county limit of 10,000 yuan.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from ledger.aid import applications, policies
from ledger.aid.application_models import Application, ApplicationState
from ledger.aid.applications import (APPLICATION_MACHINE, AnnualCapExceeded, CityDecisionRequired, OncePerHousehold,
                                     SameHands, emergency_clock)
from ledger.aid.models import Category
from ledger.aid.services import get_person
from ledger.errors import NotFound, ValidationError
from ledger.funds import services as funds
from ledger.funds.services import Payee
from ledger.journal.errors import InsufficientFunds
from ledger.journal.models import Hold, HoldState, JournalEntry
from ledger.statemachine import IllegalTransition
from tests.aid.conftest import CHENGXI, CITY, MARCH_10, RENCHENG, YUTAI

S = ApplicationState


@pytest.fixture
def policy(desk):
    return desk.policy(YUTAI)


def state_of(desk, application) -> str:
    desk.session.expire_all()
    return desk.session.get(Application, application.id).state.value


# --- the whole road ---------------------------------------------------------------------------------

def test_filed_approved_paid_and_followed_up_the_money_moves_and_every_step_is_logged(desk, policy):
    person = desk.person()
    before = desk.available(YUTAI)
    pending_before = desk.pending(YUTAI)
    application = desk.file(person)
    assert application.number.startswith("SQ-2026-370827-")
    assert application.state == S.submitted and application.out_of_pocket_fen == 35_200_00
    applications.start_review(desk.session, desk.user("reviewer_yutai"), application.id, now=MARCH_10)
    approved = applications.approve_application(desk.session, desk.user("reviewer_yutai"), application.id,
                                                now=MARCH_10 + timedelta(hours=1))
    desk.session.commit()
    assert approved.state == S.approved and approved.amount_approved_fen == 10_000_00
    assert approved.suggestion_text == "out of pocket 35,200.00 -> tier 2 (>= 20,000) 10,000.00 x 1.0"
    assert desk.available(YUTAI) == before - 10_000_00
    assert desk.pending(YUTAI) == pending_before + 10_000_00
    hold = desk.session.get(Hold, approved.hold_id)
    assert (hold.state, hold.payee_id_number, hold.reference) == (HoldState.pending, person.resident_id,
                                                                  application.number)

    paid = applications.pay_application(desk.session, desk.user("finance"), application.id,
                                        now=MARCH_10 + timedelta(hours=2))
    desk.session.commit()
    entry = desk.session.get(JournalEntry, paid.payment_entry_id)
    assert (entry.source_kind, entry.source_id, entry.purpose) == ("aid_application", application.id, "medical_aid")
    assert entry.counterparty_id_number == person.resident_id and "6228***" in entry.memo
    assert desk.available(YUTAI) == before - 10_000_00
    assert desk.pending(YUTAI) == pending_before  # the hold is posted, no longer pending

    closed = applications.record_follow_up(desk.session, desk.user("charity_yutai"), application.id, kind="visit",
                                           outcome="已出院，恢复良好", now=MARCH_10 + timedelta(days=7))
    desk.session.commit()
    assert closed.state == S.closed
    history = applications.application_history(desk.session, desk.user("auditor"), application.id)
    assert [event.action for event in history] == [
        "aid_application.file", "aid_application.submit", "aid_application.start_review",
        "aid_application.approve", "aid_application.pay", "aid_application.follow_up"]
    assert history[3].user.username == "reviewer_yutai" and history[3].detail["to"] == "approved"


def test_numbers_run_per_county_and_year(desk, policy):
    desk.policy(RENCHENG)
    yutai = [desk.file(desk.person()).number for _ in range(2)]
    rencheng = [desk.file(desk.person(village="370811-001", by="reviewer"), fund=RENCHENG, by="reviewer").number
                for _ in range(2)]
    for first, second in (yutai, rencheng):
        assert first[:-6] == second[:-6] and int(second[-6:]) == int(first[-6:]) + 1
    assert yutai[0].startswith("SQ-2026-370827-") and rencheng[0].startswith("SQ-2026-370811-")
    assert len(yutai[0]) == len("SQ-2026-370827-000001")


# --- the moves ------------------------------------------------------------------------------------

def test_returned_for_more_information_then_resubmitted_and_approved_by_another(desk, policy):
    application = desk.under_review(desk.person())
    reviewer = desk.user("reviewer_yutai")
    applications.return_application(desk.session, reviewer, application.id, reason="请补充住院费用清单")
    applications.resubmit_application(desk.session, desk.user("charity_yutai"), application.id, reason="已补充")
    applications.start_review(desk.session, reviewer, application.id)
    applications.approve_application(desk.session, reviewer, application.id, now=MARCH_10 + timedelta(hours=1))
    desk.session.commit()
    assert state_of(desk, application) == "approved"
    reasons = [event.detail.get("reason") for event in
               applications.application_history(desk.session, reviewer, application.id)]
    assert "请补充住院费用清单" in reasons and "已补充" in reasons


def test_a_draft_is_changed_by_its_filer_and_withdrawn_before_a_decision(desk, policy):
    person = desk.person()
    draft = desk.file(person, submit=False)
    assert draft.state == S.draft
    data = applications.ApplicationInput(person_id=person.id, fund_code=YUTAI, diagnosis="脑梗死", hospital="鱼台县人民医院",
                                         total_cost_fen=50_000_00, reimbursed_fen=30_000_00,
                                         amount_requested_fen=8_000_00)
    changed = applications.update_application(desk.session, desk.user("charity_yutai"), draft.id, data)
    assert (changed.out_of_pocket_fen, changed.diagnosis) == (20_000_00, "脑梗死")
    applications.withdraw_application(desk.session, desk.user("charity_yutai"), draft.id, reason="家属放弃申请")
    desk.session.commit()
    assert state_of(desk, draft) == "withdrawn"


def test_rejected_with_a_reason(desk, policy):
    application = desk.under_review(desk.person())
    with pytest.raises(ValidationError):
        applications.reject_application(desk.session, desk.user("reviewer_yutai"), application.id, reason=" ")
    applications.reject_application(desk.session, desk.user("reviewer_yutai"), application.id, reason="不符合救助条件")
    desk.session.commit()
    assert state_of(desk, application) == "rejected"


def test_cancelling_an_approval_voids_its_hold(desk, policy):
    before = desk.available(YUTAI)
    application = desk.approved(desk.person())
    assert desk.available(YUTAI) == before - 10_000_00
    applications.cancel_approval(desk.session, desk.user("reviewer_yutai"), application.id, reason="重复申请",
                                 now=MARCH_10 + timedelta(hours=2))
    desk.session.commit()
    assert state_of(desk, application) == "approval_cancelled"
    assert desk.available(YUTAI) == before
    assert desk.session.get(Hold, application.hold_id).state == HoldState.voided


@pytest.mark.parametrize("state, action", [
    ("submitted", "pay"), ("draft", "approve"), ("approved", "follow_up"), ("approved", "withdraw"),
    ("submitted", "resubmit"), ("paid", "cancel_approval"), ("approved", "approve")])
def test_an_illegal_move_is_refused_with_the_machines_error(desk, policy, state, action):
    person = desk.person()
    application = {"draft": lambda: desk.file(person, submit=False), "submitted": lambda: desk.file(person),
                   "approved": lambda: desk.approved(person)}.get(state, lambda: None)()
    if state == "paid":
        application = desk.approved(person)
        applications.pay_application(desk.session, desk.user("finance"), application.id,
                                     now=MARCH_10 + timedelta(hours=1))
        desk.session.commit()
    calls = {
        "pay": lambda: applications.pay_application(desk.session, desk.user("finance"), application.id),
        "approve": lambda: applications.approve_application(desk.session, desk.user("reviewer_yutai_2"),
                                                            application.id),
        "follow_up": lambda: applications.record_follow_up(desk.session, desk.user("charity_yutai"), application.id,
                                                           kind="call", outcome="电话回访"),
        "withdraw": lambda: applications.withdraw_application(desk.session, desk.user("charity_yutai"),
                                                              application.id),
        "resubmit": lambda: applications.resubmit_application(desk.session, desk.user("charity_yutai"),
                                                              application.id),
        "cancel_approval": lambda: applications.cancel_approval(desk.session, desk.user("reviewer_yutai"),
                                                                application.id, reason="撤销"),
    }
    with pytest.raises(IllegalTransition) as refused:
        calls[action]()
    desk.session.rollback()
    assert refused.value.code == "illegal_transition"
    assert application.number in str(refused.value)
    assert state_of(desk, application) == state


def test_every_move_outside_the_table_is_refused():
    class Record:
        id, number = 1, "SQ-2026-370827-000001"

    actions = {action for _state, action in APPLICATION_MACHINE.transitions}
    for state in ApplicationState:
        for action in actions:
            record = Record()
            record.state = state
            if (state, action) in APPLICATION_MACHINE.transitions:
                assert APPLICATION_MACHINE.next_state(record, action) == APPLICATION_MACHINE.transitions[state, action]
            else:
                with pytest.raises(IllegalTransition):
                    APPLICATION_MACHINE.next_state(record, action)
    terminal = [state for state in ApplicationState if not APPLICATION_MACHINE.actions_from(state)]
    assert set(terminal) == {S.closed, S.rejected, S.withdrawn, S.approval_cancelled}


# --- maker-checker and the two levels -------------------------------------------------------------

def test_whoever_filed_or_last_changed_it_cannot_approve(desk, policy):
    filed_by_county = desk.under_review(desk.person(), by="reviewer_yutai")
    with pytest.raises(SameHands):
        applications.approve_application(desk.session, desk.user("reviewer_yutai"), filed_by_county.id)
    desk.session.rollback()
    applications.approve_application(desk.session, desk.user("reviewer_yutai_2"), filed_by_county.id,
                                     now=MARCH_10 + timedelta(hours=1))
    desk.session.commit()
    assert state_of(desk, filed_by_county) == "approved"

    changed = desk.under_review(desk.person())
    applications.return_application(desk.session, desk.user("reviewer_yutai"), changed.id, reason="补充材料")
    applications.resubmit_application(desk.session, desk.user("reviewer_yutai_2"), changed.id)
    applications.start_review(desk.session, desk.user("reviewer_yutai"), changed.id)
    with pytest.raises(SameHands):
        applications.approve_application(desk.session, desk.user("reviewer_yutai_2"), changed.id)


def test_above_the_county_limit_the_county_approval_escalates_and_the_city_places_the_hold(desk, policy):
    before = desk.available(YUTAI)
    application = desk.under_review(desk.person(), asked=15_000_00)
    escalated = applications.approve_application(desk.session, desk.user("reviewer_yutai"), application.id,
                                                 amount_fen=15_000_00, now=MARCH_10 + timedelta(hours=1))
    desk.session.commit()
    assert escalated.state == S.escalated and escalated.hold_id is None
    assert desk.available(YUTAI) == before
    with pytest.raises(CityDecisionRequired):
        applications.approve_application(desk.session, desk.user("reviewer_yutai_2"), application.id)
    desk.session.rollback()
    approved = applications.approve_application(desk.session, desk.user("reviewer"), application.id,
                                                now=MARCH_10 + timedelta(hours=2))
    desk.session.commit()
    assert approved.state == S.approved and approved.amount_approved_fen == 15_000_00
    assert approved.county_approved_by_user_id == desk.user("reviewer_yutai").id
    assert approved.city_approved_by_user_id == desk.user("reviewer").id
    assert desk.available(YUTAI) == before - 15_000_00


def test_a_county_reviewer_escalates_by_hand_with_a_reason_and_the_city_may_reject(desk, policy):
    application = desk.under_review(desk.person())
    with pytest.raises(ValidationError):
        applications.escalate_application(desk.session, desk.user("reviewer_yutai"), application.id, reason="")
    applications.escalate_application(desk.session, desk.user("reviewer_yutai"), application.id,
                                      reason="跨县救助，请市级决定")
    applications.reject_application(desk.session, desk.user("reviewer"), application.id, reason="已由他县救助")
    desk.session.commit()
    assert state_of(desk, application) == "rejected"


# --- scope ----------------------------------------------------------------------------------------

def test_another_charity_or_another_county_gets_not_found(desk, policy):
    person = desk.person()
    application = desk.file(person)
    from ledger.auth.services import create_user
    create_user(desk.session, "reviewer_rencheng", "reviewer", "MZJ-370811", "correct horse battery")
    desk.session.commit()
    for outsider in ("charity_rencheng", "reviewer_rencheng"):
        with pytest.raises(NotFound):
            applications.get_application(desk.session, desk.user(outsider), application.id)
        with pytest.raises(NotFound):
            get_person(desk.session, desk.user(outsider), person.id)
        listed = applications.list_applications(desk.session, desk.user(outsider), per_page=200).items
        assert listed and all(item.county.code == RENCHENG for item in listed)
    with pytest.raises(NotFound):
        applications.start_review(desk.session, desk.user("reviewer_rencheng"), application.id)
    desk.session.rollback()
    assert applications.get_application(desk.session, desk.user("reviewer"), application.id).id == application.id


# --- the money ------------------------------------------------------------------------------------

def test_a_fund_that_cannot_afford_it_refuses_and_the_application_stays_under_review(desk):
    village = "370827-002"
    desk.policy(village, county_max=1_000_000_00, cap=1_000_000_00)
    available = desk.available(village)
    application = desk.under_review(desk.person(), fund=village)
    with pytest.raises(InsufficientFunds):
        applications.approve_application(desk.session, desk.user("reviewer_yutai"), application.id,
                                         amount_fen=available + 1, now=MARCH_10 + timedelta(hours=1))
    desk.session.rollback()
    assert state_of(desk, application) == "under_review"
    assert desk.available(village) == available


def test_paying_several_is_all_or_nothing(desk, policy):
    first = desk.approved(desk.person())
    no_card = desk.approved(desk.person(card=False))
    with pytest.raises(ValidationError):
        applications.pay_applications(desk.session, desk.user("finance"), [first.id, no_card.id],
                                      now=MARCH_10 + timedelta(hours=1))
    desk.session.rollback()
    assert (state_of(desk, first), state_of(desk, no_card)) == ("approved", "approved")
    second = desk.approved(desk.person())
    paid = applications.pay_applications(desk.session, desk.user("finance"), [first.id, second.id],
                                         now=MARCH_10 + timedelta(hours=1))
    desk.session.commit()
    assert [application.state for application in paid] == [S.paid, S.paid]
    assert len({application.payment_entry_id for application in paid}) == 2


def test_an_expired_hold_sends_the_application_back_for_a_new_approval(desk, policy):
    before = desk.available(YUTAI)
    application = desk.approved(desk.person())
    later = MARCH_10 + timedelta(days=31)
    sent_back = applications.expire_approvals(desk.session, None, now=later)
    desk.session.commit()
    assert [item.id for item in sent_back] == [application.id]
    assert state_of(desk, application) == "under_review"
    assert desk.available(YUTAI) == before
    approved = applications.approve_application(desk.session, desk.user("reviewer_yutai_2"), application.id,
                                                now=later + timedelta(hours=1))
    desk.session.commit()
    assert approved.state == S.approved and desk.available(YUTAI) == before - 10_000_00


# --- the cap and double dipping -------------------------------------------------------------------

def test_the_cap_counts_village_county_and_city_money_and_the_refusal_gives_the_figures(desk, policy):
    person = desk.person()
    finance = desk.user("finance")
    payee = Payee("person", person.name, person.resident_id)
    funds.disburse(desk.session, finance, CHENGXI, 8_000_00, payee=payee, purpose="medical_aid",
                   value_on=date(2026, 3, 2))
    city = funds.disburse(desk.session, finance, CITY, 10_000_00, payee=payee, purpose="temporary_assistance",
                          value_on=date(2026, 3, 3))
    earlier = desk.approved(desk.person(head=person), amount=1_000_00)  # the household, not the person
    applications.pay_application(desk.session, finance, earlier.id, now=MARCH_10 + timedelta(hours=1))
    desk.session.commit()
    figures = applications.year_to_date_aid(desk.session, desk.user("reviewer_yutai"), person.id, 2026)
    assert {(item.fund_code, item.person_fen, item.household_fen) for item in figures.funds} == {
        (CHENGXI, 8_000_00, 8_000_00), (CITY, 10_000_00, 10_000_00), (YUTAI, 0, 1_000_00)}
    assert (figures.person_fen, figures.household_fen) == (18_000_00, 19_000_00)

    application = desk.under_review(person, out_of_pocket=45_000_00)
    with pytest.raises(AnnualCapExceeded) as refused:
        applications.approve_application(desk.session, desk.user("reviewer_yutai"), application.id,
                                         amount_fen=12_000_00 + 1, now=MARCH_10 + timedelta(hours=2))
    desk.session.rollback()
    assert "18,000.00" in str(refused.value) and "12,000.01" in str(refused.value) and "30,000.00" in str(refused.value)
    assert state_of(desk, application) == "under_review"

    funds.reverse_entry(desk.session, finance, city.voucher_no, reason="重复拨付", value_on=date(2026, 3, 4))
    desk.session.commit()
    assert applications.year_to_date_aid(desk.session, None, person.id, 2026).person_fen == 8_000_00
    approved = applications.approve_application(desk.session, desk.user("reviewer_yutai_2"), application.id,
                                                amount_fen=10_000_00, now=MARCH_10 + timedelta(hours=2))
    assert approved.state == S.approved


def test_once_per_household_refuses_a_second_paid_application_naming_the_first(desk):
    desk.policy(YUTAI, once=True)
    head = desk.person()
    first = desk.approved(head)
    applications.pay_application(desk.session, desk.user("finance"), first.id, now=MARCH_10 + timedelta(hours=1))
    desk.session.commit()
    second = desk.under_review(desk.person(head=head))
    with pytest.raises(OncePerHousehold) as refused:
        applications.approve_application(desk.session, desk.user("reviewer_yutai"), second.id,
                                         now=MARCH_10 + timedelta(hours=2))
    assert first.number in str(refused.value)


# --- the policy a decision used -------------------------------------------------------------------

def test_a_later_policy_version_never_changes_a_past_decision_and_a_used_version_cannot_be_edited(desk, policy):
    application = desk.approved(desk.person())
    desk.session.expire_all()
    decided = desk.session.get(Application, application.id)
    assert decided.policy_version_id == policy.id and decided.suggested_fen == 10_000_00
    used = desk.session.get(type(policy), policy.id)
    assert used.used_at is not None
    richer = ((10_000_00, 9_000_00), (20_000_00, 11_000_00))
    with pytest.raises(policies.PolicyVersionUsed):
        policies.update_version(desk.session, desk.user("admin"), policy.id, policies.VersionInput(
            effective_on=date(2026, 1, 1), annual_cap_fen=30_000_00, county_approval_max_fen=10_000_00,
            bands=richer))
    desk.session.rollback()
    newer = desk.policy(YUTAI, bands=richer, effective_on=date(2026, 3, 1))
    desk.session.expire_all()
    decided = desk.session.get(Application, application.id)
    assert (decided.policy_version_id, decided.suggested_fen, decided.amount_approved_fen) == (
        policy.id, 10_000_00, 10_000_00)
    assert policies.update_version(desk.session, desk.user("admin"), newer.id, policies.VersionInput(
        effective_on=date(2026, 3, 1), annual_cap_fen=40_000_00, county_approval_max_fen=10_000_00,
        bands=richer)).annual_cap_fen == 40_000_00
    later = desk.approved(desk.person())
    assert desk.session.get(Application, later.id).suggested_fen == 11_000_00


# --- the clock and the paperwork ------------------------------------------------------------------

def test_the_clock_is_met_by_the_payment_not_by_the_approval_across_midnight(desk, policy):
    # Reported at 23:30 on 9 March in Jining (15:30 UTC); urgent: 24 hours.
    reported = datetime(2026, 3, 9, 15, 30, tzinfo=timezone.utc)
    application = desk.under_review(desk.person(), urgency="urgent", reported_at=reported,
                                    now=reported + timedelta(minutes=10))
    applications.approve_application(desk.session, desk.user("reviewer_yutai"), application.id,
                                     now=reported + timedelta(minutes=50))  # 00:20 on 10 March
    desk.session.commit()
    approved = desk.session.get(Application, application.id)
    clock = emergency_clock(approved, now=reported + timedelta(hours=1))
    assert (clock.state, clock.text) == ("running", "23 h left")
    assert clock.deadline_at == reported + timedelta(hours=24)
    applications.pay_application(desk.session, desk.user("finance"), application.id,
                                 now=reported + timedelta(hours=1, minutes=12))  # 00:42 on 10 March
    desk.session.commit()
    paid = desk.session.get(Application, application.id)
    assert (emergency_clock(paid, now=reported + timedelta(days=3)).state,
            emergency_clock(paid, now=reported + timedelta(days=3)).text) == ("met", "met in 1 h 12 min")


def test_an_especially_urgent_case_not_paid_in_two_hours_is_overdue(desk, policy):
    reported = MARCH_10
    application = desk.approved(desk.person(), urgency="especially_urgent", reported_at=reported)
    clock = emergency_clock(application, now=reported + timedelta(hours=1, minutes=55))
    assert (clock.state, clock.text) == ("running", "5 min left")
    clock = emergency_clock(application, now=reported + timedelta(hours=5))
    assert (clock.state, clock.text) == ("breached", "overdue by 3 h")
    assert emergency_clock(desk.file(desk.person())).state == "none"


def test_the_queue_puts_breached_first_then_least_time_left_then_normal_by_submission(desk, policy):
    now = MARCH_10
    normal_early = desk.file(desk.person(), now=now - timedelta(hours=5))
    urgent = desk.file(desk.person(), urgency="urgent", reported_at=now - timedelta(hours=1), now=now)
    breached = desk.file(desk.person(), urgency="especially_urgent", reported_at=now - timedelta(hours=3), now=now)
    normal_late = desk.file(desk.person(), now=now - timedelta(hours=1))
    soon = desk.file(desk.person(), urgency="especially_urgent", reported_at=now - timedelta(hours=1), now=now)
    mine = {normal_early.id, urgent.id, breached.id, normal_late.id, soon.id}
    page = applications.reviewer_queue(desk.session, desk.user("reviewer_yutai"), per_page=200)
    assert [item.id for item in page.items if item.id in mine] == [
        breached.id, soon.id, urgent.id, normal_early.id, normal_late.id]
    assert all(item.county.code == YUTAI and item.state in applications.OPEN_STATES for item in page.items)
    ranks = [(item.queue_rank, applications.as_utc(item.queue_at)) for item in page.items]
    assert ranks == sorted(ranks)
    second = applications.reviewer_queue(desk.session, desk.user("reviewer_yutai"), page=2, per_page=2)
    assert second.items[0].id == page.items[2].id and second.total == page.total


def test_paperwork_on_minimal_documents_is_due_five_working_days_later_across_the_spring_festival(desk, policy):
    # Friday 13 February 2026, 10:00 in Jining; the holiday runs 15-23 February, Saturday 14th is worked.
    friday = datetime(2026, 2, 13, 2, 0, tzinfo=timezone.utc)
    application = desk.under_review(desk.person(), urgency="urgent", reported_at=friday, now=friday)
    approved = applications.approve_application(desk.session, desk.user("reviewer_yutai"), application.id,
                                                minimal_documents=True, now=friday + timedelta(hours=1))
    desk.session.commit()
    assert approved.minimal_documents and approved.paperwork_due_on == date(2026, 2, 27)
    reviewer = desk.user("reviewer_yutai")
    assert applications.overdue_paperwork(desk.session, reviewer, today=date(2026, 2, 27)).total == 0
    assert [item.id for item in applications.overdue_paperwork(desk.session, reviewer,
                                                               today=date(2026, 3, 2)).items] == [application.id]
    applications.complete_paperwork(desk.session, reviewer, application.id)
    desk.session.commit()
    assert applications.overdue_paperwork(desk.session, reviewer, today=date(2026, 3, 2)).total == 0


def test_minimal_documents_are_for_urgent_cases_only(desk, policy):
    application = desk.under_review(desk.person())
    with pytest.raises(ValidationError):
        applications.approve_application(desk.session, desk.user("reviewer_yutai"), application.id,
                                         minimal_documents=True, now=MARCH_10 + timedelta(hours=1))


# --- filing checks --------------------------------------------------------------------------------

def test_filing_refuses_facts_that_do_not_add_up_and_a_fund_of_another_county(desk, policy):
    person = desk.person()
    charity = desk.user("charity_yutai")
    bad = applications.ApplicationInput(person_id=person.id, fund_code=YUTAI, diagnosis="", hospital="医院",
                                        total_cost_fen=10_000_00, reimbursed_fen=12_000_00,
                                        amount_requested_fen=0)
    with pytest.raises(ValidationError) as refused:
        applications.file_application(desk.session, charity, bad)
    assert {"diagnosis", "reimbursed", "amount_requested"} <= set(refused.value.fields)
    elsewhere = applications.ApplicationInput(person_id=person.id, fund_code=RENCHENG, diagnosis="肺炎",
                                              hospital="医院", total_cost_fen=30_000_00, reimbursed_fen=10_000_00,
                                              amount_requested_fen=8_000_00)
    with pytest.raises(ValidationError) as refused:
        applications.file_application(desk.session, charity, elsewhere)
    assert "fund" in refused.value.fields


def test_the_suggestion_uses_the_highest_band_reached_and_the_largest_factor(desk, policy):
    version = policy
    assert policies.suggest(version, 9_999_99, [Category.dibao]).amount_fen == 0
    assert policies.suggest(version, 10_000_00, [Category.dibao]).amount_fen == 8_000_00
    both = policies.suggest(version, 45_000_00, [Category.dibao, Category.tekun_dispersed])
    assert (both.amount_fen, both.tier, both.factor_permille) == (14_400_00, 3, 1200)
    assert str.__str__(both.text) == "out of pocket 45,000.00 -> tier 3 (>= 40,000) 12,000.00 x 1.2 = 14,400.00"
    assert policies.suggest(version, 25_000_00, []).amount_fen == 10_000_00


def test_the_scheduled_job_sends_approvals_whose_hold_expired_back_for_review(demo_app, desk, policy):
    application = desk.approved(desk.person())  # approved on 10 March: its 30 days are long past
    desk.session.commit()
    result = demo_app.test_cli_runner().invoke(args=["aid", "expire-approvals"])
    assert result.exit_code == 0, result.output
    assert f"{application.number}: hold expired, back under review" in result.output
    assert state_of(desk, application) == "under_review"
    again = demo_app.test_cli_runner().invoke(args=["aid", "expire-approvals"])
    assert application.number not in again.output


def test_an_escalation_returned_by_the_city_is_decided_afresh_by_the_county(desk, policy):
    application = desk.under_review(desk.person(), asked=15_000_00)
    county = desk.user("reviewer_yutai")
    applications.approve_application(desk.session, county, application.id, amount_fen=15_000_00,
                                     now=MARCH_10 + timedelta(hours=1))
    applications.return_application(desk.session, desk.user("reviewer"), application.id, reason="请补充诊断证明")
    applications.resubmit_application(desk.session, desk.user("charity_yutai"), application.id)
    applications.start_review(desk.session, county, application.id)
    again = applications.approve_application(desk.session, county, application.id, amount_fen=9_000_00,
                                             now=MARCH_10 + timedelta(hours=3))
    desk.session.commit()
    assert again.state == S.approved and again.amount_approved_fen == 9_000_00


def test_a_returned_application_is_corrected_by_the_filer_and_a_submitted_one_withdrawn(desk, policy):
    person = desk.person()
    application = desk.under_review(person)
    applications.return_application(desk.session, desk.user("reviewer_yutai"), application.id, reason="自付金额有误")
    corrected = applications.ApplicationInput(person_id=person.id, fund_code=YUTAI, diagnosis="急性白血病",
                                              hospital="济宁医学院附属医院", total_cost_fen=60_000_00,
                                              reimbursed_fen=15_000_00, amount_requested_fen=12_000_00)
    changed = applications.update_application(desk.session, desk.user("charity_yutai"), application.id, corrected)
    assert (changed.state, changed.out_of_pocket_fen) == (S.returned, 45_000_00)
    applications.resubmit_application(desk.session, desk.user("charity_yutai"), application.id)
    desk.session.commit()
    assert state_of(desk, application) == "resubmitted"
    with pytest.raises(IllegalTransition):
        applications.update_application(desk.session, desk.user("charity_yutai"), application.id, corrected)
    desk.session.rollback()

    submitted = desk.file(desk.person())
    applications.withdraw_application(desk.session, desk.user("charity_yutai"), submitted.id, reason="家属放弃")
    desk.session.commit()
    assert state_of(desk, submitted) == "withdrawn"
