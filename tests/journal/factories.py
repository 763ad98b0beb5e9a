"""Helpers for the journal and fund-service tests: a small fund tree and a clock of business dates.

`build_tree(session)` makes the city fund, two counties (鱼台县 370827 with two
villages, 任城区 370811 with one) and their accounts, with no money yet.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ledger.auth.models import Organisation, OrganisationKind, Region, RegionLevel, User
from ledger.journal.accounts import create_fund
from ledger.journal.models import Fund, FundLevel

CITY, YUTAI, CHENGXI, DONGGUAN, RENCHENG, JIYANG = (
    "370800", "370827", "370827-001", "370827-002", "370811", "370811-001")

TREE = [
    # code, region name, fund name, level, parent code
    (CITY, "济宁市", "济宁市“济时救”特别响应救助基金", FundLevel.city, None),
    (YUTAI, "鱼台县", "鱼台县慈善救急难项目", FundLevel.county, CITY),
    (CHENGXI, "滨湖街道城西村", "滨湖街道城西村“济时救”慈善救助基金", FundLevel.village, YUTAI),
    (DONGGUAN, "谷亭街道东关村", "谷亭街道东关村“济时救”慈善救助基金", FundLevel.village, YUTAI),
    (RENCHENG, "任城区", "任城区慈善救急难项目", FundLevel.county, CITY),
    (JIYANG, "济阳街道翠园社区", "济阳街道翠园社区“济时救”慈善救助基金", FundLevel.village, RENCHENG),
]

#: A valid resident ID (checksum and region) of a person in 鱼台县.
ZHANG_ID = "370827198603124023"
WANG_ID = "370827198904183326"


def build_tree(session) -> dict[str, Fund]:
    funds: dict[str, Fund] = {}
    regions: dict[str, Region] = {}
    for code, region_name, fund_name, level, parent in TREE:
        region = session.scalar(sa.select(Region).where(Region.code == code))
        if region is None:
            region = Region(code=code, name=region_name, level=RegionLevel(level.value),
                            parent_id=regions[parent].id if parent else None)
            session.add(region)
            session.flush()
        regions[code] = region
        funds[code] = create_fund(session, code=code, name=fund_name, level=level, region_id=region.id,
                                  parent=funds.get(parent))
    session.commit()
    return funds


def user_named(session, username: str) -> User:
    return session.scalar(sa.select(User).where(User.username == username))


def on(month: int, day: int) -> date:
    """A business date in 2026, the year of the examples."""
    return date(2026, month, day)


def add_user(session, username: str, role: str, *, org_code: str = "MZJ-370800",
             kind: OrganisationKind = OrganisationKind.city_bureau, region_code: str = CITY) -> User:
    """A user of an organisation (created if missing) in the tree's regions."""
    from ledger.auth.services import create_user

    if session.scalar(sa.select(Organisation.id).where(Organisation.code == org_code)) is None:
        region = session.scalar(sa.select(Region).where(Region.code == region_code))
        session.add(Organisation(code=org_code, name=f"机构 {org_code}", kind=kind, region_id=region.id))
        session.flush()
    user = create_user(session, username, role, org_code, "correct horse battery")
    session.commit()
    return user
