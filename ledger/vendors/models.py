"""Care-service procurement tables: vendor profiles, their workers, contracts and contract versions.

A vendor (第三方照护机构) is an `Organisation` of kind vendor (its name and unified social
credit code live there); `care_vendor_profiles` adds what the care programme needs of it
(contact, bank account, status). Its workers (`care_workers`) are numbered per vendor.

A contract (照护服务合同) binds one vendor to one county for a term. What it pays and demands
(prices per person-month, minimum visits and minutes per care level, the penalty rate, the
budget ceiling) lives in its versions (`care_contract_versions`), each effective from a date:
an amendment is a new version, never an edit of an old one. The ceiling is committed as one
pending hold on the county's care budget fund (`care_contracts.hold_id`).

Invariants the database keeps:

* one profile per organisation; one worker number per vendor; one contract number in the city;
* a worker's and a contract's period does not end before it starts;
* per contract, version numbers and effective dates are unique; amounts and minimums are not
  negative, the ceiling is positive and the penalty rate is per mille (0-1000).
"""
from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from ..db_base import Base, enum_column
from ..timeutil import utcnow

#: Row ids are INTEGER: a larger number in a path is no record (404), never a query.
RECORD_ID_MAX = 2**31 - 1


class VendorStatus(str, enum.Enum):
    active = "active"
    suspended = "suspended"


class CareLevel(str, enum.Enum):
    """The person's care level from the self-care assessment."""

    self_caring = "self_caring"  # 全自理
    partly_disabled = "partly_disabled"  # 半失能
    fully_disabled = "fully_disabled"  # 全失能


class ContractState(str, enum.Enum):
    draft = "draft"
    active = "active"
    suspended = "suspended"
    ended = "ended"


class VendorProfile(Base):
    """What the care programme knows of a vendor organisation beyond its name and credit code."""

    __tablename__ = "care_vendor_profiles"
    __table_args__ = (sa.UniqueConstraint("organisation_id", name="uq_care_vendor_profiles_organisation_id"),)

    id = sa.Column(sa.Integer, primary_key=True)
    organisation_id = sa.Column(sa.Integer, sa.ForeignKey("organisations.id"), nullable=False)
    contact_name = sa.Column(sa.String(100), nullable=False, default="")
    contact_phone = sa.Column(sa.String(20), nullable=False, default="")
    bank_name = sa.Column(sa.String(100), nullable=False, default="")
    bank_account_number = sa.Column(sa.String(30), nullable=False, default="", comment="masked in lists")
    bank_account_holder = sa.Column(sa.String(200), nullable=False, default="")
    status = enum_column(VendorStatus, "care_vendor_status", nullable=False, default=VendorStatus.active)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    organisation = relationship("Organisation", lazy="joined")


