"""The fund ledger's JSON API, told as a finance officer's day at the Jining bureau.

Runs on the demo data: the city fund 370800, Yutai's county project 370827, the village
fund of 城西村 370827-001, Rencheng's project 370811, and one user per role.
"""
from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from ledger.extensions import db
from ledger.timeutil import local_today

CITY, YUTAI, CHENGXI, RENCHENG = "370800", "370827", "370827-001", "370811"
#: A valid resident ID (check digit X) and the same with a wrong check digit.
RESIDENT_ID = "11010519491231002X"
BAD_RESIDENT_ID = "110105194912310021"

_keys = itertools.count(1)


class Api:
    """A bearer-token client for one demo user; money POSTs get a fresh key unless given one."""

    def __init__(self, client, headers):
        self.client = client
        self.headers = dict(headers)

    def get(self, path, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kwargs)

    def post(self, path, body=None, *, key: str | None = "fresh", **kwargs):
        headers = dict(self.headers)
        if key == "fresh":
            key = f"test-key-{next(_keys)}"
        if key is not None:
            headers["Idempotency-Key"] = key
        if body is None:
            return self.client.post(f"/api/v1{path}", headers=headers, **kwargs)
        return self.client.post(f"/api/v1{path}", json=body, headers=headers, **kwargs)

    def available(self, code) -> str:
        response = self.get(f"/funds/{code}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["available"]

    def fund(self, code) -> dict:
        return self.get(f"/funds/{code}").get_json()

    def entry_count(self, code) -> int:
        return self.get(f"/funds/{code}/entries?per_page=1").get_json()["total"]


@pytest.fixture
def as_user(demo_app, demo_token_for):
    """as_user("finance") -> Api for that demo user, with a fresh token."""
    client = demo_app.test_client()
    return lambda username: Api(client, demo_token_for(username))


@pytest.fixture
def finance(as_user):
    return as_user("finance")


def yuan(text: str) -> int:
    """"1234.56" -> 123456 fen, to compare balances exactly."""
    whole, _, part = text.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int(part.ljust(2, "0")))


def receipt(amount="10000.00", **extra):
    return {"amount": amount, "source": "donation", "payer_name": "济宁爱心企业", **extra}


def disbursement(amount="500.00", **extra):
    body = {"amount": amount, "purpose": "medical_aid",
            "payee": {"kind": "person", "name": "张秀英", "id_number": RESIDENT_ID}}
    body.update(extra)
    return body


# --- the story ------------------------------------------------------------------------------------

def test_donation_allocation_and_disbursement_move_the_balances(finance):
    city_before, yutai_before = yuan(finance.available(CITY)), yuan(finance.available(YUTAI))
    city_tree_before = yuan(finance.fund(CITY)["total_available"])

    # A company donates 10,000.00 to the city fund.
    response = finance.post(f"/funds/{CITY}/receipts", receipt("10000.00", memo="年终捐赠"))
    assert response.status_code == 201, response.get_json()
    donation = response.get_json()
    assert donation["kind"] == "receipt"
    assert donation["voucher_no"].startswith("JZ-")
    assert donation["value_on"] == local_today().isoformat()
    assert donation["counterparty"]["name"] == "济宁爱心企业"
    sides = {(p["side"], p["amount"]) for p in donation["postings"]}
    assert sides == {("debit", "10000.00"), ("credit", "10000.00")}
    assert all(p["fund_code"] == CITY for p in donation["postings"])
    assert yuan(finance.available(CITY)) == city_before + 10_000_00

    # 3,000.00 goes down to Yutai's county project.
    response = finance.post("/allocations", {"from_fund": CITY, "to_fund": YUTAI, "amount": "3000.00"})
    assert response.status_code == 201, response.get_json()
    allocation = response.get_json()
    assert {p["fund_code"] for p in allocation["postings"]} == {CITY, YUTAI}
    assert yuan(finance.available(CITY)) == city_before + 7_000_00
    assert yuan(finance.available(YUTAI)) == yutai_before + 3_000_00

    # Yutai pays 500.00 of medical aid to a person; her ID is masked in every answer.
    response = finance.post(f"/funds/{YUTAI}/disbursements", disbursement("500.00"))
    assert response.status_code == 201, response.get_json()
    paid = response.get_json()
    assert paid["purpose"] == "medical_aid"
    assert paid["counterparty"] == {"kind": "person", "name": "张秀英", "id_number": "1101**********002X"}
    assert RESIDENT_ID not in response.get_data(as_text=True)
    assert yuan(finance.available(YUTAI)) == yutai_before + 2_500_00

    # The city's roll-up counts everything below it: only the 500.00 left the tree.
    assert yuan(finance.fund(CITY)["total_available"]) == city_tree_before + 10_000_00 - 500_00

    # Yutai's journal shows the payment first, as money out, and the allocation as money in.
    listing = finance.get(f"/funds/{YUTAI}/entries?per_page=2").get_json()
    assert [item["voucher_no"] for item in listing["items"]] == [paid["voucher_no"], allocation["voucher_no"]]
    assert [item["fund_amount"] for item in listing["items"]] == ["-500.00", "3000.00"]
    assert listing["items"][1]["other_funds"] == [CITY]
    assert listing["items"][1]["counterparty"]["kind"] == "fund"
    assert listing["fund"]["code"] == YUTAI
    assert RESIDENT_ID not in str(listing)

    single = finance.get(f"/entries/{paid['voucher_no']}")
    assert single.status_code == 200
    assert single.get_json()["counterparty"]["id_number"] == "1101**********002X"


