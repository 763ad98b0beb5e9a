"""Property: any sequence of operations keeps the books balanced, no fund below zero, the
maintained balances equal to a recomputation from the postings, and each operation succeeds or
is refused exactly as a model of the funds' available money says."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger.errors import LedgerError
from ledger.funds import services
from ledger.funds.services import Payee
from ledger.journal.balances import maintained_differences
from ledger.journal.models import Account, Fund, Hold, HoldState, JournalEntry
from ledger.timeutil import utcnow
from tests.journal.factories import CHENGXI, CITY, DONGGUAN, RENCHENG, TREE, YUTAI, ZHANG_ID, on

FUNDS = [CITY, YUTAI, CHENGXI, DONGGUAN, RENCHENG]
PARENT = {code: parent for code, _short, _name, _level, parent in TREE}
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


def apply(session, user, step, day) -> bool:
    """Carry out one step through the services; False when there was nothing to act on."""
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
            return False
        hold_id = holds[step[1] % len(holds)]
        if kind == "post_hold":
            services.post_hold(session, user, hold_id, step[2], value_on=day)
        else:
            services.void_hold(session, user, hold_id)
    elif kind == "reverse":
        vouchers = list(session.scalars(sa.select(JournalEntry.voucher_no).order_by(JournalEntry.id)))
        if not vouchers:
            return False
        services.reverse_entry(session, user, vouchers[step[1] % len(vouchers)], reason="更正", value_on=day)
    return True


class Model:
    """What a bookkeeper expects, kept beside the ledger: each fund's available money, the holds
    (in the order they were placed) and the entries (in the order they were written), each entry
    with what it did to the posted balances and whether it is a reversal or was reversed."""

    def __init__(self):
        self.available = {code: 0 for code, *_ in TREE}  # the tree starts with no money
        self.holds: list[dict] = []
        self.entries: list[dict] = []

    def entry(self, effect: dict[str, int], *, reversal: bool = False) -> None:
        self.entries.append({"effect": effect, "reversal": reversal, "reversed": False})
        for code, change in effect.items():
            self.available[code] += change

    def covers(self, effect: dict[str, int]) -> bool:
        return all(self.available[code] + change >= 0 for code, change in effect.items())

    def expect(self, step) -> tuple[str, object]:
        """(outcome, what to record when it succeeds): "ok" or the refusal's error code."""
        kind = step[0]
        if kind == "receipt":
            return "ok", {step[1]: step[2]}
        if kind == "allocate":
            if step[1] == step[2]:
                return "validation_error", None
            if step[2] != PARENT[step[1]] and step[1] != PARENT[step[2]]:
                return "allocation_off_tree", None
            effect = {step[1]: -step[3], step[2]: step[3]}
            return ("ok", effect) if self.covers(effect) else ("insufficient_funds", None)
        if kind == "disburse":
            effect = {step[1]: -step[2]}
            return ("ok", effect) if self.covers(effect) else ("insufficient_funds", None)
        if kind == "hold":
            return ("ok", None) if self.available[step[1]] >= step[2] else ("insufficient_funds", None)
        if kind in ("post_hold", "void_hold"):
            if not self.holds:
                return "nothing", None
            hold = self.holds[step[1] % len(self.holds)]
            if hold["state"] != "pending":
                return "hold_not_pending", None
            if kind == "post_hold" and step[2] is not None and step[2] > hold["amount"]:
                return "validation_error", None
            return "ok", hold
        if kind == "reverse":
            if not self.entries:
                return "nothing", None
            original = self.entries[step[1] % len(self.entries)]
            if original["reversal"]:
                return "conflict", None
            if original["reversed"]:
                return "already_reversed", None
            effect = {code: -change for code, change in original["effect"].items()}
            return ("ok", original) if self.covers(effect) else ("insufficient_funds", None)
        raise AssertionError(kind)

    def record(self, step, found) -> None:
        kind = step[0]
        if kind in ("receipt", "allocate", "disburse"):
            self.entry(found)
        elif kind == "hold":
            self.holds.append({"fund": step[1], "amount": step[2], "state": "pending"})
            self.available[step[1]] -= step[2]
        elif kind == "void_hold":
            found["state"] = "voided"
            self.available[found["fund"]] += found["amount"]
        elif kind == "post_hold":
            paid = found["amount"] if step[2] is None else step[2]
            found["state"] = "posted"
            self.available[found["fund"]] += found["amount"]  # the hold ends...
            self.entry({found["fund"]: -paid})  # ...and the payment leaves the posted balance
        elif kind == "reverse":
            found["reversed"] = True
            self.entry({code: -change for code, change in found["effect"].items()}, reversal=True)


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


def available_by_fund(session) -> dict[str, int]:
    return {code: posted - pending for code, posted, pending in
            session.execute(sa.select(Fund.code, Fund.balance_posted_fen, Fund.pending_fen))}


MONEY_MOVES = ("receipt", "allocate", "disburse", "hold")
#: Always run, whatever Hypothesis draws: each money move both succeeds and is refused.
EVERY_OUTCOME = [("receipt", YUTAI, 1_000_00), ("disburse", YUTAI, 600_00), ("disburse", YUTAI, 600_00),
                 ("allocate", YUTAI, CHENGXI, 300_00), ("allocate", YUTAI, CHENGXI, 300_00),
                 ("hold", CHENGXI, 200_00), ("hold", CHENGXI, 200_00), ("post_hold", 0, 50_00),
                 ("void_hold", 0), ("reverse", 1), ("reverse", 1), ("allocate", CITY, CITY, 1)]


def test_random_operations_keep_the_books_right(session, finance):
    """Each step's outcome is the one a simple model of the available balances predicts (a
    payment succeeds exactly when the fund's available money covers it), the figures equal the
    model's after every step, and over the whole run money moves both succeeded and were refused."""
    outcomes: Counter = Counter()

    @example(steps=EVERY_OUTCOME)
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(steps=st.lists(operation, min_size=1, max_size=14))
    def run(steps):
        model = Model()
        try:
            for number, step in enumerate(steps):
                expected, found = model.expect(step)
                savepoint = session.begin_nested()
                try:
                    outcome = "ok" if apply(session, finance, step, on(6, 1 + number)) else "nothing"
                    savepoint.commit()
                except LedgerError as error:
                    savepoint.rollback()
                    outcome = error.code
                assert outcome == expected, f"step {number} {step}: {outcome}, the model expected {expected}"
                outcomes[step[0], "ok" if outcome == "ok" else "refused" if outcome != "nothing" else outcome] += 1
                if outcome == "ok":
                    model.record(step, found)
                assert available_by_fund(session) == model.available, f"after step {number} {step}"
                check_invariants(session)
            assert maintained_differences(session) == []
            assert services.verify_journal(session).ok
        finally:
            session.rollback()

    run()
    for kind in MONEY_MOVES:
        if kind != "receipt":  # a receipt has nothing to be refused for
            assert outcomes[kind, "refused"] > 0, (kind, outcomes)
        assert outcomes[kind, "ok"] > 0, (kind, outcomes)
    assert outcomes["post_hold", "ok"] and outcomes["void_hold", "refused"] and outcomes["reverse", "ok"], outcomes
