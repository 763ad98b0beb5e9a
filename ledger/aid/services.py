"""The beneficiary registry's operations: register, find, list, reveal, import.

Every operation starts with `require(actor, ...)` and reads through `person_scope(actor)`, so a
person outside the actor's sight is not found (404), whoever calls (web, API, CLI, tests).

Who sees whom (the one rule, `person_scope`):

* admins, auditors, finance and city reviewers (a city-level organisation): every person;
* a county reviewer: the persons living in the villages of that county;
* a charity user: the persons of its organisation's county. A county charity files aid for the
  people of its county, and must find a person the county bureau (or another charity of the
  county) already registered rather than register them twice; it never sees another county.
* vendors: nobody (they hold no `aid.persons.*` permission: 403).

Registering is idempotent on the resident ID: the unique constraint on `aid_persons.resident_id`
is the claim, taken with INSERT ... ON CONFLICT DO NOTHING. A second registration of the same ID
(even at the same moment: its INSERT waits for the first transaction on PostgreSQL, BEGIN
IMMEDIATE serialises SQLite) finds the first person and writes nothing. An ID already registered
outside the actor's sight is refused with 409 (it may not be registered twice, and the person may
not be shown).

Resident IDs and bank account numbers are masked wherever a person is listed or answered; the
full numbers come only from `reveal_person` (finance and reviewers), which writes an audit event
(`aid.person.full_view`: who, when, which person) in the same transaction.

Services flush, never commit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from .. import imports
from ..audit import record_event
from ..auth.access import Actor, require
from ..auth.models import Region, RegionLevel
from ..db_base import dialect_insert
from ..errors import Conflict, NotFound, ValidationError, _l
from ..identity import (IdentityNumberError, mask_id_number, resident_id_birth_date, resident_id_sex,
                        validate_resident_id)
from ..paging import Page
from ..text import text_problem
from ..timeutil import local_today, utcnow
from .models import Category, Household, Person, PersonCategory, Relation, Sex

IMPORT_KIND = "aid_persons"
NAME_MAX = 100
ADDRESS_MAX = 200
BANK_NAME_MAX = 100
PHONE_RE = re.compile(r"^[0-9][0-9 \-]{4,19}$", re.ASCII)
BANK_ACCOUNT_RE = re.compile(r"^[0-9]{12,30}$", re.ASCII)
SEARCH_MAX = 50


class ResidentIdRegisteredElsewhere(Conflict):
    """This resident ID is registered already, for a person in another county: ask that county's civil affairs bureau.

    A resident ID is registered once; the person is not shown to those outside their county."""

    code = "resident_id_registered_elsewhere"


@dataclass(frozen=True)
class CategoryInput:
    category: Category
    starts_on: date
    ends_on: date | None = None
    disability_grade: int | None = None


@dataclass(frozen=True)
class PersonInput:
    """What registering a person takes; the service checks every field again (it trusts no caller)."""

    name: str
    resident_id: str
    village_code: str
    phone: str = ""
    address: str = ""
    household_head_resident_id: str | None = None  # None or the person's own ID: the head of a new household
    relation: Relation = Relation.head
    categories: tuple[CategoryInput, ...] = ()
    bank_name: str = ""
    bank_account_number: str = ""
    bank_account_holder: str = ""


@dataclass(frozen=True)
class RegisterOutcome:
    person: Person
    created: bool


# --- the rules of one field each (the API schemas, the forms and the import call these) ----------

def check_name(value: str, max_length: int = NAME_MAX, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValueError(_l("must not be blank"))
    if text_problem(value) is not None:
        raise ValueError(text_problem(value))
    if len(value) > max_length:
        raise ValueError(_l("is longer than %(max)s characters (%(length)s)", max=max_length, length=len(value)))
    return value


def check_phone(value: str) -> str:
    value = (value or "").strip()
    if value and not PHONE_RE.match(value):
        raise ValueError(_l("a phone number is 5 to 20 digits (spaces and dashes allowed), e.g. 0537-6212345"))
    return value


def check_bank_account(value: str) -> str:
    value = re.sub(r"[ \-]", "", value or "")
    if value and not BANK_ACCOUNT_RE.match(value):
        raise ValueError(_l("a bank account number is 12 to 30 digits"))
    return value


def check_category(item: CategoryInput) -> CategoryInput:
    category = Category(item.category)
    if category == Category.disability:
        if item.disability_grade not in (1, 2, 3, 4):
            raise ValueError(_l("a disability needs its grade, 1 to 4"))
    elif item.disability_grade is not None:
        raise ValueError(_l("only a disability has a grade"))
    if item.ends_on is not None and item.ends_on < item.starts_on:
        raise ValueError(_l("ends before it starts"))
    return item


# --- scope -----------------------------------------------------------------------------------------

def person_scope(actor: Actor):
    """A SQL condition on Person for what the actor may see (see the module docstring)."""
    if actor.city_wide:
        return sa.true()
    return Person.county_id == actor.county_id


def _sees_county(actor: Actor, county_id: int) -> bool:
    return actor.city_wide or actor.county_id == county_id


def get_person(session, who, person_id: int) -> Person:
    """The person, if the actor may see them; NotFound (404) otherwise, as for no such person."""
    actor = require(who, "aid.persons.read")
    person = session.scalar(sa.select(Person).where(Person.id == person_id, person_scope(actor))
                            .options(selectinload(Person.categories)))
    if person is None:
        raise NotFound(f"no person {person_id}")
    return person


def household_members(session, who, person: Person) -> list[Person]:
    actor = require(who, "aid.persons.read")
    if person.household_id is None:
        return [person]
    return list(session.scalars(sa.select(Person).where(Person.household_id == person.household_id,
                                                        person_scope(actor)).order_by(Person.id)))


def county_in_sight(session, actor: Actor, county_code: str, sees=None) -> int:
    """The id of the county `county_code` names, for a list's county filter (any feature's); NotFound
    naming the `county` field when there is none, or `sees(actor, county_id)` (default: the county
    is the actor's, or the actor sees the city) says the actor may not see it."""
    county_id = session.scalar(sa.select(Region.id).where(Region.code == county_code, Region.level == RegionLevel.county))
    if county_id is None or not (sees or _sees_county)(actor, county_id):
        raise NotFound(_l("No county %(code)s that you may see.", code=county_code),
                       fields={"county": [_l("no such county in your sight")]})
    return county_id


def person_search(search: str, name_column, resident_id_column):
    """A SQL condition for a search box over persons (any feature's): a whole resident ID, its last
    4-6 characters, or a part of the name."""
    upper = search.upper()
    if re.fullmatch(r"[0-9]{17}[0-9X]", upper):
        return resident_id_column == upper
    if re.fullmatch(r"[0-9X]{4,6}", upper):
        return resident_id_column.like("%" + upper)
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return name_column.like("%" + escaped + "%", escape="\\")


def list_persons(session, who, *, search: str = "", county_code: str | None = None, page: int = 1,
                 per_page: int = 50) -> Page:
    """Persons in sight, newest first; `search` matches a name, the last digits of a resident ID,
    or a whole resident ID; `county_code` narrows to one county."""
    actor = require(who, "aid.persons.read")
    conditions = [person_scope(actor)]
    search = (search or "").strip()[:SEARCH_MAX]
    if search:
        conditions.append(person_search(search, Person.name, Person.resident_id))
    if county_code:
        conditions.append(Person.county_id == county_in_sight(session, actor, county_code))
    where = sa.and_(*conditions)
    total = session.scalar(sa.select(sa.func.count()).select_from(Person).where(where))
    items = list(session.scalars(sa.select(Person).where(where).options(selectinload(Person.categories),
                                                                         selectinload(Person.region))
                                 .order_by(Person.id.desc()).offset((page - 1) * per_page).limit(per_page)))
    return Page(items, page, per_page, total)


def reveal_person(session, who, person_id: int) -> Person:
    """The person, for showing the full resident ID and bank account number: finance and reviewers
    only, each view written to the audit log (who, when, which person)."""
    actor = require(who, "aid.persons.reveal")
    person = get_person(session, actor, person_id)
    record_event(session, actor.user_id, "aid.person.full_view", f"person:{person.id}",
                 person_id=person.id, masked_resident_id=mask_id_number(person.resident_id))
    session.flush()
    return person


def villages_for_registration(session, who) -> list[tuple[str, str, str]]:
    """(code, name, county name) of the villages the actor may register persons in."""
    actor = require(who, "aid.persons.write")
    county = aliased(Region)
    query = (sa.select(Region.code, Region.name, county.name).join(county, county.id == Region.parent_id)
             .where(Region.level == RegionLevel.village).order_by(Region.code))
    if not actor.city_wide:
        query = query.where(Region.parent_id == actor.county_id)
    return [tuple(row) for row in session.execute(query).all()]


# --- registering -----------------------------------------------------------------------------------

def _village(session, actor: Actor, code: str) -> Region:
    village = session.scalar(sa.select(Region).where(Region.code == (code or "").strip(),
                                                     Region.level == RegionLevel.village))
    if village is None or not _sees_county(actor, village.parent_id):
        raise ValidationError("Unknown village or community code.",
                              fields={"village_code": [_l("no village or community with this code in your county")]})
    return village


def _checked(data: PersonInput) -> tuple[dict, dict]:
    """The person's columns from `data`, and the field errors."""
    errors: dict[str, list[str]] = {}
    values: dict = {}

    def field(name, check, value):
        try:
            values[name] = check(value)
        except IdentityNumberError as error:
            errors[name] = [str(error)]
        except ValueError as error:
            errors[name] = [str(error)]

    field("name", check_name, data.name)
    field("resident_id", validate_resident_id, data.resident_id)
    field("phone", check_phone, data.phone)
    field("address", lambda value: check_name(value, ADDRESS_MAX, required=False), data.address)
    field("bank_name", lambda value: check_name(value, BANK_NAME_MAX, required=False), data.bank_name)
    field("bank_account_number", check_bank_account, data.bank_account_number)
    field("bank_account_holder", lambda value: check_name(value, NAME_MAX, required=False), data.bank_account_holder)
    if values.get("bank_account_number") and not (values.get("bank_name") and values.get("bank_account_holder")):
        errors.setdefault("bank_account_number", []).append(_l("a bank card needs its bank and its holder too"))
    for index, item in enumerate(data.categories):
        try:
            check_category(item)
        except ValueError as error:
            problem = error.args[0] if error.args else str(error)
            errors.setdefault("categories", []).append(
                _l("category %(number)s: %(problem)s", number=index + 1, problem=problem))
    head = (data.household_head_resident_id or "").strip() or None
    if head is not None:
        try:
            head = validate_resident_id(head)
        except IdentityNumberError as error:
            errors["household_head_resident_id"] = [str(error)]
    values["head"] = head
    own_head = head is None or head == values.get("resident_id")
    relation = Relation(data.relation)
    if own_head and relation != Relation.head:
        errors["relation"] = [_l("a person without another head of household is the head")]
    if not own_head and relation == Relation.head:
        errors["relation"] = [_l("a member of another person's household needs a relation other than head")]
    values["own_head"] = own_head
    return values, errors


def register_person(session, who, data: PersonInput, *, import_batch_id: int | None = None) -> RegisterOutcome:
    """Register a person, or find the one already registered with this resident ID (idempotent)."""
    actor = require(who, "aid.persons.write")
    values, errors = _checked(data)
    if errors:
        raise ValidationError("Some fields are invalid.", fields=errors)
    village = _village(session, actor, data.village_code)
    head = None
    if not values["own_head"]:
        head = session.scalar(sa.select(Person).where(Person.resident_id == values["head"], person_scope(actor)))
        if head is None or head.household_id is None:
            raise ValidationError("The head of household is not in the registry.", fields={
                "household_head_resident_id": [_l("no person with this resident ID in the registry of your county; "
                                                  "register the head first")]})
    return _insert_person(session, actor, values, village, head, data.relation, data.categories, import_batch_id)


def _insert_person(session, actor: Actor, values: dict, village: Region, head: Person | None, relation,
                   categories, import_batch_id) -> RegisterOutcome:
    resident_id = values["resident_id"]
    table = Person.__table__
    statement = (dialect_insert(session, table).values(
        name=values["name"], resident_id=resident_id, sex=Sex(resident_id_sex(resident_id)).value,
        born_on=resident_id_birth_date(resident_id), phone=values["phone"], address=values["address"],
        region_id=village.id, county_id=village.parent_id, household_id=head.household_id if head else None,
        relation=Relation(relation).value, bank_name=values["bank_name"],
        bank_account_number=values["bank_account_number"], bank_account_holder=values["bank_account_holder"],
        registered_by_user_id=actor.user_id, registered_by_organisation_id=actor.organisation_id,
        import_batch_id=import_batch_id, created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["resident_id"]).returning(table.c.id))
    person_id = session.execute(statement).scalar_one_or_none()
    if person_id is None:
        existing = session.scalar(sa.select(Person).where(Person.resident_id == resident_id))
        if not _sees_county(actor, existing.county_id):
            raise ResidentIdRegisteredElsewhere(fields={"resident_id": [_l("already registered outside your county")]})
        return RegisterOutcome(existing, False)
    person = session.get(Person, person_id)
    if head is None:
        household = Household(region_id=village.id, created_at=utcnow())
        session.add(household)
        session.flush()
        person.household_id = household.id
    for item in categories:
        person.categories.append(PersonCategory(category=Category(item.category), starts_on=item.starts_on,
                                                ends_on=item.ends_on, disability_grade=item.disability_grade))
    session.flush()
    return RegisterOutcome(person, True)


# --- import ----------------------------------------------------------------------------------------

# Labels are matched after NFKC normalisation, so ASCII brackets read as the full-width ones.
CATEGORY_LABELS = {
    Category.tekun_dispersed: ("tekun_dispersed", "特困分散供养", "分散供养特困人员", "特困（分散）"),
    Category.tekun_concentrated: ("tekun_concentrated", "特困集中供养", "集中供养特困人员", "特困（集中）"),
    Category.dibao: ("dibao", "低保", "低保对象"),
    Category.margin_income: ("margin_income", "低保边缘收入型", "低保边缘（收入型）"),
    Category.margin_expenditure: ("margin_expenditure", "低保边缘支出型", "低保边缘（支出型）"),
    Category.illness_poverty: ("illness_poverty", "因病致贫"),
    Category.disability: ("disability", "残疾", "残疾人"),
    Category.orphan: ("orphan", "孤儿"),
}

RELATION_LABELS = {
    Relation.head: ("head", "户主", "本人"),
    Relation.spouse: ("spouse", "配偶", "妻", "夫"),
    Relation.child: ("child", "子女", "子", "女", "儿子", "女儿"),
    Relation.parent: ("parent", "父母", "父亲", "母亲"),
    Relation.grandchild: ("grandchild", "孙子女", "孙子", "孙女", "外孙", "外孙女"),
    Relation.grandparent: ("grandparent", "祖父母", "祖父", "祖母"),
    Relation.sibling: ("sibling", "兄弟姐妹", "兄", "弟", "姐", "妹"),
    Relation.other: ("other", "其他"),
}


def _categories_cell(value) -> list[Category]:
    parse = imports.choice(CATEGORY_LABELS)
    parts = [part for part in re.split(r"[、;；,，/]", str(value)) if part.strip()]
    return [parse(part) for part in parts]


def _checked_cell(check):
    def parse(value):
        return check(str(value))

    return parse


def _bank_account_cell(value):
    return check_bank_account(str(value))


_bank_account_cell.mask = mask_id_number

REGISTRY_SCHEMA = imports.RowSchema([
    imports.Column("name", "Name", "姓名", _checked_cell(check_name)),
    imports.Column("resident_id", "Resident ID", "身份证号", imports.resident_id(),
                   aliases=("居民身份证号", "公民身份号码", "身份证号码", "resident id number")),
    imports.Column("village_code", "Village code", "村（社区）代码", imports.text(20),
                   aliases=("村代码", "社区代码", "village")),
    imports.Column("phone", "Phone", "联系电话", _checked_cell(check_phone), required=False, default="",
                   aliases=("电话", "手机号")),
    imports.Column("address", "Address", "住址", imports.text(ADDRESS_MAX), required=False, default="",
                   aliases=("地址", "家庭住址")),
    imports.Column("household_head_resident_id", "Household head resident ID", "户主身份证号", imports.resident_id(),
                   required=False, aliases=("户主居民身份证号",)),
    imports.Column("relation", "Relation to head", "与户主关系", imports.choice(RELATION_LABELS), required=False,
                   default=None, aliases=("relation",)),
    imports.Column("categories", "Categories", "救助类别", _categories_cell, required=False, default=(),
                   aliases=("类别", "人员类别")),
    imports.Column("categories_since", "Categories since", "认定日期", imports.local_date(), required=False,
                   aliases=("生效日期",)),
    imports.Column("disability_grade", "Disability grade", "残疾等级", imports.integer(1, 4), required=False,
                   aliases=("残疾级别",)),
    imports.Column("bank_name", "Bank", "开户银行", imports.text(BANK_NAME_MAX), required=False, default="",
                   aliases=("银行",)),
    imports.Column("bank_account_number", "Account number", "银行账号", _bank_account_cell, required=False,
                   default="", aliases=("银行卡号", "账号")),
    imports.Column("bank_account_holder", "Account holder", "持卡人", imports.text(NAME_MAX), required=False,
                   default="", aliases=("账户名", "开户人")),
])


def _row_input(row: imports.Row) -> PersonInput:
    since = row.get("categories_since") or local_today()
    grade = row.get("disability_grade")
    categories = tuple(CategoryInput(category, since, None, grade if category == Category.disability else None)
                       for category in row.get("categories") or ())
    own = row.get("household_head_resident_id") in (None, row["resident_id"])
    return PersonInput(name=row["name"], resident_id=row["resident_id"], village_code=row["village_code"],
                       phone=row.get("phone") or "", address=row.get("address") or "",
                       household_head_resident_id=row.get("household_head_resident_id"),
                       relation=row.get("relation") or (Relation.head if own else Relation.other),
                       categories=categories, bank_name=row.get("bank_name") or "",
                       bank_account_number=row.get("bank_account_number") or "",
                       bank_account_holder=row.get("bank_account_holder") or "")


def village_check(session, actor: Actor, key: str = "village_code") -> imports.Check:
    """An import check (any feature's file of persons): each row's village or community code is known
    and in the actor's county; one query for the whole file."""

    def villages(rows):
        codes = sorted({row[key] for row in rows})
        found = dict(session.execute(sa.select(Region.code, Region.parent_id).where(
            Region.code.in_(codes), Region.level == RegionLevel.village)).all()) if codes else {}
        return [imports.RowError(row.row_number, key, row[key],
                                 "unknown village or community code" if row[key] not in found
                                 else "a village outside your county")
                for row in rows if not (row[key] in found and _sees_county(actor, found[row[key]]))]

    return villages


def _row_checks(session, actor: Actor):
    """The file-level checks of a registry import: villages known and in the actor's county, an ID
    once in the file and not yet in the registry, heads of household in the file or the registry,
    each row's own field rules (the same as a single registration's)."""

    def registered(values):
        return session.scalars(sa.select(Person.resident_id).where(Person.resident_id.in_(values)))

    def rules(rows):
        errors = []
        for row in rows:
            _values, problems = _checked(_row_input(row))
            for key, messages in problems.items():
                column = {"categories": "categories"}.get(key, key)
                errors.extend(imports.RowError(row.row_number, column, None, message) for message in messages)
        return errors

    def heads(rows):
        def own_head(row):
            return row.get("household_head_resident_id") in (None, row["resident_id"])

        heads_in_file = {row["resident_id"] for row in rows if own_head(row)}
        members_in_file = {row["resident_id"] for row in rows if not own_head(row)}
        wanted = sorted({row["household_head_resident_id"] for row in rows if not own_head(row)}
                        - heads_in_file - members_in_file)
        known = set(session.scalars(sa.select(Person.resident_id).where(
            Person.resident_id.in_(wanted), person_scope(actor), Person.household_id.is_not(None)))
        ) if wanted else set()
        errors = []
        for row in rows:
            head = row.get("household_head_resident_id")
            if own_head(row) or head in heads_in_file or head in known:
                continue
            message = ("the head of household named is a member of another household in this file"
                       if head in members_in_file else
                       "the head of household is neither in this file nor in the registry")
            errors.append(imports.RowError(row.row_number, "household_head_resident_id", mask_id_number(head), message))
        return errors

    return [village_check(session, actor),
            imports.duplicates_within_file("resident_id", message="the same resident ID as row {first}"),
            imports.registry_conflicts("resident_id", registered, message="is already registered"), heads, rules]


def _masked_errors(parsed: imports.ParsedImport) -> imports.ParsedImport:
    return imports.masked_errors(parsed, ("resident_id", "household_head_resident_id", "bank_account_number"))


def _insert_rows(session, actor: Actor, rows: list[imports.Row], batch_id: int) -> None:
    """Write the checked rows of a file with multi-row INSERTs: the heads' households, the persons,
    their categories. The checks have proved every ID new and every head in the file or the registry;
    an ID registered by someone else since then is caught by the unique constraint (ON CONFLICT DO
    NOTHING returns fewer rows) and refuses the whole file."""
    villages = {region.code: region for region in session.scalars(sa.select(Region).where(
        Region.code.in_(sorted({row["village_code"] for row in rows}))))}
    now = utcnow()
    checked = [(row, data, _checked(data)[0]) for row, data in ((row, _row_input(row)) for row in rows)]
    heads = [item for item in checked if item[2]["own_head"]]
    household_ids = session.execute(
        sa.insert(Household.__table__).returning(Household.__table__.c.id, sort_by_parameter_order=True),
        [{"region_id": villages[row["village_code"]].id, "created_at": now} for row, _data, _values in heads],
    ).scalars().all() if heads else []
    household_of = {values["resident_id"]: household_id
                    for (_row, _data, values), household_id in zip(heads, household_ids)}
    outside = sorted({values["head"] for _row, _data, values in checked if not values["own_head"]} - set(household_of))
    if outside:
        household_of.update(session.execute(sa.select(Person.resident_id, Person.household_id)
                                            .where(Person.resident_id.in_(outside))).all())
    table = Person.__table__
    person_rows = []
    for row, data, values in checked:
        resident_id = values["resident_id"]
        village = villages[row["village_code"]]
        person_rows.append(dict(
            name=values["name"], resident_id=resident_id, sex=resident_id_sex(resident_id),
            born_on=resident_id_birth_date(resident_id), phone=values["phone"], address=values["address"],
            region_id=village.id, county_id=village.parent_id,
            household_id=household_of[resident_id if values["own_head"] else values["head"]],
            relation=Relation(data.relation).value, bank_name=values["bank_name"],
            bank_account_number=values["bank_account_number"], bank_account_holder=values["bank_account_holder"],
            registered_by_user_id=actor.user_id, registered_by_organisation_id=actor.organisation_id,
            import_batch_id=batch_id, created_at=now))
    inserted = dict(session.execute(
        dialect_insert(session, table).on_conflict_do_nothing(index_elements=["resident_id"])
        .returning(table.c.resident_id, table.c.id), person_rows).all())
    if len(inserted) != len(person_rows):
        late = next(row for row, _data, values in checked if values["resident_id"] not in inserted)
        raise Conflict(f"row {late.row_number}: the resident ID was registered while the file was imported; "
                       "nothing was imported", fields={"resident_id": [f"row {late.row_number}"]})
    category_rows = [dict(person_id=inserted[values["resident_id"]], category=Category(item.category).value,
                          starts_on=item.starts_on, ends_on=item.ends_on, disability_grade=item.disability_grade)
                     for _row, data, values in checked for item in data.categories]
    if category_rows:
        session.execute(sa.insert(PersonCategory.__table__), category_rows)


def preview_import(session, who, data: bytes, filename: str = "") -> imports.ParsedImport:
    """Read and check a registry file (CSV or XLSX); nothing is written."""
    actor = require(who, "aid.persons.write")
    parsed = imports.preview(data, REGISTRY_SCHEMA, filename=filename, checks=_row_checks(session, actor))
    return _masked_errors(parsed)


def already_imported(session, sha256: str) -> imports.ImportBatch | None:
    return imports.batch_of(session, IMPORT_KIND, sha256)


def apply_import(session, who, data: bytes, filename: str = "") -> tuple[imports.ParsedImport, imports.ApplyOutcome]:
    """Import a registry file all or nothing, at most once: any bad row refuses the whole file
    (`ImportHasErrors`, each error with its row, column and reason) and nothing is written; the same
    file again returns its first batch and writes nothing."""
    actor = require(who, "aid.persons.write")
    parsed = imports.preview(data, REGISTRY_SCHEMA, filename=filename, checks=_row_checks(session, actor))
    previous = already_imported(session, parsed.sha256)
    if previous is not None:
        return parsed, imports.ApplyOutcome(previous, False)
    _masked_errors(parsed)

    def apply_rows(session_, rows, batch):
        _insert_rows(session_, actor, rows, batch.id)

    outcome = imports.apply_once(session, IMPORT_KIND, parsed, apply_rows, actor.user_id)
    return parsed, outcome
