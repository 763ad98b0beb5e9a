"""The aid desk: the demo data with a tier policy we control, fresh persons and more users.

`desk` works in one app context on the demo database: Yutai (370827, its village 城西村
370827-001), Rencheng (370811), the city fund 370800; the demo users charity_yutai,
reviewer_yutai (county), reviewer (city), finance, auditor, admin; and, made here, a second Yutai
reviewer (reviewer_yutai_2) and a Rencheng charity user (charity_rencheng).
"""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from ledger.aid import applications, policies
from ledger.aid.application_models import TierPolicy
from ledger.aid.demo import demo_resident_id
from ledger.aid.models import Category
from ledger.aid.services import CategoryInput, PersonInput, register_person
from ledger.auth.models import User
from ledger.auth.services import create_user
from ledger.extensions import db
from ledger.journal.models import Fund

YUTAI, CHENGXI, RENCHENG, CITY = "370827", "370827-001", "370811", "370800"
BANDS = ((10_000_00, 8_000_00), (20_000_00, 10_000_00), (40_000_00, 12_000_00))
_sequence = itertools.count(300)

#: A moment in 2026 the books are open for: 10:00 on 10 March 2026 in Jining (02:00 UTC).
MARCH_10 = datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc)


class Desk:
    def __init__(self, session):
        self.session = session

    def user(self, username: str) -> User:
        return self.session.scalar(sa.select(User).where(User.username == username))

    def person(self, *, village: str = CHENGXI, categories=(Category.dibao,), head=None, name="孙秀兰",
               born=date(1960, 5, 4), card=True, by="reviewer_yutai"):
        county = village.split("-")[0]
        resident_id = demo_resident_id(county, born, next(_sequence), False)
        data = PersonInput(name=name, resident_id=resident_id, village_code=village,
                           household_head_resident_id=head.resident_id if head else None,
                           relation="spouse" if head else "head",
                           categories=tuple(CategoryInput(category, date(2020, 1, 1)) for category in categories),
                           bank_name="中国农业银行" if card else "",
                           bank_account_number="6228480123456789012" if card else "",
                           bank_account_holder=name if card else "")
        reviewer = self.user(by)
        return register_person(self.session, reviewer, data).person

    def policy(self, fund_code: str = YUTAI, *, cap=30_000_00, county_max=10_000_00, once=False,
               effective_on=date(2026, 1, 1), bands=BANDS, factors=None):
        """The fund's policy with a version of these rules in force from `effective_on`."""
        rules = policies.VersionInput(effective_on=effective_on, annual_cap_fen=cap, county_approval_max_fen=county_max,
                                      once_per_household_per_year=once, bands=bands,
                                      factors=factors if factors is not None else {Category.tekun_dispersed: 1200,
                                                                                   Category.dibao: 1000})
        fund_id = self.session.scalar(sa.select(Fund.id).where(Fund.code == fund_code))
        policy = self.session.scalar(sa.select(TierPolicy).where(TierPolicy.fund_id == fund_id))
        if policy is None:
            policy = policies.create_policy(self.session, None, fund_code, f"{fund_code} 分级救助", rules)
            version = policy.versions[-1]
        else:
            version = policies.add_version(self.session, None, policy.id, rules)
        self.session.commit()
        return version

    def file(self, person, *, fund=YUTAI, out_of_pocket=35_200_00, asked=10_000_00, urgency="normal",
             reported_at=None, by="charity_yutai", submit=True, now=MARCH_10):
        data = applications.ApplicationInput(
            person_id=person.id, fund_code=fund, diagnosis="急性白血病", hospital="济宁医学院附属医院",
            total_cost_fen=out_of_pocket + 20_000_00, reimbursed_fen=20_000_00, amount_requested_fen=asked,
            urgency=urgency, reported_at=reported_at)
        application = applications.file_application(self.session, self.user(by), data, submit=submit, now=now)
        self.session.commit()
        return application

    def under_review(self, person, *, reviewer="reviewer_yutai", now=MARCH_10, **filing):
        application = self.file(person, now=now, **filing)
        applications.start_review(self.session, self.user(reviewer), application.id, now=now)
        self.session.commit()
        return application

    def approved(self, person, *, amount=None, reviewer="reviewer_yutai", now=MARCH_10, **filing):
        application = self.under_review(person, reviewer=reviewer, now=now, **filing)
        applications.approve_application(self.session, self.user(reviewer), application.id, amount_fen=amount,
                                         now=now + timedelta(minutes=30))
        self.session.commit()
        return application

    def pending(self, fund_code: str) -> int:
        """The fund's pending holds as the books keep them (released only when the fund is next locked)."""
        self.session.expire_all()
        return self.session.scalar(sa.select(Fund.pending_fen).where(Fund.code == fund_code))

    def available(self, fund_code: str) -> int:
        self.session.expire_all()
        return self.session.scalar(sa.select(Fund).where(Fund.code == fund_code)).available_fen


@pytest.fixture
def desk(demo_app):
    with demo_app.app_context():
        session = db.session
        create_user(session, "reviewer_yutai_2", "reviewer", "MZJ-370827", "correct horse battery")
        create_user(session, "charity_rencheng", "charity", "CSH-370811", "correct horse battery")
        session.commit()
        yield Desk(session)
