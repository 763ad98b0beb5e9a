"""Every list page's spreadsheet: the same columns and rows as the page, as CSV or XLSX.

A list export is a title, a header row and rows of cells. Cells are text, integers,
dates or `Money` (integer fen): CSV writes money as a decimal string ("1234.56") and
dates as ISO dates, XLSX as real numbers and dates with a number format, never as
floats computed from fen. CSV is UTF-8 with a BOM so that Excel reads the Chinese.

Two rules hold for every export, whatever builds its rows:
* every text cell goes through `ledger.text.spreadsheet_text`, the one rule of every CSV /
  XLSX the product writes: a text that starts with `=`, `+`, `-`, `@`, a tab or a carriage
  return (or a fullwidth ＝＋－＠) is neutralised, as a spreadsheet would otherwise run it as
  a formula, and characters XML cannot hold are replaced;
* identity numbers are masked by the caller with `ledger.identity` before they get here
  (`masked` below is the one helper the list views call).
"""
from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Sequence

from flask import Response, request

from ..identity import mask_id_number
from ..money import fen_to_decimal_string
from ..text import export_text, spreadsheet_text

FORMATS = ("csv", "xlsx")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def masked(id_number: str | None) -> str:
    """An identity number as a list export may show it."""
    return mask_id_number(id_number) if id_number else ""


@dataclass(frozen=True)
class Money:
    """An amount in fen, so that each format writes it exactly."""

    fen: int


def requested_format() -> str | None:
    """`csv` or `xlsx` when the list page was asked for a file (`?export=`), else None."""
    wanted = request.args.get("export", "")
    return wanted if wanted in FORMATS else None


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, Money):
        return fen_to_decimal_string(value.fen)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return spreadsheet_text(value)
    return value


def list_csv(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_cell(str(title)) for title in header])
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def list_xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    # Sheet titles may not hold []:*?/\ and are at most 31 characters.
    sheet = workbook.create_sheet("".join(c for c in export_text(title) if c not in "[]:*?/\\")[:31] or "Sheet")
    sheet.freeze_panes = "A2"
    header = [str(item) for item in header]
    sheet.append([spreadsheet_text(item) for item in header])
    count = 0

    def cell(value):
        if isinstance(value, Money):
            written = WriteOnlyCell(sheet, value=Decimal(value.fen).scaleb(-2))
            written.number_format = "#,##0.00;[Red]-#,##0.00"
            return written
        if isinstance(value, datetime):
            written = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
            written.number_format = "yyyy-mm-dd hh:mm"
            return written
        if isinstance(value, date):
            written = WriteOnlyCell(sheet, value=value)
            written.number_format = "yyyy-mm-dd"
            return written
        if isinstance(value, str):
            return spreadsheet_text(value)
        return value

    for row in rows:
        sheet.append([cell(value) for value in row])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(1, len(header)))}{count + 1}"
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        return handle.read()


def list_file(export_format: str, filename: str, title: str, header: Sequence[str],
              rows: Iterable[Sequence]) -> Response:
    """The download of one list: `filename` without its extension (ASCII, it names the list)."""
    if export_format == "xlsx":
        body, mimetype = list_xlsx(title, header, rows), XLSX_MIMETYPE
    else:
        body, mimetype = list_csv(header, rows), "text/csv; charset=utf-8"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{export_format}"'
    return response
