"""The journal register (记账凭证登记簿): every entry, masked identity numbers, running balance,
reversals marked on both sides; and its CSV / XLSX for spreadsheets."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

from ledger.funds import services as fund_services
from ledger.money import format_cny

from .conftest import Q1, pdf_text


def _reverse_temporary_assistance(session, finance):
    """Yutai's 10,000.00 temporary assistance of 25 Feb was paid to the wrong person: reversed on 26 Feb."""
    from ledger.journal.models import JournalEntry
    import sqlalchemy as sa

    original = session.scalar(sa.select(JournalEntry).where(JournalEntry.idempotency_key ==
                                                            "demo:disbursement:yutai-temporary"))
    reversal = fund_services.reverse_entry(session, finance, original.voucher_no, reason="收款人有误，冲销重付",
                                           value_on=date(2026, 2, 26))
    return original.voucher_no, reversal.voucher_no


def test_register_shows_a_reversal_and_its_original_both_marked(api, run_in_app, reports_app):
    original, reversal = run_in_app(_reverse_temporary_assistance)
    client, headers = api("auditor")
    response = client.get("/api/v1/reports/journal-register.pdf",
                          query_string={"fund": "370827", "from": "2026-02-01", "to": "2026-02-28"}, headers=headers)
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert original in text and reversal in text
    assert f"冲销 {original}" in text
    assert f"已被 {reversal} 冲销" in text
    # 10,000.00 went out and came back: the county's February closes 10,000.00 higher than before.
    assert text.count(format_cny(10_000_00)) >= 2
    assert "记账凭证登记簿" in text and "鱼台县慈善救急难项目" in text


def test_register_masks_identity_numbers_and_carries_a_running_balance(api, reports_app):
    client, headers = api("finance")
    response = client.get("/api/v1/reports/journal-register.pdf",
                          query_string={"fund": "370827-001", **Q1}, headers=headers)
    text = pdf_text(response.data)
    assert "370827198603124023" not in text
    assert "张秀英" in text and "3708**********4023" in text
    # Opening 22,282.28, +30,000.00 from the county, -8,000.00 medical aid.
    assert format_cny(22_282_28 + 30_000_00 - 8_000_00) in text
    assert "本期合计（3 笔）" in text


def test_register_csv_and_xlsx_hold_the_same_rows(api, reports_app):
    client, headers = api("auditor")
    query = {"fund": "370827", "from": "2026-02-01", "to": "2026-02-28"}
    csv_response = client.get("/api/v1/reports/journal-register.csv", query_string=query, headers=headers)
    assert csv_response.status_code == 200
    rows = list(csv.reader(io.StringIO(csv_response.data.decode("utf-8-sig"))))
    assert rows[0][0] == "凭证号"
    vouchers = [row[0] for row in rows[2:]]
    assert len(vouchers) == 4  # in from the city, out to 城西村, 城西村's aid, the temporary assistance
    assert not any(re.search(r"\d{17}[\dX]", row[5]) for row in rows)  # no identity number in full
    assert "张秀英 3708**********4023" in [row[5] for row in rows]
    assert "8000.00" in [row[7] for row in rows[2:]]

    from openpyxl import load_workbook

    xlsx_response = client.get("/api/v1/reports/journal-register.xlsx", query_string=query, headers=headers)
    assert xlsx_response.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx_response.data), read_only=True).active
    values = [row for row in sheet.iter_rows(min_row=6, values_only=True) if row[0]]
    assert [row[0] for row in values] == vouchers
    assert sum(row[7] or 0 for row in values) == sum(int(r[7].replace(".", "")) for r in rows[2:]) / 100


def test_register_names_who_prepared_each_voucher_in_pdf_csv_and_xlsx(api, run_in_app, reports_app):
    """制单人: the finance officer who recorded each voucher, in the last column of every format; a
    voucher recorded by another user carries that user's name, not the first one's."""
    from ledger.auth.models import Role, User

    def receipt_by_a_second_officer(session, finance):
        organisation = finance.organisation
        colleague = User(username="finance2", role=Role.finance, organisation=organisation, display_name="出纳 李明",
                         password_hash="!unusable", active=True, failed_login_count=0)
        session.add(colleague)
        session.flush()
        return fund_services.record_receipt(session, colleague, "370827", 123_45, source="donation",
                                            payer_name="某爱心企业", value_on=date(2026, 3, 3)).voucher_no

    voucher = run_in_app(receipt_by_a_second_officer)
    client, headers = api("auditor")
    query = {"fund": "370827", "from": "2026-02-01", "to": "2026-03-31"}
    response = client.get("/api/v1/reports/journal-register.csv", query_string=query, headers=headers)
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][-1] == "制单人"
    preparers = {row[0]: row[-1] for row in rows[2:]}
    assert preparers.pop(voucher) == "出纳 李明"
    assert preparers and set(preparers.values()) == {"财务 王会计"}

    sheet = _register_sheet(client, headers, query)
    assert sheet.cell(4, 11).value == "制单人"
    by_voucher = {row[0].value: row[10].value for row in sheet.iter_rows(min_row=6) if row[0].value}
    assert by_voucher[voucher] == "出纳 李明"
    assert {by_voucher[number] for number in preparers} == {"财务 王会计"}

    response = client.get("/api/v1/reports/journal-register.pdf", query_string=query, headers=headers)
    text = pdf_text(response.data)
    assert "制单人" in text and "出纳 李明" in text and "财务 王会计" in text

    # The opening balances were recorded by the seed command, with no user: 系统, never a blank; the
    # aid demo's two January payments by the finance officer who paid them.
    january = {"fund": "370827", "from": "2026-01-01", "to": "2026-01-31"}
    response = client.get("/api/v1/reports/journal-register.csv", query_string=january, headers=headers)
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))[2:]
    openings = [row for row in rows if row[2] == "收入"]
    assert openings and {row[-1] for row in openings} == {"系统"}
    assert {row[-1] for row in rows if row not in openings} == {"财务 王会计"}


