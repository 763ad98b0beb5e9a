"""Supported persons under home care: their self-care assessments, status history and vendor
assignments; the list, the person, the three recordings, the import.

Every operation starts with `require(actor, ...)` and reads through `supported_scope(actor)`, so a
person outside the actor's sight is not found (404), whoever calls (web, API, CLI, tests).

Who sees whom (the one rule, `supported_scope`):

* admins, auditors, finance and city reviewers: every person;
* a county reviewer: the persons living in that county;
* a vendor user: the persons its vendor cares for or has cared for (an assignment that has begun);
  of their assignments, only its own;
* charity users: nobody (they hold no `care.persons.*` permission: 403).

Effective-dated history, read the same way everywhere:

* the care level on a day is the level of the latest assessment on or before it
  (`care_level_on`); before the first assessment there is none;
* the status on a day is the latest status change on or before it (`status_on`);
* the vendor on a day is the assignment whose [valid_from, valid_to] holds the day
  (`assignment_on`); the database refuses two on one day (migration 0015).

A reassignment from a day ends the assignment running then on the day before and starts the new
one on that day, in one transaction: the old vendor keeps the days it cared, the new one gets the
rest, and no day has two vendors or falls between them.

Services flush, never commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import aliased, object_session, selectinload

from .. import imports
from ..aid.services import check_name, check_phone, county_in_sight, person_search, village_check
from ..audit import record_event
from ..auth.access import Actor, require
from ..auth.models import Organisation, OrganisationKind, Region
from ..db_base import dialect_insert, insert_rows
from ..errors import Conflict, NotFound, ValidationError, _l
from ..identity import mask_id_number, resident_id_birth_date
from ..paging import Page
from ..statemachine import StateMachine
from ..timeutil import local_today, utcnow
from .models import Contract, VendorProfile
from .person_models import (ACTIVITIES, CareAssessment, CareAssignment, CareLevel, SupportedPerson,
                            SupportedStatus, SupportedStatusChange)
from .services.contracts import contract_on

IMPORT_KIND = "care_persons"
ADDRESS_MAX = 200
NOTE_MAX = 200
SEARCH_MAX = 50
#: Unable in this many of the six activities or more: fully disabled (全失能).
FULLY_DISABLED_FROM = 4


class AssignmentOverlap(Conflict):
    """The person has another vendor assignment on one of these days: end it first, or reassign from a later day.

    Rule: a person has exactly one vendor on any day they are in care; the database refuses a
    second one (an exclusion constraint on PostgreSQL, a trigger on SQLite)."""

    code = "assignment_overlap"


class StatusOutOfOrder(ValidationError):
    """A status change must be dated after the person's latest one.

    Rule: the status history is read as "the latest change on or before the day"; a change dated
    before the latest would rewrite what the later one already says."""

    code = "status_out_of_order"


#: The person's status as a state machine over the latest change: each move appends a change.
STATUS_MACHINE = StateMachine(
    name="supported_person", states=SupportedStatus, column="status",
    transitions={
        (SupportedStatus.active, "institutionalise"): SupportedStatus.in_institution,
        (SupportedStatus.active, "decease"): SupportedStatus.deceased,
        (SupportedStatus.active, "relocate"): SupportedStatus.moved_out,
        (SupportedStatus.in_institution, "reactivate"): SupportedStatus.active,
        (SupportedStatus.in_institution, "decease"): SupportedStatus.deceased,
        (SupportedStatus.in_institution, "relocate"): SupportedStatus.moved_out,
        (SupportedStatus.moved_out, "reactivate"): SupportedStatus.active,
    })
ACTION_TO = {target: action for (_source, action), target in STATUS_MACHINE.transitions.items()}


# --- the assessment's rule -------------------------------------------------------------------------

def care_level_from_answers(answers: dict[str, bool]) -> CareLevel:
    """The care level the six answers give (True: able): all able -> self-caring (全自理), 1-3 unable ->
    partly disabled (半失能), 4 or more -> fully disabled (全失能). The CHECK `level_from_answers`
    of migration 0015 is the same rule in SQL."""
    missing = [name for name in ACTIVITIES if name not in answers]
    if missing:
        raise ValueError(f"unanswered: {', '.join(missing)}")
    unable = sum(1 for name in ACTIVITIES if not answers[name])
    if unable == 0:
        return CareLevel.self_caring
    if unable < FULLY_DISABLED_FROM:
        return CareLevel.partly_disabled
    return CareLevel.fully_disabled


# --- effective-dated reads (for the other services: visits, invoices) ------------------------------

def _session_of(person: SupportedPerson):
    session = object_session(person)
    assert session is not None, "a supported person read through a session"
    return session


def assessment_on(person: SupportedPerson, day: date) -> CareAssessment | None:
    """The assessment in force on `day`: the latest on or before it."""
    return _session_of(person).scalar(
        sa.select(CareAssessment).where(CareAssessment.person_id == person.id, CareAssessment.assessed_on <= day)
        .order_by(CareAssessment.assessed_on.desc(), CareAssessment.id.desc()).limit(1))


def care_level_on(person: SupportedPerson, day: date) -> CareLevel | None:
    """The person's care level on `day` (None before their first assessment)."""
    assessment = assessment_on(person, day)
    return CareLevel(assessment.care_level) if assessment is not None else None


