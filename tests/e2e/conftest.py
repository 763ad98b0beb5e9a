"""End-to-end fixtures: the real app served over HTTP, walked in Debian's Chromium.

The app runs on a copy of the demo database (the same template as `demo_app`), served by
werkzeug's own server in a thread on 127.0.0.1 at a free port, with CSRF protection on as
in production. The demo passwords are random (`ledger.demo`), so this copy gives every demo
user one known password; people sign in through the login form, as a person would.

The browser is Debian's `chromium` at /usr/bin/chromium driven by Playwright for Python,
never a browser that Playwright downloads (`make install-dev` installs the Debian package
when it is missing). Without it the tests are skipped with the reason, and fail when CI=true.

The tests run once, in the SQLite half of `make test`: they check what a person sees in the
browser, which does not depend on the database engine, and the PostgreSQL half deselects
them (its summary says so). Screenshots go to test-artifacts/screenshots/, named by role,
page and width.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledger.extensions import db
from tests.conftest import ENGINE, make_test_app
from tests.e2e.browser import CHROMIUM, LAUNCH_ARGS, PASSWORD, LiveServer, Visitor

E2E_DIR = Path(__file__).resolve().parent
DESELECTED_ON_POSTGRES = ("the browser tests run once, in the SQLite half of `make test`: "
                          "what they check does not depend on the database engine")


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: end-to-end in Chromium; " + DESELECTED_ON_POSTGRES)


def pytest_collection_modifyitems(config, items):
    """Mark the tests of this folder `e2e`; on the PostgreSQL run, deselect them (with a line in
    the summary), rather than skipping them silently."""
    mine = [item for item in items if E2E_DIR in Path(item.path).resolve().parents]
    for item in mine:
        item.add_marker(pytest.mark.e2e)
    if ENGINE == "postgresql" and mine:
        config.hook.pytest_deselected(items=mine)
        items[:] = [item for item in items if item not in mine]
        config._e2e_deselected = len(mine)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    count = getattr(config, "_e2e_deselected", 0)
    if count:
        terminalreporter.write_line(f"e2e: {count} browser tests deselected on PostgreSQL: {DESELECTED_ON_POSTGRES}.")


def _unavailable(reason: str):
    """No browser here: a failure in CI (the tests must run there), a skip with the reason elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the end-to-end tests must run)", pytrace=False)
    pytest.skip(reason)


# --- the app, served ---------------------------------------------------------------------------

def _give_demo_users_the_password(app) -> list[str]:
    from ledger.auth.models import User
    from ledger.auth.services import hash_password

    with app.app_context():
        hashed = hash_password(PASSWORD)
        users = db.session.scalars(sa.select(User)).all()
        for user in users:
            user.password_hash = hashed
        db.session.commit()
        return [user.username for user in users]


@pytest.fixture(scope="session")
def live_server(databases, demo_template, tmp_path_factory):
    from werkzeug.serving import make_server

    url = databases.copy(demo_template)
    app = make_test_app(url, WTF_CSRF_ENABLED=True,
                        REPORTS_DIR=str(tmp_path_factory.mktemp("e2e-reports")),
                        # every report goes to the background, so the job page is what the auditor sees
                        REPORT_BACKGROUND_ROWS=0)
    _give_demo_users_the_password(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    databases.drop(url)


# --- the browser -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"Debian's chromium is not installed at {CHROMIUM} (`make install-dev` installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (`make install-dev` installs requirements-dev.txt)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def visit(browser, live_server):
    """visit(username) -> a Visitor for that demo user (closed after the test)."""
    visitors = []

    def make(username: str) -> Visitor:
        visitor = Visitor(browser, live_server, username)
        visitors.append(visitor)
        return visitor

    yield make
    for visitor in visitors:
        visitor.close()


