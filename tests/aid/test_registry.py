"""The beneficiary registry, told from the Yutai county desk.

Runs on the demo data: Yutai (370827) with its village 城西村 370827-001, Rencheng (370811),
the demo users (reviewer_yutai and charity_yutai confined to Yutai; reviewer, finance, admin and
auditor city-wide; vendor outside the registry) and the 3,000 demo persons.
"""
from __future__ import annotations

import base64
import io
import itertools
import threading
import time
from datetime import date

import pytest
import sqlalchemy as sa

from ledger.aid.demo import demo_resident_id
from ledger.aid.models import Person
from ledger.audit import AuditEvent
from ledger.auth.models import Region
from ledger.extensions import db
from ledger.identity import mask_id_number
from ledger.aid import services as aid_services
from ledger.imports import ImportBatch

CHENGXI = "370827-001"
_keys = itertools.count(1)


def new_id(born=date(1956, 5, 4), sequence=401, male=True, region="370827") -> str:
    return demo_resident_id(region, born, sequence, male)


def wrong_check_digit(resident_id: str) -> str:
    last = resident_id[-1]
    return resident_id[:-1] + ("1" if last != "1" else "2")


class Api:
    def __init__(self, client, headers):
        self.client, self.headers = client, dict(headers)

    def get(self, path, **kwargs):
        return self.client.get("/api/v1/aid" + path, headers=self.headers, **kwargs)

    def post(self, path, json, key=None, **kwargs):
        headers = dict(self.headers)
        if key is not False:
            headers["Idempotency-Key"] = key or f"aid-{next(_keys)}"
        return self.client.post("/api/v1/aid" + path, json=json, headers=headers, **kwargs)


@pytest.fixture
def api(demo_app, demo_token_for):
    client = demo_app.test_client()
    return lambda username: Api(client, demo_token_for(username))


def person_body(resident_id, **changes):
    body = {"name": "孙秀兰", "resident_id": resident_id, "village_code": CHENGXI, "phone": "0537-6212345",
            "address": "滨湖街道城西村3号", "categories": [{"category": "dibao", "starts_on": "2025-01-01"}],
            "bank_name": "中国农业银行", "bank_account_number": "6228480123456789012", "bank_account_holder": "孙秀兰"}
    body.update(changes)
    return body


def persons_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Person.id)))


def person_in(app, county_code: str) -> Person:
    with app.app_context():
        county_id = db.session.scalar(sa.select(Region.id).where(Region.code == county_code))
        person = db.session.scalar(sa.select(Person).where(Person.county_id == county_id).order_by(Person.id))
        db.session.expunge(person)
        return person


# --- registering -----------------------------------------------------------------------------------

def test_a_person_registered_reads_sex_and_birth_date_from_the_id_and_is_answered_masked(demo_app, api):
    resident_id = new_id(born=date(1956, 5, 4), male=False)
    answer = api("charity_yutai").post("/persons", person_body(resident_id))
    assert answer.status_code == 201, answer.get_json()
    person = answer.get_json()
    assert person["created"] is True
    assert (person["sex"], person["born_on"]) == ("female", "1956-05-04")
    assert (person["village"], person["county"]) == ("滨湖街道城西村", "鱼台县")
    assert person["resident_id_masked"] == mask_id_number(resident_id) and "*" in person["resident_id_masked"]
    assert person["bank_account_masked"] == "6228***********9012"
    assert resident_id not in answer.get_data(as_text=True)
    assert "6228480123456789012" not in answer.get_data(as_text=True)
    assert person["categories"] == [{"category": "dibao", "starts_on": "2025-01-01", "ends_on": None,
                                     "disability_grade": None}]


def test_registering_an_existing_id_returns_that_person_and_writes_nothing(demo_app, api):
    resident_id = new_id()
    first = api("charity_yutai").post("/persons", person_body(resident_id)).get_json()
    count = persons_count(demo_app)
    again = api("reviewer_yutai").post("/persons", person_body(resident_id, name="孙秀兰(重复)"))
    assert again.status_code == 201
    assert again.get_json()["id"] == first["id"] and again.get_json()["created"] is False
    assert again.get_json()["name"] == "孙秀兰"
    assert persons_count(demo_app) == count


