"""The beneficiary registry's tables: persons, households, categories with effective dates.

Invariants the database keeps:

* one person per resident ID (`uq_aid_persons_resident_id`): registering an existing ID finds
  that person (`services.register_person` claims the ID with INSERT ... ON CONFLICT DO NOTHING);
* a person lives in a village / community (`region_id`) and so in a county (`county_id`, kept
  with the row so that every scoped query is one indexed comparison);
* a category's period does not end before it starts; a disability carries a grade 1-4 and no
  other category carries one.

Sex and birth date are derived from the resident ID (`ledger.identity`), never typed.
The full resident ID and bank account number are stored; every list, export and API answer
masks them (`ledger.identity.mask_id_number`), and a full view is written to the audit log.
"""
from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from ..db_base import Base, enum_column
from ..timeutil import utcnow


#: Person numbers are INTEGER: a larger number in a path is no person (404), never a query.
PERSON_ID_MAX = 2**31 - 1


class Sex(str, enum.Enum):
    male = "male"
    female = "female"


class Relation(str, enum.Enum):
    """A member's relation to the head of the household (与户主关系)."""

    head = "head"
    spouse = "spouse"
    child = "child"
    parent = "parent"
    grandchild = "grandchild"
    grandparent = "grandparent"
    sibling = "sibling"
    other = "other"


class Category(str, enum.Enum):
    """Why a person is in the registry; each has a period of effect."""

    tekun_dispersed = "tekun_dispersed"  # 特困人员 分散供养
    tekun_concentrated = "tekun_concentrated"  # 特困人员 集中供养
    dibao = "dibao"  # 低保
    margin_income = "margin_income"  # 低保边缘 收入型
    margin_expenditure = "margin_expenditure"  # 低保边缘 支出型
    illness_poverty = "illness_poverty"  # 因病致贫
    disability = "disability"  # 残疾 (grade 1-4)
    orphan = "orphan"  # 孤儿


class Household(Base):
    """A household (户): its members are the persons pointing at it; the head has relation `head`."""

    __tablename__ = "aid_households"
    id = sa.Column(sa.Integer, primary_key=True)
    region_id = sa.Column(sa.Integer, sa.ForeignKey("regions.id"), nullable=False, index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    members = relationship("Person", back_populates="household", order_by="Person.id")


class Person(Base):
    """A beneficiary (救助对象)."""

    __tablename__ = "aid_persons"
    __table_args__ = (sa.UniqueConstraint("resident_id", name="uq_aid_persons_resident_id"),)

    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(100), nullable=False)
    resident_id = sa.Column(sa.String(18), nullable=False, comment="居民身份证号, checked; masked when shown")
    sex = enum_column(Sex, "aid_sex", nullable=False)
    born_on = sa.Column(sa.Date, nullable=False, comment="from the resident ID")
    phone = sa.Column(sa.String(20), nullable=False, default="")
    address = sa.Column(sa.String(200), nullable=False, default="")
    region_id = sa.Column(sa.Integer, sa.ForeignKey("regions.id"), nullable=False, index=True,
                          comment="the village / community")
    county_id = sa.Column(sa.Integer, sa.ForeignKey("regions.id"), nullable=False, index=True,
                          comment="the village's county (the scope of county users)")
    household_id = sa.Column(sa.Integer, sa.ForeignKey("aid_households.id"), index=True)
    relation = enum_column(Relation, "aid_relation", nullable=False, default=Relation.head)
    bank_name = sa.Column(sa.String(100), nullable=False, default="")
    bank_account_number = sa.Column(sa.String(30), nullable=False, default="", comment="masked when shown")
    bank_account_holder = sa.Column(sa.String(100), nullable=False, default="")
    registered_by_user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), index=True)
    registered_by_organisation_id = sa.Column(sa.Integer, sa.ForeignKey("organisations.id"), index=True)
    import_batch_id = sa.Column(sa.Integer, sa.ForeignKey("import_batches.id"), index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    region = relationship("Region", foreign_keys=[region_id])
    county = relationship("Region", foreign_keys=[county_id])
    household = relationship(Household, back_populates="members")
    categories = relationship("PersonCategory", back_populates="person", order_by="PersonCategory.id",
                              cascade="all, delete-orphan")


class PersonCategory(Base):
    """A category a person belongs to, from `starts_on` to `ends_on` (open-ended when None)."""

    __tablename__ = "aid_person_categories"
    __table_args__ = (
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="period"),
        sa.CheckConstraint("(category = 'disability' AND disability_grade BETWEEN 1 AND 4) OR "
                           "(category <> 'disability' AND disability_grade IS NULL)", name="disability_grade"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    person_id = sa.Column(sa.Integer, sa.ForeignKey("aid_persons.id"), nullable=False, index=True)
    category = enum_column(Category, "aid_category", nullable=False)
    disability_grade = sa.Column(sa.SmallInteger)
    starts_on = sa.Column(sa.Date, nullable=False)
    ends_on = sa.Column(sa.Date)

    person = relationship(Person, back_populates="categories")

