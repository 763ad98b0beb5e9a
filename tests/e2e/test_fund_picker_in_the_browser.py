"""The fund picker in Chromium: finance staff type part of a fund's name into the allocation form,
move through the funds found with the keyboard, pick one, and the allocation is recorded between
the funds they picked. The picker is an ARIA combobox over a listbox, and Escape closes it."""
from __future__ import annotations

from tests.e2e.browser import DESKTOP, PHONE, horizontal_overflow, screenshot
from tests.e2e.test_finance_and_auditor_flows import recorded_voucher, submit

COUNTY = "370827"  # 鱼台县慈善救急难项目
VILLAGE = "370827-001"  # 滨湖街道城西村


def choose_with_the_keyboard(page, combobox: str, typed: str, code: str, shot: str | None = None) -> str:
    """Type `typed` into the combobox, press Down until the fund `code` is the active option, press
    Enter; return the id of the listbox it controls."""
    box = page.locator(combobox)
    box.click()
    box.press_sequentially(typed, delay=30)
    listbox_id = box.get_attribute("aria-controls")
    listbox = page.locator(f"#{listbox_id}")
    listbox.locator(f"[role=option][data-code='{code}']").wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    codes = listbox.locator("[role=option]").evaluate_all("options => options.map(o => o.dataset.code)")
    for _step in range(codes.index(code) + 1):
        box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert page.locator(f"#{active}").get_attribute("data-code") == code
    assert page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    if shot:
        screenshot(page, "finance", shot, DESKTOP)
    box.press("Enter")
    assert box.get_attribute("aria-expanded") == "false" and listbox.is_hidden()
    return listbox_id


def test_finance_types_part_of_a_fund_name_and_picks_it(visit, live_server):
    visitor = visit("finance")
    visitor.sign_in()
    page = visitor.page(DESKTOP)
    page.goto(live_server("/funds/allocation"))

    # The plain selects became comboboxes; the label still names what is typed into.
    source = page.locator("input#from_fund[role=combobox]")
    assert source.get_attribute("aria-autocomplete") == "list"
    assert page.locator("select[name=from_fund]").is_hidden()
    assert page.locator("label[for=from_fund]").inner_text()

    # Escape closes the list without picking anything.
    source.click()
    source.press_sequentially("鱼台", delay=30)
    page.locator("#from_fund-listbox [role=option]").first.wait_for()
    source.press("Escape")
    assert page.locator("#from_fund-listbox").is_hidden()
    assert page.eval_on_selector("select[name=from_fund]", "select => select.value") == ""
    source.fill("")

    choose_with_the_keyboard(page, "input#from_fund", "鱼台县慈善", COUNTY)
    choose_with_the_keyboard(page, "input#to_fund", "城西", VILLAGE, shot="fund-picker-open")
    assert page.eval_on_selector("select[name=from_fund]", "select => select.value") == COUNTY
    assert page.eval_on_selector("select[name=to_fund]", "select => select.value") == VILLAGE
    assert "城西村" in page.input_value("input#to_fund")
    screenshot(page, "finance", "fund-picker", DESKTOP)

    page.fill("input[name=amount]", "12.00")
    submit(page)
    flash = recorded_voucher(page, live_server, COUNTY)
    voucher = flash[flash.index("JZ-"):].split()[0].rstrip("。.")
    page.goto(live_server(f"/funds/entries/{voucher}"))
    postings = page.inner_text("table.grid")
    assert COUNTY in postings and VILLAGE in postings

    assert not visitor.problems.seen, "\n".join(visitor.problems.seen)


