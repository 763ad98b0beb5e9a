"""Test fixtures: a fresh database per test, on SQLite or PostgreSQL.

`LEDGER_TEST_DB=sqlite` (default) or `postgresql` picks the engine; `make test`
runs the suite once on each. The schema comes from the migrations, applied once
per session to a template database; each test gets its own copy (a file copy on
SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL), so tests are isolated
even when they commit from many threads. A second template also holds the demo
data (`seed-demo`), for tests that want the real shape of the city.

On PostgreSQL the copies are made ahead, and the used ones dropped, by a worker
thread beside the tests (`PostgresDatabases`), so a test no longer waits for
the server's CREATE and DROP. What was weighed and not done:
- an outer transaction per test with SAVEPOINTs (`join_transaction_mode=
  "create_savepoint"`): the deferred balance trigger of migration 0002 fires at
  a real COMMIT only, so such tests would stop being checked by the database at
  the moment the app relies on it; most tests commit through the app (requests,
  CLI, `make_user`), several from other threads or connections (concurrency,
  background report jobs), which one shared connection cannot serve;
- emptying one database between tests: the journal's triggers refuse TRUNCATE
  and DELETE (append-only), so no cleaning is honest there.
pytest-xdist works with these fixtures (names carry a per-process random
prefix; SQLite files live in each worker's own temporary directory), but on the
2-core machines it made the runs slower, so `make test` does not use it.

Tests marked `postgres` need PostgreSQL: they are skipped with the reason on
SQLite runs, and with CI=true a PostgreSQL run that cannot connect fails.
"""
from __future__ import annotations

import collections
import itertools
import os
import shutil
import threading
import uuid

import pytest
import sqlalchemy as sa

from ledger import create_app
from ledger.config import normalise_database_url
from ledger.extensions import db
from tests.support import bearer_headers, signed_in_client

