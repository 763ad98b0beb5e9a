"""The care-procurement pages and API as their users meet them: finance drafts and activates a
contract and reads its commitment; the demo vendor reads its own profile, workers and contracts and
imports its caregivers; another vendor's records answer 404; everything is the same in both languages."""
from __future__ import annotations

import base64
import io
import itertools
import re
from datetime import date

import sqlalchemy as sa

from ledger.aid.demo import demo_resident_id
from ledger.auth.models import Organisation
from ledger.extensions import db
from ledger.journal.models import Hold, HoldState
from ledger.money import parse_amount
from ledger.timeutil import local_today
from ledger.vendors.models import Contract, ContractState, VendorProfile, Worker

_keys = itertools.count(1)


def vendor_id(app, code):
    with app.app_context():
        return db.session.scalar(sa.select(VendorProfile.id).join(Organisation).where(Organisation.code == code))


def contract_body(vendor, county="370827", ceiling="500000.00"):
    year = local_today().year
    body = {"vendor_id": vendor, "county": county, "starts_on": f"{year}-01-01", "ends_on": f"{year}-12-31",
            "ceiling": ceiling, "penalty_per_mille": 20, "note": "补充合同"}
    for level, price in (("self_caring", "280.00"), ("partly_disabled", "560.00"), ("fully_disabled", "900.00")):
        body[f"price_{level}"] = price
        body[f"visits_min_{level}"] = 4
        body[f"minutes_min_{level}"] = 45
    return body


def post(client, path, json, headers):
    return client.post(path, json=json, headers={**headers, "Idempotency-Key": f"care-{next(_keys)}"})


def test_finance_drafts_activates_and_ends_a_contract_through_the_api(demo_app, demo_token_for):
    client = demo_app.test_client()
    finance = demo_token_for("finance")
    third = vendor_id(demo_app, "HL-370800-03")
    created = post(client, "/api/v1/care/contracts", contract_body(third), finance)
    assert created.status_code == 201, created.get_json()
    contract = created.get_json()
    assert contract["state"] == "draft" and contract["actions"] == ["activate"]
    assert contract["number"].startswith(f"HT-{local_today().year}-370827-")
    assert contract["commitment"] == {"ceiling": "500000.00", "committed": "0.00", "posted": "0.00",
                                      "remaining": "500000.00", "hold_id": None, "hold_expires_at": None}
    path = f"/api/v1/care/contracts/{contract['id']}"
    headers = {**finance, "Idempotency-Key": "activate-once"}
    activated = client.post(path + "/activate", headers=headers)
    assert activated.status_code == 200, activated.get_json()
    again = client.post(path + "/activate", headers=headers)
    assert again.get_json() == activated.get_json(), "the same key answers the first result"
    figures = activated.get_json()["commitment"]
    assert activated.get_json()["state"] == "active" and figures["committed"] == "500000.00" and figures["hold_id"]
    amended = post(client, path + "/amendments",
                   {**{k: v for k, v in contract_body(third, ceiling="600000.00").items()
                       if k not in ("vendor_id", "county", "starts_on", "ends_on")},
                    "effective_on": local_today().isoformat()}, finance)
    assert amended.status_code == 201, amended.get_json()
    assert [v["ceiling"] for v in amended.get_json()["versions"]] == ["500000.00", "600000.00"]
    assert amended.get_json()["commitment"]["committed"] == "600000.00"
    illegal = post(client, path + "/resume", {}, finance)
    assert illegal.status_code == 409 and illegal.get_json()["error"]["code"] == "illegal_transition"
    ended = post(client, path + "/end", {"reason": "合同提前终止"}, finance)
    assert ended.status_code == 200 and ended.get_json()["state"] == "ended"
    with demo_app.app_context():
        hold = db.session.get(Hold, amended.get_json()["commitment"]["hold_id"])
        assert HoldState(hold.state) == HoldState.voided


