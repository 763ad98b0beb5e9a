"""Allocations follow the fund tree: a fund gives to or takes from its parent or its own children only."""
import pytest

from ledger.errors import AllocationOffTree
from ledger.funds import services
from tests.journal.factories import CHENGXI, CITY, DONGGUAN, JIYANG, RENCHENG, YUTAI, on


@pytest.fixture
def funded(session, tree, finance):
    for code in (CITY, YUTAI, CHENGXI, RENCHENG):
        services.record_receipt(session, finance, code, 10_000_00, source="donation", payer_name="捐赠人",
                                value_on=on(3, 1))
    session.commit()
    return finance


@pytest.mark.parametrize("source, target", [(CITY, YUTAI), (YUTAI, CITY), (YUTAI, CHENGXI), (CHENGXI, YUTAI)])
def test_money_moves_one_level_up_or_down(session, funded, source, target):
    before = services.fund_balance(session, None, target).available_fen
    services.allocate(session, funded, source, target, 1_00, value_on=on(3, 2))
    session.commit()
    assert services.fund_balance(session, None, target).available_fen == before + 1_00


@pytest.mark.parametrize("source, target", [
    (YUTAI, JIYANG),      # a county to another county's village
    (CHENGXI, DONGGUAN),  # a village to a village of the same county
    (YUTAI, RENCHENG),    # county to county
    (CITY, CHENGXI),      # the city straight to a village, passing the county by
    (CHENGXI, CITY),
])
def test_a_move_across_the_tree_is_refused_and_says_what_is_allowed(session, funded, source, target):
    before = services.fund_balance(session, None, source).available_fen
    with pytest.raises(AllocationOffTree) as refused:
        services.allocate(session, funded, source, target, 1_00, value_on=on(3, 2))
    session.rollback()
    assert refused.value.status == 422
    assert "its parent or one of its own children" in refused.value.fields["to_fund"][0]
    assert target not in refused.value.details["allowed"]
    assert services.fund_balance(session, None, source).available_fen == before


def test_the_allowed_targets_are_the_parent_then_the_children(session, tree):
    assert services.allocation_targets(session, YUTAI) == [CITY, CHENGXI, DONGGUAN]
    assert services.allocation_targets(session, CHENGXI) == [YUTAI]
    assert services.allocation_targets(session, CITY) == sorted([YUTAI, RENCHENG])
