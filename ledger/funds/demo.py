"""Demo funds: the fund tree of the source and its opening receipts, plus a little activity.

The tree: the city's special response fund (济宁市“济时救”特别响应救助基金,
code 370800), one charity emergency-relief project per county (e.g.
鱼台县慈善救急难项目, code 370827) and one relief fund per village or community
(e.g. 滨湖街道城西村“济时救”慈善救助基金, code 370827-001); a fund's code is its
region's code.

Opening receipts, all dated 2026-01-05, add up to the source's figures: the 11
county projects 3,400,000.00 CNY together and the 333 village funds exactly
7,420,000.00 CNY (22,282.28 or 22,282.29 each, the fen split exactly); the
city fund starts with 5,000,000.00 CNY from the city budget.

Idempotent and deterministic: funds are found by code, and every seeded entry
carries a `seed:` / `demo:` idempotency key that is looked up before posting.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import sqlalchemy as sa

from ..auth.models import Region, RegionLevel, User
from ..journal.accounts import create_fund
from ..journal.models import Fund, FundLevel, Hold, JournalEntry
from . import services
from .services import Payee

OPENING_ON = date(2026, 1, 5)
CITY_FUND_CODE = "370800"
CITY_FUND_NAME = "济宁市“济时救”特别响应救助基金"
CITY_OPENING_FEN = 5_000_000_00
VILLAGE_TOTAL_FEN = 7_420_000_00

#: County project opening amounts (fen); together 3,400,000.00 CNY.
COUNTY_OPENING_FEN = {
    "370811": 420_000_00, "370812": 300_000_00, "370881": 290_000_00, "370883": 380_000_00,
    "370826": 300_000_00, "370827": 260_000_00, "370828": 300_000_00, "370829": 300_000_00,
    "370830": 280_000_00, "370831": 270_000_00, "370832": 300_000_00,
}
COUNTY_TOTAL_FEN = sum(COUNTY_OPENING_FEN.values())


def county_fund_name(county_name: str) -> str:
    return f"{county_name}慈善救急难项目"


def village_fund_name(village_name: str) -> str:
    return f"{village_name}“济时救”慈善救助基金"


def village_opening_amounts(count: int, total_fen: int = VILLAGE_TOTAL_FEN) -> list[int]:
    """`total_fen` split over `count` funds as evenly as fen allow (the first ones get the odd fen)."""
    base, remainder = divmod(total_fen, count)
    return [base + (1 if index < remainder else 0) for index in range(count)]


def _ensure_tree(session) -> dict[str, Fund]:
    regions = list(session.scalars(sa.select(Region).order_by(Region.code)))
    funds = {fund.code: fund for fund in session.scalars(sa.select(Fund))}
    by_code = {region.code: region for region in regions}
    city = by_code.get(CITY_FUND_CODE)
    if city is None:
        return funds
    if CITY_FUND_CODE not in funds:
        funds[CITY_FUND_CODE] = create_fund(session, code=CITY_FUND_CODE, name=CITY_FUND_NAME,
                                            level=FundLevel.city, region_id=city.id)
    for region in regions:
        if region.level == RegionLevel.county and region.code not in funds:
            funds[region.code] = create_fund(session, code=region.code, name=county_fund_name(region.name),
                                             level=FundLevel.county, region_id=region.id,
                                             parent=funds[CITY_FUND_CODE])
    for region in regions:
        if region.level == RegionLevel.village and region.code not in funds:
            parent_code = region.code.split("-")[0]
            funds[region.code] = create_fund(session, code=region.code, name=village_fund_name(region.name),
                                             level=FundLevel.village, region_id=region.id,
                                             parent=funds.get(parent_code))
    return funds


def _posted_keys(session) -> set[str]:
    return set(session.scalars(sa.select(JournalEntry.idempotency_key)
                               .where(JournalEntry.idempotency_key.like("seed:%")
                                      | JournalEntry.idempotency_key.like("demo:%"))))


def _seed_openings(session, funds: dict[str, Fund], done: set[str]) -> None:
    def opening(code, amount_fen, source, payer, memo):
        key = f"seed:opening:{code}"
        if code in funds and key not in done:
            # The year's budgeted opening money, from the demo's own figures: confirmed by the command.
            services.record_receipt(session, None, code, amount_fen, source=source, payer_name=payer,
                                    value_on=OPENING_ON, memo=memo, idempotency_key=key, confirm_large_amount=True)

    opening(CITY_FUND_CODE, CITY_OPENING_FEN, "government", "济宁市财政局", "2026年度市级特别响应救助资金")
    for code, amount_fen in COUNTY_OPENING_FEN.items():
        county = funds.get(code)
        if county is not None:
            name = county.name.removesuffix("慈善救急难项目")
            opening(code, amount_fen, "government", f"{name}财政局", "2026年度县级慈善救急难项目资金")
    villages = sorted(code for code, fund in funds.items() if fund.level == FundLevel.village)
    for code, amount_fen in zip(villages, village_opening_amounts(len(villages))):
        opening(code, amount_fen, "donation", "社会各界爱心捐赠", "村（社区）“济时救”慈善救助基金期初募集")


def _seed_activity(session, funds: dict[str, Fund], done: set[str]) -> None:
    """A few ordinary days of work, so the pages have something to show."""
    needed = {CITY_FUND_CODE, "370827", "370827-001", "370811"}
    if not needed <= set(funds):
        return
    finance = session.scalar(sa.select(User).where(User.username == "finance"))
    steps = [
        ("demo:receipt:bank", lambda key: services.record_receipt(
            session, finance, CITY_FUND_CODE, 50_000_00, source="donation", payer_name="济宁银行股份有限公司",
            value_on=date(2026, 2, 3), memo="“济时救”公益捐赠", idempotency_key=key)),
        ("demo:allocation:city-yutai", lambda key: services.allocate(
            session, finance, CITY_FUND_CODE, "370827", 200_000_00, value_on=date(2026, 2, 10),
            memo="市级特别响应资金下拨鱼台县", idempotency_key=key)),
        ("demo:allocation:yutai-chengxi", lambda key: services.allocate(
            session, finance, "370827", "370827-001", 30_000_00, value_on=date(2026, 2, 12),
            memo="补充城西村救助基金", idempotency_key=key)),
        ("demo:disbursement:chengxi-medical", lambda key: services.disburse(
            session, finance, "370827-001", 8_000_00,
            payee=Payee("person", "张秀英", "370827198603124023"), purpose="medical_aid",
            value_on=date(2026, 2, 20), memo="大病住院自付费用救助", idempotency_key=key)),
        ("demo:disbursement:yutai-temporary", lambda key: services.disburse(
            session, finance, "370827", 10_000_00,
            payee=Payee("person", "李建国", "370830198811052616"), purpose="temporary_assistance",
            value_on=date(2026, 2, 25), memo="火灾受损临时救助（县级）", idempotency_key=key)),
        ("demo:disbursement:rencheng-care", lambda key: services.disburse(
            session, finance, "370811", 12_500_00,
            payee=Payee("organisation", "济宁市颐养居家照护服务中心", "91370800MA3C5K7U5M"),
            purpose="care_service", value_on=date(2026, 3, 5), memo="2月分散供养特困人员照护服务费",
            idempotency_key=key)),
    ]
    for key, step in steps:
        if key not in done:
            step(key)
    hold_reference = "DEMO-HOLD-370827-01"
    if session.scalar(sa.select(Hold.id).where(Hold.reference == hold_reference)) is None:
        services.place_hold(session, finance, "370827", 15_000_00,
                            expires_at=datetime(2027, 6, 30, 16, 0, tzinfo=timezone.utc), purpose="emergency_aid",
                            payee=Payee("person", "王桂兰", "370827198904183326"),
                            memo="急难救助审批通过，待拨付", reference=hold_reference)


def seed_funds(session):
    """Create the fund tree, its opening receipts and the demo activity where missing (the caller commits)."""
    funds = _ensure_tree(session)
    if not funds:
        return None
    done = _posted_keys(session)
    _seed_openings(session, funds, done)
    _seed_activity(session, funds, done)
    session.flush()
    return funds
