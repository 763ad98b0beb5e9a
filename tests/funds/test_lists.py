"""The lists finance staff, reviewers and auditors work from: vouchers searched and filtered,
and every list downloaded as CSV or XLSX with the same rows the page shows.

The demo ledger has openings on 2026-01-05 for every fund, and in February a bank
donation to the city, allocations city -> 鱼台县 -> 城西村 and two payments to people.
"""
from __future__ import annotations

import csv
import io
import re

import pytest

from ledger.extensions import db
from ledger.funds import services
from ledger.web.exports import Money, list_csv, list_xlsx, spreadsheet_text

YUTAI, CHENGXI, RENCHENG = "370827", "370827-001", "370811"


def text(response) -> str:
    return response.get_data(as_text=True)


def vouchers_on(html: str) -> list[str]:
    return re.findall(r'href="/funds/entries/(JZ-[^"]+)"', html)


@pytest.fixture
def english(demo_user_client):
    def signed_in(username):
        client = demo_user_client(username)
        client.get("/lang/en")
        return client
    return signed_in


def csv_rows(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode()), "Excel needs the BOM to read the Chinese"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# --- the voucher list -------------------------------------------------------------------------------

def test_finance_finds_the_february_payments_to_people_by_date_kind_and_amount(english):
    finance = english("finance")
    page = finance.get("/funds/entries?date_from=2026-02-01&date_to=2026-02-28&kind=disbursement"
                       "&amount_min=5000&amount_max=9000")
    assert page.status_code == 200
    html = text(page)
    found = vouchers_on(html)
    assert len(found) == 1, found
    assert "张秀英" in html and "李建国" not in html  # 10,000.00 is above the range
    assert "370827198603124023" not in html  # the payee's resident ID is masked


def test_a_counterparty_and_a_fund_narrow_the_list(english):
    finance = english("finance")
    by_name = text(finance.get("/funds/entries?counterparty=济宁银行"))
    assert len(vouchers_on(by_name)) == 1
    in_chengxi = vouchers_on(text(finance.get(f"/funds/entries?fund={CHENGXI}&date_from=2026-02-01")))
    assert len(in_chengxi) == 2  # the allocation into it and the medical payment out of it


def test_the_list_pages_through_every_voucher(english, demo_app):
    finance = english("finance")
    with demo_app.app_context():
        total = services.search_entries(db.session, None).total
    assert total > 20
    first, second = vouchers_on(text(finance.get("/funds/entries"))), vouchers_on(text(finance.get("/funds/entries?page=2")))
    assert len(first) == 20 and second and not set(first) & set(second)
    assert "Page 1 of" in text(finance.get("/funds/entries"))


@pytest.mark.parametrize("query, field_label", [
    ("date_from=2026-02-31", "From"),
    ("date_from=2026-03-01&date_to=2026-02-01", "To"),
    ("kind=gift", "Kind"),
    ("amount_min=abc", "Amount from"),
    ("amount_min=100&amount_max=50", "Amount to"),
    ("fund=999999", "Fund"),
])
def test_a_filter_that_cannot_be_used_is_refused_naming_its_field(english, query, field_label):
    page = english("finance").get(f"/funds/entries?{query}")
    assert page.status_code == 422
    html = text(page)
    alert = re.search(r'<div class="flash error error-summary"[^>]*>(.*?)</div>', html, flags=re.S).group(1)
    assert f"{field_label}:" in alert
    assert not vouchers_on(html)


def test_a_county_reviewer_sees_only_the_county_vouchers(english):
    reviewer = english("reviewer_yutai")
    html = text(reviewer.get("/funds/entries?date_from=2026-02-01"))
    assert "张秀英" in html and "李建国" in html
    assert "颐养居家照护" not in html  # 任城区's payment
    assert english("reviewer_yutai").get(f"/funds/entries?fund={RENCHENG}").status_code == 422


