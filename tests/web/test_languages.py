"""Every page speaks the reader's language: a Chinese page shows no English sentence of the catalog
and no refusal in English; an English page shows no Chinese outside what people entered (names of
places, organisations, people and payees, memos and reasons typed in).

Each demo role signs in, walks every page it can reach from its start page (links followed
breadth-first, a few of each kind: one fund page stands for the 345), and sends the forms a person
gets wrong (an over-large hold payment, a report whose period ends before it starts, a missing
record), once in Chinese and once in English.
"""
from __future__ import annotations

import re
from collections import Counter, deque
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from ledger.extensions import db
from ledger.timeutil import local_today

ROLES = ("admin", "finance", "reviewer", "reviewer_yutai", "charity_yutai", "vendor", "auditor")
CATALOG = Path(__file__).resolve().parents[2] / "ledger" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdr]|%[sd]")
#: Pages of one kind (digits replaced) visited per walk; links that download a file are not pages.
PER_KIND, MAX_PAGES = 2, 60
SKIPPED = re.compile(r"^/(static|logout|lang/)|[?&]export=|/file$|\.(pdf|csv|xlsx)\b|^/api/|^/reports/generate")


class VisibleText(HTMLParser):
    """The text a person reads: text nodes and the attributes shown as text, without scripts
    (chart data in `application/json` scripts is read: its labels are drawn) and without elements
    marked as another language (the 中文 / English switch)."""

    SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

    def __init__(self, language: str):
        super().__init__(convert_charrefs=True)
        self.language, self.parts, self.links, self._skip = language, [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        other_language = attrs.get("lang") and not attrs["lang"].startswith(self.language[:2]) and tag != "html"
        hidden = tag in ("script", "style") and attrs.get("type") != "application/json"
        if tag not in ("br", "img", "input", "meta", "link", "hr", "source", "wbr", "area", "col"):
            self._skip.append(bool(other_language or hidden or (self._skip and self._skip[-1])))
        if self._skip and self._skip[-1]:
            return
        self.parts.extend(attrs[name] for name in self.SHOWN_ATTRIBUTES if attrs.get(name))
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if self._skip and tag not in ("br", "img", "input", "meta", "link", "hr", "source", "wbr", "area", "col"):
            self._skip.pop()

    def handle_data(self, data):
        if not (self._skip and self._skip[-1]):
            self.parts.append(data)


def read_page(html: str, language: str) -> tuple[str, list[str]]:
    parser = VisibleText(language)
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split()), parser.links


@pytest.fixture(scope="module")
def english_sentences():
    """Each English sentence of the catalog (unless its Chinese is the same text), as a pattern
    (placeholders match any short run of text)."""
    with open(CATALOG, "rb") as po:
        catalog = read_po(po)
    patterns = []
    for message in catalog:
        msgid = message.id if isinstance(message.id, str) else (message.id or [""])[0]
        if not msgid or message.string == msgid:  # untranslated ones count: they are what leaks
            continue
        words = re.findall(r"[A-Za-z]{2,}", PLACEHOLDER.sub(" ", msgid))
        if len(words) < 3:  # "Fund", "Log in": too short to tell a leak from a code or a name
            continue
        parts = [re.escape(" ".join(part.split())) for part in PLACEHOLDER.split(msgid)]
        patterns.append((msgid, re.compile(r".{0,80}?".join(parts))))
    assert len(patterns) > 300, "the catalog's sentences are read"
    return patterns


