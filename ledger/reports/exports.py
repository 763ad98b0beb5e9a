"""The journal register for spreadsheets: CSV (UTF-8 with BOM, so Excel reads the Chinese)
and XLSX (openpyxl write-only mode: rows stream to disk, memory stays flat).

Amounts are exact: CSV carries decimal strings ("1234.56"), XLSX carries Decimal
values with a two-decimal number format, never floats computed from fen.
"""
from __future__ import annotations

import csv
import io
import tempfile
from decimal import Decimal
from typing import Callable, Iterable

from ..money import fen_to_decimal_string
from .document import ReportContext
from .queries import RegisterRow

HEADER = ["凭证号", "记账日期", "类型", "摘要", "会计科目", "对方单位/个人", "借方（收入）", "贷方（支出）", "余额",
          "冲销标记"]
PROGRESS_EVERY = 2000


def _cells(row: RegisterRow) -> list:
    return [row.voucher_no, row.value_on.isoformat(), row.kind, row.memo, "；".join(row.accounts), row.counterparty,
            row.debit_fen, row.credit_fen, row.balance_fen, row.mark]


def register_csv(context: ReportContext, rows: Iterable[RegisterRow],
                 progress: Callable[[int], None] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerow(["", "", "", "期初余额", "", "", "", "", fen_to_decimal_string(context.opening_fen), ""])
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

    workbook = Workbook(write_only=True)
    generated = context.generated_at.replace(tzinfo=None)
    workbook.properties.created = generated
    workbook.properties.modified = generated
    workbook.properties.creator = context.issuer
    workbook.properties.title = f"{context.title} {context.fund_name} {context.period_label}"
    workbook.properties.identifier = context.identity.report_id
    sheet = workbook.create_sheet("记账凭证登记簿")
    for letter, width in zip("ABCDEFGHIJ", (26, 11, 8, 36, 48, 28, 15, 15, 16, 28)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A5"
    sheet.append([f"{context.issuer} {context.title}"])
    sheet.append([f"基金：{context.fund_label}", None, None, f"期间：{context.period_label}", None, None,
                  "单位：元", None, f"报告编号 {context.identity.report_id}"])
    sheet.append([f"链头合并摘要 {context.integrity.heads_digest}"])
    sheet.append(HEADER)

    def money(fen: int):
        cell = WriteOnlyCell(sheet, value=_yuan(fen))
        cell.number_format = '#,##0.00;[Red]-#,##0.00'
        return cell

    sheet.append([None, None, None, "期初余额", None, None, None, None, money(context.opening_fen), None])
    for done, row in enumerate(rows, start=1):
        cells = _cells(row)
        cells[6] = money(row.debit_fen) if row.debit_fen else None
        cells[7] = money(row.credit_fen) if row.credit_fen else None
        cells[8] = money(row.balance_fen)
        sheet.append(cells)
        if progress and done % PROGRESS_EVERY == 0:
            progress(done)
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        return handle.read()
