"""The fund pages as finance staff and readers use them in the browser.

A finance officer records a receipt, an allocation and a disbursement through the
forms and sees the balances move; mistakes are shown next to the field with what was
typed kept; readers see the books but no forms or buttons.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from ledger.extensions import db
from ledger.money import format_cny
from ledger.timeutil import local_today

CITY, YUTAI, CHENGXI, RENCHENG = "370800", "370827", "370827-001", "370811"
RESIDENT_ID = "11010519491231002X"


class Browser:
    """A signed-in test client that reads forms' one-time keys like a browser would."""

    def __init__(self, app, client):
        self.app = app
        self.client = client
        self.client.get("/lang/en")  # assertions below read the English source strings

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def form_key(self, path) -> str:
        page = self.client.get(path)
        assert page.status_code == 200, path
        match = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]{32})"', page.get_data(as_text=True))
        assert match, "the form carries a one-time key"
        return match.group(1)

    def submit(self, path, data, *, key=None, follow=True):
        data = dict(data)
        data["idempotency_key"] = key or self.form_key(path)
        return self.client.post(path, data=data, follow_redirects=follow)

    def available_fen(self, code) -> int:
        from ledger.funds import services

        with self.app.app_context():
            return services.fund_balance(db.session, None, code).available_fen

    def entry_total(self, code) -> int:
        from ledger.funds import services

        with self.app.app_context():
            return services.fund_entries(db.session, None, code, per_page=1).total


@pytest.fixture
def browser(demo_app, demo_user_client):
    """browser("finance") -> Browser signed in as that demo user."""
    return lambda username: Browser(demo_app, demo_user_client(username))


def text(response) -> str:
    return response.get_data(as_text=True)


def field_block(html: str, name: str) -> str:
    """The <div class="field ..."> that holds the input named `name` (with its errors)."""
    for block in re.findall(r'<div class="field[^"]*">.*?</div>\s*(?:<div class="error"[^>]*>.*?</div>\s*)*',
                            html, flags=re.S):
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name}")


def test_finance_records_a_receipt_an_allocation_and_a_disbursement(browser):
    finance = browser("finance")
    city, yutai = finance.available_fen(CITY), finance.available_fen(YUTAI)

    # A donation of 10,000.00 into the city fund.
    page = finance.submit(f"/funds/{CITY}/receipt", {"amount": "10,000.00", "source": "donation",
                                                     "payer_name": "济宁爱心企业", "value_on": local_today().isoformat(),
                                                     "memo": "年终捐赠"})
    assert page.status_code == 200
    assert re.search(r"Receipt recorded: voucher JZ-[\w-]+", text(page))
    assert finance.available_fen(CITY) == city + 10_000_00
    assert format_cny(city + 10_000_00) in text(page)  # the fund page shows the new balance

    # 3,000.00 allocated down to Yutai, chosen in the pickers.
    page = finance.submit("/funds/allocation", {"from_fund": CITY, "to_fund": YUTAI, "amount": "3000",
                                                "value_on": local_today().isoformat()})
    assert "Allocation recorded: voucher" in text(page)
    assert finance.available_fen(CITY) == city + 7_000_00
    assert finance.available_fen(YUTAI) == yutai + 3_000_00

    # Yutai pays 2,000.00 of medical aid to a person.
    page = finance.submit(f"/funds/{YUTAI}/disbursement", {
        "amount": "2000.00", "purpose": "medical_aid", "payee_kind": "person", "payee_name": "张秀英",
        "payee_id_number": RESIDENT_ID, "value_on": local_today().isoformat()})
    assert "Disbursement recorded: voucher" in text(page)
    assert finance.available_fen(YUTAI) == yutai + 1_000_00
    fund_page = text(finance.get(f"/funds/{YUTAI}"))
    assert format_cny(yutai + 1_000_00) in fund_page
    assert "张秀英" in fund_page and "1101**********002X" in fund_page
    assert RESIDENT_ID not in fund_page
    assert format_cny(-2_000_00) in fund_page  # the payment, as money out