@pytest.fixture
def entered_data(demo_app):
    """What people (or the demo's loader, standing in for them) typed: places, organisations, people,
    payees and payers, memos and reasons. Longest first, so a name is removed before its parts."""
    from ledger.aid.application_models import Application, TierPolicy
    from ledger.aid.models import Person
    from ledger.audit import AuditEvent
    from ledger.auth.models import Organisation, Region, User
    from ledger.documents.models import DocumentLink, StoredDocument
    from ledger.journal.models import Hold, JournalEntry
    from ledger.vendors.models import ContractVersion, VendorProfile, Worker
    from ledger.vendors.person_models import CareAssessment, SupportedPerson, SupportedStatusChange
    from ledger.vendors.visit_models import CareVisit, VisitResolution, VisitUpload

    with demo_app.app_context():
        texts = set()
        for column in (Region.name, Organisation.name, User.display_name, JournalEntry.counterparty_name,
                       JournalEntry.memo, JournalEntry.reversal_reason, Hold.payee_name, Hold.memo,
                       Person.name, Person.address, Person.bank_name, Person.bank_account_holder,
                       StoredDocument.filename, DocumentLink.filename,
                       SupportedPerson.name, SupportedPerson.address, CareAssessment.assessor,
                       SupportedStatusChange.note,
                       VendorProfile.contact_name, VendorProfile.bank_name, VendorProfile.bank_account_holder,
                       Worker.name, ContractVersion.note, CareVisit.address, VisitUpload.filename,
                       VisitResolution.reason,
                       Application.diagnosis, Application.hospital, Application.description,
                       Application.decision_reason, Application.follow_up_outcome, TierPolicy.name):
            texts.update(value for value in db.session.scalars(sa.select(column).distinct()) if value)
        # the reasons typed with each move of an application (its history shows them)
        texts.update(detail.get("reason") for detail in db.session.scalars(
            sa.select(AuditEvent.detail).where(AuditEvent.action.like("aid_application.%"))) if detail.get("reason"))
    pieces = set()
    for text in texts:
        pieces.add(text)
        pieces.update(part for part in re.split(r"[\s·:：,，;；()（）]+", text) if part)
    return sorted(pieces, key=len, reverse=True)


def chinese_problems(text: str, english_sentences) -> list[str]:
    return [msgid for msgid, pattern in english_sentences if pattern.search(text)]


def english_problems(text: str, entered_data) -> list[str]:
    for piece in entered_data:
        if CJK.search(piece):
            text = text.replace(piece, " ")
    return sorted({match.group(0) for match in re.finditer(r"\S*[\u3400-\u9fff\uf900-\ufaff]+\S*", text)})


def walk(client, start="/"):
    """(path, status, html) of every page reachable from `start`, a few of each kind."""
    queue, seen, kinds, pages = deque([start]), {start}, Counter(), []
    while queue and len(pages) < MAX_PAGES:
        path = queue.popleft()
        response = client.get(path)
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        pages.append((path, response.status_code, html))
        for href in read_page(html, "zh")[1]:
            href = href.split("#")[0]
            if not href.startswith("/") or href.startswith("//") or SKIPPED.search(href) or href in seen:
                continue
            kind = re.sub(r"\d+", "0", href)
            if kinds[kind] >= PER_KIND:
                continue
            kinds[kind] += 1
            seen.add(href)
            queue.append(href)
    return pages


def mistakes(demo_app, client, username):
    """(what, status, html) of the refusals a person of this role meets on bad input, and the pages
    no link leads to (the web statement, a hold's void form, a month's close confirmation)."""
    from ledger.journal.models import Hold, HoldState

    pages = [("a missing fund", *_page(client.get("/funds/999999"))),
             ("a missing voucher", *_page(client.get("/funds/entries/JZ-2026-370827-999999")))]
    if username in ("auditor", "finance", "reviewer", "reviewer_yutai"):
        bad = client.get("/reports/generate", query_string={"kind": "fund-statement", "format": "pdf", "fund": "370827",
                                                            "from": "2026-03-01", "to": "2026-02-01"})
        pages.append(("a report that ends before it starts", *_page(bad)))
        unknown = client.get("/reports/generate", query_string={"kind": "fund-statement", "format": "pdf",
                                                                "fund": "999999", "from": "2026-01-01",
                                                                "to": "2026-01-31"})
        pages.append(("a report on an unknown fund", *_page(unknown)))
        funds = ("370827",) if username == "reviewer_yutai" else ("370827", "370800")
        for fund in funds:  # a county with its villages; the city with everything below
            statement = client.get("/reports/fund-statement", query_string={"fund": fund, "from": "2026-01-01",
                                                                            "to": "2026-03-31"})
            assert statement.status_code == 200
            pages.append((f"the web statement of {fund}", *_page(statement)))
    if username == "finance":
        with demo_app.app_context():
            hold_id, amount_fen = db.session.execute(sa.select(Hold.id, Hold.amount_fen).where(
                Hold.state == HoldState.pending).order_by(Hold.id)).first()
        path = f"/funds/holds/{hold_id}/post"
        form = client.get(path).get_data(as_text=True)
        key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]{32})"', form).group(1)
        too_much = f"{(amount_fen + 100) // 100}.00"
        response = client.post(path, data={"amount": too_much, "value_on": local_today().isoformat(), "memo": "",
                                             "idempotency_key": key})
        pages.append(("a hold paid beyond its amount", *_page(response)))
        pages.append(("the page to void a hold", *_page(client.get(f"/funds/holds/{hold_id}/void"))))
        pages.append(("the confirmation before closing a month",
                      *_page(client.post("/funds/periods/close", data={"month": "2026-01"}))))
        pages.append(("closing the month in progress",
                      *_page(client.post("/funds/periods/close", data={"month": local_today().strftime("%Y-%m")}))))
    return pages


