"""Background report jobs: the small interface a queue needs, and two queues.

A large report (more rows than REPORT_BACKGROUND_ROWS) is logged as a queued
`ReportRun`, committed, and handed to the queue named by REPORT_QUEUE:

* `thread` (the embedded default): a daemon thread in this process; no extra server.
* `rq`: an RQ queue on Redis (REDIS_URL); `rq worker reports` runs `run_report_job`,
  which builds its own app from the environment like any other process.

Either way the work is `execute_run(job_id)` inside an app context: it renders
through the same service as an immediate report, writes progress (percent of
rows laid out: per page of a fund statement, per table of a register) in short
transactions of its own, stores the file and completes
the log. A failure is recorded on the run (status failed, error), never lost.
"""
from __future__ import annotations

import threading
import time
import traceback

import sqlalchemy as sa
from flask import current_app

from ..auth.models import User
from ..extensions import db
from ..timeutil import utcnow
from . import services
from .models import ReportRun, RunStatus

RQ_QUEUE_NAME = "reports"
#: Seconds between two progress writes (a write per row would cost more than the row; a fund
#: statement reports once a page, a register once per table of rows).
PROGRESS_INTERVAL = 0.25


def submit(job_id: str) -> None:
    """Hand a committed, queued run to the configured queue."""
    kind = current_app.config.get("REPORT_QUEUE", "thread")
    if kind == "rq":
        RqQueue.from_app(current_app).enqueue(job_id)
    elif kind == "thread":
        ThreadQueue(current_app._get_current_object()).enqueue(job_id)
    else:
        raise RuntimeError(f"REPORT_QUEUE must be 'thread' or 'rq', not {kind!r}")


class ThreadQueue:
    def __init__(self, app):
        self.app = app

    def enqueue(self, job_id: str) -> threading.Thread:
        thread = threading.Thread(target=self._run, args=(job_id,), name=f"report-{job_id[:8]}", daemon=True)
        thread.start()
        return thread

    def _run(self, job_id: str) -> None:
        with self.app.app_context():
            execute_run(job_id)


class RqQueue:
    def __init__(self, connection, name: str = RQ_QUEUE_NAME, app_overrides: dict | None = None):
        from rq import Queue

        self.queue = Queue(name, connection=connection)
        self.app_overrides = app_overrides

    @classmethod
    def from_app(cls, app) -> "RqQueue":
        from redis import Redis

        connection = Redis.from_url(app.config.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
        # A test app lives on a throw-away database the worker cannot find from its environment.
        overrides = None
        if app.config.get("TESTING"):
            overrides = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "REPORTS_DIR")}
            overrides["LEDGER_CONFIG_NAME"] = "testing"
        return cls(connection, app.config.get("REPORT_RQ_QUEUE", RQ_QUEUE_NAME), overrides)

    def enqueue(self, job_id: str):
        return self.queue.enqueue(run_report_job, job_id, self.app_overrides, job_timeout=3600,
                                  result_ttl=3600, failure_ttl=86400, description=f"report {job_id}")


def run_report_job(job_id: str, app_overrides: dict | None = None) -> str:
    """The RQ entry point (runs in a worker process)."""
    from .. import create_app

    app = create_app(app_overrides) if app_overrides else create_app()
    with app.app_context():
        execute_run(job_id)
        status = db.session.scalar(sa.select(ReportRun.status).where(ReportRun.job_id == job_id))
        db.session.remove()
        return getattr(status, "value", status)


def _update(job_id: str, **values) -> None:
    db.session.execute(sa.update(ReportRun).where(ReportRun.job_id == job_id).values(**values))
    db.session.commit()


def execute_run(job_id: str) -> None:
    run = db.session.scalar(sa.select(ReportRun).where(ReportRun.job_id == job_id))
    if run is None or run.status != RunStatus.queued:
        db.session.rollback()
        return
    user = db.session.get(User, run.requested_by_id)
    request = services.request_from_run(run)
    total = max(request.rows, 1)
    db.session.commit()
    _update(job_id, status=RunStatus.running)
    last = [0.0]

    def progress(rows_done: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_INTERVAL:
            last[0] = now
            # Laying out rows is most of the work; the last percent is saving the file.
            _update(job_id, progress=min(99, rows_done * 100 // total))

    try:
        rendered = services.render(request, user, progress)
        run = db.session.scalar(sa.select(ReportRun).where(ReportRun.job_id == job_id))
        services.store_file(run, request, rendered)
        db.session.commit()
    except Exception as error:  # recorded on the run: the log shows what failed and why
        db.session.rollback()
        current_app.logger.error("report %s failed:\n%s", job_id, traceback.format_exc())
        _update(job_id, status=RunStatus.failed, error=f"{type(error).__name__}: {error}"[:2000],
                finished_at=utcnow())
