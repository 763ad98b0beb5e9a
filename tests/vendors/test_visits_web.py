"""The visit pages as people use them: the demo vendor uploads the demo's 任城区 file (the one
seed-demo writes to instance/), reads why rows were held or rejected, fixes one; a bad file shows
every bad row and records nothing; the Yutai reviewer reads the coverage of its county."""
from __future__ import annotations

import hashlib
import io
import re

import sqlalchemy as sa

from ledger.extensions import db
from ledger.vendors.visit_demo import _demo_files
from ledger.vendors.visit_models import CareVisit, VisitUpload
from tests.support import signed_in_client
from tests.vendors.test_visits_rules import visit, visits_csv


def demo_file(app) -> bytes:
    with app.app_context():
        return _demo_files(db.session)[2]


def test_the_vendor_uploads_reads_the_reasons_and_fixes_a_held_visit(demo_app):
    data = demo_file(demo_app)
    client = signed_in_client(demo_app, "vendor")
    client.get("/lang/en")
    assert client.get("/care/visits/upload").status_code == 200
    preview = client.post("/care/visits/upload", data={"file": (io.BytesIO(data), "demo-visits.csv")},
                          content_type="multipart/form-data")
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "Record and verify all" in page and 'data-upload-progress' in page
    applied = client.post("/care/visits/upload/apply", data={"sha256": hashlib.sha256(data).hexdigest(),
                                                             "filename": "demo-visits.csv",
                                                             "idempotency_key": "a" * 32})
    assert applied.status_code == 302
    upload_id = int(re.search(r"/care/visits/uploads/([0-9]+)$", applied.headers["Location"]).group(1))
    with demo_app.app_context():
        upload = db.session.get(VisitUpload, upload_id)
        assert upload.held_count >= 4 and upload.rejected_count >= 2
        held = db.session.scalar(sa.select(CareVisit.id).where(CareVisit.upload_id == upload_id,
                                                               CareVisit.reason_flags == 1024))
    listing = client.get(f"/care/visits?upload={upload_id}&state=held").get_data(as_text=True)
    assert f"/care/visits/{held}" in listing and "No check-out" in listing
    page = client.get(f"/care/visits/{held}").get_data(as_text=True)
    assert "The visit has no end time: confirm when the caregiver left." in page
    resolved = client.post(f"/care/visits/{held}/resolution", data={
        "resolution_code": "checkout_confirmed", "reason": "护理员 17:05 离开，家属电话确认",
        "idempotency_key": "b" * 32})
    assert resolved.status_code == 302
    page = client.get(f"/care/visits/{held}").get_data(as_text=True)
    assert "Check-out time confirmed (verify)" in page and "家属电话确认" in page
    # The same file again records nothing.
    again = client.post("/care/visits/upload", data={"file": (io.BytesIO(data), "again.csv")},
                        content_type="multipart/form-data")
    assert "This file was uploaded before" in again.get_data(as_text=True)


def test_a_file_with_format_errors_shows_every_bad_row_and_offers_no_recording(demo_app):
    data = visits_csv([visit("370827192403092461", start="7点"), visit("370827192403092461", method="短信")],
                      encoding="gbk")
    client = signed_in_client(demo_app, "vendor")
    client.get("/lang/en")
    answer = client.post("/care/visits/upload", data={"file": (io.BytesIO(data), "坏文件.csv")},
                         content_type="multipart/form-data")
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "2 format errors" in page and "Record and verify" not in page
    assert re.search(r"<td>2</td><td lang=\"zh-CN\">开始时间</td>", page)
    assert re.search(r"<td>3</td><td lang=\"zh-CN\">记录方式</td>", page)


def test_the_county_reviewer_reads_the_coverage_of_its_county(demo_app):
    client = signed_in_client(demo_app, "reviewer_yutai")
    client.get("/lang/zh_CN")
    page = client.get("/care/visits/coverage").get_data(as_text=True)
    assert "鱼台县" in page and "任城区" not in page
    assert 'data-chart="coverage-chart-data"' in page
    assert "距住址超过 1 公里" in page  # the demo file's far check-in, an exception rate column
