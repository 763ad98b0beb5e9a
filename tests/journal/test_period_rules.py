"""Months close once they have ended, in order, and reopen from the latest back; each close and
reopen is on record with who, when and why. "Today" is 15 March 2026 (Asia/Shanghai) here."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from ledger.funds import services
from ledger.journal import periods
from ledger.journal.errors import PeriodNotEnded, PeriodNotLatestClosed, PeriodOutOfOrder
from ledger.journal.models import Hold
from tests.journal.factories import YUTAI, on

TODAY = date(2026, 3, 15)


@pytest.fixture
def books(session, tree, finance, monkeypatch):
    """A receipt in January (the books' first month) and one in February; today is 15 March."""
    monkeypatch.setattr(periods, "local_today", lambda: TODAY)
    for day in (on(1, 20), on(2, 10)):
        services.record_receipt(session, finance, YUTAI, 1_000_00, source="donation", payer_name="捐赠人",
                                value_on=day)
    session.commit()
    return finance


@pytest.mark.parametrize("month", ["2026-03", "2026-04", "2027-01"])
def test_a_month_that_has_not_ended_is_not_closed(session, books, month):
    with pytest.raises(PeriodNotEnded) as refused:
        services.close_period(session, books, month)
    assert refused.value.status == 422
    assert "the month to close" in refused.value.fields["month"][0] and "not ended" in refused.value.fields["month"][0]
    session.rollback()
    assert not services.list_periods(session) or not any(p.closed for p in services.list_periods(session))


def test_the_last_day_of_a_month_is_still_in_it(session, books, monkeypatch):
    monkeypatch.setattr(periods, "local_today", lambda: date(2026, 1, 31))
    with pytest.raises(PeriodNotEnded):
        services.close_period(session, books, "2026-01")
    session.rollback()
    monkeypatch.setattr(periods, "local_today", lambda: date(2026, 2, 1))
    assert services.close_period(session, books, "2026-01").closed


def test_months_close_in_order_from_the_books_first_month(session, books):
    with pytest.raises(PeriodOutOfOrder) as refused:
        services.close_period(session, books, "2026-02")
    assert refused.value.details["open_months"] == ["2026-01"]
    session.rollback()
    services.close_period(session, books, "2026-01")
    services.close_period(session, books, "2026-02")
    session.commit()
    assert [p.month for p in services.list_periods(session) if p.closed] == ["2026-02", "2026-01"]
    assert services.month_to_close(session) is None  # March has not ended


def test_only_the_latest_closed_month_is_reopened(session, books, admin):
    services.close_period(session, books, "2026-01")
    services.close_period(session, books, "2026-02")
    session.commit()
    with pytest.raises(PeriodNotLatestClosed) as refused:
        services.reopen_period(session, admin, "2026-01", reason="补录")
    assert refused.value.details["latest_closed"] == "2026-02"
    session.rollback()
    services.reopen_period(session, admin, "2026-02", reason="补录二月捐赠")
    services.reopen_period(session, admin, "2026-01", reason="补录一月捐赠")
    session.commit()
    assert not any(p.closed for p in services.list_periods(session))


def test_the_history_says_who_closed_and_reopened_a_month_when_and_why(session, books, admin):
    services.close_period(session, books, "2026-01")
    services.reopen_period(session, admin, "2026-01", reason="补录漏记的捐赠")
    services.close_period(session, books, "2026-01")
    session.commit()
    events = services.period_history(session)["2026-01"]
    assert [(e.action, e.by, e.reason) for e in events] == [
        ("close", books.display_name or books.username, ""),
        ("reopen", admin.display_name or admin.username, "补录漏记的捐赠"),
        ("close", books.display_name or books.username, "")]
    assert all(e.at is not None for e in events)


def test_the_checklist_lists_the_holds_still_pending_from_before_the_month_ended(session, books):
    in_january = services.place_hold(session, books, YUTAI, 100_00, expires_at=datetime.now(timezone.utc)
                                     + timedelta(days=1), purpose="medical_aid")
    in_march = services.place_hold(session, books, YUTAI, 50_00,
                                   expires_at=datetime.now(timezone.utc) + timedelta(days=1), purpose="medical_aid")
    session.flush()
    session.execute(sa.update(Hold).where(Hold.id == in_january.id)
                    .values(created_at=datetime(2026, 1, 20, 3, 0, tzinfo=timezone.utc)))
    session.execute(sa.update(Hold).where(Hold.id == in_march.id)
                    .values(created_at=datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)))
    session.commit()
    checklist = services.period_close_checklist(session, books, "2026-01")
    assert checklist.closable and checklist.entry_count == 1
    assert [hold.id for hold in checklist.pending_holds] == [in_january.id]
    february = services.period_close_checklist(session, books, "2026-02")
    assert not february.closable and february.open_months_before == ["2026-01"]