def status_on(person: SupportedPerson, day: date) -> SupportedStatus | None:
    """The person's status on `day` (None before they entered the programme)."""
    status = _session_of(person).scalar(
        sa.select(SupportedStatusChange.status).where(SupportedStatusChange.person_id == person.id,
                                                      SupportedStatusChange.effective_on <= day)
        .order_by(SupportedStatusChange.effective_on.desc(), SupportedStatusChange.id.desc()).limit(1))
    return SupportedStatus(status) if status is not None else None


def assignment_on(person: SupportedPerson, day: date) -> CareAssignment | None:
    """The vendor assignment that holds `day` (at most one: the database sees to it)."""
    return _session_of(person).scalar(
        sa.select(CareAssignment).where(CareAssignment.person_id == person.id, CareAssignment.valid_from <= day,
                                        sa.or_(CareAssignment.valid_to.is_(None), CareAssignment.valid_to >= day)))


# --- scope -----------------------------------------------------------------------------------------

def _vendor_assigned(vendor_id: int):
    assignment = aliased(CareAssignment)  # the list joins today's assignment as well
    return sa.exists(sa.select(assignment.id).where(
        assignment.person_id == SupportedPerson.id, assignment.vendor_id == vendor_id,
        assignment.valid_from <= local_today()).correlate(SupportedPerson))


def supported_scope(actor: Actor):
    """A SQL condition on SupportedPerson for what the actor may see (see the module docstring)."""
    if actor.is_partner:
        return _vendor_assigned(actor.organisation_id) if actor.organisation_kind == OrganisationKind.vendor \
            else sa.false()
    if actor.city_wide:
        return sa.true()
    return SupportedPerson.county_id == actor.county_id


def _person_in_sight(session, actor: Actor, person_id: int, *, for_update: bool = False) -> SupportedPerson:
    query = sa.select(SupportedPerson).where(SupportedPerson.id == person_id, supported_scope(actor))
    person = session.scalar(query.with_for_update() if for_update else query.options(
        selectinload(SupportedPerson.region), selectinload(SupportedPerson.county)))
    if person is None:
        raise NotFound(f"no supported person {person_id}")
    return person


def get_supported_person(session, who, person_id: int) -> SupportedPerson:
    """The person, if the actor may see them; NotFound (404) otherwise, as for no such person."""
    return _person_in_sight(session, require(who, "care.persons.read"), person_id)


@dataclass(frozen=True)
class PersonHistory:
    """A person's page: their assessments, status changes and the assignments the actor may see."""

    person: SupportedPerson
    assessments: list
    statuses: list
    assignments: list
    care_level: CareLevel | None
    status: SupportedStatus | None
    assignment: CareAssignment | None


