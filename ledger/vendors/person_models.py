"""Supported persons (分散供养特困人员) under home care: who they are, how well they care for
themselves, their status, and the vendor assigned to them, each kept as effective-dated history.

Invariants the database keeps:

* one supported person per resident ID (`uq_care_persons_resident_id`);
* a person lives in a village / community (`region_id`) and so in a county (`county_id`, kept
  with the row so that a county's scope is one indexed comparison);
* an assessment's care level is the one its six answers give (CHECK `level_from_answers`):
  all six able -> self_caring (全自理), 1-3 unable -> partly_disabled (半失能), 4 or more
  unable -> fully_disabled (全失能); one assessment per person and day;
* one status change per person and day; the status on a day is the latest change on or before it;
* an assignment names its vendor (the organisation, the scope of vendor users) and the contract
  it began under (`care_contracts`, of that vendor and the person's county);
* an assignment does not end before it starts, and a person has at most one assignment on any
  day: on PostgreSQL an exclusion constraint over the date range (`care_assignments_one_per_day`,
  btree_gist), on SQLite a trigger before INSERT and UPDATE (migration 0015).

Coordinates are integer micro-degrees (WGS-84 latitude / longitude x 1,000,000), never floats.
The full resident ID is stored; every list and API answer masks it (`ledger.identity.mask_id_number`).
"""
from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from ..db_base import Base, enum_column
from ..timeutil import utcnow
from .models import RECORD_ID_MAX, CareLevel  # noqa: F401  (one care level for contract prices and assessments)

#: Numbers in paths are INTEGER: a larger number is no record (404), never a query.
SUPPORTED_ID_MAX = RECORD_ID_MAX


class SupportedStatus(str, enum.Enum):
    active = "active"  # 在册 (cared for at home)
    in_institution = "in_institution"  # 入住机构
    deceased = "deceased"  # 死亡
    moved_out = "moved_out"  # 迁出


#: The six activities of the self-care assessment, in the order of the form (column prefix `<name>_able`).
ACTIVITIES = ("eating", "dressing", "transferring", "toileting", "walking_indoors", "bathing")

_UNABLE_COUNT = " + ".join(f"(1 - CAST({name}_able AS INTEGER))" for name in ACTIVITIES)
LEVEL_FROM_ANSWERS = (f"care_level = CASE WHEN {_UNABLE_COUNT} = 0 THEN 'self_caring' "
                      f"WHEN {_UNABLE_COUNT} <= 3 THEN 'partly_disabled' ELSE 'fully_disabled' END")


class SupportedPerson(Base):
    """A dispersed-support extremely poor person (分散供养特困人员) in the care programme."""

    __tablename__ = "care_persons"
    __table_args__ = (
        sa.UniqueConstraint("resident_id", name="uq_care_persons_resident_id"),
        sa.CheckConstraint("latitude_micro IS NULL OR latitude_micro BETWEEN -90000000 AND 90000000",
                           name="latitude"),
        sa.CheckConstraint("longitude_micro IS NULL OR longitude_micro BETWEEN -180000000 AND 180000000",
                           name="longitude"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(100), nullable=False)
    resident_id = sa.Column(sa.String(18), nullable=False, comment="居民身份证号, checked; masked when shown")
    born_on = sa.Column(sa.Date, nullable=False, comment="from the resident ID")
    phone = sa.Column(sa.String(20), nullable=False, default="")
    address = sa.Column(sa.String(200), nullable=False, default="")
    latitude_micro = sa.Column(sa.Integer, comment="WGS-84 latitude in millionths of a degree")
    longitude_micro = sa.Column(sa.Integer, comment="WGS-84 longitude in millionths of a degree")
    region_id = sa.Column(sa.Integer, sa.ForeignKey("regions.id"), nullable=False, index=True,
                          comment="the village / community")
    county_id = sa.Column(sa.Integer, sa.ForeignKey("regions.id"), nullable=False, index=True,
                          comment="the village's county (the scope of county users)")
    import_batch_id = sa.Column(sa.Integer, sa.ForeignKey("import_batches.id"), index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    region = relationship("Region", foreign_keys=[region_id])
    county = relationship("Region", foreign_keys=[county_id])
    assessments = relationship("CareAssessment", back_populates="person",
                               order_by="(CareAssessment.assessed_on, CareAssessment.id)")
    statuses = relationship("SupportedStatusChange", back_populates="person",
                            order_by="(SupportedStatusChange.effective_on, SupportedStatusChange.id)")
    assignments = relationship("CareAssignment", back_populates="person",
                               order_by="(CareAssignment.valid_from, CareAssignment.id)")


class CareAssessment(Base):
    """One self-care assessment (自理能力评估): six answers, able (True) or unable, and the level they give."""

    __tablename__ = "care_assessments"
    __table_args__ = (
        sa.UniqueConstraint("person_id", "assessed_on", name="uq_care_assessments_person_id"),
        sa.CheckConstraint(LEVEL_FROM_ANSWERS, name="level_from_answers"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    person_id = sa.Column(sa.Integer, sa.ForeignKey("care_persons.id"), nullable=False)
    assessed_on = sa.Column(sa.Date, nullable=False)
    assessor = sa.Column(sa.String(100), nullable=False, comment="who assessed (name as written)")
    eating_able = sa.Column(sa.Boolean, nullable=False)
    dressing_able = sa.Column(sa.Boolean, nullable=False)
    transferring_able = sa.Column(sa.Boolean, nullable=False, comment="getting in and out of bed")
    toileting_able = sa.Column(sa.Boolean, nullable=False)
    walking_indoors_able = sa.Column(sa.Boolean, nullable=False)
    bathing_able = sa.Column(sa.Boolean, nullable=False)
    care_level = enum_column(CareLevel, "care_level", nullable=False)
    recorded_by_user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    person = relationship(SupportedPerson, back_populates="assessments")

    def answers(self) -> dict[str, bool]:
        return {name: getattr(self, f"{name}_able") for name in ACTIVITIES}


class SupportedStatusChange(Base):
    """From `effective_on` the person is in `status` (until a later change)."""

    __tablename__ = "care_person_statuses"
    __table_args__ = (sa.UniqueConstraint("person_id", "effective_on", name="uq_care_person_statuses_person_id"),)

    id = sa.Column(sa.Integer, primary_key=True)
    person_id = sa.Column(sa.Integer, sa.ForeignKey("care_persons.id"), nullable=False)
    status = enum_column(SupportedStatus, "care_person_status", nullable=False)
    effective_on = sa.Column(sa.Date, nullable=False)
    note = sa.Column(sa.String(200), nullable=False, default="")
    recorded_by_user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    person = relationship(SupportedPerson, back_populates="statuses")


class CareAssignment(Base):
    """The vendor that cares for the person from `valid_from` to `valid_to` (both included; open when None)."""

    __tablename__ = "care_assignments"
    __table_args__ = (
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period"),
        sa.Index("ix_care_assignments_person_id", "person_id", "valid_from"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    person_id = sa.Column(sa.Integer, sa.ForeignKey("care_persons.id"), nullable=False)
    vendor_id = sa.Column(sa.Integer, sa.ForeignKey("organisations.id"), nullable=False, index=True)
    contract_id = sa.Column(sa.Integer, sa.ForeignKey("care_contracts.id"), nullable=False, index=True,
                            comment="the care contract (of this vendor, in the person's county) it began under")
    valid_from = sa.Column(sa.Date, nullable=False)
    valid_to = sa.Column(sa.Date)
    recorded_by_user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    person = relationship(SupportedPerson, back_populates="assignments")
    vendor = relationship("Organisation")
    contract = relationship("Contract")
