"""Demo data of the real shape: Jining, its 11 counties, 333 villages / communities,
the bureaus, a charity organisation per county, care vendors, one user per role, the 32,000
supported persons under home care.

Idempotent: every row is found by its stable code first and created only if missing.
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .auth.models import Organisation, OrganisationKind, Region, RegionLevel, Role, User
from .auth.services import hash_password
from .aid.demo import seed_applications, seed_persons
from .funds.demo import seed_funds
from .vendors.demo import seed_care
from .vendors.person_demo import seed_supported_persons
from .vendors.visit_demo import seed_visits

CITY = ("370800", "济宁市", "Jining")

# GB/T 2260 codes of Jining's 11 county-level divisions, with a few real townships each.
COUNTIES = [
    ("370811", "任城区", "Rencheng", ["济阳街道", "南苑街道", "李营街道", "唐口街道", "长沟镇"]),
    ("370812", "兖州区", "Yanzhou", ["鼓楼街道", "龙桥街道", "新兖镇", "漕河镇", "颜店镇"]),
    ("370881", "曲阜市", "Qufu", ["鲁城街道", "书院街道", "陵城镇", "尼山镇", "吴村镇"]),
    ("370883", "邹城市", "Zoucheng", ["钢山街道", "千泉街道", "峄山镇", "太平镇", "石墙镇"]),
    ("370826", "微山县", "Weishan", ["夏镇街道", "韩庄镇", "两城镇", "鲁桥镇", "马坡镇"]),
    ("370827", "鱼台县", "Yutai", ["滨湖街道", "谷亭街道", "李阁镇", "王鲁镇", "张黄镇"]),
    ("370828", "金乡县", "Jinxiang", ["金乡街道", "高河街道", "羊山镇", "鸡黍镇", "胡集镇"]),
    ("370829", "嘉祥县", "Jiaxiang", ["嘉祥街道", "纸坊镇", "梁宝寺镇", "马村镇", "满硐镇"]),
    ("370830", "汶上县", "Wenshang", ["汶上街道", "南站镇", "康驿镇", "苑庄镇", "郭楼镇"]),
    ("370831", "泗水县", "Sishui", ["泗河街道", "济河街道", "泉林镇", "星村镇", "柘沟镇"]),
    ("370832", "梁山县", "Liangshan", ["水泊街道", "梁山街道", "小安山镇", "寿张集镇", "拳铺镇"]),
]

VILLAGE_COUNT = 333

_PREFIXES = "东西南北前后大小王李张刘陈杨赵孙周吴郑冯朱胡高林马何郭罗田韩孔颜孟曹"
_MIDDLES = ["庄", "楼", "店", "集", "屯", "营", "寨", "湖", "河", "桥", "园", "岗", "洼", "口", "坊", "坡", "堂"]
_COMMUNITY_NAMES = ["城西", "城东", "滨河", "兴华", "幸福", "和平", "翠园", "文昌", "建设", "育才", "龙泉", "惠民"]

VENDORS = [
    ("HL-370800-01", "济宁市颐养居家照护服务中心", "91370800MA3C5K7U5M"),
    ("HL-370800-02", "济宁康宁护理院有限公司", "91370811MA3NG91W20"),
    ("HL-370800-03", "鲁南福寿社会工作服务社", "52370800MJE318722J"),
]

DEMO_USERS = [
    # username, role, organisation code, display name
    ("admin", Role.admin, "MZJ-370800", "系统管理员"),
    ("finance", Role.finance, "MZJ-370800", "财务 王会计"),
    ("reviewer", Role.reviewer, "MZJ-370800", "市民政 杜审核"),
    ("reviewer_yutai", Role.reviewer, "MZJ-370827", "鱼台县民政 李审核"),
    ("charity_yutai", Role.charity, "CSH-370827", "鱼台县慈善总会 张专干"),
    ("vendor", Role.vendor, "HL-370800-01", "颐养居家照护 陈经理"),
    ("auditor", Role.auditor, "SJ-370800", "审计 刘审计师"),
]


@dataclass
class SeedResult:
    created_regions: int = 0
    created_organisations: int = 0
    credentials: list[tuple[str, str, str]] | None = None  # (username, role, password) created now
    created_persons: int = 0
    created_applications: int = 0
    created_supported_persons: int = 0
    created_visits: int = 0
    #: (file name, bytes) of a visit file for the user to upload, written to the instance folder by seed-demo
    visit_file: tuple[str, bytes] | None = None


def village_names(county_code: str, townships: list[str], count: int) -> list[str]:
    """Plausible, unique, stable village / community names for one county."""
    rng = random.Random(int(county_code))
    names: list[str] = []
    seen = set()
    if county_code == "370827":
        names.append("滨湖街道城西村")  # the village in the source article
        seen.add(names[0])
    while len(names) < count:
        township = townships[len(names) % len(townships)]
        if township.endswith("街道") and rng.random() < 0.6:
            name = township + rng.choice(_COMMUNITY_NAMES) + "社区"
        else:
            name = township + rng.choice(_PREFIXES) + rng.choice(_PREFIXES + "家") + rng.choice(_MIDDLES) + "村"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def villages_per_county() -> list[int]:
    base, extra = divmod(VILLAGE_COUNT, len(COUNTIES))
    return [base + (1 if index < extra else 0) for index in range(len(COUNTIES))]


def _get_or_create(session: Session, model, code: str, **values):
    row = session.scalar(sa.select(model).where(model.code == code))
    if row is not None:
        return row, False
    row = model(code=code, **values)
    session.add(row)
    session.flush()
    return row, True


def seed_regions_and_organisations(session: Session, result: SeedResult) -> None:
    city, created = _get_or_create(session, Region, CITY[0], name=CITY[1], name_en=CITY[2], level=RegionLevel.city)
    result.created_regions += created
    organisations = [
        ("MZJ-370800", "济宁市民政局", OrganisationKind.city_bureau, city),
        ("SJ-370800", "济宁市审计局", OrganisationKind.city_bureau, city),
    ]
    for (county_code, name, name_en, townships), count in zip(COUNTIES, villages_per_county()):
        county, created = _get_or_create(session, Region, county_code, name=name, name_en=name_en,
                                         level=RegionLevel.county, parent_id=city.id)
        result.created_regions += created
        for index, village in enumerate(village_names(county_code, townships, count), start=1):
            _, created = _get_or_create(session, Region, f"{county_code}-{index:03d}", name=village,
                                        level=RegionLevel.village, parent_id=county.id)
            result.created_regions += created
        organisations.append((f"MZJ-{county_code}", f"{name}民政局", OrganisationKind.county_bureau, county))
        organisations.append((f"CSH-{county_code}", f"{name}慈善总会", OrganisationKind.charity, county))
    for code, name, credit_code in VENDORS:
        organisations.append((code, name, OrganisationKind.vendor, city, credit_code))
    for code, name, kind, region, *credit in organisations:
        _, created = _get_or_create(session, Organisation, code, name=name, kind=kind, region_id=region.id,
                                    credit_code=credit[0] if credit else None)
        result.created_organisations += created


def seed_users(session: Session, result: SeedResult) -> None:
    result.credentials = []
    for username, role, org_code, display_name in DEMO_USERS:
        if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
            continue
        organisation = session.scalar(sa.select(Organisation).where(Organisation.code == org_code))
        password = "jsj-" + secrets.token_urlsafe(9)
        session.add(User(username=username, role=role, organisation=organisation, display_name=display_name,
                         password_hash=hash_password(password), active=True, failed_login_count=0))
        result.credentials.append((username, role.value, password))
    session.flush()


def seed(session: Session) -> SeedResult:
    """Create whatever demo data is missing. The caller commits."""
    result = SeedResult()
    seed_regions_and_organisations(session, result)
    seed_users(session, result)

    seed_funds(session)
    result.created_persons = seed_persons(session)
    seed_care(session)
    result.created_applications = seed_applications(session)
    result.created_supported_persons = seed_supported_persons(session)
    result.created_visits, name, data = seed_visits(session)
    result.visit_file = (name, data)
    return result
