"""Care-service contracts, told from the finance desk of the demo city.

The demo holds an active contract per vendor and county it serves (鱼台县 370827 has two), each
committing its ceiling as a hold on the county's care budget fund (CARE-370827), funded by the
year's government allocation. Here finance drafts, activates, amends, suspends and ends contracts;
the care funds stay out of the relief fund tree and its reports.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from ledger.audit import AuditEvent
from ledger.auth.models import User
from ledger.errors import Forbidden, NotFound, ValidationError
from ledger.extensions import db
from ledger.funds import services as fund_services
from ledger.journal import holds as journal_holds
from ledger.journal.errors import InsufficientFunds
from ledger.journal.models import Fund, FundProgramme, Hold, HoldState
from ledger.statemachine import IllegalTransition
from ledger.timeutil import as_utc, local_today, utcnow
from ledger.vendors.models import CareLevel, Contract, ContractState, ContractVersion, VendorProfile
from ledger.vendors.services import budgets, contracts
from ledger.vendors.services.contracts import ContractEnded, Terms

YUTAI = "370827"
RENCHENG = "370811"
TERMS = Terms(ceiling_fen=1_000_000_00, penalty_per_mille=30, price_self_caring_fen=280_00,
              price_partly_disabled_fen=560_00, price_fully_disabled_fen=900_00, visits_min_self_caring=2,
              visits_min_partly_disabled=4, visits_min_fully_disabled=8, minutes_min_self_caring=30,
              minutes_min_partly_disabled=45, minutes_min_fully_disabled=60)


def user(username):
    return db.session.scalar(sa.select(User).where(User.username == username))


def vendor(code="HL-370800-03"):
    return db.session.scalar(sa.select(VendorProfile).join(VendorProfile.organisation)
                             .where(sa.text("organisations.code = :code")).params(code=code))


def care_fund(county=YUTAI) -> Fund:
    return db.session.scalar(sa.select(Fund).where(Fund.code == budgets.care_fund_code(county)))


def term():
    year = local_today().year
    return date(year, 1, 1), date(year, 12, 31)


def draft(county=YUTAI, terms=TERMS, vendor_code="HL-370800-03"):
    """A draft of the third vendor, which does not serve Yutai in the demo (no overlap)."""
    starts_on, ends_on = term()
    return contracts.create_contract(db.session, user("finance"), vendor(vendor_code).id, county, starts_on, ends_on,
                                     terms)


def events(number):
    return [event.action for event in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.target == number).order_by(AuditEvent.id))]


def test_a_draft_is_numbered_by_year_and_county_and_commits_nothing(demo_app):
    with demo_app.app_context():
        available = care_fund().available_fen
        contract = draft()
        assert contract.number == f"HT-{local_today().year}-{YUTAI}-003"  # the demo has -001 and -002
        assert ContractState(contract.state) == ContractState.draft and contract.hold_id is None
        assert care_fund().available_fen == available
        assert [version.version_no for version in contract.versions] == [1]
        assert contract.versions[0].effective_on == contract.starts_on


def test_activating_places_the_hold_and_ending_releases_it(demo_app):
    with demo_app.app_context():
        fund = care_fund()
        available = fund.available_fen
        contract = draft()
        contracts.activate_contract(db.session, user("finance"), contract.id)
        hold = db.session.get(Hold, contract.hold_id)
        assert ContractState(contract.state) == ContractState.active
        assert (hold.fund_id, hold.amount_fen, HoldState(hold.state)) == (fund.id, TERMS.ceiling_fen, HoldState.pending)
        assert hold.reference == contract.number and hold.payee_name == vendor().organisation.name
        # It expires at the end of the term plus the settlement margin (the start of the next local day).
        expected = datetime.combine(contract.ends_on + timedelta(days=contracts.SETTLEMENT_MARGIN_DAYS + 1),
                                    datetime.min.time(), timezone(timedelta(hours=8)))
        longest = utcnow() + timedelta(days=366)  # the journal's limit on a hold's life
        if expected < longest - timedelta(minutes=1):
            assert as_utc(hold.expires_at) == expected
        else:
            assert longest - timedelta(minutes=1) < as_utc(hold.expires_at) <= longest
        assert care_fund().available_fen == available - TERMS.ceiling_fen
        figures = contracts.commitment(db.session, contract)
        assert (figures.ceiling_fen, figures.committed_fen, figures.posted_fen, figures.remaining_fen) == (
            TERMS.ceiling_fen, TERMS.ceiling_fen, 0, TERMS.ceiling_fen)

        contracts.end_contract(db.session, user("finance"), contract.id, reason="服务期满")
        assert ContractState(contract.state) == ContractState.ended
        assert HoldState(db.session.get(Hold, hold.id).state) == HoldState.voided
        assert care_fund().available_fen == available
        assert events(contract.number) == ["care_contract.create", "care_contract.activate", "care_contract.end"]


def test_ending_after_a_payment_releases_only_the_rest(demo_app):
    with demo_app.app_context():
        contract = draft()
        contracts.activate_contract(db.session, user("finance"), contract.id)
        available = care_fund().available_fen
        # An invoice pays part of the commitment (the journal's hold payment), and a new hold is the rest.
        journal_holds.post_hold(db.session, contract.hold_id, 200_000_00, value_on=local_today())
        assert contracts.commitment(db.session, contract).posted_fen == 200_000_00
        assert care_fund().available_fen == available + TERMS.ceiling_fen - 200_000_00
        contracts.amend_contract(db.session, user("finance"), contract.id, local_today(),
                                 Terms(**{**TERMS.__dict__, "ceiling_fen": TERMS.ceiling_fen + 1}))
        figures = contracts.commitment(db.session, contract)
        assert figures.committed_fen == TERMS.ceiling_fen + 1 - 200_000_00
        assert figures.remaining_fen == TERMS.ceiling_fen + 1 - 200_000_00
        contracts.end_contract(db.session, user("finance"), contract.id)
        assert care_fund().available_fen == available + TERMS.ceiling_fen - 200_000_00


def test_an_activation_the_budget_cannot_afford_is_the_journals_refusal(demo_app):
    with demo_app.app_context():
        fund = care_fund()
        contract = draft(terms=Terms(**{**TERMS.__dict__, "ceiling_fen": fund.available_fen + 1}))
        with pytest.raises(InsufficientFunds):
            contracts.activate_contract(db.session, user("finance"), contract.id)
        db.session.rollback()


@pytest.mark.parametrize("moves, state", [
    (["activate"], ContractState.active),
    (["activate", "suspend"], ContractState.suspended),
    (["activate", "suspend", "resume"], ContractState.active),
    (["activate", "end"], ContractState.ended),
    (["activate", "suspend", "end"], ContractState.ended),
])
def test_each_legal_move_is_made_and_audited(demo_app, moves, state):
    do = {"activate": contracts.activate_contract, "suspend": contracts.suspend_contract,
          "resume": contracts.resume_contract, "end": contracts.end_contract}
    with demo_app.app_context():
        contract = draft()
        for move in moves:
            do[move](db.session, user("finance"), contract.id)
        assert ContractState(contract.state) == state
        assert events(contract.number) == ["care_contract.create"] + [f"care_contract.{move}" for move in moves]
        held = HoldState(db.session.get(Hold, contract.hold_id).state)
        assert held == (HoldState.voided if state == ContractState.ended else HoldState.pending)


@pytest.mark.parametrize("moves, refused", [
    ([], "suspend"), ([], "resume"), ([], "end"),
    (["activate"], "activate"), (["activate"], "resume"),
    (["activate", "suspend"], "suspend"), (["activate", "suspend"], "activate"),
    (["activate", "end"], "activate"), (["activate", "end"], "resume"), (["activate", "end"], "end"),
])
def test_an_illegal_move_is_refused_and_changes_nothing(demo_app, moves, refused):
    do = {"activate": contracts.activate_contract, "suspend": contracts.suspend_contract,
          "resume": contracts.resume_contract, "end": contracts.end_contract}
    with demo_app.app_context():
        contract = draft()
        for move in moves:
            do[move](db.session, user("finance"), contract.id)
        state, pending = contract.state, care_fund().pending_fen
        before = events(contract.number)
        with pytest.raises(IllegalTransition):
            do[refused](db.session, user("finance"), contract.id)
        assert contract.state == state and care_fund().pending_fen == pending
        assert events(contract.number) == before


def test_an_amendment_is_a_new_version_and_leaves_the_old_one_unchanged(demo_app):
    with demo_app.app_context():
        contract = draft()
        contracts.activate_contract(db.session, user("finance"), contract.id)
        db.session.commit()
        first = db.session.get(ContractVersion, contract.versions[0].id)
        before = {column.name: getattr(first, column.name) for column in ContractVersion.__table__.columns}
        year = contract.starts_on.year
        dearer = Terms(**{**TERMS.__dict__, "price_fully_disabled_fen": 1_200_00, "visits_min_fully_disabled": 10})
        version = contracts.amend_contract(db.session, user("finance"), contract.id, date(year, 7, 1), dearer,
                                           note="失能人员单价上调")
        db.session.commit()
        first = db.session.get(ContractVersion, first.id)
        assert {column.name: getattr(first, column.name) for column in ContractVersion.__table__.columns} == before
        assert version.version_no == 2
        contract = db.session.get(Contract, contract.id)
        # The old terms before the amendment's date, the new ones from it.
        assert contracts.price_on(contract, CareLevel.fully_disabled, date(year, 6, 30)) == 900_00
        assert contracts.price_on(contract, CareLevel.fully_disabled, date(year, 7, 1)) == 1_200_00
        assert contracts.price_on(contract, "self_caring", date(year, 7, 1)) == 280_00
        assert contracts.minimums_on(contract, CareLevel.fully_disabled, date(year, 6, 30)) == (8, 60)
        assert contracts.minimums_on(contract, CareLevel.fully_disabled, date(year, 12, 31)) == (10, 60)
        with pytest.raises(NotFound):
            contracts.price_on(contract, CareLevel.self_caring, date(year + 1, 1, 1))
        # The ceiling did not change: the commitment is the same hold.
        assert contracts.commitment(db.session, contract).committed_fen == TERMS.ceiling_fen
        # An amendment on or before the latest version's date is refused, naming the field.
        with pytest.raises(ValidationError) as refused:
            contracts.amend_contract(db.session, user("finance"), contract.id, date(year, 7, 1), dearer)
        assert "effective_on" in refused.value.fields
        assert "care_contract.amend" in events(contract.number)


def test_a_higher_ceiling_voids_and_replaces_the_hold_and_an_unaffordable_one_changes_nothing(demo_app):
    with demo_app.app_context():
        contract = draft()
        contracts.activate_contract(db.session, user("finance"), contract.id)
        old_hold = contract.hold_id
        higher = Terms(**{**TERMS.__dict__, "ceiling_fen": 1_500_000_00})
        contracts.amend_contract(db.session, user("finance"), contract.id, local_today(), higher)
        assert contract.hold_id != old_hold
        assert HoldState(db.session.get(Hold, old_hold).state) == HoldState.voided
        assert db.session.get(Hold, contract.hold_id).amount_fen == 1_500_000_00
        db.session.commit()

        hold_id, pending = contract.hold_id, care_fund().pending_fen
        too_much = Terms(**{**TERMS.__dict__, "ceiling_fen": care_fund().available_fen + 1_500_000_00 + 1})
        with pytest.raises(InsufficientFunds):
            contracts.amend_contract(db.session, user("finance"), contract.id, local_today() + timedelta(days=1),
                                     too_much)
        db.session.rollback()
        contract = db.session.get(Contract, contract.id)
        assert contract.hold_id == hold_id and len(contract.versions) == 2
        assert HoldState(db.session.get(Hold, hold_id).state) == HoldState.pending
        assert care_fund().pending_fen == pending


def test_an_ended_contract_cannot_be_amended(demo_app):
    with demo_app.app_context():
        contract = draft()
        contracts.activate_contract(db.session, user("finance"), contract.id)
        contracts.end_contract(db.session, user("finance"), contract.id)
        with pytest.raises(ContractEnded):
            contracts.amend_contract(db.session, user("finance"), contract.id, local_today(), TERMS)


def test_contract_on_finds_the_vendors_contract_of_a_county_and_day(demo_app):
    with demo_app.app_context():
        first = vendor("HL-370800-01")
        year = local_today().year
        found = contracts.contract_on(db.session, first.id, YUTAI, date(year, 3, 1))
        assert found.number == f"HT-{year}-{YUTAI}-001" and found.hold_id is not None
        county_id = found.county_id
        assert contracts.contract_on(db.session, first.id, county_id, date(year, 3, 1)).id == found.id
        assert contracts.contract_on(db.session, first.id, YUTAI, date(year + 1, 1, 1)) is None
        # The third vendor does not serve Yutai; a draft is no contract to serve under.
        draft()
        assert contracts.contract_on(db.session, vendor().id, YUTAI, date(year, 3, 1)) is None


def test_a_second_active_contract_of_the_same_vendor_and_county_is_refused(demo_app):
    with demo_app.app_context():
        contract = draft(vendor_code="HL-370800-01")
        with pytest.raises(contracts.ContractOverlaps):
            contracts.activate_contract(db.session, user("finance"), contract.id)


def test_only_admin_and_finance_make_contracts(demo_app):
    with demo_app.app_context():
        starts_on, ends_on = term()
        for username in ("reviewer", "auditor", "vendor", "charity_yutai"):
            with pytest.raises(Forbidden):
                contracts.create_contract(db.session, user(username), vendor().id, YUTAI, starts_on, ends_on, TERMS)


def test_care_funds_are_ledger_funds_outside_the_relief_tree(demo_app):
    with demo_app.app_context():
        finance = user("finance")
        tree_codes = []
        stack = list(fund_services.fund_tree(db.session, finance))
        while stack:
            node = stack.pop()
            tree_codes.append(node.code)
            stack.extend(node.children)
        assert len(tree_codes) == 345 and not any(code.startswith("CARE-") for code in tree_codes)
        relief_total = sum(root.total_posted_fen for root in fund_services.fund_tree(db.session, finance))
        relief_balances = db.session.scalar(sa.select(sa.func.sum(Fund.balance_posted_fen))
                                            .where(Fund.programme == FundProgramme.relief))
        assert relief_total == relief_balances  # the tree's total is the relief funds' alone
        with pytest.raises(NotFound):
            fund_services.get_fund(db.session, finance, budgets.care_fund_code(YUTAI))
        assert not any(row.fund_code.startswith("CARE-") for row in fund_services.trial_balance(db.session, finance))
        choices, _more = fund_services.fund_choices(db.session, finance, "CARE")
        assert choices == []
        # They are in the care budgets, with the year's allocation received and the contracts committed.
        care = {budget.code: budget for budget in budgets.care_budgets(db.session, finance)}
        assert set(care) == {budgets.care_fund_code(code) for code in ("370800", YUTAI, RENCHENG, "370812", "370881",
                                                                         "370883", "370826", "370828", "370829",
                                                                         "370830", "370831", "370832")}
        yutai = care[budgets.care_fund_code(YUTAI)]
        assert yutai.pending_fen == sum(contracts.commitment(db.session, contract).committed_fen
                                        for contract in db.session.scalars(sa.select(Contract).where(
                                            Contract.fund_id == care_fund().id)))
        assert yutai.posted_fen > yutai.pending_fen > 0
        # And the hash chains cover them: the journal verifies every programme.
        assert fund_services.verify_journal(db.session, finance).ok
        # A county reviewer sees its county's care budget only; a vendor none.
        assert [b.code for b in budgets.care_budgets(db.session, user("reviewer_yutai"))] == ["CARE-370827"]
        assert budgets.care_budgets(db.session, user("vendor")) == []


@pytest.mark.postgres
def test_two_activations_of_one_vendor_and_county_at_once_leave_one_active(demo_app):
    """The first activation holds its transaction open; the second waits for the county's care fund
    (seen in pg_stat_activity), then finds the first contract active and is refused."""
    import threading
    import time

    with demo_app.app_context():
        first_id, second_id = draft().id, draft().id
        db.session.commit()
    activated, release_first = threading.Event(), threading.Event()
    outcomes = {}

    def activate(name, contract_id, hold):
        with demo_app.app_context():
            try:
                contracts.activate_contract(db.session, user("finance"), contract_id)
                if hold:
                    activated.set()
                    assert release_first.wait(30)
                db.session.commit()
                outcomes[name] = "active"
            except contracts.ContractOverlaps as refusal:
                db.session.rollback()
                outcomes[name] = refusal.details["other"]
            finally:
                activated.set()
                db.session.remove()

    first = threading.Thread(target=activate, args=("first", first_id, True))
    second = threading.Thread(target=activate, args=("second", second_id, False))
    first.start()
    assert activated.wait(30)
    second.start()
    with demo_app.app_context():
        waiting = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                          "AND wait_event_type = 'Lock' AND query LIKE '%FROM funds%'")
        deadline = time.monotonic() + 30
        while not db.session.scalar(waiting):
            db.session.rollback()
            assert time.monotonic() < deadline, "the second activation never waited for the first"
        db.session.rollback()
    release_first.set()
    first.join(30)
    second.join(30)
    with demo_app.app_context():
        first_contract, second_contract = db.session.get(Contract, first_id), db.session.get(Contract, second_id)
        assert outcomes == {"first": "active", "second": first_contract.number}
        assert ContractState(second_contract.state) == ContractState.draft and second_contract.hold_id is None