def person_history(session, who, person_id: int) -> PersonHistory:
    actor = require(who, "care.persons.read")
    person = get_supported_person(session, actor, person_id)
    assignments = sa.select(CareAssignment).where(CareAssignment.person_id == person.id) \
        .options(selectinload(CareAssignment.vendor)).order_by(CareAssignment.valid_from.desc())
    if actor.is_partner:
        assignments = assignments.where(CareAssignment.vendor_id == actor.organisation_id)
    today = local_today()
    current = assignment_on(person, today)
    if current is not None and actor.is_partner and current.vendor_id != actor.organisation_id:
        current = None
    return PersonHistory(
        person=person,
        assessments=list(session.scalars(sa.select(CareAssessment).where(CareAssessment.person_id == person.id)
                                         .order_by(CareAssessment.assessed_on.desc(), CareAssessment.id.desc()))),
        statuses=list(session.scalars(sa.select(SupportedStatusChange)
                                      .where(SupportedStatusChange.person_id == person.id)
                                      .order_by(SupportedStatusChange.effective_on.desc(),
                                                SupportedStatusChange.id.desc()))),
        assignments=list(session.scalars(assignments)),
        care_level=care_level_on(person, today), status=status_on(person, today), assignment=current)


@dataclass(frozen=True)
class ListedPerson:
    person: SupportedPerson
    care_level: CareLevel | None
    status: SupportedStatus | None
    vendor_name: str | None


def _latest(model, date_column, value_column, day: date):
    """Per person, the value of the latest row of `model` on or before `day` (a subquery)."""
    ranked = sa.select(model.person_id, value_column.label("value"), sa.func.row_number().over(
        partition_by=model.person_id, order_by=(date_column.desc(), model.id.desc())).label("rank")) \
        .where(date_column <= day).subquery()
    return sa.select(ranked.c.person_id, ranked.c.value).where(ranked.c.rank == 1).subquery()


def list_supported_persons(session, who, *, search: str = "", county_code: str | None = None,
                           care_level: CareLevel | None = None, page: int = 1, per_page: int = 50) -> Page:
    """Persons in sight, by county and name; `search` matches a name, the last digits of a resident
    ID or a whole one; `county_code` and `care_level` (today's) narrow the list. Items are
    `ListedPerson`s with today's level, status and (for a vendor: its own) vendor."""
    actor = require(who, "care.persons.read")
    today = local_today()
    conditions = [supported_scope(actor)]
    search = (search or "").strip()[:SEARCH_MAX]
    if search:
        conditions.append(person_search(search, SupportedPerson.name, SupportedPerson.resident_id))
    if county_code:  # a vendor may narrow its persons to any county (its scope still applies)
        conditions.append(SupportedPerson.county_id == county_in_sight(
            session, actor, county_code, lambda actor_, county_id: actor_.is_partner or
            actor_.city_wide or actor_.county_id == county_id))
    levels = _latest(CareAssessment, CareAssessment.assessed_on, CareAssessment.care_level, today)
    statuses = _latest(SupportedStatusChange, SupportedStatusChange.effective_on, SupportedStatusChange.status, today)
    current = sa.and_(CareAssignment.person_id == SupportedPerson.id, CareAssignment.valid_from <= today,
                      sa.or_(CareAssignment.valid_to.is_(None), CareAssignment.valid_to >= today))
    if actor.is_partner:
        current = sa.and_(current, CareAssignment.vendor_id == actor.organisation_id)
    if care_level is not None:
        conditions.append(levels.c.value == CareLevel(care_level).value)
    where = sa.and_(*conditions)
    base = sa.select(SupportedPerson.id).select_from(SupportedPerson) \
        .outerjoin(levels, levels.c.person_id == SupportedPerson.id).where(where)
    total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    query = (sa.select(SupportedPerson, levels.c.value, statuses.c.value, Organisation.name)
             .outerjoin(levels, levels.c.person_id == SupportedPerson.id)
             .outerjoin(statuses, statuses.c.person_id == SupportedPerson.id)
             .outerjoin(CareAssignment, current).outerjoin(Organisation, Organisation.id == CareAssignment.vendor_id)
             .where(where).options(selectinload(SupportedPerson.region), selectinload(SupportedPerson.county))
             .order_by(SupportedPerson.county_id, SupportedPerson.id).offset((page - 1) * per_page).limit(per_page))
    items = [ListedPerson(person, CareLevel(level) if level else None, SupportedStatus(status) if status else None,
                          vendor) for person, level, status, vendor in session.execute(query).all()]
    return Page(items, page, per_page, total)


def _writable_person(session, actor: Actor, person_id: int) -> SupportedPerson:
    """The person for a recording, locked so that two recordings of one person run one after the other."""
    return _person_in_sight(session, actor, person_id, for_update=True)


# --- recording an assessment -----------------------------------------------------------------------

