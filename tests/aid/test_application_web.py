"""The applications' web pages, told from the Yutai desk: the charity files with a hospital bill and
sees the tier amount, the county reviewer decides on the page, finance pays one or several, the
charity follows up; refusals are shown on the page; nobody sees what is not theirs."""
from __future__ import annotations

import re
import uuid
from datetime import date
from io import BytesIO

import pytest
import sqlalchemy as sa

from ledger.aid.application_models import Application, ApplicationState, TierPolicyVersion
from ledger.aid.demo import demo_resident_id
from ledger.aid.models import Person
from ledger.auth.services import create_user
from ledger.documents.models import DocumentLink
from ledger.extensions import db
from ledger.journal.models import Fund, JournalEntry
from ledger.timeutil import utcnow
from tests.aid.conftest import YUTAI, Desk

S = ApplicationState
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def key() -> str:
    return uuid.uuid4().hex


def filing(person_id: int, **changes) -> dict:
    data = {"idempotency_key": key(), "person_id": str(person_id), "fund_code": YUTAI, "diagnosis": "急性白血病",
            "hospital": "济宁医学院附属医院", "total_cost": "55200", "reimbursed": "20000", "out_of_pocket": "",
            "urgency": "urgent", "amount_requested": "10000", "description": "", "submit_now": "1"}
    data.update(changes)
    return data


class Books:
    """Reads and set-up in an app context of their own: the pages' requests each have theirs (an
    app context held open across requests would carry one request's signed-in user into the next)."""

    def __init__(self, app):
        self.app = app

    def desk(self, work):
        with self.app.app_context():
            result = work(Desk(db.session))
            db.session.commit()
            return result

    def person(self, **options) -> int:
        return self.desk(lambda desk: desk.person(**options).id)

    def approved(self, **options) -> int:
        return self.desk(lambda desk: desk.approved(desk.person(**options), now=utcnow()).id)

    def application(self, application_id: int, *names):
        with self.app.app_context():
            found = db.session.get(Application, application_id)
            return tuple(getattr(found, name) for name in names) if len(names) > 1 else getattr(found, names[0])

    def state(self, application_id: int) -> S:
        return self.application(application_id, "state")

    def available(self, code: str = YUTAI) -> int:
        with self.app.app_context():
            return db.session.scalar(sa.select(Fund).where(Fund.code == code)).available_fen

    def scalar(self, query):
        with self.app.app_context():
            return db.session.scalar(query)

    def scalars(self, query):
        with self.app.app_context():
            return [tuple(row) for row in db.session.execute(query)]


def act(client, application_id: int, action: str, **fields):
    data = {f"{action}-idempotency_key": key(), **{f"{action}-{name}": value for name, value in fields.items()}}
    return client.post(f"/aid/applications/{application_id}/{action}", data=data)


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def books(demo_app):
    with demo_app.app_context():
        create_user(db.session, "charity_rencheng", "charity", "CSH-370811", "correct horse battery")
        db.session.commit()
    return Books(demo_app)


@pytest.fixture
def yutai(books, demo_user_client):
    clients = {name: demo_user_client(name) for name in ("charity_yutai", "reviewer_yutai", "reviewer", "finance",
                                                          "auditor", "admin")}
    for client in clients.values():
        client.get("/lang/en")
    return clients