def test_a_wrong_amount_is_shown_next_to_the_field_with_the_input_kept(browser):
    finance = browser("finance")
    count = finance.entry_total(YUTAI)
    page = finance.submit(f"/funds/{YUTAI}/receipt", {"amount": "12.345", "source": "donation",
                                                      "payer_name": "王建国", "value_on": local_today().isoformat()},
                          follow=False)
    assert page.status_code == 422
    html = text(page)
    amount = field_block(html, "amount")
    assert "has-error" in amount and "At most two decimal places" in amount
    assert 'value="12.345"' in amount
    assert 'value="王建国"' in field_block(html, "payer_name")
    assert "has-error" not in field_block(html, "payer_name")
    assert finance.entry_total(YUTAI) == count


@pytest.mark.parametrize("amount, message", [("-5", "must not be negative"), ("0.00", "greater than zero"),
                                             ("abc", "such as 1234.56"), ("", "Enter an amount")])
def test_each_amount_mistake_has_its_own_message(browser, amount, message):
    finance = browser("finance")
    page = finance.submit(f"/funds/{YUTAI}/receipt", {"amount": amount, "source": "donation", "payer_name": "王建国",
                                                      "value_on": local_today().isoformat()}, follow=False)
    assert page.status_code == 422
    assert message in field_block(text(page), "amount")


def test_a_bad_resident_id_and_too_large_a_payment_are_shown_at_their_fields(browser):
    finance = browser("finance")
    data = {"amount": "100.00", "purpose": "medical_aid", "payee_kind": "person", "payee_name": "张秀英",
            "payee_id_number": "110105194912310021", "value_on": local_today().isoformat()}
    page = finance.submit(f"/funds/{YUTAI}/disbursement", data, follow=False)
    assert page.status_code == 422
    assert "Wrong check digit" in field_block(text(page), "payee_id_number")

    available = finance.available_fen(CHENGXI)
    data.update(payee_id_number=RESIDENT_ID, amount=f"{available // 100 + 1}.00")
    page = finance.submit(f"/funds/{CHENGXI}/disbursement", data, follow=False)
    assert page.status_code == 409
    amount = field_block(text(page), "amount")
    assert "cannot afford" in amount and format_cny(available) in amount
    assert finance.available_fen(CHENGXI) == available


def test_the_web_form_accepts_an_elderly_persons_id_and_names_a_wrong_check_digit_in_chinese(browser):
    finance = browser("finance")
    data = {"amount": "1.00", "purpose": "medical_aid", "payee_kind": "person", "payee_name": "韩进",
            "payee_id_number": "370827195206150021", "value_on": local_today().isoformat()}
    page = finance.submit(f"/funds/{YUTAI}/disbursement", data)
    assert "Disbursement recorded: voucher" in text(page)

    finance.get("/lang/zh_CN")
    data.update(payee_id_number="370827195206150022")
    page = finance.submit(f"/funds/{YUTAI}/disbursement", data, follow=False)
    assert page.status_code == 422
    assert "校验码不对" in field_block(text(page), "payee_id_number")

    data.update(payee_id_number="370827189912310021")
    page = finance.submit(f"/funds/{YUTAI}/disbursement", data, follow=False)
    assert "1900" in field_block(text(page), "payee_id_number")


def test_a_double_click_records_once(browser):
    finance = browser("finance")
    before, count = finance.available_fen(YUTAI), finance.entry_total(YUTAI)
    data = {"amount": "500.00", "purpose": "emergency_aid", "payee_kind": "organisation",
            "payee_name": "济宁康宁护理院有限公司", "payee_id_number": "", "value_on": local_today().isoformat()}
    key = finance.form_key(f"/funds/{YUTAI}/disbursement")
    first = finance.submit(f"/funds/{YUTAI}/disbursement", data, key=key)
    second = finance.submit(f"/funds/{YUTAI}/disbursement", data, key=key)
    vouchers = [re.search(r"voucher (JZ-[\w-]+)", text(page)).group(1) for page in (first, second)]
    assert vouchers[0] == vouchers[1]
    assert finance.available_fen(YUTAI) == before - 500_00
    assert finance.entry_total(YUTAI) == count + 1


