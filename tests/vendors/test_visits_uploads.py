"""Visit files and single visits through the API, as the demo vendor HL-370800-01 sends them:
all or nothing for format errors, each file once, a visit once per Idempotency-Key, and nothing of
one vendor visible to another (404)."""
from __future__ import annotations

import base64
import itertools

import pytest
import sqlalchemy as sa

from ledger.extensions import db
from ledger.vendors.visit_models import CareVisit, VisitUpload
from tests.vendors.test_supported_persons import api, imported, new_id, row, vendor_user  # noqa: F401
from tests.vendors.test_visits_rules import DAY, HOME, visit, visits_csv

_keys = itertools.count(1)


def send(client, headers, data, apply, filename="服务记录.csv"):
    return client.post("/api/v1/care/visits/uploads", headers={**headers, "Idempotency-Key": f"up-{next(_keys)}"},
                       json={"filename": filename, "apply": apply, "content_base64": base64.b64encode(data).decode()})


@pytest.fixture
def vendor(demo_app, demo_token_for):
    return demo_app.test_client(), demo_token_for("vendor")


@pytest.fixture
def persons(api):  # noqa: F811
    ids = [new_id() for _ in range(3)]
    imported(api, [row(f"访{index}某", resident_id) for index, resident_id in enumerate(ids)])
    return ids


def visit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(CareVisit.id)))


def test_a_gbk_file_with_bad_rows_records_nothing_and_names_every_row(demo_app, vendor, persons):
    client, headers = vendor
    lines = [visit(persons[0]),
             visit(persons[1], start="25:00"),  # row 3: no such time
             visit(persons[2], services_="按摩"),  # row 4: no such service
             visit(persons[0], gps=None, address="", start="14:00", end="15:00"),  # row 5: no location
             visit(persons[1], day=DAY.replace(day=1)).replace(DAY.replace(day=1).isoformat(), "2026-02-30"),  # row 6
             visit(persons[2][:-1] + ("0" if persons[2][-1] != "0" else "1"))]  # row 7: wrong check digit
    data = visits_csv(lines, encoding="gbk")
    before = visit_count(demo_app)
    with demo_app.app_context():
        uploads_before = db.session.scalar(sa.select(sa.func.count(VisitUpload.id)))
    preview = send(client, headers, data, apply=False)
    assert preview.status_code == 200
    body = preview.get_json()
    assert body["ok"] is False and body["row_count"] == 6
    assert sorted({error["row"] for error in body["errors"]}) == [3, 4, 5, 6, 7]
    assert {(error["row"], error["column"]) for error in body["errors"]} >= {
        (3, "开始时间"), (4, "服务项目"), (5, "服务地址"), (6, "服务日期"), (7, "身份证号")}
    refused = send(client, headers, data, apply=True)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "import_has_errors"
    assert sorted({error["row"] for error in refused.get_json()["error"]["row_errors"]}) == [3, 4, 5, 6, 7]
    assert visit_count(demo_app) == before
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(VisitUpload.id))) == uploads_before


def test_the_same_file_twice_records_it_once(demo_app, vendor, persons):
    client, headers = vendor
    data = visits_csv([visit(persons[0]), visit(persons[1], end=""), visit(new_id(), worker="G1002")],
                      encoding="gbk")
    first = send(client, headers, data, apply=True)
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert (body["applied"], body["verified"], body["held"], body["rejected"]) == (True, 1, 1, 1)
    count = visit_count(demo_app)
    again = send(client, headers, data, apply=True)
    assert again.status_code == 200
    assert again.get_json()["already_imported"] is True and again.get_json()["upload_id"] == body["upload_id"]
    assert visit_count(demo_app) == count
    preview = send(client, headers, data, apply=False)
    assert preview.get_json()["already_imported"] is True


def test_an_xlsx_file_is_recorded(demo_app, vendor, persons):
    import io

    from openpyxl import Workbook
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["身份证号", "护理员编号", "服务日期", "开始时间", "结束时间", "服务项目", "纬度", "经度", "服务地址",
                  "记录方式"])
    sheet.append([persons[0], "G1001", DAY, "09:00", "10:00", "生活照料", HOME[0], HOME[1], "", "电话"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    client, headers = vendor
    answer = send(client, headers, buffer.getvalue(), apply=True, filename="visits.xlsx")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["verified"] == 1


def _visit_body(resident_id, **changes):
    body = {"resident_id": resident_id, "worker_number": "G1003", "visit_on": DAY.isoformat(), "start": "15:00",
            "end": "16:00", "service_types": ["meals", "companionship"], "capture_method": "app",
            "latitude": HOME[0], "longitude": HOME[1]}
    body.update(changes)
    return body


def test_a_visit_posted_twice_with_one_key_is_recorded_once(demo_app, vendor, persons):
    client, headers = vendor
    body = _visit_body(persons[0])
    first = client.post("/api/v1/care/visits", json=body, headers={**headers, "Idempotency-Key": "visit-once-1"})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["state"] == "verified"
    count = visit_count(demo_app)
    second = client.post("/api/v1/care/visits", json=body, headers={**headers, "Idempotency-Key": "visit-once-1"})
    assert second.status_code == 201 and second.get_json()["id"] == first.get_json()["id"]
    assert visit_count(demo_app) == count
    # Another key is another report of the same visit: recorded, and rejected as a duplicate.
    third = client.post("/api/v1/care/visits", json=body, headers={**headers, "Idempotency-Key": "visit-once-2"})
    assert third.status_code == 201
    assert (third.get_json()["state"], third.get_json()["reasons"]) == ("rejected", ["duplicate"])


def test_a_posted_visit_with_bad_fields_is_refused_by_field(vendor, persons):
    client, headers = vendor
    answer = client.post("/api/v1/care/visits", json=_visit_body(persons[0], start="9h", latitude=None),
                         headers={**headers, "Idempotency-Key": "visit-bad-1"})
    assert answer.status_code == 422
    assert set(answer.get_json()["error"]["fields"]) >= {"start"}


def test_another_vendors_visits_and_uploads_answer_404(demo_app, demo_token_for, vendor, persons):
    client, headers = vendor
    data = visits_csv([visit(persons[0], end="")])
    body = send(client, headers, data, apply=True).get_json()
    visit_id = client.get("/api/v1/care/visits", headers=headers,
                          query_string={"upload": body["upload_id"]}).get_json()["items"][0]["id"]
    other = demo_token_for(vendor_user(demo_app, "vendor_other", "HL-370800-02"))
    for path in (f"/api/v1/care/visits/{visit_id}", f"/api/v1/care/visits/uploads/{body['upload_id']}"):
        assert client.get(path, headers=headers).status_code == 200
        assert client.get(path, headers=other).status_code == 404
    refused = client.post(f"/api/v1/care/visits/{visit_id}/resolution", headers={**other, "Idempotency-Key": "r-1"},
                          json={"resolution_code": "checkout_confirmed", "reason": "离开时间已电话核实"})
    assert refused.status_code == 404
    listed = client.get("/api/v1/care/visits", headers=other, query_string={"per_page": 200}).get_json()["items"]
    assert listed and {item["vendor_code"] for item in listed} == {"HL-370800-02"}
    assert visit_id not in {item["id"] for item in listed}
    uploads = client.get("/api/v1/care/visits/uploads", headers=other).get_json()["items"]
    assert body["upload_id"] not in {item["id"] for item in uploads}
    # The county reviewer of another county does not see it either; Yutai's does.
    assert client.get(f"/api/v1/care/visits/{visit_id}", headers=demo_token_for("reviewer_yutai")).status_code == 200
