"""Two reviewers approve at once on a fund that can afford one of them (PostgreSQL, real threads).

The fund's row lock orders the two holds: the second approval waits for the first to commit, then
sees the money held and is refused with insufficient_funds, its application still under review.
The order is proved by waiting for the blocked backend in pg_stat_activity, never by sleeping.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ledger.aid import applications
from ledger.aid.application_models import Application, ApplicationState
from ledger.auth.models import User
from ledger.errors import LedgerError
from ledger.extensions import db
from ledger.journal.models import Hold
from tests.aid.conftest import MARCH_10
from tests.support import wait_for_blocked_backends

pytestmark = pytest.mark.postgres
VILLAGE = "370827-002"


def test_two_approvals_at_once_exactly_one_gets_the_hold(demo_app, desk):
    desk.policy(VILLAGE, county_max=1_000_000_00, cap=1_000_000_00)
    available = desk.available(VILLAGE)
    amount = available // 2 + 1_00  # one fits, two do not
    first = desk.under_review(desk.person(), fund=VILLAGE)
    second = desk.under_review(desk.person(), fund=VILLAGE)
    desk.session.commit()
    holding = threading.Event()

    def approve(application_id: int, leads: bool):
        with demo_app.app_context():
            session = db.session
            try:
                reviewer = session.scalar(sa.select(User).where(User.username == "reviewer_yutai_2"))
                session.commit()
                if not leads:
                    holding.wait(timeout=30)
                applications.approve_application(session, reviewer, application_id, amount_fen=amount,
                                                 now=MARCH_10 + timedelta(hours=1))
                if leads:
                    holding.set()
                    wait_for_blocked_backends(db.engine, 1)  # the other approval waits on the fund
                session.commit()
                return "ok"
            except LedgerError as error:
                session.rollback()
                holding.set()
                return error.code
            finally:
                session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda args: approve(*args), [(first.id, True), (second.id, False)]))

    assert outcomes == ["ok", "insufficient_funds"]
    desk.session.expire_all()
    states = {application.id: application.state for application in
              desk.session.scalars(sa.select(Application).where(Application.id.in_([first.id, second.id])))}
    assert states == {first.id: ApplicationState.approved, second.id: ApplicationState.under_review}
    assert desk.session.scalar(sa.select(sa.func.count()).select_from(Hold)
                               .where(Hold.reference.in_([first.number, second.number]))) == 1
    assert desk.available(VILLAGE) == available - amount
