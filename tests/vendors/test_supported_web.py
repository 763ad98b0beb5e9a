"""The supported persons' pages, used as the Yutai reviewer and the demo vendor would."""
from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from ledger.auth.models import Region
from ledger.extensions import db
from ledger.identity import mask_id_number
from ledger.vendors.person_models import SupportedPerson
from tests.support import signed_in_client
from tests.vendors.test_supported_persons import api, imported, new_id, row  # noqa: F401  (api is a fixture)

ANSWERS = {"eating": "able", "dressing": "unable", "transferring": "able", "toileting": "unable",
           "walking_indoors": "able", "bathing": "unable"}


def form(**fields):
    return {"idempotency_key": uuid.uuid4().hex, **fields}


def test_the_reviewer_lists_the_county_masked_and_narrows_by_care_level(demo_app):
    client = signed_in_client(demo_app, "reviewer_yutai")
    page = client.get("/care/persons")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    with demo_app.app_context():
        yutai = db.session.scalar(sa.select(Region.id).where(Region.code == "370827"))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(SupportedPerson)
                                  .where(SupportedPerson.county_id == yutai))
        first = db.session.scalar(sa.select(SupportedPerson).where(SupportedPerson.county_id == yutai)
                                  .order_by(SupportedPerson.id))
        shown_id, full_id = mask_id_number(first.resident_id), first.resident_id
    assert f"共 {total} 条" in html
    assert shown_id in html and full_id not in html
    assert "鱼台县" in html and "任城区" not in html
    fully = client.get("/care/persons", query_string={"level": "fully_disabled"}).get_data(as_text=True)
    levels = re.findall(r"<td>(全自理|半失能|全失能)</td>", fully)
    assert levels and set(levels) == {"全失能"}


def test_the_reviewer_records_an_assessment_a_reassignment_and_a_status_change(demo_app, api):  # noqa: F811
    resident_id = new_id()
    person_id = imported(api, [row("曹玉芬", resident_id)])[resident_id]
    client = signed_in_client(demo_app, "reviewer_yutai")
    client.get("/lang/zh_CN")
    base = f"/care/persons/{person_id}"

    missing = client.post(base + "/assessments", data=form(assessed_on="2026-06-02", assessor="王医生"))
    assert missing.status_code == 422
    assert "请选择“能”或“不能”。" in missing.get_data(as_text=True)
    done = client.post(base + "/assessments", data=form(assessed_on="2026-06-02", assessor="王医生", **ANSWERS))
    assert done.status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert "评估已登记。" in page
    assert re.search(r"当前照护等级</dt><dd>半失能</dd>", page)

    assert client.post(base + "/assignments", data=form(vendor="HL-370800-02", valid_from="2026-06-16")).status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert re.search(r"济宁康宁护理院有限公司</td><td>2026-06-16</td><td></td>", page)
    assert re.search(r"济宁市颐养居家照护服务中心</td><td>2026-01-01</td><td>2026-06-15</td>", page)
    no_contract = client.post(base + "/assignments", data=form(vendor="HL-370800-03", valid_from="2026-07-01"))
    assert no_contract.status_code == 422
    assert "该机构在 2026-07-01 与此人所在县（市、区）没有合同" in no_contract.get_data(as_text=True)

    assert client.post(base + "/statuses", data=form(status="deceased", effective_on="2026-08-03")).status_code == 302
    again = client.post(base + "/statuses", data=form(status="active", effective_on="2026-09-01"))
    assert again.status_code == 409
    page = client.get(base).get_data(as_text=True)
    assert re.search(r"<td>2026-08-03</td><td>已死亡</td>", page)


def test_a_vendor_reads_its_persons_without_the_recording_forms(demo_app):
    client = signed_in_client(demo_app, "vendor")
    listed = client.get("/care/persons").get_data(as_text=True)
    vendors = set(re.findall(r"<td>(济宁[^<]*(?:中心|公司)|鲁南[^<]*社)</td></tr>", listed))
    assert vendors == {"济宁市颐养居家照护服务中心"}
    first = re.search(r'href="/care/persons/(\d+)"', listed).group(1)
    page = client.get(f"/care/persons/{first}").get_data(as_text=True)
    assert "评估日期" in page or "Assessed on" in page
    assert "/assessments" not in page and "/assignments" not in page
    assert client.post(f"/care/persons/{first}/statuses", data=form(status="deceased",
                                                                   effective_on="2026-08-03")).status_code == 403


def test_the_reviewer_previews_a_gbk_list_reads_each_bad_row_in_chinese_and_imports_the_corrected_one(demo_app):
    from io import BytesIO

    from tests.vendors.test_supported_persons import persons_csv

    client = signed_in_client(demo_app, "reviewer_yutai")
    client.get("/lang/zh_CN")
    good, other = new_id(), new_id()
    bad = persons_csv([row("冯桂珍", good), row("冯桂珍", good), row("褚玉兰", other, vendor="HL-370800-03")])
    page = client.post("/care/persons/import", data={"file": (BytesIO(bad), "特困人员.csv")},
                       content_type="multipart/form-data")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "发现 2 处问题" in html
    assert re.search(r"<td>3</td><td>身份证号</td><td>[0-9*X]+</td><td>与第 2 行的身份证号相同</td>", html), html
    assert "该机构在此人纳入照护之日与其所在县（市、区）没有合同" in html
    assert "import/apply" not in html
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SupportedPerson)
                                 .where(SupportedPerson.resident_id.in_([good, other]))) == 0

    fixed = persons_csv([row("冯桂珍", good), row("褚玉兰", other, vendor="HL-370800-02")])
    preview = client.post("/care/persons/import", data={"file": (BytesIO(fixed), "特困人员.csv")},
                          content_type="multipart/form-data").get_data(as_text=True)
    sha256 = re.search(r'name="sha256"[^>]*value="([0-9a-f]{64})"', preview) or \
        re.search(r'value="([0-9a-f]{64})"[^>]*name="sha256"', preview)
    applied = client.post("/care/persons/import/apply", data={"sha256": sha256.group(1), "filename": "特困人员.csv"})
    assert applied.status_code == 302
    assert "已导入 2 人。" in client.get("/care/persons").get_data(as_text=True)
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SupportedPerson)
                                 .where(SupportedPerson.resident_id.in_([good, other]))) == 2
