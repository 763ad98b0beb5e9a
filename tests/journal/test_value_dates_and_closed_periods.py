"""Business dates the books accept, and months that stay closed.

An entry is dated from the books' opening date (1 January 2026 unless configured) to today
(Asia/Shanghai); a hold expires after now and within HOLD_MAX_DAYS. Closing a month closes every
month before it: with January closed, neither a late January receipt nor one dated in December of
the year before gets in -- not through the services, not through the engine, not by a hand-typed
INSERT."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from ledger.config import ConfigError
from ledger.errors import ValidationError
from ledger.funds import services
from ledger.funds.services import Payee
from ledger.journal import dates
from ledger.journal.dates import HOLD_MAX_DAYS, ValueDateOutOfRange
from ledger.journal.errors import PeriodClosed
from ledger.journal.models import EntryKind, Fund, JournalEntry, Side
from ledger.journal.posting import EntryDraft, Line, post_entries
from ledger.timeutil import local_today, utcnow
from tests.conftest import make_test_app
from tests.journal.factories import CHENGXI, YUTAI, ZHANG_ID, on


def _receipt(session, user, value_on, amount_fen=100_00, code=YUTAI):
    return services.record_receipt(session, user, code, amount_fen, source="donation", payer_name="捐赠人",
                                   value_on=value_on)


def _entry_count(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(JournalEntry))


# --- the range of value dates ----------------------------------------------------------------------

@pytest.mark.parametrize("value_on", [date(9999, 12, 31), date(1, 1, 1), date(1900, 1, 1), date(2025, 12, 31),
                                      "tomorrow", "next year"])
def test_a_value_date_outside_the_books_is_refused_naming_the_range(session, finance, value_on):
    _receipt(session, finance, on(3, 2))
    session.commit()
    today = local_today()
    value_on = {"tomorrow": today + timedelta(days=1),
                "next year": today.replace(year=today.year + 1)}.get(value_on, value_on)
    with pytest.raises(ValueDateOutOfRange) as refused:
        _receipt(session, finance, value_on)
    assert refused.value.status == 422
    assert refused.value.fields == {"value_on": [f"value_on must be between 2026-01-01 and {today.isoformat()}"]}
    assert (refused.value.details["earliest"], refused.value.details["latest"]) == ("2026-01-01", today.isoformat())
    session.rollback()
    # Nothing was written and the fund's voucher year did not move: the next voucher follows on.
    assert _entry_count(session) == 1
    assert session.scalar(sa.select(Fund.voucher_year).where(Fund.code == YUTAI)) == 2026
    assert _receipt(session, finance, on(3, 3)).voucher_no == "JZ-2026-370827-000002"


def test_the_opening_date_and_today_are_both_accepted(session, finance):
    first = _receipt(session, finance, date(2026, 1, 1))
    last = _receipt(session, finance, local_today())
    session.commit()
    assert (first.value_on, last.value_on) == (date(2026, 1, 1), local_today())


def test_every_movement_is_bounded_not_only_receipts(session, finance):
    _receipt(session, finance, on(3, 2), amount_fen=1_000_00)
    session.commit()
    far = date(9999, 12, 31)
    refusals = [
        lambda: services.allocate(session, finance, YUTAI, CHENGXI, 10_00, value_on=far),
        lambda: services.disburse(session, finance, YUTAI, 10_00, payee=Payee("person", "张秀英", ZHANG_ID),
                                  purpose="medical_aid", value_on=far),
    ]
    for attempt in refusals:
        with pytest.raises(ValueDateOutOfRange) as refused:
            attempt()
        assert "value_on" in refused.value.fields
        session.rollback()
    hold = services.place_hold(session, finance, YUTAI, 10_00, expires_at=utcnow() + timedelta(days=1),
                               purpose="medical_aid")
    session.commit()
    with pytest.raises(ValueDateOutOfRange):
        services.post_hold(session, finance, hold.id, value_on=far)
    session.rollback()
    receipt = session.scalar(sa.select(JournalEntry.voucher_no).where(JournalEntry.kind == EntryKind.receipt))
    with pytest.raises(ValueDateOutOfRange):
        services.reverse_entry(session, finance, receipt, reason="重复入账", value_on=far)
    session.rollback()
    assert _entry_count(session) == 1


def test_the_engine_itself_refuses_and_names_the_draft_of_a_batch(session, finance):
    def draft(value_on):
        return EntryDraft(kind=EntryKind.receipt, value_on=value_on, chain_fund_code=YUTAI,
                          lines=[Line(YUTAI, "cash", Side.debit, 1_00), Line(YUTAI, "donation_income", Side.credit, 1_00)])

    with pytest.raises(ValueDateOutOfRange) as refused:
        post_entries(session, [draft(on(3, 2)), draft(date(9999, 12, 31))])
    assert refused.value.details["draft_index"] == 1
    assert refused.value.message.startswith("entry 2 of 2: value_on must be between 2026-01-01 and")
    session.rollback()
    assert _entry_count(session) == 0


def test_a_reversal_is_not_dated_before_the_entry_it_reverses(session, finance):
    receipt = _receipt(session, finance, on(3, 2))
    session.commit()
    with pytest.raises(ValidationError) as refused:
        services.reverse_entry(session, finance, receipt.voucher_no, reason="重复入账", value_on=on(3, 1))
    assert refused.value.fields["value_on"] == ["value_on must be on or after 2026-03-02, the date of the entry it "
                                                "reverses"]
    session.rollback()
    assert services.reverse_entry(session, finance, receipt.voucher_no, reason="重复入账",
                                  value_on=on(3, 2)).value_on == on(3, 2)


@pytest.mark.app_config(LEDGER_BOOKS_OPEN_ON="2025-07-01", LEDGER_VALUE_DATE_FUTURE_DAYS="3")
def test_the_opening_date_and_the_allowance_come_from_the_configuration(session, finance):
    assert _receipt(session, finance, date(2025, 7, 1)).voucher_no == "JZ-2025-370827-000001"
    assert _receipt(session, finance, local_today() + timedelta(days=3)).value_on == local_today() + timedelta(days=3)
    with pytest.raises(ValueDateOutOfRange) as refused:
        _receipt(session, finance, local_today() + timedelta(days=4))
    latest = (local_today() + timedelta(days=3)).isoformat()
    assert refused.value.fields["value_on"] == [f"value_on must be between 2025-07-01 and {latest}"]
    session.rollback()


@pytest.mark.parametrize("settings, problem", [
    ({"LEDGER_BOOKS_OPEN_ON": "2026-13-01"}, "LEDGER_BOOKS_OPEN_ON must be a date"),
    ({"LEDGER_VALUE_DATE_FUTURE_DAYS": "-1"}, "LEDGER_VALUE_DATE_FUTURE_DAYS must be a whole number"),
    ({"LEDGER_VALUE_DATE_FUTURE_DAYS": "many"}, "LEDGER_VALUE_DATE_FUTURE_DAYS must be a whole number"),
])
def test_a_bad_setting_stops_the_app_with_what_to_set(settings, problem):
    try:
        with pytest.raises(ConfigError, match=problem):
            make_test_app("sqlite://", **settings)
    finally:
        dates.configure()  # the rule of the next app, whichever test builds it


# --- hold expiry ---------------------------------------------------------------------------------

@pytest.mark.parametrize("offset", [timedelta(minutes=-1), timedelta(0), timedelta(days=HOLD_MAX_DAYS, minutes=1),
                                    timedelta(days=3650)])
def test_a_hold_expires_after_now_and_within_its_longest_term(session, finance, offset):
    _receipt(session, finance, on(3, 2))
    session.commit()
    with pytest.raises(ValidationError) as refused:
        services.place_hold(session, finance, YUTAI, 10_00, expires_at=utcnow() + offset, purpose="medical_aid")
    message = refused.value.fields["expires_at"][0]
    assert message.startswith("expires_at must be after ") and f"at most {HOLD_MAX_DAYS} days ahead" in message
    session.rollback()
    longest = services.place_hold(session, finance, YUTAI, 10_00, expires_at=utcnow() + timedelta(days=HOLD_MAX_DAYS),
                                  purpose="medical_aid")
    assert longest.amount_fen == 10_00


# --- closing a month closes every month before it --------------------------------------------------

@pytest.mark.app_config(LEDGER_BOOKS_OPEN_ON="2025-01-01")
def test_an_entry_dated_before_the_first_closed_month_is_refused(session, finance):
    """The books' first entry is in January; closing January to March seals December too."""
    _receipt(session, finance, on(1, 20))
    session.commit()
    for month in ("2026-01", "2026-02", "2026-03"):
        services.close_period(session, finance, month)
    session.commit()

    for value_on in (date(2025, 12, 20), date(2025, 1, 1), on(1, 31), on(3, 31)):
        with pytest.raises(PeriodClosed) as refused:
            _receipt(session, finance, value_on)
        assert refused.value.details["latest_closed"] == "2026-03"
        assert refused.value.fields["value_on"][0].endswith("date the entry on or after 2026-04-01")
        session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)
                          .where(JournalEntry.voucher_no.like("JZ-2025-%"))) == 0
    assert _receipt(session, finance, on(4, 1)).voucher_no == "JZ-2026-370827-000002"


