"""Two reviewers reassign the same person at the same moment (PostgreSQL, real threads).

The first holds its transaction open after reassigning; the second waits for the person's row lock
(seen in pg_stat_activity), then reads the first one's assignment and is refused: one new vendor, and
never two assignments over one day."""
from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from ledger.auth.services import get_user
from ledger.errors import LedgerError
from ledger.extensions import db
from ledger.vendors import persons as services
from ledger.vendors.person_models import CareAssignment
from tests.support import wait_for_blocked_backends
from tests.vendors.test_supported_persons import api, imported, new_id, row  # noqa: F401  (api is a fixture)


@pytest.mark.postgres
def test_two_reassignments_of_one_person_at_once_make_one(demo_app, api):  # noqa: F811
    resident_id = new_id()
    person_id = imported(api, [row("邵玉珍", resident_id, since="2026-01-01")])[resident_id]
    first_done, release_first = threading.Event(), threading.Event()
    outcomes = {}

    def reassign(name, vendor_code, hold):
        with demo_app.app_context():
            try:
                assignment = services.reassign(db.session, get_user(db.session, "reviewer_yutai"), person_id,
                                               vendor_code, date(2026, 5, 16))
                if hold:
                    first_done.set()
                    assert release_first.wait(30)
                db.session.commit()
                outcomes[name] = assignment.id
            except LedgerError as error:
                db.session.rollback()
                outcomes[name] = error.code
            finally:
                first_done.set()
                db.session.remove()

    first = threading.Thread(target=reassign, args=("first", "HL-370800-02", True))
    second = threading.Thread(target=reassign, args=("second", "HL-370800-02", False))
    first.start()
    assert first_done.wait(30)
    second.start()
    wait_for_blocked_backends(demo_app, 1)
    release_first.set()
    first.join(30)
    second.join(30)

    assert isinstance(outcomes["first"], int)
    assert outcomes["second"] == "assignment_overlap"
    with demo_app.app_context():
        periods = db.session.execute(sa.select(CareAssignment.valid_from, CareAssignment.valid_to)
                                     .where(CareAssignment.person_id == person_id)
                                     .order_by(CareAssignment.valid_from)).all()
    assert periods == [(date(2026, 1, 1), date(2026, 5, 15)), (date(2026, 5, 16), None)]
