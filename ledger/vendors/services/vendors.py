"""Care vendors (第三方照护机构) and their caregivers: profiles, workers, the worker import.

Who sees what (one rule, `vendor_scope`): a vendor user sees its own vendor only, whoever asks
for another answers 404 as if it did not exist; admins, auditors, finance and reviewers see every
vendor (the city buys from them all). Admin and finance register vendors and change their
profile and status; a vendor keeps its own caregiver list (the administrator may too).

A vendor is an `Organisation` of kind vendor (name, unified social credit code checked with its
GB 32100 check character by `ledger.identity`), with a `VendorProfile`. Workers are numbered by
their vendor (`worker_number`, unique per vendor, by the database too); their resident IDs are
checked by `ledger.identity` and masked wherever they are listed, as are bank account numbers.

A worker file (CSV / XLSX, `WORKER_SCHEMA`) goes through `ledger.imports`: a preview that writes
nothing, then all rows or none, each file once per vendor, every bad row named with its column.

Services flush, never commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ... import imports
from ...aid.services import NAME_MAX, check_bank_account, check_name, check_phone
from ...audit import record_event
from ...auth.access import Actor, require
from ...auth.models import Organisation, OrganisationKind, Region, RegionLevel
from ...errors import Conflict, NotFound, ValidationError, _l
from ...identity import mask_id_number, validate_credit_code, validate_resident_id
from ...paging import Page
from ...timeutil import utcnow
from ..models import RECORD_ID_MAX, VendorProfile, VendorStatus, Worker

ORGANISATION_NAME_MAX = 200
BANK_NAME_MAX = 100
WORKER_NUMBER_MAX = 30
VENDOR_CODE_PREFIX = "HL-"


class CreditCodeTaken(Conflict):
    """Another organisation already has this unified social credit code.

    Rule: one organisation per credit code, so that one vendor is never registered twice."""

    code = "credit_code_taken"


class WorkerNumberTaken(Conflict):
    """This vendor already has a worker with this number.

    Rule: a worker number is unique within its vendor (`uq_care_workers_vendor_worker_number`)."""

    code = "worker_number_taken"


@dataclass(frozen=True)
class VendorInput:
    name: str
    credit_code: str
    contact_name: str = ""
    contact_phone: str = ""
    bank_name: str = ""
    bank_account_number: str = ""
    bank_account_holder: str = ""


@dataclass(frozen=True)
class WorkerInput:
    worker_number: str
    name: str
    resident_id: str
    active_from: date
    phone: str = ""
    active_to: date | None = None


# --- scope -----------------------------------------------------------------------------------------

def vendor_scope(actor: Actor):
    """A SQL condition on VendorProfile for what the actor may see: a vendor user its own vendor."""
    if actor.is_partner:
        return VendorProfile.organisation_id == actor.organisation_id
    return sa.true()


def own_vendor_ids(actor: Actor):
    """The vendor ids of the actor's sight, as a subquery (for the scope clauses of other tables)."""
    return sa.select(VendorProfile.id).where(vendor_scope(actor))


def get_vendor(session, who, vendor_id: int) -> VendorProfile:
    """The vendor, if the actor may see it; NotFound (404) otherwise, as for no such vendor."""
    actor = require(who, "care.vendors.read")
    vendor = None
    if 1 <= vendor_id <= RECORD_ID_MAX:  # beyond it no vendor, and no query (the column is INTEGER)
        vendor = session.scalar(sa.select(VendorProfile).where(VendorProfile.id == vendor_id, vendor_scope(actor)))
    if vendor is None:
        raise NotFound(_l("no vendor %(id)s", id=vendor_id))
    return vendor


def list_vendors(session, who) -> list[VendorProfile]:
    """The vendors in sight, by their organisation's code."""
    actor = require(who, "care.vendors.read")
    return list(session.scalars(sa.select(VendorProfile).join(Organisation)
                                .where(vendor_scope(actor)).order_by(Organisation.code)))


# --- vendors ----------------------------------------------------------------------------------------

