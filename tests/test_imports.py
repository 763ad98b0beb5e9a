"""The import pipeline as a person uploading a file meets it: what is read, what is refused and
where, and that a file is applied once, all or nothing."""
from __future__ import annotations

import io
import threading
import time
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from stdnum.cn import ric

from ledger import imports
from ledger.auth.models import Region, RegionLevel, User
from ledger.extensions import db
from ledger.imports import Column, ImportBatch, RowError, RowSchema


def resident_id(birth: str, sequence: int, region: str = "370827") -> str:
    """A resident ID number with a correct check digit (鱼台县 by default; born after the code existed)."""
    body = f"{region}{birth}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


ZHANG = resident_id("19900304", 12)
LI = resident_id("19921130", 31)
WANG = resident_id("19980715", 57)

TIERS = {"first": ("first", "一档"), "second": ("second", "二档")}

#: Tiered aid paid to persons: one column of each kind of rule.
AID_SCHEMA = RowSchema([
    Column("id_number", "ID number", "居民身份证号", imports.resident_id(), aliases=("身份证号",)),
    Column("name", "Name", "姓名", imports.text(20)),
    Column("amount_fen", "Amount", "金额(元)", imports.amount_fen(), aliases=("金额",)),
    Column("paid_on", "Paid on", "发放日期", imports.local_date()),
    Column("tier", "Tier", "档次", imports.choice(TIERS)),
    Column("note", "Note", "备注", imports.text(100), required=False),
])


def aid_preview(data: bytes, **options):
    return imports.preview(data, AID_SCHEMA, filename="aid.csv",
                           checks=[imports.duplicates_within_file("id_number")], **options)


def where(errors: list[RowError]) -> list[tuple]:
    return [(error.row_number, error.column, error.message) for error in errors]


# --- reading: encodings, headers, types ------------------------------------------------------


def test_a_gbk_csv_with_chinese_headers_is_read_with_amounts_in_fen_and_dates():
    text = ("居民身份证号,姓名,金额(元),发放日期,档次,备注\r\n"
            f"{ZHANG},张三,1788.00,2026-03-01,一档,\r\n"
            f"{LI},李四,12.5,2026/03/02,二档,低保边缘家庭\r\n")
    parsed = aid_preview(text.encode("gbk"))

    assert parsed.errors == []
    assert parsed.encoding == "gb18030"
    assert parsed.row_count == 2
    assert [dict(row) for row in parsed.rows] == [
        {"id_number": ZHANG, "name": "张三", "amount_fen": 178800, "paid_on": date(2026, 3, 1), "tier": "first",
         "note": None},
        {"id_number": LI, "name": "李四", "amount_fen": 1250, "paid_on": date(2026, 3, 2), "tier": "second",
         "note": "低保边缘家庭"},
    ]
    assert [row.row_number for row in parsed.rows] == [2, 3]
    assert parsed.column_mapping["amount_fen"] == "金额(元)"


def test_a_utf8_csv_with_a_bom_and_english_headers_in_any_case_and_order():
    text = ("\ufeff Tier ,NAME,id number,Amount,paid on\n"
            f"First,王五,{WANG},300,2026-01-31\n")
    parsed = aid_preview(text.encode("utf-8"))

    assert parsed.errors == []
    assert parsed.encoding == "utf-8-sig"
    assert dict(parsed.rows[0]) == {"id_number": WANG, "name": "王五", "amount_fen": 30000,
                                    "paid_on": date(2026, 1, 31), "tier": "first", "note": None}
    assert parsed.column_mapping["tier"] == "Tier"


def test_a_tab_separated_file_is_read_as_such():
    text = f"身份证号\t姓名\t金额\t发放日期\t档次\n{ZHANG}\t张三, 长者\t10\t2026-03-01\t一档\n"
    parsed = aid_preview(text.encode("utf-8"))

    assert parsed.errors == []
    assert parsed.rows[0]["name"] == "张三, 长者"


