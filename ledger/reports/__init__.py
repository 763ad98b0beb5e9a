"""Audit reports: fund statements, journal registers and integrity certificates, in Chinese.

Modules: `queries` (what the reports say, from the journal tables), `services`
(the one door: check, render, log), `pdf_weasy` (few-page PDFs from Jinja
templates, restricted URL fetcher), `pdf_register` (the register with ReportLab,
streamed), `exports` (CSV, XLSX), `jobs` (background rendering: a thread or RQ),
`api` and `views` (thin handlers), `fonts` (the embedded CJK font).
"""


def register(app):
    """Attach the reports' web pages and their start-page sections."""
    from .views import register_views

    app.config.setdefault("REPORT_BACKGROUND_ROWS", 3000)
    app.config.setdefault("REPORT_REGISTER_MAX_ROWS", 200_000)
    app.config.setdefault("REPORT_STATEMENT_MAX_ROWS", 1500)
    register_views(app)


def api_blueprint():
    """The /api/v1/reports routes (`api.reports.*`), nested under the API parent by the factory."""
    from .api import reports_api

    return reports_api