def test_fund_tree_lists_city_then_counties_then_villages(finance):
    response = finance.get("/funds")
    assert response.status_code == 200
    roots = response.get_json()["funds"]
    assert [root["code"] for root in roots] == [CITY]
    counties = roots[0]["children"]
    assert len(counties) == 11 and all(county["level"] == "county" for county in counties)
    yutai = next(county for county in counties if county["code"] == YUTAI)
    assert CHENGXI in [village["code"] for village in yutai["children"]]
    villages = sum(len(county["children"]) for county in counties)
    assert villages == 333
    # A roll-up is the fund plus everything below it.
    below = sum(yuan(village["total_available"]) for village in yutai["children"])
    assert yuan(yutai["total_available"]) == yuan(yutai["available"]) + below


def test_balances_as_of_a_date_leave_out_later_entries(finance):
    yesterday = local_today() - timedelta(days=1)
    before = yuan(finance.get(f"/funds/{YUTAI}?as_of={yesterday.isoformat()}").get_json()["posted"])
    finance.post(f"/funds/{YUTAI}/receipts", receipt("88.00"))
    assert yuan(finance.get(f"/funds/{YUTAI}?as_of={yesterday.isoformat()}").get_json()["posted"]) == before
    assert finance.get("/funds?as_of=2026-13-01").status_code == 422


def test_entries_are_paged_newest_first(finance):
    for amount in ("1.00", "2.00", "3.00"):
        finance.post(f"/funds/{CHENGXI}/receipts", receipt(amount))
    first = finance.get(f"/funds/{CHENGXI}/entries?per_page=2&page=1").get_json()
    second = finance.get(f"/funds/{CHENGXI}/entries?per_page=2&page=2").get_json()
    assert [item["fund_amount"] for item in first["items"]] == ["3.00", "2.00"]
    assert second["items"][0]["fund_amount"] == "1.00"
    assert first["total"] == second["total"] >= 3
    assert first["pages"] == (first["total"] + 1) // 2
    assert finance.get(f"/funds/{CHENGXI}/entries?per_page=0").status_code == 422


# --- amounts and fields refused ----------------------------------------------------------------------

@pytest.mark.parametrize("amount", ["12.345", "0", "0.00", "-5.00", "abc", "1,000.00", "1000000000000.01",
                                    12.5, 100, None, True])
def test_bad_amounts_are_refused_naming_the_field(finance, amount):
    count = finance.entry_count(YUTAI)
    response = finance.post(f"/funds/{YUTAI}/receipts", receipt(amount))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert "amount" in error["fields"]
    assert finance.entry_count(YUTAI) == count