def test_the_voucher_list_downloads_with_its_filters_and_masked_ids(english):
    finance = english("finance")
    response = finance.get("/funds/entries?kind=disbursement&export=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = csv_rows(response)
    assert rows[0][:3] == ["Voucher", "Date", "Kind"]
    body = "\n".join(",".join(row) for row in rows[1:])
    assert len(rows) == 4 and "张秀英" in body and "370827198603124023" not in body and "3708**" in body
    assert "8000.00" in body

    from openpyxl import load_workbook
    workbook = load_workbook(io.BytesIO(finance.get("/funds/entries?kind=disbursement&export=xlsx").get_data()))
    sheet = workbook.active
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(values) == 3
    assert all(hasattr(row[1], "year") for row in values), "dates are real dates"
    assert sheet.auto_filter.ref.startswith("A1:")


# --- the shared list export -------------------------------------------------------------------------

@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_that_would_run_as_a_formula_is_kept_as_text(dangerous):
    assert spreadsheet_text(dangerous) == "'" + dangerous
    rows = list(csv.reader(io.StringIO(list_csv(["memo"], [[dangerous]]).decode("utf-8-sig"), newline="")))
    assert rows[1][0] == "'" + dangerous

    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(list_xlsx("t", ["memo", "amount"], [[dangerous, Money(-150)]]))).active
    # (XML stores a lone carriage return as a line feed; what matters is the apostrophe before it.)
    assert sheet["A2"].value.startswith("'") and sheet["A2"].value[1:].strip() == dangerous.strip()
    assert sheet["A2"].data_type == "s"
    assert str(sheet["B2"].value) in ("-1.5", "-1.50")


def test_ordinary_text_and_negative_amounts_are_left_alone():
    assert spreadsheet_text("城西村") == "城西村"
    rows = list(csv.reader(io.StringIO(list_csv(["amount"], [[Money(-150)]]).decode("utf-8-sig"))))
    assert rows[1] == ["-1.50"]


# --- the trial balance by county ----------------------------------------------------------------------

def test_the_trial_balance_groups_accounts_by_county_with_subtotals(english):
    html = text(english("auditor").get("/funds/trial-balance"))
    groups = re.findall(r'<tbody class="tb-group">(.*?)</tbody>', html, flags=re.S)
    assert len(groups) == 12  # the city fund and 11 counties
    yutai = next(group for group in groups if f">{YUTAI}</small>" in group)
    assert "Subtotal: " in yutai and "城西村" in yutai  # a village's accounts sit under its county
    debit, credit = re.search(r'<tr class="subtotal">.*?<td class="num">(.*?)</td><td class="num">(.*?)</td>',
                              yutai, flags=re.S).groups()
    assert debit == credit  # every fund balances on its own, so each county does too


def test_the_trial_balance_filters_by_county_and_level(english, demo_app):
    auditor = english("auditor")
    html = text(auditor.get(f"/funds/trial-balance?county={YUTAI}&level=village"))
    assert html.count('<tbody class="tb-group">') == 1
    assert "城西村" in html and f'href="/funds/{YUTAI}"><' not in html.split('<tbody class="tb-group">')[1]
    with demo_app.app_context():
        groups = services.trial_balance_groups(db.session, None, county_code=YUTAI, level="village")
    assert [group.fund_code for group in groups] == [YUTAI]
    assert all(row.fund_code.startswith(YUTAI + "-") for row in groups[0].rows)


@pytest.mark.parametrize("query, field_label", [("as_of=2026-02-30", "As of"), ("as_of=yesterday", "As of"),
                                                ("county=370800", "County"), ("level=town", "Level")])
def test_the_trial_balance_refuses_a_filter_naming_its_field(english, query, field_label):
    page = english("auditor").get(f"/funds/trial-balance?{query}")
    assert page.status_code == 422
    alert = re.search(r'<div class="flash error error-summary"[^>]*>(.*?)</div>', text(page), flags=re.S).group(1)
    assert f"{field_label}:" in alert
    assert '<tbody class="tb-group">' not in text(page)


@pytest.mark.parametrize("query, field, status", [("as_of=2026-02-30", "as_of", 422), ("level=town", "level", 422),
                                                  ("county=999999", "county", 404), ("county=370800", "county", 404)])