def test_an_xlsx_workbook_with_a_real_date_cell_and_a_number_cell():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["居民身份证号", "姓名", "金额(元)", "发放日期", "档次"])
    sheet.append([ZHANG, "张三", 1788.5, datetime(2026, 3, 1), "一档"])
    sheet.append([LI, "李四", 200, date(2026, 3, 2), "二档"])
    sheet.append([None, None, None, None, None])  # trailing empty rows are not data
    sheet.append([None, None, None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)

    parsed = imports.preview(buffer.getvalue(), AID_SCHEMA, filename="名单.csv")  # the name does not decide

    assert parsed.file_type == "xlsx"
    assert parsed.errors == []
    assert parsed.row_count == 2
    assert [(row["amount_fen"], row["paid_on"]) for row in parsed.rows] == [
        (178850, date(2026, 3, 1)), (20000, date(2026, 3, 2))]


# --- errors as values ---------------------------------------------------------------------------


def test_every_bad_row_is_reported_with_its_row_column_and_reason_and_nothing_is_applied(session, make_user):
    bad_check_digit = ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1")
    text = ("居民身份证号,姓名,金额(元),发放日期,档次\n"
            f"{ZHANG},张三,10.00,2026-03-01,一档\n"            # row 2: fine
            f"{bad_check_digit},李四,10.00,2026-03-01,一档\n"  # row 3: check digit
            f"{LI},,1.234,2026-02-30,三档\n"                  # row 4: four errors
            f"{WANG},王\x07五,10.00,2026-03-01,一档\n")         # row 5: a control character
    parsed = aid_preview(text.encode("utf-8"))

    assert where(parsed.errors) == [
        (3, "居民身份证号", "wrong check digit: the last character does not match the others (a digit is mistyped)"),
        (4, "姓名", "is required"),
        (4, "金额(元)", "must have at most 2 decimal places (fen)"),
        (4, "发放日期", "is not a day of the calendar"),
        (4, "档次", "must be one of: first / second / 一档 / 二档"),
        (5, "姓名", "contains a control character (U+0007)"),
    ]
    assert parsed.errors[0].value == bad_check_digit[:4] + "*" * 10 + bad_check_digit[-4:], "ID shown masked"
    assert parsed.row_count == 4 and [row.row_number for row in parsed.rows] == [2]

    user_id = session.scalar(sa.select(User.id).where(User.username == make_user("finance")))
    applied = []
    with pytest.raises(imports.ImportHasErrors) as refusal:
        imports.apply_once(session, "aid_payments", parsed, lambda s, rows, batch: applied.append(rows), user_id)
    session.commit()
    assert applied == []
    assert session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 0
    body = refusal.value.to_dict()["error"]
    assert body["error_count"] == 6
    assert body["row_errors"][0] == {"row": 3, "column": "居民身份证号", "key": "id_number",
                                     "value": parsed.errors[0].value, "message": parsed.errors[0].message}


def test_a_person_twice_in_one_file_is_reported_at_the_second_row():
    text = ("身份证号,姓名,金额,发放日期,档次\n"
            f"{ZHANG},张三,10,2026-03-01,一档\n"
            f"{LI},李四,10,2026-03-01,一档\n"
            f"{ZHANG.lower()},张三,20,2026-03-05,二档\n")
    parsed = aid_preview(text.encode("utf-8"))

    assert where(parsed.errors) == [(4, "身份证号", "the same as row 2")]
    assert parsed.errors[0].key == "id_number"


def test_missing_unknown_and_duplicate_columns_are_reported_on_the_header_row():
    text = f"身份证号,Name,姓名,金额,档次,电话\n{ZHANG},张三,张三,10,一档,123\n"
    parsed = aid_preview(text.encode("utf-8"))

    assert where(parsed.errors) == [
        (1, "姓名", 'the same column as "Name" appears twice'),
        (1, "电话", "unknown column"),
        (1, "发放日期", 'required column is missing ("发放日期" or "Paid on")'),
    ]


def test_unknown_columns_may_be_ignored_when_the_schema_says_so():
    lenient = RowSchema(AID_SCHEMA.columns, unknown_columns="ignore")
    text = f"身份证号,姓名,金额,发放日期,档次,电话\n{ZHANG},张三,10,2026-03-01,一档,13800000000\n"
    parsed = imports.preview(text.encode("utf-8"), lenient)

    assert parsed.errors == []
    assert "电话" not in parsed.rows[0].values()


# --- refusals of the whole file -----------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


@pytest.mark.parametrize("content, reason", [
    (PNG, "a PNG image"),
    (EXE, "an executable program"),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 9, "an executable program"),
    (b"some,header\x00\x01\x02", "a NUL byte at offset 11"),
])
def test_a_binary_file_renamed_csv_is_refused_by_its_content(content, reason):
    with pytest.raises(imports.ImportFileRefused) as refusal:
        aid_preview(content)
    assert reason in refusal.value.message
    assert "not a CSV or XLSX table" in refusal.value.message


