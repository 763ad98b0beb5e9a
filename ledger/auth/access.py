"""Access at the door of every service: who is acting, what their role allows, what they may see.

An `Actor` is built once per request (`current_actor`), CLI command or test from
a user (`as_actor`): the user's id, role, organisation and the county they are
confined to. Every service that reads or writes calls

    actor = require(user_or_actor, "funds.write")     # Forbidden (403) if the role may not

and gives its queries the actor's scope in one call (`fund_scope`,
`organisation_scope`), so that a record out of scope is simply not found (404),
exactly like one that does not exist. Handlers may check roles too, for a nicer
page, but no service trusts its caller.

The rules, in one place:

* Permissions are granted to roles by `PERMISSIONS`; the system actor (seed,
  migrations, scheduled jobs: `user=None`) holds every permission and sees everything.
* Sight: admins and auditors see the whole city; so do users of a city-level
  organisation or a city bureau. Everyone else is confined to the county of their
  organisation (a village office: its parent county) and sees that county and its
  villages. Charity and vendor users see no fund at all; of organisations, only
  their own. Feature services add "own organisation" clauses for their records.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..errors import Forbidden
from ..journal.models import Fund, FundProgramme
from .models import Organisation, OrganisationKind, Region, RegionLevel, Role

#: permission -> the roles that hold it. The one list of who may do what.
PERMISSIONS: dict[str, frozenset[Role]] = {
    # Every role may ask; partners' fund scope is empty, so they find no fund (404, an empty tree).
    "funds.read": frozenset(Role),
    "funds.write": frozenset({Role.finance}),
    "periods.close": frozenset({Role.finance, Role.admin}),
    "periods.reopen": frozenset({Role.admin}),
    "reports.read": frozenset({Role.admin, Role.auditor, Role.finance, Role.reviewer}),
    "directory.read": frozenset(Role),
    "directory.admin": frozenset({Role.admin}),
    # The beneficiary registry: vendors have no business in it; finance reads it to pay.
    "aid.persons.read": frozenset({Role.admin, Role.auditor, Role.finance, Role.reviewer, Role.charity}),
    "aid.persons.write": frozenset({Role.reviewer, Role.charity}),
    # The full resident ID and bank account number, on the person's page only, each view audited.
    "aid.persons.reveal": frozenset({Role.finance, Role.reviewer}),
    # Documents: whether a document may be read or attached is the owning record's own check
    # (`ledger.documents.register_owner`); auditors read and never attach.
    "documents.read": frozenset(Role),
    "documents.write": frozenset(Role) - {Role.auditor},
    # Care vendors (第三方照护机构): a vendor user reads its own vendor only (the services' scope clause).
    "care.vendors.read": frozenset({Role.admin, Role.auditor, Role.finance, Role.reviewer, Role.vendor}),
    "care.vendors.write": frozenset({Role.admin, Role.finance}),
    # A vendor keeps its own caregiver list; the administrator may correct any.
    "care.workers.write": frozenset({Role.admin, Role.vendor}),
    # Contracts: a county's people read their county's, a vendor its own; admin and finance sign and amend.
    "care.contracts.read": frozenset({Role.admin, Role.auditor, Role.finance, Role.reviewer, Role.vendor}),
    "care.contracts.write": frozenset({Role.admin, Role.finance}),
    # Tier policies: read by everyone in the programme (a charity sees the amount as it types).
    "aid.policies.read": frozenset({Role.admin, Role.auditor, Role.finance, Role.reviewer, Role.charity}),
    "aid.policies.write": frozenset({Role.admin}),
    # Applications: charities (and county staff) file, reviewers decide, finance pays, the filer follows up.
    "aid.applications.read": frozenset({Role.admin, Role.auditor, Role.finance, Role.reviewer, Role.charity}),
    "aid.applications.file": frozenset({Role.reviewer, Role.charity}),
    "aid.applications.review": frozenset({Role.reviewer}),
    "aid.applications.pay": frozenset({Role.finance}),
    "aid.applications.follow_up": frozenset({Role.reviewer, Role.charity}),
    # Supported persons under home care: vendors see the persons they care for, charities none.
    "care.persons.read": frozenset({Role.admin, Role.auditor, Role.finance, Role.reviewer, Role.vendor}),
    "care.persons.write": frozenset({Role.admin, Role.reviewer}),
    # Care visits: a vendor reports and fixes its own; reviewers resolve held visits of their county.
    "care.visits.read": frozenset({Role.admin, Role.auditor, Role.finance, Role.reviewer, Role.vendor}),
    "care.visits.write": frozenset({Role.vendor}),
    "care.visits.resolve": frozenset({Role.admin, Role.reviewer, Role.vendor}),
}

#: Roles that see every county whatever their organisation.
CITY_WIDE_ROLES = frozenset({Role.admin, Role.auditor})
#: Roles of the programme's partners: they see their own organisation's records only.
PARTNER_ROLES = frozenset({Role.charity, Role.vendor})


@dataclass(frozen=True)
class Actor:
    """Who is acting: a snapshot of a user, taken once per request, command or test step."""

    user_id: int | None
    username: str
    role: Role | None  # None: the system itself
    organisation_id: int | None
    organisation_kind: OrganisationKind | None
    #: the county region this actor is confined to; None: the whole city
    county_id: int | None

    @property
    def is_system(self) -> bool:
        return self.role is None

    @property
    def is_partner(self) -> bool:
        return self.role in PARTNER_ROLES

    @property
    def city_wide(self) -> bool:
        return self.county_id is None

    def may(self, permission: str) -> bool:
        if permission not in PERMISSIONS:
            raise KeyError(f"unknown permission {permission!r}")
        return self.is_system or self.role in PERMISSIONS[permission]


SYSTEM = Actor(user_id=None, username="system", role=None, organisation_id=None, organisation_kind=None,
               county_id=None)


def _confined_county(role: Role, organisation: Organisation) -> int | None:
    if role in CITY_WIDE_ROLES:
        return None
    region = organisation.region
    if RegionLevel(region.level) == RegionLevel.city or \
            OrganisationKind(organisation.kind) == OrganisationKind.city_bureau:
        return None
    return region.id if RegionLevel(region.level) == RegionLevel.county else region.parent_id


def as_actor(who) -> Actor:
    """The Actor of a user (built once per user object and remembered on it), an Actor itself, or
    the system actor for None."""
    if who is None:
        return SYSTEM
    if isinstance(who, Actor):
        return who
    cached = who.__dict__.get("_access_actor")
    if cached is not None:
        return cached
    role = Role(who.role)
    organisation = who.organisation
    actor = Actor(user_id=who.id, username=who.username, role=role, organisation_id=organisation.id,
                  organisation_kind=OrganisationKind(organisation.kind),
                  county_id=_confined_county(role, organisation))
    who.__dict__["_access_actor"] = actor  # not a mapped attribute: expiring the user keeps it
    return actor


def require(who, permission: str) -> Actor:
    """The acting Actor, if its role holds `permission`; Forbidden (403) otherwise."""
    actor = as_actor(who)
    if not actor.may(permission):
        raise Forbidden()
    return actor


def county_of_region(region_id: int | None, parent_id: int | None, level) -> int | None:
    """The county a region belongs to (itself for a county, its parent for a village)."""
    level = RegionLevel(level)
    if level == RegionLevel.county:
        return region_id
    if level == RegionLevel.village:
        return parent_id
    return None


def sees_region(actor: Actor, region_id: int | None, parent_id: int | None) -> bool:
    """Whether a non-partner actor sees records of the region (a county or one of its villages)."""
    return actor.city_wide or actor.county_id in (region_id, parent_id)


def fund_scope(who, fund_table=None, programme: FundProgramme | None = FundProgramme.relief):
    """A SQL condition on funds for what the actor may see, of one programme's funds.

    The relief programme by default: the fund tree, its totals, the voucher lists and the reports
    are the relief programme's, and care-service budgets (`FundProgramme.care`, read through the
    vendors feature) must not swell them. `programme=None`: the funds of every programme (the
    hash-chain check, which must cover every chain)."""
    actor = as_actor(who)
    fund = fund_table if fund_table is not None else Fund.__table__
    if actor.is_partner:
        return sa.false()
    of_programme = sa.true() if programme is None else fund.c.programme == programme.value
    if actor.city_wide:
        return of_programme
    return sa.and_(of_programme, sa.or_(
        fund.c.region_id == actor.county_id,
        fund.c.region_id.in_(sa.select(Region.id).where(Region.parent_id == actor.county_id))))


def organisation_scope(who):
    """A SQL condition on Organisation for what the actor may see: partners their own, a county's
    people the organisations of their county and its villages, city-wide people every one."""
    actor = as_actor(who)
    if actor.is_partner:
        return Organisation.id == actor.organisation_id
    if actor.city_wide:
        return sa.true()
    return sa.or_(Organisation.region_id == actor.county_id,
                  Organisation.region_id.in_(sa.select(Region.id).where(Region.parent_id == actor.county_id)))