def test_the_trial_balance_api_refuses_a_filter_naming_its_field(demo_app, demo_token_for, query, field, status):
    """A filter that cannot be read is invalid (422); a county the user cannot see is no such record (404)."""
    response = demo_app.test_client().get(f"/api/v1/trial-balance?{query}", headers=demo_token_for("auditor"))
    assert response.status_code == status
    assert field in response.get_json()["error"]["fields"]


def test_the_trial_balance_api_has_county_subtotals(demo_app, demo_token_for):
    body = demo_app.test_client().get("/api/v1/trial-balance", headers=demo_token_for("reviewer_yutai")).get_json()
    assert [group["fund_code"] for group in body["groups"]] == [YUTAI]
    assert body["groups"][0]["debit"] == body["groups"][0]["credit"] == body["total_debit"]


# --- every list downloads -------------------------------------------------------------------------------

def test_the_fund_tree_downloads_with_every_visible_fund(english):
    rows = csv_rows(english("reviewer_yutai").get("/funds/?export=csv"))
    codes = [row[0] for row in rows[1:]]
    assert codes[0] == YUTAI and CHENGXI in codes and all(code.startswith(YUTAI) for code in codes)
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(english("auditor").get("/funds/?export=xlsx").get_data())).active
    assert sheet.max_row == 1 + 345


def test_the_trial_balance_downloads_with_subtotals_and_a_total(english):
    rows = csv_rows(english("auditor").get(f"/funds/trial-balance?county={YUTAI}&export=csv"))
    assert rows[0][0] == "County"
    assert rows[-2][0].startswith("Subtotal") and rows[-1][0] == "Total"
    assert rows[-1][5] == rows[-1][6] and rows[-1][7] == "0.00"


def test_the_periods_and_the_report_log_download(english):
    finance = english("finance")
    rows = csv_rows(finance.get("/funds/periods?export=csv"))
    assert rows[0] == ["Month", "State", "Closed at", "Reopened at"]
    response = english("auditor").get("/reports/log?export=xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")


# --- the fund tree ------------------------------------------------------------------------------------

def test_a_search_keeps_the_matching_village_under_its_county_and_the_city(english):
    html = text(english("finance").get("/funds/?q=城西村"))
    assert html.count('class="fund-item level-village"') == 1 and "城西村" in html
    assert 'data-search="鱼台县' in html and html.count('class="fund-item level-county"') == 1
    assert html.count('class="fund-item level-city"') == 1
    # the county opens to show the match: its button says so, and its villages are not hidden
    assert html.count('aria-expanded="true"') == 1 and 'aria-expanded="false"' not in html
    assert f'<div class="fund-below" id="fund-below-{YUTAI}">' in html
    by_code = text(english("finance").get(f"/funds/?q={RENCHENG}"))
    assert by_code.count('class="fund-item level-county"') == 1 and "任城区" in by_code
    assert "No fund matches this search." in text(english("finance").get("/funds/?q=nowhere-at-all"))


def test_the_tree_is_a_nested_list_with_a_subtotal_per_county(english, demo_app):
    html = text(english("auditor").get("/funds/"))
    assert html.count('<ul class="fund-list"') == 1 + 1 + 11  # the tree, the city's counties, each county's villages
    assert html.count('class="fund-row subtotal"') == 11
    with demo_app.app_context():
        yutai = services.fund_balance(db.session, None, YUTAI)
    from ledger.money import format_cny
    # the search text: the stored name, the code, then the name in English (searched too)
    block = html.split(f'data-search="{yutai.name} {YUTAI} ')[1].split('class="fund-item level-county"')[0]
    subtotal = block.split('class="fund-row subtotal"')[1]
    assert format_cny(yutai.total_posted_fen) in subtotal and format_cny(yutai.total_available_fen) in subtotal
    assert "fund-tree.js" in html


def test_a_searched_tree_downloads_the_matching_funds(english):
    rows = csv_rows(english("finance").get("/funds/?q=城西村&export=csv"))
    assert [row[0] for row in rows[1:]] == ["370800", YUTAI, CHENGXI]