def test_a_zip_that_is_not_a_workbook_is_refused():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(imports.ImportFileRefused, match="a ZIP archive, not an XLSX workbook"):
        aid_preview(buffer.getvalue())


def test_text_that_is_neither_utf8_nor_gb18030_is_refused_naming_the_byte_and_line():
    with pytest.raises(imports.ImportFileRefused) as refusal:
        aid_preview(b"id_number,name\n1,\x80\x80\n")
    assert refusal.value.message == ("the file is neither UTF-8 nor GBK/GB18030 text: byte 17 (line 2) "
                                     "cannot be read (0x80)")


def test_utf8_chinese_with_one_broken_byte_is_refused_not_read_as_gbk():
    data = "居民身份证号,姓名\n1,张三\n2,李".encode("utf-8") + b"\xff\n"
    with pytest.raises(imports.ImportFileRefused, match=r"the file is UTF-8 but byte \d+ \(line 3\)"):
        aid_preview(data)


def test_size_and_row_limits_are_refusals_not_truncations():
    row = f"{ZHANG},张三,10,2026-03-01,一档\n"
    data = ("身份证号,姓名,金额,发放日期,档次\n" + row * 3).encode("utf-8")

    with pytest.raises(imports.ImportFileTooLarge, match=f"the file has {len(data)} bytes; .* at most 100"):
        aid_preview(data, max_bytes=100)
    with pytest.raises(imports.ImportFileRefused, match="more than 2 data rows"):
        aid_preview(data, max_rows=2)
    assert aid_preview(data, max_rows=3).row_count == 3


# --- apply once, all or nothing -----------------------------------------------------------------

VILLAGE_SCHEMA = RowSchema([
    Column("code", "Code", "村(社区)代码", imports.text(20)),
    Column("name", "Name", "村(社区)名称", imports.text(100)),
])


@pytest.fixture
def county(session):
    region = Region(code="370827", name="鱼台县", level=RegionLevel.county)
    session.add(region)
    session.commit()
    return region


@pytest.fixture
def finance_id(session, make_user):
    return session.scalar(sa.select(User.id).where(User.username == make_user("finance")))


def add_villages(county):
    def apply_rows(session, rows, batch):
        session.add_all(Region(code=row["code"], name=row["name"], level=RegionLevel.village, parent_id=county.id)
                        for row in rows)
    return apply_rows


def villages(session) -> list[str]:
    return list(session.scalars(sa.select(Region.code).where(Region.level == RegionLevel.village)
                                .order_by(Region.code)))


VILLAGES_CSV = "村(社区)代码,村(社区)名称\n370827-001,王庙村\n370827-002,李阁村\n".encode("gbk")


