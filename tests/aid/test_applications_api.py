"""The applications API, as the demo users meet it: the charity files, the county reviewer approves
(the fund's available balance drops by the hold), finance pays (the clock shows met), the charity
follows up; the rule of the suggestion in the reader's language; replays and refusals.
"""
from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from ledger.aid.application_models import Application
from ledger.aid.models import Person
from ledger.auth.models import Region
from ledger.extensions import db
from ledger.journal.models import Fund
from tests.aid.conftest import YUTAI

_keys = itertools.count(1)


class Api:
    def __init__(self, client, headers):
        self.client, self.headers = client, dict(headers)

    def get(self, path, **kwargs):
        return self.client.get("/api/v1/aid" + path, headers=self.headers, **kwargs)

    def post(self, path, json=None, key=None, **kwargs):
        headers = dict(self.headers)
        if key is not False:
            headers["Idempotency-Key"] = key or f"application-{next(_keys)}"
        return self.client.post("/api/v1/aid" + path, json=json if json is not None else {}, headers=headers,
                                **kwargs)


@pytest.fixture
def api(demo_app, demo_token_for):
    client = demo_app.test_client()
    return lambda username, **headers: Api(client, {**demo_token_for(username), **headers})


def available(app, code=YUTAI) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Fund).where(Fund.code == code)).available_fen


def fresh_person(app) -> int:
    """A Yutai person with a bank card and no application in the demo."""
    with app.app_context():
        yutai = db.session.scalar(sa.select(Region.id).where(Region.code == YUTAI))
        return db.session.scalar(sa.select(Person.id).where(
            Person.county_id == yutai, Person.bank_account_number != "",
            Person.id.not_in(sa.select(Application.person_id))).order_by(Person.id.desc()).limit(1))


def filing(person_id, **changes) -> dict:
    body = {"person_id": person_id, "fund_code": YUTAI, "diagnosis": "急性心肌梗死", "hospital": "鱼台县人民医院",
            "total_cost": "65200.00", "reimbursed": "30000.00", "amount_requested": "10000.00",
            "urgency": "urgent", "submit": True}
    body.update(changes)
    return body


def test_the_story_from_filing_to_follow_up(demo_app, api):
    charity, reviewer, finance = api("charity_yutai"), api("reviewer_yutai"), api("finance")
    filed = charity.post("/applications", filing(fresh_person(demo_app)))
    assert filed.status_code == 201, filed.get_json()
    application = filed.get_json()
    assert application["state"] == "submitted" and application["out_of_pocket"] == "35200.00"
    assert application["clock"]["state"] == "running" and application["clock"]["text"].endswith("left")
    number = application["id"]
    assert [item["id"] for item in reviewer.get("/queue?per_page=200").get_json()["items"]].count(number) == 1

    before = available(demo_app)
    assert reviewer.post(f"/applications/{number}/start-review").status_code == 200
    approved = reviewer.post(f"/applications/{number}/approve", {"reason": "符合第二档"})
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["state"] == "approved" and approved.get_json()["amount_approved"] == "10000.00"
    assert approved.get_json()["clock"]["state"] == "running"  # an approval does not meet the clock
    assert available(demo_app) == before - 10_000_00
    assert approved.get_json()["suggestion"] == "out of pocket 35,200.00 -> tier 2 (>= 20,000) 10,000.00 x 1.0"
    in_chinese = api("reviewer_yutai", **{"Accept-Language": "zh-CN"}).get(f"/applications/{number}").get_json()
    assert in_chinese["suggestion"] == "自付 35,200.00 -> 第二档（≥ 20,000）10,000.00 × 1.0"

    paid = finance.post(f"/applications/{number}/pay")
    assert paid.status_code == 200, paid.get_json()
    assert paid.get_json()["state"] == "paid" and paid.get_json()["clock"]["state"] == "met"
    assert paid.get_json()["payment_voucher_no"].startswith("JZ-")
    assert available(demo_app) == before - 10_000_00

    closed = charity.post(f"/applications/{number}/follow-up", {"kind": "call", "outcome": "电话回访，已康复出院"})
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    history = charity.get(f"/applications/{number}/history").get_json()["items"]
    assert [item["action"] for item in history] == ["file", "submit", "start_review", "approve", "pay", "follow_up"]
    assert history[3]["user"] == "reviewer_yutai" and history[3]["reason"] == "符合第二档"


