"""Demo registry: a few thousand beneficiaries over the 11 counties, with valid resident IDs.

Stable (a seeded random generator) and idempotent: nothing is added when the source's first
case (韩进 of 鱼台县滨湖街道城西村) is registered already. Rows go in with one multi-row INSERT
per table, so seeding stays fast (about 0.3 s for 3,000 persons on the test machine).
Includes the source's two cases: 韩进 of 滨湖街道城西村 and 辰辰, 4 years old, of 李阁镇.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session
from stdnum.cn import ric

from ..auth.models import Region, RegionLevel
from ..timeutil import local_today, utcnow
from .models import Category, Household, Person, PersonCategory, Relation

DEMO_PERSON_COUNT = 3000
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文春梅海波宁凤琴云莲"
_BANKS = ("中国农业银行", "中国工商银行", "中国建设银行", "中国邮政储蓄银行", "山东农村商业银行")
_CATEGORIES = (Category.tekun_dispersed, Category.tekun_concentrated, Category.dibao, Category.dibao,
               Category.margin_income, Category.margin_expenditure, Category.illness_poverty, Category.disability,
               Category.orphan)


def demo_resident_id(region_code: str, born_on: date, sequence: int, male: bool) -> str:
    """A resident ID with a valid check digit: region, birth date, 3 digits (odd: male), check."""
    digits = sequence % 500 * 2 + (1 if male else 0)
    body = f"{region_code}{born_on:%Y%m%d}{digits:03d}"
    return body + ric.calc_check_digit(body + "0")


def seed_persons(session: Session, count: int = DEMO_PERSON_COUNT) -> int:
    """Register the demo persons when missing; returns how many were added."""
    villages = session.execute(sa.select(Region.id, Region.code, Region.name, Region.parent_id, Region.level)
                               .where(Region.level == RegionLevel.village).order_by(Region.code)).all()
    if not villages:
        return 0
    counties = dict(session.execute(sa.select(Region.id, Region.code).where(Region.level == RegionLevel.county)).all())
    today = local_today()
    by_name = {(counties[v.parent_id], v.name): v for v in villages}
    chengxi = by_name.get(("370827", "滨湖街道城西村"))
    lige = next((v for v in villages if counties[v.parent_id] == "370827" and v.name.startswith("李阁镇")), None)
    cases = []
    if chengxi is not None:
        cases.append(("韩进", demo_resident_id("370827", date(1971, 3, 15), 12, True), chengxi,
                      [Category.illness_poverty]))
    if lige is not None:
        born = date(today.year - 4, 6, 18) if (today.month, today.day) >= (6, 18) else date(today.year - 5, 6, 18)
        cases.append(("辰辰", demo_resident_id("370827", born, 31, True), lige, [Category.illness_poverty]))
    if cases and session.scalar(sa.select(Person.id).where(Person.resident_id == cases[0][1])) is not None:
        return 0
    rng = random.Random(370800)
    people = []  # (name, resident_id, village, categories, household index, relation)
    seen = {case[1] for case in cases}
    for name, resident_id, village, categories in cases:
        people.append((name, resident_id, village, categories, len(people), Relation.head))
    while len(people) < count:
        village = villages[rng.randrange(len(villages))]
        head_index = len(people)
        size = rng.choice((1, 1, 1, 2, 2, 3, 4))
        for member in range(size):
            if len(people) >= count:
                break
            relation = Relation.head if member == 0 else (Relation.spouse if member == 1 else Relation.child)
            age = rng.randint(35, 92) if member < 2 else rng.randint(1, 30)
            born_on = today - timedelta(days=age * 365 + rng.randint(0, 364))
            male = rng.random() < 0.5
            code = counties[village.parent_id]
            resident_id = demo_resident_id(code, born_on, rng.randrange(500), male)
            if resident_id in seen:
                continue
            seen.add(resident_id)
            name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
            categories = [] if member else [rng.choice(_CATEGORIES)]
            people.append((name, resident_id, village, categories, head_index, relation))
    now = utcnow()
    heads = [index for index, person in enumerate(people) if person[5] == Relation.head]
    household_ids = session.execute(sa.insert(Household.__table__).returning(Household.__table__.c.id,
                                                                             sort_by_parameter_order=True),
                                    [{"region_id": people[i][2].id, "created_at": now} for i in heads]).scalars().all()
    household_of = dict(zip(heads, household_ids))
    rows = []
    for index, (name, resident_id, village, _categories, head_index, relation) in enumerate(people):
        card = rng.random() < 0.8
        rows.append({
            "name": name, "resident_id": resident_id, "sex": "male" if int(resident_id[16]) % 2 else "female",
            "born_on": date(int(resident_id[6:10]), int(resident_id[10:12]), int(resident_id[12:14])),
            "phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}", "address": village.name,
            "region_id": village.id, "county_id": village.parent_id, "household_id": household_of[head_index],
            "relation": relation.value, "bank_name": rng.choice(_BANKS) if card else "",
            "bank_account_number": f"622848{rng.randrange(10**13):013d}" if card else "",
            "bank_account_holder": name if card else "", "created_at": now,
        })
    person_ids = session.execute(sa.insert(Person.__table__).returning(Person.__table__.c.id,
                                                                       sort_by_parameter_order=True),
                                 rows).scalars().all()
    category_rows = []
    for person_id, person in zip(person_ids, people):
        for category in person[3]:
            category_rows.append({"person_id": person_id, "category": category.value,
                                  "disability_grade": rng.randint(1, 4) if category == Category.disability else None,
                                  "starts_on": date(today.year - rng.randint(0, 5), rng.randint(1, 12), 1),
                                  "ends_on": None})
    if category_rows:
        session.execute(sa.insert(PersonCategory.__table__), category_rows)
    session.flush()
    return len(people)


# --- tier policies and applications -----------------------------------------------------------------

DEMO_BANDS = ((10_000_00, 8_000_00), (20_000_00, 10_000_00), (40_000_00, 12_000_00))
DEMO_FACTORS = {Category.tekun_dispersed: 1200, Category.tekun_concentrated: 1200, Category.dibao: 1000,
                Category.orphan: 1200}
DEMO_CAP_FEN = 30_000_00
DEMO_COUNTY_MAX_FEN = 10_000_00
#: When the paid cases happened: 9:00 on 12 January 2026 in Jining, after the funds' openings and before
#: the funds demo's February (whose statements and registers tell their own story).
STORY_AT = datetime(2026, 1, 12, 1, 0, tzinfo=timezone.utc)
#: Counties whose charity files a few applications besides Yutai's full set.
OTHER_COUNTIES = ("370811", "370881", "370831")


def _acting(session, org_code: str, role):
    """The seed acting as a user of `org_code` with `role` (no user row: the demo has one user per role)."""
    from ..auth.access import Actor
    from ..auth.models import Organisation, OrganisationKind

    organisation = session.scalar(sa.select(Organisation).where(Organisation.code == org_code))
    return Actor(user_id=None, username=f"seed:{org_code}", role=role, organisation_id=organisation.id,
                 organisation_kind=OrganisationKind(organisation.kind), county_id=organisation.region_id)


def seed_policies(session, today: date) -> int:
    """A tier policy per county project fund and for the city fund (the demo's bands, 特困 and 孤儿 x1.2,
    cap 30,000, county limit 10,000 yuan), effective from 1 January; returns how many were added."""
    from ..journal.models import Fund, FundLevel
    from . import policies

    rules = policies.VersionInput(effective_on=date(today.year, 1, 1), annual_cap_fen=DEMO_CAP_FEN,
                                  county_approval_max_fen=DEMO_COUNTY_MAX_FEN, once_per_household_per_year=False,
                                  bands=DEMO_BANDS, factors=DEMO_FACTORS)
    added = 0
    for fund in session.scalars(sa.select(Fund).where(Fund.level.in_([FundLevel.city, FundLevel.county]))
                                .order_by(Fund.code)):
        if session.scalar(sa.select(policies.TierPolicy.id).where(policies.TierPolicy.fund_id == fund.id)):
            continue
        policies.create_policy(session, None, fund.code, f"{fund.name}分级救助档次", rules)
        added += 1
    return added


def seed_applications(session) -> int:
    """Applications in every state in Yutai and a few in other counties, with the source's two cases:
    韩进 (鱼台县滨湖街道城西村, 10,000 yuan, paid) and 辰辰 (4 years old, 李阁镇, 15,000 yuan from the city
    fund: escalated by the county, approved by the city). Idempotent: nothing when any exists."""
    from ..auth.models import Role, User
    from ..timeutil import utcnow
    from . import applications as aid
    from .application_models import Application

    if session.scalar(sa.select(Application.id).limit(1)) is not None:
        return 0
    now = utcnow().replace(microsecond=0)
    seed_policies(session, local_today())
    users = {user.username: user for user in session.scalars(sa.select(User).where(User.username.in_(
        ["charity_yutai", "reviewer_yutai", "reviewer", "finance"])))}
    if len(users) < 4:
        return 0
    charity, county, city, finance = (users[name] for name in ("charity_yutai", "reviewer_yutai", "reviewer",
                                                               "finance"))
    yutai_id = session.scalar(sa.select(Region.id).where(Region.code == "370827"))
    people = list(session.scalars(sa.select(Person).where(Person.county_id == yutai_id,
                                                          Person.bank_account_number != "")
                                  .order_by(Person.id).limit(40)))
    by_name = {person.name: person for person in people}
    han = session.scalar(sa.select(Person).where(Person.name == "韩进", Person.county_id == yutai_id))
    chen = session.scalar(sa.select(Person).where(Person.name == "辰辰", Person.county_id == yutai_id))
    others = [person for person in people if person.name not in ("韩进", "辰辰")]
    del by_name
    count = 0

    def file(person, actor, *, fund="370827", out_of_pocket=26_000_00, asked=10_000_00, urgency="normal",
             reported_ago=None, diagnosis="脑梗死", hospital="鱼台县人民医院", submit=True, at=now):
        nonlocal count
        data = aid.ApplicationInput(person_id=person.id, fund_code=fund, diagnosis=diagnosis, hospital=hospital,
                                    total_cost_fen=out_of_pocket + 30_000_00, reimbursed_fen=30_000_00,
                                    amount_requested_fen=asked, urgency=urgency,
                                    reported_at=at - reported_ago if reported_ago else None)
        count += 1
        return aid.file_application(session, actor, data, submit=submit, now=at)

    def reviewed(application, reviewer=county, at=now):
        return aid.start_review(session, reviewer, application.id, now=at)

    # 韩进: 10,000 yuan of county aid in January, paid and followed up (what is paid is dated in the
    # books' first month; what is still open is dated now).
    if han is not None:
        application = file(han, charity, out_of_pocket=26_000_00, diagnosis="重症肺炎", hospital="济宁市第一人民医院",
                           at=STORY_AT)
        reviewed(application, at=STORY_AT + timedelta(hours=20))
        aid.approve_application(session, county, application.id, reason="临时救助（县级）",
                                now=STORY_AT + timedelta(hours=22))
        aid.pay_application(session, finance, application.id, now=STORY_AT + timedelta(days=1, hours=2))
        aid.record_follow_up(session, charity, application.id, kind="visit", outcome="已出院，家庭生活恢复正常",
                             now=STORY_AT + timedelta(days=10))
    # 辰辰: 15,000 yuan from the city fund, above the county limit: escalated, approved by the city.
    if chen is not None:
        application = file(chen, charity, fund="370800", out_of_pocket=60_000_00, asked=15_000_00,
                           urgency="urgent", reported_ago=timedelta(hours=5), diagnosis="急性淋巴细胞白血病",
                           hospital="山东大学齐鲁医院")
        reviewed(application)
        aid.approve_application(session, county, application.id, amount_fen=15_000_00,
                                reason="患儿病情危重，超过县级审批额度，报市级审批", now=now)
        aid.approve_application(session, city, application.id, reason="市级特别响应救助", now=now)
    steps = iter(others)
    # Every other state, in Yutai.
    file(next(steps), charity, submit=False)  # draft
    file(next(steps), charity, urgency="especially_urgent", reported_ago=timedelta(minutes=40))  # submitted
    file(next(steps), charity, urgency="urgent", reported_ago=timedelta(hours=30))  # submitted, overdue
    reviewed(file(next(steps), charity, out_of_pocket=15_000_00, asked=8_000_00))  # under review
    returned = file(next(steps), charity)
    reviewed(returned)
    aid.return_application(session, county, returned.id, reason="请补充住院费用明细清单")
    resubmitted = file(next(steps), charity)
    reviewed(resubmitted)
    aid.return_application(session, county, resubmitted.id, reason="请补充医保报销结算单")
    aid.resubmit_application(session, charity, resubmitted.id, reason="已补充医保报销结算单")
    escalated = file(next(steps), charity, out_of_pocket=45_000_00, asked=14_400_00)
    reviewed(escalated)
    aid.escalate_application(session, county, escalated.id, reason="跨年度连续救助，请市级决定")
    approved = file(next(steps), charity, urgency="urgent", reported_ago=timedelta(hours=3))
    reviewed(approved)
    aid.approve_application(session, county, approved.id, amount_fen=8_000_00, minimal_documents=True,
                            reason="先行救助", now=now)
    urgent_at = STORY_AT + timedelta(days=7)
    paid = file(next(steps), charity, urgency="especially_urgent", reported_ago=timedelta(minutes=20), at=urgent_at)
    reviewed(paid, at=urgent_at + timedelta(minutes=10))
    aid.approve_application(session, county, paid.id, amount_fen=8_000_00, now=urgent_at + timedelta(minutes=30))
    aid.pay_application(session, finance, paid.id, now=urgent_at + timedelta(hours=1, minutes=15))
    rejected = file(next(steps), charity, out_of_pocket=8_000_00, asked=5_000_00)
    reviewed(rejected)
    aid.reject_application(session, county, rejected.id, reason="自付费用未达第一档")
    withdrawn = file(next(steps), charity)
    aid.withdraw_application(session, charity, withdrawn.id, reason="已获其他渠道救助")
    cancelled = file(next(steps), charity)
    reviewed(cancelled)
    aid.approve_application(session, county, cancelled.id, amount_fen=8_000_00, now=now)
    aid.cancel_approval(session, county, cancelled.id, reason="发现重复申请", now=now)
    # A few in other counties, filed by their charities.
    for code in OTHER_COUNTIES:
        county_id = session.scalar(sa.select(Region.id).where(Region.code == code))
        persons = list(session.scalars(sa.select(Person).where(Person.county_id == county_id,
                                                               Person.bank_account_number != "")
                                       .order_by(Person.id).limit(3)))
        filer = _acting(session, f"CSH-{code}", Role.charity)
        reviewer = _acting(session, f"MZJ-{code}", Role.reviewer)
        if len(persons) < 3:
            continue
        file(persons[0], filer, fund=code, urgency="urgent", reported_ago=timedelta(hours=2),
             hospital="济宁医学院附属医院")
        reviewed(file(persons[1], filer, fund=code, hospital="济宁医学院附属医院"), reviewer)
        other = file(persons[2], filer, fund=code, out_of_pocket=42_000_00, hospital="济宁医学院附属医院")
        reviewed(other, reviewer)
        aid.approve_application(session, city, other.id, now=now)
    session.flush()
    return count