def test_bad_input_is_refused_naming_the_field(demo_app, api):
    charity = api("charity_yutai")
    count = persons_count(demo_app)
    bad_digit = charity.post("/persons", person_body(wrong_check_digit(new_id())))
    assert bad_digit.status_code == 422
    assert "check digit" in bad_digit.get_json()["error"]["fields"]["resident_id"][0]
    unknown_village = charity.post("/persons", person_body(new_id(sequence=402), village_code="370827-999"))
    assert unknown_village.status_code == 422
    assert "village_code" in unknown_village.get_json()["error"]["fields"]
    other_county = charity.post("/persons", person_body(new_id(sequence=403), village_code="370811-001"))
    assert other_county.status_code == 422 and "village_code" in other_county.get_json()["error"]["fields"]
    no_grade = charity.post("/persons", person_body(new_id(sequence=404), categories=[
        {"category": "disability", "starts_on": "2025-01-01"}]))
    assert no_grade.status_code == 422
    assert "disability_grade" in str(no_grade.get_json()["error"]["fields"])
    card_digits = charity.post("/persons", person_body(new_id(sequence=405), bank_account_number="62284801x"))
    assert "bank_account_number" in card_digits.get_json()["error"]["fields"]
    no_key = charity.post("/persons", person_body(new_id(sequence=406)), key=False)
    assert no_key.status_code == 400
    assert persons_count(demo_app) == count


def test_a_household_member_joins_the_head_and_needs_a_relation(demo_app, api):
    charity = api("charity_yutai")
    head_id, child_id = new_id(sequence=410), new_id(born=date(2015, 2, 1), sequence=411)
    head = charity.post("/persons", person_body(head_id)).get_json()
    as_head = charity.post("/persons", person_body(child_id, household_head_resident_id=head_id))
    assert as_head.status_code == 422 and "relation" in as_head.get_json()["error"]["fields"]
    child = charity.post("/persons", person_body(child_id, name="孙小明", household_head_resident_id=head_id,
                                                 relation="child", categories=[
                                                     {"category": "disability", "starts_on": "2024-03-01",
                                                      "disability_grade": 2}]))
    assert child.status_code == 201, child.get_json()
    assert child.get_json()["household_id"] == head["household_id"]
    assert child.get_json()["relation"] == "child"
    unknown_head = charity.post("/persons", person_body(new_id(sequence=412), household_head_resident_id=new_id(
        sequence=413), relation="spouse"))
    assert unknown_head.status_code == 422
    assert "household_head_resident_id" in unknown_head.get_json()["error"]["fields"]


# --- scope -----------------------------------------------------------------------------------------

def test_county_users_see_their_county_and_get_404_for_another(demo_app, api):
    yutai, rencheng = person_in(demo_app, "370827"), person_in(demo_app, "370811")
    for username in ("reviewer_yutai", "charity_yutai"):
        user = api(username)
        assert user.get(f"/persons/{yutai.id}").status_code == 200
        assert user.get(f"/persons/{rencheng.id}").status_code == 404
        listed = user.get("/persons?per_page=200").get_json()
        assert listed["total"] > 0 and {item["county_code"] for item in listed["items"]} == {"370827"}
        assert user.get("/persons?county=370811").status_code == 404
    assert api("reviewer_yutai").post(f"/persons/{rencheng.id}/reveal", {}, key=False).status_code == 404
    for username in ("reviewer", "finance", "admin", "auditor"):
        assert api(username).get(f"/persons/{rencheng.id}").status_code == 200
    assert api("vendor").get(f"/persons/{yutai.id}").status_code == 403
    assert api("vendor").get("/persons").status_code == 403


def test_an_id_registered_in_another_county_is_refused_not_shown(demo_app, api):
    rencheng = person_in(demo_app, "370811")
    answer = api("charity_yutai").post("/persons", person_body(rencheng.resident_id))
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "resident_id_registered_elsewhere"
    assert rencheng.name not in answer.get_data(as_text=True)


def test_search_by_name_and_by_the_last_digits_of_the_id(demo_app, api):
    reviewer = api("reviewer")
    found = reviewer.get("/persons?q=韩进").get_json()
    assert [item["name"] for item in found["items"]] == ["韩进"]
    tail = found["items"][0]["resident_id_masked"][-4:]
    by_tail = reviewer.get(f"/persons?q={tail}").get_json()
    assert "韩进" in [item["name"] for item in by_tail["items"]]
    child = reviewer.get("/persons?q=辰辰").get_json()["items"][0]
    assert child["village"].startswith("李阁镇")
    today = date.today()
    born = date.fromisoformat(child["born_on"])
    assert today.year - born.year - ((today.month, today.day) < (born.month, born.day)) == 4


# --- masking and the audited full view -------------------------------------------------------------

def test_lists_never_carry_a_full_id_or_card_number(demo_app, api):
    body = api("reviewer").get("/persons?per_page=200").get_data(as_text=True)
    with demo_app.app_context():
        numbers = db.session.execute(sa.select(Person.resident_id, Person.bank_account_number)
                                     .order_by(Person.id.desc()).limit(200)).all()
    assert numbers
    for resident_id, account in numbers:
        assert resident_id not in body
        assert not account or account not in body