@dataclass(frozen=True)
class AssessmentInput:
    assessed_on: date
    assessor: str
    answers: dict  # activity -> able (True) / unable (False)


def record_assessment(session, who, person_id: int, data: AssessmentInput) -> CareAssessment:
    """Record a self-care assessment; its level follows from the answers (`care_level_from_answers`)."""
    actor = require(who, "care.persons.write")
    person = _writable_person(session, actor, person_id)
    errors: dict[str, list] = {}
    try:
        assessor = check_name(data.assessor)
    except ValueError as error:
        errors["assessor"] = [str(error)]
    if data.assessed_on > local_today():
        errors["assessed_on"] = [_l("is in the future")]
    unanswered = [name for name in ACTIVITIES if not isinstance(data.answers.get(name), bool)]
    for name in unanswered:
        errors[name] = [_l("answer able or unable")]
    if errors:
        raise ValidationError("Some fields are invalid.", fields=errors)
    if session.scalar(sa.select(CareAssessment.id).where(CareAssessment.person_id == person.id,
                                                         CareAssessment.assessed_on == data.assessed_on)):
        raise ValidationError("Some fields are invalid.",
                              fields={"assessed_on": [_l("the person was assessed on this day already")]})
    level = care_level_from_answers(data.answers)
    assessment = CareAssessment(person_id=person.id, assessed_on=data.assessed_on, assessor=assessor,
                                care_level=level, recorded_by_user_id=actor.user_id,
                                **{f"{name}_able": data.answers[name] for name in ACTIVITIES})
    session.add(assessment)
    session.flush()
    return assessment


# --- recording a status change ---------------------------------------------------------------------

def record_status(session, who, person_id: int, status: SupportedStatus, effective_on: date,
                  note: str = "") -> SupportedStatusChange:
    """The person is in `status` from `effective_on`: a move of `STATUS_MACHINE` from the latest status
    (deceased is final), dated after the latest change, written to the audit log."""
    actor = require(who, "care.persons.write")
    person = _writable_person(session, actor, person_id)
    status = SupportedStatus(status)
    try:
        note = check_name(note, NOTE_MAX, required=False)
    except ValueError as error:
        raise ValidationError("Some fields are invalid.", fields={"note": [str(error)]}) from None
    if effective_on > local_today():
        raise ValidationError("Some fields are invalid.", fields={"effective_on": [_l("is in the future")]})
    latest = session.scalar(sa.select(SupportedStatusChange).where(SupportedStatusChange.person_id == person.id)
                            .order_by(SupportedStatusChange.effective_on.desc(),
                                      SupportedStatusChange.id.desc()).limit(1))
    if latest is not None and effective_on <= latest.effective_on:
        raise StatusOutOfOrder(fields={"effective_on": [
            _l("must be after %(day)s, the date of the latest change", day=latest.effective_on.isoformat())]})
    holder = SimpleNamespace(id=person.id, status=latest.status if latest is not None else SupportedStatus.active)
    action = ACTION_TO.get(status)
    if action is None or latest is None and status == SupportedStatus.active:
        raise ValidationError("Some fields are invalid.", fields={"status": [_l("is the person's status already")]})
    STATUS_MACHINE.move(session, holder, action, user_id=actor.user_id, target=f"care_person:{person.id}",
                        effective_on=effective_on.isoformat())
    change = SupportedStatusChange(person_id=person.id, status=holder.status, effective_on=effective_on, note=note,
                                   recorded_by_user_id=actor.user_id)
    session.add(change)
    session.flush()
    return change


# --- assigning a vendor ----------------------------------------------------------------------------

def vendor_choices(session, who) -> list[tuple[str, str]]:
    """(code, name) of the care vendors a person may be assigned to."""
    require(who, "care.persons.write")
    return [tuple(row) for row in session.execute(
        sa.select(Organisation.code, Organisation.name).where(Organisation.kind == OrganisationKind.vendor)
        .order_by(Organisation.code)).all()]


def contract_for(session, vendor_code: str, county_id: int, day: date) -> tuple[int, Contract] | None:
    """(vendor organisation id, contract) under which the vendor serves the county on `day`, if any."""
    vendor = session.execute(sa.select(Organisation.id, VendorProfile.id).join(
        VendorProfile, VendorProfile.organisation_id == Organisation.id).where(
        Organisation.code == (vendor_code or "").strip(), Organisation.kind == OrganisationKind.vendor)).first()
    if vendor is None:
        return None
    contract = contract_on(session, vendor[1], county_id, day)
    return (vendor[0], contract) if contract is not None else None