def test_an_entry_of_a_closed_month_is_reversed_in_an_open_month(session, finance):
    january = _receipt(session, finance, on(1, 20))
    session.commit()
    services.close_period(session, finance, "2026-01")
    session.commit()
    with pytest.raises(PeriodClosed):
        services.reverse_entry(session, finance, january.voucher_no, reason="重复入账", value_on=on(1, 31))
    session.rollback()
    reversal = services.reverse_entry(session, finance, january.voucher_no, reason="重复入账")
    session.commit()
    assert reversal.value_on == local_today() and reversal.reverses_entry_id == january.id


def _raw_insert_like(session, entry_id: int, value_on: date) -> None:
    """A hand-typed INSERT of an entry row (a copy of one, with another date, number and chain place)."""
    columns = [column.name for column in JournalEntry.__table__.columns if column.name != "id"]
    replaced = {"value_on": ":value_on", "voucher_no": "'JZ-RAW-' || voucher_no", "chain_seq": "chain_seq + 1000",
                "idempotency_key": "NULL", "reverses_entry_id": "NULL"}
    session.execute(sa.text(
        f"INSERT INTO journal_entries ({', '.join(columns)}) "
        f"SELECT {', '.join(replaced.get(column, column) for column in columns)} FROM journal_entries WHERE id = :id"),
        {"id": entry_id, "value_on": value_on})


