"""Demo registry: a few thousand beneficiaries over the 11 counties, with valid resident IDs.

Stable (a seeded random generator) and idempotent: nothing is added when the source's first
case (韩进 of 鱼台县滨湖街道城西村) is registered already. Rows go in with one multi-row INSERT
per table, so seeding stays fast (about 0.3 s for 3,000 persons on the test machine).
Includes the source's two cases: 韩进 of 滨湖街道城西村 and 辰辰, 4 years old, of 李阁镇.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

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
