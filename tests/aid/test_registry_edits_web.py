"""Changing a person on their page, as the county charity and the county reviewer do it: each change
is one small form with a one-time key, a refusal comes back next to its field, and every page stays
masked."""
from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from ledger.aid.models import Person
from ledger.audit import AuditEvent
from ledger.extensions import db
from ledger.identity import mask_id_number
from ledger.aid import services
from ledger.auth.models import User
from tests.aid.test_registry import CHENGXI, new_id
from tests.aid.test_registry_web import hanjin as _hanjin


def hanjin(app):
    """韩进 of 城西村, with what the forms need loaded (village code, open category periods)."""
    person = _hanjin(app)
    with app.app_context():
        loaded = db.session.get(Person, person.id)
        person.village_code = loaded.region.code
        person.open_category_ids = [item.id for item in loaded.categories if item.ends_on is None]
    return person


def once(prefix: str, **fields) -> dict:
    data = {f"{prefix}-idempotency_key": uuid.uuid4().hex}
    data.update({f"{prefix}-{name}": value for name, value in fields.items()})
    return data


def test_the_charity_changes_phone_and_bank_card_on_the_persons_page(demo_app, demo_user_client):
    person = hanjin(demo_app)
    client = demo_user_client("charity_yutai")
    page = client.get(f"/aid/persons/{person.id}?lang=zh_CN").get_data(as_text=True)
    assert "修改联系电话、住址或村（社区）" in page and person.bank_account_number not in page
    answer = client.post(f"/aid/persons/{person.id}/contact", data=once(
        "contact", phone="13953700001", address=person.address, village_code=person.village_code))
    assert answer.status_code == 302
    card = client.post(f"/aid/persons/{person.id}/bank-card", data=once(
        "card", bank_name="中国建设银行", bank_account_number="6217001234567890123", bank_account_holder="韩进"))
    assert card.status_code == 302
    shown = client.get(f"/aid/persons/{person.id}?lang=en").get_data(as_text=True)
    assert "13953700001" in shown and mask_id_number("6217001234567890123") in shown
    assert "6217001234567890123" not in shown
    with demo_app.app_context():
        details = [event.detail for event in db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "aid.person.changed", AuditEvent.target == f"person:{person.id}"))]
    assert [detail["change"] for detail in details] == ["contact", "bank_card"]
    assert details[1]["changes"]["bank_account_number"][1] == "6217***********0123"


def test_a_refused_change_comes_back_next_to_its_field(demo_app, demo_user_client):
    person = hanjin(demo_app)
    client = demo_user_client("reviewer_yutai")
    open_category_id = person.open_category_ids[0] if person.open_category_ids else None
    answer = client.post(f"/aid/persons/{person.id}/categories?lang=en", data=once(
        "category", category="disability", starts_on="2026-01-01", ends_on="", disability_grade=""))
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "a disability needs its grade, 1 to 4" in text
    assert re.search(r'id="category-category"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="category-category"',
                     text)
    if open_category_id is not None:
        early = client.post(f"/aid/persons/{person.id}/categories/{open_category_id}/end?lang=en", data=once(
            f"end{open_category_id}", ends_on="1999-01-01"))
        assert early.status_code == 422 and "ends before it starts" in early.get_data(as_text=True)
    bad_card = client.post(f"/aid/persons/{person.id}/bank-card?lang=zh_CN", data=once(
        "card", bank_name="中国银行", bank_account_number="", bank_account_holder=""))
    assert bad_card.status_code == 422


def test_a_household_member_is_added_made_head_and_taken_out_on_the_web(demo_app, demo_user_client):
    person = hanjin(demo_app)
    other_resident_id = new_id(sequence=431)
    with demo_app.app_context():  # a brother registered on his own (the head of a household of one)
        charity = db.session.scalar(sa.select(User).where(User.username == "charity_yutai"))
        other_id = services.register_person(db.session, charity, services.PersonInput(
            name="韩出", resident_id=other_resident_id, village_code=CHENGXI)).person.id
        db.session.commit()
    client = demo_user_client("charity_yutai")
    added = client.post(f"/aid/persons/{person.id}/household/members", data=once(
        "member", resident_id=other_resident_id, relation="sibling"))
    assert added.status_code == 302, added.get_data(as_text=True)[:2000]
    head = client.post(f"/aid/persons/{other_id}/household/head", data=once(
        f"head{other_id}", previous_head_relation="sibling"))
    assert head.status_code == 302
    refused = client.post(f"/aid/persons/{person.id}/household/members/{other_id}/remove?lang=en",
                          data=once(f"remove{other_id}"))
    assert refused.status_code == 409 and "set another head first" in refused.get_data(as_text=True)
    back = client.post(f"/aid/persons/{person.id}/household/head", data=once(
        f"head{person.id}", previous_head_relation="sibling"))
    assert back.status_code == 302
    removed = client.post(f"/aid/persons/{person.id}/household/members/{other_id}/remove",
                          data=once(f"remove{other_id}"))
    assert removed.status_code == 302
    with demo_app.app_context():
        moved = db.session.get(Person, other_id)
        assert moved.household_id != person.household_id and moved.relation.value == "head"


def test_readers_see_no_change_forms_and_may_not_post_them(demo_app, demo_user_client):
    person = hanjin(demo_app)
    page = demo_user_client("auditor").get(f"/aid/persons/{person.id}?lang=en").get_data(as_text=True)
    assert "Change phone, address or village" not in page
    answer = demo_user_client("finance").post(f"/aid/persons/{person.id}/contact", data=once("contact", phone="1"))
    assert answer.status_code == 403


def test_an_empty_post_changes_nothing(demo_app, demo_user_client):
    person = hanjin(demo_app)
    answer = demo_user_client("charity_yutai").post(f"/aid/persons/{person.id}/bank-card?lang=en", data={})
    assert answer.status_code == 422 and "The form arrived empty" in answer.get_data(as_text=True)
    with demo_app.app_context():
        assert db.session.get(Person, person.id).bank_account_number == person.bank_account_number != ""
