"""Demo supported persons: the city's 32,000 dispersed-support extremely poor persons under home care,
spread over the 11 counties, each with a self-care assessment (a realistic mix of care levels), a
status history and an assignment to a demo vendor under its contract for the county.

Stable (a seeded random generator) and idempotent: nothing is added when any supported person is
registered already. Runs after the demo contracts (`ledger.vendors.demo.seed_care`). Rows go in with
one multi-row INSERT per table, so seeding stays fast.

What the demo shows:
* resident IDs with the county's region code and the birth dates of elderly people (60 to 98);
* care levels about 55 % self-caring, 30 % partly disabled, 15 % fully disabled; one person in ten
  reassessed this year (worse than before);
* every person active at home since they came into care; a few in an institution or deceased this year;
* 鱼台县 is served by two vendors; a hundred of its persons move from the first to the second on
  16 July (the old assignment ends on the 15th).
"""
from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from ..aid.demo import demo_resident_id
from ..auth.models import Region, RegionLevel
from ..timeutil import local_today, utcnow
from .models import Contract, ContractState, VendorProfile
from .person_models import ACTIVITIES, CareLevel, SupportedPerson, SupportedStatus
from .persons import care_level_from_answers, insert_history, insert_supported_persons

SUPPORTED_PERSON_COUNT = 32_000
#: county code -> (share of the persons in ‰, centre latitude, centre longitude)
COUNTIES = {
    "370811": (130, 35.414, 116.595), "370812": (80, 35.552, 116.783), "370881": (85, 35.581, 116.986),
    "370883": (110, 35.405, 117.007), "370826": (95, 34.807, 117.129), "370827": (75, 35.012, 116.650),
    "370828": (85, 35.066, 116.311), "370829": (95, 35.408, 116.342), "370830": (85, 35.712, 116.497),
    "370831": (75, 35.664, 117.251), "370832": (85, 35.802, 116.096),
}
#: The order in which elderly people lose the six activities (bathing first, eating last).
LOSS_ORDER = ("bathing", "dressing", "toileting", "transferring", "walking_indoors", "eating")
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段钱汤尹易常武乔贺颜"
_GIVEN = "秀英桂兰玉梅凤珍芳荣华淑云霞凤德福贵山林海明建国志文成金宝春"
_ASSESSORS = ("李医生", "王评估员", "张护士", "刘社工", "赵医生", "陈评估员")
REASSIGNED_IN_YUTAI = 100


def _unable_count(rng: random.Random) -> int:
    draw = rng.random()
    if draw < 0.55:
        return 0
    if draw < 0.85:
        return rng.randint(1, 3)
    return rng.randint(4, 6)


def _answers(unable: int) -> dict[str, bool]:
    lost = set(LOSS_ORDER[:unable])
    return {name: name not in lost for name in ACTIVITIES}


