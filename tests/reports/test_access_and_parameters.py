"""Who may have which report, and what a bad request hears back."""
from __future__ import annotations

import pytest

from .conftest import Q1

STATEMENT = "/api/v1/reports/fund-statement.pdf"
YUTAI = {"fund": "370827-001", **Q1}


@pytest.mark.parametrize("username, fund, status", [
    ("auditor", "370827-001", 200),
    ("finance", "370827-001", 200),
    ("admin", "370827-001", 200),
    ("reviewer", "370827-001", 200),          # a city reviewer sees the whole city
    ("reviewer_yutai", "370827-001", 200),    # a Yutai reviewer sees Yutai's villages
    ("reviewer_yutai", "370811-001", 404),    # ... but not Rencheng's
    ("reviewer_yutai", "370800", 404),        # ... nor the city fund
    ("charity_yutai", "370827-001", 403),
    ("vendor", "370827-001", 403),
])
def test_report_access_by_role(api, username, fund, status):
    client, headers = api(username)
    response = client.get("/api/v1/reports/integrity-certificate.pdf", query_string={"fund": fund, **Q1},
                          headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    log = client.get("/api/v1/reports/log", headers=headers)
    assert log.status_code == (403 if username in ("charity_yutai", "vendor") else 200)


def test_no_token_no_report(reports_app):
    assert reports_app.test_client().get(STATEMENT, query_string=YUTAI).status_code == 401


def test_an_unknown_fund_is_no_such_record(api):
    """Like a fund outside the user's county: 404, naming the field."""
    client, headers = api("auditor")
    response = client.get(STATEMENT, query_string={"fund": "999999", **Q1}, headers=headers)
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "not_found" and "fund" in error["fields"] and "999999" in error["message"]


@pytest.mark.parametrize("query, field, reason", [
    ({"fund": "370827", "from": "0075-07-04", "to": "2026-01-01"}, "from", "years 1900 to 2099"),
    ({"fund": "370827", "from": "2026-01-01", "to": "9999-12-31"}, "to", "years 1900 to 2099"),
    ({"fund": "370827", "from": "2026-03-31", "to": "2026-01-01"}, "from", "after it ends"),
    ({"fund": "370827", "from": "2026-02-30", "to": "2026-03-31"}, "from", "Not a date"),
    ({"fund": "370827", "from": "31.01.2026", "to": "2026-03-31"}, "from", "Not a date"),
    ({"fund": "370827", "from": "2026-01-01"}, "to", "Required"),
    ({"from": "2026-01-01", "to": "2026-01-31"}, "fund", "Required"),
])
def test_bad_parameters_are_refused_with_the_reason(api, query, field, reason):
    client, headers = api("auditor")
    response = client.get(STATEMENT, query_string=query, headers=headers)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request"
    assert field in error["fields"]
    assert reason in error["message"]


def test_unknown_format_is_refused(api):
    client, headers = api("auditor")
    response = client.get("/api/v1/reports/journal-register.docx", query_string=YUTAI, headers=headers)
    assert response.status_code == 400
    assert "format" in response.get_json()["error"]["fields"]


def test_web_reports_page_for_auditor_and_refusal_for_charity(web_client):
    auditor = web_client("auditor")
    page = auditor.get("/reports/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for kind in ("fund-statement", "journal-register", "integrity-certificate"):
        assert f'value="{kind}"' in html
    bad = auditor.get("/reports/generate", query_string={"kind": "fund-statement", "format": "pdf",
                                                         "fund": "370827", "from": "2026-03-01", "to": "2026-02-01"})
    assert bad.status_code == 400 and "开始日期（2026-03-01）晚于结束日期（2026-02-01）" in bad.get_data(as_text=True), \
        "the refusal is in the page's language (Chinese), not the service's English"
    good = auditor.get("/reports/generate", query_string={"kind": "journal-register", "format": "pdf", **YUTAI})
    assert good.status_code == 200 and good.mimetype == "application/pdf"
    assert web_client("charity_yutai").get("/reports/").status_code == 403
    assert web_client("reviewer_yutai").get("/reports/fund-statement", query_string={
        "fund": "370811", "from": "2026-01-01", "to": "2026-01-31"}).status_code == 404


def test_the_report_form_lists_each_refused_parameter_once(web_client):
    """A report form sent without a fund lists one problem, the fund, as a link to its control:
    not the same refusal twice (once for the form, once for the field)."""
    page = web_client("auditor").get("/reports/generate", query_string={"kind": "fund-statement", "fund": "", "from": "2026-01-01",
                                                        "to": "2026-03-31", "format": "pdf"})
    html = page.get_data(as_text=True)
    summary = html[html.index("data-error-summary"):]
    summary = summary[:summary.index("</div>")]
    assert summary.count("<li>") == 1 and 'href="#fund"' in summary
