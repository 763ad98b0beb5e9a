"""Text typed into the web forms (issue 10, points 3 and 5): a NUL, another control character or
a lone surrogate in any field is shown next to that field and nothing is written; a text area's
line breaks (CR LF) are kept as line breaks; fullwidth digits from a Chinese input method are read
as ASCII digits in amounts and dates, digits of other scripts are refused.

Runs on the demo city, on SQLite and PostgreSQL alike; pages in English (the source strings).
"""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from ledger.auth.models import ApiToken, User
from ledger.extensions import db
from ledger.journal.models import JournalEntry

YUTAI = "370827"
CONTROL_MESSAGE = "control character"


class Browser:
    def __init__(self, client):
        self.client = client
        self.client.get("/lang/en")

    def form_key(self, path) -> str | None:
        page = self.client.get(path)
        assert page.status_code == 200, path
        match = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]{32})"', page.get_data(as_text=True))
        return match.group(1) if match else None

    def submit(self, path, data):
        data = dict(data)
        key = self.form_key(path)
        if key is not None:
            data["idempotency_key"] = key
        return self.client.post(path, data=data)


@pytest.fixture
def browser(demo_user_client):
    return lambda username: Browser(demo_user_client(username))


def field_error(response, field: str) -> str:
    """The error shown next to the form field `field` (its "<id>-error" element)."""
    match = re.search(rf'id="{field}-error"[^>]*>(.*?)</', response.get_data(as_text=True), flags=re.S)
    assert match, f"no error shown at {field}"
    return match.group(1)


def _entries(app) -> list[JournalEntry]:
    with app.app_context():
        return list(db.session.scalars(sa.select(JournalEntry).order_by(JournalEntry.id)))


RECEIPT = {"amount": "100.00", "source": "donation", "payer_name": "韩进", "value_on": "2026-01-05", "memo": ""}
RECEIPT_PATH = f"/funds/{YUTAI}/receipt"


@pytest.mark.parametrize("field", ["payer_name", "memo", "amount", "value_on", "source"])
@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\x7f", "\x85"])
def test_a_receipt_field_with_a_control_character_is_refused_at_that_field(demo_app, browser, field, character):
    finance = browser("finance")
    before = len(_entries(demo_app))
    data = dict(RECEIPT)
    data[field] = ("韩" if field in ("payer_name", "memo") else data[field]) + character
    response = finance.submit(RECEIPT_PATH, data)
    assert response.status_code == 422
    assert CONTROL_MESSAGE in field_error(response, field)
    assert len(_entries(demo_app)) == before


def test_the_bytes_of_a_lone_surrogate_in_a_form_are_never_stored_as_one(demo_app, browser):
    """A form body is UTF-8, which cannot carry a lone surrogate: its would-be bytes (ED A0 80) are
    read as replacement characters, and the receipt answers as any other (no server error)."""
    finance = browser("finance")
    key = finance.form_key(RECEIPT_PATH)
    body = (f"amount=1.00&source=donation&value_on=2026-01-05&memo=&idempotency_key={key}"
            "&payer_name=%E9%9F%A9%ED%A0%80").encode()
    response = finance.client.post(RECEIPT_PATH, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (302, 422), response.get_data(as_text=True)[:2000]
    for entry in _entries(demo_app):
        (entry.counterparty_name or "").encode("utf-8")  # a lone surrogate would not encode


def test_a_memo_typed_on_several_lines_is_kept_with_its_line_breaks(demo_app, browser):
    """A browser sends a text area's line breaks as CR LF; a tab is kept too."""
    finance = browser("finance")
    response = finance.submit(RECEIPT_PATH, dict(RECEIPT, memo="第一行\r\n第二行\t备注\r\n第三行"))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert _entries(demo_app)[-1].memo == "第一行\n第二行\t备注\n第三行"


def test_fullwidth_digits_of_a_chinese_input_method_are_read_as_ascii(demo_app, browser):
    finance = browser("finance")
    response = finance.submit(RECEIPT_PATH, dict(RECEIPT, amount="１００.５０", value_on="２０２６-０１-０５"))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    entry = _entries(demo_app)[-1]
    with demo_app.app_context():
        entry = db.session.get(JournalEntry, entry.id)
        assert entry.value_on.isoformat() == "2026-01-05"
        assert {abs(posting.amount_fen) for posting in entry.postings} == {10050}
    page = finance.client.get(f"/funds/entries/{entry.voucher_no}").get_data(as_text=True)
    assert "100.50" in page


@pytest.mark.parametrize("amount", ["١٠٠", "१००", "١٠٠.٥٠"])
def test_digits_of_other_scripts_are_refused_at_the_amount(demo_app, browser, amount):
    finance = browser("finance")
    before = len(_entries(demo_app))
    response = finance.submit(RECEIPT_PATH, dict(RECEIPT, amount=amount))
    assert response.status_code == 422
    assert field_error(response, "amount")
    assert len(_entries(demo_app)) == before


def _users(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(sa.select(User.username)))


@pytest.mark.parametrize("field, value", [("display_name", "李\x00审核"), ("display_name", "李\x1b[31m审核"),
                                          ("username", "li\x00shen"), ("display_name", "李\x9b审核")])
def test_the_new_user_form_refuses_a_control_character_at_its_field(demo_app, browser, field, value):
    admin = browser("admin")
    before = _users(demo_app)
    data = {"username": "li_shenhe", "display_name": "李审核", "role": "finance", "organisation": "MZJ-370800"}
    data[field] = value
    response = admin.submit("/admin/users/new", data)
    assert response.status_code == 422
    assert CONTROL_MESSAGE in field_error(response, field)
    assert _users(demo_app) == before


def test_the_new_user_form_still_creates_a_user_with_an_ordinary_name(demo_app, browser):
    admin = browser("admin")
    response = admin.submit("/admin/users/new", {"username": "li_shenhe", "display_name": "李审核", "role": "finance",
                                                 "organisation": "MZJ-370800"})
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert "li_shenhe" in _users(demo_app)


def _tokens(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken))


@pytest.mark.parametrize("label", ["导出\x00脚本", "导出\x07", "\x9b导出"])
def test_a_token_label_with_a_control_character_is_refused_and_no_token_is_made(demo_app, browser, label):
    finance = browser("finance")
    before = _tokens(demo_app)
    response = finance.submit("/account/tokens", {"label": label})
    assert response.status_code == 422
    assert CONTROL_MESSAGE in field_error(response, "label")
    assert _tokens(demo_app) == before
    assert finance.submit("/account/tokens", {"label": "月度导出脚本"}).status_code == 200
    assert _tokens(demo_app) == before + 1