def _counts() -> dict[str, int]:
    total = sum(share for share, _lat, _lon in COUNTIES.values())
    counts = {code: SUPPORTED_PERSON_COUNT * share // total for code, (share, _lat, _lon) in COUNTIES.items()}
    counts[next(iter(COUNTIES))] += SUPPORTED_PERSON_COUNT - sum(counts.values())
    return counts


def seed_supported_persons(session) -> int:
    """Register the demo supported persons when none is registered; returns how many were added."""
    if session.scalar(sa.select(SupportedPerson.id).limit(1)) is not None:
        return 0
    today = local_today()
    contracts: dict[int, list[tuple[int, int, date]]] = {}  # county id -> [(vendor organisation, contract, start)]
    for county_id, organisation_id, contract_id, starts_on in session.execute(
            sa.select(Contract.county_id, VendorProfile.organisation_id, Contract.id, Contract.starts_on)
            .join(VendorProfile, VendorProfile.id == Contract.vendor_id)
            .where(Contract.state == ContractState.active, Contract.starts_on <= today, Contract.ends_on >= today)
            .order_by(Contract.county_id, VendorProfile.organisation_id)):
        contracts.setdefault(county_id, []).append((organisation_id, contract_id, starts_on))
    counties = dict(session.execute(sa.select(Region.code, Region.id).where(Region.level == RegionLevel.county)).all())
    villages: dict[int, list[tuple[int, str]]] = {}
    for village_id, name, parent_id in session.execute(sa.select(Region.id, Region.name, Region.parent_id)
                                                       .where(Region.level == RegionLevel.village)
                                                       .order_by(Region.code)):
        villages.setdefault(parent_id, []).append((village_id, name))
    if not contracts or not villages:
        return 0
    rng = random.Random(32000)
    now = utcnow()
    people, seen = [], set()
    for county_code, count in _counts().items():
        county_id = counties[county_code]
        _share, latitude, longitude = COUNTIES[county_code]
        made = 0
        while made < count:
            born_on = today - timedelta(days=rng.randint(60 * 365 + 15, 98 * 365))
            resident_id = demo_resident_id(county_code, born_on, rng.randrange(500), rng.random() < 0.45)
            if resident_id in seen:
                continue
            seen.add(resident_id)
            village_id, village_name = rng.choice(villages[county_id])
            people.append((county_id, dict(
                name=rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2)))),
                resident_id=resident_id, born_on=born_on, phone=f"1{rng.choice('358')}{rng.randrange(10**9):09d}",
                address=f"{village_name}{rng.randint(1, 260)}号",
                latitude_micro=int((latitude + rng.uniform(-0.12, 0.12)) * 1_000_000),
                longitude_micro=int((longitude + rng.uniform(-0.12, 0.12)) * 1_000_000),
                region_id=village_id, county_id=county_id, import_batch_id=None, created_at=now)))
            made += 1
    ids = insert_supported_persons(session, [values for _county, values in people], bulk=True)
    statuses, assessments, assignments = [], [], []
    reassigned = 0
    for person_id, (county_id, values) in zip(ids, people):
        since = date(today.year - rng.randint(1, 7), rng.randint(1, 12), 1)
        statuses.append(dict(person_id=person_id, status=SupportedStatus.active.value, effective_on=since, note="",
                             recorded_by_user_id=None, created_at=now))
        left_on = None  # the day the person left home care this year (an institution, or death)
        change = rng.random()
        if change < 0.012:
            status = SupportedStatus.deceased if change < 0.006 else SupportedStatus.in_institution
            left_on = min(today, date(today.year, 1, 1) + timedelta(days=rng.randint(30, 300)))
            statuses.append(dict(person_id=person_id, status=status.value, effective_on=left_on, created_at=now,
                                 recorded_by_user_id=None,
                                 note="入住县社会福利中心" if status == SupportedStatus.in_institution else ""))
        unable = _unable_count(rng)
        first_on = since + timedelta(days=rng.randint(0, 25))
        for assessed_on, count in ((first_on, unable),) + (
                ((min(today, date(today.year, rng.randint(2, 10), rng.randint(1, 28))),
                   min(6, unable + rng.randint(1, 3))),)
                if rng.random() < 0.1 else ()):
            answers = _answers(count)
            assessments.append(dict(person_id=person_id, assessed_on=assessed_on, assessor=rng.choice(_ASSESSORS),
                                    care_level=care_level_from_answers(answers).value, recorded_by_user_id=None,
                                    created_at=now, **{f"{name}_able": able for name, able in answers.items()}))
        serving = contracts.get(county_id)
        if not serving:
            continue
        vendor_id, contract_id, starts_on = serving[person_id % len(serving)]
        valid_from = max(starts_on, since)
        if len(serving) > 1 and vendor_id == serving[0][0] and reassigned < REASSIGNED_IN_YUTAI \
                and left_on is None and valid_from < date(today.year, 7, 16) <= today:
            reassigned += 1
            assignments.append(dict(person_id=person_id, vendor_id=vendor_id, contract_id=contract_id,
                                    valid_from=valid_from, valid_to=date(today.year, 7, 15),
                                    recorded_by_user_id=None, created_at=now))
            vendor_id, contract_id, valid_from = serving[1][0], serving[1][1], date(today.year, 7, 16)
        if left_on is not None and left_on <= valid_from:
            continue  # left before the contract began: never assigned
        assignments.append(dict(person_id=person_id, vendor_id=vendor_id, contract_id=contract_id,
                                valid_from=valid_from, recorded_by_user_id=None, created_at=now,
                                valid_to=left_on - timedelta(days=1) if left_on is not None else None))
    insert_history(session, statuses, assessments, assignments)
    return len(ids)