def reassign(session, who, person_id: int, vendor_code: str, valid_from: date) -> CareAssignment:
    """Assign the person to the vendor from `valid_from` on, under the vendor's contract for the person's
    county on that day: the assignment running on that day ends the day before (it keeps the days it
    cared); an assignment that starts on or after that day is refused (`AssignmentOverlap`): nothing is
    cancelled silently. A person not cared for at home on that day (in an institution, deceased, moved
    out, not yet in the programme) is not assigned."""
    actor = require(who, "care.persons.write")
    person = _writable_person(session, actor, person_id)
    later = session.scalar(sa.select(CareAssignment).where(CareAssignment.person_id == person.id,
                                                           CareAssignment.valid_from >= valid_from).limit(1))
    if later is not None:
        raise AssignmentOverlap(fields={"valid_from": [
            _l("an assignment starts on %(day)s; reassign from a later day", day=later.valid_from.isoformat())]})
    if status_on(person, valid_from) != SupportedStatus.active:
        raise ValidationError("Some fields are invalid.", fields={"valid_from": [
            _l("the person is not cared for at home on %(day)s", day=valid_from.isoformat())]})
    found = contract_for(session, vendor_code, person.county_id, valid_from)
    if found is None:
        raise ValidationError("Some fields are invalid.", fields={"vendor": [
            _l("this vendor has no contract in the person's county on %(day)s", day=valid_from.isoformat())]})
    vendor_id, contract = found
    running = assignment_on(person, valid_from)
    if running is not None:
        if running.vendor_id == vendor_id and running.contract_id == contract.id:
            raise ValidationError("Some fields are invalid.",
                                  fields={"vendor": [_l("the person is assigned to this vendor on that day already")]})
        running.valid_to = valid_from - timedelta(days=1)
        session.flush()  # the old one ends before the new one begins (the database checks each row)
    assignment = CareAssignment(person_id=person.id, vendor_id=vendor_id, contract_id=contract.id,
                                valid_from=valid_from, valid_to=None, recorded_by_user_id=actor.user_id)
    session.add(assignment)
    session.flush()
    record_event(session, actor.user_id, "supported_person.reassign", f"care_person:{person.id}",
                 vendor=vendor_code, contract=contract.number, valid_from=valid_from.isoformat(),
                 previous_assignment=running.id if running is not None else None)
    return assignment


# --- import ----------------------------------------------------------------------------------------

ABLE_LABELS = {True: ("able", "yes", "1", "能", "是", "自理", "可以", "√"),
               False: ("unable", "no", "0", "不能", "否", "不能自理", "不可以", "×")}
ACTIVITY_HEADERS = {
    "eating": ("Eating", "进食", ("吃饭",)),
    "dressing": ("Dressing", "穿衣", ()),
    "transferring": ("Getting in and out of bed", "上下床", ("transferring", "床椅转移")),
    "toileting": ("Toileting", "如厕", ("上厕所",)),
    "walking_indoors": ("Walking indoors", "室内行走", ("平地行走",)),
    "bathing": ("Bathing", "洗澡", ()),
}


def micro_degrees(limit: int):
    """A coordinate in decimal degrees (at most 6 decimals) -> integer millionths of a degree."""

    def parse_coordinate(value) -> int:
        text = str(value).strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise imports.CellError("must be a number of degrees such as 35.012345") from None
        if not number.is_finite() or number.as_tuple().exponent < -6:
            raise imports.CellError("must be a number of degrees with at most 6 decimals")
        if abs(number) > limit:
            raise imports.CellError(f"must be between -{limit} and {limit}")
        return int(number * 1_000_000)

    return parse_coordinate


def _name_cell(value):
    return check_name(str(value))


def _phone_cell(value):
    return check_phone(str(value))