def test_a_full_view_is_for_finance_and_reviewers_and_each_is_audited(demo_app, api):
    person = person_in(demo_app, "370827")
    for username in ("charity_yutai", "auditor", "admin", "vendor"):
        assert api(username).post(f"/persons/{person.id}/reveal", {}, key=False).status_code == 403
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.action == "aid.person.full_view")) == 0
    for username in ("finance", "reviewer_yutai", "finance"):
        shown = api(username).post(f"/persons/{person.id}/reveal", {}, key=False)
        assert shown.status_code == 200
        assert shown.get_json()["resident_id"] == person.resident_id
        assert shown.get_json()["bank_account_number"] == person.bank_account_number
    with demo_app.app_context():
        events = db.session.execute(sa.select(AuditEvent.user_id, AuditEvent.target, AuditEvent.occurred_at)
                                    .where(AuditEvent.action == "aid.person.full_view").order_by(AuditEvent.id)).all()
        from ledger.auth.models import User
        names = [db.session.get(User, user_id).username for user_id, _target, _at in events]
    assert names == ["finance", "reviewer_yutai", "finance"]
    assert {target for _user, target, _at in events} == {f"person:{person.id}"}
    assert all(at is not None for _user, _target, at in events)


# --- import ----------------------------------------------------------------------------------------

def registry_csv(rows, header=("姓名", "身份证号", "村（社区）代码", "联系电话", "救助类别", "残疾等级", "开户银行", "银行账号",
                               "持卡人"), encoding="gbk") -> bytes:
    lines = [",".join(header)] + [",".join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def import_file(user: Api, data: bytes, apply: bool, filename="名单.csv"):
    return user.post("/persons/import", {"filename": filename, "apply": apply,
                                         "content_base64": base64.b64encode(data).decode()}, key=False)


def test_a_gbk_file_is_previewed_then_imported_once(demo_app, api):
    charity = api("charity_yutai")
    first, second = new_id(sequence=420), new_id(born=date(1949, 12, 1), sequence=421, male=False)
    data = registry_csv([["周建国", first, CHENGXI, "13805371234", "特困分散供养", "", "中国农业银行",
                          "6228480000000000001", "周建国"],
                         ["吴桂英", second, CHENGXI, "", "残疾、低保", "2", "", "", ""]])
    count = persons_count(demo_app)
    preview = import_file(charity, data, apply=False)
    assert preview.status_code == 200
    body = preview.get_json()
    assert (body["ok"], body["encoding"], body["row_count"], body["applied"]) == (True, "gb18030", 2, False)
    assert persons_count(demo_app) == count, "a preview writes nothing"

    applied = import_file(charity, data, apply=True).get_json()
    assert applied["applied"] is True and applied["already_imported"] is False
    assert persons_count(demo_app) == count + 2
    found = charity.get(f"/persons?q={first}").get_json()["items"][0]
    assert (found["name"], found["categories"][0]["category"]) == ("周建国", "tekun_dispersed")
    grades = {item["category"]: item["disability_grade"]
              for item in charity.get(f"/persons?q={second}").get_json()["items"][0]["categories"]}
    assert grades == {"disability": 2, "dibao": None}

    again = import_file(charity, data, apply=True).get_json()
    assert again["already_imported"] is True and again["applied"] is False
    assert again["batch_id"] == applied["batch_id"]
    assert import_file(charity, data, apply=False).get_json()["already_imported"] is True
    assert persons_count(demo_app) == count + 2
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ImportBatch.id)).where(
            ImportBatch.kind == aid_services.IMPORT_KIND)) == 1


def test_bad_rows_are_reported_by_row_column_and_reason_and_nothing_is_written(demo_app, api):
    charity = api("charity_yutai")
    existing = person_in(demo_app, "370827")
    good, repeated = new_id(sequence=430), new_id(sequence=431)
    data = registry_csv([
        ["郑一", good, CHENGXI, "", "", "", "", "", ""],
        ["郑二", wrong_check_digit(new_id(sequence=432)), CHENGXI, "", "", "", "", "", ""],
        ["郑三", new_id(sequence=433), "370827-999", "", "", "", "", "", ""],
        ["郑四", repeated, CHENGXI, "", "", "", "", "", ""],
        ["郑五", repeated, CHENGXI, "", "", "", "", "", ""],
        ["郑六", existing.resident_id, CHENGXI, "", "", "", "", "", ""],
    ], header=("name", "Resident ID", "Village code", "Phone", "Categories", "Disability grade", "Bank",
               "Account number", "Account holder"), encoding="utf-8-sig")
    count = persons_count(demo_app)
    preview = import_file(charity, data, apply=False).get_json()
    assert preview["ok"] is False and preview["encoding"] == "utf-8-sig"
    reported = [(error["row"], error["column"], error["message"]) for error in preview["errors"]]
    assert reported == [
        (3, "Resident ID", "wrong check digit: the last character does not match the others (a digit is mistyped)"),
        (4, "Village code", "unknown village or community code"),
        (6, "Resident ID", "the same resident ID as row 5"),
        (7, "Resident ID", "is already registered"),
    ]
    assert all(existing.resident_id not in str(error["value"]) for error in preview["errors"])

    refused = import_file(charity, data, apply=True)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "import_has_errors"
    assert [error["row"] for error in refused.get_json()["error"]["row_errors"]] == [3, 4, 6, 7]
    assert persons_count(demo_app) == count
    assert charity.get(f"/persons?q={good}").get_json()["total"] == 0
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ImportBatch.id)).where(
            ImportBatch.kind == aid_services.IMPORT_KIND)) == 0


