"""Tiered aid from filing to money on the card, as the people of the Yutai desk click it in Chromium.

The demo charity user files an application for a person of its county with a hospital bill PDF
attached, and sees the tier amount appear as the out-of-pocket cost is typed; the county reviewer
approves it (the fund's available balance drops by the hold); finance pays it (the hold is posted,
the clock shows met, the voucher links to its page); the charity records the follow-up, which
closes the case; an auditor's fund statement shows the payment. The main pages are then shot at
desktop and phone width in both languages (test-artifacts/screenshots/, copied to /tmp/aid-shots/
for a person to look at), and none is wider than its screen.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa

from ledger.aid.application_models import Application
from ledger.aid.models import Person
from ledger.auth.models import Region
from ledger.extensions import db
from ledger.timeutil import local_today
from tests.e2e.browser import DESKTOP, PHONE, amount_fen, horizontal_overflow, screenshot

COUNTY = "370827"  # 鱼台县慈善救急难项目
SHOTS = Path("/tmp/aid-shots")
BILL = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def a_person_of_the_county(live_server) -> tuple[int, str]:
    """A Yutai person with a bank card and no application yet."""
    with live_server.app.app_context():
        county = db.session.scalar(sa.select(Region.id).where(Region.code == COUNTY))
        filed = sa.select(Application.person_id)
        person = db.session.scalars(sa.select(Person).where(
            Person.county_id == county, Person.bank_account_number != "", Person.household_id.is_not(None),
            Person.id.not_in(filed)).order_by(Person.id.desc())).first()
        return person.id, person.name


def aid_expense_today(page, live_server) -> int:
    """The aid expense of today's fund statement of the county project (its villages included)."""
    today = local_today().isoformat()
    page.goto(live_server(f"/reports/fund-statement?fund={COUNTY}&from={today}&to={today}"))
    return amount_fen(page.locator("table.summary tr.major", has_text="减：救助支出").inner_text())


def press(page, selector: str):
    with page.expect_navigation():
        page.click(selector)