def test_finance_confirms_a_very_large_receipt_after_reading_it_back_in_words(visit, live_server):
    """Above 500,000.00 yuan the receipt form first shows the amount in figures and in capital
    words with the fund and payer; Back returns to the form as typed, Confirm records it once."""
    visitor = visit("finance")
    visitor.sign_in()
    page = visitor.page(DESKTOP)
    page.goto(live_server(f"/funds/{COUNTY}/receipt"))
    page.fill("input[name=amount]", "600000.50")
    page.fill("input[name=payer_name]", "鱼台县某集团公司")
    submit(page)
    card = page.inner_text(".confirm-large-receipt")
    assert "¥600,000.50" in card and "陆拾万元伍角整" in card
    assert "鱼台县某集团公司" in card and COUNTY in card
    screenshot(page, "finance", "large-receipt-confirm", DESKTOP)

    submit(page, "form:has(input[name=back])")
    assert page.input_value("input[name=amount]") == "600000.50"
    assert page.input_value("input[name=payer_name]") == "鱼台县某集团公司"
    submit(page)
    submit(page, "form:has(input[name=confirm_large_amount][value=yes])")
    flash = recorded_voucher(page, live_server, COUNTY)
    assert "JZ-" in flash

    assert not visitor.problems.seen, "\n".join(visitor.problems.seen)


def test_the_auditor_picks_a_report_fund_by_clicking_at_phone_width(visit, live_server):
    """The report form's fund picker on a phone: type part of a county's name, tap the fund; the
    form's own fund field now holds its code, the browser's required check speaks at the text box,
    and nothing scrolls sideways with the list open."""
    visitor = visit("auditor")
    visitor.sign_in()
    page = visitor.page(PHONE)
    page.goto(live_server("/reports/"))
    box = page.locator("input#fund[role=combobox]")
    assert box.get_attribute("required") is not None
    box.click()
    box.press_sequentially("曲阜", delay=30)
    option = page.locator("#fund-listbox [role=option][data-code='370881']")
    option.wait_for()
    assert horizontal_overflow(page) is None, horizontal_overflow(page)
    screenshot(page, "auditor", "report-fund-picker", PHONE)
    option.click()
    assert page.eval_on_selector("select[name=fund]", "select => select.value") == "370881"
    assert "370881" in box.input_value() and page.locator("#fund-listbox").is_hidden()

    assert not visitor.problems.seen, "\n".join(visitor.problems.seen)


def test_the_voucher_filter_takes_the_code_of_the_fund_picked(visit, live_server):
    """On the voucher list the fund filter is a text box: picking a fund puts its code there, and
    the list then shows that fund's vouchers only."""
    visitor = visit("finance")
    visitor.sign_in()
    page = visitor.page(DESKTOP)
    page.goto(live_server("/funds/entries"))
    assert page.locator("input#fund").get_attribute("list") is None  # the listbox replaces the datalist
    choose_with_the_keyboard(page, "input#fund", "鱼台 城西", VILLAGE)
    assert page.input_value("input#fund") == VILLAGE
    with page.expect_navigation():
        page.click("form.filter-form button[type=submit]")
    assert f"fund={VILLAGE}" in page.url
    funds_column = page.locator("table.entries tbody tr td:nth-child(4)").all_inner_texts()
    assert funds_column and all("城西村" in cell for cell in funds_column)

    assert not visitor.problems.seen, "\n".join(visitor.problems.seen)


def test_a_code_typed_without_picking_is_sent_and_an_unknown_one_refused_on_the_field(visit, live_server):
    """A tired auditor types a fund's code and presses Generate without choosing from the list: the
    report is made for that fund. A code that names no fund comes back refused on the fund field."""
    visitor = visit("auditor")
    visitor.sign_in()
    page = visitor.page(DESKTOP)
    page.goto(live_server("/reports/"))
    page.locator("input#fund[role=combobox]").fill("999999")
    page.locator("input[name=to]").fill("2026-03-31")
    page.locator("form button.primary").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("input#fund[role=combobox][aria-invalid=true]").count() == 1
    assert page.locator("#fund-error").is_visible()

    page.locator("input#fund[role=combobox]").fill(COUNTY)
    page.locator("input[name=to]").fill("2026-03-31")
    page.select_option("select#format", "html")
    page.locator("form button.primary").click()
    page.wait_for_load_state("networkidle")
    assert f"fund={COUNTY}" in page.url
    assert page.get_by_text("鱼台县慈善救急难项目").first.is_visible()
    # The unknown fund's page answers 404 (no such record), which the browser logs; nothing else may.
    others = [p for p in visitor.problems.seen if "fund=999999" not in p]
    assert not others, "\n".join(others)
