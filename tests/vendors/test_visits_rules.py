"""Verification of care visits, rule by rule, told from the demo vendor HL-370800-01's side.

Each test registers its own persons in 鱼台县 (the Yutai reviewer's import, assigned to the demo
vendor from 1 January, self-caring: at least 2 visits a month of at least 30 minutes), then
uploads a visit file as the vendor and reads what became of every row. Workers G1001..G1011 of the
vendor are active; G1012 left 30 days ago.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from ledger import imports
from ledger.auth.models import User
from ledger.extensions import db
from ledger.timeutil import local_today
from ledger.vendors import persons as person_services
from ledger.vendors import visits as services
from ledger.vendors.person_models import SupportedStatus
from ledger.vendors.visit_models import CareVisit, VisitState
from tests.vendors.test_supported_persons import api, imported, new_id, row  # noqa: F401 (api: a fixture)

HEADER = "身份证号,护理员编号,服务日期,开始时间,结束时间,服务项目,纬度,经度,服务地址,记录方式"
HOME = ("35.003112", "116.650927")
#: A day of last month: the visits of a monthly file.
DAY = (local_today().replace(day=1) - timedelta(days=20))


def visit(resident_id, worker="G1001", day=DAY, start="09:00", end="10:00", services_="生活照料、清洁",
          gps=HOME, address="", method="APP签到") -> str:
    latitude, longitude = gps if gps else ("", "")
    return ",".join([resident_id, worker, day.isoformat(), start, end, services_, latitude, longitude, address,
                     method])


def visits_csv(lines, encoding="utf-8-sig") -> bytes:
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode(encoding)


def user(username):
    return db.session.scalar(sa.select(User).where(User.username == username))


def upload(app, lines, username="vendor", encoding="utf-8-sig"):
    """Apply a visit file as the vendor; the visits by row number."""
    data = visits_csv(lines, encoding)
    with app.app_context():
        outcome = services.apply_upload(db.session, user(username), data, "11月服务记录.csv")
        db.session.commit()
        return {visit.row_number: (visit.state, visit.reasons) for visit in db.session.scalars(
            sa.select(CareVisit).where(CareVisit.upload_id == outcome.upload.id))}


@pytest.fixture
def persons(api, demo_app):  # noqa: F811
    """Three persons of 鱼台县 cared for by the demo vendor; {name: resident ID}."""
    ids = {name: new_id() for name in ("甲", "乙", "丙")}
    imported(api, [row(name + "某", resident_id) for name, resident_id in ids.items()])
    return ids


def test_a_sound_visit_is_verified(demo_app, persons):
    visits = upload(demo_app, [visit(persons["甲"])])
    assert visits == {2: (VisitState.verified, [])}


def test_unknown_person_is_rejected(demo_app, persons):
    visits = upload(demo_app, [visit(new_id()), visit(persons["甲"])])
    assert visits[2] == (VisitState.rejected, ["unknown_person"])
    assert visits[3] == (VisitState.verified, [])


def test_a_person_of_another_vendor_is_rejected(demo_app, api, persons):  # noqa: F811
    other = new_id()
    imported(api, [row("丁某", other, vendor="HL-370800-02")])
    visits = upload(demo_app, [visit(other), visit(persons["甲"])])
    assert visits[2] == (VisitState.rejected, ["not_assigned"])
    assert visits[3][0] == VisitState.verified


def test_unknown_and_inactive_workers_are_rejected(demo_app, persons):
    visits = upload(demo_app, [visit(persons["甲"], worker="G9999"), visit(persons["乙"], worker="G1012"),
                               visit(persons["丙"], worker="G1004")])
    assert visits[2] == (VisitState.rejected, ["unknown_worker"])
    assert visits[3] == (VisitState.rejected, ["inactive_worker"])
    assert visits[4] == (VisitState.verified, [])


def test_end_before_start_and_longer_than_a_day_are_rejected(demo_app, persons):
    next_day = (DAY + timedelta(days=1)).isoformat()
    visits = upload(demo_app, [
        visit(persons["甲"], start="10:00", end="09:30"),
        visit(persons["乙"], start="08:00", end=f"{next_day} 08:01"),
        visit(persons["丙"], start="20:00", end=f"{next_day} 07:00", worker="G1002"),  # overnight, 11 hours
    ])
    assert visits[2] == (VisitState.rejected, ["end_before_start"])
    assert visits[3] == (VisitState.rejected, ["longer_than_24h"])
    assert visits[4] == (VisitState.verified, [])


def test_a_visit_recorded_before_is_a_duplicate(demo_app, persons):
    first = upload(demo_app, [visit(persons["甲"]), visit(persons["甲"])])
    assert first == {2: (VisitState.verified, []), 3: (VisitState.rejected, ["duplicate"])}
    again = upload(demo_app, [visit(persons["甲"]), visit(persons["甲"], start="14:00", end="15:00")])
    assert again == {2: (VisitState.rejected, ["duplicate"]), 3: (VisitState.verified, [])}


def test_no_checkout_is_held(demo_app, persons):
    visits = upload(demo_app, [visit(persons["甲"], end=""), visit(persons["乙"])])
    assert visits == {2: (VisitState.held, ["no_checkout"]), 3: (VisitState.verified, [])}


def test_gps_more_than_a_kilometre_from_home_is_held(demo_app, persons):
    # 0.012 degrees of latitude is about 1.33 km; 0.008 about 0.89 km; an address instead of GPS is not checked.
    visits = upload(demo_app, [visit(persons["甲"], gps=("35.015112", HOME[1])),
                               visit(persons["乙"], gps=("35.011112", HOME[1]), worker="G1002"),
                               visit(persons["丙"], gps=None, address="滨湖街道城西村8号", worker="G1003")])
    assert visits[2] == (VisitState.held, ["far_from_home"])
    assert visits[3] == (VisitState.verified, [])
    assert visits[4] == (VisitState.verified, [])


def test_the_same_worker_in_two_overlapping_visits_of_two_persons_is_held(demo_app, persons):
    visits = upload(demo_app, [
        visit(persons["甲"], start="09:00", end="10:00"),
        visit(persons["乙"], start="09:59", end="11:00"),  # one minute with the first
        visit(persons["丙"], start="11:00", end="12:00"),  # starts as the second ends: no overlap
        visit(persons["丙"], start="09:30", end="10:30", worker="G1002"),  # another worker
    ])
    assert visits[2] == (VisitState.held, ["worker_overlap"])
    assert visits[3] == (VisitState.held, ["worker_overlap"])
    assert visits[4] == (VisitState.verified, [])
    assert visits[5] == (VisitState.verified, [])


def test_an_overlap_with_a_visit_of_an_earlier_file_is_held(demo_app, persons):
    upload(demo_app, [visit(persons["甲"], start="09:00", end="10:00")])
    visits = upload(demo_app, [visit(persons["乙"], start="09:30", end="10:30")])
    assert visits[2] == (VisitState.held, ["worker_overlap"])


def test_shorter_than_the_contract_minimum_is_held(demo_app, persons):
    # Self-caring persons under the demo contract: 30 minutes at least.
    visits = upload(demo_app, [visit(persons["甲"], start="09:00", end="09:29"),
                               visit(persons["乙"], start="09:00", end="09:30", worker="G1002")])
    assert visits[2] == (VisitState.held, ["shorter_than_minimum"])
    assert visits[3] == (VisitState.verified, [])


def _status(app, resident_id, status, day):
    with app.app_context():
        person_id = db.session.scalar(sa.text("SELECT id FROM care_persons WHERE resident_id = :r"),
                                      {"r": resident_id})
        person_services.record_status(db.session, user("reviewer_yutai"), person_id, status, day, "")
        db.session.commit()


def test_a_visit_on_the_day_of_death_counts_the_day_after_does_not(demo_app, persons):
    _status(demo_app, persons["甲"], SupportedStatus.deceased, DAY)
    visits = upload(demo_app, [visit(persons["甲"], start="08:00", end="09:00"),
                               visit(persons["甲"], day=DAY + timedelta(days=1))])
    assert visits[2] == (VisitState.verified, [])
    assert visits[3] == (VisitState.rejected, ["person_deceased"])


def test_a_person_in_an_institution_that_day_is_rejected(demo_app, persons):
    _status(demo_app, persons["甲"], SupportedStatus.in_institution, DAY)
    visits = upload(demo_app, [visit(persons["甲"], day=DAY - timedelta(days=1)), visit(persons["甲"])])
    assert visits[2] == (VisitState.verified, [])
    assert visits[3] == (VisitState.rejected, ["person_in_institution"])


def test_an_assignment_changed_mid_month_sends_each_day_to_its_vendor(demo_app, api, persons):  # noqa: F811
    from tests.vendors.test_supported_persons import vendor_user
    other = vendor_user(demo_app, "vendor_02", "HL-370800-02")
    changed_on = DAY + timedelta(days=3)
    with demo_app.app_context():
        person_id = db.session.scalar(sa.text("SELECT id FROM care_persons WHERE resident_id = :r"),
                                      {"r": persons["甲"]})
        person_services.reassign(db.session, user("reviewer_yutai"), person_id, "HL-370800-02", changed_on)
        db.session.commit()
        worker = db.session.scalar(sa.text(
            "SELECT w.worker_number FROM care_workers w JOIN care_vendor_profiles vp ON vp.id = w.vendor_id "
            "JOIN organisations o ON o.id = vp.organisation_id WHERE o.code = 'HL-370800-02' "
            "AND w.active_to IS NULL ORDER BY w.worker_number LIMIT 1"))
    before, after = DAY + timedelta(days=2), changed_on
    old = upload(demo_app, [visit(persons["甲"], day=before), visit(persons["甲"], day=after)])
    assert old == {2: (VisitState.verified, []), 3: (VisitState.rejected, ["not_assigned"])}
    new = upload(demo_app, [visit(persons["甲"], day=before, worker=worker),
                            visit(persons["甲"], day=after, worker=worker)], username=other)
    assert new == {2: (VisitState.rejected, ["not_assigned"]), 3: (VisitState.verified, [])}


def test_several_reasons_are_all_named(demo_app, persons):
    visits = upload(demo_app, [visit(persons["甲"], worker="G9999", start="10:00", end="09:00")])
    assert visits[2] == (VisitState.rejected, ["unknown_worker", "end_before_start"])