def file_one(client, person_id: int, **changes) -> int:
    response = client.post("/aid/applications/new", data=filing(person_id, **changes))
    assert response.status_code == 302, text(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_the_charity_files_with_a_hospital_bill_and_the_desk_carries_it_to_the_card(books, yutai):
    charity, reviewer, finance = yutai["charity_yutai"], yutai["reviewer_yutai"], yutai["finance"]
    person = books.person(name="孙秀兰")
    found = charity.get("/aid/applications/new", query_string={"q": "孙秀兰"})
    assert found.status_code == 200 and f'value="{person}"' in found.get_data(as_text=True)

    response = charity.post("/aid/applications/new", content_type="multipart/form-data", data={
        **filing(person), "document_kind": ["hospital_bill", "diagnosis", "other"],
        "documents": [(BytesIO(PDF), "住院发票.pdf"), (BytesIO(b""), ""), (BytesIO(b""), "")]})
    assert response.status_code == 302
    application_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert books.state(application_id) == S.submitted
    links = books.scalars(sa.select(DocumentLink.id, DocumentLink.kind, DocumentLink.filename).where(
        DocumentLink.owner_id == application_id, DocumentLink.owner_kind == "aid_application"))
    assert [(kind.value, filename) for _id, kind, filename in links] == [("hospital_bill", "住院发票.pdf")]
    link_id = links[0][0]

    mine = text(charity.get("/aid/applications"))
    assert "SQ-2026-370827-" in mine and "h " in mine and "left" in mine  # the running clock, e.g. "23 h 59 min left"

    queue = text(reviewer.get("/aid/queue"))
    assert "孙秀兰" in queue and "left" in queue
    page = reviewer.get(f"/aid/applications/{application_id}")
    html = page.get_data(as_text=True)
    assert f"/documents/{link_id}" in html
    assert "tier 2 (&gt;= 20,000) 10,000.00 x 1.0" in html  # the suggestion with its rule
    assert reviewer.get(f"/documents/{link_id}").data == PDF

    before = books.available()
    assert act(reviewer, application_id, "start_review").status_code == 302
    assert act(reviewer, application_id, "approve", amount="", reason="").status_code == 302
    assert books.state(application_id) == S.approved
    assert books.available() == before - 10_000_00  # the hold
    assert "available" in text(reviewer.get(f"/aid/applications/{application_id}"))

    to_pay = text(finance.get("/aid/payments"))
    assert "孙秀兰" in to_pay and "Available in the fund" in to_pay
    paid = finance.post(f"/aid/applications/{application_id}/pay", data={"pay-idempotency_key": key(),
                                                                          "back": "payments"})
    assert paid.status_code == 302
    assert books.state(application_id) == S.paid
    voucher_no = books.scalar(sa.select(JournalEntry.voucher_no).where(
        JournalEntry.source_kind == "aid_application", JournalEntry.source_id == application_id))
    assert books.available() == before - 10_000_00
    after = finance.get(paid.headers["Location"]).get_data(as_text=True)
    assert f'href="/funds/entries/{voucher_no}"' in after
    assert "met in" in after

    closed = act(charity, application_id, "follow_up", kind="visit", outcome="已出院，恢复良好")
    assert closed.status_code == 302 and books.state(application_id) == S.closed
    history = text(charity.get(f"/aid/applications/{application_id}"))
    for step in ("Submitted", "Under review", "Approved", "Paid", "Case closed"):
        assert step in history
    assert voucher_no in history


def test_the_tier_amount_is_answered_as_the_charity_types(books, yutai):
    person = books.person(categories=("tekun_dispersed",))
    response = yutai["charity_yutai"].get("/aid/applications/suggestion",
                                          query_string={"fund": YUTAI, "out_of_pocket": "35200", "person": person})
    body = response.get_json()
    assert response.status_code == 200
    assert (body["amount"], body["amount_fen"]) == ("12,000.00", 12_000_00)
    assert body["rule"] == "out of pocket 35,200.00 -> tier 2 (>= 20,000) 10,000.00 x 1.2 = 12,000.00"
    assert yutai["charity_yutai"].get("/aid/applications/suggestion",
                                      query_string={"fund": YUTAI, "out_of_pocket": "12,3x"}).status_code == 422
    assert yutai["charity_yutai"].get("/aid/applications/suggestion",
                                      query_string={"fund": "370827-001", "out_of_pocket": "1"}).status_code == 404


def test_the_filer_cannot_approve_and_the_page_says_so(books, yutai):
    person = books.person()
    application_id = file_one(yutai["reviewer_yutai"], person)  # county staff file it themselves
    assert act(yutai["reviewer_yutai"], application_id, "start_review").status_code == 302
    refused = act(yutai["reviewer_yutai"], application_id, "approve", amount="8000")
    assert refused.status_code == 409
    assert "cannot approve it: another reviewer must decide" in text(refused)
    assert books.state(application_id) == S.under_review


def test_a_reason_is_asked_for_and_a_return_goes_back_to_the_charity(books, yutai):
    charity, reviewer = yutai["charity_yutai"], yutai["reviewer_yutai"]
    person = books.person()
    application_id = file_one(charity, person)
    act(reviewer, application_id, "start_review")
    blank = act(reviewer, application_id, "return", reason="")
    assert blank.status_code == 422 and "Say why." in text(blank)
    assert act(reviewer, application_id, "return", reason="请补充出院小结").status_code == 302
    assert books.state(application_id) == S.returned
    page = text(charity.get(f"/aid/applications/{application_id}"))
    assert "请补充出院小结" in page and "Resubmit" in page
    edit = charity.get(f"/aid/applications/{application_id}/edit")
    assert edit.status_code == 200
    saved = charity.post(f"/aid/applications/{application_id}/edit",
                         data=filing(person, amount_requested="9000"))
    assert saved.status_code == 302
    assert act(charity, application_id, "resubmit", reason="已补充").status_code == 302
    assert books.state(application_id) == S.resubmitted
    assert books.application(application_id, "amount_requested_fen") == 9_000_00


def test_above_the_county_limit_the_city_decides_from_its_escalated_list(books, yutai):
    application_id = file_one(yutai["charity_yutai"], books.person())
    act(yutai["reviewer_yutai"], application_id, "start_review")
    assert act(yutai["reviewer_yutai"], application_id, "approve", amount="12000").status_code == 302
    assert books.state(application_id) == S.escalated
    county_again = act(yutai["reviewer_yutai"], application_id, "approve", amount="")
    assert county_again.status_code == 403 and "a city reviewer decides it" in text(county_again)
    listed = text(yutai["reviewer"].get("/aid/escalated"))
    assert books.application(application_id, "number") in listed
    assert act(yutai["reviewer"], application_id, "approve", amount="").status_code == 302
    assert books.state(application_id) == S.approved


def test_finance_pays_several_in_one_step(books, yutai):
    first, second = books.approved(name="甲"), books.approved(name="乙")
    response = yutai["finance"].post("/aid/payments", data={"idempotency_key": key(),
                                                           "application": [str(first), str(second)]})
    assert response.status_code == 302
    assert (books.state(first), books.state(second)) == (S.paid, S.paid)
    assert "2 paid: vouchers" in text(yutai["finance"].get(response.headers["Location"]))


def test_nobody_sees_what_is_not_theirs_and_auditors_change_nothing(books, yutai, demo_user_client):
    rencheng = books.person(village="370811-001", name="任城人", by="reviewer")
    other = file_one(demo_user_client("charity_rencheng"), rencheng, fund_code="370811")
    assert yutai["charity_yutai"].get(f"/aid/applications/{other}").status_code == 404
    assert yutai["reviewer_yutai"].get(f"/aid/applications/{other}").status_code == 404
    assert yutai["auditor"].get(f"/aid/applications/{other}").status_code == 200
    assert act(yutai["auditor"], other, "withdraw").status_code == 403
    assert yutai["auditor"].post("/aid/payments", data={"idempotency_key": key()}).status_code == 403
    assert books.state(other) == S.submitted


def test_an_admin_adds_a_policy_version_and_a_used_version_stays_as_it_was(books, yutai):
    version_id, policy_id = books.desk(lambda desk: (lambda v: (v.id, v.policy_id))(desk.policy(YUTAI)))
    books.approved()  # uses the version
    admin = yutai["admin"]
    page = text(admin.get(f"/aid/policies/{policy_id}"))
    assert "used by a decision" in page and "tier 2" in page
    form = admin.get(f"/aid/policies/{policy_id}/versions/new").get_data(as_text=True)
    assert "20000 -&gt; 10000" in form
    bad = admin.post(f"/aid/policies/{policy_id}/versions/new", data={
        "idempotency_key": key(), "effective_on": "2026-12-01", "bands": "20000 -> ten", "annual_cap": "30000",
        "county_approval_max": "10000"})
    assert bad.status_code == 422 and "Line 1 is not" in text(bad)
    added = admin.post(f"/aid/policies/{policy_id}/versions/new", data={
        "idempotency_key": key(), "effective_on": "2026-12-01", "bands": "10000 -> 9000\n20000 -> 11000",
        "annual_cap": "35000", "county_approval_max": "10000", "factor_tekun_dispersed": "1.5"})
    assert added.status_code == 302
    page = text(admin.get(f"/aid/policies/{policy_id}"))
    assert "11,000.00" in page and "× 1.5" in page and "not used yet" in page
    bands = books.desk(lambda desk: [band.amount_fen for band in desk.session.get(TierPolicyVersion, version_id).bands])
    assert bands == [8_000_00, 10_000_00, 12_000_00]
    assert yutai["reviewer_yutai"].get(f"/aid/policies/{policy_id}/versions/new").status_code == 403


def test_the_start_pages_show_the_charitys_applications_and_the_reviewers_queue_head(books, yutai):
    application_id = file_one(yutai["charity_yutai"], books.person(name="丙"))
    number = books.application(application_id, "number")
    charity = text(yutai["charity_yutai"].get("/"))
    assert "Your aid applications" in charity and number in charity and "left" in charity
    reviewer = yutai["reviewer_yutai"].get("/").get_data(as_text=True)
    head = reviewer[reviewer.index('id="aid-title"'):]
    assert "most urgent first" in head and number in head


@pytest.mark.parametrize("field", ["diagnosis", "hospital", "description"])
def test_a_control_character_in_a_filing_is_refused_at_its_field_and_nothing_is_filed(books, yutai, field):
    count = books.scalar(sa.select(sa.func.count()).select_from(Application))
    response = yutai["charity_yutai"].post("/aid/applications/new",
                                           data=filing(books.person(), **{field: "急性\x1b白血病"}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error"[^>]*>[^<]*control character', html), field
    assert books.scalar(sa.select(sa.func.count()).select_from(Application)) == count


def test_fullwidth_digits_of_a_chinese_input_method_are_read_as_yuan(books, yutai):
    application_id = file_one(yutai["charity_yutai"], books.person(), total_cost="５５２００", reimbursed="２００００",
                              amount_requested="１００００．５０")
    assert books.application(application_id, "out_of_pocket_fen", "amount_requested_fen") == (35_200_00, 10_000_50)


def test_a_person_registered_on_the_way_comes_back_chosen_on_the_new_application(books, yutai):
    charity = yutai["charity_yutai"]
    assert 'href="/aid/persons/new?then=application"' in charity.get("/aid/applications/new").get_data(as_text=True)
    resident_id = demo_resident_id(YUTAI, date(1968, 2, 9), 477, True)
    response = charity.post("/aid/persons/new?then=application", data={
        "idempotency_key": key(), "name": "路上登", "resident_id": resident_id, "village_code": "370827-001",
        "relation": "head", "category": "", "bank_name": "中国农业银行", "bank_account_number": "6228480123456789012",
        "bank_account_holder": "路上登"})
    assert response.status_code == 302, text(response)
    person_id = books.scalar(sa.select(Person.id).where(Person.resident_id == resident_id))
    assert response.headers["Location"] == f"/aid/applications/new?person={person_id}"
    form = charity.get(response.headers["Location"]).get_data(as_text=True)
    assert f'<option selected value="{person_id}">路上登' in form


def test_the_charity_withdraws_before_a_decision_and_a_reviewer_escalates_by_hand(books, yutai):
    charity, reviewer = yutai["charity_yutai"], yutai["reviewer_yutai"]
    draft = file_one(charity, books.person(), submit_now="")
    assert books.state(draft) == S.draft
    assert act(charity, draft, "submit").status_code == 302 and books.state(draft) == S.submitted
    assert act(charity, draft, "withdraw", reason="家属已筹到款").status_code == 302
    assert books.state(draft) == S.withdrawn
    withdrawn = charity.get(f"/aid/applications/{draft}").get_data(as_text=True)
    assert 'id="action-withdraw"' not in withdrawn and "clock-stopped" in withdrawn

    by_hand = file_one(charity, books.person())
    act(reviewer, by_hand, "start_review")
    assert act(reviewer, by_hand, "escalate", reason="跨县就医，请市级统筹").status_code == 302
    assert books.state(by_hand) == S.escalated
    assert "跨县就医，请市级统筹" in text(yutai["reviewer"].get(f"/aid/applications/{by_hand}"))


def test_a_program_renamed_pdf_is_refused_on_the_applications_page(books, yutai):
    application_id = file_one(yutai["charity_yutai"], books.person())
    refused = yutai["charity_yutai"].post(f"/aid/applications/{application_id}/documents",
                                          content_type="multipart/form-data",
                                          data={"kind": "hospital_bill", "file": (BytesIO(b"MZ\x90\x00" + b"\x00" * 64),
                                                                                  "发票.pdf")})
    assert refused.status_code == 422
    assert re.search(r'id="file-error">not a PDF, JPEG or PNG document<', refused.get_data(as_text=True))
    assert books.scalar(sa.select(sa.func.count()).select_from(DocumentLink).where(
        DocumentLink.owner_kind == "aid_application", DocumentLink.owner_id == application_id)) == 0


def test_aid_on_minimal_documents_is_listed_when_its_paperwork_is_late_until_it_arrives(books, yutai):
    from datetime import timedelta

    from ledger.aid import applications

    def approved_two_weeks_ago(desk):
        earlier = utcnow() - timedelta(days=14)
        filed = desk.file(desk.person(), urgency="urgent", now=earlier)
        applications.start_review(desk.session, desk.user("reviewer_yutai"), filed.id, now=earlier)
        applications.approve_application(desk.session, desk.user("reviewer_yutai"), filed.id, minimal_documents=True,
                                         now=earlier + timedelta(minutes=20))
        return filed.id, filed.number

    application_id, number = books.desk(approved_two_weeks_ago)
    reviewer = yutai["reviewer_yutai"]
    assert number in text(reviewer.get("/aid/paperwork"))
    page = text(reviewer.get(f"/aid/applications/{application_id}"))
    assert "Aided on minimal documents" in page and "full paperwork due on" in page
    assert act(reviewer, application_id, "paperwork").status_code == 302
    assert number not in text(reviewer.get("/aid/paperwork"))
    assert "full paperwork received" in text(reviewer.get(f"/aid/applications/{application_id}"))
    # a normal case offers no 先行救助 option
    normal = books.desk(lambda desk: applications.start_review(
        desk.session, desk.user("reviewer_yutai"), desk.file(desk.person(), now=utcnow()).id).id)
    assert "approve-minimal_documents" not in reviewer.get(f"/aid/applications/{normal}").get_data(as_text=True)
    urgent = file_one(yutai["charity_yutai"], books.person())
    act(reviewer, urgent, "start_review")
    assert "approve-minimal_documents" in reviewer.get(f"/aid/applications/{urgent}").get_data(as_text=True)