ENGINE = os.environ.get("LEDGER_TEST_DB", "sqlite")
PG_SERVER_URL = normalise_database_url(
    os.environ.get("LEDGER_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
_counter = itertools.count()


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs PostgreSQL (concurrency, triggers)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    config.addinivalue_line("markers", "app_config(**settings): config overrides for the app / demo_app fixture")


def pytest_collection_modifyitems(config, items):
    if ENGINE == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with LEDGER_TEST_DB=postgresql (make test does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


class SqliteDatabases:
    def __init__(self, root):
        self.root = root

    def template(self, name: str, prepare) -> str:
        path = self.root / f"template-{name}.sqlite3"
        prepare(f"sqlite:///{path}")
        return str(path)

    def copy(self, template: str) -> str:
        path = self.root / f"test-{next(_counter)}.sqlite3"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        os.unlink(url[len("sqlite:///"):])

    def blank(self) -> str:
        """A database with nothing in it, not even the migrations."""
        return f"sqlite:///{self.root / f'blank-{next(_counter)}.sqlite3'}"

    def close(self):
        pass


class PostgresDatabases:
    """Databases on the PostgreSQL server, all named with this process's random prefix (so that
    pytest-xdist workers, and other runs on the same server, never meet).

    A copy of a template costs the server about 0.6 s to create (`CREATE DATABASE ... TEMPLATE`)
    and 0.4 s to drop, which was nearly half of the run when the test waited for both. A worker
    thread now does that work beside the tests: it keeps `READY` copies of each template the run
    has asked for made ahead, and drops the used ones after their test. A test still gets a
    database that no other test has touched."""

    READY = 2  # copies made ahead per template in use

    def __init__(self):
        self.prefix = f"ledger_t_{uuid.uuid4().hex[:8]}"
        self.server = sa.create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        try:
            with self.server.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.OperationalError as error:
            message = f"PostgreSQL is not reachable at {PG_SERVER_URL}: {error.orig}"
            if os.environ.get("CI") == "true":
                pytest.exit(message, returncode=3)
            pytest.skip(message, allow_module_level=True)
        self.created: list[str] = []
        self._lock = threading.Condition()
        self._ready: dict[str, collections.deque] = {}  # template -> URLs of fresh copies
        self._making: collections.Counter = collections.Counter()
        self._to_drop: collections.deque = collections.deque()
        self._failure: BaseException | None = None
        self._stopping = False
        self._worker = threading.Thread(target=self._work, name="test-databases", daemon=True)
        self._worker.start()

    def _url(self, name: str) -> str:
        return sa.engine.make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)

    def _execute(self, statement: str) -> None:
        with self.server.connect() as connection:
            connection.exec_driver_sql(statement)

    def template(self, name: str, prepare) -> str:
        database = f"{self.prefix}_{name}"
        self._execute(f'CREATE DATABASE "{database}"')
        self.created.append(database)
        prepare(self._url(database))
        return database

    def _next_job(self):
        """Under the lock: ("create", template) while a template in use has fewer copies ready or
        under way than READY (tests wait for those), else ("drop", url), else None."""
        for template, ready in self._ready.items():
            if len(ready) + self._making[template] < self.READY:
                self._making[template] += 1
                return "create", template
        if self._to_drop:
            return "drop", self._to_drop.popleft()
        return None

    def _work(self):
        while True:
            with self._lock:
                job = self._next_job()
                while job is None and not self._stopping:
                    self._lock.wait()
                    job = self._next_job()
                if job is None:
                    return
            kind, subject = job
            try:
                if kind == "create":
                    database = f"{self.prefix}_{next(_counter)}"
                    self._execute(f'CREATE DATABASE "{database}" TEMPLATE "{subject}"')
                else:
                    database = sa.engine.make_url(subject).database
                    self._execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            except BaseException as error:  # handed to the test that waits, not lost in this thread
                with self._lock:
                    self._failure = error
                    self._stopping = True
                    self._lock.notify_all()
                return
            with self._lock:
                if kind == "create":
                    self._making[subject] -= 1
                    ready = self._ready.get(subject)
                    # made while closing: nobody will use it
                    (ready if ready is not None else self._to_drop).append(self._url(database))
                self._lock.notify_all()

    def copy(self, template: str) -> str:
        """A fresh copy of `template` that no test has used (made ahead by the worker)."""
        with self._lock:
            ready = self._ready.setdefault(template, collections.deque())
            self._lock.notify_all()
            if not self._lock.wait_for(lambda: ready or self._failure is not None, timeout=300):
                raise TimeoutError(f"no copy of {template} made in 300 s")
            if self._failure is not None:
                raise RuntimeError(f"making test databases failed: {self._failure}") from self._failure
            url = ready.popleft()
            self._lock.notify_all()  # the worker makes the next one
            return url

    def drop(self, url: str) -> None:
        """Dropped by the worker after the copies that tests are waiting for."""
        with self._lock:
            self._to_drop.append(url)
            self._lock.notify_all()

    def blank(self) -> str:
        """A database with nothing in it, not even the migrations."""
        database = f"{self.prefix}_{next(_counter)}"
        self._execute(f'CREATE DATABASE "{database}"')
        return self._url(database)

    def close(self):
        with self._lock:
            self._stopping = True
            for ready in self._ready.values():
                self._to_drop.extend(ready)  # the worker does the drops left before it stops...
                ready.clear()
            self._ready.clear()
            self._lock.notify_all()
        self._worker.join()
        for url in self._to_drop:  # ...unless it stopped on a failure
            self._execute(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(url).database}" WITH (FORCE)')
        for database in self.created:
            self._execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.server.dispose()


def make_test_app(url: str, **overrides):
    config = {"LEDGER_CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False}
    config.update(overrides)
    return create_app(config)


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = make_test_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _migrate_and_seed(url: str) -> None:
    from ledger.demo import seed

    _migrate(url)
    app = make_test_app(url)
    with app.app_context():
        seed(db.session)
        db.session.commit()
        db.engine.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    manager = PostgresDatabases() if ENGINE == "postgresql" else SqliteDatabases(tmp_path_factory.mktemp("db"))
    yield manager
    manager.close()


@pytest.fixture(scope="session")
def empty_template(databases):
    return databases.template("empty", _migrate)


@pytest.fixture(scope="session")
def demo_template(databases):
    return databases.template("demo", _migrate_and_seed)


def _app_on(databases, template, request):
    url = databases.copy(template)
    overrides = getattr(request, "param", None) or {}
    marker = request.node.get_closest_marker("app_config")
    if marker:
        overrides.update(marker.kwargs)
    app = make_test_app(url, **overrides)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    databases.drop(url)


@pytest.fixture
def app(databases, empty_template, request):
    """An app on a freshly migrated, empty database."""
    yield from _app_on(databases, empty_template, request)


@pytest.fixture
def demo_app(databases, demo_template, request):
    """An app on a database holding the demo data (city, 11 counties, 333 villages, users, funds)."""
    yield from _app_on(databases, demo_template, request)


@pytest.fixture
def session(app):
    with app.app_context():
        yield db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_org(app):
    """make_org(code, kind="charity", county="370827") -> Organisation (regions created as needed)."""
    from ledger.auth.models import Organisation, OrganisationKind, Region, RegionLevel

    def factory(code: str, kind: str = "charity", county: str | None = "370827"):
        with app.app_context():
            city = db.session.scalar(sa.select(Region).where(Region.code == "370800"))
            if city is None:
                city = Region(code="370800", name="济宁市", level=RegionLevel.city)
                db.session.add(city)
                db.session.flush()
            region = city
            if county:
                region = db.session.scalar(sa.select(Region).where(Region.code == county))
                if region is None:
                    region = Region(code=county, name=f"县{county}", level=RegionLevel.county, parent_id=city.id)
                    db.session.add(region)
                    db.session.flush()
            organisation = Organisation(code=code, name=f"机构 {code}", kind=OrganisationKind(kind),
                                        region_id=region.id)
            db.session.add(organisation)
            db.session.commit()
            return organisation.id

    return factory


@pytest.fixture
def make_user(app, make_org):
    """make_user(role, org=None, password=...) -> username; creates the organisation if missing."""
    from ledger.auth.models import Organisation
    from ledger.auth.services import create_user

    def factory(role: str, org: str | None = None, username: str | None = None,
                password: str = "correct horse battery", kind: str | None = None, county: str | None = "370827"):
        org = org or {"admin": "MZJ-370800", "finance": "MZJ-370800", "auditor": "SJ-370800",
                      "reviewer": "MZJ-370800", "charity": "CSH-370827", "vendor": "HL-1"}[role]
        with app.app_context():
            missing = db.session.scalar(sa.select(Organisation.id).where(Organisation.code == org)) is None
        # make_org opens its own app context (and connection): the one above must be closed
        # first, or SQLite's write lock (BEGIN IMMEDIATE) would make the two wait on each other.
        if missing:
            default_kind = {"MZJ-370800": "city_bureau", "SJ-370800": "city_bureau"}.get(org)
            org_kind = kind or default_kind or {"charity": "charity", "vendor": "vendor"}.get(role, "county_bureau")
            make_org(org, org_kind, None if org_kind == "city_bureau" else county)
        with app.app_context():
            name = username or f"{role}_{next(_counter)}"
            create_user(db.session, name, role, org, password)
            db.session.commit()
            return name

    return factory


@pytest.fixture
def token_for(app):
    """token_for(username) -> headers dict with a fresh bearer token."""
    return lambda username: bearer_headers(app, username)


@pytest.fixture
def login(client):
    def do_login(username: str, password: str = "correct horse battery"):
        return client.post("/login", data={"username": username, "password": password})

    return do_login


@pytest.fixture
def blank_database_url(databases):
    """The URL of an empty database (no tables), dropped after the test."""
    url = databases.blank()
    yield url
    try:
        databases.drop(url)
    except FileNotFoundError:  # SQLite creates the file only when something connects
        pass


@pytest.fixture
def demo_user_client(demo_app):
    """demo_user_client(username) -> a test client signed in as that demo user (no password needed)."""
    return lambda username: signed_in_client(demo_app, username)


@pytest.fixture
def demo_token_for(demo_app):
    """demo_token_for(username) -> headers with a fresh bearer token of that demo user."""
    return lambda username: bearer_headers(demo_app, username)
