"""Few-page reports (the fund statement, the stand-alone integrity certificate) as PDF
through WeasyPrint, from the same Jinja templates as the statement's web page.

Safety: WeasyPrint fetches whatever the HTML references. The HTML is rendered
with autoescaping, so data (a fund name, a memo) can never become markup; and
the URL fetcher below serves only the report's own assets under the
`ledger-asset:` scheme (the embedded font), refusing file://, http(s)://, data:
and everything else. Memory: WeasyPrint needs about 5 ms and ~100 kB per table
row, so callers refuse statements over `REPORT_STATEMENT_MAX_ROWS` rows.

Reproducibility: document dates come from the report's generated-at time
(dcterms meta tags) and the PDF identifier from the report id, so a closed
period renders the same bytes every time. The embedded font subset is written by
fontTools, which stamps the font's `head.modified` with the current time unless
SOURCE_DATE_EPOCH (reproducible-builds.org) is set: it is set here, once, to the
epoch, so two renders a second apart carry the same font bytes.
"""
from __future__ import annotations

import logging
import os
from typing import Callable

from flask import render_template
from flask_babel import force_locale
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .document import ReportContext
from .fonts import font_bytes

os.environ.setdefault("SOURCE_DATE_EPOCH", "0")  # read by fontTools each time it writes a font

ASSET_SCHEME = "ledger-asset:"
ASSETS = {
    "ledger-asset:fonts/wqy-microhei.ttc": ("font/collection", font_bytes),
}


class RefusedURL(ValueError):
    """The report tried to load something that is not one of its own assets."""


class AssetFetcher(URLFetcher):
    """Serves the report's own assets; every other URL is refused (and remembered, for tests)."""

    def __init__(self):
        super().__init__(allowed_protocols=["ledger-asset"], allow_redirects=False)
        self.served: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        asset = ASSETS.get(url)
        if asset is None:
            self.refused.append(url)
            raise RefusedURL(f"reports load only their own assets, not {url[:80]!r}")
        self.served.append(url)
        mime_type, load = asset
        return URLFetcherResponse(url, load(), {"Content-Type": mime_type})


#: The language of every PDF: documents for auditors are Chinese whatever the reader's interface.
PDF_LOCALE = "zh_Hans_CN"


def render_html(template: str, context: ReportContext, **extra) -> str:
    with force_locale(PDF_LOCALE):
        return render_template(template, ctx=context, **extra)


def render_pdf(template: str, context: ReportContext, fetcher: AssetFetcher | None = None,
               progress: Callable[[int], None] | None = None, **extra) -> tuple[bytes, int]:
    """Render `template` to PDF. Returns (pdf bytes, pages). `progress(rows)` is told when the
    layout (about two thirds of the work) is done; writing the PDF is the rest."""
    fetcher = fetcher or AssetFetcher()
    html = render_html(template, context, **extra)
    # WeasyPrint reports each refused URL as a warning; the refusal is the point, not news.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    document = HTML(string=html, base_url=ASSET_SCHEME, url_fetcher=fetcher).render()
    if progress:
        progress(context.row_count * 2 // 3)
    pdf = document.write_pdf(pdf_identifier=context.identity.report_id.encode("ascii"))
    return pdf, len(document.pages)
