"""The one import pipeline for CSV and XLSX uploads: decode, map headers, parse rows, check, apply once.

Every upload of the product (beneficiary registers, supported persons, care visit files,
department lists for proactive discovery, bank return files) goes through this module, in
three steps:

1. **Read** (`read_table`): the raw bytes and a file name hint. The type comes from the
   content, never the name: a ZIP holding `xl/workbook.xml` is an XLSX workbook (first
   sheet, streamed with openpyxl's read-only mode); other known binary signatures (PNG,
   PDF, executables, old .xls ...) and anything holding a NUL byte are refused; everything
   else is text: UTF-8 with or without a BOM, else GB18030 (a superset of GBK). A text that
   is neither is refused with the byte offset and line of the first bad byte. CSV is
   comma-separated, or tab-separated when the header line clearly is. Size and row limits
   are parameters; going over them is a refusal, not a truncation.
2. **Parse** (`iter_rows`, `preview`): a `RowSchema` of `Column`s says, for each column, its
   key, English and Chinese headers and aliases (matched case-insensitively, surrounding
   whitespace and a BOM ignored) and a parser (str -> value, raising `CellError` or any
   `ValueError` with a message). The parsers here call the product's one owner of each
   rule: `ledger.money.parse_amount` for yuan -> fen, `ledger.identity` for resident IDs
   and credit codes. Errors are values, in the style of beancount's `ops/validation.py`:
   every bad cell of every row becomes a `RowError(row_number, column, value, message)`;
   nothing stops at the first one. File-level checks are functions `check(rows) ->
   list[RowError]` (`duplicates_within_file`, `registry_conflicts` for a set-based query of
   the caller's table); they see the rows that parsed cleanly.
3. **Apply once** (`apply_once`): the caller's `apply_rows(session, rows, batch)` runs at
   most once per (kind, file SHA-256), recorded as an `ImportBatch`.

Invariants kept here:

* Row numbers are the ones a person sees in a spreadsheet program: the header is row 1,
  the first data row row 2; blank rows count for the numbering but are otherwise skipped.
* A file with any error is never applied: `apply_once` raises `ImportHasErrors` and writes
  nothing.
* Idempotency: the unique constraint on `import_batches (kind, sha256)` is the claim. The
  batch row is inserted with ON CONFLICT DO NOTHING before the rows are applied, in the
  caller's transaction; a second apply of the same file (even concurrent: its INSERT waits
  for the first transaction, then finds the row; on SQLite BEGIN IMMEDIATE serialises the
  two) returns the first batch and applies nothing.
* All or nothing: the claim and `apply_rows` run in one SAVEPOINT; if `apply_rows` raises,
  neither the batch row nor anything it wrote remains. The pipeline flushes, never commits:
  the request or command boundary commits (one transaction per business operation).
* Money is integer fen, parsed by `ledger.money` only; floats never become amounts (an
  XLSX number cell is turned back into its shortest decimal text first).
* Resident ID numbers are masked (`3708**********1234`) in the `value` of a `RowError`.

Memory and speed: `iter_rows` is a generator: besides the file's bytes it holds one row at a
time (the text is decoded once whole to prove it decodes, then again as a stream). `preview`
keeps every clean row as a dict: about 550 bytes a row of six columns, 55 MB for 100,000
rows; 400,000 rows of a department list are better streamed through `iter_rows`. Parsing
100,000 six-column rows takes about 2 s on the 2-core test machine; with a resident ID column
7 to 20 s, nearly all of it the ID check itself (python-stdnum's region lookup, via
`ledger.identity`). `bench/imports.py` measures both.

Messages are plain English; the row, column, value and message are separate fields, so
the web layer can translate and lay them out (`第 7 行 "居民身份证号": ...`). This module
imports nothing from Flask.
"""
from __future__ import annotations

import csv
import enum
import hashlib
import io
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence

import sqlalchemy as sa

from .db_base import Base, enum_column
from .errors import LedgerError, PayloadTooLarge, ValidationError
from .identity import mask_id_number, validate_credit_code, validate_resident_id
from .journal.dates import value_date_rule
from .money import parse_amount
from .timeutil import utcnow

