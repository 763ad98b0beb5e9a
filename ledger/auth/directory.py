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
everyone else sees the colleagues of their own organisation.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import NotFound
from .models import Organisation, OrganisationKind, Region, User
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
        raise NotFound(f"no organisation with code {code!r}")
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