def test_the_largest_amount_is_accepted(finance):
    # Far above the large-receipt threshold: recorded once confirmed (tests/funds/test_fund_rules.py).
    body = receipt("1000000000000.00", source="government")
    assert finance.post(f"/funds/{YUTAI}/receipts", body).get_json()["error"]["code"] == "confirmation_required"
    response = finance.post(f"/funds/{YUTAI}/receipts", {**body, "confirm_large_amount": True})
    assert response.status_code == 201
    assert response.get_json()["postings"][0]["amount"] == "1000000000000.00"


def test_unknown_fields_and_missing_ones_are_named(finance):
    response = finance.post(f"/funds/{YUTAI}/receipts", receipt(amount_fen=100))
    assert response.status_code == 422
    assert "amount_fen" in response.get_json()["error"]["fields"]
    response = finance.post(f"/funds/{YUTAI}/receipts", {"amount": "1.00"})
    assert set(response.get_json()["error"]["fields"]) == {"source", "payer_name"}
    response = finance.post(f"/funds/{YUTAI}/disbursements", disbursement(purpose="holiday"))
    assert "purpose" in response.get_json()["error"]["fields"]


def test_a_payee_with_a_bad_resident_id_is_refused(finance):
    body = disbursement(payee={"kind": "person", "name": "张秀英", "id_number": BAD_RESIDENT_ID})
    response = finance.post(f"/funds/{YUTAI}/disbursements", body)
    assert response.status_code == 422
    assert "id_number" in response.get_json()["error"]["fields"]["payee"]
    response = finance.post(f"/funds/{YUTAI}/disbursements",
                            disbursement(payee={"kind": "person", "name": "张秀英"}))
    assert response.status_code == 422
    # An organisation needs no ID, but a credit code given must be valid.
    org = {"kind": "organisation", "name": "济宁康宁护理院有限公司"}
    assert finance.post(f"/funds/{YUTAI}/disbursements", disbursement(payee=org)).status_code == 201
    bad_org = dict(org, id_number="91370811MA3NG91W21")
    assert finance.post(f"/funds/{YUTAI}/disbursements", disbursement(payee=bad_org)).status_code == 422


