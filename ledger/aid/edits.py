"""Changes to a registered person: contact and village, categories with their periods, the bank
card, the household (its head, its members).

Each operation is a service like those of `ledger.aid.services`: `require(actor,
"aid.persons.write")` first, the person found through `person_scope` (outside the actor's sight:
NotFound, 404, as for no such person), the person's row locked for the change (FOR UPDATE on
PostgreSQL; SQLite serialises writers), every field checked by the same rule as a registration,
flushed, never committed.

Every change is written to the audit log in the same transaction (`aid.person.changed`): who,
when, which person, and for each field its old and new value; a bank account number is masked in
the log as everywhere else (`3708**********1234`). A change that changes nothing writes nothing.

Rules kept here (the database keeps the period and grade checks as well):

* a village may be changed only to one in the editor's county (city-wide editors: any); the
  person's county follows the village;
* a category's periods never overlap another period of the same category of the same person;
  an open period is ended by an end date on or after its start;
* a bank card is its bank, its number and its holder together, or none of them;
* a household has one head. Making a member the head makes the former head a member (with the
  relation given); a member added by resident ID must be in the registry within sight and may
  not be the head of another household that has members; a member removed becomes the head of a
  household of their own; the head is not removed (another head is set first).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ..audit import record_event
from ..auth.access import Actor, require
from ..errors import Conflict, NotFound, ValidationError, _l
from ..identity import IdentityNumberError, mask_id_number, validate_resident_id
from ..timeutil import utcnow
from .models import Category, Household, Person, PersonCategory, Relation
from .services import (ADDRESS_MAX, BANK_NAME_MAX, NAME_MAX, CategoryInput, _village, check_bank_account,
                       check_category, check_name, check_phone, get_person, person_scope)


class CategoryPeriodsOverlap(Conflict):
    """This period overlaps another period of the same category for this person.

    A person is in a category once at a time: end the open period first, or choose dates after it."""

    code = "category_periods_overlap"


class HouseholdChangeRefused(Conflict):
    """This household change is not possible.

    The message names the reason: the head cannot be removed, a person heads another household, ..."""

    code = "household_change_refused"


@dataclass(frozen=True)
class ContactChange:
    """The fields to change; None leaves a field as it is."""

    phone: str | None = None
    address: str | None = None
    village_code: str | None = None


def _locked_person(session, actor: Actor, person_id: int) -> Person:
    """The person in the actor's sight, its row locked until the transaction ends."""
    person = session.scalar(sa.select(Person).where(Person.id == person_id, person_scope(actor))
                            .with_for_update(of=Person.__table__))
    if person is None:
        raise NotFound(f"no person {person_id}")
    return get_person(session, actor, person_id)


def _audit(session, actor: Actor, person: Person, what: str, changes: dict) -> None:
    record_event(session, actor.user_id, "aid.person.changed", f"person:{person.id}", person_id=person.id,
                 change=what, changes=changes)


def _field_errors(checks: dict) -> tuple[dict, dict]:
    values, errors = {}, {}
    for name, (check, value) in checks.items():
        if value is None:
            continue
        try:
            values[name] = check(value)
        except (ValueError, IdentityNumberError) as error:
            errors[name] = [str(error)]
    return values, errors


def change_contact(session, who, person_id: int, change: ContactChange) -> Person:
    """Change the phone, the address and / or the village (and so the county) of a person."""
    actor = require(who, "aid.persons.write")
    person = _locked_person(session, actor, person_id)
    values, errors = _field_errors({
        "phone": (check_phone, change.phone),
        "address": (lambda value: check_name(value, ADDRESS_MAX, required=False), change.address),
    })
    if errors:
        raise ValidationError("Some fields are invalid.", fields=errors)
    changes = {}
    for name, value in values.items():
        if getattr(person, name) != value:
            changes[name] = [getattr(person, name), value]
            setattr(person, name, value)
    if change.village_code is not None and change.village_code.strip() != person.region.code:
        village = _village(session, actor, change.village_code)
        changes["village"] = [person.region.code, village.code]
        if village.parent_id != person.county_id:
            changes["county_id"] = [person.county_id, village.parent_id]
        person.region_id, person.county_id = village.id, village.parent_id
    if changes:
        _audit(session, actor, person, "contact", changes)
        session.flush()
        session.refresh(person)
    return person


