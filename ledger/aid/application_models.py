"""Tier policies (救助档次) and aid applications (救助申请): their tables.

Invariants kept here and in the database:

* one policy per fund (`uq_aid_tier_policies_fund_id`); a policy's versions are numbered 1, 2, ...
  (`uq_aid_tier_policy_versions_policy_version`) and effective from a local date;
* a version is immutable once a decision used it (`used_at` set): a change is a new version
  (`ledger.aid.policies` refuses edits of a used version);
* a band is a threshold on the out-of-pocket cost and the amount it gives, one per threshold;
  a factor per registry category is an integer per mille (1.0 = 1000), never a float;
* an application's number `SQ-<year>-<county code>-<6 digits>` is sequential per year and county
  (`aid_application_numbers` holds the last number given, claimed with an upsert under the row lock);
* its state moves only through `applications.APPLICATION_MACHINE`;
* money is integer fen; the medical facts balance: reimbursed + out of pocket = total cost;
* the reviewer queue reads `(state, county_id, queue_rank, queue_at)`, an index range: urgent
  cases first (rank 0, ordered by their clock's deadline), then normal ones (rank 1, by submission).
"""
from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from ..db_base import Base, enum_column
from ..timeutil import utcnow
from .models import Category

#: Application and policy numbers are INTEGER: a larger number in a path is no record (404).
APPLICATION_ID_MAX = 2**31 - 1


class Urgency(str, enum.Enum):
    """How fast the money must reach the person: normal, urgent (24 h), especially urgent (2 h)."""

    normal = "normal"
    urgent = "urgent"
    especially_urgent = "especially_urgent"


class ApplicationState(str, enum.Enum):
    draft = "draft"
    submitted = "submitted"
    under_review = "under_review"
    returned = "returned"
    resubmitted = "resubmitted"
    escalated = "escalated"
    approved = "approved"
    paid = "paid"
    closed = "closed"
    rejected = "rejected"
    withdrawn = "withdrawn"
    approval_cancelled = "approval_cancelled"


class FollowUpKind(str, enum.Enum):
    visit = "visit"
    call = "call"


class TierPolicy(Base):
    """The tiered-aid policy of one fund; its rules live in its versions."""

    __tablename__ = "aid_tier_policies"
    __table_args__ = (sa.UniqueConstraint("fund_id", name="uq_aid_tier_policies_fund_id"),)

    id = sa.Column(sa.Integer, primary_key=True)
    fund_id = sa.Column(sa.Integer, sa.ForeignKey("funds.id"), nullable=False)
    name = sa.Column(sa.String(200), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    created_by_user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))

    fund = relationship("Fund")
    versions = relationship("TierPolicyVersion", back_populates="policy", order_by="TierPolicyVersion.version_no")