def _checked_vendor(data: VendorInput) -> dict:
    errors: dict[str, list] = {}
    values: dict = {}

    def field(name, check, value):
        try:
            values[name] = check(value)
        except ValueError as error:  # IdentityNumberError is one
            errors[name] = [str(error)]

    field("name", lambda value: check_name(value, ORGANISATION_NAME_MAX), data.name)
    field("credit_code", validate_credit_code, (data.credit_code or "").strip().upper())
    field("contact_name", lambda value: check_name(value, NAME_MAX, required=False), data.contact_name)
    field("contact_phone", check_phone, data.contact_phone)
    field("bank_name", lambda value: check_name(value, BANK_NAME_MAX, required=False), data.bank_name)
    field("bank_account_number", check_bank_account, data.bank_account_number)
    field("bank_account_holder", lambda value: check_name(value, ORGANISATION_NAME_MAX, required=False),
          data.bank_account_holder)
    if values.get("bank_account_number") and not (values.get("bank_name") and values.get("bank_account_holder")):
        errors.setdefault("bank_account_number", []).append(_l("a bank account needs its bank and its holder too"))
    if errors:
        raise ValidationError(_l("Some fields are invalid."), fields=errors)
    return values


def _refuse_taken_credit_code(session, credit_code: str, organisation_id: int | None = None) -> None:
    other = session.scalar(sa.select(Organisation.id).where(Organisation.credit_code == credit_code,
                                                            Organisation.id != (organisation_id or 0)))
    if other is not None:
        raise CreditCodeTaken(fields={"credit_code": [_l("another organisation has this credit code")]})


