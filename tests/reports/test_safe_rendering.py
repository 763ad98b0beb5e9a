"""Whatever the data says, a report fetches nothing but its own font and prints markup as text."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from ledger.extensions import db

from .conftest import pdf_text

HOSTILE_NAME = '<img src="file:///etc/passwd">恶意村基金'
HOSTILE_MEMO = '<img src="http://127.0.0.1:9/track.png"><link rel="stylesheet" href="file:///etc/passwd">捐赠'


@pytest.fixture
def hostile_fund(run_in_app):
    def create(session, finance):
        from ledger.funds import services
        from ledger.journal.accounts import create_fund
        from ledger.journal.models import Fund, FundLevel

        yutai = session.scalar(sa.select(Fund).where(Fund.code == "370827"))
        create_fund(session, code="370827-999", name=HOSTILE_NAME, level=FundLevel.village,
                    region_id=yutai.region_id, parent=yutai)
        services.record_receipt(session, finance, "370827-999", 1_000_00, source="donation",
                                payer_name='<script>alert(1)</script>', value_on=date(2026, 2, 1), memo=HOSTILE_MEMO)

    run_in_app(create)
    return "370827-999"


def _render(app, kind, fund_code):
    from ledger.auth.services import get_user
    from ledger.reports import services
    from ledger.reports.models import ReportFormat

    with app.app_context():
        user = get_user(db.session, "auditor")
        request = services.prepare(db.session, user, kind, ReportFormat.pdf,
                                   {"fund": fund_code, "from": "2026-02-01", "to": "2026-02-28"})
        return services.render(request, user)


def test_hostile_names_and_memos_are_printed_not_fetched(reports_app, hostile_fund, monkeypatch):
    """The statement (ReportLab) draws cells as text and escapes its paragraphs; the certificate
    (WeasyPrint) loads nothing but its font."""
    from ledger.reports import pdf_weasy
    from ledger.reports.models import ReportKind

    fetchers = []
    real = pdf_weasy.AssetFetcher

    class SpyFetcher(real):
        def __init__(self):
            super().__init__()
            fetchers.append(self)

    monkeypatch.setattr(pdf_weasy, "AssetFetcher", SpyFetcher)
    statement = pdf_text(_render(reports_app, ReportKind.fund_statement, hostile_fund).data)
    assert '<img src="file:///etc/passwd">恶意村基金' in statement
    assert "root:" not in statement
    assert fetchers == []  # the statement does not go through WeasyPrint at all
    certificate = pdf_text(_render(reports_app, ReportKind.integrity_certificate, hostile_fund).data)
    assert '<img src="file:///etc/passwd">恶意村基金' in certificate
    assert "root:" not in certificate
    (fetcher,) = fetchers
    assert fetcher.refused == []
    assert set(fetcher.served) == {"ledger-asset:fonts/wqy-microhei.ttc"}


def test_markup_in_a_paragraph_of_the_statement_is_printed_as_text(reports_app, hostile_fund):
    """The statement's title and fund line are paragraphs (ReportLab reads markup in them): the
    fund's name must come out as the characters it is, not as an image tag ReportLab would load
    (or choke on)."""
    from ledger.reports.models import ReportKind

    text = pdf_text(_render(reports_app, ReportKind.fund_statement, hostile_fund).data)
    first_page = text.split("数据完整性证明")[0]
    # The title and the fund line print the name without its decorative quotes (document.plain_name).
    assert first_page.count("<img src=file:///etc/passwd>恶意村基金") == 2


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.org/a.css",
                                 "data:text/css,body{}", "ledger-asset:../../etc/passwd"])
def test_the_fetcher_refuses_everything_but_the_reports_own_assets(url):
    from ledger.reports.pdf_weasy import AssetFetcher, RefusedURL

    fetcher = AssetFetcher()
    with pytest.raises(RefusedURL):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_a_stylesheet_pointing_outside_is_not_loaded(reports_app):
    """Even markup that reached WeasyPrint unescaped could not load a file or a URL."""
    from weasyprint import HTML

    from ledger.reports.pdf_weasy import AssetFetcher

    fetcher = AssetFetcher()
    HTML(string='<link rel="stylesheet" href="file:///etc/passwd"><img src="http://127.0.0.1:9/x.png">'
                '<p style="background:url(file:///etc/hostname)">x</p>',
         base_url="ledger-asset:", url_fetcher=fetcher).write_pdf()
    assert fetcher.served == []
    assert "file:///etc/passwd" in fetcher.refused and "http://127.0.0.1:9/x.png" in fetcher.refused


def test_the_statement_web_page_escapes_too(web_client, hostile_fund):
    html = web_client("auditor").get("/reports/fund-statement", query_string={"fund": hostile_fund, "from": "2026-02-01",
                                                               "to": "2026-02-28"}).get_data(as_text=True)
    assert '&lt;img src=&#34;file:///etc/passwd&#34;&gt;恶意村基金' in html
    assert '<img src="file:///etc/passwd">' not in html
