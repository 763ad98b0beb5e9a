"""Held visits resolved by the vendor or the reviewer, and the coverage of a month.

A held visit moves once, to verified or rejected by its resolution code, keeping its reasons and
its resolution (who, code, why) and leaving an audit event; a vendor may resolve within 95 days of
the visit, the reviewer at any time. Coverage counts, per county and vendor, the persons who got
their minimum of verified visits (self-caring under the demo contract: 2 a month), those with none,
and the visits by state and reason.
"""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ledger.audit import AuditEvent
from ledger.extensions import db
from ledger.timeutil import local_today
from ledger.vendors import visits as services
from ledger.vendors.visit_models import CareVisit
from tests.vendors.test_supported_persons import api, imported, new_id, row  # noqa: F401
from tests.vendors.test_visits_rules import DAY, upload, user, visit

_keys = itertools.count(1)


@pytest.fixture
def persons(api):  # noqa: F811
    ids = [new_id() for _ in range(3)]
    imported(api, [row(f"核{index}某", resident_id) for index, resident_id in enumerate(ids)])
    return ids


def resolve(client, headers, visit_id, code, reason="离开时间已电话核实"):
    return client.post(f"/api/v1/care/visits/{visit_id}/resolution",
                       headers={**headers, "Idempotency-Key": f"resolve-{next(_keys)}"},
                       json={"resolution_code": code, "reason": reason})


def held_visit_id(app, resident_id):
    with app.app_context():
        return db.session.scalar(sa.select(CareVisit.id).where(CareVisit.resident_id == resident_id,
                                                              CareVisit.state == "held"))


def test_the_vendor_confirms_a_check_out_and_the_visit_keeps_its_history(demo_app, demo_token_for, persons):
    upload(demo_app, [visit(persons[0], end="")])
    visit_id = held_visit_id(demo_app, persons[0])
    client, headers = demo_app.test_client(), demo_token_for("vendor")
    answer = resolve(client, headers, visit_id, "checkout_confirmed")
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["state"] == "verified" and body["reasons"] == ["no_checkout"]
    assert body["resolution"]["resolution_code"] == "checkout_confirmed"
    again = resolve(client, headers, visit_id, "not_given")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "illegal_transition"
    with demo_app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.target == f"care_visit:{visit_id}",
                                                                AuditEvent.action == "care_visit.accept")).all()
        assert len(events) == 1


def test_care_not_given_rejects_the_held_visit(demo_app, demo_token_for, persons):
    upload(demo_app, [visit(persons[0], start="09:00", end="09:10")])
    answer = resolve(demo_app.test_client(), demo_token_for("reviewer_yutai"), held_visit_id(demo_app, persons[0]),
                     "not_given", "服务对象称当天未上门")
    assert answer.status_code == 201
    assert answer.get_json()["state"] == "rejected"


def test_a_reason_is_required(demo_app, demo_token_for, persons):
    upload(demo_app, [visit(persons[0], end="")])
    answer = resolve(demo_app.test_client(), demo_token_for("vendor"), held_visit_id(demo_app, persons[0]),
                     "checkout_confirmed", reason="  ")
    assert answer.status_code == 422
    assert "reason" in answer.get_json()["error"]["fields"]


def test_the_vendor_has_95_days_the_reviewer_has_no_limit(demo_app, persons):
    with demo_app.app_context():
        old_day = local_today() - timedelta(days=96)
    upload(demo_app, [visit(persons[0], day=old_day, end=""), visit(persons[1], day=old_day + timedelta(days=1),
                                                                    end="")])
    with demo_app.app_context():
        late = held_visit_id(demo_app, persons[0])
        in_time = held_visit_id(demo_app, persons[1])
        with pytest.raises(services.ResolutionTooLate):
            services.resolve_visit(db.session, user("vendor"), late, "checkout_confirmed", "核实")
        db.session.rollback()
        assert services.resolve_visit(db.session, user("vendor"), in_time, "checkout_confirmed", "核实").state \
            == "verified"
        assert services.resolve_visit(db.session, user("reviewer_yutai"), late, "checkout_confirmed", "核实").state \
            == "verified"
        db.session.commit()


def _ours(app, month, who="reviewer_yutai"):
    with app.app_context():
        rows = services.coverage(db.session, user(who), month, county_code="370827")
        assert {item.county_code for item in rows} <= {"370827"}
        return next(item for item in rows if item.vendor_code == "HL-370800-01")


def test_coverage_counts_persons_covered_and_without_visits(demo_app, persons):
    before = _ours(demo_app, DAY)
    later = DAY + timedelta(days=1)
    upload(demo_app, [visit(persons[0]), visit(persons[0], day=later),  # two verified visits: covered
                      visit(persons[1], worker="G1002"), visit(persons[1], day=later, worker="G1002", end=""),
                      visit(new_id(), worker="G1003")])  # an unknown person: no county, not counted here
    after = _ours(demo_app, DAY)
    assert after.persons == before.persons
    assert after.persons_covered - before.persons_covered == 1  # persons[1] has one verified visit of 2
    assert after.persons_without_visit - before.persons_without_visit == -2  # persons[2] still has none
    assert after.visits["verified"] - before.visits["verified"] == 3
    assert after.visits["held"] - before.visits["held"] == 1
    assert after.reasons.get("no_checkout", 0) - before.reasons.get("no_checkout", 0) == 1
    with demo_app.app_context():
        assert {item.vendor_code for item in services.coverage(db.session, user("vendor"), DAY)} == {"HL-370800-01"}


def test_coverage_through_the_api(demo_app, demo_token_for, persons):
    upload(demo_app, [visit(persons[0])])
    client = demo_app.test_client()
    answer = client.get("/api/v1/care/visits/coverage", headers=demo_token_for("reviewer_yutai"),
                        query_string={"month": DAY.strftime("%Y-%m")})
    assert answer.status_code == 200
    rows = answer.get_json()["rows"]
    assert {item["county_code"] for item in rows} == {"370827"}
    assert client.get("/api/v1/care/visits/coverage", headers=demo_token_for("reviewer_yutai"),
                      query_string={"month": DAY.strftime("%Y-%m"), "county": "370811"}).status_code == 404
