"""Bounded retry of a whole transaction on PostgreSQL's transient errors.

The posting engine locks rows in a fixed order, so deadlocks between postings
cannot happen; the retry is a guard for what is outside that order (a client
that touches rows itself, SERIALIZABLE callers). SQLSTATE 40001
(serialization_failure) and 40P01 (deadlock_detected) mean "nothing was done,
run it again". After `attempts` tries the caller gets `LedgerBusy` (503, "try
again"), never the database's error text.
"""
from __future__ import annotations

import random
import time

from sqlalchemy.exc import DBAPIError

from .errors import LedgerBusy

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def is_retryable(error: BaseException) -> bool:
    original = getattr(error, "orig", None)
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return state in RETRYABLE_SQLSTATES


def backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.01 * (2 ** attempt)))


def run_in_transaction(session, work, *, attempts: int = 4):
    """Run `work()` and commit; on a deadlock or serialization failure roll back and run it again."""
    for attempt in range(attempts):
        try:
            result = work()
            session.commit()
            return result
        except DBAPIError as error:
            session.rollback()
            if not is_retryable(error):
                raise
            if attempt == attempts - 1:
                raise LedgerBusy() from error
            backoff(attempt)
        except BaseException:
            session.rollback()
            raise
    raise AssertionError("unreachable")


def run_in_savepoint(session, work, *, attempts: int = 4):
    """Run `work()` inside a SAVEPOINT of the caller's transaction, retrying it on a deadlock or
    serialization failure (rolling back to the savepoint releases the locks taken inside it)."""
    for attempt in range(attempts):
        savepoint = session.begin_nested()
        try:
            result = work()
            session.flush()
        except DBAPIError as error:
            savepoint.rollback()
            if not is_retryable(error):
                raise
            if attempt == attempts - 1:
                raise LedgerBusy() from error
            backoff(attempt)
            continue
        except BaseException:
            if savepoint.is_active:
                savepoint.rollback()
            raise
        savepoint.commit()
        return result
    raise AssertionError("unreachable")