def test_an_xlsx_file_with_english_headers_imports_a_household(demo_app, api):
    from openpyxl import Workbook

    head, member = new_id(sequence=440), new_id(born=date(2012, 8, 8), sequence=441, male=False)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Resident ID", "Village code", "Household head resident ID", "Relation to head"])
    sheet.append(["冯女儿", member, CHENGXI, head, "女儿"])
    sheet.append(["冯户主", head, CHENGXI, head, "户主"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    charity = api("charity_yutai")
    applied = import_file(charity, buffer.getvalue(), apply=True, filename="list.xlsx")
    assert applied.status_code == 200, applied.get_json()
    assert applied.get_json()["applied"] is True and applied.get_json()["file_type"] == "xlsx"
    people = {item["name"]: item for item in charity.get("/persons?q=冯").get_json()["items"]}
    assert people["冯女儿"]["household_id"] == people["冯户主"]["household_id"]
    assert (people["冯女儿"]["relation"], people["冯户主"]["relation"]) == ("child", "head")


def test_an_import_into_another_county_is_refused(demo_app, api):
    data = registry_csv([["王五", new_id(sequence=450), "370811-001", "", "", "", "", "", ""]])
    preview = import_file(api("charity_yutai"), data, apply=False).get_json()
    assert [(error["row"], error["message"]) for error in preview["errors"]] == [(2, "a village outside your county")]
    assert import_file(api("vendor"), data, apply=False).status_code == 403


# --- concurrency -----------------------------------------------------------------------------------

@pytest.mark.postgres
def test_two_registrations_of_one_id_at_once_make_one_person(demo_app):
    """The first registration holds its transaction open; the second one's INSERT waits for it
    (seen in pg_stat_activity), then finds the first person and adds nothing."""
    from ledger.aid import services
    from ledger.aid.schemas import person_input
    from ledger.auth.services import get_user

    resident_id = new_id(sequence=460)
    data = person_input({**person_body(resident_id), "household_head_resident_id": None, "relation": "head",
                         "categories": []})
    first_inserted, release_first = threading.Event(), threading.Event()
    outcomes = {}

    def register(name, username, hold):
        with demo_app.app_context():
            try:
                outcome = services.register_person(db.session, get_user(db.session, username), data)
                if hold:
                    first_inserted.set()
                    assert release_first.wait(30)
                db.session.commit()
                outcomes[name] = (outcome.created, outcome.person.id)
            finally:
                first_inserted.set()
                db.session.remove()

    first = threading.Thread(target=register, args=("first", "charity_yutai", True))
    second = threading.Thread(target=register, args=("second", "reviewer_yutai", False))
    first.start()
    assert first_inserted.wait(30)
    second.start()
    with demo_app.app_context():
        waiting = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                          "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO aid_persons%'")
        deadline = time.monotonic() + 30
        while not db.session.scalar(waiting):
            db.session.rollback()
            assert time.monotonic() < deadline, "the second registration never waited for the first"
        db.session.rollback()
    release_first.set()
    first.join(30)
    second.join(30)

    assert outcomes["first"][0] is True
    assert outcomes["second"] == (False, outcomes["first"][1])
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Person.id)).where(Person.resident_id == resident_id)) == 1


def test_an_import_names_a_head_of_household_that_is_nobody_or_a_member(demo_app, api):
    head, member, grandchild, stranger = (new_id(sequence=sequence) for sequence in (490, 491, 492, 493))
    data = registry_csv([["钱甲", head, CHENGXI, ""], ["钱乙", member, CHENGXI, head],
                         ["钱丙", grandchild, CHENGXI, member], ["钱丁", new_id(sequence=494), CHENGXI, stranger]],
                        header=("姓名", "身份证号", "村（社区）代码", "户主身份证号"), encoding="utf-8")
    preview = import_file(api("reviewer_yutai"), data, apply=False).get_json()
    assert [(error["row"], error["column"], error["message"]) for error in preview["errors"]] == [
        (4, "户主身份证号", "the head of household named is a member of another household in this file"),
        (5, "户主身份证号", "the head of household is neither in this file nor in the registry"),
    ]
