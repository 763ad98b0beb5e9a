"""Care-service budgets: one ledger fund per county (its care budget) under one city total.

They are ordinary funds of the journal (the same accounts, postings, holds, hash chains and
vouchers: `JZ-2026-CARE-370827-000001`), of the care programme (`FundProgramme.care`), so that
the relief fund tree, its totals and the relief reports leave them out (`fund_scope` reads the
relief programme unless told otherwise). The city total (`CARE-370800`, 济宁市政府购买照护服务资金)
is the parent of each county's budget (`CARE-370827`, 鱼台县政府购买照护服务资金); a government
allocation is recorded as a receipt (grant income) on the fund it funds, through the funds
feature's receipt, and contracts commit a county's budget with a hold.

Figures are read here with the care programme's scope: finance and auditors see every budget,
a county's people their county's; vendors and charities none.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ...auth.access import fund_scope, require
from ...auth.models import Region, RegionLevel
from ...errors import NotFound, _l
from ...journal.accounts import create_fund
from ...journal.holds import expired_pending_by_fund
from ...journal.models import Fund, FundLevel, FundProgramme

CARE_FUND_PREFIX = "CARE-"


def care_fund_code(region_code: str) -> str:
    """The care budget fund's code of a county (or the city's total): CARE-370827."""
    return CARE_FUND_PREFIX + region_code


def care_fund_name(region_name: str) -> str:
    return f"{region_name}政府购买照护服务资金"


def ensure_care_funds(session) -> dict[str, Fund]:
    """Create the city's care total and each county's care budget fund where missing (region code ->
    fund). System work (seed, set-up), no actor: it moves no money. Flushes."""
    existing = {fund.code: fund for fund in session.scalars(
        sa.select(Fund).where(Fund.programme == FundProgramme.care))}
    regions = list(session.scalars(sa.select(Region).where(Region.level.in_([RegionLevel.city, RegionLevel.county]))
                                   .order_by(Region.level, Region.code)))
    city = next((region for region in regions if RegionLevel(region.level) == RegionLevel.city), None)
    if city is None:
        return {}
    funds = {}
    root_code = care_fund_code(city.code)
    root = existing.get(root_code) or create_fund(session, code=root_code, name=care_fund_name(city.name),
                                                  level=FundLevel.city, region_id=city.id,
                                                  programme=FundProgramme.care)
    funds[city.code] = root
    for region in regions:
        if RegionLevel(region.level) != RegionLevel.county:
            continue
        code = care_fund_code(region.code)
        funds[region.code] = existing.get(code) or create_fund(
            session, code=code, name=care_fund_name(region.name), level=FundLevel.county, region_id=region.id,
            parent=root, programme=FundProgramme.care)
    return funds


def county_care_fund(session, county_id: int) -> Fund | None:
    """The care budget fund of a county (by its region id), or None when it has none yet."""
    return session.scalar(sa.select(Fund).where(Fund.programme == FundProgramme.care, Fund.region_id == county_id,
                                                Fund.level == FundLevel.county))


@dataclass(frozen=True)
class CareBudget:
    """A care budget fund's figures: received (posted balance), committed (pending holds), available."""

    code: str
    name: str
    level: str
    posted_fen: int
    pending_fen: int

    @property
    def available_fen(self) -> int:
        return self.posted_fen - self.pending_fen


def care_budgets(session, who) -> list[CareBudget]:
    """The care budget funds the actor may see, the city total first, then the counties by code.
    A hold past its expiry no longer counts (as on the fund tree)."""
    actor = require(who, "funds.read")
    expired = expired_pending_by_fund(session)
    rows = session.execute(sa.select(Fund.id, Fund.code, Fund.name, Fund.level, Fund.balance_posted_fen,
                                     Fund.pending_fen)
                           .where(fund_scope(actor, programme=FundProgramme.care))
                           .order_by(sa.case((Fund.level == FundLevel.city, 0), else_=1), Fund.code)).all()
    return [CareBudget(code=row.code, name=row.name, level=getattr(row.level, "value", row.level),
                       posted_fen=row.balance_posted_fen, pending_fen=row.pending_fen - expired.get(row.id, 0))
            for row in rows]


def get_care_budget(session, who, code: str) -> CareBudget:
    for budget in care_budgets(session, who):
        if budget.code == code:
            return budget
    raise NotFound(_l("no care budget fund %(code)s", code=code))
