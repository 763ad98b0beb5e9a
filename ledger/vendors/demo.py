"""Demo care procurement: the three demo vendors' profiles and caregivers, the care budget funds
funded by a government allocation, and an active contract per vendor and county it serves.

The three vendors share the 11 counties (鱼台县 is served by two of them, so its reviewer sees two
contracts); each contract runs for the current calendar year. The city's care total receives the
year's government allocation (a grant receipt dated with the relief openings) and allocates each
county its budget, which covers its contracts' ceilings with room to spare. One contract carries
an amendment from July (higher prices, the same ceiling), so the versions can be seen.

Idempotent: profiles, workers and contracts are found before they are made; seeded entries carry
`seed:care:` idempotency keys that are looked up first. Runs after the fund tree (`seed_funds`).
"""
from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from ..aid.demo import demo_resident_id
from ..auth.models import Organisation, OrganisationKind, Region
from ..funds import services as fund_services
from ..funds.demo import OPENING_ON
from ..journal.models import JournalEntry
from ..timeutil import local_today, utcnow
from .models import Contract, ContractState, VendorProfile, Worker
from .services import budgets, contracts, vendors

#: organisation code -> (contact, phone, bank, account number, the county codes it serves)
VENDOR_PROFILES = {
    "HL-370800-01": ("陈立新", "0537-2231001", "中国建设银行济宁分行", "37050168620100001234",
                     ("370811", "370812", "370881", "370827")),
    "HL-370800-02": ("孙雅琴", "0537-3216602", "中国农业银行济宁分行", "15150101040012345",
                     ("370883", "370826", "370827", "370828")),
    "HL-370800-03": ("王德福", "0537-4421803", "济宁农村商业银行", "9150001234567890123",
                     ("370829", "370830", "370831", "370832")),
}
WORKERS_PER_VENDOR = 12
#: What each county's care budget receives, and each contract's ceiling (a county with two vendors splits it).
COUNTY_BUDGET_FEN = 15_000_000_00
CONTRACT_CEILING_FEN = 12_000_000_00
DEMO_TERMS = contracts.Terms(
    ceiling_fen=CONTRACT_CEILING_FEN, penalty_per_mille=50,
    price_self_caring_fen=300_00, price_partly_disabled_fen=600_00, price_fully_disabled_fen=1_000_00,
    visits_min_self_caring=2, visits_min_partly_disabled=4, visits_min_fully_disabled=8,
    minutes_min_self_caring=30, minutes_min_partly_disabled=45, minutes_min_fully_disabled=60)
#: The amendment of the first vendor's first contract: from July, dearer care for the disabled.
AMENDED_TERMS = contracts.Terms(**{**DEMO_TERMS.__dict__, "price_partly_disabled_fen": 650_00,
                                   "price_fully_disabled_fen": 1_100_00})
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯"
_GIVEN = "秀英桂兰玉梅凤霞红艳丽敏静芳娟慧建华志强"


def _seed_profiles(session) -> dict[str, VendorProfile]:
    profiles = {}
    for code, (contact, phone, bank, account, _counties) in VENDOR_PROFILES.items():
        organisation = session.scalar(sa.select(Organisation).where(Organisation.code == code,
                                                                    Organisation.kind == OrganisationKind.vendor))
        if organisation is None:
            continue
        profiles[code] = vendors.ensure_profile(session, organisation, vendors.VendorInput(
            name=organisation.name, credit_code=organisation.credit_code, contact_name=contact, contact_phone=phone,
            bank_name=bank, bank_account_number=account, bank_account_holder=organisation.name))
    return profiles


def _seed_workers(session, profiles: dict[str, VendorProfile]) -> None:
    today = local_today()
    for number, (code, vendor) in enumerate(sorted(profiles.items()), start=1):
        if session.scalar(sa.select(Worker.id).where(Worker.vendor_id == vendor.id).limit(1)) is not None:
            continue
        rng = random.Random(code)
        region = VENDOR_PROFILES[code][4][0]
        rows = []
        for index in range(1, WORKERS_PER_VENDOR + 1):
            born_on = date(rng.randint(1966, 1998), rng.randint(1, 12), rng.randint(1, 28))
            rows.append(dict(vendor_id=vendor.id, worker_number=f"G{number}{index:03d}",
                             name=rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(2)),
                             resident_id=demo_resident_id(region, born_on, index * 7 + number, rng.random() < 0.3),
                             phone=f"13{rng.randrange(10**9):09d}", active_from=date(today.year, 1, 1),
                             active_to=(today - timedelta(days=30)) if index == WORKERS_PER_VENDOR else None,
                             created_at=utcnow()))
        session.execute(sa.insert(Worker.__table__), rows)


def _seed_budgets(session) -> None:
    funds = budgets.ensure_care_funds(session)
    if not funds:
        return
    done = set(session.scalars(sa.select(JournalEntry.idempotency_key)
                               .where(JournalEntry.idempotency_key.like("seed:care:%"))))
    root = next(fund for fund in funds.values() if fund.parent_id is None)
    counties = sorted(code for code, fund in funds.items() if fund.parent_id is not None)
    key = "seed:care:allocation"
    if key not in done:
        fund_services.record_receipt(session, None, root.code, COUNTY_BUDGET_FEN * len(counties), source="government",
                                     payer_name="济宁市财政局", value_on=OPENING_ON,
                                     memo="政府购买分散供养特困人员照护服务年度预算", idempotency_key=key,
                                     confirm_large_amount=True)
    for county_code in counties:
        key = f"seed:care:budget:{county_code}"
        if key not in done:
            fund_services.allocate(session, None, root.code, funds[county_code].code, COUNTY_BUDGET_FEN,
                                   value_on=OPENING_ON, memo="下达县级照护服务预算", idempotency_key=key)


def _seed_contracts(session, profiles: dict[str, VendorProfile]) -> None:
    year = local_today().year
    starts_on, ends_on = date(year, 1, 1), date(year, 12, 31)
    amended = False
    for code, vendor in sorted(profiles.items()):
        for county_code in VENDOR_PROFILES[code][4]:
            shared = sum(county_code in profile[4] for profile in VENDOR_PROFILES.values())
            exists = session.scalar(sa.select(Contract.id).where(
                Contract.vendor_id == vendor.id, Contract.starts_on == starts_on,
                Contract.county_id == sa.select(Region.id).where(Region.code == county_code).scalar_subquery()))
            if exists is not None:
                continue
            terms = contracts.Terms(**{**DEMO_TERMS.__dict__, "ceiling_fen": CONTRACT_CEILING_FEN // shared})
            contract = contracts.create_contract(session, None, vendor.id, county_code, starts_on, ends_on, terms,
                                                 note="年度政府购买照护服务合同")
            contracts.activate_contract(session, None, contract.id)
            if not amended:
                contracts.amend_contract(session, None, contract.id, date(year, 7, 1),
                                         contracts.Terms(**{**AMENDED_TERMS.__dict__, "ceiling_fen": terms.ceiling_fen}),
                                         note="下半年失能人员服务单价调整")
                amended = True
            assert ContractState(contract.state) == ContractState.active


def seed_care(session) -> None:
    """Create whatever demo care procurement is missing (the caller commits)."""
    profiles = _seed_profiles(session)
    if not profiles:
        return
    _seed_workers(session, profiles)
    _seed_budgets(session)
    _seed_contracts(session, profiles)
    session.flush()
