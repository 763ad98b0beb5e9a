"""seed-demo: the fund tree of the source, opening receipts that add up to its figures, idempotent."""
from __future__ import annotations

import sqlalchemy as sa

from ledger.extensions import db
from ledger.funds import services
from ledger.funds.demo import OPENING_ON
from ledger.journal.balances import maintained_differences
from ledger.journal.models import Fund, FundLevel, FundProgramme, Hold, JournalEntry, Posting


def opening_total(session, level):
    """The cash brought in by the opening receipts of all funds at `level`."""
    return session.scalar(
        sa.select(sa.func.sum(Posting.amount_fen))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Fund, Fund.id == JournalEntry.chain_fund_id)
        .where(JournalEntry.idempotency_key.like("seed:opening:%"), Fund.level == level, Posting.side == "debit"))


def test_the_demo_tree_has_the_source_figures(demo_app):
    with demo_app.app_context():
        session = db.session
        def levels(programme):
            return dict(session.execute(sa.select(Fund.level, sa.func.count()).where(Fund.programme == programme)
                                        .group_by(Fund.level)).all())

        assert levels(FundProgramme.relief) == {FundLevel.city: 1, FundLevel.county: 11, FundLevel.village: 333}
        # Beside the relief tree, the care-service budgets: the city's total and one per county.
        assert levels(FundProgramme.care) == {FundLevel.city: 1, FundLevel.county: 11}
        assert opening_total(session, FundLevel.county) == 3_400_000_00
        assert opening_total(session, FundLevel.village) == 7_420_000_00
        villages = session.scalars(sa.select(JournalEntry.value_on).join(Fund, Fund.id == JournalEntry.chain_fund_id)
                                   .where(JournalEntry.idempotency_key.like("seed:opening:%"))).all()
        assert set(villages) == {OPENING_ON}

        city = session.scalar(sa.select(Fund).where(Fund.code == "370800"))
        assert city.name == "济宁市“济时救”特别响应救助基金"
        yutai = session.scalar(sa.select(Fund).where(Fund.code == "370827"))
        assert yutai.name == "鱼台县慈善救急难项目" and yutai.parent_id == city.id
        chengxi = session.scalar(sa.select(Fund).where(Fund.code == "370827-001"))
        assert chengxi.name == "滨湖街道城西村“济时救”慈善救助基金" and chengxi.parent_id == yutai.id

        # The pages have something to show: receipts, allocations, payments and a pending hold.
        kinds = set(session.scalars(sa.select(JournalEntry.kind).distinct()))
        assert {"receipt", "allocation", "disbursement"} <= {getattr(k, "value", k) for k in kinds}
        pending = sa.select(Fund.programme, sa.func.count()).select_from(Hold).join(Fund, Fund.id == Hold.fund_id) \
            .where(Hold.state == "pending").group_by(Fund.programme)
        # One relief hold; and the twelve care contracts' commitments on the care budgets.
        assert dict(session.execute(pending).all()) == {FundProgramme.relief: 1, FundProgramme.care: 12}
        assert services.verify_journal(session).ok
        assert maintained_differences(session) == []
        tree = services.fund_tree(session, None)
        assert tree[0].code == "370800" and len(tree[0].children) == 11
        assert tree[0].total_posted_fen == 5_000_000_00 + 3_400_000_00 + 7_420_000_00 + 50_000_00 - 8_000_00 \
            - 10_000_00 - 12_500_00


def test_seeding_again_changes_nothing(demo_app):
    from ledger.demo import seed

    with demo_app.app_context():
        session = db.session
        before = (session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)),
                  session.scalar(sa.select(sa.func.count()).select_from(Fund)),
                  session.scalar(sa.select(sa.func.count()).select_from(Hold)))
        seed(session)
        session.commit()
        after = (session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)),
                 session.scalar(sa.select(sa.func.count()).select_from(Fund)),
                 session.scalar(sa.select(sa.func.count()).select_from(Hold)))
        assert before == after
        assert services.verify_journal(session).ok
