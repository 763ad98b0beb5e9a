"""Care visit records (上门照护服务记录): the uploads that bring them, the visits, their resolutions.

A visit carries the six elements of electronic visit verification (EVV): the service type(s),
the person, the worker, the date, the location (GPS or an address) and the start and end time,
plus how it was captured (app check-in, phone, paper). Verification (`ledger.vendors.visits`)
gives every visit one state, and the reasons for it as bits of `reason_flags`:

* rejected: any of the `REJECT_REASONS` (unknown person, not assigned to the vendor that day, ...);
* held: none of those, but one of the `HOLD_REASONS` (no check-out, far from home, ...);
* verified: none.

A held visit is resolved once, by its vendor (within `RESOLVE_DAYS` of the visit) or a reviewer,
to verified or rejected with a resolution code and a reason: one `care_visit_resolutions` row and
one audit event; the reasons it was held stay on the visit.

Times are whole minutes since 1970-01-01 00:00 UTC (`starts_at_minute`, `ends_at_minute`):
integer arithmetic that the overlap and duration rules do the same way on SQLite and
PostgreSQL. `visit_on` is the local (Asia/Shanghai) date the visit began.

Invariants the database keeps: one upload per import batch; a visit's state is one of three;
the index (worker_id, starts_at_minute) serves the overlap self-join, (person_id,
starts_at_minute) the duplicate rule; one resolution per visit.
"""
from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from ..db_base import Base, enum_column
from ..timeutil import utcnow

VISIT_ID_MAX = 2**31 - 1
#: A vendor may resolve its held visit up to this many days after the visit; a reviewer at any time.
RESOLVE_DAYS = 95


class VisitState(str, enum.Enum):
    verified = "verified"
    held = "held"
    rejected = "rejected"


class CaptureMethod(str, enum.Enum):
    app = "app"  # APP签到
    phone = "phone"  # 电话
    paper = "paper"  # 纸质


class ServiceType(str, enum.Enum):
    personal_care = "personal_care"  # 生活照料
    meals = "meals"  # 助餐
    cleaning = "cleaning"  # 清洁
    health = "health"  # 健康监测
    companionship = "companionship"  # 精神慰藉
    errands = "errands"  # 代办


#: Reason code -> bit of `reason_flags`. Any of these rejects a visit.
REJECT_REASONS = {
    "unknown_person": 1 << 0,
    "not_assigned": 1 << 1,
    "person_deceased": 1 << 2,
    "person_in_institution": 1 << 3,
    "unknown_worker": 1 << 4,
    "inactive_worker": 1 << 5,
    "end_before_start": 1 << 6,
    "longer_than_24h": 1 << 7,
    "duplicate": 1 << 8,
}
#: Any of these (and none of the above) holds a visit until it is resolved.
HOLD_REASONS = {
    "no_checkout": 1 << 10,
    "far_from_home": 1 << 11,
    "worker_overlap": 1 << 12,
    "shorter_than_minimum": 1 << 13,
}
REASON_BITS = {**REJECT_REASONS, **HOLD_REASONS}
REJECT_MASK = sum(REJECT_REASONS.values())
HOLD_MASK = sum(HOLD_REASONS.values())


def reason_codes(flags: int) -> list[str]:
    """The reason codes of `reason_flags`, rejections first, in the order of the rules."""
    return [code for code, bit in REASON_BITS.items() if flags & bit]


class ResolutionCode(str, enum.Enum):
    """How a held visit was resolved (the vendor's or reviewer's answer to its reason)."""

    checkout_confirmed = "checkout_confirmed"  # 已核实离开时间 -> verified
    location_confirmed = "location_confirmed"  # 已核实服务地点 -> verified
    schedule_corrected = "schedule_corrected"  # 已核实排班 -> verified
    duration_justified = "duration_justified"  # 服务时长有正当理由 -> verified
    not_given = "not_given"  # 服务未提供 -> rejected


#: Resolution code -> the move it makes on the visit's state machine.
RESOLUTION_ACTIONS = {ResolutionCode.checkout_confirmed: "accept", ResolutionCode.location_confirmed: "accept",
                      ResolutionCode.schedule_corrected: "accept", ResolutionCode.duration_justified: "accept",
                      ResolutionCode.not_given: "refuse"}


