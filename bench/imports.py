"""Import pipeline speed: read + parse + check a CSV of N rows, against a bare `csv.reader` in the same run.

Usage:

    .venv/bin/python bench/imports.py                 # 100,000 rows, 6 columns, GB18030
    .venv/bin/python bench/imports.py --rows 400000 --encoding utf-8

The file: resident ID (check digit and region), name, amount in yuan, payment date, tier
(a choice of labels) and a note, with the duplicate-within-file check on the ID. Printed:
the pipeline's time (`preview`, every row kept) and `iter_rows` (streamed), the bare
reference (decode + `csv.reader`, nothing checked) and the ratio; and `preview` once more with the
ID column as plain text, which shows how much of the time is the resident ID check itself. No database is touched.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from datetime import date, timedelta

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from stdnum.cn import ric  # noqa: E402

from ledger import imports  # noqa: E402

SCHEMA = imports.RowSchema([
    imports.Column("id_number", "ID number", "居民身份证号", imports.resident_id(), aliases=("身份证号",)),
    imports.Column("name", "Name", "姓名", imports.text(20)),
    imports.Column("amount_fen", "Amount", "金额(元)", imports.amount_fen()),
    imports.Column("paid_on", "Paid on", "发放日期", imports.local_date()),
    imports.Column("tier", "Tier", "档次", imports.choice({"first": ("一档",), "second": ("二档",)})),
    imports.Column("note", "Note", "备注", imports.text(100), required=False),
])


#: The same file with the ID column read as plain text: the pipeline's own cost, without python-stdnum's check.
SCHEMA_WITHOUT_ID_CHECK = imports.RowSchema([
    imports.Column("id_number", "ID number", "居民身份证号", imports.text(18)), *SCHEMA.columns[1:]])


def make_file(rows: int, encoding: str) -> bytes:
    lines = ["居民身份证号,姓名,金额(元),发放日期,档次,备注"]
    for number in range(rows):
        born_on = date(1990, 1, 1) + timedelta(days=number % 10000)  # distinct IDs up to 10 million rows
        body = f"370827{born_on:%Y%m%d}{number // 10000 % 1000:03d}"
        lines.append(f"{body}{ric.calc_check_digit(body + '0')},张{number % 97}三,{1 + number % 5000}.{number % 100:02d},"
                     f"2026-{1 + number % 12:02d}-{1 + number % 28:02d},{'一档' if number % 3 else '二档'},"
                     f"{'低保边缘' if number % 7 == 0 else ''}")
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def timed(work):
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--encoding", default="gb18030")
    options = parser.parse_args()
    data = make_file(options.rows, options.encoding)
    print(f"{options.rows} rows, {len(data) / 1e6:.1f} MB, {options.encoding}")

    reference, _ = timed(lambda: sum(1 for _ in csv.reader(io.StringIO(imports.decode_text(data)[0], newline=""))))
    checks = [imports.duplicates_within_file("id_number")]
    seconds, parsed = timed(lambda: imports.preview(data, SCHEMA, checks=checks))
    streamed, _ = timed(lambda: sum(1 for _ in imports.iter_rows(data, SCHEMA)))
    plain, _ = timed(lambda: imports.preview(data, SCHEMA_WITHOUT_ID_CHECK, checks=checks))
    print(f"preview (parse + check, rows kept): {seconds:6.2f} s  {options.rows / seconds:9.0f} rows/s  "
          f"rows {len(parsed.rows)}, errors {len(parsed.errors)}")
    print(f"iter_rows (parse, streamed):        {streamed:6.2f} s  {options.rows / streamed:9.0f} rows/s")
    print(f"preview, ID column as plain text:   {plain:6.2f} s  {options.rows / plain:9.0f} rows/s")
    print(f"bare decode + csv.reader:           {reference:6.2f} s  ratio preview / bare: {seconds / reference:.1f}x")


if __name__ == "__main__":
    main()