def _period(item) -> tuple[date, date]:
    return item.starts_on, item.ends_on or date.max


def _overlaps(first, second) -> bool:
    first_start, first_end = _period(first)
    second_start, second_end = _period(second)
    return first_start <= second_end and second_start <= first_end


def add_category(session, who, person_id: int, item: CategoryInput) -> PersonCategory:
    """Add a category with its start date (and, if known, its end date)."""
    actor = require(who, "aid.persons.write")
    person = _locked_person(session, actor, person_id)
    try:
        item = check_category(item)
    except ValueError as error:
        raise ValidationError("Some fields are invalid.", fields={"category": [str(error)]}) from None
    category = Category(item.category)
    for existing in person.categories:
        if existing.category == category and _overlaps(existing, item):
            raise CategoryPeriodsOverlap(fields={"starts_on": [_l(
                "overlaps the period from %(starts_on)s%(until)s", starts_on=existing.starts_on.isoformat(),
                until=(" – " + existing.ends_on.isoformat()) if existing.ends_on else "")]})
    row = PersonCategory(category=category, starts_on=item.starts_on, ends_on=item.ends_on,
                         disability_grade=item.disability_grade)
    person.categories.append(row)
    session.flush()
    _audit(session, actor, person, "category_added", {"category": [None, {
        "category": category.value, "starts_on": item.starts_on.isoformat(),
        "ends_on": item.ends_on.isoformat() if item.ends_on else None, "disability_grade": item.disability_grade}]})
    session.flush()
    return row


def end_category(session, who, person_id: int, category_id: int, ends_on: date) -> PersonCategory:
    """End an open category period on `ends_on` (on or after its start)."""
    actor = require(who, "aid.persons.write")
    person = _locked_person(session, actor, person_id)
    row = next((item for item in person.categories if item.id == category_id), None)
    if row is None:
        raise NotFound(f"no category {category_id} for person {person_id}")
    if row.ends_on is not None:
        raise ValidationError(_l("This category period has ended already."), fields={"ends_on": [_l(
            "ended already on %(ends_on)s", ends_on=row.ends_on.isoformat())]})
    if ends_on < row.starts_on:
        raise ValidationError("Some fields are invalid.", fields={"ends_on": [_l("ends before it starts")]})
    row.ends_on = ends_on
    _audit(session, actor, person, "category_ended", {"category": row.category.value,
                                                      "starts_on": row.starts_on.isoformat(),
                                                      "ends_on": [None, ends_on.isoformat()]})
    session.flush()
    return row


def change_bank_card(session, who, person_id: int, *, bank_name: str, account_number: str,
                     holder: str) -> Person:
    """Set (or, all three empty, remove) the bank card the person's aid is paid to."""
    actor = require(who, "aid.persons.write")
    person = _locked_person(session, actor, person_id)
    values, errors = _field_errors({
        "bank_name": (lambda value: check_name(value, BANK_NAME_MAX, required=False), bank_name or ""),
        "bank_account_number": (check_bank_account, account_number or ""),
        "bank_account_holder": (lambda value: check_name(value, NAME_MAX, required=False), holder or ""),
    })
    if not errors and any(values.values()) and not all(values.values()):
        errors["bank_account_number"] = [_l("a bank card needs its bank, its number and its holder")]
    if errors:
        raise ValidationError("Some fields are invalid.", fields=errors)
    changes = {}
    for name, value in values.items():
        old = getattr(person, name)
        if old != value:
            masked = name == "bank_account_number"
            changes[name] = [mask_id_number(old) if masked else old, mask_id_number(value) if masked else value]
            setattr(person, name, value)
    if changes:
        _audit(session, actor, person, "bank_card", changes)
        session.flush()
    return person


# --- the household -------------------------------------------------------------------------------

