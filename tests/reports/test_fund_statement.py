"""The fund statement as an auditor reads it: the city's fund by name, figures that tie to the
ledger, Chinese glyphs from an embedded font, and the same bytes for a closed period."""
from __future__ import annotations

from datetime import date, timedelta

import io
import time

import pdfplumber
import pytest

from ledger.extensions import db
from ledger.funds import services as fund_services
from ledger.money import format_cny
from ledger.timeutil import utcnow
from tests.support import clock_moved_forward

from .conftest import Q1, close_months, pdf_page_count, pdf_text


def _ledger_figures(app, code: str, day: date, user="auditor"):
    from ledger.auth.services import get_user

    with app.app_context():
        auditor = get_user(db.session, user)
        return fund_services.fund_balance(db.session, auditor, code, as_of=day)


@pytest.mark.slow
def test_city_statement_names_the_fund_and_its_totals_equal_the_ledger(api, reports_app):
    """The city with its 11 counties and 333 villages (the fund whose name the issue asks for),
    about 20 pages: laid out in about a second, so it comes back in the request itself (in
    WeasyPrint it took 12 s and went to the background)."""
    client, headers = api("auditor")
    response = client.get("/api/v1/reports/fund-statement.pdf", query_string={"fund": "370800", **Q1},
                          headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "济时救特别响应救助基金" in text
    assert "济宁市民政局" in text and "资金收支情况表" in text and "单位：元" in text
    assert "制表人" in text and "审核人" in text
    closing = _ledger_figures(reports_app, "370800", date(2026, 3, 31))
    opening = _ledger_figures(reports_app, "370800", date(2025, 12, 31))
    # The city with everything below it: 5,000,000 + 3,400,000 + 7,420,000 opened, plus the bank's donation.
    # The funds demo's receipts and payments, and the aid demo's two paid applications (10,000 + 8,000).
    assert closing.total_posted_fen == (5_000_000_00 + 3_400_000_00 + 7_420_000_00 + 50_000_00
                                        - 8_000_00 - 10_000_00 - 12_500_00 - 18_000_00)
    assert f"期末余额 {format_cny(closing.total_posted_fen)}" in text
    assert f"期初余额 {format_cny(opening.total_posted_fen)}" in text
    assert "数据完整性证明" in text  # the certificate is the last page
    assert response.headers["X-Report-Id"] in text.splitlines()[-1] or response.headers["X-Report-Id"] in text
    # Every fund has its line, and every page says which page of how many it is.
    for code in ("370811", "370812-001", "370883"):
        assert f"\n{code}" in text or f" {code}" in text
    pages = pdf_page_count(response.data)
    assert 15 <= pages <= 30
    assert f"第 {pages} 页 / 共 {pages} 页" in text and f"第 1 页 / 共 {pages} 页" in text


def test_county_statement_breaks_down_receipts_allocations_and_aid(api, reports_app):
    """Yutai in February: the city sends 200,000.00 down, Yutai passes 30,000.00 to 城西村, pays
    10,000.00 of temporary assistance, and 城西村 pays 8,000.00 of medical aid."""
    client, headers = api("finance")
    response = client.get("/api/v1/reports/fund-statement.pdf",
                          query_string={"fund": "370827", "from": "2026-02-01", "to": "2026-02-28"}, headers=headers)
    assert response.status_code == 200
    text = pdf_text(response.data)
    february_start = _ledger_figures(reports_app, "370827", date(2026, 1, 31), "finance")
    february_end = _ledger_figures(reports_app, "370827", date(2026, 2, 28), "finance")
    assert f"期初余额 {format_cny(february_start.total_posted_fen)}" in text
    assert f"期末余额 {format_cny(february_end.total_posted_fen)}" in text
    # Inside the county the 30,000.00 is both in and out; from the city 200,000.00 comes in.
    assert f"加：划拨收入（上级或其他基金划入） {format_cny(230_000_00)}" in text
    assert f"减：划拨支出（划出至其他基金） {format_cny(30_000_00)}" in text
    assert f"减：救助支出 {format_cny(18_000_00)}" in text
    assert f"医疗救助（1 笔） {format_cny(8_000_00)}" in text
    assert f"临时救助（1 笔） {format_cny(10_000_00)}" in text
    assert "相符" in text
    assert february_end.total_posted_fen - february_start.total_posted_fen == 200_000_00 - 18_000_00


def test_statement_web_page_shows_the_same_figures(reports_app, web_client):
    page = web_client("auditor").get("/reports/fund-statement", query_string={"fund": "370800", **Q1})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    closing = _ledger_figures(reports_app, "370800", date(2026, 3, 31))
    assert "济时救特别响应救助基金" in html
    assert format_cny(closing.total_posted_fen) in html
    assert "制表人" in html


def _font_descriptors(data: bytes) -> list[dict]:
    return _objects_of_type(data, "FontDescriptor")


def _objects_of_type(data: bytes, type_name: str) -> list:
    from pdfminer.pdftypes import resolve1

    found = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        document = pdf.doc
        for xref in document.xrefs:
            for objid in xref.get_objids():
                try:
                    obj = resolve1(document.getobj(objid))
                except Exception:
                    continue
                if isinstance(obj, dict) and getattr(obj.get("Type"), "name", None) == type_name:
                    found.append(obj)
    return found


def test_the_cjk_font_is_embedded_in_both_engines(api):
    client, headers = api("auditor")
    for url in ("/api/v1/reports/fund-statement.pdf", "/api/v1/reports/journal-register.pdf",
                "/api/v1/reports/integrity-certificate.pdf"):
        data = client.get(url, query_string={"fund": "370827-001", **Q1}, headers=headers).data
        # A base-14 font (Helvetica...) has no font file: the viewer would substitute its own.
        unembedded = [font["BaseFont"].name for font in _objects_of_type(data, "Font")
                      if getattr(font.get("Subtype"), "name", None) == "Type1"]
        assert unembedded == [], f"{url}: fonts the PDF does not carry: {unembedded}"
        descriptors = _font_descriptors(data)
        assert descriptors, url
        for descriptor in descriptors:
            name = descriptor["FontName"].name
            assert "FontFile2" in descriptor, f"{url}: {name} is not embedded"
        assert any("WenQuanYi" in d["FontName"].name or "WQY" in d["FontName"].name.upper() for d in descriptors)


LATER = 24 * 3600 + 3600 + 60 + 1  # seconds


def test_a_closed_period_renders_the_same_bytes_every_time(api, run_in_app):
    run_in_app(lambda session, finance: close_months(session, finance, "2026-01", "2026-02", "2026-03"))
    client, headers = api("auditor")
    started, started_at = time.time(), utcnow()
    for url in ("/api/v1/reports/fund-statement.pdf", "/api/v1/reports/journal-register.pdf",
                "/api/v1/reports/integrity-certificate.pdf"):
        first = client.get(url, query_string={"fund": "370827-001", **Q1}, headers=headers)
        # The second render a day, an hour, a minute and a second later by every wall clock the
        # process reads: nothing in the bytes may follow the clock.
        with clock_moved_forward(LATER):
            assert time.time() - LATER >= started and utcnow() - timedelta(seconds=LATER) >= started_at
            second = client.get(url, query_string={"fund": "370827-001", **Q1}, headers=headers)
        assert first.status_code == second.status_code == 200
        assert first.data == second.data, url
        assert first.headers["X-Report-SHA256"] == second.headers["X-Report-SHA256"]
        assert "期间已结账" in pdf_text(first.data)


def test_an_open_period_says_its_figures_may_change(api):
    client, headers = api("auditor")
    data = client.get("/api/v1/reports/integrity-certificate.pdf", query_string={"fund": "370827", **Q1},
                      headers=headers).data
    assert "期间未结账" in pdf_text(data)