def test_a_vendor_reads_its_own_and_gets_404_for_another_vendors(demo_app, demo_token_for):
    client = demo_app.test_client()
    vendor = demo_token_for("vendor")
    own, other = vendor_id(demo_app, "HL-370800-01"), vendor_id(demo_app, "HL-370800-02")
    with demo_app.app_context():
        their_worker = db.session.scalar(sa.select(Worker.id).where(Worker.vendor_id == other).limit(1))
        own_worker = db.session.scalar(sa.select(Worker.id).where(Worker.vendor_id == own).limit(1))
        their_contract = db.session.scalar(sa.select(Contract.id).where(Contract.vendor_id == other).limit(1))
    listed = client.get("/api/v1/vendors", headers=vendor).get_json()["items"]
    assert [item["id"] for item in listed] == [own] and "*" in listed[0]["bank_account_masked"]
    assert client.get(f"/api/v1/vendors/{own}/workers", headers=vendor).get_json()["total"] == 12
    assert client.get(f"/api/v1/vendors/workers/{own_worker}", headers=vendor).status_code == 200
    for path in (f"/api/v1/vendors/{other}", f"/api/v1/vendors/{other}/workers", f"/api/v1/vendors/workers/{their_worker}",
                 f"/api/v1/care/contracts/{their_contract}"):
        assert client.get(path, headers=vendor).status_code == 404, path
    contracts = client.get("/api/v1/care/contracts", headers=vendor).get_json()
    assert contracts["total"] == 4 and {item["vendor_id"] for item in contracts["items"]} == {own}
    assert post(client, f"/api/v1/vendors/{other}/workers",
                {"worker_number": "Z1", "name": "张三", "resident_id": demo_resident_id("370827", date(1980, 5, 5), 3, True),
                 "active_from": "2026-01-01"}, vendor).status_code == 404
    assert post(client, "/api/v1/care/contracts", contract_body(own), vendor).status_code == 403


def test_the_worker_import_through_the_api_names_every_bad_row(demo_app, demo_token_for):
    client = demo_app.test_client()
    vendor = demo_token_for("vendor")
    own = vendor_id(demo_app, "HL-370800-01")
    good = demo_resident_id("370811", date(1979, 3, 3), 5, False)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    text = f"工号,姓名,身份证号,上岗日期\nA1,王芳,{good},2026-02-01\nA2,李静,{bad},2026-02-01\n".encode("gbk")
    body = {"filename": "护理员.csv", "content_base64": base64.b64encode(text).decode(), "apply": True}
    refused = post(client, f"/api/v1/vendors/{own}/workers/import", body, vendor)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "import_has_errors"
    assert [(e["row"], e["key"]) for e in refused.get_json()["error"]["row_errors"]] == [(3, "resident_id")]
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Worker).where(Worker.worker_number == "A1")) == 0


def test_finance_walks_the_contract_pages_and_activates_a_draft(demo_app, demo_user_client):
    finance = demo_user_client("finance")
    page = finance.get("/care/contracts")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"HT-{local_today().year}-370827-002" in html and "6,000,000.00" in html  # Yutai splits its budget
    form = finance.get("/care/contracts/new").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]{32})"', form).group(1)
    third = vendor_id(demo_app, "HL-370800-03")
    data = {k: str(v) for k, v in contract_body(third).items()}
    data["idempotency_key"] = key
    created = finance.post("/care/contracts/new", data=data)
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    detail = finance.get(created.headers["Location"]).get_data(as_text=True)
    assert "500,000.00" in detail
    key = re.search(r'action="(/care/contracts/\d+/activate)".*?value="([0-9a-f]{32})"', detail, re.S)
    activated = finance.post(key.group(1), data={"idempotency_key": key.group(2)})
    assert activated.status_code == 302
    with demo_app.app_context():
        contract = db.session.scalar(sa.select(Contract).order_by(Contract.id.desc()).limit(1))
        assert ContractState(contract.state) == ContractState.active and contract.hold_id
    # A bad amendment date is refused next to its field.
    amend = finance.get(f"/care/contracts/{contract.id}/amend").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]{32})"', amend).group(1)
    data = {k: str(v) for k, v in contract_body(third).items() if k not in ("vendor_id", "county", "starts_on",
                                                                             "ends_on")}
    refused = finance.post(f"/care/contracts/{contract.id}/amend",
                           data={**data, "effective_on": f"{local_today().year}-01-01", "idempotency_key": key})
    assert refused.status_code == 422
    assert 'id="effective_on-error"' in refused.get_data(as_text=True)
    budgets = finance.get("/care/budgets").get_data(as_text=True)
    assert "CARE-370827" in budgets


