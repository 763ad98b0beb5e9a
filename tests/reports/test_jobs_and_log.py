"""Large reports go to the background: a job that reports its progress and whose file downloads;
and the log an auditor reads, whose SHA-256 matches the bytes handed out."""
from __future__ import annotations

import hashlib
import uuid

import pytest

from tests.support import wait_for_job

from .conftest import Q1, pdf_text

REGISTER = "/api/v1/reports/journal-register.pdf"


def test_a_large_register_runs_in_the_background_reports_progress_and_downloads(api, reports_app, monkeypatch):
    from ledger.reports import pdf_register

    reports_app.config["REPORT_BACKGROUND_ROWS"] = 20  # the county's quarter (35 entries) counts as large here
    monkeypatch.setattr(pdf_register, "CHUNK_ROWS", 8)
    written = _record_progress_writes(monkeypatch)
    client, headers = api("auditor")
    response = client.get(REGISTER, query_string={"fund": "370827", **Q1}, headers=headers)
    assert response.status_code == 202
    job = response.get_json()["job"]
    assert job["status"] in ("queued", "running", "done")
    assert response.headers["Location"].endswith(job["status_url"])
    finished = wait_for_job(client, job["status_url"], headers)
    assert finished["status"] == "done" and finished["progress"] == 100
    assert written and written == sorted(written) and 0 < written[0] < 100
    download = client.get(finished["download_url"], headers=headers)
    assert download.status_code == 200
    assert hashlib.sha256(download.data).hexdigest() == finished["sha256"]
    assert "记账凭证登记簿" in pdf_text(download.data)


def _record_progress_writes(monkeypatch) -> list[int]:
    from ledger.reports import jobs

    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 0)
    written: list[int] = []
    original_update = jobs._update

    def recording_update(job_id, **values):
        if "progress" in values:
            written.append(values["progress"])
        original_update(job_id, **values)

    monkeypatch.setattr(jobs, "_update", recording_update)
    return written


def test_a_statement_in_the_background_stores_its_progress_page_by_page(api, reports_app, monkeypatch):
    """Yutai's statement (the county and its villages, four pages with the certificate) as a
    background job: the bar stands at several values between 0 and 100 before it is done."""
    reports_app.config["REPORT_BACKGROUND_ROWS"] = 0
    written = _record_progress_writes(monkeypatch)
    client, headers = api("auditor")
    response = client.get("/api/v1/reports/fund-statement.pdf", query_string={"fund": "370827", **Q1},
                          headers=headers)
    assert response.status_code == 202
    finished = wait_for_job(client, response.get_json()["job"]["status_url"], headers)
    assert finished["status"] == "done" and finished["progress"] == 100
    assert finished["pages"] >= 3
    intermediate = sorted({value for value in written if 0 < value < 100})
    assert len(intermediate) >= 2, written
    assert written == sorted(written)
    assert "资金收支情况表" in pdf_text(client.get(finished["download_url"], headers=headers).data)


def test_the_statement_renderer_reports_the_funds_drawn_page_by_page(reports_app):
    """The renderer tells its caller, as each page is drawn, how many of the statement's funds are
    done (in the job's units): rising, several times before the end, and all of them at the end."""
    from ledger.auth.services import get_user
    from ledger.extensions import db
    from ledger.reports import services
    from ledger.reports.models import ReportFormat, ReportKind

    with reports_app.app_context():
        user = get_user(db.session, "auditor")
        request = services.prepare(db.session, user, ReportKind.fund_statement, ReportFormat.pdf,
                                   {"fund": "370827", **Q1})
        reported: list[int] = []
        rendered = services.render(request, user, reported.append)
    assert reported == sorted(reported)
    assert reported[-1] == request.rows
    before_the_end = {value for value in reported if 0 < value < request.rows}
    assert len(before_the_end) >= 2, reported
    assert len(reported) <= rendered.pages  # once a page at most: progress is cheap to store


