"""Fixtures for the audit reports: the demo city with a few stories told in Yutai, a per-test
report directory, API tokens per role, and helpers that read PDFs as an auditor would."""
from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from ledger.extensions import db

from tests.support import bearer_headers, signed_in_client, wait_for_job


@pytest.fixture
def reports_app(demo_app, tmp_path):
    """The demo city, reports written under this test's own directory."""
    demo_app.config["REPORTS_DIR"] = str(tmp_path / "reports")
    return demo_app


@pytest.fixture
def api(reports_app):
    """api(username) -> (client, headers) for the demo user `username`."""
    return lambda username: (reports_app.test_client(), bearer_headers(reports_app, username))


@pytest.fixture
def run_in_app(reports_app):
    """run_in_app(fn) -> fn(session, finance_user) inside the app, committed."""
    from ledger.auth.models import User

    def runner(fn):
        with reports_app.app_context():
            finance = db.session.scalar(sa.select(User).where(User.username == "finance"))
            result = fn(db.session, finance)
            db.session.commit()
            return result

    return runner


def pdf_text(data: bytes) -> str:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def pdf_page_count(data: bytes) -> int:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


def close_months(session, user, *months: str) -> None:
    from ledger.funds import services

    for month in months:
        services.close_period(session, user, month)


Q1 = {"from": date(2026, 1, 1).isoformat(), "to": date(2026, 3, 31).isoformat()}


def fetch_report(client, url: str, query: dict, headers: dict, timeout: float = 60.0):
    """GET a report; if it went to the background (202), wait for its job and download the file.
    Returns the final file response."""
    response = client.get(url, query_string=query, headers=headers)
    if response.status_code != 202:
        return response
    job = wait_for_job(client, response.get_json()["job"]["status_url"], headers, timeout=timeout)
    assert job["status"] == "done", job["error"]
    return client.get(job["download_url"], headers=headers)


@pytest.fixture
def web_client(reports_app):
    """web_client(username) -> a browser session logged in as that demo user (the session is
    set directly: the login form is the foundation's, tested there)."""
    return lambda username: signed_in_client(reports_app, username)