def test_the_vendor_finds_only_its_own_page_and_imports_workers(demo_app, demo_user_client, tmp_path):
    demo_app.config["UPLOADS_DIR"] = str(tmp_path)
    client = demo_user_client("vendor")
    own = vendor_id(demo_app, "HL-370800-01")
    listed = client.get("/vendors").get_data(as_text=True)
    assert f'href="/vendors/{own}"' in listed and "HL-370800-02" not in listed
    page = client.get(f"/vendors/{own}").get_data(as_text=True)
    assert "G1001" in page and "HT-" in page
    other = vendor_id(demo_app, "HL-370800-02")
    assert client.get(f"/vendors/{other}").status_code == 404
    good = demo_resident_id("370811", date(1982, 6, 5), 9, True)
    text = f"工号,姓名,身份证号,上岗日期\nB1,陈红,{good},2026-02-01\n".encode()
    form = client.get(f"/vendors/{own}/workers/import").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    data = {"file": (io.BytesIO(text), "workers.csv")}
    if token:
        data["csrf_token"] = token.group(1)
    preview = client.post(f"/vendors/{own}/workers/import", data=data, content_type="multipart/form-data")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    sha = re.search(r'name="sha256" type="hidden" value="([0-9a-f]{64})"', html).group(1)
    applied = client.post(f"/vendors/{own}/workers/import/apply", data={"sha256": sha, "filename": "workers.csv"})
    assert applied.status_code == 302
    with demo_app.app_context():
        assert db.session.scalar(sa.select(Worker.vendor_id).where(Worker.worker_number == "B1")) == own


def test_finance_records_a_government_allocation_into_a_care_budget(demo_app, demo_token_for):
    client = demo_app.test_client()
    finance = demo_token_for("finance")
    before = {item["code"]: item for item in client.get("/api/v1/care/budgets", headers=finance).get_json()["items"]}
    receipt = post(client, "/api/v1/funds/CARE-370827/receipts",
                   {"amount": "300000.00", "source": "government", "payer_name": "鱼台县财政局",
                    "memo": "追加照护服务预算"}, finance)
    assert receipt.status_code == 201, receipt.get_json()
    assert receipt.get_json()["voucher_no"].startswith(f"JZ-{local_today().year}-CARE-370827-")
    after = {item["code"]: item for item in client.get("/api/v1/care/budgets", headers=finance).get_json()["items"]}
    assert parse_amount(after["CARE-370827"]["posted"]) == parse_amount(before["CARE-370827"]["posted"]) + 300_000_00
    assert after["CARE-370827"]["pending"] == before["CARE-370827"]["pending"]
    # The relief tree does not move, and a county reviewer reads only its county's budget.
    assert client.get("/api/v1/funds/CARE-370827", headers=finance).status_code == 404
    yutai = client.get("/api/v1/care/budgets", headers=demo_token_for("reviewer_yutai")).get_json()["items"]
    assert [item["code"] for item in yutai] == ["CARE-370827"]


def test_finance_changes_a_vendors_profile_on_the_web_and_through_the_api(demo_app, demo_user_client, demo_token_for):
    third = vendor_id(demo_app, "HL-370800-03")
    finance = demo_user_client("finance")
    form = finance.get(f"/vendors/{third}/edit").get_data(as_text=True)
    assert "52370800MJE318722J" in form  # the form starts from the profile
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]{32})"', form).group(1)
    base = {"name": "鲁南福寿社会工作服务社", "credit_code": "52370800MJE318722J", "contact_name": "王德福",
            "contact_phone": "0537-4421803", "bank_name": "济宁农村商业银行",
            "bank_account_number": "9150001234567890123", "bank_account_holder": "鲁南福寿社会工作服务社"}
    refused = finance.post(f"/vendors/{third}/edit", data={**base, "credit_code": "52370800MJE318722K",
                                                            "idempotency_key": key})
    assert refused.status_code == 422 and 'id="credit_code-error"' in refused.get_data(as_text=True)
    saved = finance.post(f"/vendors/{third}/edit", data={**base, "contact_name": "李秀梅", "idempotency_key": key})
    assert saved.status_code == 302
    api = demo_app.test_client()
    answer = api.put(f"/api/v1/vendors/{third}", json={**base, "contact_phone": "0537-4421899"},
                     headers=demo_token_for("finance"))
    assert answer.status_code == 200 and answer.get_json()["contact_phone"] == "0537-4421899"
    assert answer.get_json()["contact_name"] == "王德福"
    taken = api.put(f"/api/v1/vendors/{third}", json={**base, "credit_code": "91370800MA3C5K7U5M"},
                    headers=demo_token_for("finance"))
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "credit_code_taken"
