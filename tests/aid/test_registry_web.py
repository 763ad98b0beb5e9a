"""The registry's web pages: the list, the export, a person's page with its audited "show"
action, the new-person form and the import with its preview, in Chinese and English."""
from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from ledger.aid.demo import demo_resident_id
from ledger.aid.models import Person
from ledger.audit import AuditEvent
from ledger.extensions import db
from ledger.identity import mask_id_number


@pytest.fixture
def uploads(demo_app, tmp_path):
    demo_app.config["UPLOADS_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


def hanjin(app) -> Person:
    with app.app_context():
        person = db.session.scalar(sa.select(Person).where(Person.name == "韩进"))
        db.session.expunge(person)
        return person


def full_view_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.action == "aid.person.full_view"))


def test_the_list_searches_pages_and_masks_and_so_does_its_export(demo_app, demo_user_client):
    client = demo_user_client("reviewer")
    page = client.get("/aid/persons?lang=zh_CN")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "救助对象" in text and "第 1 页，共 60 页" in text or "60" in text
    with demo_app.app_context():
        newest = db.session.execute(sa.select(Person.resident_id, Person.bank_account_number)
                                    .order_by(Person.id.desc()).limit(50)).all()
    for resident_id, _account in newest:
        assert resident_id not in text and mask_id_number(resident_id) in text
    second = client.get("/aid/persons?page=2").get_data(as_text=True)
    assert mask_id_number(newest[0][0]) not in second

    person = hanjin(demo_app)
    found = client.get("/aid/persons?q=韩进").get_data(as_text=True)
    assert "韩进" in found and person.resident_id not in found

    export = client.get("/aid/persons?export=csv").get_data(as_text=True)
    assert export.count("\n") >= 3000
    assert mask_id_number(person.resident_id) in export and person.resident_id not in export
    assert person.bank_account_number not in export
    xlsx = client.get("/aid/persons?export=xlsx&q=韩进")
    from openpyxl import load_workbook
    cells = [str(cell) for row in load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True)
             for cell in row]
    assert mask_id_number(person.resident_id) in cells and person.resident_id not in cells


def test_a_county_charity_lists_only_its_county_and_gets_404_elsewhere(demo_app, demo_user_client):
    client = demo_user_client("charity_yutai")
    with demo_app.app_context():
        other = db.session.scalar(sa.select(Person.id).where(Person.county_id != hanjin(demo_app).county_id))
    assert client.get(f"/aid/persons/{other}").status_code == 404
    assert client.get(f"/aid/persons/{hanjin(demo_app).id}").status_code == 200
    text = client.get("/aid/persons?q=韩进").get_data(as_text=True)
    assert "韩进" in text


def test_the_person_page_masks_until_show_and_each_show_is_audited(demo_app, demo_user_client):
    person = hanjin(demo_app)
    finance = demo_user_client("finance")
    page = finance.get(f"/aid/persons/{person.id}?lang=en").get_data(as_text=True)
    assert person.resident_id not in page and mask_id_number(person.resident_id) in page
    assert "Show the full numbers" in page
    assert full_view_count(demo_app) == 0

    shown = finance.post(f"/aid/persons/{person.id}/reveal?lang=en")
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert person.resident_id in shown.get_data(as_text=True)
    assert full_view_count(demo_app) == 1
    assert person.resident_id not in finance.get(f"/aid/persons/{person.id}").get_data(as_text=True)

    auditor = demo_user_client("auditor")
    assert "Show the full numbers" not in auditor.get(f"/aid/persons/{person.id}?lang=en").get_data(as_text=True)
    assert auditor.post(f"/aid/persons/{person.id}/reveal").status_code == 403
    assert full_view_count(demo_app) == 1