def _register_sheet(client, headers, query):
    from openpyxl import load_workbook

    response = client.get("/api/v1/reports/journal-register.xlsx", query_string=query, headers=headers)
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data)).active  # not read-only: filters and panes are read too


def test_register_xlsx_is_a_sheet_to_work_in_dates_filter_frozen_header_and_totals(api, reports_app):
    """Yutai's February in Excel: the dates sort as dates, the header filters and stays in sight,
    and the row under the data adds up what came in and went out."""
    client, headers = api("auditor")
    sheet = _register_sheet(client, headers, {"fund": "370827", "from": "2026-02-01", "to": "2026-02-28"})
    header_row = [cell.value for cell in sheet[4]]
    assert header_row[:3] == ["凭证号", "记账日期", "类型"]
    entries = [row for row in sheet.iter_rows(min_row=6) if row[0].value]
    assert len(entries) == 4
    for row in entries:
        day = row[1]
        assert day.is_date and day.number_format == "yyyy-mm-dd", (day.value, day.number_format)
        assert date(2026, 2, 1) <= day.value.date() <= date(2026, 2, 28)
    last_entry = entries[-1][0].row
    assert sheet.auto_filter.ref == f"A4:K{last_entry}"
    assert sheet.freeze_panes == "A5"
    totals = [cell.value for cell in sheet[last_entry + 1]]
    assert totals[3] == "本期合计（4 笔）"
    debit = sum(row[6].value or 0 for row in entries)
    credit = sum(row[7].value or 0 for row in entries)
    # In: 200,000.00 from the city and 30,000.00 into 城西村 (inside the county, so also out);
    # out: those 30,000.00, 城西村's 8,000.00 medical aid and Yutai's 10,000.00 assistance.
    assert (totals[6], totals[7]) == (debit, credit) == (230_000, 48_000)
    assert totals[8] == entries[-1][8].value
    assert totals[8] == sheet.cell(5, 9).value + debit - credit


FORMULAS = ["=HYPERLINK(\"http://example.org\",\"点此\")", "+1+1", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR"]


def test_register_spreadsheets_print_formulas_as_text(api, run_in_app, reports_app):
    """A payer's name or a memo that starts like a formula is shown, never run: CSV and XLSX both
    write it with a leading apostrophe, and the XLSX stores it as text, not as a formula."""
    def receipts(session, finance):
        for number, text in enumerate(FORMULAS, start=1):
            fund_services.record_receipt(session, finance, "370827-001", 100 * number, source="donation",
                                         payer_name=text, value_on=date(2026, 3, 2), memo=text)

    run_in_app(receipts)
    client, headers = api("auditor")
    query = {"fund": "370827-001", "from": "2026-03-01", "to": "2026-03-31"}
    sheet = _register_sheet(client, headers, query)
    memos, payers = [], []
    for row in sheet.iter_rows(min_row=6):
        if row[0].value and row[3].value and row[3].value.startswith("'"):  # the six receipts above
            memos.append(row[3])
            payers.append(row[5])
    # XML keeps no bare CR: the "\rCR" memo reads back with a line feed, still behind its apostrophe.
    assert sorted(cell.value for cell in memos) == sorted("'" + text.replace("\r", "\n") for text in FORMULAS)
    assert all(cell.data_type == "s" for cell in memos + payers)
    # Payer names are stored stripped (the tab and CR go); the other four keep their guard.
    assert {"'" + text for text in FORMULAS[:4]} <= {cell.value for cell in payers}
    response = client.get("/api/v1/reports/journal-register.csv", query_string=query, headers=headers)
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    memo_cells = [row[3] for row in rows[2:]]
    for text in FORMULAS:
        assert "'" + text in memo_cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row[:6])
