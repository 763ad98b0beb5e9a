"""The two main flows, through the forms in Chromium as a person clicks them.

Finance staff record a receipt into the Yutai county project, allocate part of it to one of
its villages and pay a person from that village's fund; after each step the fund page shows
the balance moved by exactly that amount (and, where the page has charts, they drew).
The auditor asks for a fund statement, watches its job finish, and downloads the PDF."""
from __future__ import annotations

from tests.e2e.browser import DESKTOP, SCREENSHOTS, amount_fen, charts_rendered, screenshot

COUNTY = "370827"  # 鱼台县慈善救急难项目
VILLAGE = "370827-002"
#: A resident ID of someone born in Yutai in 1990 (valid check digit).
PAYEE_ID = "370827199003070011"


def available_fen(page, live_server, code: str) -> int:
    page.goto(live_server(f"/funds/{code}"))
    return amount_fen(page.inner_text(".fund-balances .available dd"))


def submit(page, form: str = "main form[method=post]"):
    """Press the form's own submit button (not the header's log-out button) and wait for the answer."""
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")


def recorded_voucher(page, live_server, code: str) -> str:
    """After a recorded operation: back on the fund page, with a flash naming the voucher."""
    assert page.url.startswith(live_server(f"/funds/{code}")), f"not back on the fund page: {page.url}"
    flash = page.inner_text(".flash.success")
    assert "JZ-" in flash, f"no voucher number in {flash!r}"
    return flash


def test_finance_records_a_receipt_an_allocation_and_a_payment_and_sees_the_balances_move(visit, live_server):
    visitor = visit("finance")
    visitor.sign_in()
    page = visitor.page(DESKTOP)

    county_before = available_fen(page, live_server, COUNTY)
    page.click(f"a[href='/funds/{COUNTY}/receipt']")
    page.fill("input[name=amount]", "1234.56")
    page.fill("input[name=payer_name]", "鱼台县爱心企业")
    page.fill("textarea[name=memo]", "端到端测试捐赠")
    submit(page)
    recorded_voucher(page, live_server, COUNTY)
    county_after_receipt = amount_fen(page.inner_text(".fund-balances .available dd"))
    assert county_after_receipt - county_before == 1234_56
    assert not charts_rendered(page), "the fund page's charts drew nothing"
    screenshot(page, "finance", "after-receipt", DESKTOP)

    village_before = available_fen(page, live_server, VILLAGE)
    # The form is opened with both funds chosen (as the fund page's link does for the paying one),
    # whatever kind of fund picker it shows.
    page.goto(live_server(f"/funds/allocation?from={COUNTY}&to={VILLAGE}"))
    page.fill("input[name=amount]", "500.00")
    page.fill("textarea[name=memo]", "端到端测试划拨")
    submit(page)
    recorded_voucher(page, live_server, COUNTY)
    assert county_after_receipt - amount_fen(page.inner_text(".fund-balances .available dd")) == 500_00
    village_after_allocation = available_fen(page, live_server, VILLAGE)
    assert village_after_allocation - village_before == 500_00

    page.click(f"a[href='/funds/{VILLAGE}/disbursement']")
    page.fill("input[name=amount]", "200.00")
    page.check("input[name=payee_kind][value=person]")
    page.fill("input[name=payee_name]", "韩进")
    page.fill("input[name=payee_id_number]", PAYEE_ID)
    submit(page)
    recorded_voucher(page, live_server, VILLAGE)
    assert village_after_allocation - amount_fen(page.inner_text(".fund-balances .available dd")) == 200_00
    assert "韩进" in page.inner_text("table.entries"), "the payment is not in the village's entries"
    assert not charts_rendered(page), "the fund page's charts drew nothing"
    screenshot(page, "finance", "after-payment", DESKTOP)

    assert not visitor.problems.seen, "\n".join(visitor.problems.seen)


def test_auditor_downloads_a_fund_statement_pdf_from_its_job(visit, live_server):
    visitor = visit("auditor")
    visitor.sign_in()
    page = visitor.page(DESKTOP)
    page.goto(live_server(f"/reports/?kind=fund-statement&format=pdf&fund={VILLAGE}"))
    submit(page, "form.report-form")
    assert "/reports/jobs/" in page.url, f"the statement did not start a job: {page.url}"

    # The job page polls the job's status until it is done, then offers the download.
    page.locator("#report-download").wait_for(state="visible", timeout=60_000)
    status_url = live_server(page.get_attribute("#report-job", "data-status-url"))
    job = page.request.get(status_url).json()["job"]
    assert job["status"] == "done" and job["progress"] == 100, job
    assert page.inner_text("#report-percent") == "100%"
    screenshot(page, "auditor", "report-job", DESKTOP)

    with page.expect_download() as download_info:
        page.click("#report-download")
    download = download_info.value
    data = open(download.path(), "rb").read()
    assert data.startswith(b"%PDF"), data[:40]
    assert download.suggested_filename.endswith(".pdf")
    assert job["sha256"] in page.inner_text("#report-sha")
    download.save_as(SCREENSHOTS.parent / f"auditor-fund-statement-{VILLAGE}.pdf")  # kept with the screenshots

    assert not visitor.problems.seen, "\n".join(visitor.problems.seen)