#: Default limits; each call may pass its own.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ROWS = 500_000
#: An XLSX may unpack to at most this many times its size (a guard against ZIP bombs).
XLSX_MAX_EXPANSION = 40
#: How many rows `ParsedImport.samples` shows, and how many row errors a refusal carries.
SAMPLE_ROWS = 5
MAX_ERRORS_IN_REFUSAL = 1000


# ---------------------------------------------------------------------------------------
# Errors: the refusals of a whole file are exceptions; the errors of rows are values.


class ImportFileRefused(LedgerError):
    """This file cannot be imported; the message says why (type, encoding, size, rows)."""

    status = 422
    code = "import_file_refused"


class ImportFileTooLarge(ImportFileRefused, PayloadTooLarge):
    """The file is larger than this import accepts."""

    status = 413
    code = "import_file_too_large"


class ImportHasErrors(ValidationError):
    """The file has errors; nothing was imported. `row_errors` lists them by row and column."""

    code = "import_has_errors"


class CellError(ValueError):
    """A cell's value is not valid; the message says why (raised by a column's parser)."""


class RowError(NamedTuple):
    """One thing wrong in the file, where a person finds it.

    `row_number`: as in a spreadsheet program (header = 1, first data row = 2);
    `column`: the header as written in the file (or the schema's Chinese header when the
    column is missing); `value`: the cell's text (masked for ID numbers), or None;
    `message`: plain English; `key`: the schema key of the column, when there is one.
    """

    row_number: int
    column: str | None
    value: Any
    message: str
    key: str | None = None

    def as_dict(self) -> dict:
        value = self.value
        if value is not None and not isinstance(value, (str, int)):
            value = str(value)
        return {"row": self.row_number, "column": self.column, "key": self.key, "value": value,
                "message": self.message}


# ---------------------------------------------------------------------------------------
# Parsers: str (or a date from an XLSX cell) -> value. Each raises CellError / ValueError.

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # tab (09) and line feed (0A) are not in it
_NEWLINE_RE = re.compile(r"\n")