def test_the_same_file_applied_twice_makes_one_batch_and_its_rows_once(session, county, finance_id):
    first = imports.apply_once(session, "villages", imports.preview(VILLAGES_CSV, VILLAGE_SCHEMA, filename="a.csv"),
                               add_villages(county), finance_id)
    session.commit()
    again = imports.apply_once(session, "villages",
                               imports.preview(VILLAGES_CSV, VILLAGE_SCHEMA, filename="copy of a.csv"),
                               add_villages(county), finance_id)
    session.commit()

    assert first.applied_now and not again.applied_now
    assert again.batch.id == first.batch.id
    assert villages(session) == ["370827-001", "370827-002"]
    batch = session.scalars(sa.select(ImportBatch)).one()
    assert (batch.kind, batch.filename, batch.row_count, batch.user_id, batch.size_bytes) == (
        "villages", "a.csv", 2, finance_id, len(VILLAGES_CSV))
    assert batch.sha256 == imports.preview(VILLAGES_CSV, VILLAGE_SCHEMA).sha256


def test_when_apply_rows_fails_nothing_of_the_batch_remains(session, county, finance_id):
    def fails_half_way(session, rows, batch):
        add_villages(county)(session, rows[:1], batch)
        session.flush()
        raise RuntimeError("the bank file does not match")

    parsed = imports.preview(VILLAGES_CSV, VILLAGE_SCHEMA)
    with pytest.raises(RuntimeError):
        imports.apply_once(session, "villages", parsed, fails_half_way, finance_id)
    session.commit()  # even a caller that commits afterwards keeps nothing of it

    assert villages(session) == []
    assert session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 0
    # and the corrected run of the same file is not taken for a repeat
    assert imports.apply_once(session, "villages", parsed, add_villages(county), finance_id).applied_now
    session.commit()
    assert villages(session) == ["370827-001", "370827-002"]


def test_a_registry_check_finds_rows_already_in_the_database_with_one_query(session, county):
    session.add(Region(code="370827-002", name="李阁村", level=RegionLevel.village, parent_id=county.id))
    session.commit()
    queries = []

    def existing_codes(codes):
        queries.append(codes)
        return session.scalars(sa.select(Region.code).where(Region.code.in_(codes)))

    parsed = imports.preview(VILLAGES_CSV, VILLAGE_SCHEMA,
                             checks=[imports.registry_conflicts("code", existing_codes)])

    assert where(parsed.errors) == [(3, "村(社区)代码", "is already registered")]
    assert queries == [["370827-001", "370827-002"]]


@pytest.mark.postgres
def test_two_applies_of_the_same_file_at_once_apply_it_once(app, session, county, finance_id):
    """The first apply holds its transaction open; the second one's claim waits for it (seen in
    pg_stat_activity), then finds the first batch and applies nothing."""
    parsed = imports.preview(VILLAGES_CSV, VILLAGE_SCHEMA, filename="a.csv")
    first_claimed, release_first = threading.Event(), threading.Event()
    outcomes = {}

    def apply(name, hold):
        with app.app_context():
            try:
                outcome = imports.apply_once(db.session, "villages", parsed, add_villages(county), finance_id)
                if hold:
                    first_claimed.set()
                    assert release_first.wait(30)
                db.session.commit()
                outcomes[name] = (outcome.applied_now, outcome.batch.id)
            finally:
                first_claimed.set()
                db.session.remove()

    first = threading.Thread(target=apply, args=("first", True))
    second = threading.Thread(target=apply, args=("second", False))
    first.start()
    assert first_claimed.wait(30)
    second.start()
    waiting = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO import_batches%'")
    deadline = time.monotonic() + 30
    while not session.scalar(waiting):
        session.rollback()
        assert time.monotonic() < deadline, "the second apply never waited for the first"
    session.rollback()
    release_first.set()
    first.join(30)
    second.join(30)

    assert outcomes["first"][0] is True and outcomes["second"] == (False, outcomes["first"][1])
    assert villages(session) == ["370827-001", "370827-002"]
    assert session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 1