def test_an_approval_replayed_with_its_key_places_one_hold(demo_app, api):
    charity, reviewer = api("charity_yutai"), api("reviewer_yutai")
    number = charity.post("/applications", filing(fresh_person(demo_app))).get_json()["id"]
    reviewer.post(f"/applications/{number}/start-review")
    before = available(demo_app)
    first = reviewer.post(f"/applications/{number}/approve", {}, key="approve-once")
    again = reviewer.post(f"/applications/{number}/approve", {}, key="approve-once")
    assert first.status_code == again.status_code == 200
    assert first.get_json()["hold_id"] == again.get_json()["hold_id"]
    assert available(demo_app) == before - 10_000_00
    other_body = reviewer.post(f"/applications/{number}/approve", {"reason": "x"}, key="approve-once")
    assert other_body.status_code == 409


def test_the_suggestion_reads_in_the_readers_language(demo_app, api):
    policies = api("charity_yutai").get("/policies").get_json()["items"]
    yutai = next(policy for policy in policies if policy["fund_code"] == YUTAI)
    assert {policy["fund_code"] for policy in policies} <= {YUTAI, "370800"}
    query = "?out_of_pocket=35200.00&categories=dibao"
    chinese = api("charity_yutai", **{"Accept-Language": "zh-CN"}).get(f"/policies/{yutai['id']}/suggestion{query}")
    assert chinese.status_code == 200, chinese.get_json()
    assert chinese.get_json()["rule"] == "自付 35,200.00 -> 第二档（≥ 20,000）10,000.00 × 1.0"
    assert chinese.get_json()["amount"] == "10000.00"
    english = api("charity_yutai").get(f"/policies/{yutai['id']}/suggestion?out_of_pocket=45000.00&categories=orphan")
    assert english.get_json()["rule"] == "out of pocket 45,000.00 -> tier 3 (>= 40,000) 12,000.00 x 1.2 = 14,400.00"
    below = api("charity_yutai", **{"Accept-Language": "zh-CN"}).get(
        f"/policies/{yutai['id']}/suggestion?out_of_pocket=9000.00")
    assert below.get_json()["amount"] == "0.00" and "未达第一档" in below.get_json()["rule"]


def test_refusals_name_their_rule(demo_app, api):
    charity, reviewer = api("charity_yutai"), api("reviewer_yutai")
    bad = charity.post("/applications", filing(fresh_person(demo_app), total_cost="1000.00", reimbursed="2000.00"))
    assert bad.status_code == 422 and "reimbursed" in bad.get_json()["error"]["fields"]
    number = charity.post("/applications", filing(fresh_person(demo_app))).get_json()["id"]
    illegal = api("finance").post(f"/applications/{number}/pay")
    assert illegal.status_code == 409 and illegal.get_json()["error"]["code"] == "illegal_transition"
    reviewer.post(f"/applications/{number}/start-review")
    own = api("reviewer_yutai").post("/applications", filing(fresh_person(demo_app))).get_json()["id"]
    reviewer.post(f"/applications/{own}/start-review")
    same_hands = reviewer.post(f"/applications/{own}/approve")
    assert same_hands.status_code == 409 and same_hands.get_json()["error"]["code"] == "maker_checker"
    escalated = reviewer.post(f"/applications/{number}/approve", {"amount": "12000.00"})
    assert escalated.get_json()["state"] == "escalated"
    county_again = reviewer.post(f"/applications/{number}/approve")
    assert county_again.status_code == 403 and county_again.get_json()["error"]["code"] == "city_decision_required"
    city = api("reviewer").post(f"/applications/{number}/approve")
    assert city.status_code == 200 and city.get_json()["state"] == "approved"


def test_another_county_charity_sees_no_yutai_application_and_pays_several_at_once(demo_app, api):
    charity = api("charity_yutai")
    numbers = []
    for _ in range(2):
        number = charity.post("/applications", filing(fresh_person(demo_app))).get_json()["id"]
        api("reviewer_yutai").post(f"/applications/{number}/start-review")
        api("reviewer_yutai").post(f"/applications/{number}/approve", {"amount": "5000.00"})
        numbers.append(number)
    rencheng = next(item for item in api("reviewer").get("/applications?per_page=200").get_json()["items"]
                    if item["county_code"] == "370811")
    assert charity.get(f"/applications/{rencheng['id']}").status_code == 404
    paid = api("finance").post("/applications/pay", {"applications": numbers})
    assert paid.status_code == 200, paid.get_json()
    assert [item["state"] for item in paid.get_json()["items"]] == ["paid", "paid"]
    figures = charity.get(f"/persons/{paid.get_json()['items'][0]['person']['id']}/year-to-date").get_json()
    assert figures["person"] == "5000.00" and figures["funds"][0]["fund_code"] == YUTAI
