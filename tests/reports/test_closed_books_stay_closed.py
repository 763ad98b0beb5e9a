"""A closed month's reports do not change (issue 10, point 1): with January to March 2026 closed,
a receipt dated in December 2025 (before the first closed month, after the books' opening date)
is refused, and January's fund statement and register are the same bytes before and after."""
from __future__ import annotations

import pytest

from .conftest import close_months

JANUARY = {"from": "2026-01-01", "to": "2026-01-31"}


@pytest.mark.app_config(LEDGER_BOOKS_OPEN_ON="2025-01-01")
@pytest.mark.parametrize("fund", ["370827", "370800"])
def test_a_receipt_dated_before_the_first_closed_month_leaves_januarys_reports_unchanged(api, run_in_app, fund):
    run_in_app(lambda session, finance: close_months(session, finance, "2026-01", "2026-02", "2026-03"))
    auditor, auditor_headers = api("auditor")
    urls = ("/api/v1/reports/fund-statement.pdf", "/api/v1/reports/journal-register.pdf",
            "/api/v1/reports/journal-register.csv")
    before = {}
    for url in urls:
        response = auditor.get(url, query_string={"fund": fund, **JANUARY}, headers=auditor_headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        before[url] = response.data
    entries_before = auditor.get(f"/api/v1/funds/{fund}/entries?per_page=1", headers=auditor_headers).get_json()

    finance, finance_headers = api("finance")
    response = finance.post("/api/v1/funds/370827/receipts",
                            json={"amount": "5000.00", "source": "donation", "payer_name": "韩进",
                                  "value_on": "2025-12-20"},
                            headers={**finance_headers, "Idempotency-Key": f"december-{fund}"})
    assert response.status_code == 409, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "period_closed" and "value_on" in error["fields"]
    assert "2026-04-01" in error["fields"]["value_on"][0]

    for url in urls:
        response = auditor.get(url, query_string={"fund": fund, **JANUARY}, headers=auditor_headers)
        assert response.status_code == 200
        assert response.data == before[url], url
    assert auditor.get(f"/api/v1/funds/{fund}/entries?per_page=1",
                       headers=auditor_headers).get_json()["total"] == entries_before["total"]
