"""Care vendors and their caregivers: the credit code's check character, the worker list and its
import (all rows or none, every bad row named), and each vendor seeing only its own."""
from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from ledger.aid.demo import demo_resident_id
from ledger.auth.models import Organisation, User
from ledger.errors import Forbidden, NotFound, ValidationError
from ledger.extensions import db
from ledger.imports import ImportHasErrors
from ledger.timeutil import local_today
from ledger.vendors.demo import DEMO_TERMS
from ledger.vendors.models import Contract, VendorProfile, VendorStatus, Worker
from ledger.vendors.services import contracts, vendors
from ledger.vendors.services.vendors import CreditCodeTaken, VendorInput, WorkerInput, WorkerNumberTaken

#: Real-shaped codes whose GB 32100 check character is right (python-stdnum computes the same).
GOOD_CREDIT_CODE = "91370800MA3C5K7U5M"  # the demo's first vendor
NEW_CREDIT_CODE = "91110000802100433B"


def user(username):
    return db.session.scalar(sa.select(User).where(User.username == username))


def vendor(code):
    return db.session.scalar(sa.select(VendorProfile).join(Organisation).where(Organisation.code == code))


def worker_id(number=7, born=date(1980, 4, 2)):
    return demo_resident_id("370827", born, number, False)


def wrong_check(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def test_the_credit_code_is_checked_by_its_gb_32100_check_character(demo_app):
    with demo_app.app_context():
        finance = user("finance")
        with pytest.raises(ValidationError) as refused:
            vendors.create_vendor(db.session, finance, VendorInput(name="济宁仁爱照护中心",
                                                                  credit_code=wrong_check(NEW_CREDIT_CODE)))
        assert list(refused.value.fields) == ["credit_code"]
        assert "unified social credit code" in refused.value.fields["credit_code"][0]
        with pytest.raises(CreditCodeTaken):
            vendors.create_vendor(db.session, finance, VendorInput(name="重名机构", credit_code=GOOD_CREDIT_CODE))
        created = vendors.create_vendor(db.session, finance, VendorInput(
            name="济宁仁爱照护中心", credit_code=NEW_CREDIT_CODE.lower(), contact_name="赵主任",
            contact_phone="0537-1234567", bank_name="中国银行济宁分行", bank_account_number="6217 0000 1234 5678 9",
            bank_account_holder="济宁仁爱照护中心"))
        assert created.organisation.code == "HL-370800-04"
        assert created.organisation.credit_code == NEW_CREDIT_CODE
        assert created.bank_account_number == "62170000123456789"
        assert VendorStatus(created.status) == VendorStatus.active


def test_a_vendor_is_suspended_and_its_drafts_cannot_be_activated(demo_app):
    with demo_app.app_context():
        third = vendor("HL-370800-03")
        vendors.set_vendor_status(db.session, user("admin"), third.id, "suspended", reason="年检未通过")
        year = local_today().year
        draft = contracts.create_contract(db.session, user("finance"), third.id, "370811", date(year, 1, 1),
                                          date(year, 12, 31), DEMO_TERMS)
        with pytest.raises(contracts.VendorSuspended):
            contracts.activate_contract(db.session, user("finance"), draft.id)


def test_a_worker_is_added_once_per_number_with_a_checked_resident_id(demo_app):
    with demo_app.app_context():
        own = vendor("HL-370800-01")
        me = user("vendor")
        data = WorkerInput(worker_number="N001", name="刘桂英", resident_id=worker_id(), active_from=date(2026, 3, 1),
                           phone="13800000000")
        worker = vendors.add_worker(db.session, me, own.id, data)
        assert (worker.vendor_id, worker.worker_number) == (own.id, "N001")
        with pytest.raises(WorkerNumberTaken):
            vendors.add_worker(db.session, me, own.id, data)
        with pytest.raises(ValidationError) as refused:
            vendors.add_worker(db.session, me, own.id, WorkerInput(
                worker_number="N002", name="刘桂英", resident_id=wrong_check(worker_id()),
                active_from=date(2026, 3, 1), active_to=date(2026, 2, 1)))
        assert set(refused.value.fields) == {"resident_id", "active_to"}
        # Another vendor may use the same number: numbers are per vendor.
        other = vendor("HL-370800-02")
        assert vendors.add_worker(db.session, user("admin"), other.id, data).vendor_id == other.id


def test_a_vendor_sees_only_its_own_vendor_workers_and_contracts(demo_app):
    with demo_app.app_context():
        me, own, other = user("vendor"), vendor("HL-370800-01"), vendor("HL-370800-02")
        assert [profile.id for profile in vendors.list_vendors(db.session, me)] == [own.id]
        assert vendors.get_vendor(db.session, me, own.id).id == own.id
        with pytest.raises(NotFound):
            vendors.get_vendor(db.session, me, other.id)
        their_worker = db.session.scalar(sa.select(Worker.id).where(Worker.vendor_id == other.id).limit(1))
        our_worker = db.session.scalar(sa.select(Worker.id).where(Worker.vendor_id == own.id).limit(1))
        assert vendors.get_worker(db.session, me, our_worker).vendor_id == own.id
        with pytest.raises(NotFound):
            vendors.get_worker(db.session, me, their_worker)
        with pytest.raises(NotFound):
            vendors.list_workers(db.session, me, other.id)
        with pytest.raises(NotFound):
            vendors.add_worker(db.session, me, other.id, WorkerInput("X1", "张三", worker_id(), date(2026, 1, 1)))
        their_contract = db.session.scalar(sa.select(Contract.id).where(Contract.vendor_id == other.id).limit(1))
        with pytest.raises(NotFound):
            contracts.get_contract(db.session, me, their_contract)
        listed = contracts.list_contracts(db.session, me)
        assert listed.total == 4 and {contract.vendor_id for contract in listed.items} == {own.id}
        # A county reviewer reads its county's contracts (two vendors serve Yutai); the city reviewer all twelve.
        yutai = contracts.list_contracts(db.session, user("reviewer_yutai"))
        assert {contract.number.split("-")[2] for contract in yutai.items} == {"370827"} and yutai.total == 2
        assert contracts.list_contracts(db.session, user("reviewer")).total == 12
        rencheng = db.session.scalar(sa.select(Contract.id).where(Contract.number.like("HT-%-370811-%")))
        with pytest.raises(NotFound):
            contracts.get_contract(db.session, user("reviewer_yutai"), rencheng)
        # Charities have no business with vendors.
        with pytest.raises(Forbidden):
            vendors.list_vendors(db.session, user("charity_yutai"))


def _csv(rows, header="工号,姓名,身份证号,联系电话,上岗日期,离岗日期") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def test_a_worker_file_with_bad_rows_imports_nothing_and_names_each_row(demo_app):
    with demo_app.app_context():
        own, me = vendor("HL-370800-01"), user("vendor")
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Worker))
        data = _csv([
            f"W001,王秀兰,{worker_id(11)},13900000001,2026-01-01,",
            f"W002,李红,{wrong_check(worker_id(12))},13900000002,2026-01-01,",   # row 3: check digit
            f"W001,赵敏,{worker_id(13)},13900000003,2026-01-01,",               # row 4: number twice in the file
            f"G1001,孙丽,{worker_id(14)},13900000004,2026-01-01,",              # row 5: the vendor has G1001
            f"W005,周静,{worker_id(15)},13900000005,2026-05-01,2026-04-01",      # row 6: ends before it starts
            f"W006,,{worker_id(16)},13900000006,2026-01-01,",                   # row 7: no name
        ])
        parsed = vendors.preview_worker_import(db.session, me, own.id, data, "护理员.csv")
        assert {(error.row_number, error.key) for error in parsed.errors} == {
            (3, "resident_id"), (4, "worker_number"), (5, "worker_number"), (6, "active_to"), (7, "name")}
        bad_id = next(error for error in parsed.errors if error.key == "resident_id")
        assert "*" in bad_id.value  # masked in the refusal
        with pytest.raises(ImportHasErrors) as refused:
            vendors.apply_worker_import(db.session, me, own.id, data, "护理员.csv")
        assert len(refused.value.details["row_errors"]) == 5
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Worker)) == before