def test_the_new_person_form_registers_and_refuses_a_bad_id_at_its_field(demo_app, demo_user_client):
    client = demo_user_client("charity_yutai")
    form = client.get("/aid/persons/new?lang=en")
    assert form.status_code == 200 and "370827-001" in form.get_data(as_text=True)
    assert "370811-001" not in form.get_data(as_text=True), "only the villages of the charity's county"
    resident_id = demo_resident_id("370827", date(1960, 1, 2), 470, False)
    fields = {"idempotency_key": "a" * 32, "name": "钱桂兰", "resident_id": resident_id[:-1] + (
        "0" if resident_id[-1] != "0" else "1"), "village_code": "370827-001", "relation": "head",
              "category": "disability", "disability_grade": "3", "category_since": "2024-05-01"}
    refused = client.post("/aid/persons/new?lang=en", data=fields)
    assert refused.status_code == 422
    assert "Wrong check digit" in refused.get_data(as_text=True)
    fields["resident_id"] = resident_id
    registered = client.post("/aid/persons/new", data=fields)
    assert registered.status_code == 302
    page = client.get(registered.headers["Location"] + "?lang=zh_CN").get_data(as_text=True)
    assert "钱桂兰" in page and "残疾" in page and "女" in page and "1960-01-02" in page
    again = client.post("/aid/persons/new", data=dict(fields, idempotency_key="b" * 32, name="钱桂兰二"))
    assert again.headers["Location"] == registered.headers["Location"]
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Person.id)).where(Person.resident_id == resident_id)) == 1


def _upload(client, data: bytes, name="名单.csv"):
    return client.post("/aid/persons/import?lang=en", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_import_page_previews_then_imports_once(demo_app, demo_user_client, uploads):
    client = demo_user_client("reviewer_yutai")
    first = demo_resident_id("370827", date(1950, 3, 3), 480, True)
    bad = demo_resident_id("370827", date(1950, 3, 4), 481, True)
    bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")
    refused = _upload(client, ("姓名,身份证号,村（社区）代码\r\n赵甲," + first + ",370827-001\r\n赵乙," + bad
                               + ",370827-001\r\n").encode("gbk"))
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "1 problems" in text and "Wrong check digit" in text
    assert "Import all" not in text
    chinese = client.post("/aid/persons/import?lang=zh_CN", data={"file": (io.BytesIO(
        ("姓名,身份证号,村（社区）代码\r\n赵甲," + first + ",370827-999\r\n赵丙," + first + ",370827-001\r\n")
        .encode("gbk")), "名单.csv")}, content_type="multipart/form-data").get_data(as_text=True)
    assert "无此村（社区）代码" in chinese and "与第 2 行的身份证号相同" in chinese

    data = ("姓名,身份证号,村（社区）代码\r\n赵甲," + first + ",370827-001\r\n").encode("gbk")
    preview = _upload(client, data).get_data(as_text=True)
    assert "Import all 1 rows" in preview and first not in preview and mask_id_number(first) in preview
    with demo_app.app_context():
        assert db.session.scalar(sa.select(Person.id).where(Person.resident_id == first)) is None
    import hashlib
    digest = hashlib.sha256(data).hexdigest()
    assert (uploads / "aid-imports" / digest).read_bytes() == data
    applied = client.post("/aid/persons/import/apply?lang=en", data={"sha256": digest, "filename": "名单.csv"},
                          follow_redirects=True)
    assert "1 persons imported." in applied.get_data(as_text=True)
    again = client.post("/aid/persons/import/apply?lang=en", data={"sha256": digest}, follow_redirects=True)
    assert "This file was imported before" in again.get_data(as_text=True)
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Person.id)).where(Person.resident_id == first)) == 1
    assert client.post("/aid/persons/import/apply", data={"sha256": "0" * 64}).status_code == 404
    assert _upload(client, b"\x7fELF\x02\x01\x01", "list.csv").status_code == 422


def test_the_start_pages_link_the_registry_for_its_roles(demo_user_client):
    for username in ("reviewer_yutai", "charity_yutai", "finance", "auditor", "admin"):
        assert "/aid/persons" in demo_user_client(username).get("/").get_data(as_text=True), username
    assert "/aid/persons" not in demo_user_client("vendor").get("/").get_data(as_text=True)