def _next_vendor_code(session, city_code: str) -> str:
    prefix = f"{VENDOR_CODE_PREFIX}{city_code}-"
    codes = session.scalars(sa.select(Organisation.code).where(Organisation.code.like(prefix + "%")))
    numbers = [int(code[len(prefix):]) for code in codes if code[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:02d}"


def create_vendor(session, who, data: VendorInput) -> VendorProfile:
    """Register a vendor: its organisation (kind vendor, city-wide, code HL-370800-NN) and profile."""
    actor = require(who, "care.vendors.write")
    values = _checked_vendor(data)
    _refuse_taken_credit_code(session, values["credit_code"])
    city = session.scalar(sa.select(Region).where(Region.level == RegionLevel.city))
    organisation = Organisation(code=_next_vendor_code(session, city.code), name=values["name"],
                                kind=OrganisationKind.vendor, region_id=city.id, credit_code=values["credit_code"],
                                created_at=utcnow())
    session.add(organisation)
    session.flush()
    vendor = _new_profile(organisation, values)
    session.add(vendor)
    session.flush()
    record_event(session, actor.user_id, "care.vendor.create", organisation.code, vendor_id=vendor.id)
    return vendor


def _new_profile(organisation: Organisation, values: dict) -> VendorProfile:
    now = utcnow()
    return VendorProfile(organisation_id=organisation.id, contact_name=values["contact_name"],
                         contact_phone=values["contact_phone"], bank_name=values["bank_name"],
                         bank_account_number=values["bank_account_number"],
                         bank_account_holder=values["bank_account_holder"], status=VendorStatus.active,
                         created_at=now, updated_at=now)


def ensure_profile(session, organisation: Organisation, data: VendorInput) -> VendorProfile:
    """The profile of an existing vendor organisation, created from `data` when it has none
    (system set-up: the demo's vendors). Flushes."""
    vendor = session.scalar(sa.select(VendorProfile).where(VendorProfile.organisation_id == organisation.id))
    if vendor is None:
        vendor = _new_profile(organisation, _checked_vendor(data))
        session.add(vendor)
        session.flush()
    return vendor


def update_vendor(session, who, vendor_id: int, data: VendorInput) -> VendorProfile:
    """Change a vendor's name, credit code, contact and bank account (audited)."""
    actor = require(who, "care.vendors.write")
    vendor = get_vendor(session, actor, vendor_id)
    values = _checked_vendor(data)
    _refuse_taken_credit_code(session, values["credit_code"], vendor.organisation_id)
    organisation = vendor.organisation
    organisation.name, organisation.credit_code = values["name"], values["credit_code"]
    for name in ("contact_name", "contact_phone", "bank_name", "bank_account_number", "bank_account_holder"):
        setattr(vendor, name, values[name])
    vendor.updated_at = utcnow()
    session.flush()
    record_event(session, actor.user_id, "care.vendor.update", organisation.code, vendor_id=vendor.id)
    return vendor


def set_vendor_status(session, who, vendor_id: int, status: VendorStatus | str, *, reason: str = "") -> VendorProfile:
    """Suspend a vendor or make it active again (audited, with the reason). A suspended vendor's
    draft contracts cannot be activated."""
    actor = require(who, "care.vendors.write")
    vendor = get_vendor(session, actor, vendor_id)
    status = VendorStatus(status)
    reason = check_name(reason, 500, required=False)
    before = VendorStatus(vendor.status)
    if before != status:
        vendor.status, vendor.updated_at = status, utcnow()
        session.flush()
        record_event(session, actor.user_id, "care.vendor.status", vendor.organisation.code,
                     **{"from": before.value, "to": status.value, "reason": reason})
    return vendor


# --- workers ----------------------------------------------------------------------------------------

def check_worker_number(value: str) -> str:
    value = check_name(value, WORKER_NUMBER_MAX)
    if any(character.isspace() for character in value):
        raise ValueError(_l("a worker number holds no spaces"))
    return value


def _checked_worker(data: WorkerInput) -> tuple[dict, dict]:
    errors: dict[str, list] = {}
    values: dict = {}

    def field(name, check, value):
        try:
            values[name] = check(value)
        except ValueError as error:
            errors[name] = [str(error)]

    field("worker_number", check_worker_number, data.worker_number)
    field("name", check_name, data.name)
    field("resident_id", validate_resident_id, data.resident_id)
    field("phone", check_phone, data.phone)
    values["active_from"], values["active_to"] = data.active_from, data.active_to
    if not isinstance(data.active_from, date):
        errors["active_from"] = [_l("say from which day the worker works")]
    elif data.active_to is not None and data.active_to < data.active_from:
        errors["active_to"] = [_l("ends before it starts")]
    return values, errors


def add_worker(session, who, vendor_id: int, data: WorkerInput) -> Worker:
    """Add a caregiver to a vendor's list; WorkerNumberTaken when the vendor has the number already."""
    actor = require(who, "care.workers.write")
    vendor = get_vendor(session, actor, vendor_id)
    values, errors = _checked_worker(data)
    if errors:
        raise ValidationError(_l("Some fields are invalid."), fields=errors)
    taken = session.scalar(sa.select(Worker.id).where(Worker.vendor_id == vendor.id,
                                                      Worker.worker_number == values["worker_number"]))
    if taken is not None:
        raise WorkerNumberTaken(fields={"worker_number": [_l("this vendor has a worker with this number already")]})
    worker = Worker(vendor_id=vendor.id, created_at=utcnow(), **values)
    session.add(worker)
    session.flush()
    return worker


def get_worker(session, who, worker_id: int) -> Worker:
    """The worker, if the actor may see its vendor; NotFound (404) otherwise."""
    actor = require(who, "care.vendors.read")
    worker = session.scalar(sa.select(Worker).where(Worker.id == worker_id, Worker.vendor_id.in_(own_vendor_ids(actor))))
    if worker is None:
        raise NotFound(_l("no worker %(id)s", id=worker_id))
    return worker


def list_workers(session, who, vendor_id: int, *, page: int = 1, per_page: int = 50) -> Page:
    """A vendor's workers by number."""
    vendor = get_vendor(session, who, vendor_id)
    where = Worker.vendor_id == vendor.id
    total = session.scalar(sa.select(sa.func.count()).select_from(Worker).where(where))
    items = list(session.scalars(sa.select(Worker).where(where).order_by(Worker.worker_number)
                                 .offset((page - 1) * per_page).limit(per_page)))
    return Page(items, page, per_page, total)


def active_worker_count(session, vendor_id: int, day: date) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Worker).where(
        Worker.vendor_id == vendor_id, Worker.active_from <= day,
        sa.or_(Worker.active_to.is_(None), Worker.active_to >= day))) or 0


