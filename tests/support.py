"""Helpers shared by fixtures across the test folders: acting as a given user, waiting for a
condition with a deadline (a background job, a backend blocked on a lock), and moving the
wall clock forward."""
from __future__ import annotations

import datetime as _dt
import sys
import time
from contextlib import contextmanager
from datetime import timedelta, timezone

import sqlalchemy as sa

from ledger.extensions import db


def bearer_headers(app, username: str) -> dict:
    """Headers carrying a fresh bearer token of `username`."""
    from ledger.auth.services import get_user, issue_token

    with app.app_context():
        token = issue_token(db.session, get_user(db.session, username))
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def signed_in_client(app, username: str):
    """A test client whose session is that of `username` (the login form is tested on its own)."""
    from ledger.auth.models import User

    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.username == username))
    assert user_id is not None, f"no user {username!r}"
    client = app.test_client()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = str(user_id)
        flask_session["_fresh"] = True
    return client


class WaitTimeout(AssertionError):
    """A bounded wait ran out: what the test waited for did not happen in time."""


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.02, message: str | None = None):
    """Call `predicate()` until it returns something truthy and return that value; after `timeout`
    seconds fail with `message` (and the last value seen). The poll interval is only how often we
    look: a test that waits with this proceeds as soon as the condition holds, never after a guess."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            what = message or getattr(predicate, "__name__", "the condition")
            raise WaitTimeout(f"{what}: not reached within {timeout} s (last seen: {value!r})")
        time.sleep(interval)


def wait_for_job(client, status_url: str, headers: dict | None = None, *, timeout: float = 60.0) -> dict:
    """Poll a report job's status URL until it is done or failed; returns the job as JSON."""
    def finished():
        job = client.get(status_url, headers=headers or {}).get_json()["job"]
        return job if job["status"] in ("done", "failed") else None

    return wait_until(finished, timeout=timeout, interval=0.05, message=f"report job {status_url} to finish")


BLOCKED_ON_A_LOCK = sa.text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")


def blocked_backends(connection) -> int:
    """How many other backends of this database wait on a lock right now."""
    return connection.execute(BLOCKED_ON_A_LOCK).scalar_one()


def wait_for_blocked_backends(engine_or_app, count: int = 1, *, timeout: float = 30.0) -> int:
    """Wait until PostgreSQL shows at least `count` backends of the test's database waiting on a
    lock (`pg_stat_activity.wait_event_type = 'Lock'`); fails after `timeout`. This is how a test
    knows that the second transaction has arrived and is queued behind the first, instead of
    sleeping and hoping. Watches from a connection of its own, in autocommit."""
    engine = engine_or_app
    if not isinstance(engine, sa.engine.Engine):
        with engine_or_app.app_context():
            engine = db.engine
    assert engine.dialect.name == "postgresql", "lock waits are read from PostgreSQL's pg_stat_activity"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        def enough():
            waiting = blocked_backends(connection)
            return waiting if waiting >= count else None

        return wait_until(enough, timeout=timeout, interval=0.01,
                          message=f"{count} backend(s) waiting on a lock in pg_stat_activity")


_REAL = {"time": time.time, "time_ns": time.time_ns, "localtime": time.localtime, "gmtime": time.gmtime,
         "ctime": time.ctime, "asctime": time.asctime, "strftime": time.strftime}
_REAL_DATETIME, _REAL_DATE = _dt.datetime, _dt.date


class _PassesForTheReal(type):
    """isinstance(real_value, FakeClass) stays true while a module's name points at the fake."""

    def __instancecheck__(cls, instance):
        return isinstance(instance, cls.__real__)

    def __subclasscheck__(cls, subclass):
        return issubclass(subclass, cls.__real__)


@contextmanager
def clock_moved_forward(seconds: float):
    """Inside the block every wall clock the process reads is `seconds` ahead: time.time and its
    kin (localtime, gmtime, ctime, strftime...), datetime.now / utcnow / today and date.today,
    also where a module imported them by name (`from datetime import datetime`, as the ledger's
    timeutil and WeasyPrint do). Monotonic clocks (deadlines, timeouts) are left alone. Values
    handed out are ordinary datetime objects. Single-threaded use: restore happens on exit."""
    offset = timedelta(seconds=seconds)

    def now_s():
        return _REAL["time"]() + seconds

    def now_ns():
        return _REAL["time_ns"]() + int(seconds * 1_000_000_000)

    fake = {
        "time": now_s,
        "time_ns": now_ns,
        "localtime": lambda secs=None: _REAL["localtime"](now_s() if secs is None else secs),
        "gmtime": lambda secs=None: _REAL["gmtime"](now_s() if secs is None else secs),
        "ctime": lambda secs=None: _REAL["ctime"](now_s() if secs is None else secs),
        "asctime": lambda t=None: _REAL["asctime"](_REAL["localtime"](now_s()) if t is None else t),
        "strftime": lambda fmt, t=None: _REAL["strftime"](fmt, _REAL["localtime"](now_s()) if t is None else t),
    }

    class FakeDatetime(_REAL_DATETIME, metaclass=_PassesForTheReal):
        __real__ = _REAL_DATETIME

        @classmethod
        def now(cls, tz=None):
            return _REAL_DATETIME.now(tz) + offset

        @classmethod
        def utcnow(cls):
            return _REAL_DATETIME.now(timezone.utc).replace(tzinfo=None) + offset

        @classmethod
        def today(cls):
            return _REAL_DATETIME.now() + offset

    class FakeDate(_REAL_DATE, metaclass=_PassesForTheReal):
        __real__ = _REAL_DATE

        @classmethod
        def today(cls):
            return _REAL_DATE.fromtimestamp(now_s())

    swaps = {id(real): (real, fake[name]) for name, real in _REAL.items()}
    swaps[id(_REAL_DATETIME)] = (_REAL_DATETIME, FakeDatetime)
    swaps[id(_REAL_DATE)] = (_REAL_DATE, FakeDate)
    patched = []
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict) or module is sys.modules[__name__]:
            continue
        for name, value in list(namespace.items()):
            swap = swaps.get(id(value))
            if swap is not None and swap[0] is value:
                patched.append((namespace, name, value))
                namespace[name] = swap[1]
    try:
        yield
    finally:
        for namespace, name, value in reversed(patched):
            namespace[name] = value