def _page(response):
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("username", ROLES)
def test_every_page_of_each_role_is_in_the_readers_language(demo_app, demo_user_client, english_sentences,
                                                            entered_data, username):
    client = demo_user_client(username)
    client.get("/lang/zh_CN")
    chinese = walk(client)
    assert len(chinese) >= 4, f"{username} reaches its pages: {[path for path, _s, _h in chinese]}"
    chinese += [(what, status, html) for what, status, html in mistakes(demo_app, client, username)]
    leaks = {}
    for path, status, html in chinese:
        assert status < 500, (path, status)
        assert '<html lang="zh-CN">' in html, path
        problems = chinese_problems(read_page(html, "zh")[0], english_sentences)
        if problems:
            leaks[path] = problems
    assert not leaks, f"English on {username}'s Chinese pages: {leaks}"

    client.get("/lang/en")
    english = [(path, *_page(client.get(path))) for path, _status, _html in chinese
               if path.startswith("/")] + mistakes(demo_app, client, username)
    leaks = {}
    for path, status, html in english:
        assert '<html lang="en">' in html, path
        problems = english_problems(read_page(html, "en")[0], entered_data)
        if problems:
            leaks[path] = problems
    assert not leaks, f"Chinese on {username}'s English pages: {leaks}"


def test_the_refusals_people_meet_are_in_their_language(demo_app, demo_user_client):
    """The sentences the issue names, each in the reader's language."""
    client = demo_user_client("finance")
    by_what = {}
    for language in ("zh_CN", "en"):
        client.get(f"/lang/{language}")
        by_what[language] = {what: html for what, _status, html in mistakes(demo_app, client, "finance")}
    assert "不能超过预留金额 15000.00" in by_what["zh_CN"]["a hold paid beyond its amount"]
    assert "must not exceed the hold&#39;s 15000.00" in by_what["en"]["a hold paid beyond its amount"]
    assert "期间开始日期（2026-03-01）晚于结束日期（2026-02-01）" in by_what["zh_CN"]["a report that ends before it starts"]
    assert "The period starts (2026-03-01) after it ends (2026-02-01)." in by_what["en"][
        "a report that ends before it starts"]


def test_the_report_log_names_statuses_in_words(demo_app, demo_user_client):
    """'done' is a code for programs; the log page and its exports say 已完成 / Done."""
    from ledger.reports.models import ReportRun, RunStatus

    client = demo_user_client("auditor")
    assert client.get("/reports/generate", query_string={"kind": "journal-register", "format": "csv",
                                                         "fund": "370827", "from": "2026-01-01",
                                                         "to": "2026-03-31"}).status_code == 200
    with demo_app.app_context():
        assert db.session.scalar(sa.select(ReportRun.status)) == RunStatus.done
    client.get("/lang/zh_CN")
    chinese, _links = read_page(client.get("/reports/log").get_data(as_text=True), "zh")
    client.get("/lang/en")
    english, _links = read_page(client.get("/reports/log").get_data(as_text=True), "en")
    csv = client.get("/reports/log?export=csv").get_data(as_text=True)
    assert " done " not in f" {chinese} " and "完成" in chinese
    assert "Done" in english and " done " not in f" {english} "
    assert "Done" in csv and ",done," not in csv
