"""Changing a registered person, told from the Yutai desk: contact and village, categories with
their periods, the bank card, the household. Every change is audited (old -> new, card numbers
masked), every write takes an Idempotency-Key, and a person of another county is not there (404)."""
from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from ledger.aid.models import Category, Person, PersonCategory
from ledger.audit import AuditEvent
from ledger.extensions import db
from tests.aid.test_registry import CHENGXI, api, new_id, person_body, person_in  # noqa: F401 (the api fixture)
from tests.support import wait_for_blocked_backends


def register(client, resident_id, **changes):
    response = client.post("/persons", person_body(resident_id, **changes))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def changes_of(app, person_id, change):
    with app.app_context():
        return [event.detail["changes"] for event in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "aid.person.changed",
                                        AuditEvent.target == f"person:{person_id}").order_by(AuditEvent.id))
                if event.detail["change"] == change]


def test_phone_address_and_village_change_and_are_audited_old_to_new(demo_app, api):
    desk = api("charity_yutai")
    person_id = register(desk, new_id(sequence=411))
    answer = desk.client.patch(f"/api/v1/aid/persons/{person_id}/contact", json={
        "phone": "13953712345", "address": "李阁镇李阁村5号", "village_code": "370827-002"},
        headers={**desk.headers, "Idempotency-Key": "contact-1"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["phone"], body["address"], body["village_code"]) == ("13953712345", "李阁镇李阁村5号", "370827-002")
    [changes] = changes_of(demo_app, person_id, "contact")
    assert changes["phone"] == ["0537-6212345", "13953712345"]
    assert changes["village"] == [CHENGXI, "370827-002"]
    again = desk.client.patch(f"/api/v1/aid/persons/{person_id}/contact", json={
        "phone": "13953712345", "address": "李阁镇李阁村5号", "village_code": "370827-002"},
        headers={**desk.headers, "Idempotency-Key": "contact-1"})
    assert again.status_code == 200 and len(changes_of(demo_app, person_id, "contact")) == 1  # replayed, not redone
    outside = desk.client.patch(f"/api/v1/aid/persons/{person_id}/contact", json={"village_code": "370811-001"},
                                headers={**desk.headers, "Idempotency-Key": "contact-2"})
    assert outside.status_code == 422 and "village_code" in outside.get_json()["error"]["fields"]
    missing_key = desk.client.patch(f"/api/v1/aid/persons/{person_id}/contact", json={"phone": "0537-1111111"},
                                    headers=desk.headers)
    assert missing_key.status_code == 400


def test_a_city_reviewer_moves_a_person_to_another_county(demo_app, api):
    city = api("reviewer")
    person_id = register(city, new_id(sequence=413))
    answer = city.client.patch(f"/api/v1/aid/persons/{person_id}/contact", json={"village_code": "370811-001"},
                               headers={**city.headers, "Idempotency-Key": "move-1"})
    assert answer.status_code == 200 and answer.get_json()["county_code"] == "370811"
    assert api("charity_yutai").get(f"/persons/{person_id}").status_code == 404  # gone from Yutai's sight


def test_categories_are_added_and_ended_and_periods_of_one_category_never_overlap(demo_app, api):
    desk = api("reviewer_yutai")
    person_id = register(desk, new_id(sequence=415))  # 低保 since 2025-01-01, open
    overlap = desk.post(f"/persons/{person_id}/categories", {"category": "dibao", "starts_on": "2026-03-01"})
    assert overlap.status_code == 409
    assert overlap.get_json()["error"]["code"] == "category_periods_overlap"
    disability = desk.post(f"/persons/{person_id}/categories", {"category": "disability", "starts_on": "2026-01-01"})
    assert disability.status_code == 422  # a disability needs its grade
    graded = desk.post(f"/persons/{person_id}/categories",
                       {"category": "disability", "starts_on": "2026-01-01", "disability_grade": 2})
    assert graded.status_code == 200
    dibao = next(item for item in graded.get_json()["categories"] if item["category"] == "dibao")
    early = desk.post(f"/persons/{person_id}/categories/{dibao['id']}/end", {"ends_on": "2024-12-31"})
    assert early.status_code == 422 and "ends_on" in early.get_json()["error"]["fields"]
    ended = desk.post(f"/persons/{person_id}/categories/{dibao['id']}/end", {"ends_on": "2026-02-28"})
    assert ended.status_code == 200
    assert next(item for item in ended.get_json()["categories"] if item["id"] == dibao["id"])["ends_on"] == "2026-02-28"
    twice = desk.post(f"/persons/{person_id}/categories/{dibao['id']}/end", {"ends_on": "2026-03-31"})
    assert twice.status_code == 422
    after = desk.post(f"/persons/{person_id}/categories", {"category": "dibao", "starts_on": "2026-03-01"})
    assert after.status_code == 200  # after the end: no overlap
    before_end = desk.post(f"/persons/{person_id}/categories",
                           {"category": "dibao", "starts_on": "2026-02-01", "ends_on": "2026-02-15"})
    assert before_end.status_code == 409
    assert [change["ends_on"] for change in changes_of(demo_app, person_id, "category_ended")] == \
        [[None, "2026-02-28"]]
    assert len(changes_of(demo_app, person_id, "category_added")) == 2


def test_a_bank_card_is_whole_or_absent_and_its_number_is_masked_in_the_audit(demo_app, api):
    desk = api("charity_yutai")
    person_id = register(desk, new_id(sequence=417))
    path = f"/api/v1/aid/persons/{person_id}/bank-card"
    partial = desk.client.patch(path, json={"bank_name": "中国银行", "bank_account_number": "6217000123456789",
                                            "bank_account_holder": ""},
                                headers={**desk.headers, "Idempotency-Key": "card-1"})
    assert partial.status_code == 422
    changed = desk.client.patch(path, json={"bank_name": "中国银行", "bank_account_number": "6217 0001 2345 6789",
                                            "bank_account_holder": "孙秀兰"},
                                headers={**desk.headers, "Idempotency-Key": "card-2"})
    assert changed.status_code == 200
    assert changed.get_json()["bank_account_masked"] == "6217********6789"
    assert "6217000123456789" not in changed.get_data(as_text=True)
    [changes] = changes_of(demo_app, person_id, "bank_card")
    assert changes["bank_account_number"] == ["6228***********9012", "6217********6789"]
    assert changes["bank_name"] == ["中国农业银行", "中国银行"]
    with demo_app.app_context():
        assert db.session.get(Person, person_id).bank_account_number == "6217000123456789"
    removed = desk.client.patch(path, json={"bank_name": "", "bank_account_number": "", "bank_account_holder": ""},
                                headers={**desk.headers, "Idempotency-Key": "card-3"})
    assert removed.status_code == 200 and removed.get_json()["bank_account_masked"] == ""


def test_a_household_gets_members_a_new_head_and_loses_a_member(demo_app, api):
    desk = api("reviewer_yutai")
    head_id = register(desk, new_id(sequence=421))
    spouse_resident_id = new_id(sequence=423, male=False)
    spouse_id = register(desk, spouse_resident_id)  # the head of a household of one, for now
    child_id = register(desk, new_id(sequence=425))
    for resident_id, relation in ((spouse_resident_id, "spouse"), (new_id(sequence=425), "child")):
        added = desk.post(f"/persons/{head_id}/household/members", {"resident_id": resident_id, "relation": relation})
        assert added.status_code == 200, added.get_json()
    members = {member["id"]: member["relation"] for member in added.get_json()["members"]}
    assert members == {head_id: "head", spouse_id: "spouse", child_id: "child"}
    again = desk.post(f"/persons/{head_id}/household/members", {"resident_id": spouse_resident_id,
                                                                "relation": "spouse"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "household_change_refused"
    nobody = desk.post(f"/persons/{head_id}/household/members", {"resident_id": new_id(sequence=427),
                                                                 "relation": "child"})
    assert nobody.status_code == 422
    head_out = desk.post(f"/persons/{head_id}/household/members/{head_id}/remove", None)
    assert head_out.status_code == 409
    new_head = desk.post(f"/persons/{spouse_id}/household/head", {"previous_head_relation": "spouse"})
    assert new_head.status_code == 200
    members = {member["id"]: member["relation"] for member in new_head.get_json()["members"]}
    assert members == {head_id: "spouse", spouse_id: "head", child_id: "child"}
    removed = desk.post(f"/persons/{spouse_id}/household/members/{child_id}/remove", None)
    assert removed.status_code == 200
    assert {member["id"] for member in removed.get_json()["members"]} == {head_id, spouse_id}
    child = desk.get(f"/persons/{child_id}").get_json()
    assert child["relation"] == "head" and child["household_id"] != removed.get_json()["household_id"]
    head_with_members = desk.post(f"/persons/{child_id}/household/members",
                                  {"resident_id": new_id(sequence=423, male=False), "relation": "parent"})
    assert head_with_members.status_code == 409  # the spouse heads a household with members
    assert changes_of(demo_app, spouse_id, "household_head")[0]["previous_head_relation"] == ["head", "spouse"]
    assert changes_of(demo_app, child_id, "household_member_removed")[0]["relation"] == ["child", "head"]


def test_another_county_and_other_roles_may_not_change_a_person(demo_app, api):
    rencheng = person_in(demo_app, "370811")
    desk = api("charity_yutai")
    for method, path, body in (("patch", f"/persons/{rencheng.id}/contact", {"phone": "0537-1234567"}),
                               ("post", f"/persons/{rencheng.id}/categories",
                                {"category": "orphan", "starts_on": "2026-01-01"}),
                               ("patch", f"/persons/{rencheng.id}/bank-card",
                                {"bank_name": "", "bank_account_number": "", "bank_account_holder": ""}),
                               ("post", f"/persons/{rencheng.id}/household/head", {})):
        answer = desk.client.open("/api/v1/aid" + path, method=method.upper(), json=body,
                                  headers={**desk.headers, "Idempotency-Key": f"out-{method}-{path}"})
        assert answer.status_code == 404, (path, answer.get_json())
    for role in ("finance", "auditor", "vendor"):
        other = api(role)
        answer = other.client.patch(f"/api/v1/aid/persons/{rencheng.id}/contact", json={"phone": "0537-1234567"},
                                    headers={**other.headers, "Idempotency-Key": f"role-{role}"})
        assert answer.status_code == 403


@pytest.mark.postgres
def test_two_overlapping_categories_added_at_once_make_one(demo_app, api):
    """The first addition holds the person's row; the second waits for it (seen in pg_stat_activity),
    then sees the first period and is refused as overlapping."""
    from ledger.aid import edits
    from ledger.aid.services import CategoryInput
    from ledger.auth.services import get_user
    from ledger.errors import LedgerError

    person_id = register(api("reviewer_yutai"), new_id(sequence=441))
    first_added, release_first = threading.Event(), threading.Event()
    outcomes = {}

    def add(name, username, starts_on, hold):
        with demo_app.app_context():
            try:
                edits.add_category(db.session, get_user(db.session, username), person_id,
                                   CategoryInput(Category.orphan, starts_on))
                if hold:
                    first_added.set()
                    assert release_first.wait(30)
                db.session.commit()
                outcomes[name] = "added"
            except LedgerError as error:
                db.session.rollback()
                outcomes[name] = error.code
            finally:
                first_added.set()
                db.session.remove()

    first = threading.Thread(target=add, args=("first", "charity_yutai", date(2026, 1, 1), True))
    second = threading.Thread(target=add, args=("second", "reviewer_yutai", date(2026, 6, 1), False))
    first.start()
    assert first_added.wait(30)
    second.start()
    wait_for_blocked_backends(demo_app)
    release_first.set()
    first.join(30)
    second.join(30)
    assert outcomes == {"first": "added", "second": "category_periods_overlap"}
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PersonCategory.id)).where(
            PersonCategory.person_id == person_id, PersonCategory.category == Category.orphan)) == 1
