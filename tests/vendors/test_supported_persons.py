"""Supported persons under home care, told from the Yutai county desk and the vendors' side.

Runs on the demo data: Yutai (370827) with its village 城西村 370827-001, Rencheng (370811), the
demo vendors HL-370800-01..03 and the demo users (reviewer_yutai confined to Yutai; reviewer,
finance, admin and auditor city-wide; vendor of HL-370800-01; charity_yutai outside the programme).
Each test brings its own persons through the import, so that it reads alone.
"""
from __future__ import annotations

import base64
import itertools
from datetime import date

import pytest
import sqlalchemy as sa

from ledger.aid.demo import demo_resident_id
from ledger.auth.models import Organisation, Role, User
from ledger.auth.services import get_user, hash_password
from ledger.extensions import db
from ledger.vendors import persons as services
from ledger.vendors.models import Contract, VendorProfile
from ledger.vendors.person_models import (CareAssessment, CareAssignment, CareLevel, SupportedPerson,
                                          SupportedStatus)
from tests.support import bearer_headers, signed_in_client

CHENGXI = "370827-001"
HEADER = ("姓名", "身份证号", "村（社区）代码", "住址", "纬度", "经度", "纳入日期", "照护机构代码", "评估日期", "评估人",
          "进食", "穿衣", "上下床", "如厕", "室内行走", "洗澡")
ALL_ABLE = ("能",) * 6
_keys = itertools.count(1)
_sequences = itertools.count(600)


def new_id(region="370827", born=date(1924, 3, 9), male=False) -> str:
    """A resident ID no demo person has (the demo's are 60 to 98 years old)."""
    return demo_resident_id(region, born, next(_sequences), male)


def row(name, resident_id, village=CHENGXI, vendor="HL-370800-01", since="2026-01-01", answers=ALL_ABLE,
        assessed_on="2026-01-05"):
    return [name, resident_id, village, "滨湖街道城西村8号", "35.003112", "116.650927", since, vendor,
            assessed_on, "李评估", *answers]


