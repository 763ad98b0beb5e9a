"""Real concurrency on PostgreSQL: many threads, each with its own session and transaction.

These prove the locking design (funds locked in id order, FOR NO KEY UPDATE) and
the idempotency claim: no overdraft, no deadlock reaching a user, one entry per key.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ledger.auth.models import User
from ledger.errors import LedgerError
from ledger.extensions import db
from ledger.funds import services
from ledger.funds.services import Payee
from ledger.idempotency import request_fingerprint, run_idempotent
from ledger.journal.balances import maintained_differences
from ledger.journal.models import Fund, JournalEntry
from ledger.timeutil import utcnow
from tests.journal.factories import CITY, YUTAI, ZHANG_ID, on
from tests.support import wait_for_blocked_backends

pytestmark = pytest.mark.postgres
ZHANG = Payee("person", "张秀英", ZHANG_ID)


def run_together(app, count, work):
    """Run `work(session, user, index)` in `count` threads released at the same moment; each commits.
    Returns ("ok", result) or (error code, message) per thread."""
    barrier = threading.Barrier(count)

    def one(index):
        with app.app_context():
            session = db.session
            try:
                user = session.scalar(sa.select(User).where(User.username == "wang_kuaiji"))
                session.commit()
                barrier.wait(timeout=30)
                result = work(session, user, index)
                session.commit()
                return "ok", result
            except LedgerError as error:
                session.rollback()
                return error.code, error.message
            finally:
                session.remove()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_only_the_affordable_disbursements_succeed(app, session, finance):
    services.record_receipt(session, finance, YUTAI, 12 * 500_00, source="donation", payer_name="捐赠人",
                            value_on=on(4, 1))
    session.commit()
    low_water = []
    stop = threading.Event()

    def watch():
        """Samples what a reader sees while the payments run (a sampler, not a synchronisation);
        it stops when told, or after two minutes at most."""
        deadline = time.monotonic() + 120
        with app.app_context():
            while time.monotonic() < deadline:
                fund = db.session.execute(sa.select(Fund.balance_posted_fen, Fund.pending_fen)
                                          .where(Fund.code == YUTAI)).one()
                low_water.append(fund.balance_posted_fen - fund.pending_fen)
                db.session.rollback()
                if stop.wait(0.005):
                    break
            db.session.remove()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        outcomes = run_together(app, 24, lambda s, user, i: services.disburse(
            s, user, YUTAI, 500_00, payee=ZHANG, purpose="emergency_aid", value_on=on(4, 2)).voucher_no)
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert not watcher.is_alive()
    codes = [code for code, _ in outcomes]
    assert codes.count("ok") == 12 and codes.count("insufficient_funds") == 12
    vouchers = sorted(result for code, result in outcomes if code == "ok")
    assert vouchers == [f"JZ-2026-370827-{n:06d}" for n in range(2, 14)]  # gap-free after the receipt
    assert min(low_water) >= 0
    session.expire_all()
    assert services.fund_balance(session, None, YUTAI).available_fen == 0
    assert maintained_differences(session) == []
    assert services.verify_journal(session).ok


def test_allocations_both_ways_at_once_all_complete(app, session, finance):
    for code in (YUTAI, CITY):
        services.record_receipt(session, finance, code, 100_000_00, source="government", payer_name="财政局",
                                value_on=on(4, 1))
    session.commit()

    def allocate(s, user, index):
        source, target = (YUTAI, CITY) if index % 2 == 0 else (CITY, YUTAI)
        for _ in range(5):
            services.allocate(s, user, source, target, 100_00 + index, value_on=on(4, 3))
            s.commit()
        return index

    outcomes = run_together(app, 20, allocate)
    assert [code for code, _ in outcomes] == ["ok"] * 20
    session.expire_all()
    moved_to_city = sum(5 * (100_00 + i) for i in range(0, 20, 2))
    moved_to_yutai = sum(5 * (100_00 + i) for i in range(1, 20, 2))
    assert services.fund_balance(session, None, CITY).posted_fen == (
        100_000_00 + moved_to_city - moved_to_yutai)
    assert session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)) == 2 + 100
    assert maintained_differences(session) == []
    assert services.verify_journal(session).ok


def test_the_same_idempotency_key_sent_twice_at_once_makes_one_entry(app, session, finance):
    services.record_receipt(session, finance, YUTAI, 5_000_00, source="donation", payer_name="捐赠人",
                            value_on=on(4, 1))
    session.commit()
    body = b'{"amount": "800.00", "payee_name": "\\u5f20\\u79c0\\u82f1"}'
    fingerprint = request_fingerprint("POST", "/api/v1/funds/370827/disbursements", body)
    engine = db.engine

    def pay(s, user, index):
        def operation():
            entry = services.disburse(s, user, YUTAI, 800_00, payee=ZHANG, purpose="medical_aid",
                                      value_on=on(4, 5))
            # Keep the first transaction open until its twin has arrived and waits on its key.
            wait_for_blocked_backends(engine, 1)
            return 201, {"voucher_no": entry.voucher_no}

        return run_idempotent(s, user.id, "pay-zhang-0405", fingerprint, operation)

    outcomes = run_together(app, 2, pay)
    assert [code for code, _ in outcomes] == ["ok", "ok"]
    assert outcomes[0][1] == outcomes[1][1] == (201, {"voucher_no": "JZ-2026-370827-000002"})
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)
                          .where(JournalEntry.kind == "disbursement")) == 1
    assert services.fund_balance(session, None, YUTAI).posted_fen == 4_200_00


def test_holds_and_payments_race_without_overcommitting(app, session, finance):
    services.record_receipt(session, finance, YUTAI, 10 * 1_000_00, source="donation", payer_name="捐赠人",
                            value_on=on(4, 1))
    session.commit()

    def commit_money(s, user, index):
        if index % 2:
            return services.place_hold(s, user, YUTAI, 1_000_00, expires_at=utcnow() + timedelta(days=1),
                                       purpose="emergency_aid").id
        return services.disburse(s, user, YUTAI, 1_000_00, payee=ZHANG, purpose="emergency_aid",
                                 value_on=on(4, 6)).voucher_no

    outcomes = run_together(app, 20, commit_money)
    codes = [code for code, _ in outcomes]
    assert codes.count("ok") == 10 and codes.count("insufficient_funds") == 10
    session.expire_all()
    figures = services.fund_balance(session, None, YUTAI)
    assert figures.available_fen == 0 and figures.posted_fen + 0 >= figures.pending_fen
    assert maintained_differences(session) == []


def first_holds_then_second(app, first, second):
    """`first(session, user)` runs in one thread and keeps its transaction open; `second` starts in
    another thread once `first` has done its work, and `first` commits only when PostgreSQL shows
    `second`'s backend waiting on a lock (pg_stat_activity), so `second` has provably come while
    `first` held. Returns what happened, in the order it happened: "<name> committed" or
    "<name> refused: <code>"."""
    with app.app_context():
        engine = db.engine
    holding = threading.Event()
    order = []
    failures = []

    def run(name, step, holds):
        if not holds:
            assert holding.wait(30), f"{name}: the first transaction never got to hold"
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.username == "wang_kuaiji"))
            try:
                step(db.session, user)
                if holds:
                    holding.set()
                    wait_for_blocked_backends(engine, 1)
                    order.append(f"{name} committed")  # before commit: the other may go on at once
                db.session.commit()
                if not holds:
                    order.append(f"{name} committed")
            except LedgerError as error:
                holding.set()
                db.session.rollback()
                order.append(f"{name} refused: {error.code}")
            except BaseException as error:  # a failed wait: end the transaction so the other can finish
                holding.set()
                db.session.rollback()
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(*first, True)), threading.Thread(target=run, args=(*second, False))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a transaction did not finish"
    if failures:
        raise failures[0]
    return order


def _pay_in_may(session, user):
    services.disburse(session, user, YUTAI, 100_00, payee=ZHANG, purpose="medical_aid", value_on=on(5, 20))


def _close_may(session, user):
    services.close_period(session, user, "2026-05")


def test_a_month_cannot_be_closed_under_a_posting_in_flight(app, session, finance):
    services.record_receipt(session, finance, YUTAI, 1_000_00, source="donation", payer_name="捐赠人",
                            value_on=on(5, 1))
    session.commit()
    order = first_holds_then_second(app, ("payment", _pay_in_may), ("close", _close_may))
    assert order == ["payment committed", "close committed"]


def test_a_payment_that_comes_during_a_close_waits_for_it_and_is_refused(app, session, finance):
    services.record_receipt(session, finance, YUTAI, 1_000_00, source="donation", payer_name="捐赠人",
                            value_on=on(5, 1))
    session.commit()
    order = first_holds_then_second(app, ("close", _close_may), ("payment", _pay_in_may))
    assert order == ["close committed", "payment refused: period_closed"]
    session.expire_all()
    assert services.fund_balance(session, None, YUTAI).posted_fen == 1_000_00