def keep(path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


def shoot(page, username: str, name: str):
    """The page as it is, at both widths and in both languages; nothing sticks out sideways."""
    url = page.url
    for language in ("zh_CN", "en"):
        page.goto(url.split("/aid/")[0] + f"/lang/{language}")
        for viewport in (DESKTOP, PHONE):
            page.set_viewport_size(viewport)
            page.goto(url)
            assert horizontal_overflow(page) is None, horizontal_overflow(page)
            keep(screenshot(page, username, f"{name}-{language[:2]}", viewport))
    page.goto(url.split("/aid/")[0] + "/lang/zh_CN")
    page.set_viewport_size(DESKTOP)
    page.goto(url)


def test_an_application_goes_from_the_charity_to_the_card_and_back_to_a_follow_up(visit, live_server, tmp_path):
    person_id, name = a_person_of_the_county(live_server)
    bill = tmp_path / "住院发票.pdf"
    bill.write_bytes(BILL)

    # The charity files, with the hospital bill, and sees the tier amount as it types.
    charity = visit("charity_yutai")
    charity.sign_in()
    page = charity.page(DESKTOP)
    page.goto(live_server(f"/aid/applications/new?person={person_id}"))
    page.select_option("select[name=fund_code]", COUNTY)
    page.fill("input[name=diagnosis]", "急性心肌梗死")
    page.fill("input[name=hospital]", "济宁医学院附属医院")
    page.fill("input[name=total_cost]", "55200")
    page.fill("input[name=reimbursed]", "20000")
    page.locator("#suggestion-amount").filter(has_text="10,000.00").wait_for()
    assert "第二档" in page.inner_text("#suggestion-rule"), page.inner_text("#suggestion-rule")
    page.fill("input[name=total_cost]", "65200")  # 45,200 out of pocket: the third tier, as typed
    page.locator("#suggestion-amount").filter(has_text="12,000.00").wait_for()
    page.fill("input[name=total_cost]", "55200")
    page.locator("#suggestion-amount").filter(has_text="10,000.00").wait_for()
    page.select_option("select[name=urgency]", "urgent")
    page.fill("input[name=amount_requested]", "10000")
    page.set_input_files("#document-hospital_bill", str(bill))
    keep(screenshot(page, "charity", "aid-new-application-typed", DESKTOP))  # the tier amount as typed
    shoot(page, "charity", "aid-new-application")
    page.select_option("select[name=fund_code]", COUNTY)
    page.fill("input[name=diagnosis]", "急性心肌梗死")
    page.fill("input[name=hospital]", "济宁医学院附属医院")
    page.fill("input[name=total_cost]", "55200")
    page.fill("input[name=reimbursed]", "20000")
    page.select_option("select[name=urgency]", "urgent")
    page.fill("input[name=amount_requested]", "10000")
    page.set_input_files("#document-hospital_bill", str(bill))
    assert page.is_checked("input[name=submit_now]")
    press(page, "#application-form button[type=submit]")
    assert "/aid/applications/" in page.url, page.url
    application_url = page.url
    number = page.inner_text("h1").split()[-1]
    assert page.inner_text("#application-state") == "已提交"
    assert "住院发票.pdf" in page.inner_text("table.documents")
    assert "剩余" in page.inner_text("#application-clock")
    page.goto(live_server("/aid/applications"))
    assert number in page.inner_text("table.applications")
    shoot(page, "charity", "aid-my-applications")

    # The county reviewer takes it from the queue and approves: the hold lowers what is available.
    reviewer = visit("reviewer_yutai")
    reviewer.sign_in()
    page = reviewer.page(DESKTOP)
    page.goto(live_server("/aid/queue"))
    shoot(page, "reviewer", "aid-queue")
    press(page, f"a:text('{number}')")
    before = amount_fen(page.inner_text("#fund-available"))
    press(page, "#action-start_review button[type=submit]")
    assert page.inner_text("#application-state") == "审核中"
    assert "10,000.00" in page.inner_text("#suggested")
    press(page, "#action-approve button[type=submit]")
    assert page.inner_text("#application-state") == "已批准"
    assert before - amount_fen(page.inner_text("#fund-available")) == 10_000_00
    shoot(page, "reviewer", "aid-application")

    # The auditor reads today's statement of the county project (with its villages) before the payment.
    auditor = visit("auditor")
    auditor.sign_in()
    statement = auditor.page(DESKTOP)
    aid_expense_before = aid_expense_today(statement, live_server)

    # Finance pays it: the hold is posted, the clock is met, the voucher links to its page.
    finance = visit("finance")
    finance.sign_in()
    page = finance.page(DESKTOP)
    page.goto(live_server("/aid/payments"))
    application_id = application_url.rsplit("/", 1)[1]
    shoot(page, "finance", "aid-payments")
    press(page, f"button[form='pay-one-{application_id}']")
    assert "JZ-" in page.inner_text(".flash.success")
    voucher = page.locator("#paid-lately a[href^='/funds/entries/']").first
    voucher_no = voucher.inner_text()
    press(page, f"#paid-lately a[href='/funds/entries/{voucher_no}']")
    assert voucher_no in page.inner_text("main") and name in page.inner_text("main")
    page.goto(application_url)
    assert page.inner_text("#application-state") == "已支付"
    assert page.locator("#application-clock .clock-met").count() == 1, page.inner_text("#application-clock")
    assert page.inner_text("#voucher-link") == voucher_no

    # The charity records the follow-up, which closes the case; the history tells every move.
    page = charity.page(DESKTOP)
    page.goto(application_url)
    page.select_option("select[name='follow_up-kind']", "visit")
    page.fill("textarea[name='follow_up-outcome']", "已出院，恢复良好")
    press(page, "#action-follow_up button[type=submit]")
    assert page.inner_text("#application-state") == "已结案"
    history = page.inner_text("#history")
    for state in ("已提交", "审核中", "已批准", "已支付", "已结案"):
        assert state in history, history
    shoot(page, "charity", "aid-closed-application")

    # The auditor's statement of the county project shows the payment in its aid expense.
    assert aid_expense_today(statement, live_server) - aid_expense_before == 10_000_00

    admin = visit("admin")
    admin.sign_in()
    page = admin.page(DESKTOP)
    page.goto(live_server("/aid/policies/1"))
    shoot(page, "admin", "aid-policy")

    for visitor in (charity, reviewer, finance, auditor, admin):
        assert not visitor.problems.seen, "\n".join(visitor.problems.seen)