def persons_csv(rows, encoding="gbk") -> bytes:
    lines = [",".join(HEADER)] + [",".join(cells) for cells in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


class Api:
    def __init__(self, client, headers):
        self.client, self.headers = client, dict(headers)

    def get(self, path, **kwargs):
        return self.client.get("/api/v1/care" + path, headers=self.headers, **kwargs)

    def post(self, path, json, key=None):
        return self.client.post("/api/v1/care" + path, json=json,
                                headers={**self.headers, "Idempotency-Key": key or f"care-{next(_keys)}"})

    def import_file(self, data: bytes, apply: bool, filename="特困人员.csv"):
        return self.post("/persons/import", {"filename": filename, "apply": apply,
                                             "content_base64": base64.b64encode(data).decode()})


@pytest.fixture
def api(demo_app, demo_token_for):
    client = demo_app.test_client()
    return lambda username: Api(client, demo_token_for(username))


def imported(api, rows) -> dict[str, int]:
    """Import `rows` as the Yutai reviewer; {resident ID: person id}."""
    answer = api("reviewer_yutai").import_file(persons_csv(rows), apply=True)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["applied"] is True
    return ids_of(api, [cells[1] for cells in rows])


def ids_of(api, resident_ids) -> dict[str, int]:
    found = {}
    for resident_id in resident_ids:
        items = api("reviewer").get("/persons", query_string={"q": resident_id}).get_json()["items"]
        assert len(items) == 1
        found[resident_id] = items[0]["id"]
    return found


def vendor_user(app, username: str, vendor_code: str) -> str:
    """A user of another demo vendor (the demo has one vendor user)."""
    with app.app_context():
        organisation = db.session.scalar(sa.select(Organisation).where(Organisation.code == vendor_code))
        db.session.add(User(username=username, role=Role.vendor, organisation=organisation, display_name=username,
                            password_hash=hash_password("correct horse battery"), active=True, failed_login_count=0))
        db.session.commit()
    return username


# --- the assessment's rule ------------------------------------------------------------------------

@pytest.mark.parametrize("unable, level", [(0, CareLevel.self_caring), (1, CareLevel.partly_disabled),
                                           (3, CareLevel.partly_disabled), (4, CareLevel.fully_disabled),
                                           (6, CareLevel.fully_disabled)])
def test_the_self_care_assessment_gives_the_level_by_how_many_activities_are_unable(demo_app, api, unable, level):
    activities = ("eating", "dressing", "transferring", "toileting", "walking_indoors", "bathing")
    answers = {name: index >= unable for index, name in enumerate(activities)}
    assert services.care_level_from_answers(answers) == level

    resident_id = new_id()
    person_id = imported(api, [row("赵桂兰", resident_id, answers=("能",) * 6)])[resident_id]
    answer = api("reviewer_yutai").post(f"/persons/{person_id}/assessments",
                                        {"assessed_on": "2026-06-01", "assessor": "王医生", "answers": answers})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["care_level"] == level.value
    shown = api("reviewer_yutai").get(f"/persons/{person_id}").get_json()
    assert shown["care_level"] == level.value
    assert [item["care_level"] for item in shown["assessments"]] == [level.value, "self_caring"]


def test_the_database_refuses_an_assessment_whose_level_does_not_follow_from_its_answers(demo_app, api):
    resident_id = new_id()
    person_id = imported(api, [row("钱玉英", resident_id)])[resident_id]
    with demo_app.app_context():
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(sa.insert(CareAssessment.__table__).values(
                person_id=person_id, assessed_on=date(2026, 7, 1), assessor="x", eating_able=False,
                dressing_able=False, transferring_able=False, toileting_able=False, walking_indoors_able=True,
                bathing_able=True, care_level="partly_disabled", created_at=sa.func.now()))
        db.session.rollback()


# --- effective-dated history ----------------------------------------------------------------------

def test_a_reassignment_in_the_middle_of_a_month_ends_the_old_one_the_day_before(demo_app, api):
    resident_id = new_id()
    person_id = imported(api, [row("孙秀英", resident_id, answers=("能", "能", "不能", "能", "能", "不能"))])[resident_id]
    reviewer = api("reviewer_yutai")
    answer = reviewer.post(f"/persons/{person_id}/assignments", {"vendor_code": "HL-370800-02",
                                                                 "valid_from": "2026-03-16"})
    assert answer.status_code == 201, answer.get_json()
    assert reviewer.post(f"/persons/{person_id}/assessments", {
        "assessed_on": "2026-03-20", "assessor": "王医生",
        "answers": {"eating": False, "dressing": False, "transferring": False, "toileting": False,
                    "walking_indoors": True, "bathing": True}}).status_code == 201

    shown = reviewer.get(f"/persons/{person_id}").get_json()
    assert [(item["vendor_code"], item["valid_from"], item["valid_to"]) for item in shown["assignments"]] == [
        ("HL-370800-02", "2026-03-16", None), ("HL-370800-01", "2026-01-01", "2026-03-15")]
    with demo_app.app_context():
        person = db.session.get(SupportedPerson, person_id)
        assert services.assignment_on(person, date(2026, 3, 15)).vendor.code == "HL-370800-01"
        assert services.assignment_on(person, date(2026, 3, 16)).vendor.code == "HL-370800-02"
        assert services.assignment_on(person, date(2025, 12, 31)) is None
        assert services.care_level_on(person, date(2026, 1, 4)) is None
        assert services.care_level_on(person, date(2026, 3, 19)) == CareLevel.partly_disabled
        assert services.care_level_on(person, date(2026, 3, 20)) == CareLevel.fully_disabled
        assert services.status_on(person, date(2026, 3, 20)) == SupportedStatus.active


def test_a_reassignment_before_an_assignment_that_has_begun_is_refused(demo_app, api):
    resident_id = new_id()
    person_id = imported(api, [row("周凤英", resident_id, since="2026-02-01")])[resident_id]
    answer = api("reviewer_yutai").post(f"/persons/{person_id}/assignments",
                                        {"vendor_code": "HL-370800-03", "valid_from": "2026-01-20"})
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "assignment_overlap"


def test_the_status_history_answers_each_day_and_death_is_final(demo_app, api):
    resident_id = new_id()
    person_id = imported(api, [row("吴玉兰", resident_id, since="2026-01-01")])[resident_id]
    reviewer = api("reviewer_yutai")
    assert reviewer.post(f"/persons/{person_id}/statuses", {"status": "in_institution", "effective_on": "2026-04-01",
                                                            "note": "入住县福利中心"}).status_code == 201
    assert reviewer.post(f"/persons/{person_id}/statuses", {"status": "deceased",
                                                            "effective_on": "2026-05-10"}).status_code == 201
    again = reviewer.post(f"/persons/{person_id}/statuses", {"status": "active", "effective_on": "2026-06-01"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "illegal_transition"
    earlier = reviewer.post(f"/persons/{person_id}/statuses", {"status": "moved_out", "effective_on": "2026-05-01"})
    assert earlier.status_code == 422 and earlier.get_json()["error"]["code"] == "status_out_of_order"
    after_death = reviewer.post(f"/persons/{person_id}/assignments", {"vendor_code": "HL-370800-02",
                                                                      "valid_from": "2026-05-11"})
    assert after_death.status_code == 422
    assert after_death.get_json()["error"]["fields"]["valid_from"] == ["the person is not cared for at home on 2026-05-11"]
    with demo_app.app_context():
        person = db.session.get(SupportedPerson, person_id)
        assert services.status_on(person, date(2025, 12, 31)) is None
        assert services.status_on(person, date(2026, 3, 31)) == SupportedStatus.active
        assert services.status_on(person, date(2026, 4, 1)) == SupportedStatus.in_institution
        assert services.status_on(person, date(2026, 5, 9)) == SupportedStatus.in_institution
        assert services.status_on(person, date(2026, 5, 10)) == SupportedStatus.deceased


# --- one vendor a day, kept by the database -------------------------------------------------------

def _insert_assignment(person_id, vendor_id, valid_from, valid_to):
    contract_id = db.session.scalar(sa.select(Contract.id).join(VendorProfile, VendorProfile.id == Contract.vendor_id)
                                    .where(VendorProfile.organisation_id == vendor_id).limit(1))
    db.session.execute(sa.insert(CareAssignment.__table__).values(
        person_id=person_id, vendor_id=vendor_id, contract_id=contract_id, valid_from=valid_from, valid_to=valid_to,
        created_at=sa.func.now()))
    db.session.flush()


def test_the_database_refuses_two_assignments_on_one_day_even_bypassing_the_service(demo_app, api):
    resident_id = new_id()
    person_id = imported(api, [row("郑桂芳", resident_id, vendor="", since="2026-01-01")])[resident_id]
    with demo_app.app_context():
        vendor_id = db.session.scalar(sa.select(Organisation.id).where(Organisation.code == "HL-370800-02"))
        _insert_assignment(person_id, vendor_id, date(2026, 1, 1), date(2026, 3, 15))
        _insert_assignment(person_id, vendor_id, date(2026, 3, 16), None)  # the day after: no overlap
        db.session.commit()
        for valid_from, valid_to in ((date(2026, 3, 15), date(2026, 3, 15)), (date(2025, 6, 1), None),
                                     (date(2026, 9, 1), date(2026, 9, 30))):
            with pytest.raises(sa.exc.IntegrityError):
                _insert_assignment(person_id, vendor_id, valid_from, valid_to)
            db.session.rollback()
        with pytest.raises(sa.exc.IntegrityError):  # stretching one over the other is refused too
            db.session.execute(sa.update(CareAssignment.__table__).where(
                CareAssignment.person_id == person_id, CareAssignment.valid_from == date(2026, 1, 1))
                .values(valid_to=date(2026, 3, 16)))
            db.session.flush()
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CareAssignment)
                                 .where(CareAssignment.person_id == person_id)) == 2


@pytest.mark.postgres
def test_on_postgresql_the_exclusion_constraint_refuses_the_overlap(demo_app, api):
    resident_id = new_id()
    person_id = imported(api, [row("冯秀珍", resident_id, vendor="", since="2026-01-01")])[resident_id]
    with demo_app.app_context():
        vendor_id = db.session.scalar(sa.select(Organisation.id).where(Organisation.code == "HL-370800-01"))
        _insert_assignment(person_id, vendor_id, date(2026, 2, 1), None)
        db.session.commit()
        with pytest.raises(sa.exc.IntegrityError) as refused:
            _insert_assignment(person_id, vendor_id, date(2026, 1, 1), date(2026, 2, 1))
        db.session.rollback()
    assert refused.value.orig.sqlstate == "23P01"  # exclusion_violation
    assert "care_assignments_one_per_day" in str(refused.value.orig)


# --- who sees whom --------------------------------------------------------------------------------

def test_a_vendor_sees_the_persons_it_cares_or_cared_for_and_no_other(demo_app, api):
    ours, theirs, moved = new_id(), new_id(), new_id()
    ids = imported(api, [row("蒋玉珍", ours, vendor="HL-370800-01"), row("沈秀云", theirs, vendor="HL-370800-02"),
                         row("韩桂香", moved, vendor="HL-370800-01")])
    assert api("reviewer_yutai").post(f"/persons/{ids[moved]}/assignments",
                                      {"vendor_code": "HL-370800-02", "valid_from": "2026-06-01"}).status_code == 201
    vendor = api("vendor")
    assert vendor.get(f"/persons/{ids[ours]}").status_code == 200
    assert vendor.get(f"/persons/{ids[theirs]}").status_code == 404
    formerly = vendor.get(f"/persons/{ids[moved]}").get_json()
    assert formerly["vendor"] is None, "the other vendor's current assignment is not shown"
    assert [item["vendor_code"] for item in formerly["assignments"]] == ["HL-370800-01"]
    assert vendor.get("/persons", query_string={"q": theirs}).get_json()["total"] == 0
    assert [item["id"] for item in vendor.get("/persons", query_string={"q": ours}).get_json()["items"]] == [ids[ours]]
    assert vendor.post(f"/persons/{ids[ours]}/statuses",
                       {"status": "deceased", "effective_on": "2026-06-01"}).status_code == 403

    other = Api(demo_app.test_client(), bearer_headers(demo_app, vendor_user(demo_app, "vendor_02", "HL-370800-02")))
    assert other.get(f"/persons/{ids[ours]}").status_code == 404
    assert other.get(f"/persons/{ids[theirs]}").status_code == 200
    web = signed_in_client(demo_app, "vendor")
    assert web.get(f"/care/persons/{ids[theirs]}").status_code == 404
    page = web.get(f"/care/persons/{ids[ours]}")
    assert page.status_code == 200 and "蒋玉珍" in page.get_data(as_text=True)


def test_county_reviewers_see_their_county_city_roles_all_and_charities_none(demo_app, api):
    yutai, rencheng = new_id(), new_id(region="370811")
    ids = imported(api, [row("杨秀兰", yutai)])
    admin_import = api("admin").import_file(persons_csv([row("朱玉梅", rencheng, village="370811-001")]), apply=True)
    assert admin_import.status_code == 200 and admin_import.get_json()["applied"]
    ids.update(ids_of(api, [rencheng]))
    assert api("reviewer_yutai").get(f"/persons/{ids[rencheng]}").status_code == 404
    assert api("reviewer_yutai").get(f"/persons/{ids[yutai]}").status_code == 200
    for username in ("reviewer", "finance", "auditor", "admin"):
        assert api(username).get(f"/persons/{ids[rencheng]}").status_code == 200, username
    assert api("charity_yutai").get(f"/persons/{ids[yutai]}").status_code == 403
    assert api("charity_yutai").get("/persons").status_code == 403
    assert api("reviewer_yutai").post(f"/persons/{ids[rencheng]}/statuses",
                                      {"status": "deceased", "effective_on": "2026-06-01"}).status_code == 404


# --- the import -----------------------------------------------------------------------------------

def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_gbk_file_with_bad_rows_writes_nothing_and_names_every_bad_row(demo_app, api):
    registered = new_id()
    imported(api, [row("陈桂英", registered)])
    good, twice = new_id(), new_id()
    bad_digit = good[:-1] + ("1" if good[-1] != "1" else "2")
    rows = [row("林秀芳", good),
            row("何玉兰", bad_digit),
            row("罗秀英", new_id(), village="370827-999"),
            row("高凤兰", twice),
            row("高凤兰", twice),
            row("陈桂英", registered),
            row("马秀珍", new_id(), answers=("能", "能", "也许", "能", "能", "能")),
            row("梁玉珍", new_id(), answers=("能", "能", "", "能", "能", "能"))]
    data = persons_csv(rows, encoding="gbk")
    with demo_app.app_context():
        before = (_count(SupportedPerson), _count(CareAssessment), _count(CareAssignment))
    answer = api("reviewer_yutai").import_file(data, apply=True)
    assert answer.status_code == 422
    refusal = answer.get_json()["error"]
    assert refusal["code"] == "import_has_errors"
    named = [(error["row"], error["column"], error["message"]) for error in refusal["row_errors"]]
    assert [entry[:2] for entry in named] == [(3, "身份证号"), (4, "村（社区）代码"), (6, "身份证号"), (7, "身份证号"),
                                             (8, "上下床"), (9, "上下床")]
    messages = dict(((row_number, column), message) for row_number, column, message in named)
    assert "check digit" in messages[(3, "身份证号")]
    assert messages[(4, "村（社区）代码")] == "unknown village or community code"
    assert messages[(6, "身份证号")] == "the same resident ID as row 5"
    assert messages[(7, "身份证号")] == "is already registered"
    assert messages[(8, "上下床")].startswith("must be one of")
    assert messages[(9, "上下床")] == "an assessment needs its date, assessor and all six answers"
    assert all("*" in str(error["value"]) for error in refusal["row_errors"] if error["column"] == "身份证号")
    with demo_app.app_context():
        assert (_count(SupportedPerson), _count(CareAssessment), _count(CareAssignment)) == before


def test_the_same_file_twice_imports_once(demo_app, api):
    first, second = new_id(), new_id(male=True)
    data = persons_csv([row("宋桂兰", first), row("唐建国", second, answers=("不能",) * 6)], encoding="utf-8-sig")
    reviewer = api("reviewer_yutai")
    preview = reviewer.import_file(data, apply=False).get_json()
    assert preview["ok"] and preview["row_count"] == 2 and not preview["applied"]
    with demo_app.app_context():
        before = _count(SupportedPerson)
    assert reviewer.import_file(data, apply=True).get_json()["applied"] is True
    again = reviewer.import_file(data, apply=True).get_json()
    assert again["already_imported"] is True and again["applied"] is False
    with demo_app.app_context():
        assert _count(SupportedPerson) == before + 2
        person = db.session.scalar(sa.select(SupportedPerson).where(SupportedPerson.resident_id == second))
        assert services.care_level_on(person, date(2026, 1, 5)) == CareLevel.fully_disabled
        assert services.assignment_on(person, date(2026, 1, 1)).vendor.code == "HL-370800-01"
        assert (person.latitude_micro, person.longitude_micro) == (35003112, 116650927)
        actor = get_user(db.session, "reviewer_yutai")
        assert services.get_supported_person(db.session, actor, person.id).name == "唐建国"
