"""The journal register for spreadsheets: CSV (UTF-8 with BOM, so Excel reads the Chinese)
and XLSX (openpyxl write-only mode: rows stream to disk, memory stays flat).

Amounts are exact: CSV carries decimal strings ("1234.56"), XLSX carries Decimal
values with a two-decimal number format, never floats computed from fen.

The XLSX is a sheet to work in: value dates are Excel dates (a date number with a
yyyy-mm-dd format, so they sort and filter as dates), the header row carries an
autofilter and stays frozen with the title rows above it, and a totals row under
the data gives the period's receipts, payments and closing balance.

Formula injection: a memo or a payer's name is typed by someone else. Every text
cell goes through `ledger.text.spreadsheet_text`, the one rule of every CSV / XLSX
the product writes: a text a spreadsheet program would read as a formula gets a
leading apostrophe, in CSV and XLSX alike (openpyxl would otherwise store a text
starting with "=" as a formula), and characters XML cannot hold are replaced, so a
control character stored long ago cannot break the file.
"""
from __future__ import annotations

import csv
import io
import tempfile
from decimal import Decimal
from typing import Callable, Iterable

from ..money import fen_to_decimal_string
from ..text import spreadsheet_text
from .document import ReportContext
from .queries import RegisterRow

DATE_FORMAT = "yyyy-mm-dd"
MONEY_FORMAT = '#,##0.00;[Red]-#,##0.00'
#: The sheet's rows above the data: title, fund and period, digest, then the header row.
HEADER_ROW = 4

HEADER = ["凭证号", "记账日期", "类型", "摘要", "会计科目", "对方单位/个人", "借方（收入）", "贷方（支出）", "余额",
          "冲销标记", "制单人"]
PROGRESS_EVERY = 2000


def _cells(row: RegisterRow) -> list:
    text = spreadsheet_text
    return [text(row.voucher_no), row.value_on.isoformat(), text(row.kind), text(row.memo),
            text("；".join(row.accounts)), text(row.counterparty), row.debit_fen, row.credit_fen, row.balance_fen,
            text(row.mark), text(row.preparer)]


def register_csv(context: ReportContext, rows: Iterable[RegisterRow],
                 progress: Callable[[int], None] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerow(["", "", "", "期初余额", "", "", "", "", fen_to_decimal_string(context.opening_fen), "", ""])
    for done, row in enumerate(rows, start=1):
        cells = _cells(row)
        for index in (6, 7, 8):
            cells[index] = fen_to_decimal_string(cells[index])
        writer.writerow(cells)
        if progress and done % PROGRESS_EVERY == 0:
            progress(done)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


def register_xlsx(context: ReportContext, rows: Iterable[RegisterRow],
                  progress: Callable[[int], None] | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    generated = context.generated_at.replace(tzinfo=None)
    workbook.properties.created = generated
    workbook.properties.modified = generated
    workbook.properties.creator = context.issuer
    workbook.properties.title = f"{context.title} {context.fund_name} {context.period_label}"
    workbook.properties.identifier = context.identity.report_id
    sheet = workbook.create_sheet("记账凭证登记簿")
    for letter, width in zip("ABCDEFGHIJK", (26, 11, 8, 36, 48, 28, 15, 15, 16, 28, 14)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"  # the title rows and the header row stay in sight
    text = spreadsheet_text
    sheet.append([text(f"{context.issuer} {context.title}")])
    sheet.append([text(f"基金：{context.fund_label}"), None, None, text(f"期间：{context.period_label}"), None, None,
                  "单位：元", None, text(f"报告编号 {context.identity.report_id}")])
    sheet.append([text(f"链头合并摘要 {context.integrity.heads_digest}")])
    bold = Font(bold=True)

    def header(title: str):
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        return cell

    sheet.append([header(title) for title in HEADER])

    def money(fen: int, font: Font | None = None):
        cell = WriteOnlyCell(sheet, value=_yuan(fen))
        cell.number_format = MONEY_FORMAT
        if font:
            cell.font = font
        return cell

    def day(value):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell

    sheet.append([None, None, None, "期初余额", None, None, None, None, money(context.opening_fen), None, None])
    done = debit_total = credit_total = 0
    balance = context.opening_fen
    for done, row in enumerate(rows, start=1):
        cells = _cells(row)
        cells[1] = day(row.value_on)
        cells[6] = money(row.debit_fen) if row.debit_fen else None
        cells[7] = money(row.credit_fen) if row.credit_fen else None
        cells[8] = money(row.balance_fen)
        sheet.append(cells)
        debit_total += row.debit_fen
        credit_total += row.credit_fen
        balance = row.balance_fen
        if progress and done % PROGRESS_EVERY == 0:
            progress(done)
    last_data_row = HEADER_ROW + 1 + done  # the opening row, then one row per entry
    # The filter covers the header and the rows; the totals row stays under it, outside the filter.
    sheet.auto_filter.ref = f"A{HEADER_ROW}:K{last_data_row}"
    sheet.append([None, None, None, header(f"本期合计（{done} 笔）"), None, None, money(debit_total, bold),
                  money(credit_total, bold), money(balance, bold), None, None])
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        return handle.read()
