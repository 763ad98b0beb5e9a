"""The demo vendor's month file in Chromium: chosen, sent with the progress bar showing, previewed in
place (the page's main part replaced, no reload), recorded and verified, landing on the upload's
counts; the Yutai reviewer's coverage page draws its chart."""
from __future__ import annotations

from ledger.extensions import db
from ledger.vendors.visit_demo import _demo_files
from tests.e2e.browser import DESKTOP, charts_rendered, screenshot


def test_the_vendor_uploads_the_demo_file_with_a_progress_bar(visit, live_server, tmp_path):
    with live_server.app.app_context():
        data = _demo_files(db.session)[2]
    path = tmp_path / "demo-visits.csv"
    path.write_bytes(data)
    visitor = visit("vendor")
    visitor.sign_in()
    page = visitor.page(DESKTOP)
    page.goto(live_server("/care/visits/upload"))
    form = page.locator("form[data-upload-progress]")
    progress = form.locator(".upload-progress")
    assert progress.is_hidden()
    page.set_input_files("input[type=file]", str(path))
    form.locator("button[type=submit]").click()
    # The answer replaces <main>: the preview's record form arrives without a page load.
    record = page.locator("form[action$='/care/visits/upload/apply']")
    record.wait_for()
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    screenshot(page, "vendor", "visit-upload-preview", DESKTOP)
    record.locator("button[type=submit]").click()
    page.wait_for_url("**/care/visits/uploads/*")
    assert page.locator(".state-counts li").count() == 3
    screenshot(page, "vendor", "visit-upload-summary", DESKTOP)


def test_the_county_reviewer_sees_the_coverage_chart(visit, live_server):
    visitor = visit("reviewer_yutai")
    visitor.sign_in()
    page = visitor.page(DESKTOP)
    page.goto(live_server("/care/visits/coverage"))
    assert not charts_rendered(page)
    screenshot(page, "reviewer_yutai", "visit-coverage", DESKTOP)
