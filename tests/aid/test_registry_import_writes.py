"""The registry import's set-based write (COPY on PostgreSQL, multi-row INSERT on SQLite) keeps the
database's guard: an ID registered by someone else after the file was checked refuses the whole
file, and nothing of it is written."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from ledger import imports
from ledger.aid import services
from ledger.aid.demo import demo_resident_id
from ledger.aid.models import Household, Person, PersonCategory
from ledger.auth.models import User
from ledger.errors import Conflict
from ledger.extensions import db

HEAD = demo_resident_id("370827", date(1961, 3, 9), 433, True)
MEMBER = demo_resident_id("370827", date(1988, 7, 1), 433, False)
FILE = ("姓名,身份证号,村（社区）代码,户主身份证号,与户主关系,救助类别,认定日期,开户银行,银行账号,持卡人\r\n"
        f"韩进,{HEAD},370827-001,,户主,低保,2025-01-01,中国农业银行,6228480123456789012,韩进\r\n"
        f"韩梅,{MEMBER},370827-001,{HEAD},女,残疾,2025-01-01,,,\r\n").encode("gbk")


def counts(session):
    return [session.scalar(sa.select(sa.func.count()).select_from(model)) for model in (Person, Household,
                                                                                         PersonCategory)]


def test_a_file_is_written_whole_with_its_households_and_categories(demo_app):
    with demo_app.app_context():
        session = db.session
        reviewer = session.scalar(sa.select(User).where(User.username == "reviewer_yutai"))
        before = counts(session)
        with pytest.raises(imports.ImportHasErrors):  # a disability needs its grade: the rule of a single registration
            services.apply_import(session, reviewer, FILE, "registry.csv")
        session.rollback()
        fixed = FILE.replace("残疾".encode("gbk"), "孤儿".encode("gbk"))
        _parsed, outcome = services.apply_import(session, reviewer, fixed, "registry.csv")
        session.commit()
        assert outcome.applied_now
        assert [now - then for now, then in zip(counts(session), before)] == [2, 1, 2]
        head, member = (session.scalar(sa.select(Person).where(Person.resident_id == number))
                        for number in (HEAD, MEMBER))
        assert member.household_id == head.household_id and member.relation.value == "child"
        assert head.bank_account_number == "6228480123456789012" and member.sex.value == "female"
        assert [item.category.value for item in member.categories] == ["orphan"]


def test_an_id_registered_after_the_checks_refuses_the_whole_file(demo_app):
    with demo_app.app_context():
        session = db.session
        reviewer = session.scalar(sa.select(User).where(User.username == "reviewer_yutai"))
        fixed = FILE.replace("残疾".encode("gbk"), "孤儿".encode("gbk"))
        parsed = services.preview_import(session, reviewer, fixed, "registry.csv")
        assert parsed.ok
        # someone registers the member between the checks and the write
        services.register_person(session, reviewer, services.PersonInput(
            name="韩梅", resident_id=MEMBER, village_code="370827-001"))
        session.commit()
        before = counts(session)

        def apply_rows(session_, rows, batch):
            services._insert_rows(session_, services.require(reviewer, "aid.persons.write"), rows, batch.id)

        with pytest.raises(Conflict) as refused:
            imports.apply_once(session, services.IMPORT_KIND, parsed, apply_rows, reviewer.id)
        assert "nothing was imported" in refused.value.message
        session.rollback()
        assert counts(session) == before
        assert session.scalar(sa.select(Person.id).where(Person.resident_id == HEAD)) is None
