"""Two visit files of one vendor at the same time, on PostgreSQL with real threads: the second waits
for the first (the lock on the vendor's row), so it sees the first's visits: a visit overlapping one
of the first file is held, and the same file sent twice at once is recorded once."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from ledger.extensions import db
from ledger.vendors import visits as services
from ledger.vendors.visit_models import CareVisit, VisitUpload
from tests.support import wait_for_blocked_backends
from tests.vendors.test_supported_persons import api, imported, new_id, row  # noqa: F401
from tests.vendors.test_visits_rules import user, visit, visits_csv

pytestmark = pytest.mark.postgres


def one_after_the_other(app, first: bytes, second: bytes) -> list:
    """Upload `first` and hold its transaction until `second`'s backend waits on a lock, then commit;
    the outcomes (upload ids, or the refusal), first's then second's."""
    with app.app_context():
        engine = db.engine
    holding = threading.Event()
    outcomes, failures = {}, []

    def run(name, data, holds):
        if not holds:
            assert holding.wait(30), "the first upload never got to hold"
        with app.app_context():
            try:
                outcome = services.apply_upload(db.session, user("vendor"), data, f"{name}.csv")
                if holds:
                    holding.set()
                    wait_for_blocked_backends(engine, 1)
                db.session.commit()
                outcomes[name] = (outcome.upload.id, outcome.applied_now)
            except BaseException as error:
                holding.set()
                db.session.rollback()
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=("first", first, True)),
               threading.Thread(target=run, args=("second", second, False))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "an upload did not finish"
    if failures:
        raise failures[0]
    return [outcomes["first"], outcomes["second"]]


@pytest.fixture
def persons(api):  # noqa: F811
    ids = [new_id(), new_id()]
    imported(api, [row("并甲某", ids[0]), row("并乙某", ids[1])])
    return ids


def test_a_second_file_waits_and_sees_the_first_files_visits(demo_app, persons):
    first = visits_csv([visit(persons[0], start="09:00", end="10:00")])
    second = visits_csv([visit(persons[1], start="09:30", end="10:30")])  # the same worker G1001
    (first_id, _), (second_id, _) = one_after_the_other(demo_app, first, second)
    with demo_app.app_context():
        assert db.session.scalar(sa.select(CareVisit.state).where(CareVisit.upload_id == first_id)) == "verified"
        held = db.session.scalar(sa.select(CareVisit).where(CareVisit.upload_id == second_id))
        assert (held.state, held.reasons) == ("held", ["worker_overlap"])


def test_the_same_file_twice_at_once_is_recorded_once(demo_app, persons):
    data = visits_csv([visit(persons[0], start="13:00", end="14:00")])
    (first_id, first_now), (second_id, second_now) = one_after_the_other(demo_app, data, data)
    assert (first_now, second_now) == (True, False) and first_id == second_id
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CareVisit.id)).where(CareVisit.upload_id == first_id)) == 1
        assert db.session.scalar(sa.select(sa.func.count(VisitUpload.id)).where(VisitUpload.id == first_id)) == 1