PERSONS_SCHEMA = imports.RowSchema([
    imports.Column("name", "Name", "姓名", _name_cell),
    imports.Column("resident_id", "Resident ID", "身份证号", imports.resident_id(),
                   aliases=("居民身份证号", "公民身份号码", "身份证号码", "resident id number")),
    imports.Column("village_code", "Village code", "村（社区）代码", imports.text(20),
                   aliases=("村代码", "社区代码", "village")),
    imports.Column("address", "Address", "住址", imports.text(ADDRESS_MAX), required=False, default="",
                   aliases=("地址", "家庭住址")),
    imports.Column("latitude", "Latitude", "纬度", micro_degrees(90), required=False),
    imports.Column("longitude", "Longitude", "经度", micro_degrees(180), required=False),
    imports.Column("phone", "Phone", "联系电话", _phone_cell, required=False, default="", aliases=("电话", "手机号")),
    imports.Column("in_care_since", "In care since", "纳入日期", imports.local_date(), required=False,
                   aliases=("供养开始日期",)),
    imports.Column("vendor_code", "Vendor code", "照护机构代码", imports.text(40), required=False,
                   aliases=("机构代码",)),
    imports.Column("assessed_on", "Assessed on", "评估日期", imports.local_date(), required=False),
    imports.Column("assessor", "Assessor", "评估人", imports.text(100), required=False),
    *[imports.Column(key, english, chinese, imports.choice(ABLE_LABELS), required=False, aliases=aliases)
      for key, (english, chinese, aliases) in ACTIVITY_HEADERS.items()],
])


def _row_checks(session, actor: Actor):
    """The file-level checks: villages known and in the actor's county, an ID once in the file and
    not yet in the register, a vendor under contract in the county, an assessment whole (date,
    assessor, six answers) or absent."""

    def registered(values):
        return session.scalars(sa.select(SupportedPerson.resident_id).where(SupportedPerson.resident_id.in_(values)))

    def contracts(rows):
        """Each row's vendor has a contract in the row's county on the day the person comes into care;
        the (vendor, contract) found is kept on the row for the insert (one lookup per vendor, county, day)."""
        counties = dict(session.execute(sa.select(Region.code, Region.parent_id).where(
            Region.code.in_(sorted({row["village_code"] for row in rows})))).all())
        found, errors = {}, []
        for row in rows:
            if not row.get("vendor_code") or row["village_code"] not in counties:
                continue
            key = (row["vendor_code"], counties[row["village_code"]], row.get("in_care_since") or local_today())
            if key not in found:
                found[key] = contract_for(session, *key)
            if found[key] is None:
                errors.append(imports.RowError(row.row_number, "vendor_code", row["vendor_code"],
                                               "no contract of this vendor in the county on the day care begins"))
            else:
                row["vendor_contract"] = found[key]
        return errors

    def assessments(rows):
        errors = []
        today = local_today()
        for row in rows:
            given = [key for key in ("assessed_on", "assessor", *ACTIVITIES) if row.get(key) not in (None, "")]
            if given and len(given) < 2 + len(ACTIVITIES):
                missing = [key for key in ("assessed_on", "assessor", *ACTIVITIES) if key not in given]
                errors.extend(imports.RowError(row.row_number, key, None,
                                               "an assessment needs its date, assessor and all six answers")
                              for key in missing)
            elif given and row["assessed_on"] > today:
                errors.append(imports.RowError(row.row_number, "assessed_on", row["assessed_on"].isoformat(),
                                               "is in the future"))
        return errors

    return [village_check(session, actor),
            imports.duplicates_within_file("resident_id", message="the same resident ID as row {first}"),
            imports.registry_conflicts("resident_id", registered, message="is already registered"),
            contracts, assessments]