@pytest.mark.parametrize("value_on", [on(1, 31), date(2025, 12, 20)])
def test_the_database_refuses_a_raw_insert_dated_in_or_before_a_closed_month(session, finance, value_on):
    january = _receipt(session, finance, on(1, 20))
    session.commit()
    services.close_period(session, finance, "2026-01")
    session.commit()
    with pytest.raises(sa.exc.DatabaseError, match="period_closed"):
        _raw_insert_like(session, january.id, value_on)
    session.rollback()
    assert _entry_count(session) == 1


@pytest.mark.postgres
def test_on_postgresql_the_guard_covers_many_rows_in_one_statement(session, finance):
    """The trigger is per statement there: one row of a multi-row INSERT in a closed month refuses it all."""
    february = _receipt(session, finance, on(2, 10))
    session.commit()
    services.close_period(session, finance, "2026-01")
    session.commit()
    columns = [column.name for column in JournalEntry.__table__.columns if column.name != "id"]
    replaced = {"value_on": "day", "voucher_no": "'JZ-RAW-' || n || voucher_no", "chain_seq": "chain_seq + 1000 + n",
                "idempotency_key": "NULL"}
    with pytest.raises(sa.exc.DatabaseError, match="period_closed: an entry dated 2026-01-31 is in or before 2026-01"):
        session.execute(sa.text(
            f"INSERT INTO journal_entries ({', '.join(columns)}) "
            f"SELECT {', '.join(replaced.get(column, column) for column in columns)} FROM journal_entries, "
            f"(VALUES (1, DATE '2026-02-11'), (2, DATE '2026-01-31'), (3, DATE '2026-02-12')) AS raw(n, day) "
            f"WHERE id = :id"), {"id": february.id})
    session.rollback()
    assert _entry_count(session) == 1


def test_a_raw_insert_in_an_open_month_is_not_refused_as_closed(session, finance):
    """The guard is about dates: an INSERT dated after the closed months passes it (the balance
    check still refuses an entry without postings at commit on PostgreSQL)."""
    february = _receipt(session, finance, on(2, 10))
    session.commit()
    services.close_period(session, finance, "2026-01")
    session.commit()
    _raw_insert_like(session, february.id, on(2, 11))
    assert _entry_count(session) == 2
    session.rollback()