def test_a_form_sent_again_with_changed_values_is_not_recorded_again(browser):
    finance = browser("finance")
    data = {"amount": "80.00", "source": "donation", "payer_name": "王建国", "value_on": local_today().isoformat()}
    key = finance.form_key(f"/funds/{YUTAI}/receipt")
    finance.submit(f"/funds/{YUTAI}/receipt", data, key=key)
    count = finance.entry_total(YUTAI)
    page = finance.submit(f"/funds/{YUTAI}/receipt", dict(data, amount="800.00"), key=key, follow=False)
    assert page.status_code == 409
    assert "already submitted with other values" in text(page)
    assert 'value="800.00"' in field_block(text(page), "amount")
    assert finance.entry_total(YUTAI) == count


def test_a_hold_is_placed_paid_in_part_and_another_voided(browser):
    from ledger.journal.models import Hold

    finance = browser("finance")
    before = finance.available_fen(YUTAI)
    page = finance.submit(f"/funds/{YUTAI}/hold", {"amount": "1000.00", "purpose": "emergency_aid",
                                                   "expires_in_hours": "24", "payee_kind": "", "reference": "SQ-42"})
    assert "placed" in text(page)
    assert finance.available_fen(YUTAI) == before - 1_000_00
    with finance.app.app_context():
        hold_id = db.session.scalar(sa.select(sa.func.max(Hold.id)))
    assert f"/funds/holds/{hold_id}/post" in text(page)  # a Pay button for the pending hold

    page = finance.submit(f"/funds/holds/{hold_id}/post", {"amount": "600", "value_on": local_today().isoformat()})
    assert "Hold paid: voucher" in text(page)
    assert finance.available_fen(YUTAI) == before - 600_00

    finance.submit(f"/funds/{YUTAI}/hold", {"amount": "50.00", "purpose": "other", "expires_in_hours": "2",
                                            "payee_kind": ""})
    with finance.app.app_context():
        second_id = db.session.scalar(sa.select(sa.func.max(Hold.id)))
    page = finance.submit(f"/funds/holds/{second_id}/void", {"reason": ""}, follow=False)
    assert page.status_code == 422 and "Say why" in field_block(text(page), "reason")
    page = finance.submit(f"/funds/holds/{second_id}/void", {"reason": "已由其他渠道救助"})
    assert "released" in text(page)
    assert finance.available_fen(YUTAI) == before - 600_00