def _insert_rows(session, actor: Actor, rows: list[imports.Row], batch_id: int) -> None:
    """Write the checked rows with multi-row INSERTs: persons, their first status (active from the
    day they came into care), their assessments and their assignments. An ID registered by someone
    else since the checks is caught by the unique constraint and refuses the whole file."""
    villages = dict(session.execute(sa.select(Region.code, Region).where(
        Region.code.in_(sorted({row["village_code"] for row in rows})))).all())
    now, today = utcnow(), local_today()
    person_rows = [dict(
        name=row["name"], resident_id=row["resident_id"], born_on=resident_id_birth_date(row["resident_id"]),
        phone=row.get("phone") or "", address=row.get("address") or "", latitude_micro=row.get("latitude"),
        longitude_micro=row.get("longitude"), region_id=villages[row["village_code"]].id,
        county_id=villages[row["village_code"]].parent_id, import_batch_id=batch_id, created_at=now) for row in rows]
    ids = insert_supported_persons(session, person_rows)
    if len(ids) != len(rows):
        raise Conflict("a resident ID of the file was registered while the file was imported; nothing was imported",
                       fields={"resident_id": [_l("registered meanwhile")]})
    statuses, assessments_, assignments = [], [], []
    for person_id, row in zip(ids, rows):
        since = row.get("in_care_since") or today
        statuses.append(dict(person_id=person_id, status=SupportedStatus.active.value, effective_on=since, note="",
                             recorded_by_user_id=actor.user_id, created_at=now))
        if row.get("assessed_on"):
            answers = {name: row[name] for name in ACTIVITIES}
            assessments_.append(dict(person_id=person_id, assessed_on=row["assessed_on"], assessor=row["assessor"],
                                     care_level=care_level_from_answers(answers).value,
                                     recorded_by_user_id=actor.user_id, created_at=now,
                                     **{f"{name}_able": answers[name] for name in ACTIVITIES}))
        if row.get("vendor_code"):
            vendor_id, contract = row["vendor_contract"]
            assignments.append(dict(person_id=person_id, vendor_id=vendor_id, contract_id=contract.id,
                                    valid_from=since, valid_to=None, recorded_by_user_id=actor.user_id,
                                    created_at=now))
    insert_history(session, statuses, assessments_, assignments)


def insert_supported_persons(session, person_rows: list[dict], *, bulk: bool = False) -> list[int]:
    """Insert persons in one multi-row statement; the ids in the rows' order. An ID already there is
    skipped, so fewer ids than rows means someone registered one meanwhile. `bulk` (the demo's
    32,000, into an empty register): COPY on PostgreSQL, the ids read back by resident ID."""
    if not person_rows:
        return []
    table = SupportedPerson.__table__
    if bulk:
        insert_rows(session, table, person_rows)
        inserted = dict(session.execute(sa.select(table.c.resident_id, table.c.id)).all())
    else:
        inserted = dict(session.execute(dialect_insert(session, table).on_conflict_do_nothing(
            index_elements=["resident_id"]).returning(table.c.resident_id, table.c.id), person_rows).all())
    return [inserted[row["resident_id"]] for row in person_rows if row["resident_id"] in inserted]


def insert_history(session, statuses: list[dict], assessments: list[dict], assignments: list[dict]) -> None:
    """The history rows of new persons, many rows per statement (COPY on PostgreSQL); the database
    checks each row as for an INSERT (levels, one assignment a day). Import and demo alike."""
    for model, rows in ((SupportedStatusChange, statuses), (CareAssessment, assessments),
                        (CareAssignment, assignments)):
        insert_rows(session, model.__table__, rows)
    session.flush()


def _masked(parsed: imports.ParsedImport) -> imports.ParsedImport:
    return imports.masked_errors(parsed, ("resident_id",))


def preview_import(session, who, data: bytes, filename: str = "") -> imports.ParsedImport:
    """Read and check a supported persons file (CSV or XLSX); nothing is written."""
    actor = require(who, "care.persons.write")
    return _masked(imports.preview(data, PERSONS_SCHEMA, filename=filename, checks=_row_checks(session, actor)))


def already_imported(session, sha256: str) -> imports.ImportBatch | None:
    return imports.batch_of(session, IMPORT_KIND, sha256)


def apply_import(session, who, data: bytes, filename: str = "") -> tuple[imports.ParsedImport, imports.ApplyOutcome]:
    """Import a file all or nothing, at most once: any bad row refuses the whole file (`ImportHasErrors`,
    each error with its row, column and reason); the same file again writes nothing."""
    actor = require(who, "care.persons.write")
    parsed = imports.preview(data, PERSONS_SCHEMA, filename=filename, checks=_row_checks(session, actor))
    previous = already_imported(session, parsed.sha256)
    if previous is not None:
        return parsed, imports.ApplyOutcome(previous, False)
    _masked(parsed)
    outcome = imports.apply_once(session, IMPORT_KIND, parsed,
                                 lambda session_, rows, batch: _insert_rows(session_, actor, rows, batch.id),
                                 actor.user_id)
    return parsed, outcome


def masked_resident_id(person: SupportedPerson) -> str:
    return mask_id_number(person.resident_id)