def _members(session, household_id: int) -> list[Person]:
    return list(session.scalars(sa.select(Person).where(Person.household_id == household_id).order_by(Person.id)
                                .with_for_update(of=Person.__table__)))


def set_household_head(session, who, person_id: int, previous_head_relation: Relation = Relation.other) -> Person:
    """Make the person the head of their household; the former head stays a member with
    `previous_head_relation` (their relation to the new head)."""
    actor = require(who, "aid.persons.write")
    person = _locked_person(session, actor, person_id)
    previous_head_relation = Relation(previous_head_relation)
    if previous_head_relation == Relation.head:
        raise ValidationError("Some fields are invalid.", fields={"previous_head_relation": [
            _l("the former head becomes a member: choose a relation other than head")]})
    if person.relation == Relation.head:
        return person
    members = _members(session, person.household_id)
    changes = {"head": [None, person.id]}
    for member in members:
        if member.relation == Relation.head:
            changes["head"][0] = member.id
            changes["previous_head_relation"] = [Relation.head.value, previous_head_relation.value]
            member.relation = previous_head_relation
    changes["relation"] = [person.relation.value, Relation.head.value]
    person.relation = Relation.head
    session.flush()
    _audit(session, actor, person, "household_head", changes)
    session.flush()
    return person


def add_household_member(session, who, person_id: int, member_resident_id: str, relation: Relation) -> Person:
    """Add the registered person with `member_resident_id` to the household of `person_id`."""
    actor = require(who, "aid.persons.write")
    person = _locked_person(session, actor, person_id)
    relation = Relation(relation)
    errors = {}
    try:
        member_resident_id = validate_resident_id(member_resident_id)
    except IdentityNumberError as error:
        errors["resident_id"] = [str(error)]
    if relation == Relation.head:
        errors["relation"] = [_l("a member of another person's household needs a relation other than head")]
    if errors:
        raise ValidationError("Some fields are invalid.", fields=errors)
    member = session.scalar(sa.select(Person).where(Person.resident_id == member_resident_id, person_scope(actor))
                            .with_for_update(of=Person.__table__))
    if member is None:
        raise ValidationError(_l("The person to add is not in the registry."), fields={"resident_id": [
            _l("no person with this resident ID in the registry of your county; register them first")]})
    if member.household_id == person.household_id:
        raise HouseholdChangeRefused(_l("%(name)s is a member of this household already.", name=member.name),
                                     fields={"resident_id": [_l("a member of this household already")]})
    old_members = _members(session, member.household_id) if member.household_id else [member]
    if member.relation == Relation.head and len(old_members) > 1:
        raise HouseholdChangeRefused(
            _l("%(name)s is the head of another household with members: set another head there first.",
               name=member.name),
            fields={"resident_id": [_l("the head of another household with members")]})
    changes = {"member": [None, member.id], "household_id": [member.household_id, person.household_id],
               "relation": [member.relation.value, relation.value]}
    member.household_id, member.relation = person.household_id, relation
    session.flush()
    _audit(session, actor, member, "household_member_added", changes)
    session.flush()
    return member


def remove_household_member(session, who, person_id: int, member_id: int) -> Person:
    """Take a member out of the household of `person_id`; they become the head of a household of their own."""
    actor = require(who, "aid.persons.write")
    person = _locked_person(session, actor, person_id)
    member = next((item for item in _members(session, person.household_id) if item.id == member_id), None)
    if member is None or not (actor.city_wide or member.county_id == actor.county_id):
        raise NotFound(f"no member {member_id} in the household of person {person_id}")
    if member.relation == Relation.head:
        raise HouseholdChangeRefused(_l("The head of the household cannot be removed: set another head first."))
    household = Household(region_id=member.region_id, created_at=utcnow())
    session.add(household)
    session.flush()
    changes = {"household_id": [member.household_id, household.id], "relation": [member.relation.value,
                                                                                 Relation.head.value]}
    member.household_id, member.relation = household.id, Relation.head
    session.flush()
    _audit(session, actor, member, "household_member_removed", changes)
    session.flush()
    return member