def test_a_clean_worker_file_is_imported_whole_and_once(demo_app):
    with demo_app.app_context():
        own, me = vendor("HL-370800-01"), user("vendor")
        data = _csv([f"W{index:03d},护理员{index},{worker_id(20 + index)},1390000{index:04d},2026/01/0{index}," for index
                     in range(1, 6)], header="Worker number,Name,Resident ID,Phone,Active from,Active to")
        parsed, outcome = vendors.apply_worker_import(db.session, me, own.id, data, "workers.csv")
        assert outcome.applied_now and parsed.ok and outcome.batch.row_count == 5
        imported = list(db.session.scalars(sa.select(Worker).where(Worker.import_batch_id == outcome.batch.id)))
        assert sorted(worker.worker_number for worker in imported) == ["W001", "W002", "W003", "W004", "W005"]
        assert all(worker.vendor_id == own.id for worker in imported)
        assert imported[0].active_from.year == 2026 and imported[0].active_to is None
        again, second = vendors.apply_worker_import(db.session, me, own.id, data, "workers.csv")
        assert not second.applied_now and second.batch.id == outcome.batch.id
        # The same file is another vendor's own import (numbers are per vendor).
        other = vendor("HL-370800-02")
        _parsed, theirs = vendors.apply_worker_import(db.session, user("admin"), other.id, data, "workers.csv")
        assert theirs.applied_now


def test_a_worker_file_as_xlsx_reads_the_same(demo_app):
    from openpyxl import Workbook

    with demo_app.app_context():
        own, me = vendor("HL-370800-01"), user("vendor")
        book = Workbook()
        sheet = book.active
        sheet.append(["工号", "姓名", "身份证号", "上岗日期"])
        sheet.append(["X001", "钱芳", worker_id(41), date(2026, 2, 1)])
        sheet.append(["X002", "吴静", wrong_check(worker_id(42)), date(2026, 2, 1)])
        buffer = io.BytesIO()
        book.save(buffer)
        parsed = vendors.preview_worker_import(db.session, me, own.id, buffer.getvalue(), "workers.xlsx")
        assert parsed.file_type == "xlsx" and [(e.row_number, e.key) for e in parsed.errors] == [(3, "resident_id")]