# --- the worker import --------------------------------------------------------------------------------

def _checked_cell(check):
    def parse(value):
        return check(str(value))

    return parse


WORKER_SCHEMA = imports.RowSchema([
    imports.Column("worker_number", "Worker number", "工号", _checked_cell(check_worker_number),
                   aliases=("护理员编号", "员工编号", "编号")),
    imports.Column("name", "Name", "姓名", _checked_cell(check_name)),
    imports.Column("resident_id", "Resident ID", "身份证号", imports.resident_id(),
                   aliases=("居民身份证号", "公民身份号码", "身份证号码", "resident id number")),
    imports.Column("phone", "Phone", "联系电话", _checked_cell(check_phone), required=False, default="",
                   aliases=("电话", "手机号")),
    imports.Column("active_from", "Active from", "上岗日期", imports.local_date(), aliases=("入职日期", "起始日期")),
    imports.Column("active_to", "Active to", "离岗日期", imports.local_date(), required=False,
                   aliases=("离职日期", "截止日期")),
])


def import_kind(vendor_id: int) -> str:
    """The import's kind per vendor: the same file may be each vendor's, once each."""
    return f"care_workers:{vendor_id}"


def _worker_checks(session, vendor: VendorProfile):
    def dates(rows):
        return [imports.RowError(row.row_number, "active_to", row["active_to"].isoformat(), "ends before it starts")
                for row in rows if row.get("active_to") is not None and row["active_to"] < row["active_from"]]

    def taken(values):
        return session.scalars(sa.select(Worker.worker_number).where(Worker.vendor_id == vendor.id,
                                                                      Worker.worker_number.in_(values)))

    return [imports.duplicates_within_file("worker_number", message="the same worker number as row {first}"),
            imports.registry_conflicts("worker_number", taken, message="this vendor has a worker with this number"),
            dates]


def _masked(parsed: imports.ParsedImport) -> imports.ParsedImport:
    for index, error in enumerate(parsed.errors):
        if error.key == "resident_id" and isinstance(error.value, str) and "*" not in error.value:
            parsed.errors[index] = error._replace(value=mask_id_number(error.value))
    return parsed


def preview_worker_import(session, who, vendor_id: int, data: bytes, filename: str = "") -> imports.ParsedImport:
    """Read and check a worker file for a vendor; nothing is written."""
    actor = require(who, "care.workers.write")
    vendor = get_vendor(session, actor, vendor_id)
    return _masked(imports.preview(data, WORKER_SCHEMA, filename=filename, checks=_worker_checks(session, vendor)))


def worker_file_imported(session, vendor_id: int, sha256: str) -> imports.ImportBatch | None:
    return session.scalar(sa.select(imports.ImportBatch).where(imports.ImportBatch.kind == import_kind(vendor_id),
                                                               imports.ImportBatch.sha256 == sha256))


def apply_worker_import(session, who, vendor_id: int, data: bytes, filename: str = ""
                        ) -> tuple[imports.ParsedImport, imports.ApplyOutcome]:
    """Import a worker file all or nothing, at most once per vendor: any bad row refuses the whole
    file (`ImportHasErrors`, each error with its row, column and reason) and nothing is written."""
    actor = require(who, "care.workers.write")
    vendor = get_vendor(session, actor, vendor_id)
    parsed = _masked(imports.preview(data, WORKER_SCHEMA, filename=filename, checks=_worker_checks(session, vendor)))
    previous = worker_file_imported(session, vendor.id, parsed.sha256)
    if previous is not None:
        return parsed, imports.ApplyOutcome(previous, False)

    def apply_rows(session_, rows, batch):
        now = utcnow()
        session_.execute(sa.insert(Worker.__table__), [
            dict(vendor_id=vendor.id, worker_number=row["worker_number"], name=row["name"],
                 resident_id=row["resident_id"], phone=row.get("phone") or "", active_from=row["active_from"],
                 active_to=row.get("active_to"), import_batch_id=batch.id, created_at=now) for row in rows])

    return parsed, imports.apply_once(session, import_kind(vendor.id), parsed, apply_rows, actor.user_id)

