"""Demo tier policies: one per county charity emergency-relief project and one for the city fund.

The bands are the issue's example (out of pocket from 10,000 -> 8,000; from 20,000 -> 10,000; from
40,000 -> 12,000 yuan), 特困 x1.2, a per-person annual cap of 30,000 yuan, and a county reviewer
approves up to 10,000 yuan alone (the city above it). In force from 1 January of the books' first
year; an admin changes them by adding a version. Idempotent: a fund with a policy is left alone.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..journal.models import Fund, FundLevel
from . import policies
from .application_models import TierPolicy
from .models import Category

DEMO_BANDS = ((10_000_00, 8_000_00), (20_000_00, 10_000_00), (40_000_00, 12_000_00))
DEMO_RULES = policies.VersionInput(
    effective_on=date(2026, 1, 1), annual_cap_fen=30_000_00, county_approval_max_fen=10_000_00,
    once_per_household_per_year=False, bands=DEMO_BANDS,
    factors={Category.tekun_dispersed: 1200, Category.tekun_concentrated: 1200})


def seed_policies(session) -> int:
    """Give the county projects and the city fund their demo policy where missing; how many were added."""
    funds = session.execute(sa.select(Fund.id, Fund.code).where(Fund.level.in_((FundLevel.city, FundLevel.county)))
                            .order_by(Fund.code)).all()
    having = set(session.scalars(sa.select(TierPolicy.fund_id)))
    added = 0
    for fund_id, code in funds:
        if fund_id in having:
            continue
        policies.create_policy(session, None, code, "分级救助标准", DEMO_RULES)
        added += 1
    session.flush()
    return added