class VisitUpload(Base):
    """One monthly visit file of a vendor, applied once (its `ImportBatch` holds the SHA-256)."""

    __tablename__ = "care_visit_uploads"
    __table_args__ = (sa.UniqueConstraint("import_batch_id", name="uq_care_visit_uploads_import_batch_id"),)

    id = sa.Column(sa.Integer, primary_key=True)
    vendor_id = sa.Column(sa.Integer, sa.ForeignKey("organisations.id"), nullable=False, index=True)
    import_batch_id = sa.Column(sa.Integer, sa.ForeignKey("import_batches.id"), nullable=False)
    filename = sa.Column(sa.String(255), nullable=False, default="")
    row_count = sa.Column(sa.Integer, nullable=False, default=0)
    verified_count = sa.Column(sa.Integer, nullable=False, default=0)
    held_count = sa.Column(sa.Integer, nullable=False, default=0)
    rejected_count = sa.Column(sa.Integer, nullable=False, default=0)
    uploaded_by_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    vendor = relationship("Organisation")


class CareVisit(Base):
    """One care visit as the vendor reported it, with its verification state and reasons."""

    __tablename__ = "care_visits"
    __table_args__ = (
        sa.Index("ix_care_visits_worker_start", "worker_id", "starts_at_minute"),
        sa.Index("ix_care_visits_person_start", "person_id", "starts_at_minute"),
        sa.Index("ix_care_visits_vendor_visit_on", "vendor_id", "visit_on"),
        sa.Index("ix_care_visits_county_visit_on", "county_id", "visit_on"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    vendor_id = sa.Column(sa.Integer, sa.ForeignKey("organisations.id"), nullable=False,
                          comment="the vendor that reported the visit")
    upload_id = sa.Column(sa.Integer, sa.ForeignKey("care_visit_uploads.id"), index=True,
                          comment="the file it came in; none for a visit posted through the API")
    row_number = sa.Column(sa.Integer, comment="its row in the file (header = 1)")
    resident_id = sa.Column(sa.String(18), nullable=False, comment="the person's resident ID as reported")
    person_id = sa.Column(sa.Integer, sa.ForeignKey("care_persons.id"), comment="none: unknown person")
    county_id = sa.Column(sa.Integer, sa.ForeignKey("regions.id"), comment="the person's county")
    contract_id = sa.Column(sa.Integer, sa.ForeignKey("care_contracts.id"),
                            comment="the contract of the vendor's assignment on the day")
    worker_number = sa.Column(sa.String(30), nullable=False, comment="as reported")
    worker_id = sa.Column(sa.Integer, sa.ForeignKey("care_workers.id"), comment="none: unknown worker")
    service_types = sa.Column(sa.String(120), nullable=False, comment="ServiceType values joined by ';'")
    visit_on = sa.Column(sa.Date, nullable=False, comment="local date the visit began")
    starts_at_minute = sa.Column(sa.Integer, nullable=False, comment="minutes since 1970-01-01 UTC")
    ends_at_minute = sa.Column(sa.Integer, comment="none: no check-out")
    latitude_micro = sa.Column(sa.Integer)
    longitude_micro = sa.Column(sa.Integer)
    address = sa.Column(sa.String(200), nullable=False, default="")
    capture_method = enum_column(CaptureMethod, "care_capture_method", nullable=False)
    state = enum_column(VisitState, "care_visit_state", nullable=False)
    reason_flags = sa.Column(sa.Integer, nullable=False, default=0, comment="bits of REASON_BITS")
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    person = relationship("SupportedPerson")
    worker = relationship("Worker")
    vendor = relationship("Organisation")
    upload = relationship(VisitUpload)
    resolution = relationship("VisitResolution", uselist=False, back_populates="visit")

    @property
    def reasons(self) -> list[str]:
        return reason_codes(self.reason_flags)

    @property
    def minutes(self) -> int | None:
        return None if self.ends_at_minute is None else self.ends_at_minute - self.starts_at_minute


class VisitResolution(Base):
    """How a held visit was resolved: by whom, with which code and why (its history stays)."""

    __tablename__ = "care_visit_resolutions"
    __table_args__ = (sa.UniqueConstraint("visit_id", name="uq_care_visit_resolutions_visit_id"),)

    id = sa.Column(sa.Integer, primary_key=True)
    visit_id = sa.Column(sa.Integer, sa.ForeignKey("care_visits.id"), nullable=False)
    resolution_code = enum_column(ResolutionCode, "care_resolution_code", nullable=False)
    reason = sa.Column(sa.String(500), nullable=False)
    state_to = enum_column(VisitState, "care_visit_state", nullable=False)
    resolved_by_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    visit = relationship(CareVisit, back_populates="resolution")