def _cell_text(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def text(max_length: int = 200, *, multiline: bool = False) -> Callable[[Any], str]:
    """Stripped text of at most `max_length` characters; NUL and control characters are refused
    (tab always allowed, line breaks only when `multiline`)."""

    def parse_text(value) -> str:
        value = _cell_text(value).replace("\r\n", "\n").strip()
        bad = _CONTROL_RE.search(value) or (None if multiline else _NEWLINE_RE.search(value))
        if bad:
            raise CellError(f"contains a control character (U+{ord(bad.group()):04X})")
        if len(value) > max_length:
            raise CellError(f"is longer than {max_length} characters ({len(value)})")
        return value

    return parse_text


_INTEGER_RE = re.compile(r"^[+-]?\d{1,18}$")


def integer(min_value: int | None = None, max_value: int | None = None) -> Callable[[Any], int]:
    """A whole number written in digits (an XLSX number cell such as 3.0 counts as 3)."""

    def parse_integer(value) -> int:
        value = _cell_text(value).strip()
        if not _INTEGER_RE.match(value):
            raise CellError("must be a whole number")
        number = int(value)
        if min_value is not None and number < min_value:
            raise CellError(f"must be at least {min_value}")
        if max_value is not None and number > max_value:
            raise CellError(f"must be at most {max_value}")
        return number

    return parse_integer


def amount_fen(*, allow_zero: bool = False) -> Callable[[Any], int]:
    """Yuan with at most two decimals ("1234.56") -> integer fen, by `ledger.money.parse_amount`."""

    def parse_amount_fen(value) -> int:
        return parse_amount(_cell_text(value), allow_zero=allow_zero)

    return parse_amount_fen


_DATE_RE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")


def local_date() -> Callable[[Any], date]:
    """A business date: `YYYY-MM-DD` or `YYYY/MM/DD`, or an XLSX date cell (without a time of day)."""

    def parse_date(value) -> date:
        if isinstance(value, datetime):
            if value.time() != datetime.min.time():
                raise CellError("must be a date without a time of day")
            return value.date()
        if isinstance(value, date):
            return value
        match = _DATE_RE.match(value.strip())
        if not match:
            raise CellError("must be a date such as 2026-03-01")
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise CellError("is not a day of the calendar") from None

    return parse_date


def value_date() -> Callable[[Any], date]:
    """A business date the books accept (`ledger.journal.dates`): a `local_date` between the
    books' opening date and today, the range the posting engine enforces, so that a file is
    refused row by row at its preview rather than as a whole when it is applied."""
    parse_local_date = local_date()

    def parse_value_date(value) -> date:
        parsed = parse_local_date(value)
        problem = value_date_rule().problem(parsed, field="the date")
        if problem:
            raise CellError(problem)
        return parsed

    return parse_value_date


def choice(options: type[enum.Enum] | Mapping[Any, Iterable[str]]) -> Callable[[Any], Any]:
    """One of a set of values, written as any of its labels (case and surrounding space ignored).

    `options` is a mapping {result: labels} such as {Tier.one: ("first", "一档")}, or an Enum
    class: then a member's value, its name and its `label` / `label_zh` attributes (when it
    has them) are its labels.
    """
    lookup: dict[str, Any] = {}
    if isinstance(options, type) and issubclass(options, enum.Enum):
        pairs = [(member, (str(member.value), member.name, getattr(member, "label", None),
                           getattr(member, "label_zh", None))) for member in options]
    else:
        pairs = list(options.items())
    for result, labels in pairs:
        for label in labels:
            if label is not None:
                lookup[_normalise_label(str(label))] = result
    shown = " / ".join(sorted({str(label) for _, labels in pairs for label in labels if label is not None})[:12])

    def parse_choice(value):
        try:
            return lookup[_normalise_label(_cell_text(value))]
        except KeyError:
            raise CellError(f"must be one of: {shown}") from None

    return parse_choice


def resident_id() -> Callable[[Any], str]:
    """A resident ID number (居民身份证号), checked by `ledger.identity`; shown masked in errors."""

    def parse_resident_id(value) -> str:
        return validate_resident_id(_cell_text(value).strip())

    parse_resident_id.mask = mask_id_number
    return parse_resident_id


def credit_code() -> Callable[[Any], str]:
    """A unified social credit code (统一社会信用代码), checked by `ledger.identity`."""

    def parse_credit_code(value) -> str:
        return validate_credit_code(_cell_text(value).strip())

    return parse_credit_code


# ---------------------------------------------------------------------------------------
# Schemas


def _normalise_label(label: str) -> str:
    return unicodedata.normalize("NFKC", label.replace("\ufeff", "")).strip().casefold()


@dataclass(frozen=True)
class Column:
    """One column of a row schema.

    `parse` gets the cell's text (or a datetime from an XLSX date cell), never a blank one.
    `required`: the column must be in the file and no cell of it may be blank; otherwise a
    missing column or a blank cell gives `default`.
    """

    key: str
    en: str
    zh: str
    parse: Callable[[Any], Any] = field(default_factory=text)
    required: bool = True
    aliases: tuple[str, ...] = ()
    default: Any = None

    def labels(self) -> tuple[str, ...]:
        return (self.key, self.en, self.zh, *self.aliases)


class RowSchema:
    """The columns of an import; `unknown_columns="ignore"` lets a file carry extra columns."""

    def __init__(self, columns: Sequence[Column], *, unknown_columns: str = "error"):
        if unknown_columns not in ("error", "ignore"):
            raise ValueError("unknown_columns must be 'error' or 'ignore'")
        self.columns = tuple(columns)
        self.unknown_columns = unknown_columns
        self.by_key = {column.key: column for column in self.columns}
        self._by_label: dict[str, Column] = {}
        for column in self.columns:
            for label in column.labels():
                other = self._by_label.setdefault(_normalise_label(label), column)
                if other is not column:
                    raise ValueError(f"label {label!r} names both {other.key!r} and {column.key!r}")
        if len(self.by_key) != len(self.columns):
            raise ValueError("two columns have the same key")

    def map_header(self, header: Sequence[Any], row_number: int = 1
                   ) -> tuple[dict[str, int], dict[str, str], list[RowError]]:
        """-> ({key: index}, {key: header as written}, header errors). The first of duplicate columns is used."""
        indexes: dict[str, int] = {}
        written: dict[str, str] = {}
        errors: list[RowError] = []
        for index, cell in enumerate(header):
            label = "" if cell is None else str(_cell_text(cell))
            normalised = _normalise_label(label)
            if not normalised:
                continue  # a blank header cell; a value under it is reported per row
            column = self._by_label.get(normalised)
            if column is None:
                if self.unknown_columns == "error":
                    errors.append(RowError(row_number, label.strip(), None, "unknown column"))
                continue
            if column.key in indexes:
                errors.append(RowError(row_number, label.strip(), None,
                                       f'the same column as "{written[column.key]}" appears twice', column.key))
                continue
            indexes[column.key] = index
            written[column.key] = label.replace("\ufeff", "").strip()
        for column in self.columns:
            if column.required and column.key not in indexes:
                errors.append(RowError(row_number, column.zh, None, f'required column is missing ("{column.zh}" or '
                                                           f'"{column.en}")', column.key))
        return indexes, written, errors


class Row(dict):
    """A parsed row: a dict {key: value} that also knows its `row_number` in the file."""

    __slots__ = ("row_number",)

    def __init__(self, row_number: int, values: dict):
        super().__init__(values)
        self.row_number = row_number


# ---------------------------------------------------------------------------------------
# Reading: bytes -> (row_number, cells) with the type from the content.

_BINARY_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x7fELF", "an executable program"),
    (b"MZ", "an executable program"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel (.xls) or Word file; save it as .xlsx or CSV"),
    (b"Rar!", "a RAR archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xff\xfe", "UTF-16 text; save it as CSV (UTF-8) or .xlsx"),
    (b"\xfe\xff", "UTF-16 text; save it as CSV (UTF-8) or .xlsx"),
)


@dataclass
class Table:
    """A file read as rows of cells: `rows` yields (row_number, cells), blank rows left out."""

    filename: str
    file_type: str  # "csv" or "xlsx"
    encoding: str | None  # of a CSV: "utf-8", "utf-8-sig" or "gb18030"
    sha256: str
    size_bytes: int
    rows: Iterator[tuple[int, list]]


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_text(data: bytes) -> tuple[str, str]:
    """-> (text, encoding). UTF-8 (BOM optional), else GB18030; refuses what is neither.

    A file that starts as UTF-8 Chinese and then holds one bad byte is refused as broken UTF-8,
    not read as GB18030 (which accepts most byte sequences and would turn it into nonsense).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            offset = error.start + 3
            raise ImportFileRefused(f"the file says it is UTF-8 but byte {offset} (line {_line_of(data, offset)}) "
                                    f"is not valid UTF-8 (0x{data[offset]:02X})", reason="undecodable") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        utf8_error = error
    prefix = data[:utf8_error.start].decode("utf-8")
    if sum(1 for character in prefix if "\u4e00" <= character <= "\u9fff") >= 2:
        offset = utf8_error.start
        raise ImportFileRefused(f"the file is UTF-8 but byte {offset} (line {_line_of(data, offset)}) is not valid "
                                f"UTF-8 (0x{data[offset]:02X})", reason="undecodable")
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as error:
        offset = error.start
        raise ImportFileRefused(f"the file is neither UTF-8 nor GBK/GB18030 text: byte {offset} (line "
                                f"{_line_of(data, offset)}) cannot be read (0x{data[offset]:02X})",
                                reason="undecodable") from None


def _sniff_delimiter(text_value: str) -> str:
    first_line = text_value.lstrip("\r\n").split("\n", 1)[0]
    return "\t" if first_line.count("\t") > 0 and first_line.count(",") == 0 else ","


def _csv_rows(data: bytes, encoding: str, delimiter: str, max_rows: int) -> Iterator[tuple[int, list]]:
    # Decoded again while streaming (decode_text has already proved it decodes), so that
    # only the bytes and a small buffer are held, not the whole text as well.
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(stream, delimiter=delimiter, strict=False)
    data_rows = -1  # the header is not a data row
    row_number = 0
    try:
        for cells in reader:
            row_number += 1
            if not any(cell.strip() for cell in cells):
                continue
            data_rows += 1
            if data_rows > max_rows:
                raise ImportFileRefused(f"the file has more than {max_rows} data rows", reason="too_many_rows")
            yield row_number, cells
    except csv.Error as error:
        raise ImportFileRefused(f"row {row_number + 1} (line {reader.line_num}) cannot be read as CSV: {error}",
                                reason="not_a_table") from None


def _xlsx_cell(value):
    if value is None or isinstance(value, (str, date)):
        return "" if value is None else value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _xlsx_rows(data: bytes, max_rows: int) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook  # loaded only when a workbook comes

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        if not workbook.worksheets:
            return
        data_rows = -1
        for row_number, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
            cells = [_xlsx_cell(value) for value in values]
            if not any(cell.strip() if isinstance(cell, str) else True for cell in cells):
                continue
            data_rows += 1
            if data_rows > max_rows:
                raise ImportFileRefused(f"the file has more than {max_rows} data rows", reason="too_many_rows")
            yield row_number, cells
    finally:
        workbook.close()


def _check_workbook(data: bytes, max_bytes: int) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportFileRefused("the file is a damaged ZIP / XLSX file", reason="not_a_table") from None
    with archive:
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names:
            raise ImportFileRefused("the file is a ZIP archive, not an XLSX workbook", reason="not_a_table")
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > max_bytes * XLSX_MAX_EXPANSION:
            raise ImportFileTooLarge(f"the workbook unpacks to {unpacked} bytes, more than this import accepts",
                                     reason="too_large")


def read_table(data: bytes, filename: str = "", *, max_bytes: int = DEFAULT_MAX_BYTES,
               max_rows: int = DEFAULT_MAX_ROWS) -> Table:
    """Read an upload as rows of cells; the type comes from the content (see the module doc)."""
    size = len(data)
    if size > max_bytes:
        raise ImportFileTooLarge(f"the file has {size} bytes; this import accepts at most {max_bytes}",
                                 reason="too_large")
    filename = os.path.basename((filename or "").replace("\\", "/"))[:255]
    sha256 = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise ImportFileRefused("the file is empty", reason="empty")
    if data.startswith(b"PK\x03\x04"):
        _check_workbook(data, max_bytes)
        return Table(filename, "xlsx", None, sha256, size, _xlsx_rows(data, max_rows))
    for signature, what in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise ImportFileRefused(f"the file is {what}, not a CSV or XLSX table", reason="not_a_table")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ImportFileRefused(f"the file is binary, not a CSV or XLSX table (a NUL byte at offset {nul})",
                                reason="not_a_table")
    text_value, encoding = decode_text(data)
    delimiter = _sniff_delimiter(text_value)
    del text_value
    return Table(filename, "csv", encoding, sha256, size, _csv_rows(data, encoding, delimiter, max_rows))


# ---------------------------------------------------------------------------------------
# Parsing rows


@dataclass
class _Header:
    """What the header row told: its row number, {key: header as written}, and its errors."""

    row_number: int = 0
    written: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)


def _parse_rows(table: Table, schema: RowSchema, header: _Header) -> Iterator[Row | RowError]:
    rows = iter(table.rows)
    first = next(rows, None)
    if first is None:
        raise ImportFileRefused("the file has no header row", reason="empty")
    header.row_number, header_cells = first
    indexes, header.written, header.errors = schema.map_header(header_cells, header.row_number)
    yield from header.errors
    plan = [(column, indexes[column.key], header.written[column.key], getattr(column.parse, "mask", None))
            for column in schema.columns if column.key in indexes]
    absent = {column.key: column.default for column in schema.columns if column.key not in indexes}
    width = len(header_cells)
    unheaded = {index for index, cell in enumerate(header_cells) if not str(cell).strip()}
    for row_number, cells in rows:
        values = dict(absent)
        errors = []
        for column, index, label, mask in plan:
            raw = cells[index] if index < len(cells) else ""
            if isinstance(raw, str) and not raw.strip():
                if column.required:
                    errors.append(RowError(row_number, label, None, "is required", column.key))
                else:
                    values[column.key] = column.default
                continue
            try:
                values[column.key] = column.parse(raw)
            except ValueError as error:
                shown = mask(str(raw)) if mask else raw
                errors.append(RowError(row_number, label, shown, str(error) or "is not valid", column.key))
        if len(cells) > width or unheaded:
            for index in sorted(unheaded | set(range(width, len(cells)))):
                if index < len(cells) and str(cells[index]).strip():
                    errors.append(RowError(row_number, None, cells[index], "a value in a column without a header"))
        if errors:
            yield from errors
        else:
            yield Row(row_number, values)


def iter_rows(data: bytes, schema: RowSchema, *, filename: str = "", max_bytes: int = DEFAULT_MAX_BYTES,
              max_rows: int = DEFAULT_MAX_ROWS) -> Iterator[Row | RowError]:
    """Stream a file: header errors first, then, in file order, a `Row` for each clean data row and
    the `RowError`s of each bad one. File-level refusals (type, size, encoding) raise `ImportFileRefused`."""
    return iter_table_rows(read_table(data, filename, max_bytes=max_bytes, max_rows=max_rows), schema)


def iter_table_rows(table: Table, schema: RowSchema) -> Iterator[Row | RowError]:
    """`iter_rows` of a table already read (its file name, type, encoding and SHA-256 known to the caller)."""
    return _parse_rows(table, schema, _Header())


@dataclass
class ParsedImport:
    """What a preview shows, and what `apply_once` applies."""

    filename: str
    file_type: str
    encoding: str | None
    sha256: str
    size_bytes: int
    row_count: int  # data rows in the file, clean or not (blank rows not counted)
    rows: list[Row]  # the clean rows, in file order
    errors: list[RowError]  # every error, header errors first, then by row
    column_mapping: dict[str, str]  # schema key -> the header found in the file
    samples: list[Row] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


Check = Callable[[list[Row]], list[RowError]]


def preview(data: bytes, schema: RowSchema, *, filename: str = "", checks: Sequence[Check] = (),
            max_bytes: int = DEFAULT_MAX_BYTES, max_rows: int = DEFAULT_MAX_ROWS) -> ParsedImport:
    """Read, parse and check a whole file; keeps every clean row (see the module doc on memory).

    `checks` run over the clean rows when the header is sound; a check may name a column by its
    schema key, the error then shows the file's header for it.
    """
    table = read_table(data, filename, max_bytes=max_bytes, max_rows=max_rows)
    header = _Header()
    rows: list[Row] = []
    errors: list[RowError] = []
    bad_rows: set[int] = set()
    for item in _parse_rows(table, schema, header):
        if isinstance(item, Row):
            rows.append(item)
        else:
            errors.append(item)
            if item.row_number > header.row_number:
                bad_rows.add(item.row_number)
    mapping = header.written
    if not header.errors:
        check_errors = [error for check in checks for error in check(rows)]
        for error in check_errors:
            if error.key is None and error.column in schema.by_key:
                error = error._replace(key=error.column, column=mapping.get(error.column, error.column))
            errors.append(error)
        errors.sort(key=lambda error: error.row_number)  # stable: a row's cell errors keep their order
    return ParsedImport(filename=table.filename, file_type=table.file_type, encoding=table.encoding,
                        sha256=table.sha256, size_bytes=table.size_bytes, row_count=len(rows) + len(bad_rows),
                        rows=rows, errors=errors, column_mapping=mapping, samples=rows[:SAMPLE_ROWS])


# ---------------------------------------------------------------------------------------
# File-level checks


def duplicates_within_file(*keys: str, message: str = "the same as row {first}") -> Check:
    """A check: no two rows with the same values of `keys`; each later row is reported."""

    def check(rows: list[Row]) -> list[RowError]:
        first_seen: dict[tuple, int] = {}
        errors = []
        for row in rows:
            value = tuple(row.get(key) for key in keys)
            if any(part is None for part in value):
                continue
            first = first_seen.setdefault(value, row.row_number)
            if first != row.row_number:
                shown = value[0] if len(keys) == 1 else " / ".join(map(str, value))
                errors.append(RowError(row.row_number, keys[0], shown, message.format(first=first)))
        return errors

    return check


def registry_conflicts(key: str, find_existing: Callable[[list], Iterable], *,
                       message: str = "is already registered", chunk_size: int = 1000) -> Check:
    """A check against the caller's table: `find_existing(values)` returns which of `values` exist
    (one set-based query per chunk, e.g. `SELECT code FROM t WHERE code IN (...)`)."""

    def check(rows: list[Row]) -> list[RowError]:
        values = sorted({row[key] for row in rows if row.get(key) is not None})
        existing = set()
        for start in range(0, len(values), chunk_size):
            existing.update(find_existing(values[start:start + chunk_size]))
        return [RowError(row.row_number, key, row[key], message) for row in rows if row.get(key) in existing]

    return check


# ---------------------------------------------------------------------------------------
# Apply once


class ImportStatus(str, enum.Enum):
    applied = "applied"


class ImportBatch(Base):
    """One applied file: which kind of import, the file's SHA-256 and who applied it, when.

    (kind, sha256) is unique: a file is applied at most once per kind of import.
    """

    __tablename__ = "import_batches"
    __table_args__ = (sa.UniqueConstraint("kind", "sha256", name="uq_import_batches_kind_sha256"),)

    id = sa.Column(sa.Integer, primary_key=True)
    kind = sa.Column(sa.String(40), nullable=False, comment="which import: beneficiaries, care_visits, ...")
    sha256 = sa.Column(sa.String(64), nullable=False, comment="of the uploaded file's bytes")
    filename = sa.Column(sa.String(255), nullable=False, default="", comment="as uploaded, without a path")
    size_bytes = sa.Column(sa.BigInteger, nullable=False)
    row_count = sa.Column(sa.Integer, nullable=False, comment="data rows applied")
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    status = enum_column(ImportStatus, "import_status", nullable=False, default=ImportStatus.applied)


class ApplyOutcome(NamedTuple):
    """The batch of the file, and whether this call applied it (False: it was applied before)."""

    batch: ImportBatch
    applied_now: bool


def _insert_batch(session, values: dict):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = ImportBatch.__table__
    statement = (insert(table).values(**values)
                 .on_conflict_do_nothing(index_elements=["kind", "sha256"]).returning(table.c.id))
    return session.execute(statement).scalar_one_or_none()


def batch_of(session, kind: str, sha256: str) -> ImportBatch | None:
    """The batch that applied this file for this kind of import, if one did."""
    return session.scalar(sa.select(ImportBatch).where(ImportBatch.kind == kind, ImportBatch.sha256 == sha256))


def masked_errors(parsed: ParsedImport, keys: Sequence[str]) -> ParsedImport:
    """`parsed` with the value of every error in the columns `keys` masked (ID and account numbers):
    the file-level checks report values as written."""
    for index, error in enumerate(parsed.errors):
        if error.key in keys and isinstance(error.value, str) and "*" not in error.value:
            parsed.errors[index] = error._replace(value=mask_id_number(error.value))
    return parsed


def _existing_batch(session, kind: str, sha256: str) -> ImportBatch:
    return session.scalars(sa.select(ImportBatch).where(ImportBatch.kind == kind,
                                                         ImportBatch.sha256 == sha256)).one()


def apply_once(session, kind: str, parsed: ParsedImport,
               apply_rows: Callable[[Any, list[Row], ImportBatch], Any], user_id: int) -> ApplyOutcome:
    """Apply a previewed file at most once per (kind, SHA-256), all or nothing; see the module doc.

    Refuses a file with errors (`ImportHasErrors`, nothing written). Flushes, never commits.
    """
    if parsed.errors:
        raise ImportHasErrors(f"the file has {len(parsed.errors)} errors; nothing was imported",
                              row_errors=[error.as_dict() for error in parsed.errors[:MAX_ERRORS_IN_REFUSAL]],
                              error_count=len(parsed.errors))
    session.flush()
    savepoint = session.begin_nested()
    try:
        batch_id = _insert_batch(session, dict(kind=kind, sha256=parsed.sha256, filename=parsed.filename,
                                               size_bytes=parsed.size_bytes, row_count=len(parsed.rows),
                                               user_id=user_id, created_at=utcnow(),
                                               status=ImportStatus.applied.value))
        if batch_id is None:
            savepoint.commit()
            return ApplyOutcome(_existing_batch(session, kind, parsed.sha256), False)
        batch = session.get(ImportBatch, batch_id)
        apply_rows(session, parsed.rows, batch)
        session.flush()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    savepoint.commit()
    return ApplyOutcome(batch, True)
