"""Aid benchmarks on PostgreSQL, each against a reference measured in the same run.

Usage (PostgreSQL must answer at $LEDGER_BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres):

    .venv/bin/python bench/aid.py                    # 100,000 persons
    .venv/bin/python bench/aid.py --persons 20000

1. Registry import. A CSV of N persons (households of three: a head and two members, valid
   resident IDs over the demo villages of every county, phone, address, a category with its date,
   a bank card) goes through the real pipeline as the web does it: `services.preview_import`
   (decode, parse, every check) and then `services.apply_import` (parse and check again, write all
   or nothing), committed, as the city reviewer. The reference is PostgreSQL `COPY` of the same
   rows (every column of the households, persons and categories just written, read back) into bare
   tables of the same columns (no indexes, constraints or triggers), in one transaction, in the
   same database. Printed: rows/s of both and ours / COPY. Target: >= 0.3 (issue 11).
2. The reviewer queue with 10,000 open applications against the same page with 100 (the median of
   30 reads of page 1 each): target at most 3x (an index range, not a scan).

Everything happens in a scratch database that is removed at the end, also on error.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from posting import create_ledger_database, drop_database  # noqa: E402

from stdnum.cn import ric  # noqa: E402

HEADER = "姓名,身份证号,村（社区）代码,联系电话,住址,户主身份证号,与户主关系,救助类别,认定日期,残疾等级,开户银行,银行账号,持卡人"
CATEGORIES = ("低保", "特困分散供养", "因病致贫", "残疾", "低保边缘收入型", "孤儿")
RELATIONS = ("配偶", "子女")
#: the tables an import writes, in the order COPY fills them
WRITTEN = ("aid_households", "aid_persons", "aid_person_categories")


def resident_id(number: int) -> str:
    """The `number`-th distinct valid resident ID (up to 10 million), issued in 济南市历下区 370102
    (the demo registry has none from there)."""
    born_on = date(1940, 1, 1) + timedelta(days=number % 20000)
    body = f"370102{born_on:%Y%m%d}{number // 20000 % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def make_file(persons: int, village_codes: list[str]) -> bytes:
    lines = [HEADER]
    for number in range(persons):
        household = number // 3
        head_id = resident_id(household * 3)
        own_id = resident_id(number)
        village = village_codes[household % len(village_codes)]
        category = CATEGORIES[number % len(CATEGORIES)]
        grade = str(1 + number % 4) if category == "残疾" else ""
        member = number % 3
        name = f"张{'伟芳娜敏静丽强磊'[number % 8]}{'军洋勇艳'[number // 8 % 4]}"
        lines.append(",".join([
            name, own_id, village,
            f"0537-{6200000 + number % 100000}", f"第{household % 90 + 1}组{number % 50 + 1}号",
            "" if member == 0 else head_id, "户主" if member == 0 else RELATIONS[member - 1],
            category, f"2025-{1 + number % 12:02d}-{1 + number % 28:02d}", grade,
            "中国农业银行" if member == 0 else "", f"62284{number:014d}" if member == 0 else "",
            name if member == 0 else "",
        ]))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def timed(work):
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def _app(url: str):
    from ledger import create_app

    return create_app({"LEDGER_CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})


def copy_reference(connection, batch_id: int, *, indexed: bool = False) -> tuple[float, int]:
    """COPY of the rows the import wrote (read back first, not timed) into bare tables of the same
    columns, in one transaction: the seconds and the row count. `indexed`: tables with the
    registry's indexes, unique and check constraints (no foreign keys), which the database
    maintains whatever writes the rows."""
    raw = connection.connection.driver_connection
    selects = {
        "aid_households": "SELECT h.* FROM aid_households h WHERE h.id IN "
                          "(SELECT household_id FROM aid_persons WHERE import_batch_id = %s AND relation = 'head')",
        "aid_persons": "SELECT * FROM aid_persons WHERE import_batch_id = %s",
        "aid_person_categories": "SELECT c.* FROM aid_person_categories c JOIN aid_persons p ON p.id = c.person_id "
                                 "WHERE p.import_batch_id = %s",
    }
    rows = {}
    with raw.cursor() as cursor:
        for table, select in selects.items():
            cursor.execute(select, (batch_id,))
            rows[table] = cursor.fetchall()
            cursor.execute(f"DROP TABLE IF EXISTS bench_bare_{table}")
            # LIKE ... INCLUDING DEFAULTS: NOT NULL only, no index, constraint or trigger
            cursor.execute(f"CREATE TABLE bench_bare_{table} (LIKE {table} "
                           f"{'INCLUDING ALL' if indexed else 'INCLUDING DEFAULTS'})")
    raw.commit()
    started = time.perf_counter()
    with raw.cursor() as cursor:
        for table in WRITTEN:
            with cursor.copy(f"COPY bench_bare_{table} FROM STDIN") as copy:
                for row in rows[table]:
                    copy.write_row(row)
    raw.commit()
    return time.perf_counter() - started, sum(len(value) for value in rows.values())


def registry_import(url: str, persons: int) -> float:
    from ledger.aid import services
    from ledger.auth.models import Region, RegionLevel, User
    from ledger.extensions import db

    app = _app(url)
    with app.app_context():
        session = db.session
        villages = list(session.scalars(sa.select(Region.code).where(Region.level == RegionLevel.village)
                                        .order_by(Region.code)))
        data = make_file(persons, villages)
        filename = f"registry-{uuid.uuid4().hex[:8]}.csv"
        print(f"1. registry import: {persons:,} persons, {len(data) / 1e6:.1f} MB CSV, {len(villages)} villages")
        reviewer = session.scalar(sa.select(User).where(User.username == "reviewer"))

        def import_file():
            preview = services.preview_import(session, reviewer, data, filename)
            if preview.errors:
                raise SystemExit(f"the file has errors: {preview.errors[:5]}")
            session.rollback()
            parsed, outcome = services.apply_import(session, reviewer, data, filename)
            session.commit()
            return preview, outcome

        writes = []
        insert_rows = services._insert_rows

        def timed_insert_rows(*args, **kwargs):  # where the apply's time goes: the writes, apart
            seconds, _ = timed(lambda: insert_rows(*args, **kwargs))
            writes.append(seconds)

        services._insert_rows = timed_insert_rows
        seconds_preview, _ = timed(lambda: services.preview_import(session, reviewer, data, filename))
        session.rollback()
        ours, (_preview, outcome) = timed(import_file)
        services._insert_rows = insert_rows
        batch_id = outcome.batch.id
        with db.engine.connect() as connection:
            written = {table: connection.scalar(sa.text(select), {"batch": batch_id}) for table, select in (
                ("aid_persons", "SELECT count(*) FROM aid_persons WHERE import_batch_id = :batch"),
                ("aid_person_categories", "SELECT count(*) FROM aid_person_categories c JOIN aid_persons p "
                                          "ON p.id = c.person_id WHERE p.import_batch_id = :batch"),
                ("aid_households", "SELECT count(DISTINCT household_id) FROM aid_persons "
                                   "WHERE import_batch_id = :batch"))}
            rows = sum(written.values())
            reference, copied = copy_reference(connection, batch_id)
            indexed, _ = copy_reference(connection, batch_id, indexed=True)
        db.engine.dispose()
    if copied != rows:
        raise SystemExit(f"COPY reference read back {copied} rows, the import wrote {rows}")
    print(f"   written: {', '.join(f'{table} {count:,}' for table, count in written.items())}")
    print(f"   preview alone (parse + checks, nothing written): {seconds_preview:.2f} s")
    print(f"   ours (preview + apply + commit): {ours:.2f} s = {rows / ours:10,.0f} rows/s, of which the writes "
          f"(households, persons, categories, with the database's checks) {sum(writes):.2f} s")
    print(f"   COPY of the same rows into bare tables: {reference:.2f} s = {rows / reference:10,.0f} rows/s")
    ratio = reference / ours
    print(f"   ratio ours / COPY = {ratio:.3f}  (target >= 0.3)")
    print(f"   COPY into tables with the registry's indexes and constraints: {indexed:.2f} s; "
          f"ratio ours / indexed COPY = {indexed / ours:.3f}; bare / indexed COPY = {reference / indexed:.3f} "
          "(the ceiling the database's own index upkeep leaves)")
    ceiling = reference / sum(writes)
    print(f"   the import's own COPY into the registry's tables (indexes, constraints, foreign keys): "
          f"{sum(writes):.2f} s; bare COPY / that = {ceiling:.3f}: the ratio's ceiling even if parsing and every "
          "check took no time at all")
    return ratio


def reviewer_queue(url: str) -> float:
    """The reviewer queue's first page (50 rows, as the Yutai county reviewer) with ~10,000 open
    applications against ~100, in the same database (`bench/aid_queue.py` builds them in bulk)."""
    import aid_queue

    with _app(url).app_context():
        from ledger.extensions import db

        small, large, open_count = aid_queue.measure(db.session)
    print(f"2. reviewer queue, page 1 as the county reviewer: ~100 open {small * 1000:.2f} ms; "
          f"{open_count} open {large * 1000:.2f} ms")
    return large / small


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    options = parser.parse_args()
    name = f"bench_aid_{os.getpid()}"
    try:
        print("building the scratch database (migrations + demo seed)")
        url = create_ledger_database(name)
        registry_import(url, options.persons)
        queue = reviewer_queue(url)
        print(f"   ratio 10,000 / 100 = {queue:.2f}x  (target <= 3)")
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
