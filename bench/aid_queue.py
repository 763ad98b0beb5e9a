"""The reviewer queue's speed: its first page with 10,000 open applications against the same page
with 100, in the same run (the issue asks for at most 3x: an index range, not a scan).

Usage:

    .venv/bin/python bench/aid_queue.py                                   # a fresh SQLite file
    .venv/bin/python bench/aid_queue.py --database-url postgresql://postgres@127.0.0.1:5432/bench_aid

The database must be empty (or absent, for SQLite): it is migrated, seeded with the demo city, then
given the open applications of one county (Yutai) with one multi-row INSERT per thousand (their
state, clock and queue columns as submission writes them). Printed: the median time of
`applications.reviewer_queue` (page 1, 50 rows, as the county reviewer) at each size, and the ratio.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import sqlalchemy as sa  # noqa: E402

from ledger import create_app  # noqa: E402
from ledger.aid import applications  # noqa: E402
from ledger.aid.application_models import Application, ApplicationState, Urgency  # noqa: E402
from ledger.aid.models import Person  # noqa: E402
from ledger.auth.models import Organisation, Region, User  # noqa: E402
from ledger.extensions import db  # noqa: E402
from ledger.journal.models import Fund  # noqa: E402
from ledger.timeutil import utcnow  # noqa: E402

REPEATS = 30


def add_open_applications(session, count: int, start: int) -> None:
    yutai = session.scalar(sa.select(Region).where(Region.code == "370827"))
    fund_id = session.scalar(sa.select(Fund.id).where(Fund.code == "370827"))
    charity_id = session.scalar(sa.select(Organisation.id).where(Organisation.code == "CSH-370827"))
    persons = session.scalars(sa.select(Person.id).where(Person.county_id == yutai.id)).all()
    now = utcnow()
    rows = []
    for index in range(start, start + count):
        urgency = (Urgency.normal, Urgency.urgent, Urgency.especially_urgent)[index % 3]
        submitted = now - timedelta(minutes=index % 5000)
        deadline = applications.clock_deadline(urgency, submitted)
        rows.append(dict(
            number=f"SQ-2026-370827-{index + 1:06d}", state=ApplicationState.submitted.value,
            person_id=persons[index % len(persons)], county_id=yutai.id, fund_id=fund_id,
            filing_organisation_id=charity_id, diagnosis="肺炎", hospital="鱼台县人民医院", total_cost_fen=50_000_00,
            reimbursed_fen=20_000_00, out_of_pocket_fen=30_000_00, description="", urgency=urgency.value,
            reported_at=submitted, clock_deadline_at=deadline, queue_rank=0 if deadline else 1,
            queue_at=deadline or submitted, submitted_at=submitted, amount_requested_fen=10_000_00,
            decision_reason="", minimal_documents=False, created_at=now, updated_at=now))
        if len(rows) == 1000:
            session.execute(sa.insert(Application.__table__), rows)
            rows = []
    if rows:
        session.execute(sa.insert(Application.__table__), rows)
    session.commit()


def median_queue_seconds(session, reviewer) -> float:
    times = []
    for _ in range(REPEATS):
        session.expire_all()
        started = time.perf_counter()
        page = applications.reviewer_queue(session, reviewer, page=1, per_page=50)
        assert len(page.items) == 50
        times.append(time.perf_counter() - started)
        session.rollback()
    return statistics.median(times)


def measure(session) -> tuple[float, float, int]:
    """The queue's median time with ~100 open applications, then with ~10,000, and the open count."""
    reviewer = session.scalar(sa.select(User).where(User.username == "reviewer_yutai"))
    session.execute(sa.text("ANALYZE"))
    session.commit()
    add_open_applications(session, 100, 100_000)
    small = median_queue_seconds(session, reviewer)
    add_open_applications(session, 9_900, 100_100)
    session.execute(sa.text("ANALYZE aid_applications" if session.get_bind().dialect.name == "postgresql"
                            else "ANALYZE"))
    session.commit()
    large = median_queue_seconds(session, reviewer)
    open_count = session.scalar(sa.select(sa.func.count()).select_from(Application)
                                .where(Application.state.in_(applications.OPEN_STATES)))
    return small, large, open_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()
    url = arguments.database_url or "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench-aid.sqlite3")
    app = create_app({"LEDGER_CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        from flask_migrate import upgrade

        from ledger.demo import seed

        upgrade()
        seed(db.session)
        db.session.commit()
        small, large, open_count = measure(db.session)
        dialect = db.session.get_bind().dialect.name
    print(f"{dialect}: queue page 1 (50 rows) with ~100 open applications: {small * 1000:.2f} ms; "
          f"with {open_count} open in the city: {large * 1000:.2f} ms; ratio {large / small:.2f}")


if __name__ == "__main__":
    main()
