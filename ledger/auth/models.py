"""Regions, organisations, users, API tokens and the audit log of sensitive actions.

Every user belongs to exactly one organisation; the organisation's kind and
region decide what the user may see (see `ledger.auth.permissions` and `ledger.auth.directory`).
"""
from __future__ import annotations

import enum

import sqlalchemy as sa
from flask_login import UserMixin

from sqlalchemy.orm import relationship

from ..audit import AuditEvent  # noqa: F401  (the audit log lives below the features)
from ..db_base import Base, enum_column
from ..timeutil import as_utc, utcnow


class Role(str, enum.Enum):
    admin = "admin"
    finance = "finance"
    reviewer = "reviewer"
    charity = "charity"
    vendor = "vendor"
    auditor = "auditor"


class RegionLevel(str, enum.Enum):
    city = "city"
    county = "county"
    village = "village"


class OrganisationKind(str, enum.Enum):
    city_bureau = "city_bureau"
    county_bureau = "county_bureau"
    charity = "charity"
    vendor = "vendor"


class Region(Base):
    """An administrative division: the city, its 11 counties, the villages / communities."""

    __tablename__ = "regions"
    id = sa.Column(sa.Integer, primary_key=True)
    code = sa.Column(sa.String(20), nullable=False, unique=True, comment="stable code, e.g. 370827 for 鱼台县")
    name = sa.Column(sa.String(100), nullable=False)
    name_en = sa.Column(sa.String(100))
    level = enum_column(RegionLevel, "region_level", nullable=False)
    parent_id = sa.Column(sa.Integer, sa.ForeignKey("regions.id"), index=True)

    parent = relationship("Region", remote_side=[id], backref="children")

    @property
    def county(self) -> "Region | None":
        """The county this region is in (itself for a county; None for the city)."""
        if self.level == RegionLevel.county:
            return self
        if self.level == RegionLevel.village:
            return self.parent
        return None


class Organisation(Base):
    __tablename__ = "organisations"
    id = sa.Column(sa.Integer, primary_key=True)
    code = sa.Column(sa.String(40), nullable=False, unique=True)
    name = sa.Column(sa.String(200), nullable=False)
    kind = enum_column(OrganisationKind, "organisation_kind", nullable=False)
    region_id = sa.Column(sa.Integer, sa.ForeignKey("regions.id"), nullable=False, index=True,
                          comment="the city for city-wide bodies, else the county it works in")
    credit_code = sa.Column(sa.String(18), comment="统一社会信用代码 (checked by checksum)")
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    region = relationship(Region)


class User(UserMixin, Base):
    __tablename__ = "users"
    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(80), nullable=False, unique=True)
    display_name = sa.Column(sa.String(100), nullable=False, default="")
    password_hash = sa.Column(sa.String(255), nullable=False)
    role = enum_column(Role, "user_role", nullable=False)
    organisation_id = sa.Column(sa.Integer, sa.ForeignKey("organisations.id"), nullable=False, index=True)
    active = sa.Column(sa.Boolean, nullable=False, default=True)
    locale = sa.Column(sa.String(10), comment="preferred UI language; empty means Accept-Language")
    failed_login_count = sa.Column(sa.Integer, nullable=False, default=0)
    locked_until_at = sa.Column(sa.DateTime(timezone=True))
    last_login_at = sa.Column(sa.DateTime(timezone=True))
    previous_login_at = sa.Column(sa.DateTime(timezone=True), comment="the sign-in before the latest one")
    must_change_password = sa.Column(sa.Boolean, nullable=False, default=False, server_default=sa.false(),
                                     comment="set by an administrator's reset; cleared when the user changes it")
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    organisation = relationship(Organisation, lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled users cannot log in
        return bool(self.active)

    @property
    def is_locked(self) -> bool:
        """Locked out for now after too many failed logins."""
        locked_until = as_utc(self.locked_until_at)
        return locked_until is not None and locked_until > utcnow()

    def has_role(self, *roles: Role | str) -> bool:
        return Role(self.role).value in {Role(r).value for r in roles}


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"
    id = sa.Column(sa.Integer, primary_key=True)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True)
    token_hash = sa.Column(sa.String(64), nullable=False, unique=True)
    prefix = sa.Column(sa.String(12), nullable=False, comment="first characters, to tell tokens apart")
    label = sa.Column(sa.String(100), nullable=False, default="")
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    last_used_at = sa.Column(sa.DateTime(timezone=True))
    revoked_at = sa.Column(sa.DateTime(timezone=True))

    user = relationship(User, backref="tokens")


