"""Who is who: organisations and their people, as each user may see them.

The rules are `ledger.auth.access`'s (`organisation_scope`); they are applied here,
in the queries, so that the web pages, the API and the CLI
show the same thing:

- charity and vendor users see only their own organisation;
- a user confined to a county (a county bureau's reviewer or staff) sees the
  organisations of that county and of its villages and communities;
- admins, auditors and city-wide staff see every organisation.

An organisation outside a user's sight answers NotFound, exactly like one that
does not exist, so a code can never be probed. Only admins list every user;
everyone else sees the colleagues of their own organisation. Only admins add organisations
(`create_organisation`), each with a code made from its kind and region.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import audit
from ..errors import NotFound, ValidationError, _l
from ..identity import IdentityNumberError, validate_credit_code
from .models import Organisation, OrganisationKind, Region, RegionLevel, User
from .access import as_actor, organisation_scope, require

#: Order in which organisation kinds are listed: the bureaus first, then the partners.
KIND_ORDER = {OrganisationKind.city_bureau: 0, OrganisationKind.county_bureau: 1,
              OrganisationKind.charity: 2, OrganisationKind.vendor: 3}


def _visible_organisations_query(user: User) -> sa.Select:
    return sa.select(Organisation).where(organisation_scope(require(user, "directory.read")))


def visible_organisations(session: Session, user: User) -> list[Organisation]:
    """The organisations `user` may see, bureaus first, then by code."""
    rows = session.scalars(_visible_organisations_query(user).order_by(Organisation.code)).all()
    return sorted(rows, key=lambda o: (KIND_ORDER[OrganisationKind(o.kind)], o.code))


def get_organisation(session: Session, user: User, code: str) -> Organisation:
    """One organisation by code; NotFound when it does not exist or is outside `user`'s sight."""
    organisation = session.scalar(_visible_organisations_query(user).where(Organisation.code == code))
    if organisation is None:
        raise NotFound(_l("no organisation with code %(code)r", code=code))
    return organisation


def members_visible_to(session: Session, user: User, organisation: Organisation) -> list[User]:
    """The people of `organisation`: shown to its own members and to admins, to nobody else."""
    actor = as_actor(user)
    if not actor.may("directory.admin") and actor.organisation_id != organisation.id:
        return []
    return session.scalars(
        sa.select(User).where(User.organisation_id == organisation.id).order_by(User.username)).all()


@dataclass
class Directory:
    """Everything the admin page shows: every user and every organisation."""

    users: list[User]
    organisations: list[Organisation]
    member_counts: dict[int, int]
    village_count: int


def admin_directory(session: Session, user: User) -> Directory:
    """The whole directory, for administrators only."""
    require(user, "directory.admin")
    users = session.scalars(sa.select(User).order_by(User.organisation_id, User.username)).all()
    counts = dict(session.execute(
        sa.select(User.organisation_id, sa.func.count(User.id)).group_by(User.organisation_id)).all())
    villages = session.scalar(sa.select(sa.func.count(Region.id)).where(Region.level == "village")) or 0
    return Directory(users=list(users), organisations=visible_organisations(session, user),
                     member_counts=counts, village_count=villages)


#: The first part of an organisation's code, by kind (as in the demo city: MZJ-370800, CSH-370827,
#: HL-370800-01). Bureaus and charities take the region's code, with -02, -03 ... when it is taken;
#: care vendors are always numbered.
CODE_PREFIXES = {OrganisationKind.city_bureau: "MZJ", OrganisationKind.county_bureau: "MZJ",
                 OrganisationKind.charity: "CSH", OrganisationKind.vendor: "HL"}
#: The region level each kind works at: a city bureau the city, a county bureau a county, partners either.
KIND_LEVELS = {OrganisationKind.city_bureau: {RegionLevel.city}, OrganisationKind.county_bureau: {RegionLevel.county},
               OrganisationKind.charity: {RegionLevel.city, RegionLevel.county},
               OrganisationKind.vendor: {RegionLevel.city, RegionLevel.county}}
NAME_MAX = 200


def organisation_regions(session: Session, user: User) -> list[Region]:
    """The regions an organisation can be placed in: the city, then its counties by code."""
    require(user, "directory.admin")
    rows = session.scalars(sa.select(Region).where(Region.level.in_([RegionLevel.city, RegionLevel.county]))
                           .order_by(Region.code)).all()
    return sorted(rows, key=lambda region: (RegionLevel(region.level) != RegionLevel.city, region.code))


def next_organisation_code(session: Session, kind: OrganisationKind, region: Region) -> str:
    """MZJ-370827, or MZJ-370827-02 when that is taken; vendors always numbered: HL-370800-04."""
    base = f"{CODE_PREFIXES[kind]}-{region.code}"
    taken = set(session.scalars(sa.select(Organisation.code).where(
        sa.or_(Organisation.code == base, Organisation.code.like(base + "-%")))))
    if kind != OrganisationKind.vendor and base not in taken:
        return base
    number = 1 if kind == OrganisationKind.vendor else 2
    while f"{base}-{number:02d}" in taken:
        number += 1
    return f"{base}-{number:02d}"


def create_organisation(session: Session, user: User, *, name: str, kind: str, region_code: str,
                        credit_code: str | None = None) -> Organisation:
    """An administrator adds an organisation; its code is made from its kind and region."""
    actor = require(user, "directory.admin")
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_l("must not be empty")]
    elif len(name) > NAME_MAX:
        errors["name"] = [f"must be at most {NAME_MAX} characters"]
    try:
        kind_value = OrganisationKind(kind)
    except ValueError:
        kind_value = None
        errors["kind"] = [f"must be one of {', '.join(k.value for k in OrganisationKind)}"]
    region = session.scalar(sa.select(Region).where(Region.code == (region_code or "")))
    if region is None or RegionLevel(region.level) == RegionLevel.village:
        errors["region"] = [_l("must be the code of the city or of one of its counties")]
    elif kind_value is not None and RegionLevel(region.level) not in KIND_LEVELS[kind_value]:
        errors["region"] = [_l("a city bureau works in the city, a county bureau in a county")]
    credit = (credit_code or "").strip().upper() or None
    if credit is not None:
        try:
            credit = validate_credit_code(credit)
        except IdentityNumberError as error:
            errors["credit_code"] = [error.args[0]]
    if "name" not in errors and "region" not in errors and session.scalar(sa.select(Organisation.id).where(
            Organisation.name == name, Organisation.region_id == region.id)) is not None:
        errors["name"] = [_l("an organisation of this name already exists in this region")]
    if errors:
        raise ValidationError(fields=errors)
    organisation = Organisation(code=next_organisation_code(session, kind_value, region), name=name, kind=kind_value,
                                region_id=region.id, credit_code=credit)
    session.add(organisation)
    session.flush()
    audit.record_event(session, actor.user_id, "organisation.create", organisation.code, name=name,
                       kind=kind_value.value, region=region.code)
    return organisation