def test_a_body_that_is_not_json_is_refused(finance):
    response = finance.client.post(f"/api/v1/funds/{YUTAI}/receipts", data="amount=1",
                                   headers={**finance.headers, "Idempotency-Key": "form-body"},
                                   content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


# --- idempotency ---------------------------------------------------------------------------------------

def test_a_money_post_without_idempotency_key_is_refused(finance):
    count = finance.entry_count(YUTAI)
    response = finance.post(f"/funds/{YUTAI}/receipts", receipt(), key=None)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "idempotency_key_required"
    assert "Idempotency-Key" in error["message"]
    assert error["message"].endswith("so that a retry can never pay twice."), "a whole sentence"
    assert finance.entry_count(YUTAI) == count


def test_the_same_key_and_body_returns_the_first_voucher(finance):
    count, before = finance.entry_count(YUTAI), yuan(finance.available(YUTAI))
    first = finance.post(f"/funds/{YUTAI}/disbursements", disbursement("200.00"), key="pay-zhang-2026-12")
    again = finance.post(f"/funds/{YUTAI}/disbursements", disbursement("200.00"), key="pay-zhang-2026-12")
    assert first.status_code == again.status_code == 201
    assert again.get_json()["voucher_no"] == first.get_json()["voucher_no"]
    assert finance.entry_count(YUTAI) == count + 1
    assert yuan(finance.available(YUTAI)) == before - 200_00


def test_the_same_key_with_another_body_is_a_conflict(finance):
    finance.post(f"/funds/{YUTAI}/disbursements", disbursement("200.00"), key="pay-once")
    count = finance.entry_count(YUTAI)
    response = finance.post(f"/funds/{YUTAI}/disbursements", disbursement("2000.00"), key="pay-once")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_conflict"
    assert finance.entry_count(YUTAI) == count


def test_a_refused_request_does_not_use_up_its_key(finance):
    available = finance.available(YUTAI)
    too_much = f"{yuan(available) // 100 + 1}.00"
    refused = finance.post(f"/funds/{YUTAI}/disbursements", disbursement(too_much), key="retry-me")
    assert refused.get_json()["error"]["code"] == "insufficient_funds"
    corrected = finance.post(f"/funds/{YUTAI}/disbursements", disbursement("1.00"), key="retry-me")
    assert corrected.status_code == 201


def test_a_retry_through_another_token_of_the_same_user_returns_the_first_result(as_user, finance):
    other = as_user("finance")  # keys belong to the user, not to one token
    first = finance.post(f"/funds/{YUTAI}/receipts", receipt("5.00"), key="shared")
    again = other.post(f"/funds/{YUTAI}/receipts", receipt("5.00"), key="shared")
    assert again.get_json()["voucher_no"] == first.get_json()["voucher_no"]


# --- money refusals --------------------------------------------------------------------------------------

def test_a_fund_cannot_pay_more_than_it_has_available(finance):
    available = yuan(finance.available(CHENGXI))
    too_much = f"{(available + 1) // 100}.{(available + 1) % 100:02d}"
    response = finance.post(f"/funds/{CHENGXI}/disbursements", disbursement(too_much))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "insufficient_funds"
    response = finance.post("/allocations", {"from_fund": CHENGXI, "to_fund": YUTAI, "amount": too_much})
    assert response.get_json()["error"]["code"] == "insufficient_funds"
    assert yuan(finance.available(CHENGXI)) == available
    # Exactly the available amount is fine.
    exact = f"{available // 100}.{available % 100:02d}"
    assert finance.post(f"/funds/{CHENGXI}/disbursements", disbursement(exact)).status_code == 201
    assert yuan(finance.available(CHENGXI)) == 0


def test_unknown_funds_answer_404(finance):
    assert finance.get("/funds/999999").status_code == 404
    assert finance.post("/funds/999999/receipts", receipt()).status_code == 404
    response = finance.post("/allocations", {"from_fund": CITY, "to_fund": "999999", "amount": "1.00"})
    assert response.status_code == 404
    response = finance.post("/allocations", {"from_fund": CITY, "to_fund": CITY, "amount": "1.00"})
    assert response.status_code == 422 and "to_fund" in response.get_json()["error"]["fields"]
    assert finance.get("/entries/JZ-1999-000001").status_code == 404


# --- holds -------------------------------------------------------------------------------------------------

def test_a_hold_is_posted_in_part_and_the_rest_released(finance):
    before = finance.fund(YUTAI)
    response = finance.post(f"/funds/{YUTAI}/holds", {
        "amount": "1000.00", "expires_in_hours": 24, "purpose": "emergency_aid", "reference": "SQ-2026-0042",
        "payee": {"kind": "person", "name": "李桂兰", "id_number": RESIDENT_ID}})
    assert response.status_code == 201, response.get_json()
    hold = response.get_json()
    assert hold["state"] == "pending" and hold["amount"] == "1000.00"
    assert hold["payee"]["id_number"] == "1101**********002X"
    held = finance.fund(YUTAI)
    assert yuan(held["pending"]) == yuan(before["pending"]) + 1000_00
    assert yuan(held["available"]) == yuan(before["available"]) - 1000_00
    assert yuan(held["posted"]) == yuan(before["posted"])

    # The case needed only 600.00: the hold is paid in part and 400.00 is free again.
    response = finance.post(f"/holds/{hold['id']}/post", {"amount": "600.00", "memo": "先行救助"})
    assert response.status_code == 201, response.get_json()
    result = response.get_json()
    assert result["entry"]["kind"] == "hold_post"
    assert result["entry"]["hold_id"] == hold["id"]
    assert result["hold"]["state"] == "posted" and result["hold"]["posted"] == "600.00"
    after = finance.fund(YUTAI)
    assert yuan(after["pending"]) == yuan(before["pending"])
    assert yuan(after["available"]) == yuan(before["available"]) - 600_00

    # A posted hold cannot be paid again.
    again = finance.post(f"/holds/{hold['id']}/post", {})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "hold_not_pending"


def test_a_hold_is_voided_and_can_no_longer_be_paid(finance):
    before = yuan(finance.available(YUTAI))
    hold = finance.post(f"/funds/{YUTAI}/holds", {"amount": "300.00", "expires_in_hours": 2,
                                                  "purpose": "temporary_assistance"}).get_json()
    assert yuan(finance.available(YUTAI)) == before - 300_00
    response = finance.post(f"/holds/{hold['id']}/void", {"reason": "申请人已获其他救助"}, key=None)
    assert response.status_code == 200
    assert response.get_json()["state"] == "voided"
    assert yuan(finance.available(YUTAI)) == before
    assert finance.post(f"/holds/{hold['id']}/post").get_json()["error"]["code"] == "hold_not_pending"
    listed = finance.get(f"/funds/{YUTAI}/holds?state=voided").get_json()["items"]
    assert hold["id"] in [item["id"] for item in listed]


def test_an_expired_hold_is_released_and_cannot_be_paid(demo_app, finance):
    from ledger.journal.models import Hold
    from ledger.timeutil import utcnow

    before = yuan(finance.available(YUTAI))
    hold = finance.post(f"/funds/{YUTAI}/holds", {"amount": "700.00", "expires_in_hours": 1,
                                                  "purpose": "emergency_aid"}).get_json()
    assert yuan(finance.available(YUTAI)) == before - 700_00
    with demo_app.app_context():  # the hour passes
        db.session.execute(sa.update(Hold).where(Hold.id == hold["id"])
                           .values(expires_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    response = finance.post(f"/holds/{hold['id']}/post", {})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "hold_expired"
    assert yuan(finance.available(YUTAI)) == before
    listed = {item["id"]: item for item in finance.get(f"/funds/{YUTAI}/holds").get_json()["items"]}
    assert listed[hold["id"]]["state"] == "expired" or listed[hold["id"]]["expired"]


def test_a_hold_needs_an_expiry_in_the_future_and_enough_money(finance):
    response = finance.post(f"/funds/{YUTAI}/holds", {"amount": "1.00", "purpose": "other"})
    assert "expires_at" in response.get_json()["error"]["fields"]
    response = finance.post(f"/funds/{YUTAI}/holds", {"amount": "1.00", "purpose": "other",
                                                      "expires_at": "2020-01-01T00:00:00+08:00"})
    assert response.status_code == 422 and "expires_at" in response.get_json()["error"]["fields"]
    available = yuan(finance.available(CHENGXI))
    response = finance.post(f"/funds/{CHENGXI}/holds", {"amount": f"{available // 100 + 1}.00",
                                                        "purpose": "other", "expires_in_hours": 1})
    assert response.get_json()["error"]["code"] == "insufficient_funds"


# --- reversals ---------------------------------------------------------------------------------------------

def test_a_reversal_restores_the_balance_once(finance):
    before = yuan(finance.available(YUTAI))
    paid = finance.post(f"/funds/{YUTAI}/disbursements", disbursement("800.00")).get_json()
    assert finance.post(f"/entries/{paid['voucher_no']}/reverse", {"reason": " "}).status_code == 422

    response = finance.post(f"/entries/{paid['voucher_no']}/reverse", {"reason": "收款人账号错误，退回重付"})
    assert response.status_code == 201, response.get_json()
    reversal = response.get_json()
    assert reversal["kind"] == "reversal"
    assert reversal["reverses"] == paid["voucher_no"]
    assert reversal["reversal_reason"] == "收款人账号错误，退回重付"
    swapped = {(p["account_code"], "credit" if p["side"] == "debit" else "debit", p["amount"])
               for p in paid["postings"]}
    assert {(p["account_code"], p["side"], p["amount"]) for p in reversal["postings"]} == swapped
    assert yuan(finance.available(YUTAI)) == before
    assert finance.get(f"/entries/{paid['voucher_no']}").get_json()["reversed_by"] == reversal["voucher_no"]

    again = finance.post(f"/entries/{paid['voucher_no']}/reverse", {"reason": "再来一次"})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_reversed"
    assert yuan(finance.available(YUTAI)) == before


# --- periods ------------------------------------------------------------------------------------------------

def test_an_entry_in_a_closed_month_is_refused_until_an_admin_reopens_it(as_user, finance):
    admin = as_user("admin")
    month, last_day = "2026-01", date(2026, 1, 31)  # the demo books begin in January 2026
    response = finance.post(f"/periods/{month}/close", key=None)
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["month"], response.get_json()["closed"]) == (month, True)
    assert month in [p["month"] for p in finance.get("/periods").get_json()["items"] if p["closed"]]

    count = finance.entry_count(YUTAI)
    refused = finance.post(f"/funds/{YUTAI}/receipts", receipt("50.00", value_on=last_day.isoformat()))
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "period_closed"
    assert finance.entry_count(YUTAI) == count

    # Finance cannot reopen; an admin must, and must say why.
    assert finance.post(f"/periods/{month}/reopen", {"reason": "补录"}, key=None).status_code == 403
    assert admin.post(f"/periods/{month}/reopen", {}, key=None).status_code == 422
    response = admin.post(f"/periods/{month}/reopen", {"reason": "补录漏记的捐赠"}, key=None)
    assert response.status_code == 200 and response.get_json()["closed"] is False
    accepted = finance.post(f"/funds/{YUTAI}/receipts", receipt("50.00", value_on=last_day.isoformat()))
    assert accepted.status_code == 201


def test_a_month_is_named_as_yyyy_mm(finance):
    assert finance.post("/periods/2026-13/close", key=None).status_code == 404
    assert finance.post("/periods/november/close", key=None).status_code == 404


# --- trial balance and integrity ------------------------------------------------------------------------

def test_the_trial_balance_sums_to_zero(finance):
    finance.post(f"/funds/{YUTAI}/disbursements", disbursement("10.00"))
    data = finance.get("/trial-balance").get_json()
    assert data["balanced"] is True
    assert data["total_debit"] == data["total_credit"]
    assert sum(yuan(row["balance"]) for row in data["rows"]) == 0
    cash = next(row for row in data["rows"] if row["fund_code"] == YUTAI and row["account_code"].startswith("1002"))
    assert yuan(cash["balance"]) == yuan(finance.fund(YUTAI)["posted"])
    # As of yesterday, today's payment is not in Yutai's aid expense yet.
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    earlier = finance.get(f"/trial-balance?as_of={yesterday}").get_json()
    assert earlier["balanced"] is True

    def aid_expense(rows):
        return sum(yuan(row["balance"]) for row in rows
                   if row["fund_code"] == YUTAI and row["account_code"].startswith("5101"))
    assert aid_expense(data["rows"]) - aid_expense(earlier["rows"]) == 10_00


def test_the_journal_verifies(finance):
    finance.post(f"/funds/{YUTAI}/receipts", receipt("1.00"))
    result = finance.get("/journal/verify").get_json()
    assert result["ok"] is True and result["status"] == "ok"
    assert result["entry_count"] > 0
    assert len(result["digest"]) == 64
    assert result["heads"][YUTAI]


def test_a_county_reviewer_verifies_only_the_chains_of_the_county(as_user, finance):
    """The verify answer names chain heads and counts: a county's reviewer sees those of the county's
    own funds only, as every other read; the city's roles and the auditor see every chain."""
    finance.post(f"/funds/{CITY}/receipts", receipt("5.00"))
    finance.post(f"/funds/{RENCHENG}/receipts", receipt("3.00"))
    finance.post(f"/funds/{YUTAI}/receipts", receipt("2.00"))
    finance.post("/allocations", {"from_fund": YUTAI, "to_fund": CHENGXI, "amount": "1.00"})
    county = as_user("reviewer_yutai").get("/journal/verify").get_json()
    assert county["ok"] is True
    assert {YUTAI, CHENGXI} <= set(county["heads"])
    assert all(code == YUTAI or code.startswith(YUTAI + "-") for code in county["heads"]), county["heads"]
    city = {username: as_user(username).get("/journal/verify").get_json() for username in ("reviewer", "auditor")}
    for result in city.values():
        assert result["ok"] is True and {CITY, RENCHENG, YUTAI, CHENGXI} <= set(result["heads"])
        assert result["entry_count"] > county["entry_count"]
    assert city["reviewer"] == city["auditor"]


# --- who may do what --------------------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["charity_yutai", "vendor"])
def test_charity_and_vendor_users_get_nothing(as_user, username):
    api = as_user(username)
    for path in ("/funds", f"/funds/{YUTAI}", f"/funds/{YUTAI}/entries", "/trial-balance", "/journal/verify",
                 "/periods"):
        assert api.get(path).status_code == 403, path
    assert api.post(f"/funds/{YUTAI}/receipts", receipt()).status_code == 403


@pytest.mark.parametrize("username", ["admin", "auditor", "reviewer", "reviewer_yutai"])
def test_readers_read_but_do_not_write(as_user, username):
    api = as_user(username)
    assert api.get(f"/funds/{YUTAI}").status_code == 200
    assert api.post(f"/funds/{YUTAI}/receipts", receipt()).status_code == 403
    assert api.post("/allocations", {"from_fund": CITY, "to_fund": YUTAI, "amount": "1.00"}).status_code == 403
    assert api.post(f"/funds/{YUTAI}/disbursements", disbursement()).status_code == 403


def test_a_county_reviewer_sees_only_the_county(as_user, finance):
    reviewer = as_user("reviewer_yutai")
    roots = reviewer.get("/funds").get_json()["funds"]
    assert [root["code"] for root in roots] == [YUTAI]
    assert all(village["code"].startswith(YUTAI + "-") for village in roots[0]["children"])
    assert reviewer.get(f"/funds/{CHENGXI}").status_code == 200
    for path in (f"/funds/{RENCHENG}", f"/funds/{CITY}", f"/funds/{RENCHENG}/entries", f"/funds/{RENCHENG}/holds"):
        response = reviewer.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"
    # A voucher of another county is as unknown as one that does not exist.
    other = finance.post(f"/funds/{RENCHENG}/receipts", receipt("9.00")).get_json()
    assert reviewer.get(f"/entries/{other['voucher_no']}").status_code == 404
    own = finance.post(f"/funds/{YUTAI}/receipts", receipt("9.00")).get_json()
    assert reviewer.get(f"/entries/{own['voucher_no']}").status_code == 200
    # The trial balance shows the county's own accounts only, still balanced.
    rows = reviewer.get("/trial-balance").get_json()
    assert rows["balanced"] and {row["fund_code"].split("-")[0] for row in rows["rows"]} == {YUTAI}


def test_the_api_needs_a_token(demo_app):
    client = demo_app.test_client()
    assert client.get("/api/v1/funds").status_code == 401


# --- the document --------------------------------------------------------------------------------------------

def test_openapi_describes_the_fund_endpoints(demo_app):
    spec = demo_app.test_client().get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path, method in [("/api/v1/funds", "get"), ("/api/v1/funds/{code}/receipts", "post"),
                         ("/api/v1/allocations", "post"), ("/api/v1/funds/{code}/disbursements", "post"),
                         ("/api/v1/funds/{code}/holds", "post"), ("/api/v1/holds/{hold_id}/post", "post"),
                         ("/api/v1/holds/{hold_id}/void", "post"), ("/api/v1/entries/{voucher_no}/reverse", "post"),
                         ("/api/v1/entries/{voucher_no}", "get"), ("/api/v1/trial-balance", "get"),
                         ("/api/v1/journal/verify", "get"), ("/api/v1/periods", "get"),
                         ("/api/v1/periods/{month}/close", "post"), ("/api/v1/periods/{month}/reopen", "post"),
                         ("/api/v1/funds/{code}/entries", "get"), ("/api/v1/funds/{code}/holds", "get")]:
        assert method in paths.get(path, {}), path
    receipt_op = paths["/api/v1/funds/{code}/receipts"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in receipt_op["parameters"])
    assert "ReceiptIn" in str(receipt_op["requestBody"]) and "JournalEntryOut" in str(receipt_op["responses"])
    schemas = spec["components"]["schemas"]
    assert schemas["ReceiptIn"]["properties"]["amount"]["type"] == "string"
    assert "children" in schemas["FundNodeOut"]["properties"]
