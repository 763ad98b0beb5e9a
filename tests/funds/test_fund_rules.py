"""The fund rules as the API and the web forms tell them: allocations along the tree, period close,
holds' buttons, the preparer on a voucher, the confirmation of a very large receipt.

Runs on the demo data (see `tests/funds/test_api_funds.py`)."""
from __future__ import annotations

import pytest

from ledger.timeutil import local_today
from tests.funds.test_api_funds import Api
from tests.funds.test_web_funds import Browser, field_block, text

CITY, YUTAI, CHENGXI, RENCHENG = "370800", "370827", "370827-001", "370811"
RENCHENG_VILLAGE = "370811-001"
YUTAI_OTHER_VILLAGE = "370827-002"


@pytest.fixture
def api(demo_app, demo_token_for):
    client = demo_app.test_client()
    return lambda username="finance": Api(client, demo_token_for(username))


@pytest.fixture
def browser(demo_app, demo_user_client):
    return lambda username="finance": Browser(demo_app, demo_user_client(username))


# --- allocations follow the tree ------------------------------------------------------------------

@pytest.mark.parametrize("source, target", [(YUTAI, RENCHENG_VILLAGE), (CHENGXI, YUTAI_OTHER_VILLAGE)])
def test_the_api_refuses_an_allocation_across_the_tree_naming_the_field(api, source, target):
    finance = api()
    before = finance.available(source)
    response = finance.post("/allocations", {"from_fund": source, "to_fund": target, "amount": "1.00"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "allocation_off_tree"
    assert "parent or one of its own children" in error["fields"]["to_fund"][0]
    assert target not in error["allowed"]
    assert finance.available(source) == before


@pytest.mark.parametrize("source, target", [(CITY, YUTAI), (YUTAI, CHENGXI), (CHENGXI, YUTAI), (YUTAI, CITY)])
def test_the_api_allocates_one_level_up_or_down(api, source, target):
    response = api().post("/allocations", {"from_fund": source, "to_fund": target, "amount": "1.00"})
    assert response.status_code == 201, response.get_json()


def test_the_allocation_form_shows_the_refusal_on_the_receiving_fund(browser):
    finance = browser()
    page = finance.submit("/funds/allocation", {"from_fund": YUTAI, "to_fund": RENCHENG_VILLAGE, "amount": "1.00",
                                                "value_on": local_today().isoformat()}, follow=False)
    assert page.status_code == 422
    block = field_block(text(page), "to_fund")
    assert "has-error" in block and "one level up or down the fund tree" in block

    finance.get("/lang/zh_CN")
    page = finance.submit("/funds/allocation", {"from_fund": CHENGXI, "to_fund": YUTAI_OTHER_VILLAGE,
                                                "amount": "1.00", "value_on": local_today().isoformat()},
                          follow=False)
    assert "逐级" in field_block(text(page), "to_fund")


# --- period close ---------------------------------------------------------------------------------

def _this_month() -> str:
    return f"{local_today():%Y-%m}"


def test_the_api_refuses_a_month_in_progress_naming_the_field(api):
    response = api().post(f"/periods/{_this_month()}/close", key=None)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "period_not_ended"
    assert "the month to close" in error["fields"]["month"][0]


def test_the_api_closes_in_order_and_reopens_the_latest_only(api):
    finance, admin = api(), api("admin")
    refused = finance.post("/periods/2026-02/close", key=None)  # the demo books begin in January
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "period_out_of_order"
    assert refused.get_json()["error"]["open_months"] == ["2026-01"]

    checklist = finance.get("/periods/2026-01/checklist").get_json()
    assert checklist["closable"] is True and checklist["entry_count"] > 0
    assert finance.post("/periods/2026-01/close", key=None).status_code == 200
    closed = finance.post("/periods/2026-02/close", key=None)
    assert closed.status_code == 200
    assert [event["action"] for event in closed.get_json()["history"]] == ["close"]

    refused = admin.post("/periods/2026-01/reopen", {"reason": "补录"}, key=None)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["latest_closed"] == "2026-02"
    reopened = admin.post("/periods/2026-02/reopen", {"reason": "补录漏记的捐赠"}, key=None)
    assert reopened.status_code == 200
    history = reopened.get_json()["history"]
    assert [(event["action"], event["reason"]) for event in history] == [("close", ""), ("reopen", "补录漏记的捐赠")]
    assert all(event["by"] for event in history)


def test_the_web_close_asks_for_confirmation_listing_the_pending_holds(browser, demo_app):
    import sqlalchemy as sa
    from datetime import datetime, timezone

    from ledger.extensions import db
    from ledger.journal.models import Hold

    finance = browser()
    page = finance.submit(f"/funds/{YUTAI}/hold", {"amount": "321.00", "purpose": "medical_aid",
                                                   "expires_in_hours": "24", "payee_kind": ""})
    assert "placed" in text(page)
    with demo_app.app_context():  # placed while January was still running
        db.session.execute(sa.update(Hold).where(Hold.amount_fen == 321_00)
                           .values(created_at=datetime(2026, 1, 20, 2, 0, tzinfo=timezone.utc)))
        db.session.commit()

    page = finance.client.post("/funds/periods/close", data={"month": "2026-01"})
    html = text(page)
    assert page.status_code == 200 and "Close 2026-01?" in html
    assert "¥321.00" in html and 'name="confirmed" type="hidden" value="yes"' in html
    assert "Month 2026-01 closed." not in text(finance.get("/funds/periods"))  # nothing closed yet

    page = finance.client.post("/funds/periods/close", data={"month": "2026-01", "confirmed": "yes"},
                               follow_redirects=True)
    assert "Month 2026-01 closed." in text(page)
    assert "Closed by" in text(page)


def test_the_web_close_refuses_a_month_in_progress_and_one_out_of_order_at_the_field(browser):
    finance = browser()
    page = finance.client.post("/funds/periods/close", data={"month": _this_month()})
    assert page.status_code == 422
    block = field_block(text(page), "month")
    assert "has-error" in block and "The month to close" in block and "has not ended yet" in block

    page = finance.client.post("/funds/periods/close", data={"month": "2026-03"})
    assert page.status_code == 409
    assert "close 2026-01 first" in field_block(text(page), "month")


def test_the_periods_page_offers_reopening_the_latest_closed_month_only_and_shows_why(browser):
    finance, admin = browser(), browser("admin")
    for month in ("2026-01", "2026-02"):
        finance.client.post("/funds/periods/close", data={"month": month, "confirmed": "yes"})
    html = text(admin.get("/funds/periods"))
    assert "/funds/periods/2026-02/reopen" in html and "/funds/periods/2026-01/reopen" not in html

    page = admin.client.post("/funds/periods/2026-01/reopen", data={"2026-01-reason": "补录"})
    assert page.status_code == 409
    page = admin.client.post("/funds/periods/2026-02/reopen", data={"2026-02-reason": "补录漏记的捐赠"},
                             follow_redirects=True)
    html = text(page)
    assert "Month 2026-02 reopened." in html and "reason: 补录漏记的捐赠" in html
    assert "/funds/periods/2026-01/reopen" in html


# --- holds: settled ones offer nothing more; a part-paid one shows what was released -------------

def _last_hold_id(demo_app) -> int:
    import sqlalchemy as sa

    from ledger.extensions import db
    from ledger.journal.models import Hold

    with demo_app.app_context():
        return db.session.scalar(sa.select(sa.func.max(Hold.id)))


def test_a_paid_or_voided_hold_offers_no_pay_or_void_and_a_part_paid_one_shows_the_release(browser, demo_app):
    finance = browser()
    finance.submit(f"/funds/{YUTAI}/hold", {"amount": "1000.00", "purpose": "emergency_aid", "expires_in_hours": "24",
                                            "payee_kind": ""})
    paid = _last_hold_id(demo_app)
    finance.submit(f"/funds/holds/{paid}/post", {"amount": "600", "value_on": local_today().isoformat()})
    finance.submit(f"/funds/{YUTAI}/hold", {"amount": "50.00", "purpose": "other", "expires_in_hours": "24",
                                            "payee_kind": ""})
    voided = _last_hold_id(demo_app)
    finance.submit(f"/funds/holds/{voided}/void", {"reason": "已由其他渠道救助"})

    for hold_id in (paid, voided):
        for action in ("post", "void"):
            page = finance.get(f"/funds/holds/{hold_id}/{action}")
            html = text(page)
            assert page.status_code == 200
            assert "Pay</button>" not in html and "Void hold</button>" not in html
            assert 'name="idempotency_key"' not in html
            assert "can no longer be paid or voided" in html
    part_paid = text(finance.get(f"/funds/holds/{paid}/post"))
    assert "Paid" in part_paid and "¥600.00" in part_paid and "Released" in part_paid and "¥400.00" in part_paid

    fund_page = text(finance.get(f"/funds/{YUTAI}"))
    assert f"/funds/holds/{paid}/post" not in fund_page and f"/funds/holds/{voided}/void" not in fund_page
    assert "released ¥400.00" in fund_page

    # A form opened before the hold was paid, sent afterwards: refused, and still no buttons.
    page = finance.submit(f"/funds/holds/{paid}/post", {"amount": "10", "value_on": local_today().isoformat()},
                          key="b" * 32, follow=False)
    assert page.status_code == 409 and "Pay</button>" not in text(page)
    assert "no longer pending" in text(page)


def test_the_api_says_what_a_part_paid_hold_released(api):
    finance = api()
    hold = finance.post(f"/funds/{YUTAI}/holds", {"amount": "1000.00", "purpose": "emergency_aid",
                                                  "expires_in_hours": 24}).get_json()
    response = finance.post(f"/holds/{hold['id']}/post", {"amount": "600.00"})
    assert response.status_code in (200, 201), response.get_json()
    body = response.get_json()["hold"]
    assert (body["posted"], body["released"]) == ("600.00", "400.00")


# --- the preparer (制单人) ---------------------------------------------------------------------------

def test_a_voucher_names_who_prepared_it_on_its_page_in_the_list_and_in_the_api(api, browser):
    finance = api()
    response = finance.post(f"/funds/{YUTAI}/receipts", {"amount": "12.34", "source": "donation",
                                                        "payer_name": "某爱心企业"})
    assert response.status_code == 201, response.get_json()
    voucher = response.get_json()["voucher_no"]

    entry = finance.get(f"/entries/{voucher}").get_json()
    assert entry["prepared_by"] == {"username": "finance", "display_name": "财务 王会计"}
    listed = finance.get(f"/funds/{YUTAI}/entries?per_page=5").get_json()["items"]
    assert [item["prepared_by"]["username"] for item in listed if item["voucher_no"] == voucher] == ["finance"]

    reader = browser("auditor")
    reader.get("/lang/zh_CN")
    page = text(reader.get(f"/funds/entries/{voucher}"))
    assert "<dt>制单人</dt>" in page
    assert '<dd class="preparer">财务 王会计</dd>' in page
    listing = text(reader.get(f"/funds/entries?counterparty={voucher}"))
    assert "制单人" in listing and "财务 王会计" in listing

    import csv
    import io

    from openpyxl import load_workbook

    exported = reader.get(f"/funds/entries?counterparty={voucher}&export=csv")
    rows = list(csv.reader(io.StringIO(exported.get_data().decode("utf-8-sig"))))
    column = rows[0].index("制单人")
    assert [row[column] for row in rows[1:] if row[0] == voucher] == ["财务 王会计"]
    sheet = load_workbook(io.BytesIO(reader.get(f"/funds/entries?counterparty={voucher}&export=xlsx").data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = next(row for row in values if "制单人" in row)
    assert [row[header.index("制单人")] for row in values if row[0] == voucher] == ["财务 王会计"]


# --- a very large receipt is confirmed first --------------------------------------------------------

LARGE = "500000.01"  # one fen above the default threshold (500,000.00 yuan)


def test_the_api_refuses_a_very_large_receipt_until_confirmed_and_keeps_the_key(api):
    finance = api()
    body = {"amount": LARGE, "source": "donation", "payer_name": "某集团公司"}
    before = finance.entry_count(YUTAI)
    refused = finance.post(f"/funds/{YUTAI}/receipts", body, key="large-receipt-1")
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "confirmation_required"
    assert list(error["fields"]) == ["confirm_large_amount"]
    assert error["amount"] == LARGE and error["amount_in_words"] == "伍拾万元零壹分"
    assert error["confirm_above"] == "500000.00"
    assert finance.entry_count(YUTAI) == before

    not_a_boolean = finance.post(f"/funds/{YUTAI}/receipts", {**body, "confirm_large_amount": "true"})
    assert not_a_boolean.status_code == 422
    assert "confirm_large_amount" in not_a_boolean.get_json()["error"]["fields"]

    confirmed = {**body, "confirm_large_amount": True}
    first = finance.post(f"/funds/{YUTAI}/receipts", confirmed, key="large-receipt-1")
    assert first.status_code == 201, first.get_json()
    again = finance.post(f"/funds/{YUTAI}/receipts", confirmed, key="large-receipt-1")
    assert again.get_json()["voucher_no"] == first.get_json()["voucher_no"]
    assert finance.entry_count(YUTAI) == before + 1

    at_the_threshold = finance.post(f"/funds/{YUTAI}/receipts", {**body, "amount": "500000.00"})
    assert at_the_threshold.status_code == 201


def test_the_threshold_is_configurable_and_checked_in_the_service(demo_app):
    from datetime import date

    import sqlalchemy as sa

    from ledger.auth.models import User
    from ledger.errors import ConfirmationRequired
    from ledger.extensions import db
    from ledger.funds import services

    demo_app.config["LARGE_RECEIPT_CONFIRM_FEN"] = 1000_00
    with demo_app.app_context():
        finance = db.session.scalar(sa.select(User).where(User.username == "finance"))
        with pytest.raises(ConfirmationRequired) as refused:
            services.record_receipt(db.session, finance, YUTAI, 1000_01, source="donation", payer_name="某人",
                                    value_on=local_today())
        assert list(refused.value.fields) == ["confirm_large_amount"]
        assert "1000.00" in refused.value.fields["confirm_large_amount"][0]
        entry = services.record_receipt(db.session, finance, YUTAI, 1000_01, source="donation", payer_name="某人",
                                        value_on=local_today(), confirm_large_amount=True)
        assert entry.voucher_no
        db.session.rollback()


def test_the_web_form_shows_the_amount_in_words_and_posts_only_when_confirmed(browser):
    finance = browser()
    finance.get("/lang/zh_CN")
    path = f"/funds/{YUTAI}/receipt"
    key = finance.form_key(path)
    typed = {"amount": "1,000,500.05", "source": "donation", "payer_name": "某集团公司",
             "value_on": local_today().isoformat(), "memo": "年度捐赠"}
    before = finance.entry_total(YUTAI)
    page = finance.submit(path, typed, key=key, follow=False)
    assert page.status_code == 200
    html = text(page)
    assert "壹佰万零伍佰元零伍分" in html and "¥1,000,500.05" in html
    assert "某集团公司" in html and f"（{YUTAI}）" in html  # full-width parentheses in Chinese
    assert f'value="{key}"' in html and 'name="confirm_large_amount" type="hidden" value="yes"' in html
    assert finance.entry_total(YUTAI) == before  # nothing posted yet

    assert html.count('name="back" value="1"') == 1  # the back form, which carries no confirmation
    back = finance.submit(path, {**typed, "back": "1"}, key=key, follow=False)
    assert back.status_code == 200
    assert 'value="1,000,500.05"' in text(back) and f'value="{key}"' in text(back)
    assert finance.entry_total(YUTAI) == before

    confirmed = {**typed, "confirm_large_amount": "yes"}
    done = finance.submit(path, confirmed, key=key, follow=False)
    assert done.status_code == 302
    twice = finance.submit(path, confirmed, key=key, follow=False)  # a double click on confirm
    assert twice.status_code == 302
    assert finance.entry_total(YUTAI) == before + 1
    assert finance.available_fen(YUTAI) >= 1_000_500_05


def test_a_receipt_at_or_below_the_threshold_posts_without_a_confirmation_page(browser):
    finance = browser()
    before = finance.entry_total(YUTAI)
    done = finance.submit(f"/funds/{YUTAI}/receipt", {"amount": "500000.00", "source": "donation",
                                                      "payer_name": "某集团公司",
                                                      "value_on": local_today().isoformat()}, follow=False)
    assert done.status_code == 302
    assert finance.entry_total(YUTAI) == before + 1