def test_someone_elses_job_is_not_found(api, reports_app):
    reports_app.config["REPORT_BACKGROUND_ROWS"] = 0
    finance, finance_headers = api("finance")
    job = finance.get(REGISTER, query_string={"fund": "370827-001", **Q1}, headers=finance_headers).get_json()["job"]
    wait_for_job(finance, job["status_url"], finance_headers)
    reviewer, reviewer_headers = api("reviewer")
    assert reviewer.get(job["status_url"], headers=reviewer_headers).status_code == 404
    auditor, auditor_headers = api("auditor")
    assert auditor.get(job["status_url"], headers=auditor_headers).status_code == 200


def test_the_log_lists_every_report_with_the_sha256_of_its_bytes(api, reports_app):
    finance, finance_headers = api("finance")
    statement = finance.get("/api/v1/reports/fund-statement.pdf", query_string={"fund": "370827-001", **Q1},
                            headers=finance_headers)
    register = finance.get("/api/v1/reports/journal-register.csv", query_string={"fund": "370827-001", **Q1},
                           headers=finance_headers)
    auditor, auditor_headers = api("auditor")
    runs = auditor.get("/api/v1/reports/log", headers=auditor_headers).get_json()["runs"]
    by_sha = {run["sha256"]: run for run in runs}
    for response, kind, fmt in ((statement, "fund-statement", "pdf"), (register, "journal-register", "csv")):
        run = by_sha[hashlib.sha256(response.data).hexdigest()]
        assert (run["kind"], run["format"], run["requested_by"]) == (kind, fmt, "finance")
        assert run["parameters"] == {"fund": "370827-001", **Q1}
        assert run["size_bytes"] == len(response.data)
        assert run["report_id"] == response.headers["X-Report-Id"]
        assert auditor.get(run["download_url"], headers=auditor_headers).data == response.data
    # A reviewer sees only what the reviewer generated.
    reviewer, reviewer_headers = api("reviewer")
    assert reviewer.get("/api/v1/reports/log", headers=reviewer_headers).get_json()["runs"] == []


def _redis_or_skip():
    try:
        from redis import Redis

        connection = Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=0.5)
        connection.ping()
        return connection
    except Exception as error:  # any failure to reach Redis means this queue cannot be tried here
        pytest.skip(f"Redis is not reachable at 127.0.0.1:6379 ({type(error).__name__}); the RQ queue is untested")


def test_the_rq_queue_takes_the_work_when_configured(api, reports_app):
    connection = _redis_or_skip()
    from rq import Queue, SimpleWorker

    queue_name = f"reports-test-{uuid.uuid4().hex[:8]}"
    reports_app.config.update(REPORT_QUEUE="rq", REDIS_URL="redis://127.0.0.1:6379/0",
                              REPORT_RQ_QUEUE=queue_name, REPORT_BACKGROUND_ROWS=0)
    client, headers = api("auditor")
    try:
        job = client.get(REGISTER, query_string={"fund": "370827-001", **Q1}, headers=headers).get_json()["job"]
        assert job["status"] == "queued"
        queue = Queue(queue_name, connection=connection)
        assert queue.count == 1
        SimpleWorker([queue], connection=connection).work(burst=True)
        finished = client.get(job["status_url"], headers=headers).get_json()["job"]
        assert finished["status"] == "done", finished["error"]
        data = client.get(finished["download_url"], headers=headers).data
        assert hashlib.sha256(data).hexdigest() == finished["sha256"]
    finally:
        Queue(queue_name, connection=connection).delete(delete_jobs=True)


def test_the_job_page_names_the_report_and_its_state_in_the_users_language(reports_app, web_client):
    reports_app.config["REPORT_BACKGROUND_ROWS"] = 0  # every report goes to the background
    browser = web_client("auditor")
    started = browser.get("/reports/generate", query_string={"kind": "journal-register", "fund": "370827-001",
                                                             "format": "pdf", **Q1})
    assert started.status_code == 302 and "/reports/jobs/" in started.headers["Location"]
    job_page = started.headers["Location"]
    status_url = job_page.rstrip("/") + "/status"
    wait_for_job(browser, status_url)
    html = browser.get(job_page, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "记账凭证登记簿" in html and "已完成" in html
    assert "journal_register" not in html.split("<script")[0]
