"""Who sees which funds: the city sees all, a county reviewer only the county, charities nothing."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from ledger.auth.models import User
from ledger.errors import NotFound
from ledger.extensions import db
from ledger.funds import services
from ledger.journal.models import JournalEntry


def codes(nodes):
    found = []
    for node in nodes:
        found.append(node.code)
        found.extend(codes(node.children))
    return found


def demo_user(session, username):
    return session.scalar(sa.select(User).where(User.username == username))


def test_the_city_sees_every_fund(demo_app):
    with demo_app.app_context():
        for username in ("finance", "admin", "auditor", "reviewer"):
            assert len(codes(services.fund_tree(db.session, demo_user(db.session, username)))) == 345


def test_a_county_reviewer_sees_only_the_county_and_its_villages(demo_app):
    with demo_app.app_context():
        reviewer = demo_user(db.session, "reviewer_yutai")
        tree = services.fund_tree(db.session, reviewer)
        assert [node.code for node in tree] == ["370827"]
        assert all(code.startswith("370827") for code in codes(tree)) and len(codes(tree)) == 1 + 30
        assert services.fund_balance(db.session, reviewer, "370827-001").code == "370827-001"
        with pytest.raises(NotFound):
            services.get_fund(db.session, reviewer, "370811")
        with pytest.raises(NotFound):
            services.fund_entries(db.session, reviewer, "370800")


def test_charity_and_vendor_users_see_no_funds(demo_app):
    with demo_app.app_context():
        for username in ("charity_yutai", "vendor"):
            user = demo_user(db.session, username)
            assert services.fund_tree(db.session, user) == []
            with pytest.raises(NotFound):
                services.get_fund(db.session, user, "370827")


def test_a_fund_page_lists_its_entries_newest_first(demo_app):
    with demo_app.app_context():
        finance = demo_user(db.session, "finance")
        page = services.fund_entries(db.session, finance, "370827", per_page=2)
        # opening, allocation in, allocation out, payment; and the aid demo's two paid applications
        aid_paid = db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry).where(
            JournalEntry.source_kind == "aid_application", JournalEntry.chain_fund_id == page.items[0].chain_fund_id))
        assert aid_paid == 2 and page.total == 4 + aid_paid
        assert [entry.value_on.isoformat() for entry in page.items] == ["2026-02-25", "2026-02-12"]
        assert all(entry.postings for entry in page.items)
        holds = services.fund_holds(db.session, finance, "370827", state="pending")
        assert [hold.amount_fen for hold in holds if not (hold.reference or "").startswith("SQ-")] == [15_000_00]