class TierPolicyVersion(Base):
    """One effective-dated version of a policy: bands, factors, cap, once per household, county limit."""

    __tablename__ = "aid_tier_policy_versions"
    __table_args__ = (
        sa.UniqueConstraint("policy_id", "version_no", name="uq_aid_tier_policy_versions_policy_version"),
        sa.CheckConstraint("version_no >= 1", name="version_no_positive"),
        sa.CheckConstraint("annual_cap_fen > 0", name="annual_cap_positive"),
        sa.CheckConstraint("county_approval_max_fen >= 0", name="county_approval_max_not_negative"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    policy_id = sa.Column(sa.Integer, sa.ForeignKey("aid_tier_policies.id"), nullable=False, index=True)
    version_no = sa.Column(sa.Integer, nullable=False)
    effective_on = sa.Column(sa.Date, nullable=False, comment="local date from which the version applies")
    annual_cap_fen = sa.Column(sa.BigInteger, nullable=False, comment="most one person receives in a year, all funds")
    county_approval_max_fen = sa.Column(sa.BigInteger, nullable=False,
                                        comment="most a county reviewer approves alone; above it the city approves")
    once_per_household_per_year = sa.Column(sa.Boolean, nullable=False, default=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    created_by_user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))
    used_at = sa.Column(sa.DateTime(timezone=True), comment="first decision that used it; never edited after")

    policy = relationship(TierPolicy, back_populates="versions")
    bands = relationship("TierBand", back_populates="version", order_by="TierBand.threshold_fen",
                         cascade="all, delete-orphan")
    factors = relationship("TierFactor", back_populates="version", order_by="TierFactor.category",
                           cascade="all, delete-orphan")


class TierBand(Base):
    """From `threshold_fen` of out-of-pocket cost on, the aid is `amount_fen` (before the factor)."""

    __tablename__ = "aid_tier_bands"
    __table_args__ = (
        sa.UniqueConstraint("version_id", "threshold_fen", name="uq_aid_tier_bands_version_threshold"),
        sa.CheckConstraint("threshold_fen > 0", name="threshold_positive"),
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    version_id = sa.Column(sa.Integer, sa.ForeignKey("aid_tier_policy_versions.id"), nullable=False)
    threshold_fen = sa.Column(sa.BigInteger, nullable=False)
    amount_fen = sa.Column(sa.BigInteger, nullable=False)

    version = relationship(TierPolicyVersion, back_populates="bands")


class TierFactor(Base):
    """The factor a registry category multiplies the band amount by, per mille (1.2 = 1200)."""

    __tablename__ = "aid_tier_factors"
    __table_args__ = (
        sa.UniqueConstraint("version_id", "category", name="uq_aid_tier_factors_version_category"),
        sa.CheckConstraint("factor_permille > 0 AND factor_permille <= 10000", name="factor_range"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    version_id = sa.Column(sa.Integer, sa.ForeignKey("aid_tier_policy_versions.id"), nullable=False)
    category = enum_column(Category, "aid_factor_category", nullable=False)
    factor_permille = sa.Column(sa.Integer, nullable=False)

    version = relationship(TierPolicyVersion, back_populates="factors")


class ApplicationNumber(Base):
    """The last application number given in a county and year (SQ-<year>-<county>-<last_seq>)."""

    __tablename__ = "aid_application_numbers"

    county_id = sa.Column(sa.Integer, sa.ForeignKey("regions.id"), primary_key=True)
    year = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
    last_seq = sa.Column(sa.Integer, nullable=False)


class Application(Base):
    """An application for tiered aid (救助申请) for one person from one fund."""

    __tablename__ = "aid_applications"
    __table_args__ = (
        sa.UniqueConstraint("number", name="uq_aid_applications_number"),
        sa.CheckConstraint("total_cost_fen >= 0 AND reimbursed_fen >= 0 AND out_of_pocket_fen >= 0",
                           name="medical_not_negative"),
        sa.CheckConstraint("reimbursed_fen + out_of_pocket_fen = total_cost_fen", name="medical_balance"),
        sa.CheckConstraint("amount_requested_fen > 0", name="amount_requested_positive"),
        sa.CheckConstraint("amount_approved_fen IS NULL OR amount_approved_fen > 0", name="amount_approved_positive"),
        sa.Index("ix_aid_applications_queue", "state", "county_id", "queue_rank", "queue_at"),
        sa.Index("ix_aid_applications_organisation_state", "filing_organisation_id", "state"),
        sa.Index("ix_aid_applications_paperwork", "minimal_documents", "paperwork_due_on"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    number = sa.Column(sa.String(40), nullable=False, comment="SQ-2026-370827-000123")
    state = enum_column(ApplicationState, "aid_application_state", nullable=False, default=ApplicationState.draft)
    person_id = sa.Column(sa.Integer, sa.ForeignKey("aid_persons.id"), nullable=False, index=True)
    county_id = sa.Column(sa.Integer, sa.ForeignKey("regions.id"), nullable=False,
                          comment="the person's county: the scope of county reviewers")
    fund_id = sa.Column(sa.Integer, sa.ForeignKey("funds.id"), nullable=False, index=True)
    filing_organisation_id = sa.Column(sa.Integer, sa.ForeignKey("organisations.id"), nullable=False)
    # The medical facts.
    diagnosis = sa.Column(sa.String(200), nullable=False)
    hospital = sa.Column(sa.String(200), nullable=False)
    total_cost_fen = sa.Column(sa.BigInteger, nullable=False)
    reimbursed_fen = sa.Column(sa.BigInteger, nullable=False,
                               comment="basic medical insurance, serious-illness insurance and medical assistance")
    out_of_pocket_fen = sa.Column(sa.BigInteger, nullable=False)
    description = sa.Column(sa.Text, nullable=False, default="")
    # The emergency clock: started when the case was reported, met when the money is posted.
    urgency = enum_column(Urgency, "aid_urgency", nullable=False, default=Urgency.normal)
    reported_at = sa.Column(sa.DateTime(timezone=True), comment="clock start; default the submission time")
    clock_deadline_at = sa.Column(sa.DateTime(timezone=True), comment="reported_at + 24 h / 2 h; none when normal")
    queue_rank = sa.Column(sa.SmallInteger, nullable=False, default=1, comment="0 urgent, 1 normal")
    queue_at = sa.Column(sa.DateTime(timezone=True), comment="urgent: the deadline; normal: the submission")
    submitted_at = sa.Column(sa.DateTime(timezone=True))
    # The decision.
    amount_requested_fen = sa.Column(sa.BigInteger, nullable=False)
    suggested_fen = sa.Column(sa.BigInteger, comment="the policy's amount at the decision")
    suggestion_text = sa.Column(sa.String(300), comment="the rule that produced suggested_fen (English)")
    suggestion_factor_permille = sa.Column(sa.Integer, comment="the category factor the suggestion used")
    policy_version_id = sa.Column(sa.Integer, sa.ForeignKey("aid_tier_policy_versions.id"),
                                  comment="the policy version the decision used")
    amount_approved_fen = sa.Column(sa.BigInteger)
    county_approved_by_user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))
    county_approved_at = sa.Column(sa.DateTime(timezone=True))
    city_approved_by_user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))
    city_approved_at = sa.Column(sa.DateTime(timezone=True))
    decision_reason = sa.Column(sa.Text, nullable=False, default="")
    hold_id = sa.Column(sa.Integer, sa.ForeignKey("holds.id"))
    payment_entry_id = sa.Column(sa.Integer, sa.ForeignKey("journal_entries.id"))
    paid_at = sa.Column(sa.DateTime(timezone=True))
    # 先行救助: approved on minimal documents, the full paperwork due within 5 working days.
    minimal_documents = sa.Column(sa.Boolean, nullable=False, default=False)
    paperwork_due_on = sa.Column(sa.Date)
    paperwork_completed_at = sa.Column(sa.DateTime(timezone=True))
    # Follow-up by the filing charity after payment; it closes the case.
    follow_up_kind = enum_column(FollowUpKind, "aid_follow_up_kind")
    follow_up_outcome = sa.Column(sa.Text)
    followed_up_at = sa.Column(sa.DateTime(timezone=True))
    followed_up_by_user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))
    # Maker-checker: neither of these may approve.
    filed_by_user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))
    last_changed_by_user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    person = relationship("Person")
    county = relationship("Region", foreign_keys=[county_id])
    fund = relationship("Fund")
    filing_organisation = relationship("Organisation")
    policy_version = relationship(TierPolicyVersion)
    hold = relationship("Hold")
    payment_entry = relationship("JournalEntry")