def test_an_expired_hold_cannot_be_paid_from_the_form(browser):
    from ledger.journal.models import Hold
    from ledger.timeutil import utcnow

    finance = browser("finance")
    before = finance.available_fen(YUTAI)
    finance.submit(f"/funds/{YUTAI}/hold", {"amount": "70.00", "purpose": "other", "expires_in_hours": "1",
                                            "payee_kind": ""})
    with finance.app.app_context():
        hold_id = db.session.scalar(sa.select(sa.func.max(Hold.id)))
        db.session.execute(sa.update(Hold).where(Hold.id == hold_id).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    assert 'name="idempotency_key"' not in text(finance.get(f"/funds/holds/{hold_id}/post"))  # no form to pay
    page = finance.submit(f"/funds/holds/{hold_id}/post", {"amount": "", "value_on": local_today().isoformat()},
                          key="a" * 32, follow=False)  # a form opened before the hold expired
    assert page.status_code == 409
    assert "expired" in text(page)
    assert finance.available_fen(YUTAI) == before
    assert f"/funds/holds/{hold_id}/post" not in text(finance.get(f"/funds/{YUTAI}"))


def test_an_entry_is_reversed_once_with_a_reason(browser):
    finance = browser("finance")
    before = finance.available_fen(YUTAI)
    page = finance.submit(f"/funds/{YUTAI}/disbursement", {
        "amount": "300.00", "purpose": "temporary_assistance", "payee_kind": "person", "payee_name": "李桂兰",
        "payee_id_number": RESIDENT_ID, "value_on": local_today().isoformat()})
    voucher = re.search(r"voucher (JZ-[\w-]+)", text(page)).group(1)
    entry_page = f"/funds/entries/{voucher}"
    key = finance.form_key(entry_page)
    refused = finance.client.post(f"{entry_page}/reverse", data={"reason": "", "idempotency_key": key,
                                                                 "value_on": local_today().isoformat()})
    assert refused.status_code == 422 and "needs a reason" in field_block(text(refused), "reason")
    page = finance.client.post(f"{entry_page}/reverse", data={"reason": "重复支付", "idempotency_key": key,
                                                              "value_on": local_today().isoformat()},
                               follow_redirects=True)
    assert "Reversal recorded: voucher" in text(page)
    assert finance.available_fen(YUTAI) == before
    original = text(finance.get(entry_page))
    assert "reversed by" in original
    assert 'name="reason"' not in original  # no second reversal offered


def test_finance_closes_a_month_and_only_an_admin_reopens_it(browser):
    finance, admin = browser("finance"), browser("admin")
    last_day, month = date(2026, 1, 31), "2026-01"  # the demo books begin in January 2026
    page = finance.client.post("/funds/periods/close", data={"month": month}, follow_redirects=True)
    assert f"Close {month}?" in text(page)  # the confirmation page comes first
    page = finance.client.post("/funds/periods/close", data={"month": month, "confirmed": "yes"},
                               follow_redirects=True)
    assert f"Month {month} closed." in text(page)
    page = finance.submit(f"/funds/{YUTAI}/receipt", {"amount": "5.00", "source": "donation", "payer_name": "补录",
                                                      "value_on": last_day.isoformat()}, follow=False)
    assert page.status_code == 409
    assert "This month is closed" in field_block(text(page), "value_on")
    assert f"/funds/periods/{month}/reopen" not in text(finance.get("/funds/periods"))
    assert f"/funds/periods/{month}/reopen" in text(admin.get("/funds/periods"))
    assert finance.client.post(f"/funds/periods/{month}/reopen",
                               data={f"{month}-reason": "x"}).status_code == 403

    page = admin.client.post(f"/funds/periods/{month}/reopen", data={f"{month}-reason": "补录漏记的捐赠"},
                             follow_redirects=True)
    assert f"Month {month} reopened." in text(page)
    page = finance.submit(f"/funds/{YUTAI}/receipt", {"amount": "5.00", "source": "donation", "payer_name": "补录",
                                                      "value_on": last_day.isoformat()})
    assert "Receipt recorded" in text(page)


def test_the_tree_shows_every_level_and_an_as_of_picker(browser):
    finance = browser("finance")
    html = text(finance.get("/funds/"))
    assert 'name="as_of"' in html and 'type="date"' in html
    assert html.count('class="fund-row village"') == 333
    # the villages fold under their county, behind a button that says they are hidden
    assert html.count('aria-expanded="false"') == 11 and html.count('class="fund-below" id=') == 11
    assert f'href="/funds/{CHENGXI}"' in html
    earlier = finance.get(f"/funds/?as_of={(local_today() - timedelta(days=1)).isoformat()}")
    assert earlier.status_code == 200


def test_the_trial_balance_and_journal_check_pages(browser):
    auditor = browser("auditor")
    html = text(auditor.get("/funds/trial-balance"))
    assert "Debits equal credits" in html
    html = text(auditor.get("/funds/verify"))
    assert "The journal is intact" in html


@pytest.mark.parametrize("username", ["auditor", "admin", "reviewer", "reviewer_yutai"])
def test_readers_see_no_forms_or_buttons(browser, username):
    reader = browser(username)
    html = text(reader.get(f"/funds/{YUTAI}"))
    assert "Available" in html
    for action in ("/receipt", "/disbursement", "/hold", "/funds/allocation", "/post", "/void"):
        assert action not in html, action
    assert "Allocate between funds" not in text(reader.get("/funds/"))
    assert reader.get(f"/funds/{YUTAI}/receipt").status_code == 403
    assert reader.get("/funds/allocation").status_code == 403


def test_a_county_reviewer_sees_only_the_county_and_charity_nothing(browser):
    reviewer = browser("reviewer_yutai")
    html = text(reviewer.get("/funds/"))
    assert f'href="/funds/{YUTAI}"' in html and f'href="/funds/{RENCHENG}"' not in html
    assert reviewer.get(f"/funds/{RENCHENG}").status_code == 404
    charity = browser("charity_yutai")
    assert charity.get("/funds/").status_code == 403
    assert charity.get(f"/funds/{YUTAI}").status_code == 403
    assert "/funds/" not in text(charity.get("/"))  # no menu item either