class Worker(Base):
    """A caregiver (护理员) of a vendor, active from one date to another (open-ended when None)."""

    __tablename__ = "care_workers"
    __table_args__ = (
        sa.UniqueConstraint("vendor_id", "worker_number", name="uq_care_workers_vendor_worker_number"),
        sa.CheckConstraint("active_to IS NULL OR active_to >= active_from", name="active_dates"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    vendor_id = sa.Column(sa.Integer, sa.ForeignKey("care_vendor_profiles.id"), nullable=False)
    worker_number = sa.Column(sa.String(30), nullable=False, comment="the vendor's own number, unique per vendor")
    name = sa.Column(sa.String(100), nullable=False)
    resident_id = sa.Column(sa.String(18), nullable=False, comment="居民身份证号, checked; masked when shown")
    phone = sa.Column(sa.String(20), nullable=False, default="")
    active_from = sa.Column(sa.Date, nullable=False)
    active_to = sa.Column(sa.Date)
    import_batch_id = sa.Column(sa.Integer, sa.ForeignKey("import_batches.id"), index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    vendor = relationship(VendorProfile)


class Contract(Base):
    """A care-service contract of one vendor in one county (照护服务合同), HT-2026-370827-001.

    Its state moves only through `services.CONTRACT_MACHINE`; its terms are its versions."""

    __tablename__ = "care_contracts"
    __table_args__ = (
        sa.UniqueConstraint("number", name="uq_care_contracts_number"),
        sa.CheckConstraint("ends_on >= starts_on", name="term"),
        sa.Index("ix_care_contracts_vendor_county", "vendor_id", "county_id"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    number = sa.Column(sa.String(30), nullable=False, comment="HT-<year>-<county code>-<seq>")
    vendor_id = sa.Column(sa.Integer, sa.ForeignKey("care_vendor_profiles.id"), nullable=False)
    county_id = sa.Column(sa.Integer, sa.ForeignKey("regions.id"), nullable=False, index=True)
    fund_id = sa.Column(sa.Integer, sa.ForeignKey("funds.id"), nullable=False,
                        comment="the county's care budget fund, which the ceiling commits")
    starts_on = sa.Column(sa.Date, nullable=False)
    ends_on = sa.Column(sa.Date, nullable=False)
    state = enum_column(ContractState, "care_contract_state", nullable=False, default=ContractState.draft)
    hold_id = sa.Column(sa.Integer, sa.ForeignKey("holds.id"), comment="the pending hold committing the ceiling")
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    created_by_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))

    vendor = relationship(VendorProfile)
    county = relationship("Region")
    fund = relationship("Fund")
    hold = relationship("Hold")
    versions = relationship("ContractVersion", back_populates="contract", order_by="ContractVersion.version_no")


class ContractVersion(Base):
    """The terms of a contract from `effective_on` until the next version's date (an amendment)."""

    __tablename__ = "care_contract_versions"
    __table_args__ = (
        sa.UniqueConstraint("contract_id", "version_no", name="uq_care_contract_versions_contract_version_no"),
        sa.UniqueConstraint("contract_id", "effective_on", name="uq_care_contract_versions_contract_effective_on"),
        sa.CheckConstraint("ceiling_fen > 0", name="ceiling_positive"),
        sa.CheckConstraint("penalty_per_mille BETWEEN 0 AND 1000", name="penalty_per_mille"),
        sa.CheckConstraint("price_self_caring_fen >= 0 AND price_partly_disabled_fen >= 0 "
                           "AND price_fully_disabled_fen >= 0", name="prices"),
        sa.CheckConstraint("visits_min_self_caring >= 0 AND visits_min_partly_disabled >= 0 "
                           "AND visits_min_fully_disabled >= 0 AND minutes_min_self_caring >= 0 "
                           "AND minutes_min_partly_disabled >= 0 AND minutes_min_fully_disabled >= 0",
                           name="minimums"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    contract_id = sa.Column(sa.Integer, sa.ForeignKey("care_contracts.id"), nullable=False)
    version_no = sa.Column(sa.Integer, nullable=False, comment="1 for the contract as signed, then each amendment")
    effective_on = sa.Column(sa.Date, nullable=False)
    ceiling_fen = sa.Column(sa.BigInteger, nullable=False, comment="the budget ceiling of the whole term")
    penalty_per_mille = sa.Column(sa.Integer, nullable=False, comment="deducted per mille for care not given")
    price_self_caring_fen = sa.Column(sa.BigInteger, nullable=False, comment="per person-month, 全自理")
    price_partly_disabled_fen = sa.Column(sa.BigInteger, nullable=False, comment="per person-month, 半失能")
    price_fully_disabled_fen = sa.Column(sa.BigInteger, nullable=False, comment="per person-month, 全失能")
    visits_min_self_caring = sa.Column(sa.SmallInteger, nullable=False, comment="visits per person per month")
    visits_min_partly_disabled = sa.Column(sa.SmallInteger, nullable=False)
    visits_min_fully_disabled = sa.Column(sa.SmallInteger, nullable=False)
    minutes_min_self_caring = sa.Column(sa.SmallInteger, nullable=False, comment="minutes per visit")
    minutes_min_partly_disabled = sa.Column(sa.SmallInteger, nullable=False)
    minutes_min_fully_disabled = sa.Column(sa.SmallInteger, nullable=False)
    note = sa.Column(sa.Text, nullable=False, default="", comment="why the amendment was made")
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    created_by_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))

    contract = relationship(Contract, back_populates="versions")

    def price_fen(self, care_level) -> int:
        return getattr(self, f"price_{CareLevel(care_level).value}_fen")

    def visits_min(self, care_level) -> int:
        return getattr(self, f"visits_min_{CareLevel(care_level).value}")

    def minutes_min(self, care_level) -> int:
        return getattr(self, f"minutes_min_{CareLevel(care_level).value}")
